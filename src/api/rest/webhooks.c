/* /api/v1/tenants/{tenant}/webhooks: subscriptions, their signing secret (shown once, at
 * creation) and their delivery log. */
#include "api/rest/rest_int.h"

#include <string.h>

static json_t *render_webhook(const struct webhook *w)
{
	json_t *events = json_array();

	for (int i = 0; i < w->nevents; i++)
		json_array_append_new(events, json_string(w->events[i]));
	return json_pack("{s:s?,s:s?,s:s?,s:o,s:s?,s:b,s:o,s:o}", "id", w->id, "tenant_id",
			 w->tenant_id, "url", w->url, "events", events, "description",
			 w->description, "active", w->active, "created_at", js_time(w->created_at),
			 "updated_at", js_time(w->updated_at));
}

static json_t *render_delivery(const struct webhook_delivery *d)
{
	return json_pack(
	    "{s:s?,s:s?,s:s?,s:s?,s:s?,s:I,s:o,s:I,s:o,s:o}", "id", d->id, "webhook_id",
	    d->webhook_id, "job_id", d->job_id, "event_id", d->event_id, "event_type",
	    d->event_type, "attempt", (json_int_t)d->attempt, "status_code",
	    d->status_code > 0 ? json_integer((json_int_t)d->status_code) : json_null(),
	    "duration_ms", (json_int_t)d->duration_ms, "error", js_str(d->error), "at",
	    js_time(d->at));
}

static bool read_fields_or_reply(struct http_req *req, struct http_resp *resp,
				 struct webhook_fields *f, bool create)
{
	static const char *const allowed_create[] = {"url", "events", "description", NULL};
	static const char *const allowed_patch[] = {"url", "events", "description", "active", NULL};
	struct jin j;
	json_t *active;

	memset(f, 0, sizeof(*f));
	if (!jin_parse_or_reply(&j, req, resp))
		return false;
	jin_only(&j, create ? allowed_create : allowed_patch);
	jin_str_required(&j, "url", &f->url);
	jin_strs(&j, "events", &f->events_set, &f->events, &f->nevents);
	jin_str(&j, "description", &f->description);
	active = create ? NULL : json_object_get(j.root, "active");
	if (active && !json_is_boolean(active) && !j.failed) {
		j.failed = true;
		rs_fail(&j.err, RS_E_INVALID, "request.invalid_field", "active",
			"'active' must be true or false");
	} else if (active) {
		f->active_set = true;
		f->active = json_is_true(active);
	}
	jin_release(&j);
	return jin_ok_or_reply(&j, req, resp);
}

static void create(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct webhook_fields f;
	struct webhook w;
	const char *secret = NULL;
	struct rs_err err = {0};
	json_t *out;

	if (!rest_actor_or_reply(req, resp, c, &who) || !read_fields_or_reply(req, resp, &f, true))
		return;
	if (webhooks_create(c, &who, http_param(req, "tenant"), &f, req->arena, &w, &secret,
			    &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	http_resp_header(
	    req, resp, "Location",
	    arena_printf(req->arena, "/api/v1/tenants/%s/webhooks/%s", w.tenant_id, w.id));
	out = render_webhook(&w);
	json_object_set_new(out, "secret", json_string(secret));
	rest_reply(req, resp, 201, out, 0);
}

static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct page pg;
	struct webhook_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &pg))
		return;
	if (webhooks_list(c, &who, http_param(req, "tenant"), &pg, req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_webhook(&l.items[i]));
	rest_reply(req, resp, 200, render_list(items, l.next_cursor), 0);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct webhook w;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (webhooks_get(c, &who, http_param(req, "tenant"), http_param(req, "id"), req->arena, &w,
			 &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_webhook(&w), 0);
}

static void patch(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct webhook_fields f;
	struct webhook w;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !read_fields_or_reply(req, resp, &f, false))
		return;
	if (webhooks_update(c, &who, http_param(req, "tenant"), http_param(req, "id"), &f,
			    req->arena, &w, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_webhook(&w), 0);
}

static void del(struct http_req *req, struct http_resp *resp, void *app)
{
	rest_delete(req, resp, app, webhooks_delete);
}

static void deliveries(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct page pg;
	struct webhook_delivery_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &pg))
		return;
	if (webhooks_deliveries(c, &who, http_param(req, "tenant"), http_param(req, "id"), &pg,
				req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_delivery(&l.items[i]));
	rest_reply(req, resp, 200, render_list(items, l.next_cursor), 0);
}

static void ping(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct job job;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (webhooks_ping(c, &who, http_param(req, "tenant"), http_param(req, "id"), req->arena,
			  &job, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	http_resp_header(
	    req, resp, "Location",
	    arena_printf(req->arena, "/api/v1/tenants/%s/outbox/%s", job.tenant_id, job.id));
	rest_reply(req, resp, 202, render_job(&job), 0);
}

enum rs_status rest_webhooks_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"GET", "/api/v1/tenants/{tenant}/webhooks", list},
	    {"POST", "/api/v1/tenants/{tenant}/webhooks", create},
	    {"GET", "/api/v1/tenants/{tenant}/webhooks/{id}", get},
	    {"PATCH", "/api/v1/tenants/{tenant}/webhooks/{id}", patch},
	    {"DELETE", "/api/v1/tenants/{tenant}/webhooks/{id}", del},
	    {"GET", "/api/v1/tenants/{tenant}/webhooks/{id}/deliveries", deliveries},
	    {"POST", "/api/v1/tenants/{tenant}/webhooks/{id}/ping", ping},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
