/* Permission names <-> bits. */
#include "core/perms.h"

#include <string.h>

static const char *const perm_names[PERM__COUNT] = {
    [PERM_PLATFORM_TENANTS] = "platform.tenants",
    [PERM_TENANT_READ] = "tenant.read",
    [PERM_TENANT_SETTINGS] = "tenant.settings",
    [PERM_USERS_READ] = "users.read",
    [PERM_USERS_CREATE] = "users.create",
    [PERM_USERS_UPDATE] = "users.update",
    [PERM_USERS_SUSPEND] = "users.suspend",
    [PERM_USERS_DELETE] = "users.delete",
    [PERM_ROLES_READ] = "roles.read",
    [PERM_ROLES_MANAGE] = "roles.manage",
    [PERM_ROLES_ASSIGN] = "roles.assign",
    [PERM_GROUPS_READ] = "groups.read",
    [PERM_GROUPS_MANAGE] = "groups.manage",
    [PERM_TOKENS_READ] = "tokens.read",
    [PERM_TOKENS_MANAGE] = "tokens.manage",
    [PERM_AUDIT_READ] = "audit.read",
    [PERM_REPORTS_READ] = "reports.read",
    [PERM_SSO_MANAGE] = "sso.manage",
    [PERM_SCIM_PROVISION] = "scim.provision",
    [PERM_WEBHOOKS_MANAGE] = "webhooks.manage",
    [PERM_DEPARTMENTS_MANAGE] = "departments.manage",
};

const char *perm_name(enum perm p)
{
	return (unsigned)p < PERM__COUNT ? perm_names[p] : "";
}

bool perm_parse(const char *name, enum perm *out)
{
	for (int i = 0; i < PERM__COUNT; i++) {
		if (strcmp(name, perm_names[i]) == 0) {
			*out = (enum perm)i;
			return true;
		}
	}
	return false;
}

uint64_t perm_set_parse(const char *list)
{
	uint64_t set = 0;
	const char *p = list;

	while (p && *p) {
		const char *end = strchr(p, ' ');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		for (int i = 0; i < PERM__COUNT; i++) {
			if (strlen(perm_names[i]) == n && memcmp(perm_names[i], p, n) == 0)
				set |= PERM_BIT(i);
		}
		p = end ? end + 1 : NULL;
	}
	return set;
}
