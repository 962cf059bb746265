/* Request path decoding: splits the raw request target into segments and percent-decodes
 * each one on its own, so "%2F" stays inside its segment instead of creating a new one.
 * It only decodes; which segments make a route is router.c's business. */
#include "http/http_int.h"

#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) into dst (room for n + 1 bytes). False on a bad escape, %00 or a raw
 * control byte: none of them has a place in a path, and NUL would cut C strings short. */
static bool decode_segment(const char *s, size_t n, char *dst)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (n - i < 3)
				return false;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return false;
			dst[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (c < 0x20 || c == 0x7f) {
			return false;
		} else {
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
	return true;
}

enum rs_status http_path_decode(struct arena *a, const char *raw, size_t len, struct http_path *out,
				struct rs_err *err)
{
	size_t pos = 1;
	size_t joined_len = 0;
	char *joined;

	memset(out, 0, sizeof(*out));
	if (len == 0 || raw[0] != '/')
		return rs_fail(err, RS_E_INVALID, "request.invalid_path", NULL,
			       "the request path must start with '/'");
	/* A trailing slash is tolerated: "/api/v1/tenants/" is "/api/v1/tenants". */
	if (len > 1 && raw[len - 1] == '/')
		len--;
	while (pos < len) {
		const char *seg = raw + pos;
		const char *slash = memchr(seg, '/', len - pos);
		size_t n = slash ? (size_t)(slash - seg) : len - pos;
		char *dst = arena_alloc(a, n + 1);

		if (!dst)
			return rs_fail(err, RS_E_INTERNAL, "request.out_of_memory", NULL,
				       "out of memory decoding the path");
		if (!decode_segment(seg, n, dst))
			return rs_fail(
			    err, RS_E_INVALID, "request.invalid_path", NULL,
			    "the request path holds an invalid escape or a control character");
		if (out->nsegs < RS_PATH_SEGMENTS_MAX) {
			out->segs[out->nsegs++] = dst;
			joined_len += 1 + strlen(dst);
		} else {
			/* Still decoded, so a bad escape anywhere is reported the same way, but
			 * not kept: no route is this deep. */
			out->too_many = true;
		}
		pos += n + 1;
	}
	joined = arena_alloc(a, joined_len + 2);
	if (!joined)
		return rs_fail(err, RS_E_INTERNAL, "request.out_of_memory", NULL,
			       "out of memory decoding the path");
	if (out->nsegs == 0) {
		joined[0] = '/';
	} else {
		size_t o = 0;

		for (int i = 0; i < out->nsegs; i++) {
			size_t n = strlen(out->segs[i]);

			joined[o++] = '/';
			memcpy(joined + o, out->segs[i], n);
			o += n;
		}
	}
	out->joined = joined;
	return RS_OK;
}
