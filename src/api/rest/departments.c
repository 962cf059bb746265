/* /api/v1/tenants/{tenant}/departments: the department tree and its managers. */
#include "api/rest/rest_int.h"

#include <string.h>

static json_t *render_department(const struct department *d, bool full)
{
	json_t *path = json_array(), *v;

	for (int i = 0; i < d->npath; i++)
		json_array_append_new(path, json_string(d->path[i]));
	v = json_pack("{s:s?,s:s?,s:s?,s:o,s:o,s:o,s:I,s:I,s:o,s:o,s:I}", "id", d->id, "tenant_id",
		      d->tenant_id, "name", d->name, "parent_id", js_str(d->parent_id),
		      "description", js_str(d->description), "path", path, "user_count",
		      (json_int_t)d->user_count, "child_count", (json_int_t)d->child_count,
		      "created_at", js_time(d->created_at), "updated_at", js_time(d->updated_at),
		      "version", (json_int_t)d->version);
	if (v && full) {
		json_t *managers = json_array();

		for (int i = 0; i < d->nmanagers; i++)
			json_array_append_new(managers,
					      json_pack("{s:s?,s:s?}", "id", d->managers[i].id,
							"username", d->managers[i].username));
		json_object_set_new(v, "managers", managers);
	}
	return v;
}

static void reply_department(struct http_req *req, struct http_resp *resp, int status,
			     const struct department *d)
{
	rest_reply(req, resp, status, render_department(d, true), d->version);
}

static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct department_list_query q = {0};
	struct department_list l;
	struct rs_err err = {0};
	const char *root = http_query(req, "root");
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &q.page))
		return;
	if (root && strcmp(root, "true") != 0 && strcmp(root, "false") != 0) {
		rest_fail_status(req, resp, RS_E_INVALID, "request.invalid_parameter", "root",
				 "'root' must be true or false");
		return;
	}
	q.roots = root && strcmp(root, "true") == 0;
	q.parent_id = http_query(req, "parent_id");
	if (departments_list(c, &who, http_param(req, "tenant"), &q, req->arena, &l, &err) !=
	    RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_department(&l.items[i], true));
	rest_reply(req, resp, 200, render_list(items, l.next_cursor), 0);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct department d;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (departments_get(c, &who, http_param(req, "tenant"), http_param(req, "id"), req->arena,
			    &d, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	reply_department(req, resp, 200, &d);
}

static bool read_fields_or_reply(struct http_req *req, struct http_resp *resp,
				 struct department_fields *f)
{
	static const char *const allowed[] = {"name", "parent_id", "description", NULL};
	struct jin j;

	memset(f, 0, sizeof(*f));
	if (!jin_parse_or_reply(&j, req, resp))
		return false;
	jin_only(&j, allowed);
	jin_str_required(&j, "name", &f->name);
	jin_str(&j, "parent_id", &f->parent_id);
	jin_str(&j, "description", &f->description);
	jin_release(&j);
	return jin_ok_or_reply(&j, req, resp);
}

static void create(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct department_fields f;
	struct department d;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !read_fields_or_reply(req, resp, &f))
		return;
	if (departments_create(c, &who, http_param(req, "tenant"), &f, req->arena, &d, &err) !=
	    RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	http_resp_header(
	    req, resp, "Location",
	    arena_printf(req->arena, "/api/v1/tenants/%s/departments/%s", d.tenant_id, d.id));
	reply_department(req, resp, 201, &d);
}

static void patch(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct department_fields f;
	struct department d;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !read_fields_or_reply(req, resp, &f))
		return;
	if (departments_update(c, &who, http_param(req, "tenant"), http_param(req, "id"), &f,
			       http_if_match(req), req->arena, &d, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	reply_department(req, resp, 200, &d);
}

/* DELETE …/departments/{id}[?move_to=<department id>]: its users and children go there. */
static void del(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (departments_delete(c, &who, http_param(req, "tenant"), http_param(req, "id"),
			       http_if_match(req), http_query(req, "move_to"), &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_no_content(resp);
}

static void manager(struct http_req *req, struct http_resp *resp, void *app, bool add)
{
	struct core *c = app;
	struct actor who;
	struct rs_err err = {0};
	const char *tenant = http_param(req, "tenant"), *id = http_param(req, "id"),
		   *user = http_param(req, "user_id");

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if ((add ? departments_manager_add(c, &who, tenant, id, user, &err)
		 : departments_manager_remove(c, &who, tenant, id, user, &err)) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_no_content(resp);
}

static void manager_put(struct http_req *req, struct http_resp *resp, void *app)
{
	manager(req, resp, app, true);
}

static void manager_del(struct http_req *req, struct http_resp *resp, void *app)
{
	manager(req, resp, app, false);
}

enum rs_status rest_departments_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"GET", "/api/v1/tenants/{tenant}/departments", list},
	    {"POST", "/api/v1/tenants/{tenant}/departments", create},
	    {"GET", "/api/v1/tenants/{tenant}/departments/{id}", get},
	    {"PATCH", "/api/v1/tenants/{tenant}/departments/{id}", patch},
	    {"DELETE", "/api/v1/tenants/{tenant}/departments/{id}", del},
	    {"PUT", "/api/v1/tenants/{tenant}/departments/{id}/managers/{user_id}", manager_put},
	    {"DELETE", "/api/v1/tenants/{tenant}/departments/{id}/managers/{user_id}", manager_del},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
