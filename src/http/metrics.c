/* Request metrics: counters and a latency histogram per route path, preallocated when the
 * route is registered. Recording is a few relaxed atomic adds, with no lock and no
 * allocation; rendering (GET /metrics) reads the same atomics without stopping writers, so
 * a scrape may see one request in a counter and not yet in the histogram — acceptable for
 * Prometheus, which only needs each series to be monotonic. */
#include "http/http_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Upper bounds in nanoseconds, and as printed in "le"; the last bucket is +Inf. */
static const int64_t bucket_ns[HTTP_HIST_BUCKETS - 1] = {
    500000,    1000000,	  2500000,   5000000,	 10000000,   25000000,	   50000000,
    100000000, 250000000, 500000000, 1000000000, 2500000000, 5000000000LL,
};
static const char *const bucket_le[HTTP_HIST_BUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1",    "0.25",  "0.5",	 "1",	  "2.5",  "5",	   "+Inf",
};

void metrics_observe(struct http_route_metrics *m, enum http_method_idx method, int status,
		     int64_t duration_ns)
{
	unsigned key, h;
	int b;

	if (status < 100 || status > 999)
		status = 999;
	key = ((unsigned)method + 1u) << 10 | (unsigned)status;
	h = (key * 2654435761u) >> 26; /* Fibonacci hash to 6 bits */
	for (unsigned i = 0; i < HTTP_STATUS_SLOTS; i++) {
		struct http_status_slot *s = &m->slots[(h + i) & (HTTP_STATUS_SLOTS - 1)];
		unsigned cur = atomic_load_explicit(&s->key, memory_order_acquire);

		if (cur == 0) {
			unsigned expected = 0;

			/* Claim the empty slot; if another thread won it, it may have won it for
			 * the same key, so look again rather than moving on. */
			if (atomic_compare_exchange_strong_explicit(&s->key, &expected, key,
								    memory_order_acq_rel,
								    memory_order_acquire))
				cur = key;
			else
				cur = expected;
		}
		if (cur == key) {
			atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
			goto hist;
		}
	}
	atomic_fetch_add_explicit(&m->overflow, 1, memory_order_relaxed);
hist:
	if (duration_ns < 0)
		duration_ns = 0;
	for (b = 0; b < HTTP_HIST_BUCKETS - 1; b++) {
		if (duration_ns <= bucket_ns[b])
			break;
	}
	atomic_fetch_add_explicit(&m->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_ns, (unsigned long long)duration_ns,
				  memory_order_relaxed);
}

/* A growable text buffer in the request arena. */
struct mbuf {
	struct arena *a;
	char *p;
	size_t len, cap;
	bool oom;
};

static bool mbuf_reserve(struct mbuf *b, size_t more)
{
	char *np;
	size_t ncap;

	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	ncap = b->cap ? b->cap : 4096;
	while (ncap < b->len + more + 1)
		ncap *= 2;
	np = arena_alloc(b->a, ncap);
	if (!np) {
		b->oom = true;
		return false;
	}
	if (b->len)
		memcpy(np, b->p, b->len);
	b->p = np;
	b->cap = ncap;
	return true;
}

static void mbuf_printf(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mbuf_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !mbuf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Label values escaped per the text format: backslash, double quote and newline. */
static const char *label_escape(struct arena *a, const char *s)
{
	size_t n = 0;
	char *out, *o;

	for (const char *p = s; *p; p++)
		n += (*p == '\\' || *p == '"' || *p == '\n') ? 2 : 1;
	out = arena_alloc(a, n + 1);
	if (!out)
		return "";
	o = out;
	for (const char *p = s; *p; p++) {
		if (*p == '\\' || *p == '"' || *p == '\n') {
			*o++ = '\\';
			*o++ = *p == '\n' ? 'n' : *p;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

static void render_counters(struct mbuf *b, const char *route, const struct http_route_metrics *m)
{
	unsigned long long over;

	for (int i = 0; i < HTTP_STATUS_SLOTS; i++) {
		unsigned key = atomic_load_explicit(&m->slots[i].key, memory_order_acquire);
		unsigned long long n;

		if (!key)
			continue;
		n = atomic_load_explicit(&m->slots[i].count, memory_order_relaxed);
		mbuf_printf(
		    b,
		    "roster_http_requests_total{route=\"%s\",method=\"%s\",status=\"%u\"} %llu\n",
		    route, http_method_name((enum http_method_idx)((key >> 10) - 1)), key & 0x3ffu,
		    n);
	}
	over = atomic_load_explicit(&m->overflow, memory_order_relaxed);
	if (over)
		mbuf_printf(b,
			    "roster_http_requests_total{route=\"%s\",method=\"other\",status="
			    "\"other\"} %llu\n",
			    route, over);
}

static void render_histogram(struct mbuf *b, const char *route, const struct http_route_metrics *m)
{
	unsigned long long cum = 0;
	unsigned long long sum_ns = atomic_load_explicit(&m->sum_ns, memory_order_relaxed);

	for (int i = 0; i < HTTP_HIST_BUCKETS; i++) {
		cum += atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
		mbuf_printf(
		    b, "roster_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %llu\n",
		    route, bucket_le[i], cum);
	}
	/* _count is the +Inf bucket by definition; reading it once more could disagree. */
	mbuf_printf(b, "roster_http_request_duration_seconds_sum{route=\"%s\"} %llu.%09llu\n",
		    route, sum_ns / 1000000000ull, sum_ns % 1000000000ull);
	mbuf_printf(b, "roster_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route,
		    cum);
}

static bool metrics_used(const struct http_route_metrics *m)
{
	for (int i = 0; i < HTTP_HIST_BUCKETS; i++) {
		if (atomic_load_explicit(&m->buckets[i], memory_order_relaxed))
			return true;
	}
	return false;
}

#define EXTRA_MAX (64 * 1024)

char *http_metrics_render(const struct http_router *r, long long in_flight, double start_time_s,
			  const struct http_hooks *hooks, struct arena *a, size_t *len)
{
	struct mbuf b = {.a = a};

	mbuf_printf(&b, "# HELP roster_http_requests_total HTTP requests answered, by route "
			"pattern, method and status.\n"
			"# TYPE roster_http_requests_total counter\n");
	for (int i = 0; i < r->npaths; i++)
		render_counters(&b, label_escape(a, r->paths[i].pattern), r->paths[i].metrics);
	render_counters(&b, "unmatched", r->unmatched);

	mbuf_printf(
	    &b,
	    "# HELP roster_http_request_duration_seconds Time from request line to response sent.\n"
	    "# TYPE roster_http_request_duration_seconds histogram\n");
	/* Routes never called are left out: an all-zero histogram per route is only noise. */
	for (int i = 0; i < r->npaths; i++) {
		if (metrics_used(r->paths[i].metrics))
			render_histogram(&b, label_escape(a, r->paths[i].pattern),
					 r->paths[i].metrics);
	}
	if (metrics_used(r->unmatched))
		render_histogram(&b, "unmatched", r->unmatched);

	mbuf_printf(
	    &b,
	    "# HELP roster_http_requests_in_flight Requests received and not yet answered.\n"
	    "# TYPE roster_http_requests_in_flight gauge\n"
	    "roster_http_requests_in_flight %lld\n",
	    in_flight);
	mbuf_printf(&b,
		    "# HELP roster_process_start_time_seconds Start time of the process since the "
		    "Unix epoch.\n"
		    "# TYPE roster_process_start_time_seconds gauge\n"
		    "roster_process_start_time_seconds %.3f\n",
		    start_time_s);
	if (hooks && hooks->metrics_extra && mbuf_reserve(&b, EXTRA_MAX)) {
		size_t n = hooks->metrics_extra(hooks->app, b.p + b.len, EXTRA_MAX);

		/* The hook reports bytes written; never trust it beyond what it was given. */
		b.len += n < EXTRA_MAX ? n : EXTRA_MAX;
		b.p[b.len] = '\0';
	}
	if (b.oom || !b.p)
		return NULL;
	*len = b.len;
	return b.p;
}
