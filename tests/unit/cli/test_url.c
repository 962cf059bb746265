/* Unit tests for src/cli/url.c: percent-encoding of path segments and query strings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli/cli_int.h"

static void test_escape(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"acme", "acme"},
	    {"AZaz09-._~", "AZaz09-._~"},
	    {"a b", "a%20b"},
	    {"a/b", "a%2Fb"},
	    {"x&role=admin", "x%26role%3Dadmin"},
	    {"?#%+", "%3F%23%25%2B"},
	    {"Zoë", "Zo%C3%AB"},
	    {"", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;

		buf_init(&b, 1024);
		assert_true(url_escape(&b, cases[i].in));
		assert_string_equal(buf_cstr(&b), cases[i].out);
		buf_release(&b);
	}
}

static void test_path(void **state)
{
	struct cli_err err = {0};
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(
	    url_path_build(&b, &err, "api", "v1", "tenants", "ac me", "users", "../x", NULL),
	    CLI_OK);
	assert_string_equal(buf_cstr(&b), "/api/v1/tenants/ac%20me/users/..%2Fx");
	buf_release(&b);
}

static void test_path_refuses_dot_segments(void **state)
{
	static const char *const bad[] = {"", ".", ".."};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cli_err err = {0};
		struct buf b;

		buf_init(&b, 1024);
		assert_int_equal(url_path_build(&b, &err, "users", bad[i], NULL), CLI_E_USAGE);
		assert_int_equal(err.status, CLI_E_USAGE);
		buf_release(&b);
	}
}

static void test_query(void **state)
{
	struct cli_err err = {0};
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(url_path_build(&b, &err, "users", NULL), CLI_OK);
	assert_int_equal(url_query_add(&b, "status", NULL, &err), CLI_OK); /* skipped */
	assert_string_equal(buf_cstr(&b), "/users");
	assert_int_equal(url_query_add(&b, "q", "a&b=c", &err), CLI_OK);
	assert_int_equal(url_query_add(&b, "sort", "-created_at", &err), CLI_OK);
	assert_int_equal(url_query_add(&b, "since", "2026-11-22T14:00:00Z", &err), CLI_OK);
	assert_int_equal(url_query_add(&b, "name", "", &err), CLI_OK);
	assert_string_equal(buf_cstr(&b), "/users?q=a%26b%3Dc&sort=-created_at"
					  "&since=2026-11-22T14%3A00%3A00Z&name=");
	buf_release(&b);
}

static void test_url_limit(void **state)
{
	struct cli_err err = {0};
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(url_path_add(&b, "0123456789", &err), CLI_E_INTERNAL);
	assert_true(b.failed);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_path),
	    cmocka_unit_test(test_path_refuses_dot_segments),
	    cmocka_unit_test(test_query),
	    cmocka_unit_test(test_url_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
