/* String helpers: ASCII case folding, UTF-8 validation, bounded copies, integer parsing. */
#include "util/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *str_lower(struct arena *a, const char *s)
{
	char *out;

	if (!s)
		return NULL;
	out = arena_strdup(a, s);
	if (!out)
		return NULL;
	for (char *p = out; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + ('a' - 'A'));
	}
	return out;
}

bool str_valid_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned char c = *p;
		int n;
		unsigned cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			p++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF are not text. */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		p += n + 1;
	}
	return true;
}

bool str_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (cap == 0)
		return false;
	if (n >= cap) {
		memcpy(dst, src, cap - 1);
		dst[cap - 1] = '\0';
		return false;
	}
	memcpy(dst, src, n + 1);
	return true;
}

bool str_to_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

unsigned str_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

const char *str_weak_etag(struct arena *a, int64_t version)
{
	char digits[24], *out;
	int n = 0;
	uint64_t v = version < 0 ? 0 : (uint64_t)version;

	/* Digit by digit: a SCIM page of a thousand users carries a thousand of these. */
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (!(out = arena_alloc(a, (size_t)n + 5)))
		return "";
	out[0] = 'W';
	out[1] = '/';
	out[2] = '"';
	for (int i = 0; i < n; i++)
		out[3 + i] = digits[n - 1 - i];
	out[3 + n] = '"';
	out[4 + n] = '\0';
	return out;
}
