/* Metrics: counting and the Prometheus text format (names, labels, cumulative buckets,
 * _sum/_count, the extra hook). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_int.h"

static void h_dummy(struct http_req *req, struct http_resp *resp, void *app)
{
	(void)req;
	(void)resp;
	(void)app;
}

static size_t extra(void *app, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "roster_store_errors_total{kind=\"busy\"} %d\n", *(int *)app);

	return n < 0 ? 0 : (size_t)n;
}

/* Every non-comment line must look like a Prometheus sample. */
static void check_lines(const char *text)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');

		assert_non_null(nl); /* the text ends with a newline */
		if (*p != '#') {
			const char *sp = memchr(p, ' ', (size_t)(nl - p));

			assert_non_null(sp);
			assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
		} else {
			assert_true(strncmp(p, "# HELP ", 7) == 0 || strncmp(p, "# TYPE ", 7) == 0);
		}
		p = nl + 1;
	}
}

static void test_render(void **state)
{
	struct http_router *r = http_router_new();
	struct http_route_path *p;
	struct arena a;
	size_t len = 0;
	char *text;
	int errors = 7;
	struct http_hooks hooks = {.metrics_extra = extra, .app = &errors};

	(void)state;
	assert_int_equal(
	    http_route_add(r, "GET", "/api/v1/tenants/{tenant}", 0, h_dummy, NULL, NULL), RS_OK);
	p = &r->paths[r->npaths - 1];
	metrics_observe(p->metrics, HTTP_M_GET, 200, 300000);	    /* 0.3 ms */
	metrics_observe(p->metrics, HTTP_M_GET, 200, 2000000);	    /* 2 ms */
	metrics_observe(p->metrics, HTTP_M_GET, 404, 7000000000LL); /* 7 s: +Inf only */
	metrics_observe(p->metrics, HTTP_M_DELETE, 405, 1000);
	metrics_observe(r->unmatched, HTTP_M_OTHER, 404, 1000);

	arena_init(&a, 0);
	text = http_metrics_render(r, 3, 1700000000.5, &hooks, &a, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	check_lines(text);
	assert_non_null(strstr(text, "# TYPE roster_http_requests_total counter\n"));
	assert_non_null(strstr(text, "roster_http_requests_total{route=\"/api/v1/tenants/"
				     "{tenant}\",method=\"GET\",status=\"200\"} 2\n"));
	assert_non_null(strstr(text, "roster_http_requests_total{route=\"/api/v1/tenants/"
				     "{tenant}\",method=\"GET\",status=\"404\"} 1\n"));
	assert_non_null(strstr(text, "roster_http_requests_total{route=\"/api/v1/tenants/"
				     "{tenant}\",method=\"DELETE\",status=\"405\"} 1\n"));
	assert_non_null(strstr(
	    text,
	    "roster_http_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"} 1\n"));
	assert_non_null(strstr(text, "# TYPE roster_http_request_duration_seconds histogram\n"));
	assert_non_null(strstr(text, "roster_http_request_duration_seconds_bucket{route=\"/api/v1/"
				     "tenants/{tenant}\",le=\"0.0005\"} 2\n"));
	assert_non_null(strstr(text, "roster_http_request_duration_seconds_bucket{route=\"/api/v1/"
				     "tenants/{tenant}\",le=\"0.001\"} 2\n"));
	assert_non_null(strstr(text, "roster_http_request_duration_seconds_bucket{route=\"/api/v1/"
				     "tenants/{tenant}\",le=\"0.0025\"} 3\n"));
	assert_non_null(strstr(text, "roster_http_request_duration_seconds_bucket{route=\"/api/v1/"
				     "tenants/{tenant}\",le=\"5\"} 3\n"));
	assert_non_null(strstr(text, "roster_http_request_duration_seconds_bucket{route=\"/api/v1/"
				     "tenants/{tenant}\",le=\"+Inf\"} 4\n"));
	assert_non_null(strstr(text, "roster_http_request_duration_seconds_sum{route=\"/api/v1/"
				     "tenants/{tenant}\"} 7.002301000\n"));
	assert_non_null(strstr(
	    text,
	    "roster_http_request_duration_seconds_count{route=\"/api/v1/tenants/{tenant}\"} 4\n"));
	/* never-called routes have no histogram series */
	assert_null(strstr(text, "_bucket{route=\"/healthz\""));
	assert_non_null(strstr(
	    text,
	    "# TYPE roster_http_requests_in_flight gauge\nroster_http_requests_in_flight 3\n"));
	assert_non_null(strstr(text, "roster_process_start_time_seconds 1700000000.500\n"));
	assert_non_null(strstr(text, "roster_store_errors_total{kind=\"busy\"} 7\n"));
	/* the extra hook comes last */
	assert_true(strstr(text, "roster_store_errors_total") >
		    strstr(text, "roster_process_start_time_seconds"));
	arena_release(&a);
	http_router_free(r);
}

static void test_status_table_overflow(void **state)
{
	struct http_route_metrics *m = calloc(1, sizeof(*m));
	struct http_router r = {0};
	struct http_route_path path = {.pattern = (char *)"/x", .metrics = m};
	struct arena a;
	size_t len;
	char *text;

	(void)state;
	/* 8 methods x 100 statuses: more pairs than slots; the rest lands in "other". */
	for (int meth = 0; meth < HTTP_M_COUNT; meth++)
		for (int s = 200; s < 300; s++)
			metrics_observe(m, (enum http_method_idx)meth, s, 1);
	assert_int_equal(atomic_load(&m->overflow), HTTP_M_COUNT * 100 - HTTP_STATUS_SLOTS);
	r.paths = &path;
	r.npaths = 1;
	r.unmatched = calloc(1, sizeof(*r.unmatched));
	arena_init(&a, 0);
	text = http_metrics_render(&r, 0, 0, NULL, &a, &len);
	assert_non_null(strstr(
	    text,
	    "roster_http_requests_total{route=\"/x\",method=\"other\",status=\"other\"} 736\n"));
	arena_release(&a);
	free(r.unmatched);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_status_table_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
