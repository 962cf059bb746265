/* /api/v1/tenants/{tenant}/tokens */
#include "api/rest/rest_int.h"

#include <string.h>

static void create(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"name", "role", "expires_in_days", "user_id", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct opt_str name, role, user;
	struct opt_int days;
	struct token_create_req q = {0};
	struct token t;
	const char *secret = NULL;
	struct rs_err err = {0};
	json_t *v;

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "name", &name);
	jin_str(&j, "role", &role);
	jin_str(&j, "user_id", &user);
	jin_int(&j, "expires_in_days", &days);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	q.name = name.v;
	q.role = role.v;
	q.user_id = user.v;
	q.has_expiry = days.set && !days.null;
	q.expires_in_days = days.v;
	if (tokens_create(c, &who, http_param(req, "tenant"), &q, req->arena, &t, &secret, &err) !=
	    RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	v = json_pack("{s:o,s:s}", "token", render_token(&t), "secret", secret);
	http_resp_header(
	    req, resp, "Location",
	    arena_printf(req->arena, "/api/v1/tenants/%s/tokens/%s", t.tenant_id, t.id));
	rest_reply(req, resp, 201, v, 0);
}

static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct page pg;
	struct token_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &pg))
		return;
	if (tokens_list(c, &who, http_param(req, "tenant"), http_query(req, "user_id"), &pg,
			req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_token(&l.items[i]));
	rest_reply(req, resp, 200, render_list(items, l.next_cursor), 0);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct token t;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (tokens_get(c, &who, http_param(req, "tenant"), http_param(req, "id"), req->arena, &t,
		       &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_token(&t), 0);
}

static void revoke(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (tokens_revoke(c, &who, http_param(req, "tenant"), http_param(req, "id"), &err) !=
	    RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_no_content(resp);
}

enum rs_status rest_tokens_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"POST", "/api/v1/tenants/{tenant}/tokens", create},
	    {"GET", "/api/v1/tenants/{tenant}/tokens", list},
	    {"GET", "/api/v1/tenants/{tenant}/tokens/{id}", get},
	    {"DELETE", "/api/v1/tenants/{tenant}/tokens/{id}", revoke},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
