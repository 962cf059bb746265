/* Unit tests for cli_cmd_match() and cli_cmd_default() in src/cli/cli.c: which command the
 * words after a resource name select, for names of one word and of two ("sessions revoke"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_int.h"

static const struct cli_cmd cmds[] = {
    {NULL, "", "default", NULL, 0, 0, 0, NULL},
    {"sessions", "ID", "", NULL, 1, 1, 0, NULL},
    {"sessions revoke", "ID", "", NULL, 1, 1, 0, NULL},
    {"manager add", "ID USER_ID", "", NULL, 2, 2, 0, NULL},
    {"manager remove", "ID USER_ID", "", NULL, 2, 2, 0, NULL},
    {"list", "", "", NULL, 0, 0, 0, NULL},
};

static const struct cli_resource res = {"x", "", cmds, sizeof(cmds) / sizeof(cmds[0]), NULL};
static const struct cli_resource plain = {"y", "", cmds + 1, 2, NULL};

static void test_match(void **state)
{
	static const struct {
		const char *words[4]; /* NULL-terminated */
		const char *want;     /* NULL: no command */
		int nwords;
	} cases[] = {
	    {{"list", NULL}, "list", 1},
	    {{"list", "extra", NULL}, "list", 1},
	    {{"sessions", "0190", NULL}, "sessions", 1},
	    {{"sessions", NULL}, "sessions", 1},
	    /* the longest name wins */
	    {{"sessions", "revoke", "0190", NULL}, "sessions revoke", 2},
	    {{"sessions", "revoke", NULL}, "sessions revoke", 2},
	    {{"manager", "add", "d", NULL}, "manager add", 2},
	    {{"manager", "remove", NULL}, "manager remove", 2},
	    /* half of a two-word name is no command */
	    {{"manager", NULL}, NULL, 0},
	    {{"manager", "frob", NULL}, NULL, 0},
	    /* whole words only: no prefixes, no names glued together, case matters */
	    {{"sess", NULL}, NULL, 0},
	    {{"sessionsrevoke", NULL}, NULL, 0},
	    {{"manager add", NULL}, NULL, 0},
	    {{"LIST", NULL}, NULL, 0},
	    {{"--json", "list", NULL}, NULL, 0},
	    {{"", NULL}, NULL, 0},
	    {{NULL}, NULL, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *words[4];
		int argc = 0, n = -1;
		const struct cli_cmd *c;

		while (cases[i].words[argc] != NULL) {
			words[argc] = (char *)cases[i].words[argc];
			argc++;
		}
		c = cli_cmd_match(&res, argc, words, &n);
		if (cases[i].want == NULL) {
			assert_null(c);
		} else {
			assert_non_null(c);
			assert_string_equal(c->name, cases[i].want);
		}
		assert_int_equal(n, cases[i].nwords);
	}
}

static void test_default(void **state)
{
	(void)state;
	assert_ptr_equal(cli_cmd_default(&res), &cmds[0]);
	assert_null(cli_cmd_default(&plain));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
