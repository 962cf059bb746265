/* JSON merge patch (RFC 7396) for the free-form parts of the model (custom_attributes). jansson
 * does the JSON; only the merge algorithm is ours. */
#include "core/core_int.h"

#include <jansson.h>
#include <stdlib.h>

/* Applies patch to target in place (RFC 7396 §2); returns the result, a new reference. */
static json_t *merge(json_t *target, json_t *patch)
{
	const char *key;
	json_t *v;

	if (!json_is_object(patch))
		return json_incref(patch);
	if (!json_is_object(target))
		target = json_object();
	else
		target = json_incref(target);
	json_object_foreach(patch, key, v)
	{
		if (json_is_null(v)) {
			json_object_del(target, key);
		} else {
			json_t *cur = json_object_get(target, key);

			json_object_set_new(target, key, merge(cur, v));
		}
	}
	return target;
}

bool json_text_is_object(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);
	bool ok = json_is_object(v);

	json_decref(v);
	return ok;
}

char *json_merge_patch_text(struct arena *a, const char *target, const char *patch)
{
	json_t *t = json_loads(target ? target : "{}", JSON_DECODE_ANY, NULL);
	json_t *p = json_loads(patch, JSON_DECODE_ANY, NULL);
	json_t *r;
	char *s, *out = NULL;

	if (!p) {
		json_decref(t);
		return NULL;
	}
	r = merge(t, p);
	s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (s)
		out = arena_strdup(a, s);
	free(s);
	json_decref(r);
	json_decref(t);
	json_decref(p);
	return out;
}
