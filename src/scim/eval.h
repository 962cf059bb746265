/* Evaluating a parsed SCIM filter against a resource as JSON (RFC 7644 section 3.4.2.2):
 * attribute names case-insensitive, strings compared case-insensitively unless the schema says
 * caseExact, and a comparison on a multi-valued attribute true when any value satisfies it.
 * Used for PATCH value paths and for filtering resources held in memory. Reads only. */
#ifndef ROSTER_SCIM_EVAL_H
#define ROSTER_SCIM_EVAL_H

#include <jansson.h>
#include <stdbool.h>

#include "scim/filter.h"

/* True when resource (a JSON object, borrowed) satisfies f. rt describes the resource (may be
 * NULL: then attributes are found by name only, at the top level or in an object keyed by the
 * URN, and every string is compared case-insensitively). Semantics beyond the RFC's text:
 *  - an attribute that is absent or null satisfies no comparison except through "ne", which is
 *    "not eq": "title ne \"x\"" holds for a resource without title;
 *  - "a eq null" holds when a is absent or null, "a ne null" when it is present;
 *  - a comparison on a complex attribute without sub-attribute compares its "value"
 *    sub-attribute ("emails co \"example.com\"", RFC 7644's own example);
 *  - gt/ge/lt/le compare strings (and dateTimes, as written) by bytes after case folding,
 *    numbers numerically; they never hold for booleans or null;
 *  - co/sw/ew hold for strings only.
 * Cannot fail. */
bool scim_filter_match(const struct scim_filter *f, const json_t *resource,
		       const struct scim_resource_type *rt);

/* True when elem (one value of a multi-valued complex attribute, borrowed) satisfies the value
 * filter f (the part inside attr[...]). parent is the attribute's definition, NULL when
 * unknown. Cannot fail. */
bool scim_valfilter_match(const struct scim_filter *f, const json_t *elem,
			  const struct scim_attr *parent);

#endif
