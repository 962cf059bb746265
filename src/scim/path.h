/* SCIM PATCH paths (RFC 7644 section 3.5.2, Figure 2):
 *   PATH = attrPath / valuePath [subAttr]
 * e.g. "name.givenName", "members[value eq \"2819c223\"]", "emails[type eq \"work\"].value",
 * "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager". The value filter is
 * parsed by the filter parser (filter.h). Schema-free, like filter.h. */
#ifndef ROSTER_SCIM_PATH_H
#define ROSTER_SCIM_PATH_H

#include "scim/filter.h"

/* attr.urn, attr.name and attr.sub as in a filter; for "emails[type eq \"work\"].value" attr is
 * {NULL, "emails", "value"} and filter the value filter. filter is NULL for a plain attrPath. */
struct scim_path {
	struct scim_attr_path attr;
	struct scim_filter *filter;
};

/* Parses the whole of s[0..len) as a PATH into *out (strings and filter in a). Limits as
 * scim_filter_parse. Errors: RS_E_INVALID with scim_type "invalidPath" and the offset of the
 * fault (a fault inside the brackets is reported as invalidPath too, RFC 7644 section 3.5.2);
 * RS_E_INTERNAL when a runs out. */
enum rs_status scim_path_parse(struct arena *a, const char *s, size_t len, struct scim_path *out,
			       struct scim_err *err);

/* Canonical text of a path, as scim_filter_print. NULL when a runs out. */
char *scim_path_print(struct arena *a, const struct scim_path *p);

#endif
