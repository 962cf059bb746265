/* …/tasks/{id}: work a request started and a client watches (deletion, docs/api.md). */
#include "api/rest/rest_int.h"

static json_t *render_task(const struct task *t)
{
	return json_pack("{s:s,s:s,s:s,s:s?,s:o,s:o,s:o,s:o}", "id", t->id, "kind", t->kind,
			 "status", t->status, "target_id", t->target_id, "reason",
			 js_str(t->reason), "created_at", js_time(t->created_at), "updated_at",
			 js_time(t->updated_at), "completed_at", js_time(t->completed_at));
}

void rest_task_reply(struct http_req *req, struct http_resp *resp, int status, const char *tenant,
		     const struct task *t)
{
	http_resp_header(req, resp, "Location",
			 arena_printf(req->arena, "/api/v1/tenants/%s/tasks/%s", tenant, t->id));
	rest_reply(req, resp, status, render_task(t), 0);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct task t;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (tasks_get(c, &who, http_param(req, "tenant"), http_param(req, "id"), req->arena, &t,
		      &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_task(&t), 0);
}

enum rs_status rest_tasks_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"GET", "/api/v1/tenants/{tenant}/tasks/{id}", get},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
