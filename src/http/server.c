/* libmicrohttpd glue: the daemon, one request's life (state, body, limits, dispatch,
 * response) and the graceful stop. Handlers run on libmicrohttpd's pool threads and may
 * block (a write waits for the store's group commit), which is why the pool is larger than
 * the number of cores. Each request's state is touched by one thread at a time: MHD calls
 * a connection's callbacks from the worker that owns the connection. */
#include "http/http_int.h"

#include <arpa/inet.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/uuid.h"

#define HTTP_THREADS_DEFAULT 32
#define HTTP_CONN_LIMIT 4096
#define HTTP_CONN_TIMEOUT_DEFAULT 60
/* Past the body limit the rest of a body is read and thrown away, so the client gets its
 * 413 instead of a reset; past this much more, the connection is simply closed. */
#define HTTP_DRAIN_MAX (8u * 1024 * 1024)
/* libmicrohttpd keeps request line and headers in a per-connection pool; it must hold an
 * RS_URL_MAX target plus ordinary headers so that our 414 answers, not MHD's own. */
#define HTTP_CONN_MEMORY (64 * 1024)

struct http_server {
	struct MHD_Daemon *d;
	struct http_router *router;
	struct http_hooks hooks;
	size_t body_max;
	unsigned port;
	double start_time_s;
	atomic_llong in_flight;
	atomic_bool stopping;
};

/* The process start, taken when the first server starts (close enough: the server starts
 * within milliseconds of main()). */
static _Atomic double process_start_s;

long long http_server_in_flight(const struct http_server *s)
{
	return atomic_load(&s->in_flight);
}

double http_server_start_time(const struct http_server *s)
{
	return s->start_time_s;
}

const struct http_hooks *http_server_hooks(const struct http_server *s)
{
	return &s->hooks;
}

const struct http_router *http_server_router(const struct http_server *s)
{
	return s->router;
}

unsigned http_server_port(const struct http_server *s)
{
	return s ? s->port : 0;
}

/* ---- request state */

static struct http_conn_state *state_new(struct http_server *s, const char *uri)
{
	struct http_conn_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	arena_init(&st->arena, 0);
	st->req.arena = &st->arena;
	st->server = s;
	st->t0_ns = time_mono_ns();
	st->raw_uri_len = uri ? strlen(uri) : 0;
	/* The raw target is kept only up to the limit; longer ones are answered 414. */
	st->raw_uri = arena_strndup(&st->arena, uri ? uri : "",
				    st->raw_uri_len > RS_URL_MAX ? RS_URL_MAX : st->raw_uri_len);
	if (!st->raw_uri) {
		arena_release(&st->arena);
		free(st);
		return NULL;
	}
	atomic_fetch_add(&s->in_flight, 1);
	return st;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)conn;
	/* Called with the full target (query included) before MHD unescapes anything: the
	 * router decodes segments itself, so "%2F" cannot turn into a separator. A NULL
	 * return is handled in on_access. */
	return state_new(cls, uri);
}

static void pend(struct http_conn_state *st, int status, enum rs_status rs, const char *code,
		 const char *msg)
{
	if (st->pending_status)
		return; /* the first problem found is the one reported */
	st->pending_status = status;
	rs_fail(&st->pending, rs, code, NULL, "%s", msg);
}

static void set_source_ip(struct http_conn_state *st, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char buf[INET6_ADDRSTRLEN] = "";

	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET,
				  &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
				  sizeof(buf));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
				  sizeof(buf));
	}
	st->req.source_ip = arena_strdup(&st->arena, buf);
}

static void set_request_id(struct http_conn_state *st, struct MHD_Connection *conn)
{
	const char *rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
	char buf[UUID_STR_LEN];

	if (http_request_id_valid(rid)) {
		st->req.request_id = arena_strdup(&st->arena, rid);
		return;
	}
	if (!uuid7_new(time_now_ms(), buf)) {
		/* Without randomness an id need only be unique in this process's logs. */
		static atomic_ullong seq;

		snprintf(buf, sizeof(buf), "req-%llu", atomic_fetch_add(&seq, 1) + 1);
	}
	st->req.request_id = arena_strdup(&st->arena, buf);
}

static unsigned count_args(struct MHD_Connection *conn)
{
	int n = MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);

	return n > 0 ? (unsigned)n : 0;
}

/* The body limit of the request's route (its own, else the server's). */
static size_t body_limit(const struct http_conn_state *st)
{
	return st->method && st->method->body_max ? st->method->body_max : st->server->body_max;
}

/* First call: headers are in, no body yet. Decides everything that does not need the
 * body. Returns false when the answer must go out now (before any body is read). */
static bool request_begin(struct http_conn_state *st, struct MHD_Connection *conn,
			  const char *method)
{
	struct http_server *s = st->server;
	struct http_path path;
	struct http_match m;
	struct rs_err err;
	const char *q, *cl;

	st->req.conn = conn;
	st->req.method = arena_strdup(&st->arena, method ? method : "");
	st->midx = http_method_index(method);
	set_request_id(st, conn);
	set_source_ip(st, conn);
	if (!st->req.method || !st->req.request_id || !st->req.source_ip) {
		pend(st, 500, RS_E_INTERNAL, "request.out_of_memory", "out of memory");
		return true;
	}
	if (st->raw_uri_len > RS_URL_MAX) {
		pend(st, 414, RS_E_INVALID, "request.uri_too_long",
		     "the request target is longer than the limit");
		return false;
	}
	/* Path and route first: even a request refused for its size is logged and counted
	 * under its route. */
	st->req.target = st->raw_uri;
	q = memchr(st->raw_uri, '?', st->raw_uri_len);
	if (http_path_decode(&st->arena, st->raw_uri,
			     q ? (size_t)(q - st->raw_uri) : st->raw_uri_len, &path,
			     &err) != RS_OK) {
		pend(st, http_status_of(err.status), err.status, err.code, err.msg);
	} else {
		st->req.path = path.joined;
		http_router_match(s->router, st->req.method, &path, &st->req, &m);
		switch (m.result) {
		case HTTP_MATCH_OK:
			st->path = m.path;
			st->method = m.method;
			break;
		case HTTP_MATCH_METHOD:
			st->path = m.path;
			st->req.route = m.path->pattern;
			if (!http_resp_header(&st->req, &st->resp, "Allow", m.allow))
				pend(st, 500, RS_E_INTERNAL, "request.out_of_memory",
				     "out of memory");
			pend(st, 405, RS_E_INVALID, "request.method_not_allowed",
			     "the method is not allowed on this resource");
			break;
		case HTTP_MATCH_NOT_FOUND:
			pend(st, 404, RS_E_NOT_FOUND, "route.not_found", "no such route");
			break;
		}
	}
	if (count_args(conn) > RS_QUERY_PARAMS_MAX)
		pend(st, 400, RS_E_INVALID, "request.too_many_parameters",
		     "the query string has too many parameters");
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		long long n;

		/* MHD has already refused malformed lengths; this only reads the number. */
		size_t max = body_limit(st);

		if (str_to_ll(cl, 0, LLONG_MAX, &n) && (unsigned long long)n > max) {
			const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
									 MHD_HTTP_HEADER_EXPECT);

			st->too_large = true;
			/* A client waiting for "100 Continue" has sent no body: answer now. One
			 * that is already sending gets its body drained first when that is cheap,
			 * because closing a socket with unread data makes the kernel send a reset
			 * that can destroy the 413 before the client reads it. */
			if ((expect && strcasecmp(expect, "100-continue") == 0) ||
			    (unsigned long long)n - max > HTTP_DRAIN_MAX)
				return false;
		}
		if (!st->pending_status && str_to_ll(cl, 0, (long long)max, &n) && n > 0) {
			/* Known size: one allocation, no regrowth. */
			st->body = arena_alloc(&st->arena, (size_t)n + 1);
			st->body_cap = st->body ? (size_t)n + 1 : 0;
		}
	}
	return true;
}

/* Body bytes: kept up to body_max, counted (and dropped) beyond. False closes the
 * connection: the client keeps sending long after it was told no. */
static bool body_append(struct http_conn_state *st, const char *data, size_t n)
{
	size_t max = body_limit(st);

	st->body_seen += n;
	if (st->body_seen > max)
		st->too_large = true;
	if (st->too_large || st->pending_status)
		return st->body_seen <= max + HTTP_DRAIN_MAX;
	if (st->body_len + n + 1 > st->body_cap) {
		size_t ncap = st->body_cap ? st->body_cap : 4096;
		char *nb;

		while (ncap < st->body_len + n + 1)
			ncap *= 2;
		if (ncap > max + 1)
			ncap = max + 1;
		/* The arena cannot grow in place; the old copy dies with the request. Doubling
		 * bounds the waste to the size of the body. */
		nb = arena_alloc(&st->arena, ncap);
		if (!nb) {
			pend(st, 500, RS_E_INTERNAL, "request.out_of_memory", "out of memory");
			return true;
		}
		if (st->body_len)
			memcpy(nb, st->body, st->body_len);
		st->body = nb;
		st->body_cap = ncap;
	}
	memcpy(st->body + st->body_len, data, n);
	st->body_len += n;
	st->body[st->body_len] = '\0';
	return true;
}

static bool is_api_path(const struct http_conn_state *st)
{
	return strncmp(st->raw_uri, "/api/", 5) == 0 || strcmp(st->raw_uri, "/api") == 0;
}

static enum MHD_Result queue_response(struct http_conn_state *st, struct MHD_Connection *conn)
{
	struct http_resp *resp = &st->resp;
	struct MHD_Response *r;
	enum MHD_Result ret;
	bool ok = true;

	if (resp->status < 100 || resp->status > 599) {
		struct rs_err err;

		/* A handler that never filled the response is a bug, not a 200. */
		rs_fail(&err, RS_E_INTERNAL, "internal", NULL, "the handler produced no response");
		resp->nheaders = 0;
		http_problem(&st->req, resp, &err);
	}
	/* PERSISTENT: the body lives in the arena (or is static), which is freed only in
	 * on_completed, after MHD is done sending. */
	r = MHD_create_response_from_buffer(resp->body_len, (void *)(resp->body ? resp->body : ""),
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	for (int i = 0; i < resp->nheaders; i++)
		ok = ok && MHD_add_response_header(r, resp->hnames[i], resp->hvalues[i]) == MHD_YES;
	if (resp->status != 204 && resp->status != 304)
		ok = ok &&
		     MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					     resp->content_type ? resp->content_type
								: "application/json") == MHD_YES;
	ok = ok && MHD_add_response_header(r, "X-Request-Id", st->req.request_id) == MHD_YES;
	ok = ok && MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES;
	if (is_api_path(st))
		ok = ok && MHD_add_response_header(r, "Cache-Control", "no-store") == MHD_YES;
	/* While stopping, keep-alive connections are closed after their answer so that the
	 * in-flight count can reach zero. */
	if (atomic_load(&st->server->stopping))
		ok = ok &&
		     MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") == MHD_YES;
	if (!ok) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES)
		st->responded = true;
	return ret;
}

static void answer_problem(struct http_conn_state *st, int status, const struct rs_err *err)
{
	http_problem_status(&st->req, &st->resp, status, err);
}

static enum MHD_Result finish(struct http_conn_state *st, struct MHD_Connection *conn)
{
	struct rs_err err;

	if (st->too_large && !st->pending_status && st->method &&
	    (st->method->flags & HTTP_ROUTE_OWN_413)) {
		/* The route answers in its own format (SCIM's error schema for /Bulk). */
		st->req.body = NULL;
		st->req.body_len = 0;
		st->req.body_too_large = true;
		st->method->fn(&st->req, &st->resp, st->method->app);
	} else if (st->too_large) {
		rs_fail(&err, RS_E_TOO_LARGE, "request.too_large", NULL,
			"the request body is larger than %zu bytes", body_limit(st));
		st->resp.nheaders = 0;
		answer_problem(st, 413, &err);
	} else if (st->pending_status) {
		answer_problem(st, st->pending_status, &st->pending);
	} else if ((st->method->flags & HTTP_ROUTE_JSON_BODY) && st->body_len > 0 &&
		   !http_content_type_is_json(
		       http_header(&st->req, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		rs_fail(&err, RS_E_INVALID, "request.unsupported_media_type", NULL,
			"the request body must be application/json");
		answer_problem(st, 415, &err);
	} else {
		st->req.body = st->body_len ? st->body : NULL;
		st->req.body_len = st->body_len;
		st->method->fn(&st->req, &st->resp, st->method->app);
	}
	return queue_response(st, conn);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct http_conn_state *st = *con_cls;

	(void)version;
	if (!st) {
		/* on_uri could not allocate; one more try, else drop the connection. */
		st = state_new(cls, url);
		if (!st)
			return MHD_NO;
		*con_cls = st;
	}
	if (st->responded)
		return MHD_YES;
	if (!st->started) {
		st->started = true;
		if (!request_begin(st, conn, method))
			return finish(st, conn);
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		return body_append(st, upload_data, n) ? MHD_YES : MHD_NO;
	}
	return finish(st, conn);
}

static void access_log(const struct http_conn_state *st, int64_t dur_ns)
{
	char status[32], bytes[32], dur[48];
	const char *path = st->req.path;
	int code = st->resp.status;

	if (!path || !str_valid_text(path))
		path = "(not text)";
	snprintf(status, sizeof(status), "\x01%d", code);
	snprintf(bytes, sizeof(bytes), "\x01%zu", st->resp.body_len);
	snprintf(dur, sizeof(dur), "\x01%.3f", (double)dur_ns / 1e6);
	/* The path only: query strings and headers may carry secrets (tokens, e-mails). */
	log_kv(code >= 500 && code != 503 ? LOG_ERROR : LOG_INFO, "request", "method",
	       st->req.method && str_valid_text(st->req.method) ? st->req.method : "?", "route",
	       st->path ? st->path->pattern : "unmatched", "path", path, "status", status,
	       "duration_ms", dur, "request_id", st->req.request_id, "source_ip", st->req.source_ip,
	       "bytes", bytes, NULL);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct http_conn_state *st = *con_cls;
	int64_t dur;

	(void)conn;
	if (!st)
		return;
	dur = time_mono_ns() - st->t0_ns;
	if (st->responded) {
		metrics_observe(st->path ? st->path->metrics : s->router->unmatched, st->midx,
				st->resp.status, dur);
		access_log(st, dur);
	} else if (st->started) {
		char t[32];

		log_kv(LOG_DEBUG, "request aborted before an answer", "request_id",
		       st->req.request_id, "termination", log_num(t, (long long)toe), NULL);
	}
	arena_release(&st->arena);
	free(st);
	*con_cls = NULL;
	atomic_fetch_sub(&s->in_flight, 1);
}

/* ---- start and stop */

/* libmicrohttpd's own complaints (malformed requests, resource limits) go to our log at
 * debug level, so stderr stays JSON lines. */
static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)cls;
	if (!log_enabled(LOG_DEBUG))
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	log_kv(LOG_DEBUG, "libmicrohttpd", "detail", str_valid_text(buf) ? buf : "(not text)",
	       NULL);
}

enum rs_status http_server_start(const struct http_server_config *cfg, struct http_router *r,
				 const struct http_hooks *hooks, struct http_server **out,
				 struct rs_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct http_server *s = NULL;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;
	enum rs_status st;
	double expected = 0;

	*out = NULL;
	st = http_listen_parse(cfg->listen, &ss, &sslen, err);
	if (st != RS_OK)
		return st;
	s = calloc(1, sizeof(*s));
	if (!s)
		return rs_fail(err, RS_E_INTERNAL, "http.out_of_memory", NULL, "out of memory");
	s->router = r;
	if (hooks)
		s->hooks = *hooks;
	s->body_max = cfg->body_max ? cfg->body_max : RS_BODY_MAX_DEFAULT;
	atomic_compare_exchange_strong(&process_start_s, &expected, (double)time_now_ms() / 1000.0);
	s->start_time_s = atomic_load(&process_start_s);
	/* MHD_USE_ITC: MHD_quiesce_daemon() needs it with a thread pool. */
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
		flags |= MHD_USE_EPOLL;
	else
		flags |= MHD_USE_POLL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_access, s,
	    /* first, so that no message goes to MHD's plain-text stderr logger */
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)(cfg->threads ? cfg->threads : HTTP_THREADS_DEFAULT),
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)(cfg->conn_timeout_s ? cfg->conn_timeout_s : HTTP_CONN_TIMEOUT_DEFAULT),
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONN_LIMIT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_END);
	if (!s->d) {
		free(s);
		return rs_fail(err, RS_E_UNAVAILABLE, "http.listen_failed", "listen",
			       "cannot listen on '%s'", cfg->listen);
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	{
		char port[32], threads[32];

		log_kv(LOG_INFO, "http server listening", "listen", cfg->listen, "port",
		       log_num(port, s->port), "threads",
		       log_num(threads, cfg->threads ? cfg->threads : HTTP_THREADS_DEFAULT),
		       "epoll", (flags & MHD_USE_EPOLL) ? "yes" : "no", NULL);
	}
	*out = s;
	return RS_OK;
}

void http_server_stop(struct http_server *s, unsigned timeout_s)
{
	MHD_socket fd;
	int64_t deadline;
	const struct timespec tick = {0, 10 * 1000 * 1000};

	if (!s)
		return;
	atomic_store(&s->stopping, true);
	/* Stop accepting; connections already open keep being served. */
	fd = MHD_quiesce_daemon(s->d);
	deadline = time_mono_ns() + (int64_t)timeout_s * 1000000000LL;
	while (atomic_load(&s->in_flight) > 0 && time_mono_ns() < deadline)
		nanosleep(&tick, NULL);
	if (atomic_load(&s->in_flight) > 0) {
		char n[32];

		log_kv(LOG_WARN, "stopping with requests still in flight", "in_flight",
		       log_num(n, atomic_load(&s->in_flight)), NULL);
	}
	MHD_stop_daemon(s->d);
	/* After quiesce the listen socket is ours to close, once the daemon is gone. */
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	free(s);
}
