/* The HTTP layer: libmicrohttpd glue, router, per-request arena, limits, problem+json,
 * request ids, access logs and metrics. Adapters (api/rest, later scim, graphql, qradar) see
 * only this header: they register handlers and fill a struct http_resp. Nothing here knows
 * the domain; nothing in the core knows this header. */
#ifndef ROSTER_HTTP_HTTP_H
#define ROSTER_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"
#include "util/err.h"
#include "util/limits.h"

struct http_router;
struct http_server;

struct http_param {
	const char *name;
	const char *value; /* percent-decoded */
};

struct http_req {
	struct arena *arena; /* dies when the request completes */
	const char *method;  /* "GET", "POST", … */
	const char *path;    /* decoded path, no query string */
	/* The request target exactly as sent (raw path and query string): what a signed request
	 * signs (api/rest/api_users.c). */
	const char *target;
	const char *route; /* the matched pattern, e.g. "/api/v1/tenants/{tenant}"; metrics label */
	struct http_param params[RS_PATH_SEGMENTS_MAX]; /* path parameters, by pattern name */
	int nparams;
	const char *body; /* NUL-terminated; NULL when the request had no body */
	size_t body_len;
	const char *request_id; /* echoed X-Request-Id if valid, else generated (UUIDv7) */
	const char *source_ip;	/* textual peer address */
	bool tls;		/* served over TLS (cookies get Secure) */
	void *conn;		/* opaque: libmicrohttpd connection */
	/* Routes flagged HTTP_ROUTE_OWN_413 only: the body was over the route's limit and was
	 * dropped (body is NULL); the handler answers 413 in its own format. */
	bool body_too_large;
	/* An in-process request (conn NULL, built by an adapter that dispatches to its own
	 * handlers, as api/scim/bulk.c does): http_header() reads these instead. Borrowed. */
	const struct http_param *headers;
	int nheaders;
};

#define HTTP_RESP_HEADERS_MAX 16

struct http_resp {
	int status;
	const char *content_type; /* default "application/json" */
	const char *body;	  /* arena- or static-owned */
	size_t body_len;
	const char *hnames[HTTP_RESP_HEADERS_MAX];
	const char *hvalues[HTTP_RESP_HEADERS_MAX];
	int nheaders;
};

/* A handler fills resp; it never writes to the socket itself. app is the pointer given at
 * registration (the REST adapter passes its struct core). */
typedef void (*http_handler_fn)(struct http_req *req, struct http_resp *resp, void *app);

enum http_route_flags {
	HTTP_ROUTE_JSON_BODY = 1 << 0, /* a non-empty body must be application/json or */
				       /* application/<x>+json, else 415 before the handler */
	HTTP_ROUTE_OWN_413 = 1 << 1,   /* a body over the limit reaches the handler as */
				       /* req->body_too_large instead of a problem+json 413 */
};

/* A new router with /healthz, /readyz and /metrics already registered (adding them again is
 * RS_E_INVALID). */
struct http_router *http_router_new(void);
void http_router_free(struct http_router *r);
/* pattern: "/api/v1/tenants/{tenant}/users/{id}"; a segment in braces matches one non-empty
 * path segment and is available through http_param(). Literal segments win over parameters.
 * Returns RS_E_INVALID for malformed patterns or too many routes. Not thread-safe: register
 * everything before http_server_start(). */
enum rs_status http_route_add(struct http_router *r, const char *method, const char *pattern,
			      unsigned flags, http_handler_fn fn, void *app, struct rs_err *err);
/* The same with a body limit of the route's own (body_max bytes, 0: the server's), above or
 * below the server's: SCIM's /Bulk advertises its maxPayloadSize and must accept exactly that
 * much whatever the server's default is. */
enum rs_status http_route_add_sized(struct http_router *r, const char *method, const char *pattern,
				    unsigned flags, size_t body_max, http_handler_fn fn, void *app,
				    struct rs_err *err);

/* Request accessors. Results are borrowed (request lifetime); NULL when absent. An
 * in-process request (conn NULL) has only the headers it was given and no query. */
const char *http_param(const struct http_req *req, const char *name);
const char *http_query(const struct http_req *req, const char *name);
const char *http_header(const struct http_req *req, const char *name);
/* The version an If-Match header names (W/"n" or "n"): 0 when absent or "*", -1 when it is
 * malformed (it can never match). */
int64_t http_if_match(const struct http_req *req);
/* A parameter of an application/x-www-form-urlencoded body, decoded by libmicrohttpd's post
 * processor: returns how many times it occurs (*value set when exactly once), -1 when the
 * body can't be parsed as a form. */
int http_form(struct http_req *req, const char *name, const char **value);
/* HTTP Basic credentials (libmicrohttpd decodes them), copied into the request's arena. */
bool http_basic_auth(struct http_req *req, const char **user, const char **password);
/* A cookie of the request, parsed by libmicrohttpd; NULL when absent. */
const char *http_cookie(const struct http_req *req, const char *name);
/* Calls fn for every query argument in order; stops when fn returns false. */
void http_query_each(const struct http_req *req,
		     bool (*fn)(const char *key, const char *value, void *ctx), void *ctx);

/* Response helpers. Header names and values are copied into the request arena; false when the
 * arena or the header table is full, or when a name or value holds CR, LF or another control
 * character (no response splitting). http_resp_json borrows body: it must outlive the request
 * (arena or static storage). */
bool http_resp_header(struct http_req *req, struct http_resp *resp, const char *name,
		      const char *value);
void http_resp_json(struct http_resp *resp, int status, const char *body, size_t len);
/* Renders err as application/problem+json (RFC 9457) with the status mapped from err->status
 * (the one mapping table of this surface), type "urn:roster:problem:<code>", title, detail,
 * code, instance (= request id) and field when set; adds Retry-After for RS_E_UNAVAILABLE. */
void http_problem(struct http_req *req, struct http_resp *resp, const struct rs_err *err);
/* The HTTP status the problem mapping gives a status. */
int http_status_of(enum rs_status s);

struct http_server_config {
	const char *listen;	 /* "ADDR:PORT", "[v6]:PORT"; port 0 picks a free one */
	unsigned threads;	 /* worker threads in the pool */
	size_t body_max;	 /* request bodies above this get 413 */
	unsigned conn_timeout_s; /* idle keep-alive connections are closed after this; 0 = 60 */
};

/* Hooks the server calls for /readyz and /metrics: ready() says whether the app can serve;
 * metrics_extra() may append Prometheus text (e.g. store error counters) to buf (cap bytes),
 * returning the bytes written. Either may be NULL. */
struct http_hooks {
	bool (*ready)(void *app);
	size_t (*metrics_extra)(void *app, char *buf, size_t cap);
	void *app;
};

/* Creates and starts listening (libmicrohttpd, epoll, a thread pool). /healthz, /readyz and
 * /metrics are served by the layer itself. The router is borrowed and must outlive the server. */
enum rs_status http_server_start(const struct http_server_config *cfg, struct http_router *r,
				 const struct http_hooks *hooks, struct http_server **out,
				 struct rs_err *err);
/* The port actually bound (useful with port 0). */
unsigned http_server_port(const struct http_server *s);
/* Graceful stop: stops accepting, lets requests in flight finish (bounded by timeout_s), then
 * frees everything. NULL is a no-op. */
void http_server_stop(struct http_server *s, unsigned timeout_s);

#endif
