/* libFuzzer target: the SCIM PATCH engine (src/scim/patch.c) on the JSON a client sends. The
 * input is "resource NUL operations" (no NUL: the whole input is the operations, applied to
 * a sample User). Both the User schema and no schema are tried. The caller's resource must
 * never change, a success must give an object, and a failure must name a scimType. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scim/patch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char sample[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"2819c223\","
    "\"userName\":\"bjensen\",\"active\":true,\"name\":{\"familyName\":\"Jensen\"},"
    "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\",\"primary\":true},"
    "{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"employeeNumber\":\"7\"}}";

static void run(const json_t *res, const json_t *ops, const struct scim_resource_type *rt)
{
	struct arena a;
	struct scim_err err;
	json_t *out = NULL, *before = json_deep_copy(res);

	if (!before)
		abort();
	arena_init(&a, 0);
	if (scim_patch_apply(res, ops, rt, &a, &out, &err) == RS_OK) {
		if (!json_is_object(out))
			abort();
		json_decref(out);
	} else if (!err.scim_type) {
		abort();
	}
	if (!json_equal(before, (json_t *)res))
		abort();
	json_decref(before);
	arena_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	json_t *res, *ops;

	if (size > 65536)
		return 0;
	if (nul) {
		res = json_loadb((const char *)data, (size_t)(nul - data), 0, NULL);
		ops = json_loadb((const char *)nul + 1, size - (size_t)(nul - data) - 1,
				 JSON_DECODE_ANY, NULL);
	} else {
		res = json_loads(sample, 0, NULL);
		ops = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	}
	if (res && ops) {
		run(res, ops, scim_user_type());
		run(res, ops, scim_group_type());
		run(res, ops, NULL);
	}
	json_decref(res);
	json_decref(ops);
	return 0;
}
