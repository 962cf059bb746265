/* /api/v1/jobs: platform housekeeping queued by hand and watched (platform.tenants). */
#include "api/rest/rest_int.h"

json_t *render_job(const struct job *j)
{
	json_t *payload = j->payload ? json_loads(j->payload, 0, NULL) : NULL;
	json_t *progress = j->progress ? json_loads(j->progress, 0, NULL) : NULL;

	return json_pack("{s:s?,s:o,s:s?,s:o,s:o,s:s?,s:o,s:I,s:o,s:o,s:o,s:o}", "id", j->id,
			 "tenant_id", js_str(j->tenant_id), "kind", j->kind, "payload",
			 payload ? payload : json_object(), "progress",
			 progress ? progress : json_object(), "status", j->status, "lease_owner",
			 js_str(j->lease_owner), "attempts", (json_int_t)j->attempts, "last_error",
			 js_str(j->last_error), "run_at", js_time(j->run_at), "created_at",
			 js_time(j->created_at), "updated_at", js_time(j->updated_at));
}

static void create(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"kind", "payload", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct opt_str kind, payload;
	struct job job;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "kind", &kind);
	jin_object(&j, "payload", &payload);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	if (jobs_enqueue(c, &who, kind.v, payload.v, req->arena, &job, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	http_resp_header(req, resp, "Location",
			 arena_printf(req->arena, "/api/v1/jobs/%s", job.id));
	rest_reply(req, resp, 202, render_job(&job), 0);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct job job;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (jobs_get(c, &who, http_param(req, "id"), req->arena, &job, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_job(&job), 0);
}

enum rs_status rest_jobs_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"POST", "/api/v1/jobs", create},
	    {"GET", "/api/v1/jobs/{id}", get},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
