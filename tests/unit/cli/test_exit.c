/* Unit tests for src/cli/exit.c: HTTP status -> cli_status -> exit code. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli/exit.h"

static void test_http_to_exit_code(void **state)
{
	static const struct {
		long http;
		enum cli_status st;
		int code;
	} cases[] = {
	    {200, CLI_OK, 0},
	    {201, CLI_OK, 0},
	    {204, CLI_OK, 0},
	    {400, CLI_E_INVALID, 8},
	    {401, CLI_E_UNAUTHENTICATED, 4},
	    {403, CLI_E_FORBIDDEN, 5},
	    {404, CLI_E_NOT_FOUND, 6},
	    {405, CLI_E_INTERNAL, 1},
	    {409, CLI_E_CONFLICT, 7},
	    {412, CLI_E_PRECONDITION, 7},
	    {413, CLI_E_TOO_LARGE, 8},
	    {415, CLI_E_INVALID, 8},
	    {422, CLI_E_INVALID, 8},
	    {429, CLI_E_UNAVAILABLE, 9},
	    {500, CLI_E_SERVER, 9},
	    {502, CLI_E_SERVER, 9},
	    {503, CLI_E_UNAVAILABLE, 9},
	    {599, CLI_E_SERVER, 9},
	    {100, CLI_E_INTERNAL, 1},
	    {302, CLI_E_INTERNAL, 1}, /* redirects are not followed */
	    {0, CLI_E_INTERNAL, 1},
	    {700, CLI_E_INTERNAL, 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum cli_status st = cli_status_from_http(cases[i].http);

		assert_int_equal(st, cases[i].st);
		assert_int_equal(cli_exit_code(st), cases[i].code);
	}
}

static void test_client_side_codes(void **state)
{
	(void)state;
	assert_int_equal(cli_exit_code(CLI_E_USAGE), 2);
	assert_int_equal(cli_exit_code(CLI_E_CONNECT), 3);
	assert_int_equal(cli_exit_code(CLI_E_INTERNAL), 1);
	assert_int_equal(cli_exit_code(CLI_E_TASK_FAILED), 10);
	assert_int_equal(cli_exit_code(CLI_E_TIMEOUT), 11);
	assert_int_equal(cli_exit_code((enum cli_status)999), 1);
}

static void test_every_status_has_a_name(void **state)
{
	(void)state;
	for (int s = CLI_OK; s <= CLI_E_TIMEOUT; s++)
		assert_string_not_equal(cli_status_name((enum cli_status)s), "?");
	assert_string_equal(cli_status_name(CLI_E_NOT_FOUND), "not_found");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_to_exit_code),
	    cmocka_unit_test(test_client_side_codes),
	    cmocka_unit_test(test_every_status_has_a_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
