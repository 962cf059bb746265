/* libFuzzer target: the SCIM PATCH path parser (src/scim/path.c, with the value-filter parser
 * of filter.c). A path that parses must print to text that parses to the same text again; a
 * refused one is reported as invalidPath at an offset inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scim/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	struct scim_path p, q;
	struct scim_err err;
	char *txt, *again;

	arena_init(&a, 0);
	if (scim_path_parse(&a, (const char *)data, size, &p, &err) == RS_OK) {
		if (!p.attr.name || (p.filter && !p.attr.name_lc))
			abort();
		txt = scim_path_print(&a, &p);
		if (!txt || scim_path_parse(&a, txt, strlen(txt), &q, &err) != RS_OK)
			abort();
		again = scim_path_print(&a, &q);
		if (!again || strcmp(txt, again) != 0)
			abort();
	} else if (!err.scim_type || strcmp(err.scim_type, SCIM_INVALID_PATH) != 0 ||
		   err.offset > size) {
		abort();
	}
	arena_release(&a);
	return 0;
}
