/* Users: create, read, list, merge-patch, delete (tombstone), with the rank rule on every
 * write. Field validation lives here so that REST, SCIM, GraphQL and CSV all refuse the same
 * input the same way. */
#include "core/core_int.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <inttypes.h>
#include <stdio.h>

static const char *const user_types[] = {"standard", "api", "taxii", "read_only", NULL};
static const char *const user_statuses[] = {"active", "invited", "suspended", "deactivated", NULL};
static const char *const required_actions[] = {"password_reset", "mfa_reset", "terms_of_service",
					       NULL};

static bool in_set(const char *v, const char *const *set)
{
	for (; *set; set++) {
		if (strcmp(v, *set) == 0)
			return true;
	}
	return false;
}

/* ---- loading -------------------------------------------------------------------------------- */

/* required_actions are stored space-separated, from a closed set. */
static void fill_required(struct user *u, const char *ra)
{
	u->nrequired_actions = 0;
	for (int i = 0; required_actions[i]; i++) {
		const char *hit = ra ? strstr(ra, required_actions[i]) : NULL;

		if (hit && u->nrequired_actions < USER_REQUIRED_ACTIONS_MAX)
			u->required_actions[u->nrequired_actions++] = required_actions[i];
	}
}

void row_user(struct store_rows *r, struct arena *a, struct user *u)
{

	memset(u, 0, sizeof(*u));
	u->tenant_id = col_str(r, UC_TENANT, a);
	u->id = col_str(r, UC_ID, a);
	u->username = col_str(r, UC_USERNAME, a);
	u->email = col_str(r, UC_EMAIL, a);
	u->first_name = col_str(r, UC_FIRST, a);
	u->last_name = col_str(r, UC_LAST, a);
	u->type = col_str(r, UC_TYPE, a);
	u->status = col_str(r, UC_STATUS, a);
	u->system_role.id = col_str(r, UC_SYSROLE, a);
	u->department_id = col_str(r, UC_DEPT, a);
	u->department_name = col_str(r, UC_DEPT_NAME, a);
	u->locale = col_str(r, UC_LOCALE, a);
	u->timezone = col_str(r, UC_TZ, a);
	u->description = col_str(r, UC_DESC, a);
	u->external_id = col_str(r, UC_EXTID, a);
	u->custom_attributes = col_str(r, UC_CUSTOM, a);
	fill_required(u, store_col_text(r, UC_REQACT));
	u->locked = store_col_int(r, UC_LOCKED) != 0;
	u->has_idle_logout = !store_col_null(r, UC_IDLE);
	u->idle_logout_minutes = store_col_int(r, UC_IDLE);
	u->summary_mail_time = col_str(r, UC_SUMMARY, a);
	u->security_profile = col_str(r, UC_SECPROF, a);
	u->created_at = store_col_int(r, UC_CREATED);
	u->updated_at = store_col_int(r, UC_UPDATED);
	u->last_login_at = store_col_null(r, UC_LASTLOGIN) ? 0 : store_col_int(r, UC_LASTLOGIN);
	u->last_activity_at = store_col_null(r, UC_LASTACT) ? 0 : store_col_int(r, UC_LASTACT);
	u->version = store_col_int(r, UC_VERSION);
	u->status_reason = col_str(r, UC_STATUS_REASON, a);
	u->suspended_until =
	    store_col_null(r, UC_SUSPENDED_UNTIL) ? 0 : store_col_int(r, UC_SUSPENDED_UNTIL);
	u->deletion_task = col_str(r, UC_DELETION_TASK, a);
	u->failed_logins = store_col_int(r, UC_FAILED_LOGINS);
	u->manager_id = col_str(r, UC_MANAGER, a);
	u->manager_name = col_str(r, UC_MANAGER_NAME, a);
	u->last_failed_login_at =
	    store_col_null(r, UC_LAST_FAILED_LOGIN) ? 0 : store_col_int(r, UC_LAST_FAILED_LOGIN);
}

/* Adds the permissions of a role scoped to dept to scopes (one entry per department); false
 * when the table is full (the write path keeps users within it). */
static bool scope_add(struct actor_scope *scopes, int *n, const char *dept, uint64_t perms)
{
	for (int i = 0; i < *n; i++) {
		if (strcmp(scopes[i].department_id, dept) == 0) {
			scopes[i].perms |= perms;
			return true;
		}
	}
	if (*n >= ACTOR_SCOPES_MAX)
		return false;
	str_copy(scopes[*n].department_id, sizeof(scopes[*n].department_id), dept);
	scopes[(*n)++].perms = perms;
	return true;
}

/* Fills roles, groups, rank and permissions of a user whose base row is loaded. With scopes,
 * the permissions of roles scoped to a department go there instead of into *perms. */
static enum rs_status user_complete(struct store_tx *tx, struct arena *a, struct user *u,
				    uint64_t *perms, struct actor_scope *scopes, int *nscopes,
				    struct rs_err *err)
{
	struct store_rows *r = NULL;
	struct role sys;
	uint64_t p;
	enum rs_status st;
	size_t cap;
	bool has;

	st = role_find(tx, u->tenant_id, u->system_role.id, a, &sys, err);
	if (st != RS_OK)
		return st == RS_E_NOT_FOUND ? rs_fail(err, RS_E_INTERNAL, "user.role_missing", NULL,
						      "a user's system role is missing")
					    : st;
	u->system_role.name = sys.name;
	u->system_role.rank = sys.rank;
	u->rank = sys.rank;
	p = sys.perms;
	if (nscopes)
		*nscopes = 0;
	cap = 4;
	u->roles = arena_alloc(a, cap * sizeof(*u->roles));
	if (!u->roles)
		return core_oom(err);
	st = Q_QUERY(tx, Q_USER_ROLES, &r, err, SV_S(u->tenant_id), SV_S(u->id));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		struct role ro;

		if ((size_t)u->nroles == cap) {
			struct role_ref *n = arena_alloc(a, 2 * cap * sizeof(*n));

			if (!n) {
				st = core_oom(err);
				break;
			}
			memcpy(n, u->roles, cap * sizeof(*n));
			u->roles = n;
			cap *= 2;
		}
		row_role(r, a, &ro);
		u->roles[u->nroles++] = (struct role_ref){ro.id, ro.name, ro.rank};
		if (ro.rank > u->rank)
			u->rank = ro.rank;
		if (!ro.department_id)
			p |= ro.perms;
		else if (scopes && !scope_add(scopes, nscopes, ro.department_id, ro.perms))
			continue; /* beyond the table: never more than it may hold, so less */
		else if (!scopes)
			p |= ro.perms;
	}
	store_rows_close(r);
	if (st != RS_OK)
		return st;
	cap = 4;
	u->groups = arena_alloc(a, cap * sizeof(*u->groups));
	if (!u->groups)
		return core_oom(err);
	st = Q_QUERY(tx, Q_USER_GROUPS, &r, err, SV_S(u->tenant_id), SV_S(u->id));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if ((size_t)u->ngroups == cap) {
			struct group_ref *n = arena_alloc(a, 2 * cap * sizeof(*n));

			if (!n) {
				st = core_oom(err);
				break;
			}
			memcpy(n, u->groups, cap * sizeof(*n));
			u->groups = n;
			cap *= 2;
		}
		u->groups[u->ngroups].id = col_str(r, 0, a);
		u->groups[u->ngroups].name = col_str(r, 1, a);
		u->ngroups++;
	}
	store_rows_close(r);
	if (perms)
		*perms = p;
	return st;
}

enum rs_status user_load(struct store_tx *tx, const char *tenant_id, const char *id,
			 struct arena *a, struct user *out, uint64_t *perms, struct rs_err *err)
{
	return user_load_grants(tx, tenant_id, id, a, out, perms, NULL, NULL, err);
}

enum rs_status user_load_grants(struct store_tx *tx, const char *tenant_id, const char *id,
				struct arena *a, struct user *out, uint64_t *perms,
				struct actor_scope *scopes, int *nscopes, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has = false;

	if (!id || !uuid_valid(id))
		goto missing;
	st = Q_QUERY(tx, Q_USER_GET, &r, err, SV_S(tenant_id), SV_S(id));
	if (st != RS_OK)
		return st;
	st = store_rows_next(r, &has, err);
	if (st == RS_OK && has)
		row_user(r, a, out);
	store_rows_close(r);
	if (st != RS_OK)
		return st;
	if (has)
		return user_complete(tx, a, out, perms, scopes, nscopes, err);
missing:
	return rs_fail(err, RS_E_NOT_FOUND, "user.not_found", NULL, "no such user");
}

/* ---- validation ----------------------------------------------------------------------------- */

static enum rs_status check_email(const char *v, struct rs_err *err)
{
	const char *at;
	enum rs_status st = check_text("email", v, RS_EMAIL_MAX, false, err);

	if (st != RS_OK || !v)
		return st;
	at = strchr(v, '@');
	if (!at || at == v || !at[1] || strchr(at + 1, '@') || strpbrk(v, " \t"))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "email",
			       "'email' must look like name@domain");
	return RS_OK;
}

static enum rs_status check_username(const char *v, struct rs_err *err)
{
	enum rs_status st = check_text("username", v, RS_USERNAME_MAX, true, err);

	if (st != RS_OK)
		return st;
	for (const char *p = v; *p; p++) {
		if (isspace((unsigned char)*p))
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "username",
				       "'username' can't contain whitespace");
	}
	return RS_OK;
}

static enum rs_status check_fields(const struct user_fields *f, bool create, struct rs_err *err)
{
	enum rs_status st = RS_OK;
	const struct {
		const char *name;
		const struct opt_str *v;
		size_t max;
	} texts[] = {
	    {"first_name", &f->first_name, RS_NAME_MAX},
	    {"last_name", &f->last_name, RS_NAME_MAX},
	    {"locale", &f->locale, RS_ATTR_MAX},
	    {"timezone", &f->timezone, RS_ATTR_MAX},
	    {"description", &f->description, RS_TEXT_MAX},
	    {"external_id", &f->external_id, RS_ATTR_MAX},
	    {"security_profile", &f->security_profile, RS_ATTR_MAX},
	};

	if (create || f->username.set)
		st = check_username(f->username.v, err);
	if (st == RS_OK && f->email.set)
		st = check_email(f->email.v, err);
	for (size_t i = 0; st == RS_OK && i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (texts[i].v->set)
			st = check_text(texts[i].name, texts[i].v->v, texts[i].max, false, err);
	}
	if (st != RS_OK)
		return st;
	if (f->type.set && (!f->type.v || !in_set(f->type.v, user_types)))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "type",
			       "'type' must be one of standard, api, taxii, read_only");
	if (f->summary_mail_time.set && f->summary_mail_time.v) {
		const char *s = f->summary_mail_time.v;

		if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) ||
		    !isdigit((unsigned char)s[1]) || s[2] != ':' || !isdigit((unsigned char)s[3]) ||
		    !isdigit((unsigned char)s[4]) || (s[0] - '0') * 10 + (s[1] - '0') > 23 ||
		    s[3] > '5')
			return rs_fail(err, RS_E_INVALID, "request.invalid_field",
				       "summary_mail_time",
				       "'summary_mail_time' must be HH:MM (24-hour)");
	}
	if (f->idle_logout_minutes.set && !f->idle_logout_minutes.null &&
	    (f->idle_logout_minutes.v < 1 || f->idle_logout_minutes.v > 10080))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "idle_logout_minutes",
			       "'idle_logout_minutes' must be between 1 and 10080");
	if (f->custom_attributes.set && f->custom_attributes.v &&
	    !json_text_is_object(f->custom_attributes.v))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "custom_attributes",
			       "'custom_attributes' must be a JSON object");
	if (f->custom_attributes.set && f->custom_attributes.v &&
	    strlen(f->custom_attributes.v) > RS_CUSTOM_ATTRS_MAX)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "custom_attributes",
			       "'custom_attributes' is larger than %d bytes", RS_CUSTOM_ATTRS_MAX);
	if (f->required_actions_set) {
		for (int i = 0; i < f->nrequired_actions; i++) {
			if (!f->required_actions[i] ||
			    !in_set(f->required_actions[i], required_actions))
				return rs_fail(err, RS_E_INVALID, "request.invalid_field",
					       "required_actions",
					       "required actions are password_reset, mfa_reset and "
					       "terms_of_service");
		}
	}
	if (f->department_id.set && f->department_id.v && !uuid_valid(f->department_id.v))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "department_id",
			       "unknown department '%s'", f->department_id.v);
	if (f->manager_id.set && f->manager_id.v && !uuid_valid(f->manager_id.v))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "manager_id",
			       "no user '%s' in this tenant", f->manager_id.v);
	if (f->roles_any_scope && f->system_role.set)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "roles",
			       "name the system role in 'roles' or in 'system_role', not both");
	if (f->roles_set && f->nroles > RS_ROLES_PER_USER_MAX)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "roles",
			       "at most %d roles per user", RS_ROLES_PER_USER_MAX);
	return RS_OK;
}

static char *required_text(const struct user_fields *f, const struct user *cur, struct arena *a)
{
	char buf[128] = "";
	size_t len = 0;

	for (int i = 0; required_actions[i]; i++) {
		bool on = false;

		if (f->required_actions_set) {
			for (int j = 0; j < f->nrequired_actions; j++)
				on = on || strcmp(f->required_actions[j], required_actions[i]) == 0;
		} else if (cur) {
			for (int j = 0; j < cur->nrequired_actions; j++)
				on = on ||
				     strcmp(cur->required_actions[j], required_actions[i]) == 0;
		}
		if (on)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
						len ? " " : "", required_actions[i]);
	}
	return arena_strdup(a, buf);
}

/* ---- role resolution --------------------------------------------------------------------------
 */

/* Resolves the roles a write asks for and checks that the actor may grant each. */
/* An actor that holds op (users.create, roles.assign) only inside departments must not hand
 * out more than that: besides the tenant's default role, an unscoped role (the system role
 * included) may carry only permissions the actor holds tenant-wide, a scoped one must lie
 * inside the actor's reach and carry only what the actor holds somewhere. Otherwise a
 * department manager could make a tenant administrator of a user of its own department. */
static enum rs_status grant_within_reach(struct store_tx *tx, const struct actor *who,
					 const char *tenant_id, enum perm op, const struct role *r,
					 const char *field, struct rs_err *err)
{
	uint64_t anywhere = who->perms;
	bool ok = true;
	enum rs_status st = RS_OK;

	/* Tenant-wide, the rank rule is the limit; and the tenant's default role is the tenant
	 * administrator's choice for every new user, which a department manager may hand on. */
	if ((who->perms & PERM_BIT(op)) || r->is_default)
		return RS_OK;
	for (int i = 0; i < who->nscopes && i < ACTOR_SCOPES_MAX; i++)
		anywhere |= who->scopes[i].perms;
	if (!r->department_id)
		ok = (r->perms & ~who->perms) == 0;
	else
		st = dept_reach(tx, who, tenant_id, r->department_id, op, &ok, err);
	if (st == RS_OK && ok && r->department_id)
		ok = (r->perms & ~anywhere) == 0;
	if (st != RS_OK || ok)
		return st;
	return rs_fail(err, RS_E_FORBIDDEN, "role.beyond_scope", field,
		       "you hold '%s' only inside your departments: '%s' would grant more than "
		       "you hold there",
		       perm_name(op), r->name);
}

static enum rs_status resolve_roles(struct store_tx *tx, const struct actor *who,
				    const char *tenant_id, const struct user_fields *f,
				    enum perm op, struct arena *a, struct role *sys,
				    struct role *roles, struct rs_err *err)
{
	enum rs_status st;

	if (f->system_role.set) {
		if (!f->system_role.v)
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "system_role",
				       "'system_role' can't be null");
		st = role_find(tx, tenant_id, f->system_role.v, a, sys, err);
		if (st == RS_E_NOT_FOUND)
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "system_role",
				       "unknown role '%s'", f->system_role.v);
		if (st != RS_OK)
			return st;
		if (strcmp(sys->scope, "system") != 0)
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "system_role",
				       "'%s' is not a system role", sys->name);
		st = rank_may_grant(who, sys->rank, err);
		if (st == RS_OK)
			st = grant_within_reach(tx, who, tenant_id, op, sys, "system_role", err);
		if (st != RS_OK)
			return st;
	}
	for (int i = 0; f->roles_set && i < f->nroles; i++) {
		st = role_find(tx, tenant_id, f->roles[i], a, &roles[i], err);
		if (st == RS_E_NOT_FOUND)
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "roles",
				       "unknown role '%s'", f->roles[i] ? f->roles[i] : "");
		if (st != RS_OK)
			return st;
		if (strcmp(roles[i].scope, "tenant") != 0)
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "roles",
				       "'%s' is not a tenant role", roles[i].name);
		st = rank_may_grant(who, roles[i].rank, err);
		if (st == RS_OK)
			st = grant_within_reach(tx, who, tenant_id, op, &roles[i], "roles", err);
		if (st != RS_OK)
			return st;
	}
	return RS_OK;
}

static enum rs_status write_roles(struct store_tx *tx, const char *tenant_id, const char *uid,
				  const struct role *roles, int n, struct rs_err *err)
{
	enum rs_status st = Q_EXEC(tx, Q_USER_ROLES_CLEAR, NULL, err, SV_S(tenant_id), SV_S(uid));

	for (int i = 0; st == RS_OK && i < n; i++)
		st = Q_EXEC(tx, Q_USER_ROLE_ADD, NULL, err, SV_S(tenant_id), SV_S(uid),
			    SV_S(roles[i].id));
	return st;
}

static char *role_names(const struct role_ref *refs, int n, struct arena *a)
{
	char *s = arena_strdup(a, "[");

	for (int i = 0; s && i < n; i++)
		s = arena_printf(a, "%s%s\"%s\"", s, i ? "," : "", refs[i].id);
	return s ? arena_printf(a, "%s]", s) : NULL;
}

/* For a write with roles_any_scope: *out is f with the one system-scope role among f->roles
 * moved to system_role (by id) and the tenant-scope ones left in roles. */
static enum rs_status roles_split(struct store_tx *tx, const char *tenant_id,
				  const struct user_fields *f, struct arena *a,
				  struct user_fields *out, struct rs_err *err)
{
	const char **tenant_roles = arena_alloc(a, sizeof(char *) * (size_t)(f->nroles + 1));
	struct role r;
	enum rs_status st;

	if (!tenant_roles)
		return core_oom(err);
	*out = *f;
	out->roles = tenant_roles;
	out->nroles = 0;
	for (int i = 0; i < f->nroles; i++) {
		st = role_find(tx, tenant_id, f->roles[i], a, &r, err);
		if (st == RS_E_NOT_FOUND)
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "roles",
				       "unknown role '%s'", f->roles[i] ? f->roles[i] : "");
		if (st != RS_OK)
			return st;
		if (strcmp(r.scope, "system") != 0) {
			tenant_roles[out->nroles++] = r.id;
			continue;
		}
		if (out->system_role.set)
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "roles",
				       "a user has one system role: '%s' and '%s' are both "
				       "system roles",
				       out->system_role.v, r.name);
		out->system_role.set = true;
		out->system_role.v = r.name;
	}
	return RS_OK;
}

/* A manager is a live user of the tenant other than the user; *name gets its username. */
static enum rs_status manager_check(struct store_tx *tx, const char *tenant_id, const char *uid,
				    const char *manager_id, struct arena *a, const char **name,
				    struct rs_err *err)
{
	struct store_rows *r = NULL;
	struct user m;
	bool has = false;
	enum rs_status st;

	if (uid && strcmp(uid, manager_id) == 0)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "manager_id",
			       "a user can't be their own manager");
	/* The row alone: the manager's roles and groups do not matter here. */
	st = Q_QUERY(tx, Q_USER_GET, &r, err, SV_S(tenant_id), SV_S(manager_id));
	if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has)
		row_user(r, a, &m);
	store_rows_close(r);
	if (st != RS_OK)
		return st;
	if (!has || strcmp(m.status, "deleting") == 0)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "manager_id",
			       "no user '%s' in this tenant", manager_id);
	*name = m.username;
	return RS_OK;
}

/* ---- writes -----------------------------------------------------------------------------------
 */

struct wctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *id;
	const struct user_fields *f;
	int64_t if_match;
	struct arena *a;
	struct user *out;
	/* The invitation path (core/invitations.c): the new user's status, and users.create
	 * (with the rank rule) is the permission for the pre-assigned roles, too. */
	const char *status;
	bool invite;
};

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static const char *pick(const struct opt_str *o, const char *cur)
{
	return o->set ? o->v : cur;
}

static const char *key_of(struct arena *a, const char *v)
{
	return v ? str_lower(a, v) : NULL;
}

static void text_changes(struct changes *ch, const struct user *b, const struct user *n)
{
	changes_str(ch, "username", b ? b->username : NULL, n->username);
	changes_str(ch, "email", b ? b->email : NULL, n->email);
	changes_str(ch, "first_name", b ? b->first_name : NULL, n->first_name);
	changes_str(ch, "last_name", b ? b->last_name : NULL, n->last_name);
	changes_str(ch, "type", b ? b->type : NULL, n->type);
	changes_str(ch, "status", b ? b->status : NULL, n->status);
	changes_str(ch, "department_id", b ? b->department_id : NULL, n->department_id);
	changes_str(ch, "locale", b ? b->locale : NULL, n->locale);
	changes_str(ch, "timezone", b ? b->timezone : NULL, n->timezone);
	changes_str(ch, "description", b ? b->description : NULL, n->description);
	changes_str(ch, "external_id", b ? b->external_id : NULL, n->external_id);
	changes_str(ch, "manager_id", b ? b->manager_id : NULL, n->manager_id);
	changes_json(ch, "custom_attributes", b ? b->custom_attributes : NULL,
		     n->custom_attributes);
	changes_str(ch, "summary_mail_time", b ? b->summary_mail_time : NULL, n->summary_mail_time);
	changes_str(ch, "security_profile", b ? b->security_profile : NULL, n->security_profile);
	changes_int(ch, "idle_logout_minutes", b && b->has_idle_logout,
		    b ? b->idle_logout_minutes : 0, n->has_idle_logout, n->idle_logout_minutes);
	changes_str(ch, "system_role", b ? b->system_role.id : NULL, n->system_role.id);
}

/* Merges f over cur (NULL on create) into n; false when out of memory. */
static bool merge(const struct user_fields *f, const struct user *cur, struct user *n,
		  struct arena *a)
{
	static const struct user none = {
	    .type = "standard", .status = "active", .custom_attributes = "{}"};

	if (!cur)
		cur = &none;
	*n = *cur;
	n->username = pick(&f->username, cur->username);
	n->email = pick(&f->email, cur->email);
	n->first_name = pick(&f->first_name, cur->first_name);
	n->last_name = pick(&f->last_name, cur->last_name);
	n->type = f->type.set ? f->type.v : cur->type;
	if (f->department_id.set && !same_str(f->department_id.v, cur->department_id)) {
		n->department_id = f->department_id.v;
		n->department_name = NULL; /* filled in by the write, which checks it */
	}
	n->locale = pick(&f->locale, cur->locale);
	n->timezone = pick(&f->timezone, cur->timezone);
	n->description = pick(&f->description, cur->description);
	n->external_id = pick(&f->external_id, cur->external_id);
	if (f->manager_id.set && !same_str(f->manager_id.v, cur->manager_id)) {
		n->manager_id = f->manager_id.v;
		n->manager_name = NULL; /* filled in by the write, which checks it */
	}
	if (f->custom_attributes.set) {
		n->custom_attributes =
		    f->custom_attributes.v
			? json_merge_patch_text(a, cur->custom_attributes, f->custom_attributes.v)
			: "{}";
		if (!n->custom_attributes)
			return false;
	}
	n->summary_mail_time = pick(&f->summary_mail_time, cur->summary_mail_time);
	n->security_profile = pick(&f->security_profile, cur->security_profile);
	if (f->idle_logout_minutes.set) {
		n->has_idle_logout = !f->idle_logout_minutes.null;
		n->idle_logout_minutes = f->idle_logout_minutes.v;
	}
	return true;
}

static enum rs_status store_user(struct store_tx *tx, struct wctx *x, const char *tid,
				 const struct user *n, const char *reqact, bool create, int64_t now,
				 struct rs_err *err)
{
	struct arena *a = x->a;
	struct store_val idle = n->has_idle_logout ? SV_I(n->idle_logout_minutes) : SV_NULLV;

	return Q_EXEC(tx, create ? Q_USER_INSERT : Q_USER_UPDATE, NULL, err, SV_S(tid), SV_S(n->id),
		      SV_S(n->username), SV_S(key_of(a, n->username)), SV_S(n->email),
		      SV_S(key_of(a, n->email)), SV_S(n->first_name),
		      SV_S(key_of(a, n->first_name)), SV_S(n->last_name),
		      SV_S(key_of(a, n->last_name)), SV_S(n->type), SV_S(n->status),
		      SV_S(n->system_role.id), SV_S(n->department_id), SV_S(n->locale),
		      SV_S(n->timezone), SV_S(n->description), SV_S(n->external_id),
		      SV_S(n->custom_attributes), SV_S(reqact), idle, SV_S(n->summary_mail_time),
		      SV_S(n->security_profile), SV_I(now), SV_S(n->manager_id));
}

/* The user as the write left it, built from what was written rather than read back: the
 * writer thread is the store's one serial resource, so it does no query it can avoid. */
static enum rs_status user_result(struct wctx *x, const char *tid, const struct user *n,
				  const struct user *cur, const struct role *roles,
				  const char *reqact, int64_t now, struct rs_err *err)
{
	const struct user_fields *f = x->f;
	struct user *out = x->out;

	*out = *n;
	out->tenant_id = tid;
	fill_required(out, reqact);
	out->created_at = cur ? cur->created_at : now;
	out->updated_at = now;
	out->version = cur ? cur->version + 1 : 1;
	out->groups = cur ? cur->groups : NULL;
	out->ngroups = cur ? cur->ngroups : 0;
	if (f->roles_set) {
		out->nroles = f->nroles;
		out->roles = arena_alloc(x->a, (size_t)(f->nroles + 1) * sizeof(*out->roles));
		if (!out->roles)
			return core_oom(err);
		for (int i = 0; i < f->nroles; i++)
			out->roles[i] =
			    (struct role_ref){roles[i].id, roles[i].name, roles[i].rank};
	} else if (!cur) {
		out->roles = NULL;
		out->nroles = 0;
	}
	out->rank = out->system_role.rank;
	for (int i = 0; i < out->nroles; i++) {
		if (out->roles[i].rank > out->rank)
			out->rank = out->roles[i].rank;
	}
	return RS_OK;
}

/* Tells the host platform (webhook event with the audit's changes) and, given a template, the
 * user (e-mail), from inside the write's transaction: both leave only if the change commits. */
static enum rs_status user_announce(struct store_tx *tx, struct wctx *x, const struct user *u,
				    const char *event, const char *email_template,
				    const char *changes, struct rs_err *err)
{
	json_t *vars, *data;
	char *vtext = NULL, *dtext = NULL, *s;
	const char *roles = u->system_role.name ? u->system_role.name : "";
	enum rs_status st = RS_OK;

	/* "Administrator, Auditor": the roles as the e-mail names them. */
	for (int i = 0; i < u->nroles && roles; i++)
		roles = arena_printf(x->a, "%s, %s", roles, u->roles[i].name);
	/* Template variables are strings: an absent value renders as nothing. */
	vars = json_pack("{s:s,s:s,s:s,s:s,s:s}", "username", u->username ? u->username : "",
			 "first_name", u->first_name ? u->first_name : "", "last_name",
			 u->last_name ? u->last_name : "", "roles", roles ? roles : "", "link",
			 core_public_url(x->c));
	data = json_pack("{s:{s:s?,s:s?,s:s?,s:s?},s:o}", "user", "id", u->id, "username",
			 u->username, "email", u->email, "status", u->status, "changes",
			 json_loads(changes ? changes : "{}", 0, NULL));
	if (vars && (s = json_dumps(vars, JSON_COMPACT))) {
		vtext = arena_strdup(x->a, s);
		free(s);
	}
	if (data && (s = json_dumps(data, JSON_COMPACT))) {
		dtext = arena_strdup(x->a, s);
		free(s);
	}
	json_decref(vars);
	json_decref(data);
	if (!vtext || !dtext)
		return core_oom(err);
	if (email_template && u->email)
		st = outbox_email(tx, x->c, u->tenant_id, email_template, u->email, vtext, err);
	if (st == RS_OK)
		st = outbox_event(tx, x->c, u->tenant_id, event, dtext, err);
	return st;
}

/* Whether f sets any text field (the roles and numbers aside). */
static bool any_text(const struct user_fields *f)
{
	const struct opt_str *texts[] = {&f->username,
					 &f->email,
					 &f->first_name,
					 &f->last_name,
					 &f->type,
					 &f->department_id,
					 &f->locale,
					 &f->timezone,
					 &f->description,
					 &f->external_id,
					 &f->summary_mail_time,
					 &f->security_profile,
					 &f->custom_attributes,
					 &f->manager_id};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (texts[i]->set)
			return true;
	}
	return false;
}

/* (core_int.h) */
bool user_fields_any(const struct user_fields *f)
{
	return any_text(f) || f->system_role.set || f->roles_set || f->required_actions_set ||
	       f->idle_logout_minutes.set;
}

/* A write that touches nothing but role assignments (PUT …/roles, SCIM roles). */
static bool only_roles(const struct user_fields *f)
{
	return !any_text(f) && !f->required_actions_set && !f->idle_logout_minutes.set &&
	       (f->system_role.set || f->roles_set);
}

static enum rs_status write_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct wctx *x = arg;
	const struct user_fields *f = x->f;
	struct tenant t;
	struct user cur, n;
	struct role sys, *roles = NULL;
	struct changes *ch = NULL;
	bool create = x->id == NULL, dept_moved = false;
	char id[UUID_STR_LEN];
	enum rs_status st;
	enum perm op = create || x->invite ? PERM_USERS_CREATE : PERM_USERS_UPDATE;
	const char *action, *reqact, *dept_name = NULL;
	char *doc;
	int64_t now = core_now(x->c);

	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);
	if (st != RS_OK)
		return st;
	/* Held tenant-wide or in a department scope; the target is checked once loaded. */
	st = require_perm_any(x->who, op, err);
	if (st != RS_OK)
		return st;
	if (!create) {
		st = user_load(tx, t.id, x->id, x->a, &cur, NULL, err);
		/* Before anything that would tell a user outside the actor's subtrees exists. */
		if (st == RS_OK)
			st = require_user_perm(tx, x->who, &cur, op, err);
		if (st != RS_OK)
			return st;
		if (x->if_match && x->if_match != cur.version)
			return rs_fail(err, RS_E_PRECONDITION, "request.precondition_failed", NULL,
				       "the user changed since version %lld",
				       (long long)x->if_match);
		/* DESIGN rule 2: nobody edits or deletes a user who outranks them. */
		st = rank_may_act_on(x->who, cur.rank, err);
		if (st != RS_OK)
			return st;
	}
	if (!create && strcmp(cur.status, "deleting") == 0)
		return rs_fail(err, RS_E_CONFLICT, "user.deletion_pending", NULL,
			       "the user is being deleted (task %s)", cur.deletion_task);
	if (f->roles_set && f->roles_any_scope) {
		struct user_fields *split = arena_alloc(x->a, sizeof(*split));

		if (!split)
			return core_oom(err);
		st = roles_split(tx, t.id, f, x->a, split, err);
		if (st != RS_OK)
			return st;
		x->f = f = split;
	}
	if ((f->system_role.set || f->roles_set) && !create && !x->invite) {
		st = require_user_perm(tx, x->who, &cur, PERM_ROLES_ASSIGN, err);
		if (st != RS_OK)
			return st;
	}
	/* A user enters a department (on create or move) only where the actor holds the
	 * permission; leaving the source was checked with the target above. */
	dept_moved =
	    f->department_id.set && (create || !same_str(f->department_id.v, cur.department_id));
	if (dept_moved) {
		bool ok = false;

		st = department_check(tx, t.id, f->department_id.v, "department_id", x->a,
				      &dept_name, err);
		if (st == RS_OK)
			st = dept_reach(tx, x->who, t.id, f->department_id.v, op, &ok, err);
		if (st != RS_OK)
			return st;
		if (!ok)
			return rs_fail(err, RS_E_FORBIDDEN, "auth.permission_denied",
				       "department_id",
				       "you hold '%s' only inside your departments", perm_name(op));
	} else if (create && !(x->who->perms & PERM_BIT(op))) {
		return rs_fail(err, RS_E_FORBIDDEN, "auth.permission_denied", "department_id",
			       "you hold '%s' only inside your departments: name one",
			       perm_name(op));
	}
	if (f->roles_set && f->nroles > 0) {
		roles = arena_alloc(x->a, (size_t)f->nroles * sizeof(*roles));
		if (!roles)
			return core_oom(err);
	}
	st = resolve_roles(tx, x->who, t.id, f,
			   create || x->invite ? PERM_USERS_CREATE : PERM_ROLES_ASSIGN, x->a, &sys,
			   roles, err);
	if (st != RS_OK)
		return st;
	if (f->roles_set) { /* the actor built from this user holds a fixed table of scopes */
		struct actor_scope scopes[ACTOR_SCOPES_MAX];
		int nscopes = 0;

		for (int i = 0; i < f->nroles; i++) {
			if (roles[i].department_id &&
			    !scope_add(scopes, &nscopes, roles[i].department_id, 0))
				return rs_fail(err, RS_E_INVALID, "request.invalid_field", "roles",
					       "a user's roles may be scoped to at most %d "
					       "departments",
					       ACTOR_SCOPES_MAX);
		}
	}
	if (create && !f->system_role.set) {
		struct store_rows *r = NULL;
		bool has = false;

		st = Q_QUERY(tx, Q_ROLE_DEFAULT, &r, err, SV_S(t.id));
		if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has)
			row_role(r, x->a, &sys);
		store_rows_close(r);
		if (st != RS_OK)
			return st;
		if (!has)
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "system_role",
				       "this tenant has no default role: name one");
		st = rank_may_grant(x->who, sys.rank, err);
		if (st == RS_OK)
			st = grant_within_reach(tx, x->who, t.id, PERM_USERS_CREATE, &sys,
						"system_role", err);
		if (st != RS_OK)
			return st;
	}
	if (!merge(f, create ? NULL : &cur, &n, x->a))
		return core_oom(err);
	if (dept_moved)
		n.department_name = dept_name;
	if (n.manager_id && (create || !same_str(n.manager_id, cur.manager_id))) {
		st = manager_check(tx, t.id, create ? NULL : cur.id, n.manager_id, x->a,
				   &n.manager_name, err);
		if (st != RS_OK)
			return st;
	}
	if (create && x->status)
		n.status = x->status;
	if (strlen(n.custom_attributes) > RS_CUSTOM_ATTRS_MAX)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "custom_attributes",
			       "'custom_attributes' is larger than %d bytes", RS_CUSTOM_ATTRS_MAX);
	/* A new seat holder, or one moving to another type's seats, needs a free seat. */
	if (create || (strcmp(n.type, cur.type) != 0 && strcmp(cur.status, "deactivated") != 0)) {
		st = seats_check(tx, t.id, n.type, err);
		if (st != RS_OK)
			return st;
	}
	if (create) {
		if (!core_new_id(id))
			return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL,
				       "no randomness");
		n.id = arena_strdup(x->a, id);
		if (!n.id)
			return core_oom(err);
	}
	if (create || f->system_role.set)
		n.system_role = (struct role_ref){sys.id, sys.name, sys.rank};
	reqact = required_text(f, create ? NULL : &cur, x->a);
	st = store_user(tx, x, t.id, &n, reqact, create, now, err);
	if (st == RS_E_CONFLICT)
		return rs_fail(err, RS_E_CONFLICT, "user.username_taken", "username",
			       "username '%s' is already taken in this tenant", n.username);
	if (st != RS_OK)
		return st;
	if (f->roles_set) {
		st = write_roles(tx, t.id, n.id, roles, f->nroles, err);
		if (st != RS_OK)
			return st;
	}
	st = user_result(x, t.id, &n, create ? NULL : &cur, roles, reqact, now, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	text_changes(ch, create ? NULL : &cur, x->out);
	if (f->roles_set || create)
		changes_json(ch, "roles", create ? NULL : role_names(cur.roles, cur.nroles, x->a),
			     role_names(x->out->roles, x->out->nroles, x->a));
	changes_str(ch, "required_actions",
		    create ? NULL : required_text(&(struct user_fields){0}, &cur, x->a),
		    required_text(&(struct user_fields){0}, x->out, x->a));
	/* Its tokens' permissions follow a role change; its sessions are restricted, or freed,
	 * as soon as its required actions change; an API user's credentials stop when its type
	 * does. */
	if (!create && (f->system_role.set || f->roles_set || f->required_actions_set ||
			(f->type.set && strcmp(cur.type, x->out->type) != 0))) {
		st = store_signal(tx, STORE_SIG_AUTH, err);
		if (st != RS_OK)
			return st;
	}
	action = create ? "user.create" : (only_roles(f) ? "user.roles_assign" : "user.update");
	if (!create && changes_empty(ch)) {
		changes_free(ch);
		return RS_OK; /* nothing changed: no audit noise (the version still moved) */
	}
	doc = changes_dump(ch, x->a);
	st = audit_append(tx, x->c, x->who, t.id, action, "user", n.id, doc, err);
	changes_free(ch);
	if (st == RS_OK)
		st = user_announce(tx, x, x->out, create ? "user.created" : "user.updated",
				   !create && !x->invite && (f->system_role.set || f->roles_set) &&
					   x->out->email
				       ? "role_change"
				       : NULL,
				   doc, err);
	return st;
}

enum rs_status user_write_invited(struct store_tx *tx, struct core *c, const struct actor *who,
				  const char *tenant, const char *id, const struct user_fields *f,
				  struct arena *a, struct user *out, struct rs_err *err)
{
	struct wctx x = {.c = c,
			 .who = who,
			 .tenant = tenant,
			 .id = id,
			 .f = f,
			 .a = a,
			 .out = out,
			 .status = "invited",
			 .invite = true};
	enum rs_status st = check_fields(f, id == NULL, err);

	if (st != RS_OK)
		return st;
	return write_tx(tx, &x, err);
}

enum rs_status user_write_new(struct store_tx *tx, struct core *c, const struct actor *who,
			      const char *tenant, const struct user_fields *f, struct arena *a,
			      struct user *out, struct rs_err *err)
{
	struct wctx x = {.c = c, .who = who, .tenant = tenant, .f = f, .a = a, .out = out};
	enum rs_status st = check_fields(f, true, err);

	if (st != RS_OK)
		return st;
	return write_tx(tx, &x, err);
}

enum rs_status user_write_update(struct store_tx *tx, struct core *c, const struct actor *who,
				 const char *tenant, const char *id, const struct user_fields *f,
				 int64_t if_match, struct arena *a, struct user *out,
				 struct rs_err *err)
{
	struct wctx x = {.c = c,
			 .who = who,
			 .tenant = tenant,
			 .id = id,
			 .f = f,
			 .if_match = if_match,
			 .a = a,
			 .out = out};
	enum rs_status st = check_fields(f, false, err);

	if (st != RS_OK)
		return st;
	return write_tx(tx, &x, err);
}

enum rs_status users_create(struct core *c, const struct actor *who, const char *tenant,
			    const struct user_fields *f, struct arena *a, struct user *out,
			    struct rs_err *err)
{
	struct wctx x = {.c = c, .who = who, .tenant = tenant, .f = f, .a = a, .out = out};
	enum rs_status st = check_fields(f, true, err);

	if (st != RS_OK)
		return st;
	return core_write(c, write_tx, &x, err);
}

enum rs_status users_update(struct core *c, const struct actor *who, const char *tenant,
			    const char *id, const struct user_fields *f, int64_t if_match,
			    struct arena *a, struct user *out, struct rs_err *err)
{
	struct wctx x = {.c = c,
			 .who = who,
			 .tenant = tenant,
			 .id = id,
			 .f = f,
			 .if_match = if_match,
			 .a = a,
			 .out = out};
	enum rs_status st = check_fields(f, false, err);

	if (st != RS_OK)
		return st;
	st = core_write(c, write_tx, &x, err);
	return st;
}

/* Makes room for one more element in *arr of n (a power-of-two capacity from 4, in a). */
static bool grow(struct arena *a, void **arr, size_t size, int n)
{
	void *m;

	if (n >= 4 && (n & (n - 1)) != 0)
		return true; /* not full */
	if (n > 0 && n < 4)
		return true;
	m = arena_alloc(a, size * (size_t)(n ? 2 * n : 4));
	if (!m)
		return false;
	if (n)
		memcpy(m, *arr, size * (size_t)n);
	*arr = m;
	return true;
}

static int page_by_id(const void *a, const void *b)
{
	return strcmp((*(const struct user *const *)a)->id, (*(const struct user *const *)b)->id);
}

/* The user of the page with this id, or NULL: byid is the page sorted by id. */
static struct user *page_find(struct user **byid, int n, const char *id)
{
	struct user key = {.id = id}, *k = &key, **hit;

	hit = bsearch(&k, byid, (size_t)n, sizeof(*byid), page_by_id);
	return hit ? *hit : NULL;
}

/* Rows about users off the page that a range read may meet before the list of ids is cheaper:
 * a page in id order meets none; a filtered page whose users lie far apart meets many. */
static int page_misses_max(int n)
{
	return 2 * n + 256;
}

/* Whether the page is in id order (either way), so that its users are one range of ids. */
static bool page_in_id_order(const struct user *items, int n)
{
	bool up = true, down = true;

	for (int i = 1; i < n && (up || down); i++) {
		int c = strcmp(items[i - 1].id, items[i].id);

		up = up && c < 0;
		down = down && c > 0;
	}
	return up || down;
}

/* One row of a page's roles: adds the role to u. */
static bool page_role_add(struct store_rows *r, struct arena *a, struct user *u)
{
	struct role ro;

	row_role(r, a, &ro);
	if (!grow(a, (void **)&u->roles, sizeof(*u->roles), u->nroles))
		return false;
	u->roles[u->nroles++] = (struct role_ref){ro.id, ro.name, ro.rank};
	if (ro.rank > u->rank)
		u->rank = ro.rank;
	return true;
}

/* One row of a page's groups: adds the group to u. */
static bool page_group_add(struct store_rows *r, struct arena *a, struct user *u)
{
	if (!grow(a, (void **)&u->groups, sizeof(*u->groups), u->ngroups))
		return false;
	u->groups[u->ngroups].id = col_str(r, 0, a);
	u->groups[u->ngroups].name = col_str(r, 1, a);
	u->ngroups++;
	return true;
}

/* How a completion query of a page is read: the column of the user id, what a row adds, and
 * how a user is put back to before (when a range read gives way to the list of ids). */
struct page_part {
	enum store_q by_range, by_list;
	int user_col;
	bool (*add)(struct store_rows *, struct arena *, struct user *);
	void (*reset)(struct user *);
};

/* Adds r's rows to the page's users; *gave_up when more than page_misses_max() rows were
 * about other users. */
static enum rs_status page_rows_read(const struct page_part *pp, struct store_rows *r,
				     struct arena *a, struct user **byid, int n, bool *gave_up,
				     struct rs_err *err)
{
	enum rs_status st;
	int misses = 0;
	bool has;

	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		struct user *u = page_find(byid, n, store_col_text(r, pp->user_col));

		if (!u) {
			if (++misses > page_misses_max(n)) {
				*gave_up = true;
				break;
			}
			continue;
		}
		if (!pp->add(r, a, u))
			return core_oom(err);
	}
	return st;
}

/* The page's ids as a JSON array of strings, for the store to unnest (json_each /
 * json_array_elements_text). */
static const char *page_ids_json(const struct user *items, int n, struct arena *a)
{
	json_t *list = json_array();

	for (int i = 0; list && i < n; i++) {
		if (json_array_append_new(list, json_string(items[i].id)) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list ? core_json_dump(list, a) : NULL; /* takes list */
}

/* The system roles of a page: a page has few distinct ones, each read once. */
static enum rs_status page_system_roles(struct store_tx *tx, struct arena *a, struct user *items,
					int n, struct rs_err *err)
{
	struct role sys[8];
	int nsys = 0;
	enum rs_status st;

	for (int i = 0; i < n; i++) {
		struct user *u = &items[i];
		const struct role *ro = NULL;
		struct role one;

		for (int k = 0; k < nsys && !ro; k++)
			if (strcmp(sys[k].id, u->system_role.id) == 0)
				ro = &sys[k];
		if (!ro) {
			st = role_find(tx, u->tenant_id, u->system_role.id, a, &one, err);
			if (st != RS_OK)
				return st == RS_E_NOT_FOUND
					   ? rs_fail(err, RS_E_INTERNAL, "user.role_missing", NULL,
						     "a user's system role is missing")
					   : st;
			ro = &one;
			if (nsys < (int)(sizeof(sys) / sizeof(sys[0])))
				sys[nsys++] = one;
		}
		u->system_role.name = ro->name;
		u->system_role.rank = ro->rank;
		u->rank = ro->rank;
	}
	return RS_OK;
}

static void page_roles_reset(struct user *u)
{
	u->roles = NULL;
	u->nroles = 0;
	u->rank = u->system_role.rank;
}

static void page_groups_reset(struct user *u)
{
	u->groups = NULL;
	u->ngroups = 0;
}

static const struct page_part page_roles = {Q_USERS_ROLES_RANGE, Q_USERS_ROLES_PAGE, 13,
					    page_role_add, page_roles_reset};
static const struct page_part page_groups = {Q_USERS_GROUPS_RANGE, Q_USERS_GROUPS_PAGE, 2,
					     page_group_add, page_groups_reset};

/* One completion query of a page: by the range of its ids when the page is in id order (one
 * ordered walk of an index), else, or when the range holds too many other users, by the list
 * of its ids (one probe per user). */
static enum rs_status page_complete_query(struct store_tx *tx, struct arena *a, struct user *items,
					  struct user **byid, int n, const struct page_part *pp,
					  struct rs_err *err)
{
	struct store_rows *r = NULL;
	const char *ids;
	enum rs_status st;
	bool gave_up = false;

	if (page_in_id_order(items, n)) {
		st = Q_QUERY(tx, pp->by_range, &r, err, SV_S(items[0].tenant_id), SV_S(byid[0]->id),
			     SV_S(byid[n - 1]->id));
		if (st != RS_OK)
			return st;
		st = page_rows_read(pp, r, a, byid, n, &gave_up, err);
		store_rows_close(r);
		if (st != RS_OK || !gave_up)
			return st;
		for (int i = 0; i < n; i++)
			pp->reset(&items[i]);
	}
	if (!(ids = page_ids_json(items, n, a)))
		return core_oom(err);
	st = Q_QUERY(tx, pp->by_list, &r, err, SV_S(items[0].tenant_id), SV_S(ids));
	if (st != RS_OK)
		return st;
	st = page_rows_read(pp, r, a, byid, n, &gave_up, err);
	store_rows_close(r);
	return st;
}

/* user_complete() for a page of users in three queries whatever its size, one user or a
 * thousand: the system roles, then the tenant roles and the groups of all its users at once.
 * Same results, same order per user. */
static enum rs_status users_complete_page(struct store_tx *tx, struct arena *a, struct user *items,
					  int n, struct rs_err *err)
{
	struct user **byid = arena_alloc(a, sizeof(*byid) * (size_t)n);
	enum rs_status st;

	if (!byid)
		return core_oom(err);
	for (int i = 0; i < n; i++)
		byid[i] = &items[i];
	qsort(byid, (size_t)n, sizeof(*byid), page_by_id);
	st = page_system_roles(tx, a, items, n, err);
	if (st == RS_OK)
		st = page_complete_query(tx, a, items, byid, n, &page_roles, err);
	if (st == RS_OK)
		st = page_complete_query(tx, a, items, byid, n, &page_groups, err);
	return st;
}

/* Users handed to on_users at a time: small enough that an adapter writing them keeps up with
 * the reading, large enough that completing them stays a few queries per hundred users. */
#define USERS_CHUNK 50

enum rs_status user_rows_fill_each(struct store_tx *tx, struct store_rows *r, struct arena *a,
				   struct user *items, int limit, int *n, bool *more,
				   void (*on)(void *, const struct user *, int, int), void *ctx,
				   struct rs_err *err)
{
	enum rs_status st;
	int done = 0;
	bool has;

	*n = 0;
	*more = false;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if (*n == limit) {
			*more = true;
			break;
		}
		row_user(r, a, &items[(*n)++]);
		/* Without on, roles and groups come after the last row: one query each. */
		if (on && *n - done == USERS_CHUNK) {
			st = users_complete_page(tx, a, items + done, *n - done, err);
			if (st != RS_OK)
				return st;
			on(ctx, items, done, *n);
			done = *n;
		}
	}
	if (st == RS_OK && *n > done) {
		st = users_complete_page(tx, a, items + done, *n - done, err);
		if (st == RS_OK && on)
			on(ctx, items, done, *n);
	}
	return st;
}

enum rs_status user_rows_fill(struct store_tx *tx, struct store_rows *r, struct arena *a,
			      struct user *items, int limit, int *n, bool *more, struct rs_err *err)
{
	return user_rows_fill_each(tx, r, a, items, limit, n, more, NULL, NULL, err);
}

/* ---- reads -------------------------------------------------------------------------------------
 */

struct rctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *id;
	const struct user_list_query *q;
	struct arena *a;
	struct user *out;
	struct user_list *list;
};

static enum rs_status get_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct rctx *x = arg;
	struct tenant t;
	enum rs_status st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK)
		st = require_perm_any(x->who, PERM_USERS_READ, err);
	if (st == RS_OK)
		st = user_load(tx, t.id, x->id, x->a, x->out, NULL, err);
	if (st == RS_OK)
		st = require_user_perm(tx, x->who, x->out, PERM_USERS_READ, err);
	return st;
}

enum rs_status users_get(struct core *c, const struct actor *who, const char *tenant,
			 const char *id, struct arena *a, struct user *out, struct rs_err *err)
{
	struct rctx x = {.c = c, .who = who, .tenant = tenant, .id = id, .a = a, .out = out};

	return core_read(c, get_tx, &x, err);
}

struct sort_key {
	const char *name;
	int attr;
	bool is_int;
};

static const struct sort_key sort_keys[] = {
    {"created_at", UA_CREATED_AT, true},   {"updated_at", UA_UPDATED_AT, true},
    {"username", UA_USERNAME_CI, false},   {"email", UA_EMAIL_CI, false},
    {"last_name", UA_LAST_NAME_CI, false}, {"id", UA_ID, false},
};

/* The sort value of a row, as the cursor carries it (the engine compares the same form). */
static const char *sort_value(const struct sort_key *k, const struct user *u, struct arena *a)
{
	const char *v = NULL;

	switch (k->attr) {
	case UA_CREATED_AT:
		return arena_printf(a, "%" PRId64, u->created_at);
	case UA_UPDATED_AT:
		return arena_printf(a, "%" PRId64, u->updated_at);
	case UA_USERNAME_CI:
		v = u->username;
		break;
	case UA_EMAIL_CI:
		v = u->email;
		break;
	case UA_LAST_NAME_CI:
		v = u->last_name;
		break;
	case UA_ID:
		return u->id;
	}
	return v ? str_lower(a, v) : "";
}

struct preds {
	struct store_pred p[24 + 2 * ACTOR_SCOPES_MAX];
	int n;
	const struct store_pred *where;
	bool overflow; /* a predicate was dropped: the selection must not run */
};

static const struct store_pred *pred_add(struct preds *ps, struct store_pred p)
{
	if (ps->n >= (int)(sizeof(ps->p) / sizeof(ps->p[0]))) {
		ps->overflow = true;
		return NULL;
	}
	ps->p[ps->n] = p;
	return &ps->p[ps->n++];
}

static void pred_and(struct preds *ps, const struct store_pred *p)
{
	if (!p)
		return;
	if (!ps->where)
		ps->where = p;
	else
		ps->where = pred_add(ps, (struct store_pred){.op = SO_AND, .a = ps->where, .b = p});
}

static const struct store_pred *pred_or(struct preds *ps, const struct store_pred *a,
					const struct store_pred *b)
{
	return pred_add(ps, (struct store_pred){.op = SO_OR, .a = a, .b = b});
}

static const struct store_pred *pred_cmp(struct preds *ps, enum store_op op, int attr,
					 const char *v)
{
	return pred_add(ps, (struct store_pred){.op = op, .attr = attr, .val = SV_S(v)});
}

static const int user_attr_store[] = {
    [USER_A_ID] = UA_ID,
    [USER_A_USERNAME] = UA_USERNAME_CI,
    [USER_A_EMAIL] = UA_EMAIL_CI,
    [USER_A_FIRST_NAME] = UA_FIRST_NAME_CI,
    [USER_A_LAST_NAME] = UA_LAST_NAME_CI,
    [USER_A_TYPE] = UA_TYPE,
    [USER_A_STATUS] = UA_STATUS,
    [USER_A_EXTERNAL_ID] = UA_EXTERNAL_ID,
    [USER_A_CREATED_AT] = UA_CREATED_AT,
    [USER_A_UPDATED_AT] = UA_UPDATED_AT,
};

/* The selection as text, for the paging caches: every predicate with its operator, attribute
 * and value (length-prefixed, so no two trees spell the same), then the tenant and the sort.
 * false when the selection is not cacheable: it names other tables (roles, groups, the
 * department tree), whose changes the tenant's users generation does not follow, or it is
 * longer than LIST_CACHE_FP_MAX. */
static bool fp_pred(char *buf, size_t cap, size_t *len, const struct store_pred *p, int depth)
{
	int n;

	if (!p || depth > 64)
		return false;
	if (p->op == SO_AND || p->op == SO_OR || p->op == SO_NOT) {
		n = snprintf(buf + *len, cap - *len, "(%d", (int)p->op);
		if (n < 0 || (size_t)n >= cap - *len)
			return false;
		*len += (size_t)n;
		if (!fp_pred(buf, cap, len, p->a, depth + 1) ||
		    (p->op != SO_NOT && !fp_pred(buf, cap, len, p->b, depth + 1)))
			return false;
		n = snprintf(buf + *len, cap - *len, ")");
	} else {
		if (p->attr == UA_ROLE || p->attr == UA_GROUP || p->attr == UA_DEPARTMENT_TREE)
			return false;
		if (p->val.type == SV_TEXT && p->val.s)
			n = snprintf(buf + *len, cap - *len, "[%d %d s%zu:%s]", (int)p->op, p->attr,
				     strlen(p->val.s), p->val.s);
		else if (p->val.type == SV_INT)
			n = snprintf(buf + *len, cap - *len, "[%d %d i%" PRId64 "]", (int)p->op,
				     p->attr, p->val.i);
		else if (p->val.type == SV_NULL)
			n = snprintf(buf + *len, cap - *len, "[%d %d n]", (int)p->op, p->attr);
		else
			return false;
	}
	if (n < 0 || (size_t)n >= cap - *len)
		return false;
	*len += (size_t)n;
	return true;
}

static const char *list_fp(const struct store_select *sel, struct arena *a)
{
	char *buf = arena_alloc(a, LIST_CACHE_FP_MAX);
	size_t len;
	int n;

	if (!buf)
		return NULL;
	n = snprintf(buf, LIST_CACHE_FP_MAX, "users %s %d %d ", sel->tenant_id, sel->sort_attr,
		     sel->desc ? 1 : 0);
	if (n < 0 || n >= LIST_CACHE_FP_MAX)
		return NULL;
	len = (size_t)n;
	if (sel->where && !fp_pred(buf, LIST_CACHE_FP_MAX, &len, sel->where, 0))
		return NULL;
	return buf;
}

static enum rs_status users_gen(struct store_tx *tx, const char *tenant_id, int64_t *gen,
				struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st = Q_QUERY(tx, Q_TENANT_USERS_GEN, &r, err, SV_S(tenant_id));
	bool has = false;

	if (st != RS_OK)
		return st;
	st = store_rows_next(r, &has, err);
	if (st == RS_OK && !has)
		st = rs_fail(err, RS_E_NOT_FOUND, "tenant.not_found", NULL, "no such tenant");
	if (st == RS_OK)
		*gen = store_col_int(r, 0);
	store_rows_close(r);
	return st;
}

static enum rs_status list_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct rctx *x = arg;
	const struct user_list_query *q = x->q;
	struct store_select sel = {.coll = SC_USERS};
	const struct sort_key *key = &sort_keys[0];
	struct preds ps = {.n = 0};
	struct store_rows *r = NULL;
	struct tenant t;
	const char *fp = NULL; /* the paging caches' key; NULL: not cached */
	int64_t gen = 0;
	int limit = page_limit(&q->page);
	enum rs_status st;
	bool more = false;

	if (q->limit_max > RS_LIST_LIMIT_MAX && q->page.limit > RS_LIST_LIMIT_MAX) {
		int max =
		    q->limit_max < RS_LIST_LIMIT_BULK_MAX ? q->limit_max : RS_LIST_LIMIT_BULK_MAX;

		limit = q->page.limit < max ? q->page.limit : max;
	}

	st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm_any(x->who, PERM_USERS_READ, err);
	if (st != RS_OK)
		return st;
	if (!(x->who->perms & PERM_BIT(PERM_USERS_READ))) {
		/* Only the union of the actor's subtrees; this restriction must never be dropped,
		 * so running out of predicate slots is an error, not a wider answer. */
		const struct store_pred *scope = NULL;

		for (int i = 0; i < x->who->nscopes && i < ACTOR_SCOPES_MAX; i++) {
			const struct store_pred *one;

			if (!(x->who->scopes[i].perms & PERM_BIT(PERM_USERS_READ)))
				continue;
			one = pred_cmp(&ps, SO_EQ, UA_DEPARTMENT_TREE,
				       x->who->scopes[i].department_id);
			scope = one && scope ? pred_or(&ps, scope, one) : one;
		}
		if (!scope)
			return RS_OK; /* no subtree at all: nobody to show */
		pred_and(&ps, scope);
	}
	if (q->sort) {
		const char *s = q->sort[0] == '-' ? q->sort + 1 : q->sort;

		key = NULL;
		for (size_t i = 0; i < sizeof(sort_keys) / sizeof(sort_keys[0]); i++) {
			if (strcmp(sort_keys[i].name, s) == 0)
				key = &sort_keys[i];
		}
		if (!key)
			return rs_fail(err, RS_E_INVALID, "request.invalid_parameter", "sort",
				       "'sort' must be created_at, updated_at, username, email, "
				       "last_name or id, optionally prefixed by '-'");
		sel.desc = q->sort[0] == '-';
	}
	if (q->status && (!in_set(q->status, user_statuses)))
		return rs_fail(err, RS_E_INVALID, "request.invalid_parameter", "status",
			       "'status' must be active, invited, suspended or deactivated");
	if (q->type && !in_set(q->type, user_types))
		return rs_fail(err, RS_E_INVALID, "request.invalid_parameter", "type",
			       "'type' must be standard, api, taxii or read_only");
	if (q->username)
		pred_and(&ps, pred_cmp(&ps, SO_EQ, UA_USERNAME_CI, q->username));
	if (q->email)
		pred_and(&ps, pred_cmp(&ps, SO_EQ, UA_EMAIL_CI, q->email));
	if (q->name)
		pred_and(&ps, pred_or(&ps, pred_cmp(&ps, SO_EQ, UA_FIRST_NAME_CI, q->name),
				      pred_cmp(&ps, SO_EQ, UA_LAST_NAME_CI, q->name)));
	if (q->username_prefix)
		pred_and(&ps, pred_cmp(&ps, SO_SW, UA_USERNAME_CI, q->username_prefix));
	if (q->email_prefix)
		pred_and(&ps, pred_cmp(&ps, SO_SW, UA_EMAIL_CI, q->email_prefix));
	if (q->name_prefix)
		pred_and(&ps, pred_or(&ps, pred_cmp(&ps, SO_SW, UA_FIRST_NAME_CI, q->name_prefix),
				      pred_cmp(&ps, SO_SW, UA_LAST_NAME_CI, q->name_prefix)));
	if (q->q)
		pred_and(&ps, pred_or(&ps,
				      pred_or(&ps, pred_cmp(&ps, SO_CO, UA_USERNAME_CI, q->q),
					      pred_cmp(&ps, SO_CO, UA_EMAIL_CI, q->q)),
				      pred_or(&ps, pred_cmp(&ps, SO_CO, UA_FIRST_NAME_CI, q->q),
					      pred_cmp(&ps, SO_CO, UA_LAST_NAME_CI, q->q))));
	if (q->status)
		pred_and(&ps, pred_cmp(&ps, SO_EQ, UA_STATUS, q->status));
	if (q->type)
		pred_and(&ps, pred_cmp(&ps, SO_EQ, UA_TYPE, q->type));
	if (q->role) {
		struct role ro;

		st = role_find(tx, t.id, q->role, x->a, &ro, err);
		if (st == RS_E_NOT_FOUND)
			return RS_OK; /* no such role: nobody holds it */
		if (st != RS_OK)
			return st;
		pred_and(&ps, pred_cmp(&ps, SO_EQ, UA_ROLE, ro.id));
	}
	if (q->department_id) {
		if (!uuid_valid(q->department_id))
			return RS_OK; /* no such department: nobody is in it */
		pred_and(&ps,
			 pred_cmp(&ps, SO_EQ, q->direct_only ? UA_DEPARTMENT : UA_DEPARTMENT_TREE,
				  q->department_id));
	}
	if (q->group) {
		struct group g;

		st = group_find(tx, t.id, q->group, x->a, &g, err);
		if (st == RS_E_NOT_FOUND)
			return RS_OK;
		if (st != RS_OK)
			return st;
		pred_and(&ps, pred_cmp(&ps, SO_EQ, UA_GROUP, g.id));
	}
	if (q->where) {
		const struct store_pred *w;

		st = core_pred_compile(q->where, user_attr_store,
				       sizeof(user_attr_store) / sizeof(user_attr_store[0]), x->a,
				       &w, err);
		if (st != RS_OK)
			return st;
		pred_and(&ps, w);
	}
	if (ps.overflow)
		return rs_fail(err, RS_E_INVALID, "request.invalid_parameter", NULL,
			       "too many filters at once");
	sel.tenant_id = t.id;
	sel.where = ps.where;
	sel.sort_attr = key->attr;
	/* Positional pages and totals (SCIM) go through the paging caches, keyed by the tenant's
	 * users generation read here, in the page's own snapshot (docs/scim.md "Paging"). */
	if ((q->offset > 0 || q->with_total) && !q->page.cursor &&
	    (fp = list_fp(&sel, x->a)) != NULL) {
		st = users_gen(tx, t.id, &gen, err);
		if (st != RS_OK)
			return st;
	}
	if (q->with_total && fp && list_cache_total_get(x->c->lists, fp, gen, &x->list->total)) {
		/* counted before under this generation */
	} else if (q->with_total) {
		struct store_select cnt = sel;
		bool has = false;

		cnt.count_only = true;
		cnt.sort_attr = key->attr;
		cnt.limit = 1;
		st = store_select(tx, &cnt, &r, err);
		if (st != RS_OK)
			return st;
		st = store_rows_next(r, &has, err);
		x->list->total = st == RS_OK && has ? store_col_int(r, 0) : 0;
		store_rows_close(r);
		r = NULL;
		if (st != RS_OK)
			return st;
		if (fp)
			list_cache_total_put(x->c->lists, fp, gen, x->list->total);
	}
	if (q->offset > 0) {
		const char *sv, *cid;
		long long iv;

		if (q->page.cursor)
			return rs_fail(err, RS_E_INVALID, "request.invalid_parameter", "cursor",
				       "a cursor and an offset cannot be combined");
		/* A remembered position: seek to the row after it instead of skipping offset
		 * rows, the same rows in the same order (the sort ends with the unique id). */
		if (fp && list_cache_pos_get(x->c->lists, fp, gen, q->offset, x->a, &sv, &cid) &&
		    (!key->is_int || str_to_ll(sv, INT64_MIN, INT64_MAX, &iv))) {
			sel.has_after = true;
			sel.after_val = key->is_int ? SV_I(iv) : SV_S(sv);
			sel.after_id = cid;
		} else {
			sel.offset = q->offset;
		}
	}
	sel.limit = limit + 1;
	if (q->page.cursor) {
		const char *sv, *cid;
		long long iv;

		st = cursor_decode(x->c, x->a, q->page.cursor, &sv, &cid, err);
		if (st != RS_OK)
			return st;
		if (key->is_int && !str_to_ll(sv, 0, INT64_MAX, &iv))
			return rs_fail(err, RS_E_INVALID, "request.invalid_cursor", "cursor",
				       "the cursor does not match this sort order");
		sel.has_after = true;
		sel.after_val = key->is_int ? SV_I(iv) : SV_S(sv);
		sel.after_id = cid;
	}
	/* row_user() clears each item it fills. */
	x->list->items = arena_alloc_uninit(x->a, sizeof(*x->list->items) * (size_t)(limit + 1));
	if (!x->list->items)
		return core_oom(err);
	st = store_select(tx, &sel, &r, err);
	if (st != RS_OK)
		return st;
	st = user_rows_fill_each(tx, r, x->a, x->list->items, limit, &x->list->n, &more,
				 q->on_users, q->on_users_ctx, err);
	store_rows_close(r);
	if (st == RS_OK && fp && more) {
		const struct user *last = &x->list->items[x->list->n - 1];

		list_cache_pos_put(x->c->lists, fp, gen, (int64_t)q->offset + x->list->n,
				   sort_value(key, last, x->a), last->id);
	}
	if (st == RS_OK && more) {
		const struct user *last = &x->list->items[limit - 1];

		x->list->next_cursor =
		    cursor_encode(x->c, x->a, sort_value(key, last, x->a), last->id);
	}
	return st;
}

enum rs_status users_list(struct core *c, const struct actor *who, const char *tenant,
			  const struct user_list_query *q, struct arena *a, struct user_list *out,
			  struct rs_err *err)
{
	struct rctx x = {.c = c, .who = who, .tenant = tenant, .q = q, .a = a, .list = out};

	memset(out, 0, sizeof(*out));
	return core_read(c, list_tx, &x, err);
}
