/* /api/v1/tenants/{tenant}/groups */
#include "api/rest/rest_int.h"

#include <string.h>

static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct page pg;
	struct group_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &pg))
		return;
	if (groups_list(c, &who, http_param(req, "tenant"), &pg, req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_group(&l.items[i]));
	rest_reply(req, resp, 200, render_list(items, l.next_cursor), 0);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct group g;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (groups_get(c, &who, http_param(req, "tenant"), http_param(req, "id"), req->arena, &g,
		       &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_group(&g), g.version);
}

static bool read_fields_or_reply(struct http_req *req, struct http_resp *resp,
				 struct group_fields *f)
{
	static const char *const allowed[] = {"name", "description", "external_id", NULL};
	struct jin j;

	if (!jin_parse_or_reply(&j, req, resp))
		return false;
	jin_only(&j, allowed);
	jin_str_required(&j, "name", &f->name);
	jin_str(&j, "description", &f->description);
	jin_str(&j, "external_id", &f->external_id);
	jin_release(&j);
	return jin_ok_or_reply(&j, req, resp);
}

static void create(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct group_fields f;
	struct group g;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !read_fields_or_reply(req, resp, &f))
		return;
	if (groups_create(c, &who, http_param(req, "tenant"), &f, req->arena, &g, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	http_resp_header(
	    req, resp, "Location",
	    arena_printf(req->arena, "/api/v1/tenants/%s/groups/%s", g.tenant_id, g.id));
	rest_reply(req, resp, 201, render_group(&g), g.version);
}

static void patch(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct group_fields f;
	struct group g;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !read_fields_or_reply(req, resp, &f))
		return;
	if (groups_update(c, &who, http_param(req, "tenant"), http_param(req, "id"), &f,
			  http_if_match(req), req->arena, &g, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_group(&g), g.version);
}

static void del(struct http_req *req, struct http_resp *resp, void *app)
{
	rest_delete(req, resp, app, groups_delete);
}

static void members(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct page pg;
	struct member_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &pg))
		return;
	if (groups_members(c, &who, http_param(req, "tenant"), http_param(req, "id"), &pg,
			   req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, json_pack("{s:s?,s:s?}", "id", l.items[i].id,
						       "username", l.items[i].username));
	rest_reply(req, resp, 200, render_list(items, l.next_cursor), 0);
}

static void member_put(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (groups_member_add(c, &who, http_param(req, "tenant"), http_param(req, "id"),
			      http_param(req, "user_id"), &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_no_content(resp);
}

static void member_del(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (groups_member_remove(c, &who, http_param(req, "tenant"), http_param(req, "id"),
				 http_param(req, "user_id"), &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_no_content(resp);
}

enum rs_status rest_groups_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"GET", "/api/v1/tenants/{tenant}/groups", list},
	    {"POST", "/api/v1/tenants/{tenant}/groups", create},
	    {"GET", "/api/v1/tenants/{tenant}/groups/{id}", get},
	    {"PATCH", "/api/v1/tenants/{tenant}/groups/{id}", patch},
	    {"DELETE", "/api/v1/tenants/{tenant}/groups/{id}", del},
	    {"GET", "/api/v1/tenants/{tenant}/groups/{id}/members", members},
	    {"PUT", "/api/v1/tenants/{tenant}/groups/{id}/members/{user_id}", member_put},
	    {"DELETE", "/api/v1/tenants/{tenant}/groups/{id}/members/{user_id}", member_del},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
