/* The adapter's helpers that need no HTTP, apart from scim_api.c so that the fuzz target
 * (fuzz/fuzz_scim_request.c) compiles them in without the server. */
#include "api/scim/scim_int.h"

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
