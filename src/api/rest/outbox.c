/* /api/v1/tenants/{tenant}/outbox: the tenant's e-mail and webhook messages with their
 * delivery state (dead letters are "failed"), and retrying one. */
#include "api/rest/rest_int.h"

static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct outbox_query q = {0};
	struct job_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &q.page))
		return;
	q.status = http_query(req, "status");
	q.kind = http_query(req, "kind");
	if (outbox_list(c, &who, http_param(req, "tenant"), &q, req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_job(&l.items[i]));
	rest_reply(req, resp, 200, render_list(items, l.next_cursor), 0);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct job job;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (outbox_get(c, &who, http_param(req, "tenant"), http_param(req, "id"), req->arena, &job,
		       &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_job(&job), 0);
}

static void retry(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct job job;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (outbox_retry(c, &who, http_param(req, "tenant"), http_param(req, "id"), req->arena,
			 &job, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_job(&job), 0);
}

enum rs_status rest_outbox_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"GET", "/api/v1/tenants/{tenant}/outbox", list},
	    {"GET", "/api/v1/tenants/{tenant}/outbox/{id}", get},
	    {"POST", "/api/v1/tenants/{tenant}/outbox/{id}/retry", retry},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
