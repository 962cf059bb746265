/* /scim/v2/Users and /scim/v2/Me: roster users as SCIM User resources (docs/scim.md,
 * "Endpoints" has the attribute mapping). Filters become core user predicates, which the store
 * compiles into one indexed query; an attribute it cannot filter on is refused, never
 * scanned for. */
#include "api/scim/scim_int.h"
#include "api/scim/user_map.h"
#include "api/scim/user_stream.h"

#include <string.h>
#include <strings.h>

#include "scim/filter.h"
#include "scim/patch.h"
#include "util/str.h"
#include "util/timeutil.h"

/* Applies m to user cur (NULL: creates) as one core provisioning: the fields, the lifecycle
 * state "active" asks for (deactivation reason "SCIM") and a password, all or nothing. *out
 * is the user as it now is. */
static enum rs_status apply(struct core *c, const struct actor *who, struct arena *a,
			    const struct user *cur, struct scim_user_change *m, int64_t if_match,
			    struct user *out, struct rs_err *err)
{
	struct user_provision p = {.id = cur ? cur->id : NULL,
				   .f = &m->f,
				   .active = m->active,
				   .reason = "SCIM",
				   .password = m->password,
				   .password_explicit = m->password_explicit,
				   .if_match = if_match};
	enum rs_status st;

	if (m->f.department_id.set && m->department) {
		st = departments_find_name(c, who, who->tenant_id, m->department, a,
					   &m->f.department_id.v, err);
		if (st != RS_OK)
			return st;
	}
	return users_provision(c, who, who->tenant_id, &p, a, out, err);
}

/* ---- Handlers --------------------------------------------------------------------------- */

/* A user being deleted is already gone for SCIM: DELETE answered 204 (docs/scim.md). */
static bool load_or_reply(struct http_req *req, struct http_resp *resp, struct core *c,
			  const struct actor *who, const char *id, struct user *u)
{
	struct rs_err err = {0};

	if (users_get(c, who, who->tenant_id, id, req->arena, u, &err) != RS_OK) {
		scim_fail_core(req, resp, &err);
		return false;
	}
	if (strcmp(u->status, "deleting") == 0) {
		scim_error(req, resp, 404, NULL, "no such user");
		return false;
	}
	return true;
}

/* The user a request names: {id}, or on /Me the token's own. */
static const char *target(struct http_req *req, const struct actor *who)
{
	const char *id = http_param(req, "id");

	return id ? id : who->user_id;
}

static bool precondition_or_reply(struct http_req *req, struct http_resp *resp,
				  const struct user *u, int64_t *if_match)
{
	*if_match = http_if_match(req);
	if (*if_match < 0) {
		scim_error(req, resp, 400, SCIM_INVALID_VALUE, "If-Match must be W/\"<version>\"");
		return false;
	}
	if (*if_match > 0 && *if_match != u->version) {
		scim_error(req, resp, 412, NULL,
			   "the resource changed: its version is not If-Match");
		return false;
	}
	return true;
}

static void reply_user(struct http_req *req, struct http_resp *resp, int status,
		       const struct user *u)
{
	json_t *o = scim_user_render(req->arena, u);

	scim_project(o, http_query(req, "attributes"), http_query(req, "excludedAttributes"));
	if (status == 201)
		http_resp_header(req, resp, "Location", scim_user_location(req->arena, u->id));
	scim_reply(req, resp, status, o, u->version);
}

static void get(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct user u;

	if (!scim_actor_or_reply(req, resp, c, &who) ||
	    !load_or_reply(req, resp, c, &who, http_param(req, "id"), &u))
		return;
	reply_user(req, resp, 200, &u);
}

static void me(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct user u;

	if (!scim_actor_or_reply(req, resp, c, &who) ||
	    !load_or_reply(req, resp, c, &who, who.user_id, &u))
		return;
	reply_user(req, resp, 200, &u);
}

static void create(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct scim_user_change m;
	struct user u;
	struct rs_err err = {0};
	char why[256];
	json_t *body;

	if (!scim_actor_or_reply(req, resp, c, &who) || !(body = scim_body_or_reply(req, resp)))
		return;
	if (!scim_user_map(req->arena, body, NULL, &m, why, sizeof(why))) {
		json_decref(body);
		scim_error(req, resp, 400, SCIM_INVALID_VALUE, why);
		return;
	}
	json_decref(body);
	if (apply(c, &who, req->arena, NULL, &m, 0, &u, &err) != RS_OK) {
		scim_fail_core(req, resp, &err);
		return;
	}
	reply_user(req, resp, 201, &u);
}

static void replace(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct scim_user_change m;
	struct user cur, u;
	struct rs_err err = {0};
	int64_t if_match;
	char why[256];
	json_t *body;

	if (!scim_actor_or_reply(req, resp, c, &who) ||
	    !load_or_reply(req, resp, c, &who, target(req, &who), &cur) ||
	    !precondition_or_reply(req, resp, &cur, &if_match) ||
	    !(body = scim_body_or_reply(req, resp)))
		return;
	if (!scim_user_map(req->arena, body, &cur, &m, why, sizeof(why))) {
		json_decref(body);
		scim_error(req, resp, 400, SCIM_INVALID_VALUE, why);
		return;
	}
	json_decref(body);
	if (apply(c, &who, req->arena, &cur, &m, if_match, &u, &err) != RS_OK) {
		scim_fail_core(req, resp, &err);
		return;
	}
	reply_user(req, resp, 200, &u);
}

static void patch(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct scim_user_change m;
	struct user cur, u;
	struct rs_err err = {0};
	struct scim_err serr = {0};
	int64_t if_match;
	json_t *body;
	enum rs_status st;

	if (!scim_actor_or_reply(req, resp, c, &who) ||
	    !load_or_reply(req, resp, c, &who, target(req, &who), &cur) ||
	    !precondition_or_reply(req, resp, &cur, &if_match) ||
	    !(body = scim_body_or_reply(req, resp)))
		return;
	st = scim_user_patch_map(req->arena, &cur, body, &m, &serr);
	json_decref(body);
	if (st != RS_OK) {
		scim_fail_scim(req, resp, &serr);
		return;
	}
	if (apply(c, &who, req->arena, &cur, &m, if_match, &u, &err) != RS_OK) {
		scim_fail_core(req, resp, &err);
		return;
	}
	reply_user(req, resp, 200, &u);
}

static void del(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct user cur;
	struct task t;
	struct rs_err err = {0};
	int64_t if_match;

	if (!scim_actor_or_reply(req, resp, c, &who) ||
	    !load_or_reply(req, resp, c, &who, http_param(req, "id"), &cur) ||
	    !precondition_or_reply(req, resp, &cur, &if_match))
		return;
	/* Deletion is a task (core/deletion.c); SCIM expects 204 at once, so the task is
	 * queued and the user answers 404 from now on. */
	if (users_delete(c, &who, who.tenant_id, cur.id, if_match, NULL, req->arena, &t, &err) !=
	    RS_OK) {
		scim_fail_core(req, resp, &err);
		return;
	}
	resp->status = 204;
	resp->body = NULL;
	resp->body_len = 0;
}

/* ---- Lists ------------------------------------------------------------------------------- */

#define FILTERABLE                                                                                 \
	"userName, emails, emails.value, name.givenName, name.familyName, externalId, active, "    \
	"id, meta.created, meta.lastModified"

/* A tautology the store can index: every user has an id. */
static struct pred *pred_true(struct arena *a)
{
	struct pred *p = scim_pred_new(a, PRED_PR);

	if (p)
		p->attr = USER_A_ID;
	return p;
}

/* One comparison or presence test on attribute (name, sub), already lower-cased. */
static bool compile_leaf(struct arena *a, const struct scim_filter *f, const char *name,
			 const char *sub, struct pred **out, char *why, size_t cap)
{
	struct scim_leaf lf;
	enum user_attr attr;
	bool is_time = false;
	char full[96];

	snprintf(full, sizeof(full), "%s%s%s", name, sub ? "." : "", sub ? sub : "");
	if (strcmp(full, "username") == 0)
		attr = USER_A_USERNAME;
	else if (strcmp(full, "emails") == 0 || strcmp(full, "emails.value") == 0)
		attr = USER_A_EMAIL;
	else if (strcmp(full, "name.givenname") == 0)
		attr = USER_A_FIRST_NAME;
	else if (strcmp(full, "name.familyname") == 0)
		attr = USER_A_LAST_NAME;
	else if (strcmp(full, "externalid") == 0)
		attr = USER_A_EXTERNAL_ID;
	else if (strcmp(full, "id") == 0)
		attr = USER_A_ID;
	else if (strcmp(full, "meta.created") == 0)
		attr = USER_A_CREATED_AT, is_time = true;
	else if (strcmp(full, "meta.lastmodified") == 0)
		attr = USER_A_UPDATED_AT, is_time = true;
	else if (strcmp(full, "emails.type") == 0 || strcmp(full, "emails.primary") == 0) {
		/* roster's one address is the primary work address. */
		bool yes =
		    f->kind == SCIM_F_PRESENT ||
		    (strcmp(full, "emails.type") == 0 && f->cmp == SCIM_EQ &&
		     f->value.kind == SCIM_V_STRING && strcasecmp(f->value.str, "work") == 0) ||
		    (strcmp(full, "emails.primary") == 0 && f->cmp == SCIM_EQ &&
		     f->value.kind == SCIM_V_TRUE);
		struct pred *has = scim_pred_new(a, PRED_PR);

		if (!has)
			return false;
		has->attr = USER_A_EMAIL;
		*out = yes ? has : scim_pred_not(a, has);
		return *out != NULL;
	} else if (strcmp(full, "active") == 0) {
		struct pred *act = scim_pred_new(a, PRED_EQ);

		if (!act)
			return false;
		act->attr = USER_A_STATUS;
		act->s = "active";
		if (f->kind == SCIM_F_PRESENT) {
			*out = pred_true(a);
			return *out != NULL;
		}
		if ((f->cmp != SCIM_EQ && f->cmp != SCIM_NE) ||
		    (f->value.kind != SCIM_V_TRUE && f->value.kind != SCIM_V_FALSE)) {
			snprintf(why, cap, "'active' is compared with eq or ne and true or false");
			return false;
		}
		*out = ((f->value.kind == SCIM_V_TRUE) == (f->cmp == SCIM_EQ))
			   ? act
			   : scim_pred_not(a, act);
		return *out != NULL;
	} else {
		snprintf(why, cap,
			 "filtering on '%s' is not supported; roster filters on " FILTERABLE, full);
		return false;
	}
	if (!scim_leaf_read(f, full, is_time, &lf, why, cap))
		return false;
	*out = scim_pred_leaf(a, &lf, attr);
	return *out != NULL;
}

static const struct scim_pred_spec user_spec = {
    .urn = SCIM_URN_USER,
    .other_schema = "filtering on extension attributes is not supported; roster filters "
		    "on " FILTERABLE,
    .leaf = compile_leaf,
};

static const char *sort_key(const char *by)
{
	static const struct {
		const char *scim, *core;
	} keys[] = {
	    {"userName", "username"},
	    {"emails", "email"},
	    {"emails.value", "email"},
	    {"name.familyName", "last_name"},
	    {"meta.created", "created_at"},
	    {"meta.lastModified", "updated_at"},
	    {SCIM_URN_USER ":userName", "username"},
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcasecmp(keys[i].scim, by) == 0)
			return keys[i].core;
	}
	return NULL;
}

/* The users of one page of a query: the selection of scim_users_query without rendering. */
static bool users_select(struct http_req *req, struct http_resp *resp, struct core *c,
			 const struct actor *who, const struct scim_list_params *lp,
			 const struct scim_filter *f, long long offset, long long count,
			 struct scim_page_writer *w, struct user_list *l)
{
	struct user_list_query q = {.with_total = true};
	struct rs_err err = {0};
	struct pred *where = NULL, *live, *both;
	bool desc, ok;
	char why[512];

	if (f) {
		why[0] = '\0';
		if (!scim_pred_compile(req->arena, f, NULL, &user_spec, &where, why, sizeof(why))) {
			scim_error(req, resp, 400, SCIM_INVALID_FILTER,
				   why[0] ? why : "out of memory");
			return false;
		}
	}
	/* Users being deleted are gone for SCIM (see del()). */
	live = scim_pred_new(req->arena, PRED_NE);
	if (!live) {
		scim_error(req, resp, 500, NULL, "out of memory");
		return false;
	}
	live->attr = USER_A_STATUS;
	live->s = "deleting";
	both = where ? scim_pred_new(req->arena, PRED_AND) : live;
	if (where && both) {
		both->a = where;
		both->b = live;
	}
	q.where = both;
	desc = scim_sort_desc(req, resp, lp, &ok);
	if (!ok)
		return false;
	if (lp->sort_by && *lp->sort_by) {
		const char *k = sort_key(lp->sort_by);

		if (!k) {
			scim_error(req, resp, 400, SCIM_INVALID_VALUE,
				   "sortBy must be userName, emails.value, name.familyName, "
				   "meta.created or meta.lastModified");
			return false;
		}
		q.sort = desc ? arena_printf(req->arena, "-%s", k) : k;
	} else {
		/* Creation order is id order (UUIDv7): the primary key is read in place, with no
		 * second index to look each row up from (docs/scim.md "Sorting and paging"). */
		q.sort = desc ? "-id" : "id";
	}
	q.offset = (int)(offset > 1000000000 ? 1000000000 : offset);
	q.page.limit = count ? (int)count : 1;
	q.limit_max = SCIM_USERS_LIST_MAX;
	if (w) {
		q.on_users = scim_page_writer_users;
		q.on_users_ctx = w;
	}
	if (users_list(c, who, who->tenant_id, &q, req->arena, l, &err) != RS_OK) {
		scim_list_fail(req, resp, &err);
		return false;
	}
	if (!count)
		l->n = 0;
	return true;
}

bool scim_users_query(struct http_req *req, struct http_resp *resp, struct core *c,
		      const struct actor *who, const struct scim_list_params *lp,
		      const struct scim_filter *f, long long offset, long long count, json_t *arr,
		      int64_t *total)
{
	struct user_list l;

	if (!users_select(req, resp, c, who, lp, f, offset, count, NULL, &l))
		return false;
	for (int i = 0; i < l.n; i++) {
		json_t *o = scim_user_render(req->arena, &l.items[i]);

		scim_project(o, lp->attributes, lp->excluded);
		json_array_append_new(arr, o);
	}
	*total = l.total;
	return true;
}

/* A ListResponse of whole users (no attributes or excludedAttributes) written by YAJL
 * (user_stream.c) rather than through a jansson tree per user, and written while the core reads
 * the page: what a provisioning client paging a tenant by 1000 asks for. */
static void list_stream(struct http_req *req, struct http_resp *resp, struct core *c,
			const struct actor *who, const struct scim_list_params *lp)
{
	long long start = scim_list_start(lp), count = scim_list_count(lp);
	struct scim_page_writer *w;
	struct user_list l;
	struct scim_filter *f;
	const unsigned char *buf;
	size_t len;
	yajl_gen g;
	char *out;
	bool ok;

	f = scim_list_filter(req, resp, lp, &ok);
	if (!ok)
		return;
	if (!(w = scim_page_writer_new(req->arena, count >= SCIM_STREAM_SPLIT_MIN))) {
		scim_error(req, resp, 500, NULL, "out of memory");
		return;
	}
	if (!users_select(req, resp, c, who, lp, f, start - 1, count, w, &l)) {
		scim_page_writer_free(w);
		return;
	}
	/* The envelope with an empty Resources, then the users spliced in: its text ends
	 * with the "[]}" of the empty array and the object. */
	if (!(g = yajl_gen_alloc(NULL))) {
		scim_page_writer_free(w);
		scim_error(req, resp, 500, NULL, "out of memory");
		return;
	}
	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *)"schemas", 7);
	yajl_gen_array_open(g);
	yajl_gen_string(g, (const unsigned char *)SCIM_URN_LIST, strlen(SCIM_URN_LIST));
	yajl_gen_array_close(g);
	yajl_gen_string(g, (const unsigned char *)"totalResults", 12);
	yajl_gen_integer(g, (long long)l.total);
	yajl_gen_string(g, (const unsigned char *)"startIndex", 10);
	yajl_gen_integer(g, start);
	yajl_gen_string(g, (const unsigned char *)"itemsPerPage", 12);
	yajl_gen_integer(g, l.n);
	yajl_gen_string(g, (const unsigned char *)"Resources", 9);
	yajl_gen_array_open(g);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	out = NULL;
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok && len >= 3 &&
	    memcmp(buf + len - 3, "[]}", 3) == 0)
		out = scim_page_writer_finish(w, req->arena, (const char *)buf, len - 2, l.items,
					      l.n, &len);
	else
		scim_page_writer_free(w);
	yajl_gen_free(g);
	if (!out) {
		scim_error(req, resp, 500, NULL, "the list could not be written");
		return;
	}
	http_resp_json(resp, 200, out, len);
	resp->content_type = SCIM_CT;
}

/* GET /Users and POST /Users/.search: whole users stream; a projection takes the jansson
 * path, which scim_project() works on. */
static void list_users(struct http_req *req, struct http_resp *resp, struct core *c,
		       const struct actor *who, const struct scim_list_params *lp)
{
	if ((lp->attributes && *lp->attributes) || (lp->excluded && *lp->excluded))
		scim_list_run(req, resp, c, who, lp, scim_users_query);
	else
		list_stream(req, resp, c, who, lp);
}

static void list(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct scim_list_params lp;

	if (!scim_actor_or_reply(req, resp, c, &who) || !scim_list_params_query(req, resp, &lp))
		return;
	list_users(req, resp, c, &who, &lp);
}

static void search(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct scim_list_params lp;

	if (!scim_actor_or_reply(req, resp, c, &who) || !scim_list_params_body(req, resp, &lp))
		return;
	list_users(req, resp, c, &who, &lp);
}

void scim_users_register(struct http_router *r, struct core *c, struct rs_err *err,
			 enum rs_status *st)
{
	static const struct {
		const char *method, *pattern;
		http_handler_fn fn;
	} routes[] = {
	    {"GET", SCIM_BASE "/Users", list},
	    {"POST", SCIM_BASE "/Users", create},
	    {"POST", SCIM_BASE "/Users/.search", search},
	    {"GET", SCIM_BASE "/Users/{id}", get},
	    {"PUT", SCIM_BASE "/Users/{id}", replace},
	    {"PATCH", SCIM_BASE "/Users/{id}", patch},
	    {"DELETE", SCIM_BASE "/Users/{id}", del},
	    {"GET", SCIM_BASE "/Me", me},
	    {"PUT", SCIM_BASE "/Me", replace},
	    {"PATCH", SCIM_BASE "/Me", patch},
	};

	for (size_t i = 0; *st == RS_OK && i < sizeof(routes) / sizeof(routes[0]); i++)
		*st =
		    http_route_add(r, routes[i].method, routes[i].pattern, 0, routes[i].fn, c, err);
}

http_handler_fn scim_users_handler(const char *method)
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
