/* /api/v1/tenants/{tenant}/users */
#include "api/rest/rest_int.h"

#include <string.h>

#include "util/timeutil.h"

static const char *const user_writable[] = {"username",
					    "email",
					    "first_name",
					    "last_name",
					    "type",
					    "system_role",
					    "roles",
					    "department_id",
					    "manager_id",
					    "locale",
					    "timezone",
					    "description",
					    "external_id",
					    "custom_attributes",
					    "required_actions",
					    "idle_logout_minutes",
					    "summary_mail_time",
					    "security_profile",
					    NULL};

static void read_fields(struct jin *j, struct user_fields *f)
{
	memset(f, 0, sizeof(*f));
	jin_only(j, user_writable);
	jin_str_required(j, "username", &f->username);
	jin_str(j, "email", &f->email);
	jin_str(j, "first_name", &f->first_name);
	jin_str(j, "last_name", &f->last_name);
	jin_str_required(j, "type", &f->type);
	jin_str_required(j, "system_role", &f->system_role);
	jin_strs(j, "roles", &f->roles_set, &f->roles, &f->nroles);
	jin_str(j, "department_id", &f->department_id);
	jin_str(j, "manager_id", &f->manager_id);
	jin_str(j, "locale", &f->locale);
	jin_str(j, "timezone", &f->timezone);
	jin_str(j, "description", &f->description);
	jin_str(j, "external_id", &f->external_id);
	jin_object(j, "custom_attributes", &f->custom_attributes);
	jin_strs(j, "required_actions", &f->required_actions_set, &f->required_actions,
		 &f->nrequired_actions);
	jin_int(j, "idle_logout_minutes", &f->idle_logout_minutes);
	jin_str(j, "summary_mail_time", &f->summary_mail_time);
	jin_str(j, "security_profile", &f->security_profile);
}

static void reply_user(struct http_req *req, struct http_resp *resp, int status,
		       const struct user *u)
{
	rest_reply(req, resp, status, render_user(u), u->version);
}

static void create(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct user_fields f;
	struct user u;
	struct rs_err err = {0};
	const char *tenant = http_param(req, "tenant");

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	read_fields(&j, &f);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	if (users_create(c, &who, tenant, &f, req->arena, &u, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	http_resp_header(
	    req, resp, "Location",
	    arena_printf(req->arena, "/api/v1/tenants/%s/users/%s", u.tenant_id, u.id));
	reply_user(req, resp, 201, &u);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct user u;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (users_get(c, &who, http_param(req, "tenant"), http_param(req, "id"), req->arena, &u,
		      &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	reply_user(req, resp, 200, &u);
}

static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct user_list_query q = {0};
	struct user_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &q.page))
		return;
	q.username = http_query(req, "username");
	q.email = http_query(req, "email");
	q.name = http_query(req, "name");
	q.username_prefix = http_query(req, "username_prefix");
	q.email_prefix = http_query(req, "email_prefix");
	q.name_prefix = http_query(req, "name_prefix");
	q.q = http_query(req, "q");
	q.status = http_query(req, "status");
	q.type = http_query(req, "type");
	q.role = http_query(req, "role");
	q.group = http_query(req, "group");
	q.department_id = http_query(req, "department_id");
	if (http_query(req, "descendants")) {
		const char *d = http_query(req, "descendants");

		if (strcmp(d, "true") != 0 && strcmp(d, "false") != 0) {
			rest_fail_status(req, resp, RS_E_INVALID, "request.invalid_parameter",
					 "descendants", "'descendants' must be true or false");
			return;
		}
		q.direct_only = strcmp(d, "false") == 0;
	}
	q.sort = http_query(req, "sort");
	if (users_list(c, &who, http_param(req, "tenant"), &q, req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_user(&l.items[i]));
	rest_reply(req, resp, 200, render_list(items, l.next_cursor), 0);
}

static void patch(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct user_fields f;
	struct user u;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	read_fields(&j, &f);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	if (users_update(c, &who, http_param(req, "tenant"), http_param(req, "id"), &f,
			 http_if_match(req), req->arena, &u, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	reply_user(req, resp, 200, &u);
}

static void put_roles(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"system_role", "roles", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct user_fields f = {0};
	struct user u;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "system_role", &f.system_role);
	jin_strs(&j, "roles", &f.roles_set, &f.roles, &f.nroles);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	/* PUT replaces the tenant roles: an absent "roles" means none. */
	f.roles_set = true;
	if (users_update(c, &who, http_param(req, "tenant"), http_param(req, "id"), &f,
			 http_if_match(req), req->arena, &u, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	reply_user(req, resp, 200, &u);
}

/* DELETE …/users/{id}[?transfer_to=<user id>]: 202 and the deletion task, which hands the
 * user's owned resources to transfer_to. */
static void del(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct task task;
	struct rs_err err = {0};
	const char *tenant = http_param(req, "tenant");

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (users_delete(c, &who, tenant, http_param(req, "id"), http_if_match(req),
			 http_query(req, "transfer_to"), req->arena, &task, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_task_reply(req, resp, 202, tenant, &task);
}

/* POST …/users/{id}/{suspend,resume,deactivate,reactivate}: the lifecycle's sub-resources. */
static void transition(struct http_req *req, struct http_resp *resp, void *app,
		       enum user_transition what)
{
	static const char *const allowed[] = {"reason", "until", "transfer_to", NULL};
	struct core *c = app;
	struct actor who;
	struct user_transition_req q = {.what = what};
	struct opt_str reason = {0}, until = {0}, transfer_to = {0};
	struct user u;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (req->body && req->body_len) {
		struct jin j;

		if (!jin_parse_or_reply(&j, req, resp))
			return;
		jin_only(&j, allowed);
		jin_str(&j, "reason", &reason);
		jin_str(&j, "until", &until);
		jin_str(&j, "transfer_to", &transfer_to);
		jin_release(&j);
		if (!jin_ok_or_reply(&j, req, resp))
			return;
	}
	q.reason = reason.v;
	q.transfer_to = transfer_to.v;
	if (until.v) {
		if (!time_parse(until.v, &q.until)) {
			rest_fail_status(req, resp, RS_E_INVALID, "request.invalid_field", "until",
					 "'until' must be an RFC 3339 time");
			return;
		}
		q.has_until = true;
	}
	q.if_match = http_if_match(req);
	if (users_transition(c, &who, http_param(req, "tenant"), http_param(req, "id"), &q,
			     req->arena, &u, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	reply_user(req, resp, 200, &u);
}

static void suspend(struct http_req *req, struct http_resp *resp, void *app)
{
	transition(req, resp, app, USER_SUSPEND);
}

static void resume(struct http_req *req, struct http_resp *resp, void *app)
{
	transition(req, resp, app, USER_RESUME);
}

static void deactivate(struct http_req *req, struct http_resp *resp, void *app)
{
	transition(req, resp, app, USER_DEACTIVATE);
}

static void reactivate(struct http_req *req, struct http_resp *resp, void *app)
{
	transition(req, resp, app, USER_REACTIVATE);
}

enum rs_status rest_users_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"POST", "/api/v1/tenants/{tenant}/users", create},
	    {"GET", "/api/v1/tenants/{tenant}/users", list},
	    {"GET", "/api/v1/tenants/{tenant}/users/{id}", get},
	    {"PATCH", "/api/v1/tenants/{tenant}/users/{id}", patch},
	    {"DELETE", "/api/v1/tenants/{tenant}/users/{id}", del},
	    {"PUT", "/api/v1/tenants/{tenant}/users/{id}/roles", put_roles},
	    {"POST", "/api/v1/tenants/{tenant}/users/{id}/suspend", suspend},
	    {"POST", "/api/v1/tenants/{tenant}/users/{id}/resume", resume},
	    {"POST", "/api/v1/tenants/{tenant}/users/{id}/deactivate", deactivate},
	    {"POST", "/api/v1/tenants/{tenant}/users/{id}/reactivate", reactivate},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
