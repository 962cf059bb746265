/* The SCIM 2.0 service provider (/scim/v2, RFC 7643/7644): parse -> call the core -> render, in
 * SCIM's own formats. Tenant-bound: the tenant is the bearer token's, never a path segment, so
 * an identity provider's one base URL serves exactly one tenant. No rule is decided here. */
#ifndef ROSTER_API_SCIM_SCIM_API_H
#define ROSTER_API_SCIM_SCIM_API_H

#include "core/core.h"
#include "http/http.h"

/* Registers every /scim/v2 route on r; c is borrowed and must outlive the server. */
enum rs_status scim_routes_register(struct http_router *r, struct core *c, struct rs_err *err);

#endif
