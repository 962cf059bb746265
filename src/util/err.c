/* rs_err helpers: the only place that formats an error. */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>

enum rs_status rs_fail(struct rs_err *err, enum rs_status status, const char *code,
		       const char *field, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return status;
	err->status = status;
	snprintf(err->code, sizeof(err->code), "%s", code ? code : "");
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return status;
}

const char *rs_status_name(enum rs_status s)
{
	switch (s) {
	case RS_OK:
		return "ok";
	case RS_E_INVALID:
		return "invalid";
	case RS_E_UNAUTHENTICATED:
		return "unauthenticated";
	case RS_E_FORBIDDEN:
		return "forbidden";
	case RS_E_NOT_FOUND:
		return "not_found";
	case RS_E_CONFLICT:
		return "conflict";
	case RS_E_PRECONDITION:
		return "precondition";
	case RS_E_TOO_LARGE:
		return "too_large";
	case RS_E_LIMIT:
		return "limit";
	case RS_E_UNAVAILABLE:
		return "unavailable";
	case RS_E_INTERNAL:
		return "internal";
	}
	return "unknown";
}
