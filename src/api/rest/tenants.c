/* /api/v1/tenants */
#include "api/rest/rest_int.h"

#include <string.h>

static void create(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"slug", "name", "template", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct opt_str slug, name, tpl;
	struct tenant_create_req q;
	struct tenant t;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "slug", &slug);
	jin_str_required(&j, "name", &name);
	jin_str(&j, "template", &tpl);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	q = (struct tenant_create_req){slug.v, name.v, tpl.v};
	if (tenants_create(c, &who, &q, req->arena, &t, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	http_resp_header(req, resp, "Location", arena_printf(req->arena, "/api/v1/tenants/%s", t.id));
	rest_reply(req, resp, 201, render_tenant(&t), t.version);
}

static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct page pg;
	struct tenant_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &pg))
		return;
	if (tenants_list(c, &who, &pg, req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_tenant(&l.items[i]));
	rest_reply(req, resp, 200, render_list(items, l.next_cursor), 0);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct tenant t;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (tenants_get(c, &who, http_param(req, "tenant"), req->arena, &t, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_tenant(&t), t.version);
}

static void patch(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"name", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct tenant_patch p = {0};
	struct tenant t;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "name", &p.name);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	p.if_match = rest_if_match(req);
	if (tenants_update(c, &who, http_param(req, "tenant"), &p, req->arena, &t, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_tenant(&t), t.version);
}

static void del(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (tenants_delete(c, &who, http_param(req, "tenant"), rest_if_match(req), &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_no_content(resp);
}

enum rs_status rest_tenants_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
		{"POST", "/api/v1/tenants", create},
		{"GET", "/api/v1/tenants", list},
		{"GET", "/api/v1/tenants/{tenant}", get},
		{"PATCH", "/api/v1/tenants/{tenant}", patch},
		{"DELETE", "/api/v1/tenants/{tenant}", del},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
