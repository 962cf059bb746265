/* What a client command can end in, and the one table that turns it into a process exit code.
 * The HTTP status of an answer is first reduced to enum cli_status, so every command reports
 * the same failure with the same code. */
#ifndef ROSTER_CLI_EXIT_H
#define ROSTER_CLI_EXIT_H

enum cli_status {
	CLI_OK = 0,
	CLI_E_INTERNAL,	       /* a bug, out of memory, an answer we cannot read */
	CLI_E_USAGE,	       /* unknown command or option, missing or bad argument */
	CLI_E_CONNECT,	       /* no answer from the server: refused, unresolvable, timed out */
	CLI_E_UNAUTHENTICATED, /* 401 */
	CLI_E_FORBIDDEN,       /* 403: permission or rank */
	CLI_E_NOT_FOUND,       /* 404 */
	CLI_E_CONFLICT,	       /* 409 */
	CLI_E_PRECONDITION,    /* 412: If-Match stale */
	CLI_E_INVALID,	       /* 400, 415, other 4xx */
	CLI_E_TOO_LARGE,       /* 413 */
	CLI_E_UNAVAILABLE,     /* 503, 429: retry later */
	CLI_E_SERVER,	       /* other 5xx */
	CLI_E_TASK_FAILED,     /* a task waited for ended FAILED */
	CLI_E_TIMEOUT,	       /* a task waited for was not done in time; it may still finish */
};

/* Process exit codes; documented in cli_usage() and relied on by scripts: never renumber. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_INTERNAL = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_CONNECT = 3,
	CLI_EXIT_AUTH = 4,
	CLI_EXIT_FORBIDDEN = 5,
	CLI_EXIT_NOT_FOUND = 6,
	CLI_EXIT_CONFLICT = 7,
	CLI_EXIT_INVALID = 8,
	CLI_EXIT_SERVER = 9,
	CLI_EXIT_TASK_FAILED = 10,
	CLI_EXIT_TIMEOUT = 11,
};

/* Exit code for a status. Cannot fail. */
int cli_exit_code(enum cli_status s);

/* Status for an HTTP response code: 2xx is CLI_OK; 1xx, 3xx (redirects are never followed)
 * and codes outside 100-599 are CLI_E_INTERNAL. Cannot fail. */
enum cli_status cli_status_from_http(long http_status);

/* Readable name ("not_found"), for tests and messages. Cannot fail. */
const char *cli_status_name(enum cli_status s);

#endif
