/* The one error convention of roster: every fallible function returns enum rs_status and
 * takes struct rs_err *err last. err is untouched on success, so calls chain. The core never
 * sees HTTP numbers; each surface maps rs_status in its own table. */
#ifndef ROSTER_UTIL_ERR_H
#define ROSTER_UTIL_ERR_H

enum rs_status {
	RS_OK = 0,
	RS_E_INVALID,	      /* bad input (400) */
	RS_E_UNAUTHENTICATED, /* 401 */
	RS_E_FORBIDDEN,	      /* 403: permission or rank */
	RS_E_NOT_FOUND,	      /* missing or another tenant's: identical on purpose */
	RS_E_CONFLICT,	      /* uniqueness or state (409) */
	RS_E_PRECONDITION,    /* stale version (412) */
	RS_E_TOO_LARGE,	      /* a limit on input size (413) */
	RS_E_LIMIT,	      /* a quota or rate limit (429) */
	RS_E_UNAVAILABLE,     /* store busy or down: retryable (503) */
	RS_E_INTERNAL,	      /* a bug or an unexpected library failure (500) */
};

struct rs_err {
	enum rs_status status;
	char code[48];	/* stable, machine-readable: "user.username_taken" */
	char field[64]; /* offending field, "" if none */
	char msg[256];	/* safe to show a client; never a secret */
};

/* Fills err (if not NULL) and returns status, so a failure reads as one line:
 *   return rs_fail(err, RS_E_FORBIDDEN, "rank.outranked", NULL, "…%s", x);  */
enum rs_status rs_fail(struct rs_err *err, enum rs_status status, const char *code,
		       const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Readable name of a status ("not_found"), for logs and tests. Cannot fail. */
const char *rs_status_name(enum rs_status s);

#endif
