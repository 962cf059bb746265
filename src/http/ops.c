/* Operations endpoints the layer serves itself: /healthz (the process answers), /readyz
 * (the app says it can serve) and /metrics (Prometheus text 0.0.4). They are ordinary
 * routes, so they get 405s, access logs and metrics like any other. */
#include "http/http_int.h"

#include <string.h>

static const char healthz_body[] = "{\"status\":\"ok\"}";
static const char ready_body[] = "{\"status\":\"ready\"}";
static const char starting_body[] = "{\"status\":\"starting\"}";

/* Handlers get &st->req; the state around it knows the server. */
static struct http_server *server_of(struct http_req *req)
{
	return ((struct http_conn_state *)(void *)req)->server;
}

static void ops_healthz(struct http_req *req, struct http_resp *resp, void *app)
{
	(void)req;
	(void)app;
	http_resp_json(resp, 200, healthz_body, sizeof(healthz_body) - 1);
}

static void ops_readyz(struct http_req *req, struct http_resp *resp, void *app)
{
	const struct http_hooks *h = http_server_hooks(server_of(req));

	(void)app;
	if (!h->ready || h->ready(h->app))
		http_resp_json(resp, 200, ready_body, sizeof(ready_body) - 1);
	else
		http_resp_json(resp, 503, starting_body, sizeof(starting_body) - 1);
}

static void ops_metrics(struct http_req *req, struct http_resp *resp, void *app)
{
	struct http_server *s = server_of(req);
	size_t len = 0;
	char *text;

	(void)app;
	text =
	    http_metrics_render(http_server_router(s), http_server_in_flight(s),
				http_server_start_time(s), http_server_hooks(s), req->arena, &len);
	if (!text) {
		struct rs_err err;

		rs_fail(&err, RS_E_INTERNAL, "metrics.out_of_memory", NULL,
			"out of memory rendering metrics");
		http_problem(req, resp, &err);
		return;
	}
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->body = text;
	resp->body_len = len;
}

enum rs_status http_ops_register(struct http_router *r, struct rs_err *err)
{
	enum rs_status st;

	st = http_route_add(r, "GET", "/healthz", 0, ops_healthz, NULL, err);
	if (st == RS_OK)
		st = http_route_add(r, "GET", "/readyz", 0, ops_readyz, NULL, err);
	if (st == RS_OK)
		st = http_route_add(r, "GET", "/metrics", 0, ops_metrics, NULL, err);
	return st;
}
