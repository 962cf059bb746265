/* The CLI's one mapping table: HTTP status -> enum cli_status -> exit code. Commands never
 * pick exit codes themselves. */
#include <stddef.h>

#include "exit.h"

int cli_exit_code(enum cli_status s)
{
	/* No default: -Wswitch flags a status added to exit.h but not mapped here. */
	switch (s) {
	case CLI_OK:
		return CLI_EXIT_OK;
	case CLI_E_INTERNAL:
		return CLI_EXIT_INTERNAL;
	case CLI_E_USAGE:
		return CLI_EXIT_USAGE;
	case CLI_E_CONNECT:
		return CLI_EXIT_CONNECT;
	case CLI_E_UNAUTHENTICATED:
		return CLI_EXIT_AUTH;
	case CLI_E_FORBIDDEN:
		return CLI_EXIT_FORBIDDEN;
	case CLI_E_NOT_FOUND:
		return CLI_EXIT_NOT_FOUND;
	case CLI_E_CONFLICT:
	case CLI_E_PRECONDITION:
		return CLI_EXIT_CONFLICT;
	case CLI_E_INVALID:
	case CLI_E_TOO_LARGE:
		return CLI_EXIT_INVALID;
	case CLI_E_UNAVAILABLE:
	case CLI_E_SERVER:
		return CLI_EXIT_SERVER;
	case CLI_E_TASK_FAILED:
		return CLI_EXIT_TASK_FAILED;
	case CLI_E_TIMEOUT:
		return CLI_EXIT_TIMEOUT;
	}
	/* Only reached with a value outside the enum: a bug. */
	return CLI_EXIT_INTERNAL;
}

/* HTTP codes the API documents (docs/api.md "Errors"), plus the usual retry signals. */
static const struct {
	long http;
	enum cli_status status;
} exit_http_table[] = {
    {400, CLI_E_INVALID},
    {401, CLI_E_UNAUTHENTICATED},
    {403, CLI_E_FORBIDDEN},
    {404, CLI_E_NOT_FOUND},
    /* The route exists but not with this method: client and server disagree on the API,
     * which is our bug (or a version skew), not the user's input. */
    {405, CLI_E_INTERNAL},
    {408, CLI_E_UNAVAILABLE},
    {409, CLI_E_CONFLICT},
    {412, CLI_E_PRECONDITION},
    {413, CLI_E_TOO_LARGE},
    {415, CLI_E_INVALID},
    {429, CLI_E_UNAVAILABLE},
    {503, CLI_E_UNAVAILABLE},
};

enum cli_status cli_status_from_http(long http_status)
{
	for (size_t i = 0; i < sizeof(exit_http_table) / sizeof(exit_http_table[0]); i++)
		if (exit_http_table[i].http == http_status)
			return exit_http_table[i].status;
	if (http_status >= 200 && http_status <= 299)
		return CLI_OK;
	if (http_status >= 400 && http_status <= 499)
		return CLI_E_INVALID;
	if (http_status >= 500 && http_status <= 599)
		return CLI_E_SERVER;
	return CLI_E_INTERNAL;
}

const char *cli_status_name(enum cli_status s)
{
	switch (s) {
	case CLI_OK:
		return "ok";
	case CLI_E_INTERNAL:
		return "internal";
	case CLI_E_USAGE:
		return "usage";
	case CLI_E_CONNECT:
		return "connect";
	case CLI_E_UNAUTHENTICATED:
		return "unauthenticated";
	case CLI_E_FORBIDDEN:
		return "forbidden";
	case CLI_E_NOT_FOUND:
		return "not_found";
	case CLI_E_CONFLICT:
		return "conflict";
	case CLI_E_PRECONDITION:
		return "precondition";
	case CLI_E_INVALID:
		return "invalid";
	case CLI_E_TOO_LARGE:
		return "too_large";
	case CLI_E_UNAVAILABLE:
		return "unavailable";
	case CLI_E_SERVER:
		return "server";
	case CLI_E_TASK_FAILED:
		return "task_failed";
	case CLI_E_TIMEOUT:
		return "timeout";
	}
	return "?";
}
