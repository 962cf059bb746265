/* Shared between the files of src/scim/ only: the pieces of the filter parser that the PATCH
 * path parser reuses, and small JSON helpers. Callers outside src/scim/ include filter.h,
 * path.h, eval.h and patch.h instead. */
#ifndef ROSTER_SCIM_SCIM_INT_H
#define ROSTER_SCIM_SCIM_INT_H

#include <jansson.h>
#include <stdbool.h>

#include "scim/filter.h"

/* Parses an attrPath at s[*pos]; moves *pos past it. allow_urn and allow_sub say whether a URN
 * prefix and a sub-attribute are allowed here (neither inside a value filter, where names are
 * the parent's sub-attributes). */
enum rs_status scim_attr_path_parse(struct arena *a, const char *s, size_t len, size_t *pos,
				    bool allow_urn, bool allow_sub, struct scim_attr_path *out,
				    struct scim_err *err);

/* Parses the valFilter of a value path at s[*pos] and stops before the first byte it cannot
 * use (the caller expects "]"); depth is the nesting already used. err as scim_filter_parse,
 * with scim_type as given (invalidFilter in a filter, invalidPath in a PATCH path). */
enum rs_status scim_valfilter_parse(struct arena *a, const char *s, size_t len, size_t *pos,
				    int depth, const char *scim_type, struct scim_filter **out,
				    struct scim_err *err);

/* The member of object o whose key equals name case-insensitively (the first one), or NULL.
 * *key, if not NULL, receives the key as stored. Borrowed. */
json_t *scim_json_get(const json_t *o, const char *name, const char **key);

/* Where an attribute path lives in a resource of type rt (NULL: no schema). container is the
 * object holding the attribute (the resource, or its extension object; NULL when that extension
 * object is absent); ext_urn the extension's URN when the attribute lives in one (to create the
 * object); def and sub_def the definitions (NULL without a schema). whole_ext: the path names an
 * extension object itself ("urn:...:enterprise:2.0:User"). Returns false when rt is given and
 * does not know the attribute or sub-attribute. */
struct scim_resolved {
	json_t *container;
	const char *ext_urn;
	const struct scim_schema *schema, *ext;
	const struct scim_attr *def, *sub_def;
	bool whole_ext;
};
bool scim_resolve(const struct scim_resource_type *rt, const json_t *resource,
		  const struct scim_attr_path *ap, struct scim_resolved *out);

#endif
