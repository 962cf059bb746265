/* Role templates that reproduce the seed systems' models (ThreatConnect, QRadar, ThreatQ,
 * Thought Industries) plus a plain default. A tenant copies one at creation; its roles are
 * then the tenant's own (built-in: they can't be edited or deleted, only supplemented). */
#include "core/core_int.h"

#define END PERM__COUNT

/* Everything a tenant's top administrator may do (never platform.tenants). */
static const enum perm P_TENANT_ADMIN[] = {
    PERM_TENANT_READ,	  PERM_TENANT_SETTINGS,	   PERM_USERS_READ,
    PERM_USERS_CREATE,	  PERM_USERS_UPDATE,	   PERM_USERS_SUSPEND,
    PERM_USERS_DELETE,	  PERM_ROLES_READ,	   PERM_ROLES_MANAGE,
    PERM_ROLES_ASSIGN,	  PERM_GROUPS_READ,	   PERM_GROUPS_MANAGE,
    PERM_TOKENS_READ,	  PERM_TOKENS_MANAGE,	   PERM_AUDIT_READ,
    PERM_REPORTS_READ,	  PERM_SSO_MANAGE,	   PERM_SCIM_PROVISION,
    PERM_WEBHOOKS_MANAGE, PERM_DEPARTMENTS_MANAGE, END};
/* Account administration without tenant settings or role definitions (ThreatConnect's
 * Operations/Accounts Administrator, Organization Administrator). */
static const enum perm P_USER_ADMIN[] = {
    PERM_TENANT_READ,  PERM_USERS_READ,	   PERM_USERS_CREATE, PERM_USERS_UPDATE, PERM_USERS_SUSPEND,
    PERM_USERS_DELETE, PERM_ROLES_READ,	   PERM_ROLES_ASSIGN, PERM_GROUPS_READ,	 PERM_GROUPS_MANAGE,
    PERM_TOKENS_READ,  PERM_TOKENS_MANAGE, PERM_AUDIT_READ,   PERM_REPORTS_READ, END};
static const enum perm P_MANAGER[] = {
    PERM_TENANT_READ, PERM_USERS_READ,	  PERM_USERS_UPDATE, PERM_ROLES_READ,
    PERM_GROUPS_READ, PERM_GROUPS_MANAGE, PERM_REPORTS_READ, END};
static const enum perm P_MEMBER[] = {PERM_TENANT_READ, PERM_USERS_READ, PERM_ROLES_READ,
				     PERM_GROUPS_READ, END};
static const enum perm P_ANALYST[] = {PERM_TENANT_READ, PERM_USERS_READ,   PERM_ROLES_READ,
				      PERM_GROUPS_READ, PERM_REPORTS_READ, END};
static const enum perm P_READER[] = {PERM_TENANT_READ, PERM_USERS_READ, END};
static const enum perm P_TENANT_ONLY[] = {PERM_TENANT_READ, END};
static const enum perm P_ALL[] = {PERM_PLATFORM_TENANTS,   PERM_TENANT_READ,
				  PERM_TENANT_SETTINGS,	   PERM_USERS_READ,
				  PERM_USERS_CREATE,	   PERM_USERS_UPDATE,
				  PERM_USERS_SUSPEND,	   PERM_USERS_DELETE,
				  PERM_ROLES_READ,	   PERM_ROLES_MANAGE,
				  PERM_ROLES_ASSIGN,	   PERM_GROUPS_READ,
				  PERM_GROUPS_MANAGE,	   PERM_TOKENS_READ,
				  PERM_TOKENS_MANAGE,	   PERM_AUDIT_READ,
				  PERM_REPORTS_READ,	   PERM_SSO_MANAGE,
				  PERM_SCIM_PROVISION,	   PERM_WEBHOOKS_MANAGE,
				  PERM_DEPARTMENTS_MANAGE, END};

static const struct template_role t_system[] = {
    {"Maintenance Account", "system", 1000, P_ALL, true},
};

static const struct template_role t_default[] = {
    {"Owner", "system", 900, P_TENANT_ADMIN, false},
    {"Admin", "system", 700, P_USER_ADMIN, false},
    {"Member", "system", 300, P_MEMBER, true},
    {"Viewer", "system", 100, P_READER, false},
};

/* Seed 001/000: ThreatConnect's system roles and organisation roles, ranked so that its
 * documented rule holds: Operations Administrator can't edit an Administrator, Accounts
 * Administrator can't edit either, a User can't edit any of them. */
static const struct template_role t_threatconnect[] = {
    {"Administrator", "system", 900, P_TENANT_ADMIN, false},
    {"Operations Administrator", "system", 800, P_USER_ADMIN, false},
    {"Accounts Administrator", "system", 700, P_USER_ADMIN, false},
    {"Exchange Admin", "system", 600, P_MEMBER, false},
    {"Super User", "system", 500, P_ANALYST, false},
    {"Api User", "system", 400, P_MEMBER, false},
    {"User", "system", 300, P_MEMBER, true},
    {"Read Only User", "system", 100, P_READER, false},
    {"Organization Administrator", "tenant", 650, P_USER_ADMIN, false},
    {"Standard User", "tenant", 300, P_MEMBER, false},
    {"Read Only Commenter", "tenant", 150, P_READER, false},
    {"Org Read Only User", "tenant", 100, P_TENANT_ONLY, false},
};

/* Seed 003: QRadar's user roles (security profiles come with the data-domain issue). */
static const struct template_role t_qradar[] = {
    {"Admin", "system", 900, P_TENANT_ADMIN, false},
    {"Analyst", "system", 500, P_ANALYST, true},
    {"Reader", "system", 100, P_READER, false},
};

/* Seed 004: ThreatQ (the Maintenance Account is roster's own platform account). */
static const struct template_role t_threatq[] = {
    {"Administrative Access", "system", 900, P_TENANT_ADMIN, false},
    {"Analyst", "system", 500, P_ANALYST, true},
    {"Read-only", "system", 100, P_READER, false},
};

/* Seed 002: Thought Industries' learning-platform roles. */
static const struct template_role t_thought_industries[] = {
    {"Super Admin", "system", 900, P_TENANT_ADMIN, false},
    {"Admin", "system", 700, P_USER_ADMIN, false},
    {"Manager", "system", 500, P_MANAGER, false},
    {"Learner", "system", 100, P_TENANT_ONLY, true},
};

#define T(name, desc, arr)                                                                         \
	{                                                                                          \
		name, desc, arr, (int)(sizeof(arr) / sizeof(arr[0]))                               \
	}

static const struct role_template templates[] = {
    T("default", "Owner, Admin, Member, Viewer", t_default),
    T("threatconnect", "ThreatConnect system and organisation roles", t_threatconnect),
    T("qradar", "IBM QRadar user roles", t_qradar),
    T("threatq", "ThreatQ user roles", t_threatq),
    T("thought_industries", "Thought Industries roles", t_thought_industries),
};

static const struct role_template system_template = T("system", "platform operator", t_system);

const struct role_template *templates_all(int *n)
{
	*n = (int)(sizeof(templates) / sizeof(templates[0]));
	return templates;
}

const struct role_template *templates_find(const char *name)
{
	if (strcmp(name, "system") == 0)
		return &system_template;
	for (size_t i = 0; i < sizeof(templates) / sizeof(templates[0]); i++) {
		if (strcmp(templates[i].name, name) == 0)
			return &templates[i];
	}
	return NULL;
}

uint64_t template_role_perms(const struct template_role *r)
{
	uint64_t set = 0;

	for (const enum perm *p = r->perms; *p != END; p++)
		set |= PERM_BIT(*p);
	return set;
}
