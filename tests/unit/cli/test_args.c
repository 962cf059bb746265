/* Unit tests for src/cli/args.c: option parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_int.h"

static const struct args_opt globals[] = {
    {"tenant", 0, ARGS_VALUE, "T", ""},
    {"json", 0, 0, NULL, ""},
    {"help", 'h', 0, NULL, ""},
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt cmd[] = {
    {"status", 0, ARGS_VALUE, "S", ""},
    {"role", 0, ARGS_VALUE | ARGS_MULTI, "R", ""},
    {"all", 0, 0, NULL, ""},
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt *const tables[] = {globals, cmd, NULL};

/* Parses words (NULL-terminated) into a; returns the status. */
static enum cli_status parse(struct args *a, struct cli_err *err, unsigned flags, int *used,
			     char **words)
{
	int n = 0;

	while (words[n] != NULL)
		n++;
	assert_int_equal(args_init(a, n, err), CLI_OK);
	return args_parse(a, tables, n, words, flags, used, err);
}

static void test_values_flags_positionals(void **state)
{
	char *w[] = {"ID1",    "--status", "active", "--json", "--role=a",
		     "--role", "b",	   "-h",     "ID2",    NULL};
	struct args a;
	struct cli_err err = {0};
	size_t it = 0;

	(void)state;
	assert_int_equal(parse(&a, &err, 0, NULL, w), CLI_OK);
	assert_string_equal(args_get(&a, "status"), "active");
	assert_true(args_has(&a, "json"));
	assert_true(args_has(&a, "help"));
	assert_false(args_has(&a, "all"));
	assert_null(args_get(&a, "json")); /* a flag has no value */
	assert_string_equal(args_next(&a, "role", &it), "a");
	assert_string_equal(args_next(&a, "role", &it), "b");
	assert_null(args_next(&a, "role", &it));
	assert_int_equal(a.n_pos, 2);
	assert_string_equal(a.pos[0], "ID1");
	assert_string_equal(a.pos[1], "ID2");
	args_release(&a);
}

static void test_last_value_wins(void **state)
{
	char *w[] = {"--tenant", "a", "--tenant=b", NULL};
	struct args a;
	struct cli_err err = {0};

	(void)state;
	assert_int_equal(parse(&a, &err, 0, NULL, w), CLI_OK);
	assert_string_equal(args_get(&a, "tenant"), "b");
	args_release(&a);
}

static void test_value_may_start_with_dash(void **state)
{
	char *w[] = {"--status", "--json", "--tenant=", NULL};
	struct args a;
	struct cli_err err = {0};

	(void)state;
	assert_int_equal(parse(&a, &err, 0, NULL, w), CLI_OK);
	assert_string_equal(args_get(&a, "status"), "--json");
	assert_false(args_has(&a, "json"));
	assert_string_equal(args_get(&a, "tenant"), "");
	args_release(&a);
}

static void test_double_dash_and_lone_dash(void **state)
{
	char *w[] = {"-", "--", "--json", "-h", NULL};
	struct args a;
	struct cli_err err = {0};

	(void)state;
	assert_int_equal(parse(&a, &err, 0, NULL, w), CLI_OK);
	assert_false(args_has(&a, "json"));
	assert_int_equal(a.n_pos, 3);
	assert_string_equal(a.pos[0], "-");
	assert_string_equal(a.pos[1], "--json");
	assert_string_equal(a.pos[2], "-h");
	args_release(&a);
}

static void test_stop_at_positional(void **state)
{
	char *w[] = {"--tenant", "acme", "--json", "user", "list", "--all", NULL};
	struct args a;
	struct cli_err err = {0};
	int used = -1;

	(void)state;
	assert_int_equal(parse(&a, &err, ARGS_STOP_AT_POSITIONAL, &used, w), CLI_OK);
	assert_int_equal(used, 3);
	assert_int_equal(a.n_pos, 0);
	assert_false(args_has(&a, "all"));
	assert_string_equal(args_get(&a, "tenant"), "acme");
	args_release(&a);
}

/* Table of command lines that must fail with a usage error, and the message they give. */
static void test_usage_errors(void **state)
{
	static const struct {
		char *w[4];
		const char *msg;
	} cases[] = {
	    {{"--bogus", NULL}, "unknown option '--bogus'"},
	    {{"--bogus=1", NULL}, "unknown option '--bogus'"},
	    {{"-x", NULL}, "unknown option '-x'"},
	    {{"-hh", NULL}, "unknown option '-hh'"},
	    {{"--status", NULL}, "option '--status' needs a value"},
	    {{"--all=yes", NULL}, "option '--all' takes no value"},
	    {{"--stat", "x", NULL}, "unknown option '--stat'"}, /* no prefix matching */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct args a;
		struct cli_err err = {0};

		assert_int_equal(parse(&a, &err, 0, NULL, (char **)cases[i].w), CLI_E_USAGE);
		assert_int_equal(err.status, CLI_E_USAGE);
		assert_string_equal(err.msg, cases[i].msg);
		args_release(&a);
	}
}

static void test_parse_long(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		long v;
	} cases[] = {
	    {"0", true, 0},
	    {"42", true, 42},
	    {"1000", true, 1000},
	    {"-1", false, 0},
	    {"1001", false, 0},
	    {"", false, 0},
	    {" 1", false, 0},
	    {"+1", false, 0},
	    {"1x", false, 0},
	    {"0x10", false, 0},
	    {"99999999999999999999", false, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long v = -7;

		assert_int_equal(args_parse_long(cases[i].s, 0, 1000, &v), cases[i].ok);
		assert_int_equal(v, cases[i].ok ? cases[i].v : -7);
	}
}

static void test_get_long(void **state)
{
	char *w[] = {"--status", "12", NULL};
	struct args a;
	struct cli_err err = {0};
	long v = 5;

	(void)state;
	assert_int_equal(parse(&a, &err, 0, NULL, w), CLI_OK);
	assert_int_equal(args_get_long(&a, "tenant", 0, 9, &v, &err), CLI_OK); /* absent */
	assert_int_equal(v, 5);
	assert_int_equal(args_get_long(&a, "status", 0, 100, &v, &err), CLI_OK);
	assert_int_equal(v, 12);
	assert_int_equal(args_get_long(&a, "status", 0, 10, &v, &err), CLI_E_USAGE);
	assert_non_null(strstr(err.msg, "--status"));
	args_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values_flags_positionals),
	    cmocka_unit_test(test_last_value_wins),
	    cmocka_unit_test(test_value_may_start_with_dash),
	    cmocka_unit_test(test_double_dash_and_lone_dash),
	    cmocka_unit_test(test_stop_at_positional),
	    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_parse_long),
	    cmocka_unit_test(test_get_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
