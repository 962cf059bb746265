/* The fixed permission catalogue: verbs on nouns. Stored by name, never by number, so the
 * catalogue can grow without a data migration. */
#ifndef ROSTER_CORE_PERMS_H
#define ROSTER_CORE_PERMS_H

#include <stdbool.h>
#include <stdint.h>

enum perm {
	PERM_PLATFORM_TENANTS, /* create, edit, delete tenants: the platform operator only */
	PERM_TENANT_READ,
	PERM_TENANT_SETTINGS,
	PERM_USERS_READ,
	PERM_USERS_CREATE,
	PERM_USERS_UPDATE,
	PERM_USERS_SUSPEND,
	PERM_USERS_DELETE,
	PERM_ROLES_READ,
	PERM_ROLES_MANAGE,
	PERM_ROLES_ASSIGN,
	PERM_GROUPS_READ,
	PERM_GROUPS_MANAGE,
	PERM_TOKENS_READ,
	PERM_TOKENS_MANAGE,
	PERM_AUDIT_READ,
	PERM_REPORTS_READ,
	PERM_SSO_MANAGE,
	PERM_SCIM_PROVISION,
	PERM_WEBHOOKS_MANAGE,	 /* webhook subscriptions and their delivery log */
	PERM_DEPARTMENTS_MANAGE, /* the department tree and its managers */
	PERM__COUNT
};

#define PERM_BIT(p) ((uint64_t)1 << (p))
#define PERM_ALL ((PERM_BIT(PERM__COUNT) - 1))

const char *perm_name(enum perm p);
bool perm_parse(const char *name, enum perm *out);
/* Parses a space-separated list as stored; unknown names are skipped (a newer binary's). */
uint64_t perm_set_parse(const char *list);

#endif
