/* /api/v1/tenants/{tenant}/invitations (bearer token) and /api/v1/invitations/{token} (the
 * link's side: the invitation token is the credential, so these two never call
 * rest_actor_or_reply). */
#include "api/rest/rest_int.h"

#include <string.h>

static json_t *render_invitation(const struct invitation *i)
{
	return json_pack("{s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:o,s:o,s:o,s:o,s:o}", "id", i->id,
			 "tenant_id", i->tenant_id, "user_id", i->user_id, "email", i->email,
			 "status", i->status, "message", i->message, "expires_at",
			 js_time(i->expires_at), "created_at", js_time(i->created_at), "resent_at",
			 js_time(i->resent_at), "accepted_at", js_time(i->accepted_at),
			 "revoked_at", js_time(i->revoked_at));
}

static void reply_link(struct http_req *req, struct http_resp *resp, int status,
		       const struct invitation *i, const char *link)
{
	rest_reply(req, resp, status,
		   json_pack("{s:o,s:s}", "invitation", render_invitation(i), "link", link), 0);
}

static void create(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"email",	       "username", "system_role", "roles",
					      "department_id", "type",	   "message",	  NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct user_fields f = {0};
	struct opt_str message;
	struct invitation inv;
	const char *link = NULL;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "email", &f.email);
	jin_str(&j, "username", &f.username);
	jin_str_required(&j, "system_role", &f.system_role);
	jin_strs(&j, "roles", &f.roles_set, &f.roles, &f.nroles);
	jin_str(&j, "department_id", &f.department_id);
	jin_str_required(&j, "type", &f.type);
	jin_str(&j, "message", &message);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	if (invitations_create(c, &who, http_param(req, "tenant"), &f, message.v, req->arena, &inv,
			       &link, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	http_resp_header(
	    req, resp, "Location",
	    arena_printf(req->arena, "/api/v1/tenants/%s/invitations/%s", inv.tenant_id, inv.id));
	reply_link(req, resp, 201, &inv, link);
}

static void resend(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"message", "system_role", "roles", "department_id",
					      NULL};
	struct core *c = app;
	struct actor who;
	struct user_fields f = {0};
	struct opt_str message = {0};
	struct invitation inv;
	const char *link = NULL;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (req->body && req->body_len) {
		struct jin j;

		if (!jin_parse_or_reply(&j, req, resp))
			return;
		jin_only(&j, allowed);
		jin_str(&j, "message", &message);
		jin_str_required(&j, "system_role", &f.system_role);
		jin_strs(&j, "roles", &f.roles_set, &f.roles, &f.nroles);
		jin_str(&j, "department_id", &f.department_id);
		jin_release(&j);
		if (!jin_ok_or_reply(&j, req, resp))
			return;
	}
	if (invitations_resend(c, &who, http_param(req, "tenant"), http_param(req, "id"), &f,
			       &message, req->arena, &inv, &link, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	reply_link(req, resp, 200, &inv, link);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct invitation inv;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (invitations_get(c, &who, http_param(req, "tenant"), http_param(req, "id"), req->arena,
			    &inv, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_invitation(&inv), 0);
}

static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct page pg;
	struct invitation_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &pg))
		return;
	if (invitations_list(c, &who, http_param(req, "tenant"), http_query(req, "status"), &pg,
			     req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_invitation(&l.items[i]));
	rest_reply(req, resp, 200, render_list(items, l.next_cursor), 0);
}

static enum rs_status revoke(struct core *c, const struct actor *who, const char *tenant,
			     const char *id, int64_t if_match, struct rs_err *err)
{
	(void)if_match;
	return invitations_revoke(c, who, tenant, id, err);
}

static void del(struct http_req *req, struct http_resp *resp, void *app)
{
	rest_delete(req, resp, app, revoke);
}

/* ---- the link's side: no bearer token ----------------------------------------------------------
 */

static void view(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct invitation_view v;
	struct rs_err err = {0};

	if (invitations_view(c, http_param(req, "token"), req->arena, &v, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200,
		   json_pack("{s:s?,s:s?,s:s?,s:o}", "tenant_name", v.tenant_name, "email", v.email,
			     "username", v.username, "expires_at", js_time(v.expires_at)),
		   0);
}

static void accept(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"password", "first_name", "last_name", "timezone",
					      NULL};
	struct core *c = app;
	struct jin j;
	struct opt_str password, first, last, tz;
	struct invitation_accept_req q = {0};
	struct user u;
	struct rs_err err = {0};

	if (!jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "password", &password);
	jin_str(&j, "first_name", &first);
	jin_str(&j, "last_name", &last);
	jin_str(&j, "timezone", &tz);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	q = (struct invitation_accept_req){password.v, first.v,		last.v,
					   tz.v,       req->request_id, req->source_ip};
	if (invitations_accept(c, http_param(req, "token"), &q, req->arena, &u, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_user(&u), 0);
}

enum rs_status rest_invitations_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"POST", "/api/v1/tenants/{tenant}/invitations", create},
	    {"GET", "/api/v1/tenants/{tenant}/invitations", list},
	    {"GET", "/api/v1/tenants/{tenant}/invitations/{id}", get},
	    {"DELETE", "/api/v1/tenants/{tenant}/invitations/{id}", del},
	    {"POST", "/api/v1/tenants/{tenant}/invitations/{id}/resend", resend},
	    {"GET", "/api/v1/invitations/{token}", view},
	    {"POST", "/api/v1/invitations/{token}/accept", accept},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
