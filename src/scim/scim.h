/* What the SCIM parsers and the PATCH engine share: the error they report (a SCIM scimType, an
 * offset into the text at fault, a detail safe to show the client) and the schema description
 * the caller passes in (RFC 7643 section 2.2 attribute characteristics). Pure: no HTTP, no core,
 * no store; the SCIM adapter maps scim_err to its error body. */
#ifndef ROSTER_SCIM_SCIM_H
#define ROSTER_SCIM_SCIM_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

/* scimType values of RFC 7644 section 3.12 that these modules report. */
#define SCIM_INVALID_FILTER "invalidFilter"
#define SCIM_INVALID_PATH "invalidPath"
#define SCIM_INVALID_VALUE "invalidValue"
#define SCIM_INVALID_SYNTAX "invalidSyntax"
#define SCIM_NO_TARGET "noTarget"
#define SCIM_MUTABILITY "mutability"

/* Filled by every fallible scim_* function; untouched on success. scim_type is one of the
 * constants above (static storage). offset is the byte offset into the filter or path text
 * where parsing failed (0 when the error is not about a position). op is the index of the PATCH
 * operation at fault, -1 when none. */
struct scim_err {
	const char *scim_type;
	size_t offset;
	int op;
	char detail[256];
};

/* Fills err (if not NULL) and returns status. */
enum rs_status scim_fail(struct scim_err *err, enum rs_status status, const char *scim_type,
			 size_t offset, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* RFC 7643 section 2.3 data types. */
enum scim_type {
	SCIM_T_STRING,
	SCIM_T_BOOLEAN,
	SCIM_T_DECIMAL,
	SCIM_T_INTEGER,
	SCIM_T_DATETIME,
	SCIM_T_BINARY,
	SCIM_T_REFERENCE,
	SCIM_T_COMPLEX,
};

/* RFC 7643 section 7, "mutability". */
enum scim_mutability {
	SCIM_M_READ_WRITE,
	SCIM_M_READ_ONLY,
	SCIM_M_IMMUTABLE,
	SCIM_M_WRITE_ONLY,
};

/* One attribute (or sub-attribute) of a schema. name is the canonical spelling, written when
 * an attribute is created; lookups are case-insensitive. subs is set for SCIM_T_COMPLEX. */
struct scim_attr {
	const char *name;
	enum scim_type type;
	bool multi_valued;
	enum scim_mutability mutability;
	bool case_exact;
	const struct scim_attr *subs;
	size_t nsubs;
};

/* A schema: its URN and top-level attributes. */
struct scim_schema {
	const char *urn;
	const struct scim_attr *attrs;
	size_t nattrs;
};

/* A resource type: the core schema (attributes at the top level of the resource) and the
 * extension schemas (attributes inside an object named by the extension's URN). */
struct scim_resource_type {
	const struct scim_schema *core;
	const struct scim_schema *const *exts;
	size_t nexts;
};

/* The RFC 7643 User (with the enterprise extension, section 4.3) and Group resource types, as
 * static data. Cannot fail. */
const struct scim_resource_type *scim_user_type(void);
const struct scim_resource_type *scim_group_type(void);

/* Case-insensitive lookup of an attribute by name among n definitions; NULL when unknown. */
const struct scim_attr *scim_attr_find(const struct scim_attr *defs, size_t n, const char *name);

/* The extension of rt whose URN equals urn (case-insensitively), NULL when none. */
const struct scim_schema *scim_ext_find(const struct scim_resource_type *rt, const char *urn);

#endif
