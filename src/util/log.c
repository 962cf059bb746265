/* JSON-lines logger. Formats into a stack buffer and writes it with one write(2). */
#include "util/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level_cur = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level l)
{
	atomic_store(&log_level_cur, (int)l);
}

bool log_enabled(enum log_level l)
{
	return (int)l >= atomic_load(&log_level_cur);
}

bool log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

const char *log_num(char *buf, long long v)
{
	snprintf(buf, 32, "\x01%lld", v);
	return buf;
}

struct line {
	char buf[4096];
	size_t len;
};

static void put(struct line *ln, const char *s, size_t n)
{
	if (n > sizeof(ln->buf) - 2 - ln->len)
		n = sizeof(ln->buf) - 2 - ln->len;
	memcpy(ln->buf + ln->len, s, n);
	ln->len += n;
}

static void put_str(struct line *ln, const char *s)
{
	put(ln, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(ln, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(ln, esc, 6);
		} else {
			put(ln, (const char *)&c, 1);
		}
	}
	put(ln, "\"", 1);
}

void log_kv(enum log_level l, const char *msg, ...)
{
	struct line ln = {.len = 0};
	struct timespec ts;
	struct tm tm;
	char tbuf[80];
	va_list ap;
	const char *k;

	if (!log_enabled(l))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(tbuf, sizeof(tbuf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	put(&ln, "{\"ts\":\"", 7);
	put(&ln, tbuf, strlen(tbuf));
	put(&ln, "\",\"level\":\"", 11);
	put(&ln, level_names[l], strlen(level_names[l]));
	put(&ln, "\",\"msg\":", 8);
	put_str(&ln, msg);
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);

		put(&ln, ",", 1);
		put_str(&ln, k);
		put(&ln, ":", 1);
		if (!v)
			put(&ln, "null", 4);
		else if (v[0] == '\x01')
			put(&ln, v + 1, strlen(v + 1));
		else
			put_str(&ln, v);
	}
	va_end(ap);
	ln.buf[ln.len++] = '}';
	ln.buf[ln.len++] = '\n';
	/* Logging must never fail the caller; a short write to stderr is ignored on purpose. */
	(void)!write(STDERR_FILENO, ln.buf, ln.len);
}
