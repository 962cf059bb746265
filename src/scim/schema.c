/* The built-in schema descriptions (RFC 7643 sections 4.1, 4.2, 4.3) and the lookups over
 * them, plus scim_fail(). Static data only: nothing here allocates. */
#include "scim/scim.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#define N(x) (sizeof(x) / sizeof((x)[0]))
#define S(n)                                                                                       \
	{                                                                                          \
		n, SCIM_T_STRING, false, SCIM_M_READ_WRITE, false, NULL, 0                         \
	}
#define SX(n)                                                                                      \
	{                                                                                          \
		n, SCIM_T_STRING, false, SCIM_M_READ_WRITE, true, NULL, 0                          \
	}
#define REF(n)                                                                                     \
	{                                                                                          \
		n, SCIM_T_REFERENCE, false, SCIM_M_READ_WRITE, true, NULL, 0                       \
	}
#define BOOL(n)                                                                                    \
	{                                                                                          \
		n, SCIM_T_BOOLEAN, false, SCIM_M_READ_WRITE, false, NULL, 0                        \
	}

enum rs_status scim_fail(struct scim_err *err, enum rs_status status, const char *scim_type,
			 size_t offset, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return status;
	err->scim_type = scim_type;
	err->offset = offset;
	err->op = -1;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return status;
}

static const struct scim_attr name_subs[] = {
    S("formatted"),  S("familyName"),	   S("givenName"),
    S("middleName"), S("honorificPrefix"), S("honorificSuffix"),
};
/* emails, phoneNumbers, ims, photos, entitlements, roles, x509Certificates (section 4.1.2). */
static const struct scim_attr plural_subs[] = {
    S("value"),
    S("display"),
    S("type"),
    BOOL("primary"),
};
static const struct scim_attr photo_subs[] = {
    REF("value"),
    S("display"),
    S("type"),
    BOOL("primary"),
};
static const struct scim_attr cert_subs[] = {
    {"value", SCIM_T_BINARY, false, SCIM_M_READ_WRITE, true, NULL, 0},
    S("display"),
    S("type"),
    BOOL("primary"),
};
static const struct scim_attr address_subs[] = {
    S("formatted"),  S("streetAddress"), S("locality"), S("region"),
    S("postalCode"), S("country"),	 S("type"),	BOOL("primary"),
};
static const struct scim_attr user_group_subs[] = {
    {"value", SCIM_T_STRING, false, SCIM_M_READ_ONLY, false, NULL, 0},
    {"$ref", SCIM_T_REFERENCE, false, SCIM_M_READ_ONLY, false, NULL, 0},
    {"display", SCIM_T_STRING, false, SCIM_M_READ_ONLY, false, NULL, 0},
    {"type", SCIM_T_STRING, false, SCIM_M_READ_ONLY, false, NULL, 0},
};
static const struct scim_attr meta_subs[] = {
    {"resourceType", SCIM_T_STRING, false, SCIM_M_READ_ONLY, true, NULL, 0},
    {"created", SCIM_T_DATETIME, false, SCIM_M_READ_ONLY, false, NULL, 0},
    {"lastModified", SCIM_T_DATETIME, false, SCIM_M_READ_ONLY, false, NULL, 0},
    {"location", SCIM_T_REFERENCE, false, SCIM_M_READ_ONLY, true, NULL, 0},
    {"version", SCIM_T_STRING, false, SCIM_M_READ_ONLY, true, NULL, 0},
};

#define PLURAL(n, subs)                                                                            \
	{                                                                                          \
		n, SCIM_T_COMPLEX, true, SCIM_M_READ_WRITE, false, subs, N(subs)                   \
	}
#define COMMON_ATTRS                                                                               \
	{"id", SCIM_T_STRING, false, SCIM_M_READ_ONLY, true, NULL, 0}, SX("externalId"),           \
	    {"meta", SCIM_T_COMPLEX, false, SCIM_M_READ_ONLY, false, meta_subs, N(meta_subs)},     \
	{                                                                                          \
		"schemas", SCIM_T_REFERENCE, true, SCIM_M_READ_ONLY, true, NULL, 0                 \
	}

static const struct scim_attr user_attrs[] = {
    COMMON_ATTRS,
    S("userName"),
    {"name", SCIM_T_COMPLEX, false, SCIM_M_READ_WRITE, false, name_subs, N(name_subs)},
    S("displayName"),
    S("nickName"),
    REF("profileUrl"),
    S("title"),
    S("userType"),
    S("preferredLanguage"),
    S("locale"),
    S("timezone"),
    BOOL("active"),
    {"password", SCIM_T_STRING, false, SCIM_M_WRITE_ONLY, false, NULL, 0},
    PLURAL("emails", plural_subs),
    PLURAL("phoneNumbers", plural_subs),
    PLURAL("ims", plural_subs),
    PLURAL("photos", photo_subs),
    PLURAL("addresses", address_subs),
    {"groups", SCIM_T_COMPLEX, true, SCIM_M_READ_ONLY, false, user_group_subs, N(user_group_subs)},
    PLURAL("entitlements", plural_subs),
    PLURAL("roles", plural_subs),
    PLURAL("x509Certificates", cert_subs),
};

static const struct scim_attr manager_subs[] = {
    {"value", SCIM_T_STRING, false, SCIM_M_READ_WRITE, false, NULL, 0},
    {"$ref", SCIM_T_REFERENCE, false, SCIM_M_READ_WRITE, false, NULL, 0},
    {"displayName", SCIM_T_STRING, false, SCIM_M_READ_ONLY, false, NULL, 0},
};
static const struct scim_attr enterprise_attrs[] = {
    S("employeeNumber"),
    S("costCenter"),
    S("organization"),
    S("division"),
    S("department"),
    {"manager", SCIM_T_COMPLEX, false, SCIM_M_READ_WRITE, false, manager_subs, N(manager_subs)},
};

static const struct scim_attr member_subs[] = {
    {"value", SCIM_T_STRING, false, SCIM_M_IMMUTABLE, false, NULL, 0},
    {"$ref", SCIM_T_REFERENCE, false, SCIM_M_IMMUTABLE, false, NULL, 0},
    S("display"),
    {"type", SCIM_T_STRING, false, SCIM_M_IMMUTABLE, false, NULL, 0},
};
static const struct scim_attr group_attrs[] = {
    COMMON_ATTRS,
    S("displayName"),
    {"members", SCIM_T_COMPLEX, true, SCIM_M_READ_WRITE, false, member_subs, N(member_subs)},
};

static const struct scim_schema user_schema = {"urn:ietf:params:scim:schemas:core:2.0:User",
					       user_attrs, N(user_attrs)};
static const struct scim_schema enterprise_schema = {
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", enterprise_attrs,
    N(enterprise_attrs)};
static const struct scim_schema group_schema = {"urn:ietf:params:scim:schemas:core:2.0:Group",
						group_attrs, N(group_attrs)};
static const struct scim_schema *const user_exts[] = {&enterprise_schema};
static const struct scim_resource_type user_type = {&user_schema, user_exts, 1};
static const struct scim_resource_type group_type = {&group_schema, NULL, 0};

const struct scim_resource_type *scim_user_type(void)
{
	return &user_type;
}

const struct scim_resource_type *scim_group_type(void)
{
	return &group_type;
}

const struct scim_attr *scim_attr_find(const struct scim_attr *defs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(defs[i].name, name) == 0)
			return &defs[i];
	}
	return NULL;
}

const struct scim_schema *scim_ext_find(const struct scim_resource_type *rt, const char *urn)
{
	for (size_t i = 0; rt && i < rt->nexts; i++) {
		if (strcasecmp(rt->exts[i]->urn, urn) == 0)
			return rt->exts[i];
	}
	return NULL;
}
