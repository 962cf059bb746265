/* libFuzzer target: the SCIM filter parser, printer and evaluator (src/scim/filter.c, eval.c).
 * A filter that parses must print to text that parses to the same text again (the printer is
 * canonical), and evaluating it against a sample User must not crash. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scim/eval.h"
#include "scim/filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *sample(void)
{
	static json_t *r;

	if (!r)
		r = json_loads(
		    "{\"userName\":\"bjensen\",\"title\":\"Tour Guide\",\"active\":true,"
		    "\"name\":{\"familyName\":\"Jensen\",\"givenName\":\"Barbara\"},"
		    "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\","
		    "\"primary\":true},{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
		    "\"meta\":{\"lastModified\":\"2011-05-13T04:42:34Z\"},\"x\":42,"
		    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
		    "{\"employeeNumber\":\"701984\",\"manager\":{\"value\":\"26118915\"}}}",
		    0, NULL);
	if (!r)
		abort();
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	struct scim_filter *f, *g;
	struct scim_err err;
	char *txt, *again;

	arena_init(&a, 0);
	if (scim_filter_parse(&a, (const char *)data, size, &f, &err) == RS_OK) {
		txt = scim_filter_print(&a, f);
		if (!txt)
			abort();
		if (scim_filter_parse(&a, txt, strlen(txt), &g, &err) != RS_OK)
			abort();
		again = scim_filter_print(&a, g);
		if (!again || strcmp(txt, again) != 0)
			abort();
		if (scim_filter_match(f, sample(), scim_user_type()) !=
		    scim_filter_match(g, sample(), scim_user_type()))
			abort();
		(void)scim_filter_match(f, sample(), NULL);
	} else if (!err.scim_type || strcmp(err.scim_type, SCIM_INVALID_FILTER) != 0 ||
		   err.offset > size) {
		abort();
	}
	arena_release(&a);
	return 0;
}
