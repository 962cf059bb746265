/* The pure half of /scim/v2/Users: a roster user as a SCIM User resource, and a request body
 * (POST/PUT resource or PatchOp) as the changes the core is asked for. No core calls and no
 * HTTP, so fuzz/fuzz_scim_request.c can drive every body parser without a server. */
#ifndef ROSTER_API_SCIM_USER_MAP_H
#define ROSTER_API_SCIM_USER_MAP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"
#include "scim/scim.h"

struct scim_user_change {
	struct user_fields f;
	int active;		/* -1: not given (or, for a PATCH, unchanged) */
	const char *department; /* the wanted department's name; NULL: none */
	const char *password;	/* a password the provider sets (or syncs); NULL: none */
	bool password_explicit; /* set by a PATCH: a change asked for by itself */
};

/* u as a SCIM User (docs/scim.md, "User mapping"); allocations for strings in a. */
json_t *scim_user_render(struct arena *a, const struct user *u);

/* Reads a whole SCIM User (a POST or PUT body, or a patched resource) into the fields that
 * change cur (NULL on create). false with why on invalid input. */
bool scim_user_map(struct arena *a, const json_t *res, const struct user *cur,
		   struct scim_user_change *m, char *why, size_t cap);

/* A PatchOp body applied to cur as rendered, then mapped: only what the operations changed is
 * set in m. RS_E_INVALID with err filled (scimType and detail) on a bad request. */
enum rs_status scim_user_patch_map(struct arena *a, const struct user *cur, const json_t *body,
				   struct scim_user_change *m, struct scim_err *err);

#endif
