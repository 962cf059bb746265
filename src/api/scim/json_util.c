/* The adapter's helpers that need no HTTP, apart from scim_api.c so that the fuzz target
 * (fuzz/fuzz_scim_request.c) compiles them in without the server. */
#include "api/scim/scim_int.h"

#include <string.h>
#include <strings.h>

#include "util/str.h"
#include "util/timeutil.h"

const char *scim_time(struct arena *a, int64_t ms)
{
	char b[TIME_STR_LEN];

	time_format(ms, b);
	return arena_strdup(a, b);
}

json_t *scim_get(const json_t *obj, const char *name)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return NULL;
	json_object_foreach((json_t *)obj, k, v)
	{
		if (strcasecmp(k, name) == 0)
			return v;
	}
	return NULL;
}

void scim_del(json_t *obj, const char *name)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return;
	json_object_foreach(obj, k, v)
	{
		if (strcasecmp(k, name) == 0) {
			json_object_del(obj, k);
			return;
		}
	}
}

/* a ‖ b ‖ c in the arena; concatenation rather than arena_printf: a page of a thousand users
 * builds thousands of these. */
static const char *cat3(struct arena *ar, const char *a, const char *b, const char *c)
{
	size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
	char *s = arena_alloc(ar, na + nb + nc + 1);

	if (!s)
		return "";
	memcpy(s, a, na);
	memcpy(s + na, b, nb);
	memcpy(s + na + nb, c, nc + 1);
	return s;
}

const char *scim_user_location(struct arena *a, const char *id)
{
	return cat3(a, SCIM_BASE, "/Users/", id);
}

const char *scim_formatted_name(struct arena *a, const char *given, const char *family)
{
	if (!given && !family)
		return NULL;
	return cat3(a, given ? given : "", given && family ? " " : "", family ? family : "");
}
