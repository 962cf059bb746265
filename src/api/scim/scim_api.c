/* /scim/v2: replies and errors in SCIM's formats, bearer authentication, bodies, projection,
 * and the discovery endpoints (RFC 7644 section 4), generated from src/scim's schema
 * descriptions so that what is advertised is what the adapter maps. */
#include "api/scim/scim_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/str.h"
#include "util/timeutil.h"

void scim_reply(struct http_req *req, struct http_resp *resp, int status, json_t *body,
		int64_t version)
{
	char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
	const char *out = s ? arena_strdup(req->arena, s) : NULL;

	free(s);
	json_decref(body);
	if (!out) {
		http_resp_json(resp, 500, "{}", 2);
		return;
	}
	if (version > 0)
		http_resp_header(req, resp, "ETag", str_weak_etag(req->arena, version));
	http_resp_json(resp, status, out, strlen(out));
	resp->content_type = SCIM_CT;
}

json_t *scim_error_json(struct arena *a, int status, const char *scim_type, const char *detail)
{
	json_t *b = json_pack("{s:[s],s:s,s:s}", "schemas", SCIM_URN_ERROR, "status",
			      arena_printf(a, "%d", status), "detail", detail ? detail : "");

	if (b && scim_type)
		json_object_set_new(b, "scimType", json_string(scim_type));
	return b;
}

void scim_error(struct http_req *req, struct http_resp *resp, int status, const char *scim_type,
		const char *detail)
{
	json_t *b = scim_error_json(req->arena, status, scim_type, detail);

	if (status == 401)
		http_resp_header(req, resp, "WWW-Authenticate", "Bearer realm=\"roster\"");
	scim_reply(req, resp, status, b, 0);
}

void scim_fail_core(struct http_req *req, struct http_resp *resp, const struct rs_err *err)
{
	int status = http_status_of(err->status);
	const char *type = NULL;

	if (err->status == RS_E_CONFLICT &&
	    (strstr(err->code, "taken") || strcmp(err->code, "store.unique") == 0))
		type = "uniqueness";
	else if (err->status == RS_E_INVALID)
		type = SCIM_INVALID_VALUE;
	else if (err->status == RS_E_TOO_LARGE)
		type = "tooMany";
	if (err->status == RS_E_UNAVAILABLE)
		http_resp_header(req, resp, "Retry-After", "1");
	scim_error(req, resp, status, type, err->msg);
}

void scim_fail_scim(struct http_req *req, struct http_resp *resp, const struct scim_err *e)
{
	const char *d = e->detail;

	if (e->op >= 0)
		d = arena_printf(req->arena, "operation %d: %s", e->op, e->detail);
	scim_error(req, resp, 400, e->scim_type ? e->scim_type : SCIM_INVALID_VALUE, d);
}

bool scim_actor_or_reply(struct http_req *req, struct http_resp *resp, struct core *c,
			 struct actor *who)
{
	const char *h = http_header(req, "Authorization");
	struct rs_err err = {0};
	enum rs_status st;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
		scim_error(req, resp, 401, NULL,
			   "send a tenant API token as 'Authorization: Bearer <token>'");
		return false;
	}
	h += 7;
	while (*h == ' ')
		h++;
	/* The same two credentials as REST (api/rest/rest.c): a JWT access token or an API
	 * token. Session cookies are not accepted: an identity provider has none. */
	if (strncmp(h, "eyJ", 3) == 0 && strchr(h, '.'))
		st = auth_access_token(c, h, who, &err);
	else
		st = auth_bearer(c, h, who, &err);
	if (st == RS_OK) {
		who->request_id = req->request_id;
		who->source_ip = req->source_ip;
		st = actor_require(who, PERM_SCIM_PROVISION, &err);
	}
	if (st != RS_OK) {
		scim_fail_core(req, resp, &err);
		return false;
	}
	return true;
}

json_t *scim_body_or_reply(struct http_req *req, struct http_resp *resp)
{
	const char *ct = http_header(req, "Content-Type");
	json_error_t jerr;
	json_t *root;

	if (ct) {
		size_t n = strcspn(ct, ";");

		while (n > 0 && ct[n - 1] == ' ')
			n--;
		if (!((n == strlen(SCIM_CT) && strncasecmp(ct, SCIM_CT, n) == 0) ||
		      (n == 16 && strncasecmp(ct, "application/json", n) == 0) ||
		      /* Okta's documented exchanges label JSON text/json. */
		      (n == 9 && strncasecmp(ct, "text/json", n) == 0))) {
			scim_error(req, resp, 415, NULL,
				   "send application/scim+json, application/json or text/json");
			return NULL;
		}
	}
	if (!req->body || req->body_len == 0) {
		scim_error(req, resp, 400, SCIM_INVALID_SYNTAX, "a JSON object body is required");
		return NULL;
	}
	root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		scim_error(req, resp, 400, SCIM_INVALID_SYNTAX,
			   arena_printf(req->arena, "the body is not a JSON object: %s",
					root ? "another JSON value" : jerr.text));
		return NULL;
	}
	return root;
}

/* ---- attributes / excludedAttributes ----------------------------------------------------- */

/* Splits one requested name into (container, attribute, sub-attribute): a core-schema URN
 * prefix is dropped, an extension URN prefix names the extension object. */
struct proj_name {
	char urn[96];
	char attr[64];
	char sub[64];
};

static bool proj_parse(const char *s, size_t n, struct proj_name *p)
{
	char buf[256];
	const char *name = buf, *dot;
	size_t i;

	memset(p, 0, sizeof(*p));
	while (n > 0 && *s == ' ')
		s++, n--;
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strncasecmp(buf, "urn:", 4) == 0) {
		if (strncasecmp(buf, SCIM_URN_USER ":", strlen(SCIM_URN_USER) + 1) == 0)
			name = buf + strlen(SCIM_URN_USER) + 1;
		else if (strncasecmp(buf, SCIM_URN_GROUP ":", strlen(SCIM_URN_GROUP) + 1) == 0)
			name = buf + strlen(SCIM_URN_GROUP) + 1;
		else if (strncasecmp(buf, SCIM_URN_ENTERPRISE, strlen(SCIM_URN_ENTERPRISE)) == 0) {
			snprintf(p->urn, sizeof(p->urn), "%s", SCIM_URN_ENTERPRISE);
			name = buf + strlen(SCIM_URN_ENTERPRISE);
			if (*name == ':')
				name++;
			if (!*name) {
				/* The whole extension. */
				snprintf(p->attr, sizeof(p->attr), "%s", SCIM_URN_ENTERPRISE);
				p->urn[0] = '\0';
				return true;
			}
		} else
			return false;
	}
	dot = strchr(name, '.');
	i = dot ? (size_t)(dot - name) : strlen(name);
	if (i == 0 || i >= sizeof(p->attr))
		return false;
	memcpy(p->attr, name, i);
	p->attr[i] = '\0';
	if (dot)
		snprintf(p->sub, sizeof(p->sub), "%s", dot + 1);
	return true;
}

static const char *real_key(const json_t *obj, const char *name)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
	{
		if (strcasecmp(k, name) == 0)
			return k;
	}
	return NULL;
}

/* Keeps in dst what p names of src (attributes=) */
static void proj_keep(json_t *dst, const json_t *src, const struct proj_name *p)
{
	const json_t *from = src;
	json_t *to = dst, *v;
	const char *k;

	if (p->urn[0]) {
		const char *uk = real_key(src, p->urn);

		if (!uk)
			return;
		from = json_object_get(src, uk);
		to = json_object_get(dst, uk);
		if (!to) {
			to = json_object();
			json_object_set_new(dst, uk, to);
		}
	}
	if (!(k = real_key(from, p->attr)))
		return;
	v = json_object_get(from, k);
	if (!p->sub[0] || !(json_is_object(v) || json_is_array(v))) {
		json_object_set(to, k, v);
		return;
	}
	if (json_is_object(v)) {
		const char *sk = real_key(v, p->sub);
		json_t *o = json_object_get(to, k);

		if (!sk)
			return;
		if (!json_is_object(o)) {
			o = json_object();
			json_object_set_new(to, k, o);
		}
		json_object_set(o, sk, json_object_get(v, sk));
		return;
	}
	/* A multi-valued complex attribute: that sub-attribute of each value. */
	{
		json_t *arr = json_array(), *e;
		size_t i;

		json_array_foreach(v, i, e)
		{
			const char *sk = real_key(e, p->sub);
			json_t *o = json_object();

			if (sk)
				json_object_set(o, sk, json_object_get(e, sk));
			json_array_append_new(arr, o);
		}
		json_object_set_new(to, k, arr);
	}
}

static void proj_drop(json_t *res, const struct proj_name *p)
{
	json_t *from = res, *v;
	const char *k;

	if (p->urn[0]) {
		const char *uk = real_key(res, p->urn);

		if (!uk)
			return;
		from = json_object_get(res, uk);
	}
	if (!(k = real_key(from, p->attr)) || strcasecmp(k, "id") == 0 ||
	    strcasecmp(k, "schemas") == 0)
		return;
	if (!p->sub[0]) {
		json_object_del(from, k);
		return;
	}
	v = json_object_get(from, k);
	if (json_is_object(v)) {
		const char *sk = real_key(v, p->sub);

		if (sk)
			json_object_del(v, sk);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;

		json_array_foreach(v, i, e)
		{
			const char *sk = real_key(e, p->sub);

			if (sk)
				json_object_del(e, sk);
		}
	}
}

void scim_project(json_t *res, const char *attributes, const char *excluded)
{
	const char *list = attributes && *attributes ? attributes : excluded;
	struct proj_name p;
	json_t *keep;

	if (!list || !*list)
		return;
	keep = json_object();
	for (const char *s = list; *s;) {
		size_t n = strcspn(s, ",");

		if (proj_parse(s, n, &p)) {
			if (list == attributes)
				proj_keep(keep, res, &p);
			else
				proj_drop(res, &p);
		}
		s += n;
		if (*s == ',')
			s++;
	}
	if (list == attributes) {
		/* RFC 7643 section 7: id (and the schemas) are returned "always". */
		json_object_set(keep, "id", json_object_get(res, "id"));
		json_object_set(keep, "schemas", json_object_get(res, "schemas"));
		json_object_clear(res);
		json_object_update(res, keep);
	}
	json_decref(keep);
}

/* ---- Discovery ------------------------------------------------------------------------------ */

static const char *const type_names[] = {
    [SCIM_T_STRING] = "string",	      [SCIM_T_BOOLEAN] = "boolean",   [SCIM_T_DECIMAL] = "decimal",
    [SCIM_T_INTEGER] = "integer",     [SCIM_T_DATETIME] = "dateTime", [SCIM_T_BINARY] = "binary",
    [SCIM_T_REFERENCE] = "reference", [SCIM_T_COMPLEX] = "complex",
};
static const char *const mutability_names[] = {
    [SCIM_M_READ_WRITE] = "readWrite",
    [SCIM_M_READ_ONLY] = "readOnly",
    [SCIM_M_IMMUTABLE] = "immutable",
    [SCIM_M_WRITE_ONLY] = "writeOnly",
};

/* What each top-level attribute is in roster (docs/scim.md, "User mapping", "Group
 * mapping"): /Schemas describes the server as it behaves, not the RFC's generic text. */
static const struct {
	const char *schema, *name, *description;
	bool unique; /* uniqueness "server" */
} attr_notes[] = {
    {SCIM_URN_USER, "userName", "roster's username: unique in the tenant, case-insensitive", true},
    {SCIM_URN_USER, "name",
     "givenName and familyName are roster's first and last name; "
     "formatted is computed from them unless the provider sets another",
     false},
    {SCIM_URN_USER, "displayName", "kept as sent; defaults to name.formatted, else userName",
     false},
    {SCIM_URN_USER, "active",
     "false deactivates the user through roster's lifecycle (sessions "
     "and tokens end, the seat is freed); true reactivates or resumes",
     false},
    {SCIM_URN_USER, "password",
     "set only where the tenant's provisioned_passwords is 'set', "
     "under the tenant's password policy; never returned",
     false},
    {SCIM_URN_USER, "emails",
     "roster keeps the primary address (else the first) as the "
     "user's e-mail; the list is returned as sent",
     false},
    {SCIM_URN_USER, "groups", "the roster groups the user is a member of", false},
    {SCIM_URN_USER, "roles",
     "roster roles by name: the system role (primary) and tenant "
     "roles; assignment needs roles.assign and the token's rank",
     false},
    {SCIM_URN_ENTERPRISE, "department", "the name of a department in the tenant's tree", false},
    {SCIM_URN_ENTERPRISE, "manager", "another user of the tenant, by id", false},
    {SCIM_URN_GROUP, "displayName",
     "roster's group name: unique in the tenant, "
     "case-insensitive",
     true},
    {SCIM_URN_GROUP, "members", "users of the tenant, by id", false},
};

static json_t *attr_json(const char *schema, const struct scim_attr *at)
{
	const char *desc = "";
	bool unique = schema && strcmp(at->name, "id") == 0;
	const char *returned = at->mutability == SCIM_M_WRITE_ONLY ? "never"
			       : strcmp(at->name, "id") == 0	   ? "always"
								   : "default";
	json_t *o;

	for (size_t i = 0; schema && i < sizeof(attr_notes) / sizeof(attr_notes[0]); i++) {
		if (strcmp(attr_notes[i].schema, schema) == 0 &&
		    strcmp(attr_notes[i].name, at->name) == 0) {
			desc = attr_notes[i].description;
			unique = attr_notes[i].unique;
		}
	}
	o = json_pack("{s:s,s:s,s:b,s:s,s:b,s:b,s:s,s:s,s:s}", "name", at->name, "type",
		      type_names[at->type], "multiValued", at->multi_valued, "description", desc,
		      "required", schema && strcmp(at->name, "userName") == 0, "caseExact",
		      at->case_exact, "mutability", mutability_names[at->mutability], "returned",
		      returned, "uniqueness", unique ? "server" : "none");
	if (o && at->subs) {
		json_t *subs = json_array();

		for (size_t i = 0; i < at->nsubs; i++)
			json_array_append_new(subs, attr_json(NULL, &at->subs[i]));
		json_object_set_new(o, "subAttributes", subs);
	}
	return o;
}

static json_t *schema_json(struct arena *a, const struct scim_schema *s, const char *name,
			   const char *desc)
{
	json_t *attrs = json_array();

	for (size_t i = 0; i < s->nattrs; i++) {
		/* The common attributes (RFC 7643 section 3.1) belong to no schema. */
		if (strcmp(s->attrs[i].name, "id") == 0 || strcmp(s->attrs[i].name, "meta") == 0 ||
		    strcmp(s->attrs[i].name, "schemas") == 0 ||
		    strcmp(s->attrs[i].name, "externalId") == 0)
			continue;
		json_array_append_new(attrs, attr_json(s->urn, &s->attrs[i]));
	}
	return json_pack("{s:[s],s:s,s:s,s:s,s:o,s:{s:s,s:s}}", "schemas",
			 "urn:ietf:params:scim:schemas:core:2.0:Schema", "id", s->urn, "name", name,
			 "description", desc, "attributes", attrs, "meta", "resourceType", "Schema",
			 "location", arena_printf(a, SCIM_BASE "/Schemas/%s", s->urn));
}

static json_t *all_schemas(struct arena *a)
{
	const struct scim_resource_type *u = scim_user_type(), *g = scim_group_type();
	json_t *arr = json_array();

	json_array_append_new(arr, schema_json(a, u->core, "User", "User Account"));
	for (size_t i = 0; i < u->nexts; i++)
		json_array_append_new(
		    arr, schema_json(a, u->exts[i], "EnterpriseUser", "Enterprise User"));
	json_array_append_new(arr, schema_json(a, g->core, "Group", "Group"));
	return arr;
}

static json_t *all_resource_types(void)
{
	json_t *user = json_pack(
	    "{s:[s],s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:b}],s:{s:s,s:s}}", "schemas",
	    "urn:ietf:params:scim:schemas:core:2.0:ResourceType", "id", "User", "name", "User",
	    "endpoint", "/Users", "description", "User Account", "schema", SCIM_URN_USER,
	    "schemaExtensions", "schema", SCIM_URN_ENTERPRISE, "required", false, "meta",
	    "resourceType", "ResourceType", "location", SCIM_BASE "/ResourceTypes/User");

	json_t *group = json_pack("{s:[s],s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s}}", "schemas",
				  "urn:ietf:params:scim:schemas:core:2.0:ResourceType", "id",
				  "Group", "name", "Group", "endpoint", "/Groups", "description",
				  "Group", "schema", SCIM_URN_GROUP, "meta", "resourceType",
				  "ResourceType", "location", SCIM_BASE "/ResourceTypes/Group");

	return json_pack("[o,o]", user, group);
}

static json_t *list_of(json_t *arr)
{
	size_t n = json_array_size(arr);

	return json_pack("{s:[s],s:I,s:I,s:I,s:o}", "schemas", SCIM_URN_LIST, "totalResults",
			 (json_int_t)n, "startIndex", (json_int_t)1, "itemsPerPage", (json_int_t)n,
			 "Resources", arr);
}

static void spc(struct http_req *req, struct http_resp *resp, void *app)
{
	(void)app;
	scim_reply(
	    req, resp, 200,
	    json_pack("{s:[s],s:s,s:{s:b},s:{s:b,s:i,s:i},s:{s:b,s:i},s:{s:b},s:{s:b},s:{s:b},s:[{"
		      "s:s,s:s,s:s,s:b}],s:{s:s,s:s}}",
		      "schemas", "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
		      "documentationUri", "https://github.com/roster/roster/blob/main/docs/scim.md",
		      "patch", "supported", true, "bulk", "supported", true, "maxOperations",
		      RS_SCIM_BULK_OPS_MAX, "maxPayloadSize", RS_SCIM_BULK_PAYLOAD_MAX, "filter",
		      "supported", true, "maxResults", SCIM_USERS_LIST_MAX, "changePassword",
		      "supported", true, "sort", "supported", true, "etag", "supported", true,
		      "authenticationSchemes", "type", "oauthbearertoken", "name",
		      "OAuth Bearer Token", "description",
		      "A roster API token or access token of the tenant, holding scim.provision",
		      "primary", true, "meta", "resourceType", "ServiceProviderConfig", "location",
		      SCIM_BASE "/ServiceProviderConfig"),
	    0);
}

static void resource_types(struct http_req *req, struct http_resp *resp, void *app)
{
	(void)app;
	scim_reply(req, resp, 200, list_of(all_resource_types()), 0);
}

static void resource_type(struct http_req *req, struct http_resp *resp, void *app)
{
	json_t *all = all_resource_types(), *e;
	const char *id = http_param(req, "id");
	size_t i;

	(void)app;
	json_array_foreach(all, i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "id")), id) == 0) {
			scim_reply(req, resp, 200, json_incref(e), 0);
			json_decref(all);
			return;
		}
	}
	json_decref(all);
	scim_error(req, resp, 404, NULL, "no such resource type");
}

static void schemas(struct http_req *req, struct http_resp *resp, void *app)
{
	(void)app;
	scim_reply(req, resp, 200, list_of(all_schemas(req->arena)), 0);
}

static void schema(struct http_req *req, struct http_resp *resp, void *app)
{
	json_t *all = all_schemas(req->arena), *e;
	const char *id = http_param(req, "id");
	size_t i;

	(void)app;
	json_array_foreach(all, i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "id")), id) == 0) {
			scim_reply(req, resp, 200, json_incref(e), 0);
			json_decref(all);
			return;
		}
	}
	json_decref(all);
	scim_error(req, resp, 404, NULL, "no such schema");
}

enum rs_status scim_routes_register(struct http_router *r, struct core *c, struct rs_err *err)
{
	static const struct {
		const char *method, *pattern;
		http_handler_fn fn;
	} routes[] = {
	    {"GET", SCIM_BASE "/ServiceProviderConfig", spc},
	    {"GET", SCIM_BASE "/ResourceTypes", resource_types},
	    {"GET", SCIM_BASE "/ResourceTypes/{id}", resource_type},
	    {"GET", SCIM_BASE "/Schemas", schemas},
	    {"GET", SCIM_BASE "/Schemas/{id}", schema},
	};
	enum rs_status st = RS_OK;

	for (size_t i = 0; st == RS_OK && i < sizeof(routes) / sizeof(routes[0]); i++)
		st =
		    http_route_add(r, routes[i].method, routes[i].pattern, 0, routes[i].fn, c, err);
	if (st == RS_OK)
		scim_users_register(r, c, err, &st);
	if (st == RS_OK)
		scim_groups_register(r, c, err, &st);
	if (st == RS_OK)
		scim_bulk_register(r, c, err, &st);
	if (st == RS_OK)
		scim_search_register(r, c, err, &st);
	return st;
}
