/* Every limit on what a client controls lives here (as SQLite's sqliteLimit.h). */
#ifndef ROSTER_UTIL_LIMITS_H
#define ROSTER_UTIL_LIMITS_H

#define RS_BODY_MAX_DEFAULT (1024 * 1024) /* request body, configurable */
#define RS_URL_MAX 4096			  /* request path + query */
#define RS_QUERY_PARAMS_MAX 32
#define RS_PATH_SEGMENTS_MAX 12
#define RS_REQUEST_ID_MAX 64
#define RS_LIST_LIMIT_DEFAULT 50
#define RS_LIST_LIMIT_MAX 200
#define RS_LIST_LIMIT_BULK_MAX 1000 /* a users page for SCIM (count): provisioning reads */
#define RS_USERNAME_MAX 128
#define RS_EMAIL_MAX 254
#define RS_NAME_MAX 200	 /* person names, tenant, role and group names */
#define RS_TEXT_MAX 2000 /* descriptions */
#define RS_SLUG_MAX 63
#define RS_ATTR_MAX 256		  /* locale, timezone, external id, security profile */
#define RS_CUSTOM_ATTRS_MAX 16384 /* serialised custom_attributes */
#define RS_ROLES_PER_USER_MAX 32
#define RS_SCOPES_PER_USER_MAX 8 /* distinct departments a user's scoped roles name */
#define RS_DEPT_DEPTH_MAX 32	 /* levels of a department tree, the root being level 1 */
#define RS_DEPTS_PER_TENANT_MAX 10000
#define RS_TOKEN_DAYS_MAX 3650
#define RS_PASSWORD_MAX 1024 /* code points: the largest password_max_length a tenant may set */
#define RS_EMAIL_PART_MAX (64 * 1024) /* a template part (subject, text, html), rendered too */
#define RS_WEBHOOK_URL_MAX 2048
#define RS_EVENT_TYPE_MAX 64
#define RS_PASSWORD_INPUT_MAX 4096  /* bytes of a password as sent; policy limits come after */
#define RS_SCIM_FILTER_MAX 4096	    /* bytes of a SCIM filter or PATCH path */
#define RS_SCIM_FILTER_DEPTH_MAX 64 /* nested parentheses, nots and value paths in a filter */
#define RS_SCIM_PATCH_OPS_MAX 1000  /* operations in one SCIM PATCH request */
#define RS_GROUP_CHANGE_MAX 100000  /* members named in one groups_apply() */
#define RS_SCIM_JSON_DEPTH_MAX 32   /* nesting of a SCIM resource or PATCH value */
#define RS_SCIM_BULK_OPS_MAX 1000   /* operations in one SCIM /Bulk request (maxOperations) */
#define RS_SCIM_BULK_PAYLOAD_MAX (1024 * 1024) /* bytes of a /Bulk body (maxPayloadSize) */
#define RS_ARENA_MAX (64 * 1024 * 1024)	       /* per request, response included */

#endif
