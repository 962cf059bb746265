/* /api/v1/tenants/{tenant}/resources: the owned-resource registry. */
#include "api/rest/rest_int.h"

#include <string.h>

static json_t *render_resource(const struct owned_resource *o)
{
	return json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:o,s:o}", "id", o->id, "tenant_id",
			 o->tenant_id, "kind", o->kind, "external_id", o->external_id, "name",
			 o->name, "owner_id", o->owner_id, "created_at", js_time(o->created_at),
			 "updated_at", js_time(o->updated_at));
}

static void create(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"kind", "external_id", "name", "owner_id", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct opt_str kind = {0}, ext = {0}, name = {0}, owner = {0};
	struct resource_create_req q;
	struct owned_resource o;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "kind", &kind);
	jin_str_required(&j, "external_id", &ext);
	jin_str_required(&j, "name", &name);
	jin_str_required(&j, "owner_id", &owner);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	q = (struct resource_create_req){kind.v, ext.v, name.v, owner.v};
	if (resources_create(c, &who, http_param(req, "tenant"), &q, req->arena, &o, &err) !=
	    RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	http_resp_header(
	    req, resp, "Location",
	    arena_printf(req->arena, "/api/v1/tenants/%s/resources/%s", o.tenant_id, o.id));
	rest_reply(req, resp, 201, render_resource(&o), 0);
}

static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct resource_list_query q = {0};
	struct resource_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &q.page))
		return;
	q.owner_id = http_query(req, "owner_id");
	q.kind = http_query(req, "kind");
	if (resources_list(c, &who, http_param(req, "tenant"), &q, req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_resource(&l.items[i]));
	rest_reply(req, resp, 200, render_list(items, l.next_cursor), 0);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct owned_resource o;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (resources_get(c, &who, http_param(req, "tenant"), http_param(req, "id"), req->arena, &o,
			  &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_resource(&o), 0);
}

static void patch(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"name", "owner_id", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct resource_patch p = {0};
	struct owned_resource o;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "name", &p.name);
	jin_str_required(&j, "owner_id", &p.owner_id);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	if (resources_update(c, &who, http_param(req, "tenant"), http_param(req, "id"), &p,
			     req->arena, &o, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_resource(&o), 0);
}

static void del(struct http_req *req, struct http_resp *resp, void *app)
{
	rest_delete(req, resp, app, resources_delete);
}

enum rs_status rest_resources_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"POST", "/api/v1/tenants/{tenant}/resources", create},
	    {"GET", "/api/v1/tenants/{tenant}/resources", list},
	    {"GET", "/api/v1/tenants/{tenant}/resources/{id}", get},
	    {"PATCH", "/api/v1/tenants/{tenant}/resources/{id}", patch},
	    {"DELETE", "/api/v1/tenants/{tenant}/resources/{id}", del},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
