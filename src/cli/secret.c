/* Passwords for the CLI: never from argv (every user of the host sees it in ps), but from a
 * file, a pipe, or the terminal with echo off. Buffers holding a password are the caller's and
 * are wiped here on every failure; no stdio buffer ever holds one. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli_int.h"

/* The signal that arrived while echo was off; 0 if none. */
static volatile sig_atomic_t secret_signal;

static void secret_on_signal(int sig)
{
	secret_signal = sig;
}

/* secret_read_line; interruptible: a read() cut short by a signal caught by secret_prompt
 * ends the line instead of being retried. */
static enum cli_status secret_line(int fd, char *out, size_t cap, bool interruptible,
				   struct cli_err *err)
{
	size_t len = 0;
	enum cli_status st = CLI_OK;

	if (cap == 0)
		return cli_fail(err, CLI_E_INTERNAL, "no room for the password");
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR && !(interruptible && secret_signal != 0))
			continue;
		if (n < 0) {
			st = errno == EINTR
				 ? cli_fail(err, CLI_E_INTERNAL, "interrupted")
				 : cli_fail(err, CLI_E_INTERNAL, "cannot read the password: %s",
					    strerror(errno));
			goto out;
		}
		if (n == 0 || c == '\n')
			break;
		if (len + 1 >= cap) {
			st = cli_fail(err, CLI_E_USAGE, "the password is longer than %zu bytes",
				      cap - 1);
			goto out;
		}
		out[len++] = c;
	}
	/* A file written on Windows ends its line in "\r\n". */
	if (len > 0 && out[len - 1] == '\r')
		len--;
	out[len] = '\0';
	if (len == 0)
		st = cli_fail(err, CLI_E_USAGE, "empty password");
out:
	if (st != CLI_OK)
		explicit_bzero(out, cap);
	return st;
}

enum cli_status secret_read_line(int fd, char *out, size_t cap, struct cli_err *err)
{
	return secret_line(fd, out, cap, false, err);
}

/* Prompts on stderr and reads a line from the terminal fd with echo off. */
static enum cli_status secret_prompt(int fd, const char *prompt, char *out, size_t cap,
				     struct cli_err *err)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	struct sigaction old[sizeof(sigs) / sizeof(sigs[0])], sa;
	struct termios saved, quiet;
	enum cli_status st;

	if (tcgetattr(fd, &saved) != 0)
		return cli_fail(err, CLI_E_INTERNAL, "cannot read the terminal settings: %s",
				strerror(errno));
	/* Without SA_RESTART the pending read() returns EINTR, so the terminal is put back
	 * before the signal takes its usual course (a shell left without echo is hard to
	 * notice). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = secret_on_signal;
	sigemptyset(&sa.sa_mask);
	secret_signal = 0;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, &old[i]); /* cannot fail for these signals */
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/* Echo off before the prompt appears: whatever is typed after it stays unseen. */
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
		st = cli_fail(err, CLI_E_INTERNAL, "cannot turn off the terminal echo: %s",
			      strerror(errno));
		goto out;
	}
	fprintf(stderr, "%s", prompt);
	(void)fflush(stderr);
	st = secret_line(fd, out, cap, true, err);
	/* TCSADRAIN, not TCSAFLUSH: the answer to the next prompt may already be typed. Best
	 * effort: there is nothing better to do should it fail. */
	(void)tcsetattr(fd, TCSADRAIN, &saved);
	fputc('\n', stderr); /* the user's Enter was not echoed */
out:
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &old[i], NULL);
	if (st != CLI_OK)
		explicit_bzero(out, cap);
	if (secret_signal != 0)
		(void)raise(secret_signal); /* as if the handler had never been there */
	return st;
}

enum cli_status secret_read(const char *file, const char *prompt, bool confirm, char *out,
			    size_t cap, struct cli_err *err)
{
	char again[CLI_SECRET_MAX];
	enum cli_status st;
	int fd;

	if (file != NULL && strcmp(file, "-") != 0) {
		fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return cli_fail(err, CLI_E_USAGE, "cannot open '%s': %s", file,
					strerror(errno));
		st = secret_read_line(fd, out, cap, err);
		(void)close(fd); /* read-only: a close error loses nothing */
		return st;
	}
	if (file != NULL || !isatty(STDIN_FILENO))
		return secret_read_line(STDIN_FILENO, out, cap, err);
	st = secret_prompt(STDIN_FILENO, prompt, out, cap, err);
	if (st != CLI_OK || !confirm)
		return st;
	/* Typed blind and set for good: a typo would lock the user out. */
	st = secret_prompt(STDIN_FILENO, "Repeat the password: ", again, sizeof(again), err);
	if (st == CLI_OK && strcmp(out, again) != 0)
		st = cli_fail(err, CLI_E_USAGE, "the passwords do not match");
	explicit_bzero(again, sizeof(again));
	if (st != CLI_OK)
		explicit_bzero(out, cap);
	return st;
}

enum cli_status secret_read_password(const char *file, char *out, size_t cap, struct cli_err *err)
{
	return secret_read(file, "New password: ", true, out, cap, err);
}

/* jansson's free: every document the CLI builds or parses may hold a password (a request
 * body) or a token secret (token create's answer), and jansson copies strings freely while
 * it builds, serialises and frees them. Wiping each block as it goes back covers every copy,
 * which no caller could reach otherwise. */
static void secret_json_free(void *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

void secret_json_wipe_on_free(void)
{
	json_set_alloc_funcs(malloc, secret_json_free);
}
