/* Roles: per-tenant, copied from a template (built-in) or custom. A custom role is bounded by
 * its creator: never ranked above, never holding a permission the creator lacks. */
#include "core/core_int.h"

enum rs_status role_find(struct store_tx *tx, const char *tenant_id, const char *ref,
			 struct arena *a, struct role *out, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has = false;

	if (!ref || !*ref)
		goto missing;
	if (uuid_valid(ref))
		st = Q_QUERY(tx, Q_ROLE_GET, &r, err, SV_S(tenant_id), SV_S(ref));
	else
		st =
		    Q_QUERY(tx, Q_ROLE_GET_NAME, &r, err, SV_S(tenant_id), SV_S(str_lower(a, ref)));
	if (st != RS_OK)
		return st;
	st = store_rows_next(r, &has, err);
	if (st == RS_OK && has)
		row_role(r, a, out);
	store_rows_close(r);
	if (st != RS_OK || has)
		return st;
missing:
	return rs_fail(err, RS_E_NOT_FOUND, "role.not_found", NULL, "no such role");
}

static enum rs_status perms_from_names(const char *const *names, int n, uint64_t *out,
				       struct rs_err *err)
{
	uint64_t set = 0;

	for (int i = 0; i < n; i++) {
		enum perm p;

		if (!names[i] || !perm_parse(names[i], &p))
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "permissions",
				       "unknown permission '%s'", names[i] ? names[i] : "");
		set |= PERM_BIT(p);
	}
	*out = set;
	return RS_OK;
}

static enum rs_status check_rank_value(int64_t rank, struct rs_err *err)
{
	if (rank < 0 || rank > 1000)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "rank",
			       "'rank' must be between 0 and 1000");
	return RS_OK;
}

/* A role is bounded by its author: rank and permissions (DESIGN rule 2). */
static enum rs_status check_author(const struct actor *who, int rank, uint64_t perms,
				   struct rs_err *err)
{
	enum rs_status st = rank_may_grant(who, rank, err);

	if (st != RS_OK)
		return st;
	if (perms & ~who->perms)
		return rs_fail(err, RS_E_FORBIDDEN, "auth.permission_denied", "permissions",
			       "a role can't hold permissions its author lacks");
	if ((perms & PERM_BIT(PERM_PLATFORM_TENANTS)) && !who->platform)
		return rs_fail(err, RS_E_FORBIDDEN, "auth.permission_denied", "permissions",
			       "platform.tenants belongs to the platform operator");
	return RS_OK;
}

/* A system role is the user's one tenant-wide role; only tenant roles narrow to a subtree. */
static enum rs_status scoped_system_role(struct rs_err *err)
{
	return rs_fail(err, RS_E_INVALID, "request.invalid_field", "department_id",
		       "only a tenant-scope role can be limited to a department");
}

struct ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant;
	const char *ref;
	const struct role_create_req *req;
	const struct role_patch *p;
	uint64_t perms;
	int64_t if_match;
	struct arena *a;
	struct role *out;
	struct role_list *list;
};

static enum rs_status list_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	struct store_rows *r = NULL;
	enum rs_status st;
	size_t cap = 16;
	bool has;

	st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_ROLES_READ, err);
	if (st != RS_OK)
		return st;
	x->list->items = arena_alloc(x->a, cap * sizeof(*x->list->items));
	if (!x->list->items)
		return core_oom(err);
	st = Q_QUERY(tx, Q_ROLE_LIST, &r, err, SV_S(t.id));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if ((size_t)x->list->n == cap) {
			struct role *n = arena_alloc(x->a, 2 * cap * sizeof(*n));

			if (!n) {
				st = core_oom(err);
				break;
			}
			memcpy(n, x->list->items, cap * sizeof(*n));
			x->list->items = n;
			cap *= 2;
		}
		row_role(r, x->a, &x->list->items[x->list->n++]);
	}
	store_rows_close(r);
	return st;
}

enum rs_status roles_list(struct core *c, const struct actor *who, const char *tenant,
			  struct arena *a, struct role_list *out, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .a = a, .list = out};

	memset(out, 0, sizeof(*out));
	return core_read(c, list_tx, &x, err);
}

static enum rs_status get_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	enum rs_status st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK)
		st = require_perm(x->who, PERM_ROLES_READ, err);
	if (st != RS_OK)
		return st;
	return role_find(tx, t.id, x->ref, x->a, x->out, err);
}

enum rs_status roles_get(struct core *c, const struct actor *who, const char *tenant,
			 const char *ref, struct arena *a, struct role *out, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .ref = ref, .a = a, .out = out};

	return core_read(c, get_tx, &x, err);
}

static void role_changes(struct changes *ch, const struct role *before, const char *name, int rank,
			 const char *perms, const char *desc, struct arena *a)
{
	changes_str(ch, "name", before ? before->name : NULL, name);
	changes_int(ch, "rank", before != NULL, before ? before->rank : 0, true, rank);
	changes_str(ch, "permissions", before ? perms_to_text(before->perms, a) : NULL, perms);
	changes_str(ch, "description", before ? before->description : NULL, desc);
}

static enum rs_status create_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	const struct role_create_req *q = x->req;
	const char *scope = q->scope ? q->scope : "tenant";
	const char *perms = perms_to_text(x->perms, x->a);
	struct tenant t;
	struct changes *ch;
	char id[UUID_STR_LEN];
	const char *dname;
	enum rs_status st;

	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_ROLES_MANAGE, err);
	if (st == RS_OK)
		st = check_author(x->who, q->rank, x->perms, err);
	if (st == RS_OK)
		st = department_check(tx, t.id, q->department_id, "department_id", x->a, &dname,
				      err);
	if (st != RS_OK)
		return st;
	if (!core_new_id(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	st = Q_EXEC(tx, Q_ROLE_INSERT, NULL, err, SV_S(t.id), SV_S(id), SV_S(q->name),
		    SV_S(str_lower(x->a, q->name)), SV_S(scope), SV_I(q->rank), SV_S(perms),
		    SV_S(q->description), SV_I(0), SV_I(0), SV_I(core_now(x->c)),
		    SV_S(q->department_id));
	if (st == RS_E_CONFLICT)
		return rs_fail(err, RS_E_CONFLICT, "role.name_taken", "name",
			       "a role named '%s' already exists", q->name);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	role_changes(ch, NULL, q->name, q->rank, perms, q->description, x->a);
	changes_str(ch, "scope", NULL, scope);
	changes_str(ch, "department_id", NULL, q->department_id);
	st = audit_append(tx, x->c, x->who, t.id, "role.create", "role", id, changes_dump(ch, x->a),
			  err);
	changes_free(ch);
	if (st != RS_OK)
		return st;
	return role_find(tx, t.id, id, x->a, x->out, err);
}

enum rs_status roles_create(struct core *c, const struct actor *who, const char *tenant,
			    const struct role_create_req *req, struct arena *a, struct role *out,
			    struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .req = req, .a = a, .out = out};
	enum rs_status st;

	st = check_text("name", req->name, RS_NAME_MAX, true, err);
	if (st == RS_OK)
		st = check_text("description", req->description, RS_TEXT_MAX, false, err);
	if (st == RS_OK)
		st = check_rank_value(req->rank, err);
	if (st == RS_OK && req->scope && strcmp(req->scope, "tenant") != 0 &&
	    strcmp(req->scope, "system") != 0)
		st = rs_fail(err, RS_E_INVALID, "request.invalid_field", "scope",
			     "'scope' must be 'tenant' or 'system'");
	if (st == RS_OK && req->department_id && req->scope && strcmp(req->scope, "tenant") != 0)
		st = scoped_system_role(err);
	if (st == RS_OK)
		st = perms_from_names(req->permissions, req->npermissions, &x.perms, err);
	if (st != RS_OK)
		return st;
	return core_write(c, create_tx, &x, err);
}

static enum rs_status update_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	const struct role_patch *p = x->p;
	struct tenant t;
	struct role r;
	struct changes *ch;
	enum rs_status st;
	const char *name, *desc, *perms, *dept, *dname;
	uint64_t pset;
	int rank;

	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_ROLES_MANAGE, err);
	if (st == RS_OK)
		st = role_find(tx, t.id, x->ref, x->a, &r, err);
	if (st != RS_OK)
		return st;
	if (x->if_match && x->if_match != r.version)
		return rs_fail(err, RS_E_PRECONDITION, "request.precondition_failed", NULL,
			       "the role changed since version %lld", (long long)x->if_match);
	if (r.builtin)
		return rs_fail(err, RS_E_CONFLICT, "role.builtin", NULL,
			       "built-in roles can't be changed; create a custom role instead");
	/* The author must outrank the role as it is and as it will be. */
	name = p && p->name.set ? p->name.v : r.name;
	desc = p && p->description.set ? p->description.v : r.description;
	rank = p && p->rank.set ? (int)p->rank.v : r.rank;
	pset = p && p->permissions_set ? x->perms : r.perms;
	dept = p && p->department_id.set ? p->department_id.v : r.department_id;
	if (p && p->department_id.set) {
		if (dept && strcmp(r.scope, "tenant") != 0)
			return scoped_system_role(err);
		st = department_check(tx, t.id, dept, "department_id", x->a, &dname, err);
		if (st != RS_OK)
			return st;
	}
	st = check_author(x->who, r.rank, r.perms, err);
	if (st == RS_OK)
		st = check_author(x->who, rank, pset, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	perms = perms_to_text(pset, x->a);
	if (!p) {
		int64_t uses = 0;
		struct store_rows *rows = NULL;
		bool has;

		st = Q_QUERY(tx, Q_ROLE_USES, &rows, err, SV_S(t.id), SV_S(r.id));
		if (st == RS_OK && (st = store_rows_next(rows, &has, err)) == RS_OK && has)
			uses = store_col_int(rows, 0);
		store_rows_close(rows);
		if (st == RS_OK && uses > 0)
			st = rs_fail(err, RS_E_CONFLICT, "role.in_use", NULL,
				     "the role is held by %lld users or tokens", (long long)uses);
		if (st == RS_OK)
			st = Q_EXEC(tx, Q_ROLE_DELETE, NULL, err, SV_S(t.id), SV_S(r.id));
		role_changes(ch, &r, NULL, r.rank, NULL, NULL, x->a);
	} else {
		st = Q_EXEC(tx, Q_ROLE_UPDATE, NULL, err, SV_S(t.id), SV_S(r.id), SV_S(name),
			    SV_S(str_lower(x->a, name)), SV_I(rank), SV_S(perms), SV_S(desc),
			    SV_I(core_now(x->c)), SV_S(dept));
		if (st == RS_E_CONFLICT)
			st = rs_fail(err, RS_E_CONFLICT, "role.name_taken", "name",
				     "a role named '%s' already exists", name);
		role_changes(ch, &r, name, rank, perms, desc, x->a);
		changes_str(ch, "department_id", r.department_id, dept);
	}
	if (st == RS_OK) /* tokens and users holding it see its new permissions at once */
		st = store_signal(tx, STORE_SIG_AUTH, err);
	if (st == RS_OK)
		st = audit_append(tx, x->c, x->who, t.id, p ? "role.update" : "role.delete", "role",
				  r.id, changes_dump(ch, x->a), err);
	changes_free(ch);
	if (st != RS_OK || !p)
		return st;
	return role_find(tx, t.id, r.id, x->a, x->out, err);
}

enum rs_status roles_update(struct core *c, const struct actor *who, const char *tenant,
			    const char *ref, const struct role_patch *p, struct arena *a,
			    struct role *out, struct rs_err *err)
{
	struct ctx x = {.c = c,
			.who = who,
			.tenant = tenant,
			.ref = ref,
			.p = p,
			.if_match = p->if_match,
			.a = a,
			.out = out};
	enum rs_status st = RS_OK;

	if (p->name.set)
		st = check_text("name", p->name.v, RS_NAME_MAX, true, err);
	if (st == RS_OK && p->description.set)
		st = check_text("description", p->description.v, RS_TEXT_MAX, false, err);
	if (st == RS_OK && p->rank.set)
		st = p->rank.null ? rs_fail(err, RS_E_INVALID, "request.invalid_field", "rank",
					    "'rank' can't be null")
				  : check_rank_value(p->rank.v, err);
	if (st == RS_OK && p->permissions_set)
		st = perms_from_names(p->permissions, p->npermissions, &x.perms, err);
	if (st != RS_OK)
		return st;
	st = core_write(c, update_tx, &x, err);
	return st;
}

enum rs_status roles_delete(struct core *c, const struct actor *who, const char *tenant,
			    const char *ref, int64_t if_match, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .ref = ref, .if_match = if_match};

	return core_write_scratch(c, update_tx, &x, &x.a, err);
}
