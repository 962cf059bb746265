/* Growable strings with a hard maximum (curl's dynbuf "toobig" idea): every buffer the server
 * or the user can grow has a cap set when it is created. Failure is sticky, so a sequence of
 * appends is checked once. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_int.h"

void buf_init(struct buf *b, size_t max)
{
	b->s = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->failed = false;
}

void buf_release(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->s);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->s != NULL)
		b->s[0] = '\0';
}

static bool buf_grow(struct buf *b, size_t extra)
{
	size_t need, cap;
	char *s;

	if (extra > b->max - b->len) {
		b->failed = true;
		return false;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	s = realloc(b->s, cap);
	if (s == NULL) {
		b->failed = true;
		return false;
	}
	b->s = s;
	b->cap = cap;
	return true;
}

bool buf_append(struct buf *b, const void *p, size_t n)
{
	if (!buf_grow(b, n))
		return false;
	if (n > 0)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return true;
}

bool buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

bool buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

bool buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_grow(b, (size_t)n)) {
		b->failed = true;
		return false;
	}
	va_start(ap, fmt);
	(void)vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap); /* room checked above */
	va_end(ap);
	b->len += (size_t)n;
	return true;
}

const char *buf_cstr(const struct buf *b)
{
	return b->s != NULL ? b->s : "";
}

bool buf_puts_safe(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		size_t run = 0;

		/* Copy the longest run of harmless bytes in one append. */
		while (p[run] != '\0' && p[run] >= 0x20 && p[run] != 0x7f &&
		       !(p[run] == 0xc2 && p[run + 1] >= 0x80 && p[run + 1] <= 0x9f))
			run++;
		if (run > 0 && !buf_append(b, p, run))
			return false;
		p += run;
		if (*p == '\0')
			break;
		/* U+0080-U+009F (C1 controls, e.g. CSI) are 0xc2 0x80-0x9f in UTF-8. */
		p += (*p == 0xc2) ? 2 : 1;
		if (!buf_putc(b, '?'))
			return false;
	}
	return true;
}
