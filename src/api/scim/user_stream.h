/* SCIM Users written to a YAJL generator instead of built as jansson trees: the fast path of
 * a ListResponse of Users (GET /Users, POST /Users/.search without attributes or
 * excludedAttributes). No core calls and no HTTP, like user_map.h. */
#ifndef ROSTER_API_SCIM_USER_STREAM_H
#define ROSTER_API_SCIM_USER_STREAM_H

#include <jansson.h>
#include <yajl/yajl_gen.h>

#include "core/core.h"

/* Writes u to g as the resource scim_user_render(a, u) is (the same JSON value; key order may
 * differ). Strings it formats go into a. */
void scim_user_stream(yajl_gen g, struct arena *a, const struct user *u);

/* Writes the jansson value v to g. */
void scim_json_stream(yajl_gen g, const json_t *v);

#endif
