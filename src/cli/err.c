/* cli_fail(): the one way a CLI function records a failure for cli_main to report. */
#include <stdarg.h>
#include <stdio.h>

#include "cli_int.h"

enum cli_status cli_fail(struct cli_err *err, enum cli_status status, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return status;
	err->status = status;
	va_start(ap, fmt);
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap); /* truncation is acceptable */
	va_end(ap);
	return status;
}
