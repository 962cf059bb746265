/* Shared helpers of the REST adapter: authentication, JSON input with typed fields, output
 * rendering, ETags and paging parameters. Functions ending in _or_reply have already answered
 * when they return false. */
#ifndef ROSTER_API_REST_REST_INT_H
#define ROSTER_API_REST_REST_INT_H

#include <jansson.h>
#include <stdbool.h>

#include "api/rest/rest.h"

/* Authenticates the bearer token into who (request id and source address filled in). */
bool rest_actor_or_reply(struct http_req *req, struct http_resp *resp, struct core *c,
			 struct actor *who);
/* The signed scheme (api/rest/api_users.c): value is the Authorization header after "TC ",
 * "<access id>:<base64 signature>", with the Timestamp header; authenticates into who (request
 * id and source address filled in), or replies with the problem and returns false. */
bool rest_signed_actor(struct http_req *req, struct http_resp *resp, struct core *c,
		       const char *value, struct actor *who);
/* Replies with the problem for err. */
void rest_fail(struct http_req *req, struct http_resp *resp, const struct rs_err *err);
void rest_fail_status(struct http_req *req, struct http_resp *resp, enum rs_status st,
		      const char *code, const char *field, const char *msg);

/* JSON input: a typed reader over the request body that keeps the first error. */
struct jin {
	json_t *root; /* owned; released by jin_release */
	struct arena *a;
	struct rs_err err;
	bool failed;
};
/* Parses the body as a JSON object; false (and replied) when it is missing or malformed. */
bool jin_parse_or_reply(struct jin *j, struct http_req *req, struct http_resp *resp);
void jin_release(struct jin *j);
/* Refuses members not in allowed (NULL-terminated). */
void jin_only(struct jin *j, const char *const *allowed);
void jin_str(struct jin *j, const char *key, struct opt_str *out);
/* Like jin_str but null is refused. */
void jin_str_required(struct jin *j, const char *key, struct opt_str *out);
void jin_int(struct jin *j, const char *key, struct opt_int *out);
void jin_strs(struct jin *j, const char *key, bool *set, const char *const **out, int *n);
/* A JSON object member, kept as compact text. */
void jin_object(struct jin *j, const char *key, struct opt_str *out);
/* Replies 400 if any reader failed; true when all was well. */
bool jin_ok_or_reply(struct jin *j, struct http_req *req, struct http_resp *resp);

/* Output. */
json_t *js_time(int64_t ms);   /* null for 0 */
json_t *js_str(const char *s); /* null for NULL */
json_t *render_tenant(const struct tenant *t);
json_t *render_seat_limits(const struct seat_limit *limits);
json_t *render_user(const struct user *u);
json_t *render_role(const struct role *r);
json_t *render_role_ref(const struct role_ref *r);
json_t *render_group(const struct group *g);
json_t *render_token(const struct token *t);
json_t *render_audit(const struct audit_event *e);
json_t *render_job(const struct job *j); /* api/rest/jobs.c */
#define REST_SESSION_COOKIE "roster_session"
/* Replies with a task and its Location (api/rest/tasks.c). */
void rest_task_reply(struct http_req *req, struct http_resp *resp, int status, const char *tenant,
		     const struct task *t);
/* Renders a list answer {"items": […], "next_cursor": …}; takes items (new reference). */
json_t *render_list(json_t *items, const char *next_cursor);
/* Replies with v (new reference, released here). etag_version > 0 adds an ETag. */
void rest_reply(struct http_req *req, struct http_resp *resp, int status, json_t *v,
		int64_t etag_version);
void rest_no_content(struct http_resp *resp);

/* DELETE …/{tenant}/<things>/{id} with If-Match: authenticates, calls del, answers 204. */
typedef enum rs_status (*rest_delete_fn)(struct core *c, const struct actor *who,
					 const char *tenant, const char *id, int64_t if_match,
					 struct rs_err *err);
void rest_delete(struct http_req *req, struct http_resp *resp, struct core *c, rest_delete_fn del);

/* limit and cursor query parameters. */
bool rest_page_or_reply(struct http_req *req, struct http_resp *resp, struct page *pg);

struct rest_route {
	const char *method, *pattern;
	http_handler_fn fn;
};
enum rs_status rest_routes_add(struct http_router *r, struct core *c,
			       const struct rest_route *routes, size_t n, struct rs_err *err);
#define REST_ROUTES_ADD(r, c, routes, err)                                                         \
	rest_routes_add((r), (c), (routes), sizeof(routes) / sizeof((routes)[0]), (err))

/* Route registration per resource. */
enum rs_status rest_tenants_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_users_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_roles_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_groups_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_departments_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_api_users_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_tokens_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_audit_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_meta_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_jwks_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_jobs_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_tasks_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_auth_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_oauth_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_webhooks_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_outbox_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_invitations_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_resources_register(struct http_router *r, struct core *c, struct rs_err *err);
enum rs_status rest_email_templates_register(struct http_router *r, struct core *c,
					     struct rs_err *err);

#endif
