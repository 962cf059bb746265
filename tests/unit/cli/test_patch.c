/* Unit tests for src/cli/patch.c: --set values, merge-patch bodies, If-Match. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_int.h"

/* Compact JSON of v, for comparisons; caller frees. */
static char *dump(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);

	assert_non_null(s);
	return s;
}

static void test_value_parse(void **state)
{
	static const struct {
		const char *in, *json;
	} cases[] = {
	    {"null", "null"},
	    {"true", "true"},
	    {"false", "false"},
	    {"42", "42"},
	    {"-1.5", "-1.5"},
	    {"\"quoted\"", "\"quoted\""},
	    {"[1,\"a\"]", "[1,\"a\"]"},
	    {"{\"a\":1}", "{\"a\":1}"},
	    {"Sales", "\"Sales\""},
	    {"007", "\"007\""}, /* not JSON: leading zero */
	    {"", "\"\""},	/* empty string, not an error */
	    {"08:00", "\"08:00\""},
	    {"{\"a\":1,\"a\":2}", "\"{\\\"a\\\":1,\\\"a\\\":2}\""}, /* duplicate keys: text */
	    {"hello world", "\"hello world\""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = patch_value_parse(cases[i].in);
		char *s;

		assert_non_null(v);
		s = dump(v);
		assert_string_equal(s, cases[i].json);
		free(s);
		json_decref(v);
	}
}

static void test_set_apply(void **state)
{
	json_t *o = json_object();
	struct cli_err err = {0};
	char *s;

	(void)state;
	assert_int_equal(patch_set_apply(o, "department=null", &err), CLI_OK);
	assert_int_equal(patch_set_apply(o, "idle_logout_minutes=30", &err), CLI_OK);
	assert_int_equal(patch_set_apply(o, "custom_attributes.team=red", &err), CLI_OK);
	assert_int_equal(patch_set_apply(o, "custom_attributes.level=3", &err), CLI_OK);
	assert_int_equal(patch_set_apply(o, "description=a=b", &err), CLI_OK); /* first '=' */
	s = dump(o);
	assert_string_equal(s, "{\"custom_attributes\":{\"level\":3,\"team\":\"red\"},"
			       "\"department\":null,\"description\":\"a=b\","
			       "\"idle_logout_minutes\":30}");
	free(s);
	json_decref(o);
}

static void test_set_apply_errors(void **state)
{
	static const char *const bad[] = {"noequals", "=x", ".a=1", "a..b=1", "a.=1", "idle.x=1"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *o = json_pack("{s:i}", "idle", 5);
		struct cli_err err = {0};

		assert_int_equal(patch_set_apply(o, bad[i], &err), CLI_E_USAGE);
		assert_int_equal(err.status, CLI_E_USAGE);
		json_decref(o);
	}
}

static void test_set_list(void **state)
{
	const struct args_opt opts[] = {
	    {"role", 0, ARGS_VALUE | ARGS_MULTI, "R", ""},
	    {NULL, 0, 0, NULL, NULL},
	};
	const struct args_opt *const tables[] = {opts, NULL};
	char *w[] = {"--role", "a,b", "--role", "c", "--role", ",,", NULL};
	struct cli_err err = {0};
	struct args a;
	json_t *o = json_object();
	char *s;

	(void)state;
	assert_int_equal(args_init(&a, 6, &err), CLI_OK);
	assert_int_equal(args_parse(&a, tables, 6, w, 0, NULL, &err), CLI_OK);
	assert_int_equal(patch_set_list(o, "roles", &a, "role", false, &err), CLI_OK);
	assert_int_equal(patch_set_list(o, "absent", &a, "nope", false, &err), CLI_OK);
	assert_int_equal(patch_set_list(o, "empty", &a, "nope", true, &err), CLI_OK);
	s = dump(o);
	assert_string_equal(s, "{\"empty\":[],\"roles\":[\"a\",\"b\",\"c\"]}");
	free(s);
	json_decref(o);
	args_release(&a);
}

static void test_set_string(void **state)
{
	json_t *o = json_object();
	struct cli_err err = {0};

	(void)state;
	assert_int_equal(patch_set_string(o, "email", NULL, &err), CLI_OK);
	assert_int_equal(json_object_size(o), 0);
	assert_int_equal(patch_set_string(o, "email", "a@b", &err), CLI_OK);
	assert_string_equal(json_string_value(json_object_get(o, "email")), "a@b");
	assert_int_equal(patch_set_string(o, "x", "\xff\xfe", &err), CLI_E_USAGE);
	json_decref(o);
}

static void test_if_match(void **state)
{
	static const struct {
		const char *in, *out;
		enum cli_status st;
	} cases[] = {
	    {"3", "\"3\"", CLI_OK},
	    {"\"3\"", "\"3\"", CLI_OK},
	    {"W/\"3\"", "W/\"3\"", CLI_OK},
	    {"*", "*", CLI_OK},
	    {"", NULL, CLI_E_USAGE},
	    {"3\r\nX-Evil: 1", NULL, CLI_E_USAGE},
	    {"3 4", NULL, CLI_E_USAGE},
	    {"12345678901234567890", NULL, CLI_E_USAGE}, /* too long for the 16-byte buffer */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cli_err err = {0};
		char out[16];

		assert_int_equal(patch_if_match(cases[i].in, out, sizeof(out), &err), cases[i].st);
		if (cases[i].out != NULL)
			assert_string_equal(out, cases[i].out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_value_parse),	     cmocka_unit_test(test_set_apply),
	    cmocka_unit_test(test_set_apply_errors), cmocka_unit_test(test_set_list),
	    cmocka_unit_test(test_set_string),	     cmocka_unit_test(test_if_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
