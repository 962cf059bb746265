/* The native REST API (/api/v1): parse -> call the core -> render. No rule is decided here:
 * authorisation, tenant isolation and the rank rule live in the core. */
#ifndef ROSTER_API_REST_REST_H
#define ROSTER_API_REST_REST_H

#include "core/core.h"
#include "http/http.h"

/* Registers every /api/v1 route on r; c is borrowed and must outlive the server. */
enum rs_status rest_routes_register(struct http_router *r, struct core *c, struct rs_err *err);

#endif
