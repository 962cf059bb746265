/* Request paths and query strings. Every id, slug and query value the user types is
 * percent-encoded, so "a/b" or "x&role=admin" cannot change which resource or filter is asked
 * for. */
#include <stdarg.h>
#include <string.h>

#include "cli_int.h"

/* RFC 3986 unreserved characters: the set curl_easy_escape() leaves alone too. Written out
 * here rather than calling curl_easy_escape() so this stays pure (no handle, no allocation per
 * piece) and unit-testable without libcurl. */
static bool url_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

bool url_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (url_unreserved(*p)) {
			if (!buf_putc(b, (char)*p))
				return false;
		} else {
			char enc[3] = {'%', hex[*p >> 4], hex[*p & 0x0f]};

			if (!buf_append(b, enc, sizeof(enc)))
				return false;
		}
	}
	return true;
}

enum cli_status url_path_add(struct buf *b, const char *segment, struct cli_err *err)
{
	/* "." and ".." would be removed by URL normalisation (curl does it too) and so name
	 * another resource; an empty segment would name the collection. */
	if (segment[0] == '\0' || strcmp(segment, ".") == 0 || strcmp(segment, "..") == 0)
		return cli_fail(err, CLI_E_USAGE, "invalid id or slug '%s'", segment);
	if (!buf_putc(b, '/') || !url_escape(b, segment))
		return cli_fail(err, CLI_E_INTERNAL, "request URL too long");
	return CLI_OK;
}

enum cli_status url_path_build(struct buf *b, struct cli_err *err, ...)
{
	enum cli_status st = CLI_OK;
	const char *seg;
	va_list ap;

	va_start(ap, err);
	while (st == CLI_OK && (seg = va_arg(ap, const char *)) != NULL)
		st = url_path_add(b, seg, err);
	va_end(ap);
	return st;
}

enum cli_status url_query_add(struct buf *b, const char *key, const char *value,
			      struct cli_err *err)
{
	if (value == NULL)
		return CLI_OK;
	/* Whether a '?' is already there decides the separator: paths never contain one
	 * unencoded, because url_escape encodes it. */
	if (!buf_putc(b, strchr(buf_cstr(b), '?') != NULL ? '&' : '?') || !url_escape(b, key) ||
	    !buf_putc(b, '=') || !url_escape(b, value))
		return cli_fail(err, CLI_E_INTERNAL, "request URL too long");
	return CLI_OK;
}
