/* /api/v1/tenants/{tenant}/audit */
#include "api/rest/rest_int.h"

#include "util/timeutil.h"

static bool time_param_or_reply(struct http_req *req, struct http_resp *resp, const char *name,
				bool *has, int64_t *out)
{
	const char *v = http_query(req, name);
	char msg[128];

	*has = false;
	if (!v)
		return true;
	if (time_parse(v, out)) {
		*has = true;
		return true;
	}
	snprintf(msg, sizeof(msg), "'%s' must be an RFC 3339 time such as 2026-11-22T14:00:00Z",
		 name);
	rest_fail_status(req, resp, RS_E_INVALID, "request.invalid_parameter", name, msg);
	return false;
}

static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct audit_query q = {0};
	struct audit_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &q.page) ||
	    !time_param_or_reply(req, resp, "since", &q.has_since, &q.since) ||
	    !time_param_or_reply(req, resp, "until", &q.has_until, &q.until))
		return;
	q.actor = http_query(req, "actor");
	q.target = http_query(req, "target");
	q.action = http_query(req, "action");
	if (audit_list(c, &who, http_param(req, "tenant"), &q, req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_audit(&l.items[i]));
	rest_reply(req, resp, 200, render_list(items, l.next_cursor), 0);
}

enum rs_status rest_audit_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"GET", "/api/v1/tenants/{tenant}/audit", list},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
