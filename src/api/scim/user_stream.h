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

/* A page of users from this many on is written by two threads (the server answers a paging
 * client one page at a time, so the second CPU would otherwise idle). */
#define SCIM_STREAM_SPLIT_MIN 200

/* items[0..n) as the elements of a JSON array (comma-separated, no brackets), in a; *len its
 * length. NULL when out of memory. */
char *scim_users_stream_items(struct arena *a, const struct user *items, int n, size_t *len);

/* Writes the jansson value v to g. */
void scim_json_stream(yajl_gen g, const json_t *v);

#endif
