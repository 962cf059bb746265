/* The SCIM PATCH engine (RFC 7644 section 3.5.2): applies the "Operations" of a PatchOp request
 * to a resource held as JSON. Schema-aware through struct scim_resource_type (types,
 * multiValued, mutability, caseExact, sub-attributes), never through the core or the store:
 * the SCIM adapter loads the resource, calls this, and hands the result to the core. */
#ifndef ROSTER_SCIM_PATCH_H
#define ROSTER_SCIM_PATCH_H

#include <jansson.h>

#include "scim/scim.h"
#include "util/arena.h"

/* Applies ops (a JSON array of operations, borrowed) in order to a deep copy of resource (a JSON
 * object, borrowed, never modified) and on success sets *out to a new reference to the patched
 * copy (the caller decrefs it). On failure nothing is returned and err says why, with err->op
 * the index of the failing operation and scim_type one of: invalidSyntax (not an array, too
 * many operations, an operation that is not an object or has an unknown "op"), invalidPath (a
 * path that does not parse or names an unknown attribute), noTarget (remove without path, a
 * value filter of "replace" that matches nothing), invalidValue (a value of the wrong type or
 * shape), mutability (a readOnly attribute, an immutable one that already has a value). rt may
 * be NULL: then no types are checked and attributes are matched by name only. a holds parsed
 * paths; it may be the request arena. Status: RS_E_INVALID for every scimType above,
 * RS_E_INTERNAL when memory runs out.
 *
 * Accepted beyond the RFC, because Entra ID and Okta send them (docs/scim.md):
 *  - "op" in any case ("Replace", "Add", "Remove");
 *  - "value" without "path" holding attributes keyed by name, by dotted path ("name.givenName"),
 *    by URN-qualified name ("urn:...:enterprise:2.0:User:manager") or by extension URN with an
 *    object of that extension's attributes; any key is parsed as a PATCH path;
 *  - a boolean attribute given as the string "True"/"False" (any case), converted;
 *  - a complex attribute with a "value" sub-attribute given as a plain string (the enterprise
 *    manager as "id", a member as "id"), converted to {"value": ...};
 *  - "add" on attr[filter].sub (or attr[filter]) when no value matches and the filter is "eq"
 *    comparisons joined by "and": a new value built from those comparisons is appended;
 *  - "remove" with a path to a multi-valued attribute and a "value" listing the values to remove
 *    (complex values match on their "value" sub-attribute, and on "type" only when the listed
 *    value gives one);
 *  - a path-less "value" restating a readOnly core attribute's current value (Okta sends the
 *    group's "id" with a rename): skipped, where any other value is a mutability error.
 * Multi-valued "add" appends only values not already there (identical JSON, or complex values
 * with the same "value" and "type"); whenever an operation sets "primary" true on a value, the
 * attribute's other values get "primary": false. */
enum rs_status scim_patch_apply(const json_t *resource, const json_t *ops,
				const struct scim_resource_type *rt, struct arena *a, json_t **out,
				struct scim_err *err);

#endif
