/* REST adapter plumbing: bearer authentication, typed JSON input, ETags and paging. */
#include "api/rest/rest_int.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

void rest_fail(struct http_req *req, struct http_resp *resp, const struct rs_err *err)
{
	http_problem(req, resp, err);
}

void rest_fail_status(struct http_req *req, struct http_resp *resp, enum rs_status st,
		      const char *code, const char *field, const char *msg)
{
	struct rs_err err = {0};

	rs_fail(&err, st, code, field, "%s", msg);
	http_problem(req, resp, &err);
}

bool rest_actor_or_reply(struct http_req *req, struct http_resp *resp, struct core *c,
			 struct actor *who)
{
	const char *h = http_header(req, "Authorization");
	const char *cookie = http_cookie(req, REST_SESSION_COOKIE);
	struct rs_err err = {0};

	/* A browser's session cookie; an Authorization header wins when both are sent. */
	if ((!h || !*h) && cookie) {
		bool safe = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;

		if (auth_session(c, cookie, safe, http_header(req, "X-CSRF-Token"), who, &err) !=
		    RS_OK) {
			rest_fail(req, resp, &err);
			return false;
		}
		who->request_id = req->request_id;
		who->source_ip = req->source_ip;
		return true;
	}
	if (!h || !*h) {
		rest_fail_status(req, resp, RS_E_UNAUTHENTICATED, "auth.missing_token", NULL,
				 "send an API token as 'Authorization: Bearer <token>'");
		return false;
	}
	/* API users' signed requests (ThreatConnect's scheme name, any case). */
	if (strncasecmp(h, "TC ", 3) == 0)
		return rest_signed_actor(req, resp, c, h + 3, who);
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		rest_fail_status(req, resp, RS_E_UNAUTHENTICATED, "auth.invalid_token", NULL,
				 "the token is invalid, expired or revoked");
		return false;
	}
	h += 7;
	while (*h == ' ')
		h++;
	/* A JWT (header.payload.signature, the header base64url of '{"'): a session's access
	 * token; anything else is an API token. */
	if (strncmp(h, "eyJ", 3) == 0 && strchr(h, '.')) {
		if (auth_access_token(c, h, who, &err) != RS_OK) {
			rest_fail(req, resp, &err);
			return false;
		}
	} else if (auth_bearer(c, h, who, &err) != RS_OK) {
		rest_fail(req, resp, &err);
		return false;
	}
	who->request_id = req->request_id;
	who->source_ip = req->source_ip;
	return true;
}

/* ---- JSON input -------------------------------------------------------------------------- */

static void jin_error(struct jin *j, const char *code, const char *field, const char *msg)
{
	if (j->failed)
		return;
	j->failed = true;
	rs_fail(&j->err, RS_E_INVALID, code, field, "%s", msg);
}

bool jin_parse_or_reply(struct jin *j, struct http_req *req, struct http_resp *resp)
{
	json_error_t jerr;

	memset(j, 0, sizeof(*j));
	j->a = req->arena;
	if (!req->body || req->body_len == 0) {
		rest_fail_status(req, resp, RS_E_INVALID, "request.malformed_json", NULL,
				 "a JSON object body is required");
		return false;
	}
	j->root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j->root) {
		char msg[256];

		snprintf(msg, sizeof(msg), "malformed JSON at line %d column %d: %s", jerr.line,
			 jerr.column, jerr.text);
		rest_fail_status(req, resp, RS_E_INVALID, "request.malformed_json", NULL, msg);
		return false;
	}
	if (!json_is_object(j->root)) {
		json_decref(j->root);
		j->root = NULL;
		rest_fail_status(req, resp, RS_E_INVALID, "request.malformed_json", NULL,
				 "the body must be a JSON object");
		return false;
	}
	return true;
}

void jin_release(struct jin *j)
{
	json_decref(j->root);
	j->root = NULL;
}

void jin_only(struct jin *j, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(j->root, key, v)
	{
		bool ok = false;

		(void)v;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, key) == 0;
		if (!ok) {
			char msg[200];

			snprintf(msg, sizeof(msg), "unknown field '%.100s'", key);
			jin_error(j, "request.unknown_field", key, msg);
			return;
		}
	}
}

static void type_error(struct jin *j, const char *key, const char *want)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "'%s' must be %s", key, want);
	jin_error(j, "request.invalid_field", key, msg);
}

void jin_str(struct jin *j, const char *key, struct opt_str *out)
{
	json_t *v = json_object_get(j->root, key);

	out->set = false;
	out->v = NULL;
	if (!v)
		return;
	out->set = true;
	if (json_is_null(v))
		return;
	if (!json_is_string(v)) {
		type_error(j, key, "a string");
		return;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		type_error(j, key, "a string without NUL characters");
		return;
	}
	out->v = arena_strdup(j->a, json_string_value(v));
}

void jin_str_required(struct jin *j, const char *key, struct opt_str *out)
{
	jin_str(j, key, out);
	if (out->set && !out->v)
		type_error(j, key, "a string, not null");
}

void jin_int(struct jin *j, const char *key, struct opt_int *out)
{
	json_t *v = json_object_get(j->root, key);

	memset(out, 0, sizeof(*out));
	if (!v)
		return;
	out->set = true;
	if (json_is_null(v)) {
		out->null = true;
		return;
	}
	if (!json_is_integer(v)) {
		type_error(j, key, "an integer");
		return;
	}
	out->v = json_integer_value(v);
}

void jin_strs(struct jin *j, const char *key, bool *set, const char *const **out, int *n)
{
	json_t *v = json_object_get(j->root, key), *e;
	const char **arr;
	size_t i;

	*set = false;
	*out = NULL;
	*n = 0;
	if (!v)
		return;
	*set = true;
	if (json_is_null(v))
		return;
	if (!json_is_array(v) || json_array_size(v) > 64) {
		type_error(j, key, "an array of at most 64 strings");
		return;
	}
	arr = arena_alloc(j->a, (json_array_size(v) + 1) * sizeof(*arr));
	if (!arr) {
		type_error(j, key, "smaller");
		return;
	}
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e)) {
			type_error(j, key, "an array of strings");
			return;
		}
		arr[i] = arena_strdup(j->a, json_string_value(e));
	}
	*out = arr;
	*n = (int)json_array_size(v);
}

void jin_object(struct jin *j, const char *key, struct opt_str *out)
{
	json_t *v = json_object_get(j->root, key);
	char *s;

	out->set = false;
	out->v = NULL;
	if (!v)
		return;
	out->set = true;
	if (json_is_null(v))
		return;
	if (!json_is_object(v)) {
		type_error(j, key, "an object");
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s) {
		type_error(j, key, "serialisable");
		return;
	}
	out->v = arena_strdup(j->a, s);
	free(s);
}

bool jin_ok_or_reply(struct jin *j, struct http_req *req, struct http_resp *resp)
{
	if (!j->failed)
		return true;
	rest_fail(req, resp, &j->err);
	return false;
}

/* ---- output -----------------------------------------------------------------------------------
 */

void rest_reply(struct http_req *req, struct http_resp *resp, int status, json_t *v,
		int64_t etag_version)
{
	char *s = json_dumps(v, JSON_COMPACT);
	char *body;

	json_decref(v);
	body = s ? arena_strdup(req->arena, s) : NULL;
	free(s);
	if (!body) {
		rest_fail_status(req, resp, RS_E_INTERNAL, "internal.out_of_memory", NULL,
				 "out of memory");
		return;
	}
	if (etag_version > 0)
		http_resp_header(req, resp, "ETag", str_weak_etag(req->arena, etag_version));
	http_resp_json(resp, status, body, strlen(body));
}

void rest_no_content(struct http_resp *resp)
{
	resp->status = 204;
	resp->body = "";
	resp->body_len = 0;
}

void rest_delete(struct http_req *req, struct http_resp *resp, struct core *c, rest_delete_fn del)
{
	struct actor who;
	struct rs_err err = {0};

	if (!rest_actor_or_reply(req, resp, c, &who))
		return;
	if (del(c, &who, http_param(req, "tenant"), http_param(req, "id"), http_if_match(req),
		&err) != RS_OK) {
		rest_fail(req, resp, &err);
		return;
	}
	rest_no_content(resp);
}

bool rest_page_or_reply(struct http_req *req, struct http_resp *resp, struct page *pg)
{
	const char *l = http_query(req, "limit");
	long long v;

	pg->cursor = http_query(req, "cursor");
	pg->limit = 0;
	if (pg->cursor && !*pg->cursor)
		pg->cursor = NULL;
	if (!l)
		return true;
	if (!str_to_ll(l, 1, LLONG_MAX, &v)) {
		rest_fail_status(req, resp, RS_E_INVALID, "request.invalid_parameter", "limit",
				 "'limit' must be a positive integer (at most 200 are returned)");
		return false;
	}
	pg->limit = v > RS_LIST_LIMIT_MAX ? RS_LIST_LIMIT_MAX : (int)v;
	return true;
}

enum rs_status rest_routes_add(struct http_router *r, struct core *c,
			       const struct rest_route *routes, size_t n, struct rs_err *err)
{
	for (size_t i = 0; i < n; i++) {
		enum rs_status st = http_route_add(r, routes[i].method, routes[i].pattern,
						   HTTP_ROUTE_JSON_BODY, routes[i].fn, c, err);
		if (st != RS_OK)
			return st;
	}
	return RS_OK;
}

enum rs_status rest_routes_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	enum rs_status (*const regs[])(struct http_router *, struct core *, struct rs_err *) = {
	    rest_meta_register,	       rest_jwks_register,
	    rest_tenants_register,     rest_users_register,
	    rest_roles_register,       rest_groups_register,
	    rest_departments_register, rest_tokens_register,
	    rest_audit_register,       rest_jobs_register,
	    rest_tasks_register,       rest_auth_register,
	    rest_oauth_register,       rest_webhooks_register,
	    rest_outbox_register,      rest_email_templates_register,
	    rest_invitations_register, rest_resources_register,
	    rest_api_users_register,
	};

	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		enum rs_status st = regs[i](r, c, err);

		if (st != RS_OK)
			return st;
	}
	return RS_OK;
}
