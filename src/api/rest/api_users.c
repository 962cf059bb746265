/* /api/v1/tenants/{tenant}/api-users and …/users/{id}/api-credentials, and the signed-request
 * scheme "Authorization: TC <access id>:<signature>" with a Timestamp header
 * (docs/authentication.md "API users"). Parse, call the core, render: the secret key of an
 * answer is in the arena only, never logged. */
#include "api/rest/rest_int.h"

#include <string.h>
#include <strings.h>

#include "crypto/crypto.h"

static json_t *render_credential(const struct api_credential *k)
{
	return json_pack("{s:s,s:s,s:s,s:b,s:o,s:o,s:o}", "access_id", k->access_id, "tenant_id",
			 k->tenant_id, "user_id", k->user_id, "disabled", k->disabled, "created_at",
			 js_time(k->created_at), "expires_at", js_time(k->expires_at),
			 "last_used_at", js_time(k->last_used_at));
}

static const char *cred_path(struct http_req *req, const struct api_credential *k)
{
	return arena_printf(req->arena, "/api/v1/tenants/%s/users/%s/api-credentials/%s",
			    k->tenant_id, k->user_id, k->access_id);
}

/* Wipes the secret key of an answer once it is rendered: the arena lives on until the
 * response has been sent, but nothing after this needs the key itself. */
static void forget(const char *secret)
{
	if (secret)
		crypto_wipe((char *)secret, strlen(secret));
}

static void create_user(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {
	    "first_name",    "last_name",	  "system_role", "roles",
	    "department_id", "token_expiry_days", "disabled",	 NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct opt_str first, last, sysrole, dept;
	struct opt_int days;
	struct api_user_req q = {0};
	struct user u;
	struct api_credential k;
	const char *secret = NULL;
	bool roles_set = false;
	json_t *dis, *v;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	jin_str_required(&j, "first_name", &first);
	jin_str_required(&j, "last_name", &last);
	jin_str(&j, "system_role", &sysrole);
	jin_str(&j, "department_id", &dept);
	jin_strs(&j, "roles", &roles_set, &q.roles, &q.nroles);
	jin_int(&j, "token_expiry_days", &days);
	dis = json_object_get(j.root, "disabled");
	if (dis && !json_is_boolean(dis) && !j.failed) {
		j.failed = true;
		rs_fail(&j.err, RS_E_INVALID, "request.invalid_field", "disabled",
			"'disabled' must be true or false");
	}
	q.disabled = dis && json_is_true(dis);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	q.first_name = first.v;
	q.last_name = last.v;
	q.system_role = sysrole.v;
	q.department_id = dept.v;
	q.token_expiry_days = days.set && !days.null ? days.v : 0;
	if (api_users_create(c, &who, http_param(req, "tenant"), &q, req->arena, &u, &k, &secret,
			     &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	v = json_pack("{s:o,s:s,s:s,s:o}", "user", render_user(&u), "access_id", k.access_id,
		      "secret_key", secret, "token_expires_at", js_time(k.expires_at));
	forget(secret);
	http_resp_header(
	    req, resp, "Location",
	    arena_printf(req->arena, "/api/v1/tenants/%s/users/%s", u.tenant_id, u.id));
	rest_reply(req, resp, 201, v, 0);
}

/* An optional body {"token_expiry_days": n, "disabled": b} (only the members in allowed). */
static bool cred_body_or_reply(struct http_req *req, struct http_resp *resp,
			       const char *const *allowed, struct api_credential_req *q)
{
	struct jin j;
	struct opt_int days;
	json_t *dis;

	memset(q, 0, sizeof(*q));
	if (!req->body || req->body_len == 0)
		return true;
	if (!jin_parse_or_reply(&j, req, resp))
		return false;
	jin_only(&j, allowed);
	jin_int(&j, "token_expiry_days", &days);
	dis = json_object_get(j.root, "disabled");
	if (dis && !json_is_boolean(dis) && !j.failed) {
		j.failed = true;
		rs_fail(&j.err, RS_E_INVALID, "request.invalid_field", "disabled",
			"'disabled' must be true or false");
	}
	q->disabled = dis && json_is_true(dis);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return false;
	q->token_expiry_days = days.set && !days.null ? days.v : 0;
	return true;
}

static void create_cred(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"token_expiry_days", "disabled", NULL};
	struct core *c = app;
	struct actor who;
	struct api_credential_req q;
	struct api_credential k;
	const char *secret = NULL;
	struct rs_err err = {0};
	json_t *v;

	if (!rest_actor_or_reply(req, resp, c, &who) || !cred_body_or_reply(req, resp, allowed, &q))
		return;
	if (api_credentials_create(c, &who, http_param(req, "tenant"), http_param(req, "id"), &q,
				   req->arena, &k, &secret, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	v = json_pack("{s:o,s:s}", "credential", render_credential(&k), "secret_key", secret);
	forget(secret);
	http_resp_header(req, resp, "Location", cred_path(req, &k));
	rest_reply(req, resp, 201, v, 0);
}

static void list_creds(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct api_credential_list l;
	struct rs_err err = {0};
	json_t *items;

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (api_credentials_list(c, &who, http_param(req, "tenant"), http_param(req, "id"),
				 req->arena, &l, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	items = json_array();
	for (int i = 0; i < l.n; i++)
		json_array_append_new(items, render_credential(&l.items[i]));
	rest_reply(req, resp, 200, render_list(items, NULL), 0);
}

static void get_cred(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct api_credential k;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (api_credentials_get(c, &who, http_param(req, "tenant"), http_param(req, "id"),
				http_param(req, "access_id"), req->arena, &k, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_credential(&k), 0);
}

static void rotate_cred(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"token_expiry_days", NULL};
	struct core *c = app;
	struct actor who;
	struct api_credential_req q;
	struct api_credential k;
	const char *secret = NULL;
	struct rs_err err = {0};
	json_t *v;

	if (!rest_actor_or_reply(req, resp, c, &who) || !cred_body_or_reply(req, resp, allowed, &q))
		return;
	if (api_credentials_rotate(c, &who, http_param(req, "tenant"), http_param(req, "id"),
				   http_param(req, "access_id"), &q, req->arena, &k, &secret,
				   &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	v = json_pack("{s:o,s:s}", "credential", render_credential(&k), "secret_key", secret);
	forget(secret);
	rest_reply(req, resp, 200, v, 0);
}

static void patch_cred(struct http_req *req, struct http_resp *resp, void *app)
{
	static const char *const allowed[] = {"disabled", NULL};
	struct core *c = app;
	struct actor who;
	struct jin j;
	struct api_credential k;
	struct rs_err err = {0};
	json_t *dis;
	bool disabled;

	if (!rest_actor_or_reply(req, resp, c, &who) || !jin_parse_or_reply(&j, req, resp))
		return;
	jin_only(&j, allowed);
	dis = json_object_get(j.root, "disabled");
	if (!j.failed && (!dis || !json_is_boolean(dis))) {
		j.failed = true;
		rs_fail(&j.err, RS_E_INVALID, "request.invalid_field", "disabled",
			"'disabled' (true or false) is required");
	}
	disabled = dis && json_is_true(dis);
	jin_release(&j);
	if (!jin_ok_or_reply(&j, req, resp))
		return;
	if (api_credentials_set_disabled(c, &who, http_param(req, "tenant"), http_param(req, "id"),
					 http_param(req, "access_id"), disabled, req->arena, &k,
					 &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_reply(req, resp, 200, render_credential(&k), 0);
}

static void delete_cred(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (api_credentials_delete(c, &who, http_param(req, "tenant"), http_param(req, "id"),
				   http_param(req, "access_id"), &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_no_content(resp);
}

bool rest_signed_actor(struct http_req *req, struct http_resp *resp, struct core *c,
		       const char *value, struct actor *who)
{
	char access_id[API_ACCESS_ID_LEN + 1];
	const char *colon;
	struct signed_req q = {0};
	struct rs_err err = {0};
	size_t n;

	while (value && *value == ' ')
		value++;
	colon = value ? strchr(value, ':') : NULL;
	n = colon ? (size_t)(colon - value) : 0;
	/* A malformed credential answers as a wrong signature does: there is one refusal. */
	if (!colon || n != API_ACCESS_ID_LEN) {
		rest_fail_status(req, resp, RS_E_UNAUTHENTICATED, "auth.invalid_signature", NULL,
				 "the request signature is invalid, or its access id is unknown, "
				 "disabled or expired");
		return false;
	}
	memcpy(access_id, value, n);
	access_id[n] = '\0';
	q.access_id = access_id;
	q.signature = colon + 1;
	q.method = req->method;
	q.path = req->target;
	q.timestamp = http_header(req, "Timestamp");
	if (auth_signed(c, &q, who, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return false;
	}
	who->request_id = req->request_id;
	who->source_ip = req->source_ip;
	return true;
}

enum rs_status rest_api_users_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct rest_route routes[] = {
	    {"POST", "/api/v1/tenants/{tenant}/api-users", create_user},
	    {"GET", "/api/v1/tenants/{tenant}/users/{id}/api-credentials", list_creds},
	    {"POST", "/api/v1/tenants/{tenant}/users/{id}/api-credentials", create_cred},
	    {"GET", "/api/v1/tenants/{tenant}/users/{id}/api-credentials/{access_id}", get_cred},
	    {"PATCH", "/api/v1/tenants/{tenant}/users/{id}/api-credentials/{access_id}",
	     patch_cred},
	    {"DELETE", "/api/v1/tenants/{tenant}/users/{id}/api-credentials/{access_id}",
	     delete_cred},
	    {"POST", "/api/v1/tenants/{tenant}/users/{id}/api-credentials/{access_id}/rotate",
	     rotate_cred},
	};

	return REST_ROUTES_ADD(r, c, routes, err);
}
