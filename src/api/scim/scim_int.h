/* Shared by the SCIM adapter's files: replies, errors, authentication, bodies. */
#ifndef ROSTER_API_SCIM_SCIM_INT_H
#define ROSTER_API_SCIM_SCIM_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/scim/scim_api.h"
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
int64_t scim_if_match(const struct http_req *req);
/* RFC 3339 text of ms in a. */
const char *scim_time(struct arena *a, int64_t ms);
/* Case-insensitive member lookup (RFC 7643 section 2.1: attribute names are). */
json_t *scim_get(const json_t *obj, const char *name);
/* attributes / excludedAttributes (RFC 7644 section 3.4.2.5) applied to a rendered resource in
 * place; "id" and "schemas" always stay. */
void scim_project(json_t *res, const char *attributes, const char *excluded);

void scim_users_register(struct http_router *r, struct core *c, struct rs_err *err,
			 enum rs_status *st);
void scim_groups_register(struct http_router *r, struct core *c, struct rs_err *err,
			  enum rs_status *st);

#endif
