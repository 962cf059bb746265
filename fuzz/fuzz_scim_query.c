/* libFuzzer target: a filter as one resource type reads it in a query across types
 * (scim_filter_for_type(), src/api/scim/filter_types.c; docs/scim.md "Searching at the root").
 * For a sample User and a sample Group, each carrying only attributes its schema defines, the
 * rewritten filter must print and parse again, and must match exactly when the original does
 * (src/scim/eval.c reads an attribute a resource lacks as absent, which is what the rewrite's
 * constants stand for). The only refusal is a meta.resourceType compared other than with eq or
 * ne and a string, and it must say so. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/scim/scim_int.h"
#include "scim/eval.h"
#include "scim/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *load(const char *text)
{
	json_t *r = json_loads(text, 0, NULL);

	if (!r)
		abort();
	return r;
}

static json_t *sample_user(void)
{
	static json_t *r;

	if (!r)
		r = load("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
			 "\"id\":\"0190a1b2-0000-7000-8000-000000000001\",\"externalId\":\"ext-1\","
			 "\"userName\":\"bjensen\",\"title\":\"Tour Guide\",\"active\":true,"
			 "\"displayName\":\"Babs\","
			 "\"name\":{\"familyName\":\"Jensen\",\"givenName\":\"Barbara\"},"
			 "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
			 "\"primary\":true}],"
			 "\"groups\":[{\"value\":\"0190a1b2-0000-7000-8000-000000000002\"}],"
			 "\"meta\":{\"resourceType\":\"User\",\"created\":\"2011-05-13T04:42:34Z\","
			 "\"lastModified\":\"2011-05-13T04:42:34Z\"},"
			 "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
			 "{\"employeeNumber\":\"701984\",\"manager\":{\"value\":\"26118915\"}}}");
	return r;
}

static json_t *sample_group(void)
{
	static json_t *r;

	if (!r)
		r = load("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
			 "\"id\":\"0190a1b2-0000-7000-8000-000000000002\",\"externalId\":\"ext-1\","
			 "\"displayName\":\"Tour Guides\","
			 "\"members\":[{\"value\":\"0190a1b2-0000-7000-8000-000000000001\","
			 "\"display\":\"bjensen\",\"type\":\"User\"}],"
			 "\"meta\":{\"resourceType\":\"Group\",\"created\":\"2011-05-13T04:42:34Z\","
			 "\"lastModified\":\"2011-05-13T04:42:34Z\"}}");
	return r;
}

static void check(struct arena *a, const struct scim_filter *f, const char *name,
		  const struct scim_resource_type *rt, const json_t *res, bool across)
{
	struct scim_filter *g, *back;
	struct scim_err err;
	char why[256], *txt;

	g = scim_filter_for_type(a, f, name, rt, across, why, sizeof(why));
	if (!g) {
		if (!strstr(why, "resourceType"))
			abort();
		return;
	}
	txt = scim_filter_print(a, g);
	if (!txt || scim_filter_parse(a, txt, strlen(txt), &back, &err) != RS_OK)
		abort();
	if (scim_filter_match(f, res, rt) != scim_filter_match(g, res, rt))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	struct scim_filter *f;
	struct scim_err err;

	arena_init(&a, 0);
	if (scim_filter_parse(&a, (const char *)data, size, &f, &err) == RS_OK) {
		for (int across = 0; across < 2; across++) {
			check(&a, f, "User", scim_user_type(), sample_user(), across);
			check(&a, f, "Group", scim_group_type(), sample_group(), across);
		}
	}
	arena_release(&a);
	return 0;
}
