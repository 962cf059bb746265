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

/* A page of users from this many on is written on a helper thread while the core reads it
 * (the server answers a paging client one page at a time, so the second CPU would otherwise
 * idle); a smaller one is written after the read on the request thread. */
#define SCIM_STREAM_SPLIT_MIN 200

/* A ListResponse of users written while the core reads them: the core hands it chunks of
 * complete users (user_list_query.on_users = scim_page_writer_users), which a helper thread
 * writes as they come; finish() writes what is left on the calling thread and joins the text.
 * With helper false, or when the chunks do not line up, finish() writes the page whole. */
struct scim_page_writer;

/* A writer in a (NULL when out of memory); with helper, its thread starts now. */
struct scim_page_writer *scim_page_writer_new(struct arena *a, bool helper);
/* user_list_query.on_users: users [from, to) of items are complete. */
void scim_page_writer_users(void *ctx, const struct user *items, int from, int to);
/* head (the ListResponse up to and including the "[" of Resources), then items[0..n) – the
 * users_list result the chunks came from – then "]}", in a; *len its length. Frees w. NULL
 * when out of memory. */
char *scim_page_writer_finish(struct scim_page_writer *w, struct arena *a, const char *head,
			      size_t headlen, const struct user *items, int n, size_t *len);
/* Stops and frees a writer that will not be finished (the list failed). */
void scim_page_writer_free(struct scim_page_writer *w);

/* Writes the jansson value v to g. */
void scim_json_stream(yajl_gen g, const json_t *v);

#endif
