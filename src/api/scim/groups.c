/* /scim/v2/Groups: roster groups as SCIM Group resources (displayName = name, externalId =
 * external_id, members = the group's users). The core's group API is the only path: a POST,
 * PUT or PATCH becomes one groups_apply() (name, externalId and members in one transaction),
 * and a filter becomes a core group predicate the store compiles to one indexed query. */
#include "api/scim/scim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim/filter.h"
#include "scim/patch.h"
#include "util/str.h"
#include "util/timeutil.h"
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
					   scim_user_location(a, ml.items[i].id)));
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
			 group_location(a, g->id), "version", str_weak_etag(a, g->version));
	if (*out && g->external_id)
		json_object_set_new(*out, "externalId", json_string(g->external_id));
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
	*if_match = http_if_match(req);
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

/* The user ids of a members array ([{"value": id}, ...]), copied into a; false when a member
 * has no string "value" (*why says so). */
static bool member_ids(struct arena *a, const json_t *members, const char ***out, int *n,
		       const char **why)
{
	size_t i;
	json_t *e;

	*n = 0;
	*out = arena_alloc(a, sizeof(**out) * (json_array_size(members) + 1));
	if (!*out) {
		*why = "out of memory";
		return false;
	}
	json_array_foreach(members, i, e)
	{
		const char *v = json_string_value(scim_get(e, "value"));

		if (!v) {
			*why = "every member needs a \"value\" (a user id)";
			return false;
		}
		if (!((*out)[*n] = arena_strdup(a, v))) {
			*why = "out of memory";
			return false;
		}
		(*n)++;
	}
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether id is in v[0..n), sorted by sort_ids(). */
static bool has_id(const char *const *v, int n, const char *id)
{
	return n > 0 && bsearch(&id, v, (size_t)n, sizeof(*v), cmp_str) != NULL;
}

static void sort_ids(const char **v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_str);
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

/* externalId: a string, or absent/null (none); false after replying. */
static bool external_id_of(struct http_req *req, struct http_resp *resp, const json_t *body,
			   const char **ext)
{
	json_t *v = scim_get(body, "externalId");

	*ext = NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_string(v)) {
		scim_error(req, resp, 400, SCIM_INVALID_VALUE, "'externalId' must be a string");
		return false;
	}
	*ext = *json_string_value(v) ? arena_strdup(req->arena, json_string_value(v)) : NULL;
	return true;
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
	struct group_change ch = {.create = true, .replace_members = true};
	struct rs_err err = {0};
	const char *name, *ext, *why = NULL, **ids = NULL;
	json_t *body, *members;
	bool ok;

	if (!scim_actor_or_reply(req, resp, c, &who) || !(body = scim_body_or_reply(req, resp)))
		return;
	if (!name_of(req, resp, body, &name) || !external_id_of(req, resp, body, &ext)) {
		json_decref(body);
		return;
	}
	members = members_of(body);
	ok = member_ids(req->arena, members, &ids, &ch.nmembers, &why);
	ch.members = ids;
	json_decref(members);
	json_decref(body);
	if (!ok) {
		scim_error(req, resp, 400, SCIM_INVALID_VALUE, why);
		return;
	}
	ch.f.name = (struct opt_str){true, name};
	ch.f.external_id = (struct opt_str){true, ext};
	/* The group and its members in one transaction: a refused member leaves nothing. */
	if (groups_apply(c, &who, who.tenant_id, &ch, req->arena, &g, &err) != RS_OK) {
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
	struct group_change ch = {0};
	struct rs_err err = {0};
	struct scim_err serr = {0};
	const char **old_ids, **new_ids, **add, **rm, *why = NULL, *name, *ext;
	int nold, nnew;
	json_t *body, *cur = NULL, *next = NULL, *members = NULL;

	if (!scim_actor_or_reply(req, resp, c, &who) || !load_or_reply(req, resp, c, &who, &g) ||
	    !precondition_or_reply(req, resp, &g, &ch.if_match) ||
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
	if (!name_of(req, resp, next, &name) || !external_id_of(req, resp, next, &ext))
		goto out;
	members = members_of(next);
	if (!member_ids(req->arena, json_object_get(cur, "members"), &old_ids, &nold, &why) ||
	    !member_ids(req->arena, members, &new_ids, &nnew, &why)) {
		scim_error(req, resp, 400, SCIM_INVALID_VALUE, why);
		goto out;
	}
	/* The resource as the client wants it, as one core change: what differs from the
	 * rendering it was made from (so a member someone else added meanwhile stays). */
	sort_ids(old_ids, nold);
	sort_ids(new_ids, nnew);
	add = arena_alloc(req->arena, sizeof(*add) * (size_t)(nnew + 1));
	rm = arena_alloc(req->arena, sizeof(*rm) * (size_t)(nold + 1));
	if (!add || !rm) {
		scim_error(req, resp, 500, NULL, "out of memory");
		goto out;
	}
	for (int i = 0; i < nnew; i++)
		if (!has_id(old_ids, nold, new_ids[i]))
			add[ch.nadd++] = new_ids[i];
	for (int i = 0; i < nold; i++)
		if (!has_id(new_ids, nnew, old_ids[i]))
			rm[ch.nremove++] = old_ids[i];
	ch.add = add;
	ch.remove = rm;
	ch.ref = g.id;
	if (strcmp(name, g.name) != 0)
		ch.f.name = (struct opt_str){true, name};
	if ((ext == NULL) != (g.external_id == NULL) ||
	    (ext && g.external_id && strcmp(ext, g.external_id) != 0))
		ch.f.external_id = (struct opt_str){true, ext};
	if (groups_apply(c, &who, who.tenant_id, &ch, req->arena, &g, &err) != RS_OK) {
		scim_fail_core(req, resp, &err);
		goto out;
	}
	/* RFC 7644 section 3.5.2: 204 unless the client asked for attributes. Entra ID asks for
	 * it: a big group's member list on every membership change is what it must not get. */
	if (is_patch && !http_query(req, "attributes") && !http_query(req, "excludedAttributes")) {
		http_resp_header(req, resp, "ETag", str_weak_etag(req->arena, g.version));
		resp->status = 204;
		resp->body = NULL;
		resp->body_len = 0;
		goto out;
	}
	reply_group(req, resp, c, &who, 200, &g);
out:
	json_decref(body);
	json_decref(cur);
	json_decref(next);
	json_decref(members);
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

/* ---- Lists ------------------------------------------------------------------------------- */

#define FILTERABLE                                                                                 \
	"displayName, externalId, id, members, members.value, meta.created, meta.lastModified"

/* One comparison or presence test on attribute (name, sub), already lower-cased. */
static bool gcompile_leaf(struct arena *a, const struct scim_filter *f, const char *name,
			  const char *sub, struct pred **out, char *why, size_t cap)
{
	struct scim_leaf lf;
	struct pred *p;
	enum group_attr attr;
	bool is_time = false;
	char full[96];

	snprintf(full, sizeof(full), "%s%s%s", name, sub ? "." : "", sub ? sub : "");
	if (strcmp(full, "displayname") == 0)
		attr = GROUP_A_NAME;
	else if (strcmp(full, "externalid") == 0)
		attr = GROUP_A_EXTERNAL_ID;
	else if (strcmp(full, "id") == 0)
		attr = GROUP_A_ID;
	else if (strcmp(full, "meta.created") == 0)
		attr = GROUP_A_CREATED_AT, is_time = true;
	else if (strcmp(full, "meta.lastmodified") == 0)
		attr = GROUP_A_UPDATED_AT, is_time = true;
	else if (strcmp(full, "members") == 0 || strcmp(full, "members.value") == 0) {
		/* The groups a user is a member of: members[value eq id], members eq id. */
		if (f->kind != SCIM_F_COMPARE || f->cmp != SCIM_EQ ||
		    f->value.kind != SCIM_V_STRING) {
			snprintf(why, cap,
				 "'%s' is filtered with eq and a user id only (the groups of that "
				 "user)",
				 full);
			return false;
		}
		if (!(p = scim_pred_new(a, PRED_EQ)))
			return false;
		p->attr = GROUP_A_MEMBER;
		p->s = f->value.str;
		*out = p;
		return true;
	} else {
		snprintf(why, cap,
			 "filtering groups on '%s' is not supported; roster filters groups on "
			 "" FILTERABLE,
			 full);
		return false;
	}
	if (!scim_leaf_read(f, full, is_time, &lf, why, cap))
		return false;
	*out = scim_pred_leaf(a, &lf, attr);
	return *out != NULL;
}

/* Members are the one multi-valued attribute groups are filtered through. */
static bool gvalue_path(const struct scim_filter *f, char *why, size_t cap)
{
	if (strcmp(f->attr.name_lc, "members") == 0)
		return true;
	snprintf(why, cap,
		 "filtering groups on '%s[...]' is not supported; roster filters "
		 "groups on " FILTERABLE,
		 f->attr.name);
	return false;
}

static const struct scim_pred_spec group_spec = {
    .urn = SCIM_URN_GROUP,
    .other_schema = "filtering groups on another schema's attributes is not supported; roster "
		    "filters groups on " FILTERABLE,
    .leaf = gcompile_leaf,
    .value_path = gvalue_path,
};

static const char *group_sort_key(const char *by)
{
	static const struct {
		const char *scim, *core;
	} keys[] = {
	    {"displayName", "name"},
	    {"externalId", "external_id"},
	    {"id", "id"},
	    {"meta.created", "created_at"},
	    {"meta.lastModified", "updated_at"},
	    {SCIM_URN_GROUP ":displayName", "name"},
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcasecmp(keys[i].scim, by) == 0)
			return keys[i].core;
	}
	return NULL;
}

bool scim_groups_query(struct http_req *req, struct http_resp *resp, struct core *c,
		       const struct actor *who, const struct scim_list_params *lp,
		       const struct scim_filter *f, long long offset, long long count, json_t *arr,
		       int64_t *total)
{
	struct group_query q = {.with_total = true};
	struct group_list gl;
	struct rs_err err = {0};
	struct pred *where = NULL;
	bool members = wants_members(req, lp->attributes, lp->excluded), desc, ok;
	char why[512];

	/* Groups carry their members: a page holds fewer of them than of users (RFC 7644
	 * section 3.4.2.4 lets a page hold fewer than count). */
	if (count > SCIM_LIST_MAX)
		count = SCIM_LIST_MAX;

	if (f) {
		/* meta.resourceType reads as a constant here too. */
		const struct scim_filter *tf = scim_filter_for_type(
		    req->arena, f, "Group", scim_group_type(), false, why, sizeof(why));

		if (tf &&
		    !scim_pred_compile(req->arena, tf, NULL, &group_spec, &where, why, sizeof(why)))
			tf = NULL;
		if (!tf) {
			scim_error(req, resp, 400, SCIM_INVALID_FILTER,
				   why[0] ? why : "out of memory");
			return false;
		}
	}
	q.where = where;
	desc = scim_sort_desc(req, resp, lp, &ok);
	if (!ok)
		return false;
	if (lp->sort_by && *lp->sort_by) {
		const char *k = group_sort_key(lp->sort_by);

		if (!k) {
			scim_error(req, resp, 400, SCIM_INVALID_VALUE,
				   "sortBy must be displayName, externalId, id, meta.created or "
				   "meta.lastModified");
			return false;
		}
		q.sort = desc ? arena_printf(req->arena, "-%s", k) : k;
	} else if (desc) {
		q.sort = "-id"; /* creation order, reversed */
	}
	q.offset = (int)(offset > 1000000000 ? 1000000000 : offset);
	q.limit = (int)count;
	if (groups_select(c, who, who->tenant_id, &q, req->arena, &gl, &err) != RS_OK) {
		scim_list_fail(req, resp, &err);
		return false;
	}
	for (int i = 0; i < gl.n; i++) {
		json_t *o;

		if (group_json(c, who, req->arena, &gl.items[i], members, &o, &err) != RS_OK) {
			scim_fail_core(req, resp, &err);
			return false;
		}
		scim_project(o, lp->attributes, lp->excluded);
		json_array_append_new(arr, o);
	}
	*total = gl.total;
	return true;
}

static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct scim_list_params lp;

	if (!scim_actor_or_reply(req, resp, c, &who) || !scim_list_params_query(req, resp, &lp))
		return;
	scim_list_run(req, resp, c, &who, &lp, scim_groups_query);
}

static void search(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct scim_list_params lp;

	if (!scim_actor_or_reply(req, resp, c, &who) || !scim_list_params_body(req, resp, &lp))
		return;
	scim_list_run(req, resp, c, &who, &lp, scim_groups_query);
}

void scim_groups_register(struct http_router *r, struct core *c, struct rs_err *err,
			  enum rs_status *st)
{
	static const struct {
		const char *method, *pattern;
		http_handler_fn fn;
	} routes[] = {
	    {"GET", SCIM_BASE "/Groups", list},
	    {"POST", SCIM_BASE "/Groups", create},
	    {"POST", SCIM_BASE "/Groups/.search", search},
	    {"GET", SCIM_BASE "/Groups/{id}", get},
	    {"PUT", SCIM_BASE "/Groups/{id}", replace},
	    {"PATCH", SCIM_BASE "/Groups/{id}", patch},
	    {"DELETE", SCIM_BASE "/Groups/{id}", del},
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
