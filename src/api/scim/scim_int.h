/* Shared by the SCIM adapter's files: replies, errors, authentication, bodies. */
#ifndef ROSTER_API_SCIM_SCIM_INT_H
#define ROSTER_API_SCIM_SCIM_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/scim/scim_api.h"
#include "scim/filter.h"
#include "scim/scim.h"

#define SCIM_BASE "/scim/v2"
#define SCIM_CT "application/scim+json"
#define SCIM_URN_USER "urn:ietf:params:scim:schemas:core:2.0:User"
#define SCIM_URN_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"
#define SCIM_URN_ENTERPRISE "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define SCIM_URN_ERROR "urn:ietf:params:scim:api:messages:2.0:Error"
#define SCIM_URN_LIST "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCIM_URN_PATCH "urn:ietf:params:scim:api:messages:2.0:PatchOp"
/* The most resources one ListResponse holds (ServiceProviderConfig filter.maxResults). */
#define SCIM_LIST_MAX RS_LIST_LIMIT_MAX
/* /Users pages go up to this (count=1000 pages a whole tenant; docs/scim.md "Paging"). */
#define SCIM_USERS_LIST_MAX RS_LIST_LIMIT_BULK_MAX

/* Sends body (stolen) as application/scim+json; version > 0 adds ETag W/"version". */
void scim_reply(struct http_req *req, struct http_resp *resp, int status, json_t *body,
		int64_t version);
/* An error in the SCIM error schema (RFC 7644 section 3.12); scim_type may be NULL. */
void scim_error(struct http_req *req, struct http_resp *resp, int status, const char *scim_type,
		const char *detail);
/* The error body alone (new reference), for /Bulk's per-operation responses. */
json_t *scim_error_json(struct arena *a, int status, const char *scim_type, const char *detail);
/* A core error as a SCIM error: the status from http_status_of, a scimType where one fits. */
void scim_fail_core(struct http_req *req, struct http_resp *resp, const struct rs_err *err);
/* A parser's or the PATCH engine's error: 400 with its scimType. */
void scim_fail_scim(struct http_req *req, struct http_resp *resp, const struct scim_err *e);
/* The bearer token's actor, which must hold scim.provision; false after replying. */
bool scim_actor_or_reply(struct http_req *req, struct http_resp *resp, struct core *c,
			 struct actor *who);
/* The body as a JSON object (application/scim+json or application/json); NULL after
 * replying. The caller decrefs it. */
json_t *scim_body_or_reply(struct http_req *req, struct http_resp *resp);
/* If-Match: 0 when absent or "*", the version of W/"n" or "n", -1 when unreadable. */
/* RFC 3339 text of ms in a. */
const char *scim_time(struct arena *a, int64_t ms);
/* Case-insensitive member lookup (RFC 7643 section 2.1: attribute names are). */
json_t *scim_get(const json_t *obj, const char *name);
/* SCIM_BASE/Users/id, in a. */
const char *scim_user_location(struct arena *a, const char *id);
/* The name.formatted roster shows when none is kept: "given family"; NULL without either. */
const char *scim_formatted_name(struct arena *a, const char *given, const char *family);

/* Removes member name (case-insensitively), if there is one. */
void scim_del(json_t *obj, const char *name);
/* attributes / excludedAttributes (RFC 7644 section 3.4.2.5) applied to a rendered resource in
 * place; "id" and "schemas" always stay. */
void scim_project(json_t *res, const char *attributes, const char *excluded);

/* ---- Queries (list.c): GET of a collection, POST .search, the root's POST /.search ---------- */

struct scim_filter;

/* A query as RFC 7644 section 3.4.2 has it, from a query string or a SearchRequest body. The
 * strings live in the request arena. */
struct scim_list_params {
	const char *filter, *sort_by, *sort_order, *attributes, *excluded;
	long long start, count; /* as sent: list_window() clamps them */
};

/* The query string's parameters; false after replying (a startIndex or count that is not an
 * integer). */
bool scim_list_params_query(struct http_req *req, struct http_resp *resp,
			    struct scim_list_params *lp);
/* A SearchRequest body's (RFC 7644 section 3.4.3; attributes may be arrays); false after
 * replying. */
bool scim_list_params_body(struct http_req *req, struct http_resp *resp,
			   struct scim_list_params *lp);
/* true when sortOrder is "descending"; false after replying when it is neither that nor
 * "ascending" (*ok false then). */
bool scim_sort_desc(struct http_req *req, struct http_resp *resp, const struct scim_list_params *lp,
		    bool *ok);
/* startIndex (1 at least) and count (0..SCIM_USERS_LIST_MAX) as a page uses them. */
long long scim_list_start(const struct scim_list_params *lp);
long long scim_list_count(const struct scim_list_params *lp);
/* lp->filter parsed (NULL when there is none; *ok false after replying to a syntax error). */
struct scim_filter *scim_list_filter(struct http_req *req, struct http_resp *resp,
				     const struct scim_list_params *lp, bool *ok);
/* Sends the ListResponse of resources arr (stolen) with totalResults total. */
void scim_list_reply(struct http_req *req, struct http_resp *resp, long long start, int64_t total,
		     json_t *arr);
/* A core error of a selection: the store's refusal of a filter is invalidFilter. */
void scim_list_fail(struct http_req *req, struct http_resp *resp, const struct rs_err *err);

/* One resource type's share of a query: the number of matches (*total) and the resources at
 * offset.. (at most count, rendered and projected per lp) appended to arr. f is the parsed
 * filter or NULL. false after replying. */
typedef bool (*scim_query_fn)(struct http_req *req, struct http_resp *resp, struct core *c,
			      const struct actor *who, const struct scim_list_params *lp,
			      const struct scim_filter *f, long long offset, long long count,
			      json_t *arr, int64_t *total);
bool scim_users_query(struct http_req *req, struct http_resp *resp, struct core *c,
		      const struct actor *who, const struct scim_list_params *lp,
		      const struct scim_filter *f, long long offset, long long count, json_t *arr,
		      int64_t *total);
bool scim_groups_query(struct http_req *req, struct http_resp *resp, struct core *c,
		       const struct actor *who, const struct scim_list_params *lp,
		       const struct scim_filter *f, long long offset, long long count, json_t *arr,
		       int64_t *total);

/* The core predicate operator of a filter comparison (the two enums differ: the core's has
 * PR between EW and GT). Cannot fail. */
enum pred_op scim_pred_op(enum scim_cmp cmp);

/* The operator and operand of one filter leaf on an attribute the store filters on, the same
 * for users and groups: "pr", "eq null" (negate) and "ne null" are PRED_PR; a time attribute
 * (is_time) takes eq..le with an RFC 3339 time (is_int, i in ms); any other a string (s).
 * false with why (naming full, the attribute) for a comparison roster does not make. */
struct scim_leaf {
	enum pred_op op;
	bool negate, is_int;
	int64_t i;
	const char *s;
};
bool scim_leaf_read(const struct scim_filter *f, const char *full, bool is_time,
		    struct scim_leaf *out, char *why, size_t cap);

/* A filter as a core predicate tree, in a: and, or, not and value paths are walked here, the
 * leaves left to the resource type's spec. */
struct scim_pred_spec {
	/* The type's core schema: an attribute qualified by another URN is refused with
	 * other_schema as why. */
	const char *urn, *other_schema;
	/* One comparison or presence test on attribute (name, sub), already lower-cased: a value
	 * path's filter comes with name the path's attribute. */
	bool (*leaf)(struct arena *a, const struct scim_filter *f, const char *name,
		     const char *sub, struct pred **out, char *why, size_t cap);
	/* NULL, or false with why for a value path (f) whose attribute the type refuses. */
	bool (*value_path)(const struct scim_filter *f, char *why, size_t cap);
};
bool scim_pred_compile(struct arena *a, const struct scim_filter *f, const char *parent,
		       const struct scim_pred_spec *spec, struct pred **out, char *why, size_t cap);
/* A node with op and nothing else set; NULL when a runs out. */
struct pred *scim_pred_new(struct arena *a, enum pred_op op);
/* "not x"; NULL when x is (so that a failed allocation passes through) or a runs out. */
struct pred *scim_pred_not(struct arena *a, struct pred *x);
/* The comparison scim_leaf_read() read, on attr (negated when lf asks it). */
struct pred *scim_pred_leaf(struct arena *a, const struct scim_leaf *lf, int attr);

/* Answers a query of one resource type (GET /Users, POST /Groups/.search, ...). */
void scim_list_run(struct http_req *req, struct http_resp *resp, struct core *c,
		   const struct actor *who, const struct scim_list_params *lp, scim_query_fn fn);

/* f as it reads against resources of type rt_name ("User", "Group") in a query that spans
 * resource types, in a: meta.resourceType comparisons become constants, and with across_types
 * an attribute the type does not define reads as absent (RFC 7644 section 3.4.2: "the service
 * provider SHALL treat the attribute as if there is no attribute value"). Constants are
 * written as "id pr" (true) and "not (id pr)" (false), which every type compiles. NULL with
 * *why set when meta.resourceType is compared other than with eq/ne and a string; NULL with
 * *why empty when a runs out. */
struct scim_filter *scim_filter_for_type(struct arena *a, const struct scim_filter *f,
					 const char *rt_name, const struct scim_resource_type *rt,
					 bool across_types, char *why, size_t cap);

void scim_search_register(struct http_router *r, struct core *c, struct rs_err *err,
			  enum rs_status *st);

void scim_users_register(struct http_router *r, struct core *c, struct rs_err *err,
			 enum rs_status *st);
void scim_groups_register(struct http_router *r, struct core *c, struct rs_err *err,
			  enum rs_status *st);
void scim_bulk_register(struct http_router *r, struct core *c, struct rs_err *err,
			enum rs_status *st);

/* The handler a single request of method ("POST" on the collection; "PUT", "PATCH" or
 * "DELETE" on {id}) reaches, for /Bulk to run an operation through exactly that code; NULL
 * for any other method. app is the struct core. */
http_handler_fn scim_users_handler(const char *method);
http_handler_fn scim_groups_handler(const char *method);

#endif
