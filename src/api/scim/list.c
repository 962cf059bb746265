/* Queries shared by the SCIM resource types (RFC 7644 section 3.4.2-3): reading a query from
 * a query string or a SearchRequest body, ListResponse paging, and the root's POST /.search,
 * which runs one query over Users then Groups. Each type compiles the filter into its own
 * core predicate (users.c, groups.c): nothing is filtered here. */
#include "api/scim/scim_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scim/filter.h"
#include "util/str.h"

static bool int_param(struct http_req *req, struct http_resp *resp, const char *name,
		      const json_t *v, const char *text, long long dflt, long long *out)
{
	*out = dflt;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (v && !json_is_null(v)) {
		scim_error(req, resp, 400, SCIM_INVALID_VALUE,
			   arena_printf(req->arena, "'%s' must be an integer", name));
		return false;
	}
	if (text && !str_to_ll(text, -1000000000LL, 1000000000LL, out)) {
		scim_error(req, resp, 400, SCIM_INVALID_VALUE,
			   arena_printf(req->arena, "'%s' must be an integer", name));
		return false;
	}
	return true;
}

bool scim_list_params_query(struct http_req *req, struct http_resp *resp,
			    struct scim_list_params *lp)
{
	*lp = (struct scim_list_params){
	    .filter = http_query(req, "filter"),
	    .sort_by = http_query(req, "sortBy"),
	    .sort_order = http_query(req, "sortOrder"),
	    .attributes = http_query(req, "attributes"),
	    .excluded = http_query(req, "excludedAttributes"),
	};
	return int_param(req, resp, "startIndex", NULL, http_query(req, "startIndex"), 1,
			 &lp->start) &&
	       int_param(req, resp, "count", NULL, http_query(req, "count"), 100, &lp->count);
}

/* Comma-joined names of a JSON array of strings (the .search body's attributes). */
static const char *names_of(struct arena *a, const json_t *v)
{
	const char *s = NULL;
	size_t i;
	json_t *e;

	if (json_is_string(v))
		return arena_strdup(a, json_string_value(v));
	json_array_foreach(v, i, e)
	{
		if (json_is_string(e))
			s = s ? arena_printf(a, "%s,%s", s, json_string_value(e))
			      : arena_strdup(a, json_string_value(e));
	}
	return s;
}

static const char *str_of(struct arena *a, const json_t *body, const char *name)
{
	json_t *v = scim_get(body, name);

	return json_is_string(v) ? arena_strdup(a, json_string_value(v)) : NULL;
}

bool scim_list_params_body(struct http_req *req, struct http_resp *resp,
			   struct scim_list_params *lp)
{
	json_t *body = scim_body_or_reply(req, resp);
	bool ok;

	*lp = (struct scim_list_params){0};
	if (!body)
		return false;
	lp->filter = str_of(req->arena, body, "filter");
	lp->sort_by = str_of(req->arena, body, "sortBy");
	lp->sort_order = str_of(req->arena, body, "sortOrder");
	lp->attributes = names_of(req->arena, scim_get(body, "attributes"));
	lp->excluded = names_of(req->arena, scim_get(body, "excludedAttributes"));
	ok =
	    int_param(req, resp, "startIndex", scim_get(body, "startIndex"), NULL, 1, &lp->start) &&
	    int_param(req, resp, "count", scim_get(body, "count"), NULL, 100, &lp->count);
	json_decref(body);
	return ok;
}

bool scim_sort_desc(struct http_req *req, struct http_resp *resp, const struct scim_list_params *lp,
		    bool *ok)
{
	*ok = true;
	if (!lp->sort_order || !*lp->sort_order || strcasecmp(lp->sort_order, "ascending") == 0)
		return false;
	if (strcasecmp(lp->sort_order, "descending") == 0)
		return true;
	scim_error(req, resp, 400, SCIM_INVALID_VALUE, "sortOrder must be ascending or descending");
	*ok = false;
	return false;
}

struct scim_filter *scim_list_filter(struct http_req *req, struct http_resp *resp,
				     const struct scim_list_params *lp, bool *ok)
{
	struct scim_filter *f = NULL;
	struct scim_err serr = {0};

	*ok = true;
	if (!lp->filter || !*lp->filter)
		return NULL;
	if (scim_filter_parse(req->arena, lp->filter, strlen(lp->filter), &f, &serr) != RS_OK) {
		scim_fail_scim(req, resp, &serr);
		*ok = false;
		return NULL;
	}
	return f;
}

void scim_list_reply(struct http_req *req, struct http_resp *resp, long long start, int64_t total,
		     json_t *arr)
{
	json_t *out = json_pack("{s:[s],s:I,s:I,s:I,s:o}", "schemas", SCIM_URN_LIST, "totalResults",
				(json_int_t)total, "startIndex", (json_int_t)start, "itemsPerPage",
				(json_int_t)json_array_size(arr), "Resources", arr);

	scim_reply(req, resp, 200, out, 0);
}

void scim_list_fail(struct http_req *req, struct http_resp *resp, const struct rs_err *err)
{
	if (err->status == RS_E_INVALID || err->status == RS_E_TOO_LARGE)
		scim_error(req, resp, 400, SCIM_INVALID_FILTER, err->msg);
	else
		scim_fail_core(req, resp, err);
}

static long long clamp_start(long long start)
{
	return start < 1 ? 1 : start;
}

static long long clamp_count(long long count)
{
	return count < 0 ? 0 : count > SCIM_USERS_LIST_MAX ? SCIM_USERS_LIST_MAX : count;
}

long long scim_list_start(const struct scim_list_params *lp)
{
	return clamp_start(lp->start);
}

long long scim_list_count(const struct scim_list_params *lp)
{
	return clamp_count(lp->count);
}

void scim_list_run(struct http_req *req, struct http_resp *resp, struct core *c,
		   const struct actor *who, const struct scim_list_params *lp, scim_query_fn fn)
{
	long long start = clamp_start(lp->start), count = clamp_count(lp->count);
	struct scim_filter *f;
	int64_t total = 0;
	json_t *arr;
	bool ok;

	f = scim_list_filter(req, resp, lp, &ok);
	if (!ok)
		return;
	arr = json_array();
	if (!fn(req, resp, c, who, lp, f, start - 1, count, arr, &total)) {
		json_decref(arr);
		return;
	}
	scim_list_reply(req, resp, start, total, arr);
}

/* ---- POST /.search at the root ----------------------------------------------------------- */

/* RFC 7644 section 3.4.3: a SearchRequest at the root searches every resource type. roster
 * runs it against Users, then Groups, with the filter as each type reads it
 * (scim_filter_for_type): an attribute one type does not define has no value there, so
 * "displayName eq x" finds groups only and "meta.resourceType eq \"Group\"" selects a type.
 * An attribute a type defines but cannot filter on is still invalidFilter. totalResults is
 * the sum; startIndex and count page across the concatenation (users first, each type in its
 * own order). sortBy is refused: the two selections cannot be merged in one order without
 * reading them whole. */
static void root_search(struct http_req *req, struct http_resp *resp, void *app)
{
	static const struct {
		const char *name;
		const struct scim_resource_type *(*rt)(void);
		scim_query_fn fn;
	} types[] = {
	    {"User", scim_user_type, scim_users_query},
	    {"Group", scim_group_type, scim_groups_query},
	};
	struct core *c = app;
	struct actor who;
	struct scim_list_params lp;
	struct scim_filter *f;
	long long start, count, offset;
	int64_t total = 0;
	json_t *arr;
	bool ok;

	if (!scim_actor_or_reply(req, resp, c, &who) || !scim_list_params_body(req, resp, &lp))
		return;
	if (lp.sort_by && *lp.sort_by) {
		scim_error(req, resp, 400, SCIM_INVALID_VALUE,
			   "sortBy is not supported at the root: query /Users or /Groups to sort");
		return;
	}
	f = scim_list_filter(req, resp, &lp, &ok);
	if (!ok)
		return;
	start = clamp_start(lp.start);
	count = clamp_count(lp.count);
	offset = start - 1;
	arr = json_array();
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const struct scim_filter *tf = NULL;
		long long room = count - (long long)json_array_size(arr);
		int64_t n = 0;
		char why[256];

		if (f && !(tf = scim_filter_for_type(req->arena, f, types[i].name, types[i].rt(),
						     true, why, sizeof(why)))) {
			json_decref(arr);
			scim_error(req, resp, why[0] ? 400 : 500,
				   why[0] ? SCIM_INVALID_FILTER : NULL,
				   why[0] ? why : "out of memory");
			return;
		}
		if (!types[i].fn(req, resp, c, &who, &lp, tf, offset, room, arr, &n)) {
			json_decref(arr);
			return;
		}
		total += n;
		/* The next type starts where this one's matches end. */
		offset = offset > n ? offset - n : 0;
	}
	scim_list_reply(req, resp, start, total, arr);
}

void scim_search_register(struct http_router *r, struct core *c, struct rs_err *err,
			  enum rs_status *st)
{
	if (*st == RS_OK)
		*st = http_route_add(r, "POST", SCIM_BASE "/.search", 0, root_search, c, err);
}
