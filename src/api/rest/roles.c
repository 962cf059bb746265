/* /api/v1/tenants/{tenant}/roles */
#include "api/rest/rest_int.h"

#include <string.h>

static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct role_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (roles_list(c, &who, http_param(req, "tenant"), req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_role(&l.items[i]));
	rest_reply(req, resp, 200, render_list(items, NULL), 0);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct role r;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (roles_get(c, &who, http_param(req, "tenant"), http_param(req, "id"), req->arena, &r,
		      &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_role(&r), r.version);
}

static void create(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"name",	     "scope",	      "rank", "permissions",
					      "description", "department_id", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct opt_str name, scope, desc, dept;
	struct opt_int rank;
	bool perms_set;
	struct role_create_req q = {0};
	struct role r;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "name", &name);
	jin_str_required(&j, "scope", &scope);
	jin_str(&j, "description", &desc);
	jin_str(&j, "department_id", &dept);
	jin_int(&j, "rank", &rank);
	jin_strs(&j, "permissions", &perms_set, &q.permissions, &q.npermissions);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	if (!rank.set || rank.null) {
		rest_fail_status(req, resp, RS_E_INVALID, "request.invalid_field", "rank",
				 "'rank' is required");
		return;
	}
	q.name = name.v;
	q.scope = scope.v;
	q.description = desc.v;
	q.department_id = dept.v;
	q.rank = rank.v < -1 || rank.v > 100000 ? -1 : (int)rank.v;
	if (roles_create(c, &who, http_param(req, "tenant"), &q, req->arena, &r, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	http_resp_header(
	    req, resp, "Location",
	    arena_printf(req->arena, "/api/v1/tenants/%s/roles/%s", r.tenant_id, r.id));
	rest_reply(req, resp, 201, render_role(&r), r.version);
}

static void patch(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"name",	     "rank",	      "permissions",
					      "description", "department_id", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct role_patch p = {0};
	struct role r;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "name", &p.name);
	jin_str(&j, "description", &p.description);
	jin_str(&j, "department_id", &p.department_id);
	jin_int(&j, "rank", &p.rank);
	jin_strs(&j, "permissions", &p.permissions_set, &p.permissions, &p.npermissions);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	if (p.rank.set && !p.rank.null && (p.rank.v < -1 || p.rank.v > 100000))
		p.rank.v = -1;
	p.if_match = http_if_match(req);
	if (roles_update(c, &who, http_param(req, "tenant"), http_param(req, "id"), &p, req->arena,
			 &r, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_role(&r), r.version);
}

static void del(struct http_req *req, struct http_resp *resp, void *app)
{
	rest_delete(req, resp, app, roles_delete);
}

enum rs_status rest_roles_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"GET", "/api/v1/tenants/{tenant}/roles", list},
	    {"POST", "/api/v1/tenants/{tenant}/roles", create},
	    {"GET", "/api/v1/tenants/{tenant}/roles/{id}", get},
	    {"PATCH", "/api/v1/tenants/{tenant}/roles/{id}", patch},
	    {"DELETE", "/api/v1/tenants/{tenant}/roles/{id}", del},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
