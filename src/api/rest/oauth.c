/* /oauth2/token (RFC 6749), /oauth2/introspect (RFC 7662), /oauth2/revoke (RFC 7009): form
 * bodies in, OAuth's own JSON error format out ({"error", "error_description"}), as OAuth
 * clients expect, and never cached. */
#include "api/rest/rest_int.h"

#include <string.h>
#include <strings.h>

#define FORM_TYPE "application/x-www-form-urlencoded"

/* The OAuth error codes of RFC 6749 5.2 for roster's failures. */
static const char *oauth_code(const struct rs_err *err)
{
	if (strncmp(err->code, "oauth.", 6) == 0)
		return err->code + 6;
	if (err->status == RS_E_UNAUTHENTICATED)
		return "invalid_client"; /* auth.invalid_client: the client's credentials */
	if (err->status == RS_E_UNAVAILABLE)
		return "temporarily_unavailable";
	if (err->status == RS_E_INTERNAL)
		return "server_error";
	return "invalid_request";
}

static void oauth_reply(struct http_req *req, struct http_resp *resp, int status, json_t *body)
{
	http_resp_header(req, resp, "Cache-Control", "no-store");
	http_resp_header(req, resp, "Pragma", "no-cache");
	rest_reply(req, resp, status, body, 0);
}

static void oauth_fail(struct http_req *req, struct http_resp *resp, const struct rs_err *err)
{
	const char *code = oauth_code(err);
	int status = strcmp(code, "invalid_client") == 0	    ? 401
		     : strcmp(code, "server_error") == 0	    ? 500
		     : strcmp(code, "temporarily_unavailable") == 0 ? 503
								    : 400;

	if (status == 401)
		http_resp_header(req, resp, "WWW-Authenticate", "Basic realm=\"roster\"");
	oauth_reply(req, resp, status,
		    json_pack("{s:s,s:s}", "error", code, "error_description", err->msg));
}

static void oauth_fail_with(struct http_req *req, struct http_resp *resp, const char *code,
			    const char *msg)
{
	struct rs_err err = {.status = RS_E_INVALID};

	snprintf(err.code, sizeof(err.code), "oauth.%s", code);
	snprintf(err.msg, sizeof(err.msg), "%s", msg);
	oauth_fail(req, resp, &err);
}

/* A form body, and each parameter given once (RFC 6749 3.2: a repeated one is an error). */
static bool form_or_reply(struct http_req *req, struct http_resp *resp)
{
	const char *ct = http_header(req, "Content-Type");

	if (!ct || strncasecmp(ct, FORM_TYPE, sizeof(FORM_TYPE) - 1) != 0) {
		oauth_fail_with(req, resp, "invalid_request", "the body must be " FORM_TYPE);
		return false;
	}
	return true;
}

static bool param_or_reply(struct http_req *req, struct http_resp *resp, const char *name,
			   bool required, const char **v)
{
	int n = http_form(req, name, v);

	if (n < 0 || n > 1 || (required && n == 0) || (n == 1 && !**v && required)) {
		oauth_fail_with(req, resp, "invalid_request",
				arena_printf(req->arena,
					     n < 0   ? "the form body can't be read"
					     : n > 1 ? "'%s' is given more than once"
						     : "'%s' is required",
					     name));
		return false;
	}
	return true;
}

/* client_credentials: the client authenticates with HTTP Basic or with client_id and
 * client_secret in the body, not both (RFC 6749 2.3.1). */
static void client_grant(struct http_req *req, struct http_resp *resp, struct core *c)
{
	const char *bid = NULL, *bsecret = NULL, *fid, *fsecret;
	bool basic = http_header(req, "Authorization") && http_basic_auth(req, &bid, &bsecret);
	struct oauth_tokens out;
	struct rs_err err = {0};

	if (!param_or_reply(req, resp, "client_id", false, &fid) ||
	    !param_or_reply(req, resp, "client_secret", false, &fsecret))
		return;
	if (basic && (fid || fsecret)) {
		oauth_fail_with(
		    req, resp, "invalid_request",
		    "authenticate with HTTP Basic or with client_id and client_secret, not "
		    "both");
		return;
	}
	if (!basic && (!fid || !fsecret)) {
		err = (struct rs_err){.status = RS_E_UNAUTHENTICATED};
		snprintf(err.code, sizeof(err.code), "oauth.invalid_client");
		snprintf(err.msg, sizeof(err.msg), "the client must authenticate");
		oauth_fail(req, resp, &err);
		return;
	}
	if (oauth_client_credentials(c, basic ? bid : fid, basic ? bsecret : fsecret, req->arena,
				     &out, &err) != RS_OK) {
		oauth_fail(req, resp, &err);
		return;
	}
	oauth_reply(req, resp, 200,
		    json_pack("{s:s,s:s,s:I}", "access_token", out.access_token, "token_type",
			      "Bearer", "expires_in", (json_int_t)out.expires_in_s));
}

static void token(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	const char *grant, *refresh;
	struct oauth_tokens out;
	struct rs_err err = {0};

	if (!form_or_reply(req, resp) || !param_or_reply(req, resp, "grant_type", true, &grant))
		return;
	if (strcmp(grant, "client_credentials") == 0) {
		client_grant(req, resp, c);
		return;
	}
	if (strcmp(grant, "refresh_token") != 0) {
		oauth_fail_with(req, resp, "unsupported_grant_type",
				"grant_type is refresh_token or client_credentials");
		return;
	}
	if (!param_or_reply(req, resp, "refresh_token", true, &refresh))
		return;
	if (oauth_refresh(c, refresh, req->source_ip, req->arena, &out, &err) != RS_OK) {
		oauth_fail(req, resp, &err);
		return;
	}
	oauth_reply(req, resp, 200,
		    json_pack("{s:s,s:s,s:I,s:s,s:o}", "access_token", out.access_token,
			      "token_type", "Bearer", "expires_in", (json_int_t)out.expires_in_s,
			      "refresh_token", out.refresh_token, "refresh_expires_at",
			      js_time(out.refresh_expires_at)));
}

static void introspect(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	const char *tok;
	struct introspection in;
	struct rs_err err = {0};
	json_t *body;

	if (!rest_actor_or_reply(req, resp, c, &who) || !form_or_reply(req, resp) ||
	    !param_or_reply(req, resp, "token", true, &tok))
		return;
	if (oauth_introspect(c, &who, tok, req->arena, &in, &err) != RS_OK) {
		oauth_fail(req, resp, &err);
		return;
	}
	if (!in.active) {
		oauth_reply(req, resp, 200, json_pack("{s:b}", "active", 0));
		return;
	}
	/* RFC 7662: members that don't apply are absent, not null. */
	body = json_pack("{s:b}", "active", 1);
	{
		const char *const kv[][2] = {{"sub", in.sub},
					     {"tenant_id", in.tenant_id},
					     {"sid", in.sid},
					     {"client_id", in.client_id},
					     {"username", in.username},
					     {"scope", in.scope},
					     {"token_type", in.token_type}};

		for (size_t i = 0; body && i < sizeof(kv) / sizeof(kv[0]); i++) {
			if (kv[i][1])
				json_object_set_new(body, kv[i][0], json_string(kv[i][1]));
		}
	}
	if (body && in.exp)
		json_object_set_new(body, "exp", json_integer(in.exp / 1000));
	if (body && in.iat)
		json_object_set_new(body, "iat", json_integer(in.iat / 1000));
	oauth_reply(req, resp, 200, body);
}

static void revoke(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	const char *tok;
	struct rs_err err = {0};

	/* RFC 7009: holding the token is the right to end it; nothing else is asked. */
	if (!form_or_reply(req, resp) || !param_or_reply(req, resp, "token", true, &tok))
		return;
	if (oauth_revoke(c, tok, &err) != RS_OK) {
		oauth_fail(req, resp, &err);
		return;
	}
	oauth_reply(req, resp, 200, json_object());
}

enum rs_status rest_oauth_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct {
		const char *pattern;
		http_handler_fn fn;
	} routes[] = {
	    {"/oauth2/token", token},
	    {"/oauth2/introspect", introspect},
	    {"/oauth2/revoke", revoke},
	};

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		/* Form bodies, not JSON: registered without HTTP_ROUTE_JSON_BODY. */
		enum rs_status st =
		    http_route_add(r, "POST", routes[i].pattern, 0, routes[i].fn, c, err);

		if (st != RS_OK)
			return st;
	}
	return RS_OK;
}
