/* Internals shared by the files of src/http/ (SQLite's btreeInt.h pattern): the router's
 * tables, per-route metrics, path decoding, the per-request state and the helpers the
 * server glue uses. Adapters include http.h only; nothing outside src/http/ (and its unit
 * tests and fuzz targets) includes this header. */
#ifndef ROSTER_HTTP_HTTP_INT_H
#define ROSTER_HTTP_HTTP_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "http/http.h"

/* ---- methods: a fixed list so metric labels cannot be grown by clients */
enum http_method_idx {
	HTTP_M_GET = 0,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_PATCH,
	HTTP_M_DELETE,
	HTTP_M_OPTIONS,
	HTTP_M_OTHER,
	HTTP_M_COUNT
};

/* Index of a method name; HTTP_M_OTHER for anything not in the list. Cannot fail. */
enum http_method_idx http_method_index(const char *method);
const char *http_method_name(enum http_method_idx m);

/* ---- metrics (metrics.c). Preallocated per route path; lock-free on the hot path. */
#define HTTP_HIST_BUCKETS 14 /* 13 bounds from 0.5 ms to 5 s, then +Inf */
#define HTTP_STATUS_SLOTS 64 /* (method, status) pairs seen per path; power of two */

struct http_status_slot {
	atomic_uint key; /* 0 empty, else ((method + 1) << 10) | status */
	atomic_ullong count;
};

struct http_route_metrics {
	struct http_status_slot slots[HTTP_STATUS_SLOTS];
	atomic_ullong overflow;			  /* pairs that found no free slot */
	atomic_ullong buckets[HTTP_HIST_BUCKETS]; /* not cumulative; last is +Inf */
	atomic_ullong sum_ns;
};

/* Counts one finished request. Thread-safe, wait-free apart from a CAS when a new
 * (method, status) pair appears for the first time. */
void metrics_observe(struct http_route_metrics *m, enum http_method_idx method, int status,
		     int64_t duration_ns);

/* ---- router (router.c) */
struct http_route_method {
	enum http_method_idx midx;
	char *method; /* as registered, e.g. "GET" */
	unsigned flags;
	size_t body_max; /* 0: the server's body_max */
	http_handler_fn fn;
	void *app;
};

#define HTTP_ROUTE_METHODS_MAX 8

struct http_route_path {
	char *pattern;			  /* as registered: the metrics and log label */
	char *segs[RS_PATH_SEGMENTS_MAX]; /* literal text, or the parameter name */
	bool is_param[RS_PATH_SEGMENTS_MAX];
	int nsegs;
	uint32_t score; /* one bit per literal segment, first segment highest */
	struct http_route_method methods[HTTP_ROUTE_METHODS_MAX];
	int nmethods;
	struct http_route_metrics *metrics;
};

struct http_router {
	struct http_route_path *paths;
	int npaths;
	int cap;
	struct http_route_metrics *unmatched; /* route="unmatched" */
};

/* A request path split into percent-decoded segments (path.c). */
struct http_path {
	const char *segs[RS_PATH_SEGMENTS_MAX];
	int nsegs;
	bool too_many;	    /* more segments than any route can have: cannot match */
	const char *joined; /* decoded segments joined by '/', for req->path and logs */
};

/* Decodes raw (the request target up to, not including, '?'; len bytes; need not be
 * NUL-terminated) into arena-allocated segments. A trailing slash is dropped ("/a/" is
 * "/a"); empty inner segments are kept (and match no route). Fails with RS_E_INVALID
 * "request.invalid_path" when raw does not start with '/', holds a bad or NUL escape
 * (%00), or a raw control byte; RS_E_INTERNAL when the arena is full. */
enum rs_status http_path_decode(struct arena *a, const char *raw, size_t len, struct http_path *out,
				struct rs_err *err);

enum http_match_result { HTTP_MATCH_OK, HTTP_MATCH_NOT_FOUND, HTTP_MATCH_METHOD };

struct http_match {
	enum http_match_result result;
	const struct http_route_path *path;	/* best matching path; NULL when NOT_FOUND */
	const struct http_route_method *method; /* only for HTTP_MATCH_OK */
	char allow[96];				/* for HTTP_MATCH_METHOD: "GET, HEAD, POST" */
};

/* Finds the route for (method, path). Among patterns that match, literal segments win
 * over parameters, leftmost first; HEAD falls back to GET. When some pattern matches the
 * path but none has the method, result is HTTP_MATCH_METHOD with the union of their
 * methods in allow. Parameters are written to req->params (values borrowed from p).
 * Read-only on r: safe from many threads once registration is over. Cannot fail. */
void http_router_match(const struct http_router *r, const char *method, const struct http_path *p,
		       struct http_req *req, struct http_match *out);

/* Registers /healthz, /readyz and /metrics (ops.c); called by http_router_new(). */
enum rs_status http_ops_register(struct http_router *r, struct rs_err *err);

/* ---- request helpers (request.c) */
/* True for 1..RS_REQUEST_ID_MAX chars of [A-Za-z0-9._-]. */
bool http_request_id_valid(const char *s);
/* True for application/json or application/<x>+json, parameters allowed, any case. */
bool http_content_type_is_json(const char *ct);

/* ---- problem rendering with an explicit status (problem.c): 405, 414 and 415 have no
 * rs_status of their own. */
void http_problem_status(struct http_req *req, struct http_resp *resp, int status,
			 const struct rs_err *err);
/* Reason phrase for an HTTP status ("Not Found"); "Unknown" for others. Cannot fail. */
const char *http_reason(int status);

/* ---- the server and one request's state (server.c) */
struct http_server;

struct http_conn_state {
	struct http_req req; /* first member: handlers see &st->req */
	struct http_resp resp;
	struct arena arena;
	struct http_server *server;
	int64_t t0_ns;
	const char *raw_uri; /* arena copy of the request target, query string included */
	size_t raw_uri_len;
	const struct http_route_path *path; /* metrics label; NULL = unmatched */
	const struct http_route_method *method;
	enum http_method_idx midx;
	bool started;	/* the access handler ran once (headers are in) */
	bool responded; /* a response was queued */
	/* An answer decided before the body is read; the body is drained, then this is sent. */
	int pending_status;
	struct rs_err pending;
	/* body */
	char *body;
	size_t body_len;
	size_t body_cap;
	size_t body_seen; /* bytes received, kept or not */
	bool too_large;
};

/* Renders the Prometheus text of the router's routes, the in-flight gauge, the start time
 * and hooks->metrics_extra into the arena. Returns NULL when the arena is full. */
char *http_metrics_render(const struct http_router *r, long long in_flight, double start_time_s,
			  const struct http_hooks *hooks, struct arena *a, size_t *len);

/* Parses "IPV4:PORT", "localhost:PORT" or "[IPV6]:PORT" (port 0-65535) into ss. */
enum rs_status http_listen_parse(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen,
				 struct rs_err *err);

/* What ops.c needs from the running server. */
long long http_server_in_flight(const struct http_server *s);
double http_server_start_time(const struct http_server *s);
const struct http_hooks *http_server_hooks(const struct http_server *s);
const struct http_router *http_server_router(const struct http_server *s);

#endif
