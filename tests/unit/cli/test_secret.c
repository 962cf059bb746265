/* Unit tests for src/cli/secret.c (reading a password line from a pipe or a file, never more
 * than the line; two secrets from one stdin) and invitation_token_arg() in
 * src/cli/cmd_invitation.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/cli_int.h"

/* Writes input (len bytes) into a pipe and reads one password line from it with a buffer of
 * cap bytes. *rest gets the first byte left in the pipe (-1 if none). */
static enum cli_status read_from_pipe(const char *input, size_t len, char *out, size_t cap,
				      int *rest, struct cli_err *err)
{
	int fds[2];
	enum cli_status st;
	char c;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], input, len), (ssize_t)len);
	assert_int_equal(close(fds[1]), 0);
	st = secret_read_line(fds[0], out, cap, err);
	*rest = read(fds[0], &c, 1) == 1 ? (unsigned char)c : -1;
	assert_int_equal(close(fds[0]), 0);
	return st;
}

static void test_lines(void **state)
{
	static const struct {
		const char *in;
		enum cli_status st;
		const char *want;
		int rest;
	} cases[] = {
	    {"correct horse\n", CLI_OK, "correct horse", -1},
	    {"correct horse\r\n", CLI_OK, "correct horse", -1},
	    {"no newline at all", CLI_OK, "no newline at all", -1},
	    {"first\nsecond\n", CLI_OK, "first", 's'}, /* the rest of stdin is not consumed */
	    {" spaces kept \n", CLI_OK, " spaces kept ", -1},
	    {"\n", CLI_E_USAGE, "", -1},
	    {"", CLI_E_USAGE, "", -1},
	    {"\r\n", CLI_E_USAGE, "", -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];
		struct cli_err err = {0};
		int rest;

		memset(out, 'x', sizeof(out));
		assert_int_equal(
		    read_from_pipe(cases[i].in, strlen(cases[i].in), out, sizeof(out), &rest, &err),
		    cases[i].st);
		if (cases[i].st == CLI_OK)
			assert_string_equal(out, cases[i].want);
		else
			assert_int_equal(out[0], '\0'); /* wiped */
		assert_int_equal(rest, cases[i].rest);
	}
}

static void test_too_long_is_refused_and_wiped(void **state)
{
	char out[8];
	struct cli_err err = {0};
	int rest;

	(void)state;
	/* 7 bytes fit with the NUL; 8 do not. */
	assert_int_equal(read_from_pipe("1234567\n", 8, out, sizeof(out), &rest, &err), CLI_OK);
	assert_string_equal(out, "1234567");
	assert_int_equal(read_from_pipe("12345678\n", 9, out, sizeof(out), &rest, &err),
			 CLI_E_USAGE);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0);
	assert_null(strstr(err.msg, "1234"));
}

static void test_password_file(void **state)
{
	char path[] = "/tmp/roster-test-secret-XXXXXX";
	char out[CLI_SECRET_MAX];
	struct cli_err err = {0};
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "from a file\nignored\n", 20), 20);
	assert_int_equal(close(fd), 0);
	assert_int_equal(secret_read_password(path, out, sizeof(out), &err), CLI_OK);
	assert_string_equal(out, "from a file");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(secret_read_password(path, out, sizeof(out), &err), CLI_E_USAGE);
	assert_non_null(strstr(err.msg, path));
}

/* roster me password on a pipe: the current password is stdin's first line, the new one its
 * second, whichever of them names "-" or none at all (stdin is no terminal here). */
static void test_two_secrets_from_stdin(void **state)
{
	static const char input[] = "current one\nnew one\nleft alone\n";
	char cur[CLI_SECRET_MAX], pw[CLI_SECRET_MAX], c;
	struct cli_err err = {0};
	int fds[2], saved = dup(STDIN_FILENO);

	(void)state;
	assert_true(saved >= 0);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], input, sizeof(input) - 1), (ssize_t)(sizeof(input) - 1));
	assert_int_equal(close(fds[1]), 0);
	assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
	assert_int_equal(close(fds[0]), 0);
	assert_int_equal(secret_read(NULL, "Current password: ", false, cur, sizeof(cur), &err),
			 CLI_OK);
	assert_int_equal(secret_read("-", "New password: ", true, pw, sizeof(pw), &err), CLI_OK);
	assert_string_equal(cur, "current one");
	assert_string_equal(pw, "new one");
	assert_int_equal(read(STDIN_FILENO, &c, 1), 1);
	assert_int_equal(c, 'l');
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	assert_int_equal(close(saved), 0);
}

static void test_token_arg(void **state)
{
	static const struct {
		const char *arg;
		const char *want; /* NULL: usage error */
	} cases[] = {
	    {"rsi_abc_def", "rsi_abc_def"},
	    {"https://roster.example.test/invitations/tok123", "tok123"},
	    {"https://x.test/invitations/a/invitations/tok", "tok"},
	    {"https://roster.example.test/invitations/", NULL},
	    {"", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *tok = NULL;
		struct cli_err err = {0};
		enum cli_status st = invitation_token_arg(cases[i].arg, &tok, &err);

		if (cases[i].want == NULL) {
			assert_int_equal(st, CLI_E_USAGE);
		} else {
			assert_int_equal(st, CLI_OK);
			assert_string_equal(tok, cases[i].want);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_too_long_is_refused_and_wiped),
	    cmocka_unit_test(test_password_file),
	    cmocka_unit_test(test_two_secrets_from_stdin),
	    cmocka_unit_test(test_token_arg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
