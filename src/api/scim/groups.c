/* /scim/v2/Groups: roster groups as SCIM Group resources (displayName = name, members = the
 * group's users). The core's group API is the only path; member changes are the core's
 * member add/remove, one audited change each. */
#include "api/scim/scim_int.h"

#include <string.h>
#include <strings.h>

#include "scim/filter.h"
#include "scim/patch.h"
#include "util/str.h"
#include "util/uuid.h"

static const char *group_location(struct arena *a, const char *id)
{
	return arena_printf(a, SCIM_BASE "/Groups/%s", id);
}

/* Every member of group id (pages of the core's listing). */
static enum rs_status members_all(struct core *c, const struct actor *who, struct arena *a,
				  const char *id, json_t *arr, struct rs_err *err)
{
	struct page pg = {.limit = RS_LIST_LIMIT_MAX};
	struct member_list ml;
	enum rs_status st;

	do {
		st = groups_members(c, who, who->tenant_id, id, &pg, a, &ml, err);
		if (st != RS_OK)
			return st;
		for (int i = 0; i < ml.n; i++)
			json_array_append_new(
			    arr, json_pack("{s:s,s:s,s:s,s:s}", "value", ml.items[i].id, "display",
					   ml.items[i].username, "type", "User", "$ref",
					   arena_printf(a, SCIM_BASE "/Users/%s", ml.items[i].id)));
		pg.cursor = ml.next_cursor;
	} while (ml.next_cursor);
	return RS_OK;
}

static enum rs_status group_json(struct core *c, const struct actor *who, struct arena *a,
				 const struct group *g, bool with_members, json_t **out,
				 struct rs_err *err)
{
	json_t *members = json_array();
	enum rs_status st = with_members ? members_all(c, who, a, g->id, members, err) : RS_OK;

	*out = NULL;
	if (st != RS_OK) {
		json_decref(members);
		return st;
	}
	*out = json_pack("{s:[s],s:s,s:s,s:o,s:{s:s,s:s,s:s,s:s,s:s}}", "schemas", SCIM_URN_GROUP,
			 "id", g->id, "displayName", g->name, "members", members, "meta",
			 "resourceType", "Group", "created", scim_time(a, g->created_at),
			 "lastModified", scim_time(a, g->updated_at), "location",
			 group_location(a, g->id), "version",
			 arena_printf(a, "W/\"%lld\"", (long long)g->version));
	return *out ? RS_OK : rs_fail(err, RS_E_INTERNAL, "scim.nomem", NULL, "out of memory");
}

/* Members are only fetched when the answer will show them: Entra ID asks for groups with
 * excludedAttributes=members precisely because member lists are long. */
static bool wants_members(struct http_req *req, const char *attributes, const char *excluded)
{
	(void)req;
	if (attributes && *attributes)
		return strcasestr(attributes, "members") != NULL;
	return !(excluded && strcasestr(excluded, "members"));
}

static void reply_group(struct http_req *req, struct http_resp *resp, struct core *c,
			const struct actor *who, int status, const struct group *g)
{
	const char *at = http_query(req, "attributes"), *ex = http_query(req, "excludedAttributes");
	struct rs_err err = {0};
	json_t *o;

	if (group_json(c, who, req->arena, g, wants_members(req, at, ex), &o, &err) != RS_OK) {
		scim_fail_core(req, resp, &err);
		return;
	}
	scim_project(o, at, ex);
	if (status == 201)
		http_resp_header(req, resp, "Location", group_location(req->arena, g->id));
	scim_reply(req, resp, status, o, g->version);
}

/* The core finds a group by id or by name; SCIM's {id} is an id only. */
static bool load_or_reply(struct http_req *req, struct http_resp *resp, struct core *c,
			  const struct actor *who, struct group *g)
{
	const char *id = http_param(req, "id");
	struct rs_err err = {0};

	if (!uuid_valid(id)) {
		scim_error(req, resp, 404, NULL, "no such group");
		return false;
	}
	if (groups_get(c, who, who->tenant_id, id, req->arena, g, &err) != RS_OK) {
		scim_fail_core(req, resp, &err);
		return false;
	}
	return true;
}

static bool precondition_or_reply(struct http_req *req, struct http_resp *resp,
				  const struct group *g, int64_t *if_match)
{
	*if_match = scim_if_match(req);
	if (*if_match < 0) {
		scim_error(req, resp, 400, SCIM_INVALID_VALUE, "If-Match must be W/\"<version>\"");
		return false;
	}
	if (*if_match > 0 && *if_match != g->version) {
		scim_error(req, resp, 412, NULL,
			   "the resource changed: its version is not If-Match");
		return false;
	}
	return true;
}

static bool has_member(const json_t *members, const char *id)
{
	size_t i;
	json_t *e;

	json_array_foreach(members, i, e)
	{
		const char *v = json_string_value(scim_get(e, "value"));

		if (v && strcmp(v, id) == 0)
			return true;
	}
	return false;
}

/* Brings group g from members old to members new (arrays of {"value": user id}) and to
 * displayName name (NULL: unchanged). A member that is not a user of the tenant is
 * invalidValue. */
static enum rs_status sync_group(struct core *c, const struct actor *who, struct arena *a,
				 const struct group *g, const char *name, const json_t *old,
				 const json_t *new, int64_t if_match, struct rs_err *err)
{
	enum rs_status st = RS_OK;
	struct group out;
	size_t i;
	json_t *e;

	if (name && strcmp(name, g->name) != 0) {
		struct group_fields f = {.name = {true, name}};

		st = groups_update(c, who, who->tenant_id, g->id, &f, if_match, a, &out, err);
		if (st != RS_OK)
			return st;
	}
	json_array_foreach(new, i, e)
	{
		const char *v = json_string_value(scim_get(e, "value"));

		if (!v)
			return rs_fail(err, RS_E_INVALID, "scim.member", "members",
				       "every member needs a \"value\" (a user id)");
		if (has_member(old, v))
			continue;
		st = groups_member_add(c, who, who->tenant_id, g->id, v, err);
		if (st == RS_E_NOT_FOUND)
			return rs_fail(err, RS_E_INVALID, "scim.member", "members",
				       "no user '%s' in this tenant", v);
		if (st != RS_OK)
			return st;
	}
	json_array_foreach(old, i, e)
	{
		const char *v = json_string_value(scim_get(e, "value"));

		if (!v || has_member(new, v))
			continue;
		st = groups_member_remove(c, who, who->tenant_id, g->id, v, err);
		if (st != RS_OK && st != RS_E_NOT_FOUND)
			return st;
		st = RS_OK;
	}
	return st;
}

static bool name_of(struct http_req *req, struct http_resp *resp, const json_t *body,
		    const char **name)
{
	json_t *v = scim_get(body, "displayName");

	if (!json_is_string(v) || !*json_string_value(v)) {
		scim_error(req, resp, 400, SCIM_INVALID_VALUE, "'displayName' is required");
		return false;
	}
	*name = arena_strdup(req->arena, json_string_value(v));
	return *name != NULL;
}

static json_t *members_of(const json_t *body)
{
	json_t *m = scim_get(body, "members");

	return json_is_array(m) ? json_incref(m) : json_array();
}

static void create(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct group g;
	struct group_fields f = {0};
	struct rs_err err = {0};
	const char *name;
	json_t *body, *none, *members;

	if (!scim_actor_or_reply(req, resp, c, &who) || !(body = scim_body_or_reply(req, resp)))
		return;
	if (!name_of(req, resp, body, &name)) {
		json_decref(body);
		return;
	}
	f.name = (struct opt_str){true, name};
	if (groups_create(c, &who, who.tenant_id, &f, req->arena, &g, &err) != RS_OK) {
		json_decref(body);
		scim_fail_core(req, resp, &err);
		return;
	}
	none = json_array();
	members = members_of(body);
	json_decref(body);
	if (sync_group(c, &who, req->arena, &g, NULL, none, members, 0, &err) != RS_OK) {
		struct rs_err ignored = {0};

		/* Nothing acknowledged, nothing kept: the group goes again. */
		groups_delete(c, &who, who.tenant_id, g.id, 0, &ignored);
		json_decref(none);
		json_decref(members);
		scim_fail_core(req, resp, &err);
		return;
	}
	json_decref(none);
	json_decref(members);
	if (groups_get(c, &who, who.tenant_id, g.id, req->arena, &g, &err) != RS_OK) {
		scim_fail_core(req, resp, &err);
		return;
	}
	reply_group(req, resp, c, &who, 201, &g);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct group g;

	if (!scim_actor_or_reply(req, resp, c, &who) || !load_or_reply(req, resp, c, &who, &g))
		return;
	reply_group(req, resp, c, &who, 200, &g);
}

static void update(struct http_req *req, struct http_resp *resp, void *app, bool is_patch)
{
	struct core *c = app;
	struct actor who;
	struct group g;
	struct rs_err err = {0};
	struct scim_err serr = {0};
	int64_t if_match;
	const char *name;
	json_t *body, *cur = NULL, *next = NULL;

	if (!scim_actor_or_reply(req, resp, c, &who) || !load_or_reply(req, resp, c, &who, &g) ||
	    !precondition_or_reply(req, resp, &g, &if_match) ||
	    !(body = scim_body_or_reply(req, resp)))
		return;
	if (group_json(c, &who, req->arena, &g, true, &cur, &err) != RS_OK) {
		json_decref(body);
		scim_fail_core(req, resp, &err);
		return;
	}
	if (is_patch) {
		json_t *ops = scim_get(body, "Operations");

		if (!ops) {
			scim_error(req, resp, 400, SCIM_INVALID_SYNTAX,
				   "a PatchOp request needs \"Operations\"");
			goto out;
		}
		if (scim_patch_apply(cur, ops, scim_group_type(), req->arena, &next, &serr) !=
		    RS_OK) {
			scim_fail_scim(req, resp, &serr);
			goto out;
		}
	} else {
		next = json_incref(body);
	}
	if (!name_of(req, resp, next, &name))
		goto out;
	{
		json_t *old = json_object_get(cur, "members"), *new = members_of(next);

		if (sync_group(c, &who, req->arena, &g, name, old, new, if_match, &err) != RS_OK) {
			json_decref(new);
			scim_fail_core(req, resp, &err);
			goto out;
		}
		json_decref(new);
	}
	if (groups_get(c, &who, who.tenant_id, g.id, req->arena, &g, &err) != RS_OK) {
		scim_fail_core(req, resp, &err);
		goto out;
	}
	reply_group(req, resp, c, &who, 200, &g);
out:
	json_decref(body);
	json_decref(cur);
	json_decref(next);
}

static void patch(struct http_req *req, struct http_resp *resp, void *app)
{
	update(req, resp, app, true);
}

static void replace(struct http_req *req, struct http_resp *resp, void *app)
{
	update(req, resp, app, false);
}

static void del(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct group g;
	struct rs_err err = {0};
	int64_t if_match;

	if (!scim_actor_or_reply(req, resp, c, &who) || !load_or_reply(req, resp, c, &who, &g) ||
	    !precondition_or_reply(req, resp, &g, &if_match))
		return;
	if (groups_delete(c, &who, who.tenant_id, g.id, if_match, &err) != RS_OK) {
		scim_fail_core(req, resp, &err);
		return;
	}
	resp->status = 204;
	resp->body = NULL;
	resp->body_len = 0;
}

/* Groups are looked up by displayName or id (the core's unique keys); no other filter has an
 * index behind it, so none is accepted. */
static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct rs_err err = {0};
	const char *filter = http_query(req, "filter"), *key = NULL;
	const char *at = http_query(req, "attributes"), *ex = http_query(req, "excludedAttributes");
	bool members = wants_members(req, at, ex);
	long long start = 1, count = 100;
	json_t *arr = json_array(), *out;
	int64_t total = 0;
	const char *s;

	if (!scim_actor_or_reply(req, resp, c, &who))
		goto done;
	if ((s = http_query(req, "startIndex")) &&
	    !str_to_ll(s, -1000000000LL, 1000000000LL, &start)) {
		scim_error(req, resp, 400, SCIM_INVALID_VALUE, "'startIndex' must be an integer");
		goto done;
	}
	if ((s = http_query(req, "count")) && !str_to_ll(s, -1000000000LL, 1000000000LL, &count)) {
		scim_error(req, resp, 400, SCIM_INVALID_VALUE, "'count' must be an integer");
		goto done;
	}
	start = start < 1 ? 1 : start;
	count = count < 0 ? 0 : count > SCIM_LIST_MAX ? SCIM_LIST_MAX : count;
	if (filter && *filter) {
		struct scim_filter *f;
		struct scim_err serr = {0};

		if (scim_filter_parse(req->arena, filter, strlen(filter), &f, &serr) != RS_OK) {
			scim_fail_scim(req, resp, &serr);
			goto done;
		}
		if (f->kind != SCIM_F_COMPARE || f->cmp != SCIM_EQ ||
		    f->value.kind != SCIM_V_STRING || f->attr.sub ||
		    (strcmp(f->attr.name_lc, "displayname") != 0 &&
		     strcmp(f->attr.name_lc, "id") != 0)) {
			scim_error(req, resp, 400, SCIM_INVALID_FILTER,
				   "groups are filtered by 'displayName eq \"…\"' or 'id eq \"…\"' "
				   "only");
			goto done;
		}
		key = f->value.str;
		if (strcmp(f->attr.name_lc, "id") == 0 && !uuid_valid(key))
			key = NULL; /* no such id: an empty list */
		else if (strcmp(f->attr.name_lc, "displayname") == 0 && uuid_valid(key))
			key = NULL; /* the core would read it as an id */
		if (key) {
			struct group g;
			json_t *o;
			enum rs_status st =
			    groups_get(c, &who, who.tenant_id, key, req->arena, &g, &err);

			if (st != RS_OK && st != RS_E_NOT_FOUND) {
				scim_fail_core(req, resp, &err);
				goto done;
			}
			if (st == RS_OK) {
				total = 1;
				if (start == 1 && count > 0) {
					if (group_json(c, &who, req->arena, &g, members, &o,
						       &err) != RS_OK) {
						scim_fail_core(req, resp, &err);
						goto done;
					}
					scim_project(o, at, ex);
					json_array_append_new(arr, o);
				}
			}
		}
	} else {
		/* The tenant's groups in id order, walked page by page: positional paging over
		 * the core's cursors. */
		struct page pg = {.limit = RS_LIST_LIMIT_MAX};
		struct group_list gl;

		do {
			if (groups_list(c, &who, who.tenant_id, &pg, req->arena, &gl, &err) !=
			    RS_OK) {
				scim_fail_core(req, resp, &err);
				goto done;
			}
			for (int i = 0; i < gl.n; i++, total++) {
				json_t *o;

				if (total + 1 < start || (long long)json_array_size(arr) >= count)
					continue;
				if (group_json(c, &who, req->arena, &gl.items[i], members, &o,
					       &err) != RS_OK) {
					scim_fail_core(req, resp, &err);
					goto done;
				}
				scim_project(o, at, ex);
				json_array_append_new(arr, o);
			}
			pg.cursor = gl.next_cursor;
		} while (gl.next_cursor);
	}
	out = json_pack("{s:[s],s:I,s:I,s:I,s:O}", "schemas", SCIM_URN_LIST, "totalResults",
			(json_int_t)total, "startIndex", (json_int_t)start, "itemsPerPage",
			(json_int_t)json_array_size(arr), "Resources", arr);
	scim_reply(req, resp, 200, out, 0);
done:
	json_decref(arr);
}

void scim_groups_register(struct http_router *r, struct core *c, struct rs_err *err,
			  enum rs_status *st)
{
	static const struct {
		const char *method, *pattern;
		http_handler_fn fn;
	} routes[] = {
	    {"GET", SCIM_BASE "/Groups", list},		{"POST", SCIM_BASE "/Groups", create},
	    {"GET", SCIM_BASE "/Groups/{id}", get},	{"PUT", SCIM_BASE "/Groups/{id}", replace},
	    {"PATCH", SCIM_BASE "/Groups/{id}", patch}, {"DELETE", SCIM_BASE "/Groups/{id}", del},
	};

	for (size_t i = 0; *st == RS_OK && i < sizeof(routes) / sizeof(routes[0]); i++)
		*st =
		    http_route_add(r, routes[i].method, routes[i].pattern, 0, routes[i].fn, c, err);
}

http_handler_fn scim_groups_handler(const char *method)
{
	if (strcmp(method, "POST") == 0)
		return create;
	if (strcmp(method, "PUT") == 0)
		return replace;
	if (strcmp(method, "PATCH") == 0)
		return patch;
	if (strcmp(method, "DELETE") == 0)
		return del;
	return NULL;
}
