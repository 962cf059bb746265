/* The real server on a loopback port 0, spoken to over plain sockets: handlers, problems,
 * limits (413 with Content-Length and chunked, 414, 415), request ids, the ops endpoints,
 * query arguments and a graceful stop that lets a slow handler finish. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http/http.h"
#include "util/log.h"

#define BODY_MAX 1024

static atomic_bool ready_flag;
static atomic_int slow_started;

/* ---- handlers */

static void h_hello(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char body[] = "{\"hello\":\"world\"}";

	(void)app;
	http_resp_json(resp, 200, body, sizeof(body) - 1);
	http_resp_header(req, resp, "X-Test", "yes");
}

static void h_echo(struct http_req *req, struct http_resp *resp, void *app)
{
	(void)app;
	if (!req->body) {
		http_resp_json(resp, 200, "{\"empty\":true}", 14);
		return;
	}
	http_resp_json(resp, 200, req->body, req->body_len);
}

/* A route with a body limit of its own that answers its own 413. */
static void h_own(struct http_req *req, struct http_resp *resp, void *app)
{
	(void)app;
	if (req->body_too_large) {
		assert_null(req->body);
		http_resp_json(resp, 413, "{\"own\":true}", 12);
		return;
	}
	h_echo(req, resp, app);
}

static void h_slow(struct http_req *req, struct http_resp *resp, void *app)
{
	const struct timespec t = {0, 400 * 1000 * 1000};

	(void)req;
	(void)app;
	atomic_fetch_add(&slow_started, 1);
	nanosleep(&t, NULL);
	http_resp_json(resp, 200, "{\"slow\":true}", 13);
}

static bool count_arg(const char *key, const char *value, void *ctx)
{
	(void)key;
	(void)value;
	(*(int *)ctx)++;
	return true;
}

static void h_query(struct http_req *req, struct http_resp *resp, void *app)
{
	const char *a = http_query(req, "a");
	const char *flag = http_query(req, "flag");
	int n = 0;

	(void)app;
	http_query_each(req, count_arg, &n);
	resp->body =
	    arena_printf(req->arena, "{\"a\":\"%s\",\"flag\":%s,\"n\":%d,\"ua\":\"%s\"}",
			 a ? a : "", flag ? "true" : "false", n,
			 http_header(req, "user-agent") ? http_header(req, "user-agent") : "");
	http_resp_json(resp, 200, resp->body, strlen(resp->body));
}

static void h_unavailable(struct http_req *req, struct http_resp *resp, void *app)
{
	struct rs_err err;

	(void)app;
	rs_fail(&err, RS_E_UNAVAILABLE, "store.unavailable", NULL, "the store is busy");
	http_problem(req, resp, &err);
}

static void h_param(struct http_req *req, struct http_resp *resp, void *app)
{
	(void)app;
	resp->body = arena_printf(req->arena, "{\"id\":\"%s\",\"route\":\"%s\"}",
				  http_param(req, "id"), req->route);
	http_resp_json(resp, 200, resp->body, strlen(resp->body));
}

static void h_nothing(struct http_req *req, struct http_resp *resp, void *app)
{
	(void)req;
	(void)resp;
	(void)app;
}

static bool hook_ready(void *app)
{
	(void)app;
	return atomic_load(&ready_flag);
}

static size_t hook_extra(void *app, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "roster_store_errors_total 0\n");

	(void)app;
	return n < 0 ? 0 : (size_t)n;
}

/* ---- a tiny HTTP/1.1 client */

struct reply {
	int status;
	char head[8192];
	char *body;
	size_t body_len;
	char raw[65536];
	size_t raw_len;
};

static int connect_port(unsigned port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {10, 0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return; /* the server may close early (413); the reply still tells */
		s += w;
		n -= (size_t)w;
	}
}

/* Reads until EOF (requests carry Connection: close) and splits the reply. */
static void read_reply(int fd, struct reply *r)
{
	char *sep;

	memset(r, 0, sizeof(*r));
	for (;;) {
		ssize_t n = recv(fd, r->raw + r->raw_len, sizeof(r->raw) - 1 - r->raw_len, 0);

		if (n <= 0)
			break;
		r->raw_len += (size_t)n;
	}
	r->raw[r->raw_len] = '\0';
	sep = strstr(r->raw, "\r\n\r\n");
	assert_non_null(sep);
	memcpy(r->head, r->raw, (size_t)(sep - r->raw));
	r->head[sep - r->raw] = '\0';
	r->body = sep + 4;
	r->body_len = r->raw_len - (size_t)(r->body - r->raw);
	assert_int_equal(sscanf(r->raw, "HTTP/1.%*d %d", &r->status), 1);
}

static void roundtrip(unsigned port, const char *req, size_t len, struct reply *r)
{
	int fd = connect_port(port);

	assert_true(fd >= 0);
	send_all(fd, req, len);
	read_reply(fd, r);
	close(fd);
}

static void get(unsigned port, const char *method, const char *target, const char *extra,
		struct reply *r)
{
	char req[16384];
	int n =
	    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s\r\n",
		     method, target, extra ? extra : "");

	assert_true(n > 0 && (size_t)n < sizeof(req));
	roundtrip(port, req, (size_t)n, r);
}

/* Header value (case-insensitive name) copied into out; false when absent. */
static bool header(const struct reply *r, const char *name, char *out, size_t cap)
{
	const char *p = strstr(r->head, "\r\n");
	size_t nl = strlen(name);

	while (p) {
		const char *line = p + 2;
		const char *end = strstr(line, "\r\n");
		size_t ll = end ? (size_t)(end - line) : strlen(line);

		if (ll > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;

			while (*v == ' ')
				v++;
			snprintf(out, cap, "%.*s", (int)(ll - (size_t)(v - line)), v);
			return true;
		}
		p = end;
	}
	return false;
}

static void assert_header(const struct reply *r, const char *name, const char *want)
{
	char v[512];

	if (!header(r, name, v, sizeof(v)))
		fail_msg("no header %s in:\n%s", name, r->head);
	assert_string_equal(v, want);
}

static json_t *body_json(const struct reply *r)
{
	json_error_t je;
	json_t *j = json_loadb(r->body, r->body_len, 0, &je);

	if (!j)
		fail_msg("body is not JSON (%s): %.*s", je.text, (int)r->body_len, r->body);
	return j;
}

static void assert_problem(const struct reply *r, int status, const char *code)
{
	json_t *j;
	char rid[128];

	if (r->status != status)
		fail_msg("want %d, got:\n%s", status, r->raw);
	assert_header(r, "Content-Type", "application/problem+json");
	j = body_json(r);
	assert_string_equal(json_string_value(json_object_get(j, "code")), code);
	assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
	assert_true(header(r, "X-Request-Id", rid, sizeof(rid)));
	assert_string_equal(json_string_value(json_object_get(j, "instance")), rid);
	json_decref(j);
}

/* ---- fixture */

struct fixture {
	struct http_router *r;
	struct http_server *s;
	unsigned port;
};

static int setup(void **state)
{
	static struct fixture f;
	struct rs_err err;
	struct http_server_config cfg = {
	    .listen = "127.0.0.1:0",
	    .threads = 4,
	    .body_max = BODY_MAX,
	    .conn_timeout_s = 10,
	};
	struct http_hooks hooks = {.ready = hook_ready, .metrics_extra = hook_extra};

	log_set_level(LOG_ERROR); /* keep test output readable; access logs are info */
	f.r = http_router_new();
	assert_non_null(f.r);
	assert_int_equal(http_route_add(f.r, "GET", "/t/hello", 0, h_hello, NULL, &err), RS_OK);
	assert_int_equal(
	    http_route_add(f.r, "POST", "/t/echo", HTTP_ROUTE_JSON_BODY, h_echo, NULL, &err),
	    RS_OK);
	assert_int_equal(http_route_add(f.r, "POST", "/t/raw", 0, h_echo, NULL, &err), RS_OK);
	assert_int_equal(http_route_add_sized(f.r, "POST", "/t/own", HTTP_ROUTE_OWN_413,
					      4 * BODY_MAX, h_own, NULL, &err),
			 RS_OK);
	assert_int_equal(http_route_add(f.r, "GET", "/t/slow", 0, h_slow, NULL, &err), RS_OK);
	assert_int_equal(http_route_add(f.r, "GET", "/t/q", 0, h_query, NULL, &err), RS_OK);
	assert_int_equal(http_route_add(f.r, "GET", "/t/unavailable", 0, h_unavailable, NULL, &err),
			 RS_OK);
	assert_int_equal(http_route_add(f.r, "GET", "/t/nothing", 0, h_nothing, NULL, &err), RS_OK);
	assert_int_equal(http_route_add(f.r, "GET", "/api/v1/items/{id}", 0, h_param, NULL, &err),
			 RS_OK);
	assert_int_equal(
	    http_route_add(f.r, "DELETE", "/api/v1/items/{id}", 0, h_param, NULL, &err), RS_OK);
	assert_int_equal(http_server_start(&cfg, f.r, &hooks, &f.s, &err), RS_OK);
	f.port = http_server_port(f.s);
	assert_true(f.port > 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_server_stop(f->s, 5);
	http_router_free(f->r);
	return 0;
}

/* ---- tests */

static void test_ok_json(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	char rid[128];

	get(f->port, "GET", "/t/hello", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Content-Type", "application/json");
	assert_header(&r, "X-Test", "yes");
	assert_header(&r, "X-Content-Type-Options", "nosniff");
	assert_true(header(&r, "X-Request-Id", rid, sizeof(rid)));
	assert_int_equal(strlen(rid), 36); /* a generated UUIDv7 */
	assert_int_equal(rid[14], '7');
	assert_false(header(&r, "Cache-Control", rid, sizeof(rid))); /* not under /api */
	assert_int_equal(r.body_len, 17);
	assert_memory_equal(r.body, "{\"hello\":\"world\"}", 17);

	get(f->port, "GET", "/t/hello/", NULL, &r); /* trailing slash */
	assert_int_equal(r.status, 200);
	get(f->port, "HEAD", "/t/hello", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
}

static void test_api_params_and_cache_control(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	json_t *j;

	get(f->port, "GET", "/api/v1/items/a%2Fb", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_header(&r, "Cache-Control", "no-store");
	j = body_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "id")), "a/b");
	assert_string_equal(json_string_value(json_object_get(j, "route")), "/api/v1/items/{id}");
	json_decref(j);
}

static void test_not_found_and_method(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	get(f->port, "GET", "/nope", NULL, &r);
	assert_problem(&r, 404, "route.not_found");
	get(f->port, "GET", "/api/v1/nope", NULL, &r);
	assert_problem(&r, 404, "route.not_found");
	assert_header(&r, "Cache-Control", "no-store");
	get(f->port, "PUT", "/api/v1/items/1", "Content-Length: 2\r\n\r\n{}", &r);
	assert_problem(&r, 405, "request.method_not_allowed");
	assert_header(&r, "Allow", "GET, HEAD, DELETE");
	get(f->port, "POST", "/healthz", "Content-Length: 0\r\n", &r);
	assert_problem(&r, 405, "request.method_not_allowed");
	assert_header(&r, "Allow", "GET, HEAD");
	get(f->port, "GET", "/t/%zz", NULL, &r);
	assert_problem(&r, 400, "request.invalid_path");
	get(f->port, "GET", "/t/a%00b", NULL, &r);
	assert_problem(&r, 400, "request.invalid_path");
}

static void test_problem_from_handler(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	get(f->port, "GET", "/t/unavailable", NULL, &r);
	assert_problem(&r, 503, "store.unavailable");
	assert_header(&r, "Retry-After", "1");
	get(f->port, "GET", "/t/nothing", NULL, &r);
	assert_problem(&r, 500, "internal");
}

static void test_too_large_content_length(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	/* Expect: 100-continue: the server answers before any body is sent. */
	get(f->port, "POST", "/t/echo",
	    "Content-Type: application/json\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n",
	    &r);
	assert_problem(&r, 413, "request.too_large");
	/* Far beyond what is worth draining: answered at once as well. */
	get(f->port, "POST", "/t/echo",
	    "Content-Type: application/json\r\nContent-Length: 999999999999\r\n", &r);
	assert_problem(&r, 413, "request.too_large");
	/* A client that sends its body straight away gets it drained, then the 413. */
	{
		char big[8192];
		int n = snprintf(big, sizeof(big),
				 "POST /t/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
				 "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n");

		memset(big + n, 'x', 5000);
		roundtrip(f->port, big, (size_t)n + 5000, &r);
		assert_problem(&r, 413, "request.too_large");
	}
	/* Exactly the limit is fine. */
	{
		char req[4096];
		char body[BODY_MAX + 1];
		int n;

		memset(body, ' ', BODY_MAX);
		body[0] = '[';
		body[BODY_MAX - 1] = ']';
		body[BODY_MAX] = '\0';
		n = snprintf(req, sizeof(req),
			     "POST /t/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
			     "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			     BODY_MAX, body);
		roundtrip(f->port, req, (size_t)n, &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.body_len, BODY_MAX);
	}
}

static void test_route_body_limit(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	char req[4 * BODY_MAX + 512];
	int n;

	/* Above the server's limit, within the route's: read and handled. */
	n = snprintf(req, sizeof(req),
		     "POST /t/own HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
		     "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		     3 * BODY_MAX);
	memset(req + n, 'x', 3 * BODY_MAX);
	roundtrip(f->port, req, (size_t)n + 3 * BODY_MAX, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 3 * BODY_MAX);
	/* Above the route's: the handler answers the 413, drained or announced. */
	n = snprintf(req, sizeof(req),
		     "POST /t/own HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
		     "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		     4 * BODY_MAX + 1);
	memset(req + n, 'x', sizeof(req) - (size_t)n);
	roundtrip(f->port, req, sizeof(req), &r);
	assert_int_equal(r.status, 413);
	assert_string_equal(r.body, "{\"own\":true}");
	get(f->port, "POST", "/t/own",
	    "Content-Type: application/json\r\nContent-Length: 99999\r\nExpect: 100-continue\r\n",
	    &r);
	assert_int_equal(r.status, 413);
	assert_string_equal(r.body, "{\"own\":true}");
	/* Other routes keep the server's limit. */
	get(f->port, "POST", "/t/echo",
	    "Content-Type: application/json\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n",
	    &r);
	assert_problem(&r, 413, "request.too_large");
}

static void test_too_large_chunked(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	char req[16384];
	size_t o;
	char chunk[512];

	o = (size_t)snprintf(
	    req, sizeof(req),
	    "POST /t/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
	    "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 6; i++) { /* 3 KiB > 1 KiB */
		o += (size_t)snprintf(req + o, sizeof(req) - o, "%zx\r\n", sizeof(chunk));
		memcpy(req + o, chunk, sizeof(chunk));
		o += sizeof(chunk);
		memcpy(req + o, "\r\n", 2);
		o += 2;
	}
	memcpy(req + o, "0\r\n\r\n", 5);
	o += 5;
	roundtrip(f->port, req, o, &r);
	assert_problem(&r, 413, "request.too_large");

	/* A small chunked body reaches the handler whole. */
	o = (size_t)snprintf(req, sizeof(req),
			     "POST /t/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
			     "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
			     "4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n");
	roundtrip(f->port, req, o, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 7);
	assert_memory_equal(r.body, "{\"a\":1}", 7);
}

static void test_content_type(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	get(f->port, "POST", "/t/echo", "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}",
	    &r);
	assert_problem(&r, 415, "request.unsupported_media_type");
	get(f->port, "POST", "/t/echo", "Content-Length: 2\r\n\r\n{}", &r);
	assert_problem(&r, 415, "request.unsupported_media_type");
	get(f->port, "POST", "/t/echo",
	    "Content-Type: application/merge-patch+json; charset=utf-8\r\nContent-Length: "
	    "2\r\n\r\n{}",
	    &r);
	assert_int_equal(r.status, 200);
	/* An empty body needs no content type. */
	get(f->port, "POST", "/t/echo", "Content-Length: 0\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "{\"empty\":true}", 14);
	/* Routes without the flag take anything. */
	get(f->port, "POST", "/t/raw", "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi",
	    &r);
	assert_int_equal(r.status, 200);
}

static void test_request_id(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	char rid[128];

	get(f->port, "GET", "/t/hello", "X-Request-Id: abc-123.X_y\r\n", &r);
	assert_header(&r, "X-Request-Id", "abc-123.X_y");
	get(f->port, "GET", "/nope", "X-Request-Id: mine-1\r\n", &r);
	assert_problem(&r, 404, "route.not_found"); /* instance == X-Request-Id */
	assert_header(&r, "X-Request-Id", "mine-1");
	get(f->port, "GET", "/t/hello", "X-Request-Id: has space\r\n", &r);
	assert_true(header(&r, "X-Request-Id", rid, sizeof(rid)));
	assert_string_not_equal(rid, "has space");
	assert_int_equal(strlen(rid), 36);
	get(f->port, "GET", "/t/hello",
	    "X-Request-Id: 01234567890123456789012345678901234567890123456789012345678901234\r\n",
	    &r);
	assert_true(header(&r, "X-Request-Id", rid, sizeof(rid)));
	assert_int_equal(strlen(rid), 36);
}

static void test_ops(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	char ct[128];

	get(f->port, "GET", "/healthz", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "{\"status\":\"ok\"}", r.body_len);
	atomic_store(&ready_flag, false);
	get(f->port, "GET", "/readyz", NULL, &r);
	assert_int_equal(r.status, 503);
	assert_memory_equal(r.body, "{\"status\":\"starting\"}", r.body_len);
	atomic_store(&ready_flag, true);
	get(f->port, "GET", "/readyz", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "{\"status\":\"ready\"}", r.body_len);

	get(f->port, "GET", "/t/hello", NULL, &r);
	get(f->port, "GET", "/metrics", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(header(&r, "Content-Type", ct, sizeof(ct)));
	assert_true(strncmp(ct, "text/plain", 10) == 0);
	assert_non_null(
	    strstr(r.body,
		   "roster_http_requests_total{route=\"/t/hello\",method=\"GET\",status=\"200\"}"));
	assert_non_null(strstr(
	    r.body,
	    "roster_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1\n"));
	assert_non_null(strstr(
	    r.body,
	    "roster_http_requests_total{route=\"/readyz\",method=\"GET\",status=\"503\"} 1\n"));
	assert_non_null(strstr(
	    r.body, "roster_http_request_duration_seconds_bucket{route=\"/t/hello\",le=\"+Inf\"}"));
	/* the /metrics request itself is in flight while it renders */
	assert_non_null(strstr(r.body, "roster_http_requests_in_flight 1\n"));
	assert_non_null(strstr(r.body, "roster_process_start_time_seconds "));
	assert_non_null(strstr(r.body, "roster_store_errors_total 0\n"));
}

static void test_query(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	json_t *j;
	char target[1024];
	size_t o;

	get(f->port, "GET", "/t/q?a=x%20y&flag&b=2", "User-Agent: tester\r\n", &r);
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	assert_string_equal(json_string_value(json_object_get(j, "a")), "x y");
	assert_true(json_is_true(json_object_get(j, "flag")));
	assert_int_equal(json_integer_value(json_object_get(j, "n")), 3);
	assert_string_equal(json_string_value(json_object_get(j, "ua")), "tester");
	json_decref(j);

	o = (size_t)snprintf(target, sizeof(target), "/t/q?");
	for (int i = 0; i <= RS_QUERY_PARAMS_MAX; i++)
		o += (size_t)snprintf(target + o, sizeof(target) - o, "p%d=1&", i);
	get(f->port, "GET", target, NULL, &r);
	assert_problem(&r, 400, "request.too_many_parameters");
}

static void test_uri_too_long(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	char target[RS_URL_MAX + 64];

	memset(target, 'a', sizeof(target) - 1);
	target[0] = '/';
	target[sizeof(target) - 1] = '\0';
	get(f->port, "GET", target, NULL, &r);
	assert_problem(&r, 414, "request.uri_too_long");
}

static void test_keep_alive(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	const char req[] = "GET /t/hello HTTP/1.1\r\nHost: t\r\n\r\n"
			   "GET /t/hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	int fd = connect_port(f->port);

	send_all(fd, req, sizeof(req) - 1);
	read_reply(fd, &r);
	close(fd);
	/* Two answers on one connection. */
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "HTTP/1.1 200"));
}

/* ---- concurrency: counters stay exact under parallel load */

#define PAR_THREADS 8
#define PAR_REQS 40

static void *par_thread(void *arg)
{
	unsigned port = *(unsigned *)arg;
	struct reply *r = malloc(sizeof(*r));

	for (int i = 0; r && i < PAR_REQS; i++) {
		get(port, "GET", "/api/v1/items/par", NULL, r);
		if (r->status != 200)
			abort();
	}
	free(r);
	return NULL;
}

static void test_parallel_counts(void **state)
{
	struct fixture *f = *state;
	pthread_t th[PAR_THREADS];
	struct reply r;
	char want[160];

	for (int i = 0; i < PAR_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, par_thread, &f->port), 0);
	for (int i = 0; i < PAR_THREADS; i++)
		pthread_join(th[i], NULL);
	get(f->port, "GET", "/metrics", NULL, &r);
	snprintf(want, sizeof(want),
		 "roster_http_requests_total{route=\"/api/v1/items/"
		 "{id}\",method=\"GET\",status=\"200\"} %d\n",
		 PAR_THREADS * PAR_REQS + 1 /* test_api_params_and_cache_control */);
	if (!strstr(r.body, want))
		fail_msg("no '%s' in:\n%s", want, r.body);
}

/* ---- graceful stop */

struct slow_client {
	unsigned port;
	struct reply r;
};

static void *slow_thread(void *arg)
{
	struct slow_client *c = arg;
	const char req[] = "GET /t/slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	int fd = connect_port(c->port);

	if (fd < 0)
		return NULL;
	send_all(fd, req, sizeof(req) - 1);
	read_reply(fd, &c->r);
	close(fd);
	return NULL;
}

static void test_graceful_stop(void **state)
{
	struct http_router *r = http_router_new();
	struct http_server *s;
	struct http_server_config cfg = {.listen = "127.0.0.1:0", .threads = 2};
	struct slow_client c = {0};
	pthread_t th;
	struct rs_err err;
	const struct timespec tick = {0, 5 * 1000 * 1000};
	int fd;

	(void)state;
	atomic_store(&slow_started, 0);
	assert_int_equal(http_route_add(r, "GET", "/t/slow", 0, h_slow, NULL, &err), RS_OK);
	assert_int_equal(http_server_start(&cfg, r, NULL, &s, &err), RS_OK);
	c.port = http_server_port(s);
	assert_int_equal(pthread_create(&th, NULL, slow_thread, &c), 0);
	for (int i = 0; i < 1000 && !atomic_load(&slow_started); i++)
		nanosleep(&tick, NULL);
	assert_int_equal(atomic_load(&slow_started), 1);
	http_server_stop(s, 5); /* returns only once the slow answer went out */
	pthread_join(th, NULL);
	assert_int_equal(c.r.status, 200);
	assert_memory_equal(c.r.body, "{\"slow\":true}", 13);
	assert_header(&c.r, "Connection", "close");
	/* Nothing listens any more. */
	fd = connect_port(c.port);
	assert_true(fd < 0);
	http_router_free(r);
	http_server_stop(NULL, 1);
}

struct upload_client {
	unsigned port;
	atomic_bool sent_head;
	struct reply r;
};

static void *upload_thread(void *arg)
{
	struct upload_client *c = arg;
	const char head[] = "POST /t/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
			    "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":";
	const struct timespec pause = {0, 300 * 1000 * 1000};
	int fd = connect_port(c->port);

	if (fd < 0)
		return NULL;
	send_all(fd, head, sizeof(head) - 1);
	atomic_store(&c->sent_head, true);
	nanosleep(&pause, NULL); /* the stop begins while the body is half sent */
	send_all(fd, "\"xyz\"}", 6);
	read_reply(fd, &c->r);
	close(fd);
	return NULL;
}

/* As the e2e SIGTERM test: headers are in, the body is not; the request still completes. */
static void test_graceful_stop_mid_upload(void **state)
{
	struct http_router *r = http_router_new();
	struct http_server *s;
	struct http_server_config cfg = {.listen = "127.0.0.1:0", .threads = 2};
	struct upload_client c = {0};
	pthread_t th;
	struct rs_err err;
	const struct timespec tick = {0, 50 * 1000 * 1000};

	(void)state;
	assert_int_equal(
	    http_route_add(r, "POST", "/t/echo", HTTP_ROUTE_JSON_BODY, h_echo, NULL, &err), RS_OK);
	assert_int_equal(http_server_start(&cfg, r, NULL, &s, &err), RS_OK);
	c.port = http_server_port(s);
	assert_int_equal(pthread_create(&th, NULL, upload_thread, &c), 0);
	while (!atomic_load(&c.sent_head))
		nanosleep(&tick, NULL);
	nanosleep(&tick, NULL);
	http_server_stop(s, 5);
	pthread_join(th, NULL);
	assert_int_equal(c.r.status, 200);
	assert_int_equal(c.r.body_len, 11);
	assert_memory_equal(c.r.body, "{\"a\":\"xyz\"}", 11);
	http_router_free(r);
}

static void test_ipv6_and_bad_listen(void **state)
{
	struct http_router *r = http_router_new();
	struct http_server *s = NULL;
	struct http_server_config cfg = {.listen = "[::1]:0", .threads = 1};
	struct rs_err err;

	(void)state;
	/* A host without IPv6 cannot bind [::1]; that is the host's business, not a failure. */
	if (http_server_start(&cfg, r, NULL, &s, &err) == RS_OK) {
		assert_true(http_server_port(s) > 0);
		http_server_stop(s, 1);
	}
	cfg.listen = "nonsense";
	assert_int_equal(http_server_start(&cfg, r, NULL, &s, &err), RS_E_INVALID);
	assert_null(s);
	http_router_free(r);
}

int main(void)
{
	const struct CMUnitTest served[] = {
	    cmocka_unit_test(test_ok_json),
	    cmocka_unit_test(test_api_params_and_cache_control),
	    cmocka_unit_test(test_not_found_and_method),
	    cmocka_unit_test(test_problem_from_handler),
	    cmocka_unit_test(test_too_large_content_length),
	    cmocka_unit_test(test_too_large_chunked),
	    cmocka_unit_test(test_route_body_limit),
	    cmocka_unit_test(test_content_type),
	    cmocka_unit_test(test_request_id),
	    cmocka_unit_test(test_ops),
	    cmocka_unit_test(test_query),
	    cmocka_unit_test(test_uri_too_long),
	    cmocka_unit_test(test_keep_alive),
	    cmocka_unit_test(test_parallel_counts),
	};
	const struct CMUnitTest own[] = {
	    cmocka_unit_test(test_graceful_stop),
	    cmocka_unit_test(test_graceful_stop_mid_upload),
	    cmocka_unit_test(test_ipv6_and_bad_listen),
	};
	int fails = cmocka_run_group_tests_name("served", served, setup, teardown);

	return fails + cmocka_run_group_tests_name("own_server", own, NULL, NULL);
}
