/* libFuzzer target: JSON merge patch (json_merge_patch_text in core/merge.c, RFC 7396). The
 * input is "target NUL patch" (no NUL: the whole input is the patch, target {}). A non-NULL
 * result must parse as JSON, an object patch must give an object, and applying the same patch
 * again must change nothing (merge patches are idempotent). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	struct arena a;
	char *target = NULL, *patch, *out, *twice;
	json_t *r, *p;

	if (size > 65536)
		return 0;
	arena_init(&a, 0);
	if (nul) {
		target = arena_strndup(&a, (const char *)data, (size_t)(nul - data));
		patch = arena_strndup(&a, (const char *)nul + 1, size - (size_t)(nul - data) - 1);
	} else {
		patch = arena_strndup(&a, (const char *)data, size);
	}
	if (!patch || (nul && !target))
		abort();
	out = json_merge_patch_text(&a, target, patch);
	p = json_loads(patch, JSON_DECODE_ANY, NULL);
	if (!p != !out) /* NULL exactly when the patch is not JSON */
		abort();
	if (out) {
		r = json_loads(out, JSON_DECODE_ANY, NULL);
		if (!r)
			abort();
		if (json_is_object(p) && !json_is_object(r))
			abort();
		twice = json_merge_patch_text(&a, out, patch);
		if (!twice || strcmp(twice, out) != 0)
			abort();
		json_decref(r);
	}
	json_decref(p);
	arena_release(&a);
	return 0;
}
