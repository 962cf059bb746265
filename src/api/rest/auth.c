/* /api/v1/auth/login and logout, sessions (the caller's and, for admins, a user's), unlock and
 * the failed-login history (docs/authentication.md). */
#include "api/rest/rest_int.h"

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"

/* The body must carry key (jin_str_required refuses only a null). */
static bool present_or_reply(struct http_req *req, struct http_resp *resp, const struct opt_str *v,
			     const char *key)
{
	if (v->set && v->v)
		return true;
	rest_fail_status(req, resp, RS_E_INVALID, "request.invalid_field", key,
			 arena_printf(req->arena, "'%s' is required", key));
	return false;
}

static void wipe(const struct opt_str *v)
{
	if (v->v)
		crypto_wipe((void *)v->v, strlen(v->v));
}

static json_t *render_session(const struct session *s)
{
	return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:b}", "id", s->id, "user_id",
			 s->user_id, "source_ip", js_str(s->source_ip), "user_agent",
			 js_str(s->user_agent), "created_at", js_time(s->created_at),
			 "last_seen_at", js_time(s->last_seen_at), "expires_at",
			 js_time(s->expires_at), "idle_timeout_s",
			 (json_int_t)(s->idle_timeout_ms / 1000), "current", s->current);
}

/* Secure whenever a browser could reach us over TLS: served so, or published so. */
static bool cookie_secure(const struct http_req *req, struct core *c)
{
	return req->tls || strncmp(core_public_url(c), "https://", 8) == 0;
}

static void set_cookie(struct http_req *req, struct http_resp *resp, struct core *c,
		       const char *value, int64_t max_age_s)
{
	http_resp_header(req, resp, "Set-Cookie",
			 arena_printf(req->arena,
				      REST_SESSION_COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; "
							  "SameSite=Strict%s",
				      value, (long long)max_age_s,
				      cookie_secure(req, c) ? "; Secure" : ""));
}

static void login(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"tenant", "username", "email", "password", NULL};
	struct core *c = app;
	struct jin j;
	struct opt_str tenant = {0}, username = {0}, email = {0}, password = {0};
	struct login_req q;
	struct login_result out;
	struct rs_err err = {0};
	int64_t retry = 0;
	json_t *body, *ra;
	enum rs_status st;

	if (!jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str(&j, "tenant", &tenant);
	jin_str(&j, "username", &username);
	jin_str(&j, "email", &email);
	jin_str(&j, "password", &password);
	if (!jin_ok_or_reply(&j, req, resp) || !present_or_reply(req, resp, &tenant, "tenant") ||
	    (!username.v && !present_or_reply(req, resp, &email, "username")) ||
	    !present_or_reply(req, resp, &password, "password")) {
		wipe(&password);
		jin_release(&j);
		return;
	}
	q = (struct login_req){.tenant = tenant.v,
			       .login = username.v ? username.v : email.v,
			       .password = password.v,
			       .source_ip = req->source_ip,
			       .user_agent = http_header(req, "User-Agent"),
			       .request_id = req->request_id};
	st = auth_login(c, &q, req->arena, &out, &retry, &err);
	/* The password lives in the parsed document: wipe it before the document goes. */
	wipe(&password);
	jin_release(&j);
	if (st != RS_OK) {
		if (retry > 0)
			http_resp_header(req, resp, "Retry-After",
					 arena_printf(req->arena, "%lld", (long long)retry));
		rest_fail(req, resp, &err);
		return;
	}
	set_cookie(req, resp, c, out.session_token,
		   (out.session.expires_at - out.session.created_at) / 1000);
	ra = json_array();
	for (int i = 0; i < out.user.nrequired_actions; i++)
		json_array_append_new(ra, json_string(out.user.required_actions[i]));
	body = json_pack("{s:o,s:o,s:s,s:s,s:s,s:I,s:s,s:o,s:o,s:b}", "session",
			 render_session(&out.session), "user", render_user(&out.user), "csrf_token",
			 out.csrf_token, "access_token", out.access_token, "token_type", "Bearer",
			 "expires_in", (json_int_t)out.access_expires_in_s, "refresh_token",
			 out.refresh_token, "refresh_expires_at", js_time(out.refresh_expires_at),
			 "required_actions", ra, "restricted", out.user.nrequired_actions > 0);
	http_resp_header(req, resp, "Cache-Control", "no-store");
	http_resp_header(req, resp, "Location",
			 arena_printf(req->arena, "/api/v1/me/sessions/%s", out.session.id));
	rest_reply(req, resp, 201, body, 0);
}

static void logout(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (auth_logout(c, &who, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	set_cookie(req, resp, c, "", 0);
	rest_no_content(resp);
}

static void list_sessions(struct http_req *req, struct http_resp *resp, struct core *c,
			  const char *tenant, const char *user_id)
{
	struct actor who;
	struct session_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (sessions_list(c, &who, tenant, user_id, req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_session(&l.items[i]));
	rest_reply(req, resp, 200, render_list(items, NULL), 0);
}

static void revoke_sessions(struct http_req *req, struct http_resp *resp, struct core *c,
			    const char *tenant, const char *user_id, const char *id)
{
	struct actor who;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (sessions_revoke(c, &who, tenant, user_id, id, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_no_content(resp);
}

static void my_sessions(struct http_req *req, struct http_resp *resp, void *app)
{
	list_sessions(req, resp, app, NULL, NULL);
}

static void my_session(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct session_list l;
	struct rs_err err = {0};
	const char *id = http_param(req, "id");

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (sessions_list(c, &who, NULL, NULL, req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	for (int i = 0; i < l.n; i++) {
		if (strcmp(l.items[i].id, id) == 0) {
			rest_reply(req, resp, 200, render_session(&l.items[i]), 0);
			return;
		}
	}
	rest_fail_status(req, resp, RS_E_NOT_FOUND, "session.not_found", NULL,
			 "no such live session of yours");
}

static void my_session_revoke(struct http_req *req, struct http_resp *resp, void *app)
{
	revoke_sessions(req, resp, app, NULL, NULL, http_param(req, "id"));
}

static void my_sessions_revoke(struct http_req *req, struct http_resp *resp, void *app)
{
	revoke_sessions(req, resp, app, NULL, NULL, NULL);
}

static void user_sessions(struct http_req *req, struct http_resp *resp, void *app)
{
	list_sessions(req, resp, app, http_param(req, "tenant"), http_param(req, "id"));
}

static void user_session_revoke(struct http_req *req, struct http_resp *resp, void *app)
{
	revoke_sessions(req, resp, app, http_param(req, "tenant"), http_param(req, "id"),
			http_param(req, "session_id"));
}

static void user_sessions_revoke(struct http_req *req, struct http_resp *resp, void *app)
{
	revoke_sessions(req, resp, app, http_param(req, "tenant"), http_param(req, "id"), NULL);
}

static void unlock(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct user u;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (users_unlock(c, &who, http_param(req, "tenant"), http_param(req, "id"), req->arena, &u,
			 &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_user(&u), u.version);
}

static void failures(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct page pg;
	struct login_failure_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who) || !rest_page_or_reply(req, resp, &pg))
		return;
	if (login_failures_list(c, &who, http_param(req, "tenant"), http_param(req, "id"), &pg,
				req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, json_pack("{s:s,s:o,s:o,s:o,s:s}", "id", l.items[i].id,
						       "at", js_time(l.items[i].at), "source_ip",
						       js_str(l.items[i].source_ip), "user_agent",
						       js_str(l.items[i].user_agent), "reason",
						       l.items[i].reason));
	rest_reply(req, resp, 200, render_list(items, l.next_cursor), 0);
}

static void password_change(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"current_password", "password", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct opt_str cur = {0}, pw = {0};
	struct rs_err err = {0};
	enum rs_status st;

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "current_password", &cur);
	jin_str_required(&j, "password", &pw);
	if (!jin_ok_or_reply(&j, req, resp) ||
	    !present_or_reply(req, resp, &cur, "current_password") ||
	    !present_or_reply(req, resp, &pw, "password")) {
		wipe(&cur);
		wipe(&pw);
		jin_release(&j);
		return;
	}
	st = me_password_change(c, &who, cur.v, pw.v, &err);
	wipe(&cur);
	wipe(&pw);
	jin_release(&j);
	if (st != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_no_content(resp);
}

static void password_set(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"password", "temporary", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct opt_str pw = {0};
	json_t *tmp;
	struct rs_err err = {0};
	enum rs_status st;

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "password", &pw);
	tmp = json_object_get(j.root, "temporary");
	if (tmp && !json_is_boolean(tmp) && !j.failed) {
		wipe(&pw);
		jin_release(&j);
		rest_fail_status(req, resp, RS_E_INVALID, "request.invalid_field", "temporary",
				 "'temporary' is true or false");
		return;
	}
	if (!jin_ok_or_reply(&j, req, resp) || !present_or_reply(req, resp, &pw, "password")) {
		wipe(&pw);
		jin_release(&j);
		return;
	}
	st = users_password_set(c, &who, http_param(req, "tenant"), http_param(req, "id"), pw.v,
				json_is_true(tmp), &err);
	wipe(&pw);
	jin_release(&j);
	if (st != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_no_content(resp);
}

static void action_done(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (me_required_done(c, &who, http_param(req, "action"), &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_no_content(resp);
}

enum rs_status rest_auth_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"POST", "/api/v1/auth/login", login},
	    {"POST", "/api/v1/auth/logout", logout},
	    {"GET", "/api/v1/me/sessions", my_sessions},
	    {"DELETE", "/api/v1/me/sessions", my_sessions_revoke},
	    {"GET", "/api/v1/me/sessions/{id}", my_session},
	    {"DELETE", "/api/v1/me/sessions/{id}", my_session_revoke},
	    {"GET", "/api/v1/tenants/{tenant}/users/{id}/sessions", user_sessions},
	    {"DELETE", "/api/v1/tenants/{tenant}/users/{id}/sessions", user_sessions_revoke},
	    {"DELETE", "/api/v1/tenants/{tenant}/users/{id}/sessions/{session_id}",
	     user_session_revoke},
	    {"POST", "/api/v1/tenants/{tenant}/users/{id}/unlock", unlock},
	    {"GET", "/api/v1/tenants/{tenant}/users/{id}/login-failures", failures},
	    {"POST", "/api/v1/tenants/{tenant}/users/{id}/password", password_set},
	    {"POST", "/api/v1/me/password", password_change},
	    {"POST", "/api/v1/me/required-actions/{action}", action_done},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
