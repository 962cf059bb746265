/* Departments: a tree per tenant and its managers, and the scoped permissions that roles
 * scoped to a subtree give (the checks every operation on a user makes). The tree rules (no
 * cycle, depth, sibling names) are decided inside the write transaction after the tenant's
 * write lock, so two concurrent moves can't build a cycle between them. Managers are data for
 * the host platform: nothing here lets them act. */
#include "core/core_int.h"

#include <jansson.h>
#include <stdlib.h>

/* The ancestor walk returns at most this many rows (Q_DEPT_ANCESTORS stops at depth 64). */
#define ANCESTORS_MAX 66

/* ---- scoped permissions ------------------------------------------------------------------ */

bool actor_holds_any(const struct actor *who, enum perm p)
{
	if (who->perms & PERM_BIT(p))
		return true;
	for (int i = 0; i < who->nscopes && i < ACTOR_SCOPES_MAX; i++) {
		if (who->scopes[i].perms & PERM_BIT(p))
			return true;
	}
	return false;
}

enum rs_status require_perm_any(const struct actor *who, enum perm p, struct rs_err *err)
{
	if (actor_holds_any(who, p))
		return RS_OK;
	return require_perm(who, p, err); /* its refusal, word for word */
}

enum rs_status dept_reach(struct store_tx *tx, const struct actor *who, const char *tenant_id,
			  const char *dept_id, enum perm p, bool *ok, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has, scoped = false;

	*ok = (who->perms & PERM_BIT(p)) != 0;
	for (int i = 0; !*ok && i < who->nscopes && i < ACTOR_SCOPES_MAX; i++)
		scoped = scoped || (who->scopes[i].perms & PERM_BIT(p));
	if (*ok || !scoped || !dept_id)
		return RS_OK;
	st = Q_QUERY(tx, Q_DEPT_ANCESTORS, &r, err, SV_S(tenant_id), SV_S(dept_id));
	if (st != RS_OK)
		return st;
	while (!*ok && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		const char *id = store_col_text(r, 0);

		for (int i = 0; id && i < who->nscopes && i < ACTOR_SCOPES_MAX; i++) {
			if ((who->scopes[i].perms & PERM_BIT(p)) &&
			    strcmp(who->scopes[i].department_id, id) == 0)
				*ok = true;
		}
	}
	store_rows_close(r);
	return st;
}

enum rs_status require_user_perm(struct store_tx *tx, const struct actor *who, const struct user *u,
				 enum perm p, struct rs_err *err)
{
	bool ok = false;
	enum rs_status st = dept_reach(tx, who, u->tenant_id, u->department_id, p, &ok, err);

	if (st != RS_OK || ok)
		return st;
	if (p != PERM_USERS_READ) {
		st = dept_reach(tx, who, u->tenant_id, u->department_id, PERM_USERS_READ, &ok, err);
		if (st != RS_OK)
			return st;
		if (ok)
			return rs_fail(err, RS_E_FORBIDDEN, "auth.permission_denied", NULL,
				       "this action needs the permission '%s' over the user's "
				       "department",
				       perm_name(p));
	}
	/* Outside every subtree the actor may read: exactly what a missing user answers. */
	return rs_fail(err, RS_E_NOT_FOUND, "user.not_found", NULL, "no such user");
}

/* ---- loading --------------------------------------------------------------------------------- */

static void row_dept(struct store_rows *r, struct arena *a, struct department *d)
{
	memset(d, 0, sizeof(*d));
	d->tenant_id = col_str(r, DPC_TENANT, a);
	d->id = col_str(r, DPC_ID, a);
	d->name = col_str(r, DPC_NAME, a);
	d->parent_id = col_str(r, DPC_PARENT, a);
	d->description = col_str(r, DPC_DESC, a);
	d->created_at = store_col_int(r, DPC_CREATED);
	d->updated_at = store_col_int(r, DPC_UPDATED);
	d->version = store_col_int(r, DPC_VERSION);
	d->user_count = store_col_int(r, DPC_USERS);
	d->child_count = store_col_int(r, DPC_CHILDREN);
}

static enum rs_status dept_find(struct store_tx *tx, const char *tenant_id, const char *id,
				struct arena *a, struct department *out, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has = false;

	if (!id || !uuid_valid(id))
		goto missing;
	st = Q_QUERY(tx, Q_DEPT_GET, &r, err, SV_S(tenant_id), SV_S(id));
	if (st != RS_OK)
		return st;
	st = store_rows_next(r, &has, err);
	if (st == RS_OK && has)
		row_dept(r, a, out);
	store_rows_close(r);
	if (st != RS_OK || has)
		return st;
missing:
	return rs_fail(err, RS_E_NOT_FOUND, "department.not_found", NULL, "no such department");
}

/* ids[0] is id itself, then its parent, up to the root; names alike. */
static enum rs_status dept_ancestors(struct store_tx *tx, const char *tenant_id, const char *id,
				     struct arena *a, const char **ids, const char **names, int *n,
				     struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st = Q_QUERY(tx, Q_DEPT_ANCESTORS, &r, err, SV_S(tenant_id), SV_S(id));
	bool has;

	*n = 0;
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has && *n < ANCESTORS_MAX) {
		ids[*n] = col_str(r, 0, a);
		if (names)
			names[*n] = col_str(r, 1, a);
		(*n)++;
	}
	store_rows_close(r);
	return st;
}

static bool contains(const char *const *ids, int n, const char *id)
{
	for (int i = 0; i < n; i++) {
		if (ids[i] && strcmp(ids[i], id) == 0)
			return true;
	}
	return false;
}

/* Levels below id (0: a leaf). */
static enum rs_status dept_height(struct store_tx *tx, const char *tenant_id, const char *id,
				  int64_t *height, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st = Q_QUERY(tx, Q_DEPT_HEIGHT, &r, err, SV_S(tenant_id), SV_S(id));
	bool has = false;

	*height = 0;
	if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has)
		*height = store_col_int(r, 0);
	store_rows_close(r);
	return st;
}

static enum rs_status count_of(struct store_tx *tx, enum store_q q, const char *tenant_id,
			       const char *id, int64_t *n, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st = id ? Q_QUERY(tx, q, &r, err, SV_S(tenant_id), SV_S(id))
			       : Q_QUERY(tx, q, &r, err, SV_S(tenant_id));
	bool has = false;

	*n = 0;
	if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has)
		*n = store_col_int(r, 0);
	store_rows_close(r);
	return st;
}

/* Fills the path from the root and the managers of a loaded department. */
static enum rs_status dept_complete(struct store_tx *tx, struct arena *a, struct department *d,
				    struct rs_err *err)
{
	const char *ids[ANCESTORS_MAX], *names[ANCESTORS_MAX];
	struct store_rows *r = NULL;
	enum rs_status st;
	size_t cap = 4;
	int n;
	bool has;

	st = dept_ancestors(tx, d->tenant_id, d->id, a, ids, names, &n, err);
	if (st != RS_OK)
		return st;
	d->path = arena_alloc(a, (size_t)(n + 1) * sizeof(*d->path));
	d->managers = arena_alloc(a, cap * sizeof(*d->managers));
	if (!d->path || !d->managers)
		return core_oom(err);
	for (int i = 0; i < n; i++)
		d->path[i] = names[n - 1 - i];
	d->npath = n;
	st = Q_QUERY(tx, Q_DEPT_MANAGERS, &r, err, SV_S(d->tenant_id), SV_S(d->id));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if ((size_t)d->nmanagers == cap) {
			struct group_member *m = arena_alloc(a, 2 * cap * sizeof(*m));

			if (!m) {
				st = core_oom(err);
				break;
			}
			memcpy(m, d->managers, cap * sizeof(*m));
			d->managers = m;
			cap *= 2;
		}
		d->managers[d->nmanagers].id = col_str(r, 0, a);
		d->managers[d->nmanagers].username = col_str(r, 1, a);
		d->nmanagers++;
	}
	store_rows_close(r);
	return st;
}

enum rs_status department_check(struct store_tx *tx, const char *tenant_id, const char *id,
				const char *field, struct arena *a, const char **name,
				struct rs_err *err)
{
	struct department d;
	enum rs_status st;

	*name = NULL;
	if (!id)
		return RS_OK;
	st = dept_find(tx, tenant_id, id, a, &d, err);
	if (st == RS_E_NOT_FOUND)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", field,
			       "unknown department '%s'", id);
	if (st == RS_OK)
		*name = d.name;
	return st;
}

/* ---- announcing ------------------------------------------------------------------------------ */

/* The webhook event of a department write; extra (a JSON object, new reference, may be NULL)
 * is merged into the data. Queued in the write's transaction (DESIGN rule 4). */
static enum rs_status announce(struct store_tx *tx, struct core *c, const char *tenant_id,
			       const char *event, const struct department *d, const char *changes,
			       json_t *extra, struct arena *a, struct rs_err *err)
{
	json_t *data = json_pack("{s:{s:s?,s:s?,s:s?},s:o}", "department", "id", d->id, "name",
				 d->name, "parent_id", d->parent_id, "changes",
				 json_loads(changes ? changes : "{}", 0, NULL));
	char *s, *text = NULL;

	if (data && extra)
		json_object_update(data, extra);
	json_decref(extra);
	if (data && (s = json_dumps(data, JSON_COMPACT))) {
		text = arena_strdup(a, s);
		free(s);
	}
	json_decref(data);
	if (!text)
		return core_oom(err);
	return outbox_event(tx, c, tenant_id, event, text, err);
}

/* ---- reads ---------------------------------------------------------------------------------- */

struct ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *id, *user_id, *move_to;
	const struct department_fields *f;
	const struct department_list_query *q;
	int64_t if_match;
	bool add;
	struct arena *a;
	struct department *out;
	struct department_list *list;
};

static enum rs_status may_read(const struct actor *who, struct rs_err *err)
{
	/* The tree is the tenant's structure: whoever reads users anywhere may see it. */
	if (actor_holds_any(who, PERM_DEPARTMENTS_MANAGE))
		return RS_OK;
	return require_perm_any(who, PERM_USERS_READ, err);
}

static enum rs_status read_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	const struct department_list_query *q = x->q;
	struct store_rows *r = NULL;
	struct tenant t;
	const char *after = NULL;
	enum rs_status st;
	int limit;
	bool has;

	st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = may_read(x->who, err);
	if (st != RS_OK)
		return st;
	if (x->out) {
		st = dept_find(tx, t.id, x->id, x->a, x->out, err);
		return st == RS_OK ? dept_complete(tx, x->a, x->out, err) : st;
	}
	limit = page_limit(&q->page);
	if (q->page.cursor) {
		const char *sv;

		st = cursor_decode(x->c, x->a, q->page.cursor, &sv, &after, err);
		if (st != RS_OK)
			return st;
	}
	if (q->parent_id && !uuid_valid(q->parent_id))
		return RS_OK; /* no such parent: no children */
	x->list->items = arena_alloc(x->a, sizeof(*x->list->items) * (size_t)(limit + 1));
	if (!x->list->items)
		return core_oom(err);
	st = Q_QUERY(tx, Q_DEPT_LIST, &r, err, SV_S(t.id), SV_S(q->parent_id), SV_I(q->roots),
		     SV_S(after), SV_I(limit + 1));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if (x->list->n == limit) {
			x->list->next_cursor =
			    cursor_encode(x->c, x->a, "", x->list->items[limit - 1].id);
			break;
		}
		row_dept(r, x->a, &x->list->items[x->list->n++]);
	}
	store_rows_close(r);
	for (int i = 0; st == RS_OK && i < x->list->n; i++)
		st = dept_complete(tx, x->a, &x->list->items[i], err);
	return st;
}

struct name_ctx {
	const struct actor *who;
	const char *tenant, *name;
	struct arena *a;
	const char *id;
	int found;
};

static enum rs_status by_name_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct name_ctx *x = arg;
	struct store_rows *r = NULL;
	struct tenant t;
	enum rs_status st;
	bool has;

	st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = may_read(x->who, err);
	if (st == RS_OK)
		st = Q_QUERY(tx, Q_DEPT_BY_NAME, &r, err, SV_S(t.id),
			     SV_S(str_lower(x->a, x->name)));
	while (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		x->id = col_str(r, 0, x->a);
		x->found++;
	}
	store_rows_close(r);
	return st;
}

enum rs_status departments_find_name(struct core *c, const struct actor *who, const char *tenant,
				     const char *name, struct arena *a, const char **id,
				     struct rs_err *err)
{
	struct name_ctx x = {.who = who, .tenant = tenant, .name = name, .a = a};
	enum rs_status st = check_text("department", name, RS_NAME_MAX, true, err);

	*id = NULL;
	if (st == RS_OK)
		st = core_read(c, by_name_tx, &x, err);
	if (st != RS_OK)
		return st;
	if (x.found == 1) {
		*id = x.id;
		return RS_OK;
	}
	return rs_fail(err, RS_E_INVALID,
		       x.found ? "department.name_ambiguous" : "department.name_unknown",
		       "department",
		       x.found ? "several departments are named '%s': move the user in roster"
			       : "no department is named '%s' in the tenant's department tree",
		       name);
}

enum rs_status departments_get(struct core *c, const struct actor *who, const char *tenant,
			       const char *id, struct arena *a, struct department *out,
			       struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .id = id, .a = a, .out = out};

	return core_read(c, read_tx, &x, err);
}

enum rs_status departments_list(struct core *c, const struct actor *who, const char *tenant,
				const struct department_list_query *q, struct arena *a,
				struct department_list *out, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .q = q, .a = a, .list = out};

	memset(out, 0, sizeof(*out));
	return core_read(c, read_tx, &x, err);
}

/* ---- writes --------------------------------------------------------------------------------- */

static enum rs_status check_fields(const struct department_fields *f, bool create,
				   struct rs_err *err)
{
	enum rs_status st = RS_OK;

	if (create || f->name.set)
		st = check_text("name", f->name.v, RS_NAME_MAX, true, err);
	if (st == RS_OK && f->description.set)
		st = check_text("description", f->description.v, RS_TEXT_MAX, false, err);
	if (st == RS_OK && f->parent_id.set && f->parent_id.v && !uuid_valid(f->parent_id.v))
		st = rs_fail(err, RS_E_INVALID, "request.invalid_field", "parent_id",
			     "unknown department '%s'", f->parent_id.v);
	return st;
}

static enum rs_status name_taken(const char *name, struct rs_err *err)
{
	return rs_fail(err, RS_E_CONFLICT, "department.name_taken", "name",
		       "a department named '%s' already exists under this parent", name);
}

static enum rs_status too_deep(struct rs_err *err)
{
	return rs_fail(err, RS_E_CONFLICT, "department.too_deep", "parent_id",
		       "a department tree is at most %d levels deep", RS_DEPT_DEPTH_MAX);
}

/* The parent a create or move names, and the level it sits at (the root is level 1). */
static enum rs_status load_parent(struct store_tx *tx, const char *tenant_id, const char *id,
				  struct arena *a, const char **ids, int *level, struct rs_err *err)
{
	struct department p;
	enum rs_status st = dept_find(tx, tenant_id, id, a, &p, err);

	if (st == RS_E_NOT_FOUND)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "parent_id",
			       "unknown department '%s'", id);
	if (st != RS_OK)
		return st;
	return dept_ancestors(tx, tenant_id, id, a, ids, NULL, level, err);
}

static enum rs_status create_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	const struct department_fields *f = x->f;
	const char *ids[ANCESTORS_MAX], *parent = f->parent_id.set ? f->parent_id.v : NULL;
	struct changes *ch;
	struct tenant t;
	char id[UUID_STR_LEN], *doc;
	int64_t count;
	int level = 0;
	enum rs_status st;

	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_DEPARTMENTS_MANAGE, err);
	if (st == RS_OK)
		st = count_of(tx, Q_DEPT_COUNT, t.id, NULL, &count, err);
	if (st != RS_OK)
		return st;
	if (count >= RS_DEPTS_PER_TENANT_MAX)
		return rs_fail(err, RS_E_CONFLICT, "department.limit_reached", NULL,
			       "a tenant has at most %d departments", RS_DEPTS_PER_TENANT_MAX);
	if (parent) {
		st = load_parent(tx, t.id, parent, x->a, ids, &level, err);
		if (st != RS_OK)
			return st;
		if (level + 1 > RS_DEPT_DEPTH_MAX)
			return too_deep(err);
	}
	if (!core_new_id(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	st = Q_EXEC(tx, Q_DEPT_INSERT, NULL, err, SV_S(t.id), SV_S(id), SV_S(f->name.v),
		    SV_S(str_lower(x->a, f->name.v)), SV_S(parent), SV_S(f->description.v),
		    SV_I(core_now(x->c)));
	if (st == RS_E_CONFLICT)
		return name_taken(f->name.v, err);
	if (st == RS_OK)
		st = dept_find(tx, t.id, id, x->a, x->out, err);
	if (st == RS_OK)
		st = dept_complete(tx, x->a, x->out, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "name", NULL, f->name.v);
	changes_str(ch, "parent_id", NULL, parent);
	changes_str(ch, "description", NULL, f->description.v);
	doc = changes_dump(ch, x->a);
	changes_free(ch);
	st = audit_append(tx, x->c, x->who, t.id, "department.create", "department", id, doc, err);
	if (st == RS_OK)
		st = announce(tx, x->c, t.id, "department.created", x->out, doc, NULL, x->a, err);
	return st;
}

enum rs_status departments_create(struct core *c, const struct actor *who, const char *tenant,
				  const struct department_fields *f, struct arena *a,
				  struct department *out, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .f = f, .a = a, .out = out};
	enum rs_status st = check_fields(f, true, err);

	if (st != RS_OK)
		return st;
	return core_write(c, create_tx, &x, err);
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static enum rs_status update_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	const struct department_fields *f = x->f;
	const char *ids[ANCESTORS_MAX];
	const char *name, *desc, *parent;
	struct department cur;
	struct changes *ch;
	struct tenant t;
	int64_t changed = 0, height;
	int level = 0;
	bool moved;
	char *doc;
	enum rs_status st;

	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_DEPARTMENTS_MANAGE, err);
	if (st == RS_OK)
		st = dept_find(tx, t.id, x->id, x->a, &cur, err);
	if (st != RS_OK)
		return st;
	if (x->if_match && x->if_match != cur.version)
		return rs_fail(err, RS_E_PRECONDITION, "request.precondition_failed", NULL,
			       "the department changed since version %lld", (long long)x->if_match);
	name = f->name.set ? f->name.v : cur.name;
	desc = f->description.set ? f->description.v : cur.description;
	parent = f->parent_id.set ? f->parent_id.v : cur.parent_id;
	moved = !same(parent, cur.parent_id);
	if (moved && parent) {
		st = load_parent(tx, t.id, parent, x->a, ids, &level, err);
		if (st != RS_OK)
			return st;
		/* The new parent's ancestry holding this department means a loop. */
		if (contains(ids, level, cur.id))
			return rs_fail(err, RS_E_CONFLICT, "department.cycle", "parent_id",
				       "a department can't move under itself or its descendants");
		st = dept_height(tx, t.id, cur.id, &height, err);
		if (st != RS_OK)
			return st;
		if (level + 1 + height > RS_DEPT_DEPTH_MAX)
			return too_deep(err);
	}
	st = Q_EXEC(tx, Q_DEPT_UPDATE, &changed, err, SV_S(t.id), SV_S(cur.id), SV_S(name),
		    SV_S(str_lower(x->a, name)), SV_S(parent), SV_S(desc), SV_I(core_now(x->c)),
		    SV_I(cur.version));
	if (st == RS_E_CONFLICT)
		return name_taken(name, err);
	if (st == RS_OK && changed == 0)
		st = rs_fail(err, RS_E_PRECONDITION, "request.precondition_failed", NULL,
			     "the department changed concurrently");
	if (st == RS_OK)
		st = dept_find(tx, t.id, cur.id, x->a, x->out, err);
	if (st == RS_OK)
		st = dept_complete(tx, x->a, x->out, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "name", cur.name, name);
	changes_str(ch, "parent_id", cur.parent_id, parent);
	changes_str(ch, "description", cur.description, desc);
	if (changes_empty(ch)) {
		changes_free(ch);
		return RS_OK; /* nothing changed: no audit noise (the version still moved) */
	}
	doc = changes_dump(ch, x->a);
	changes_free(ch);
	st = audit_append(tx, x->c, x->who, t.id, moved ? "department.move" : "department.update",
			  "department", cur.id, doc, err);
	if (st == RS_OK)
		st = announce(tx, x->c, t.id, moved ? "department.moved" : "department.updated",
			      x->out, doc, NULL, x->a, err);
	return st;
}

enum rs_status departments_update(struct core *c, const struct actor *who, const char *tenant,
				  const char *id, const struct department_fields *f,
				  int64_t if_match, struct arena *a, struct department *out,
				  struct rs_err *err)
{
	struct ctx x = {.c = c,
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
	return core_write(c, update_tx, &x, err);
}

static enum rs_status delete_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	const char *ids[ANCESTORS_MAX];
	struct department cur, target = {0};
	struct changes *ch;
	struct tenant t;
	int64_t roles = 0, height, now = core_now(x->c);
	int level = 0;
	char *doc;
	enum rs_status st;

	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_DEPARTMENTS_MANAGE, err);
	if (st == RS_OK)
		st = dept_find(tx, t.id, x->id, x->a, &cur, err);
	if (st != RS_OK)
		return st;
	if (x->if_match && x->if_match != cur.version)
		return rs_fail(err, RS_E_PRECONDITION, "request.precondition_failed", NULL,
			       "the department changed since version %lld", (long long)x->if_match);
	/* A scoped role would silently change meaning if its subtree went or moved. */
	st = count_of(tx, Q_DEPT_ROLE_USES, t.id, cur.id, &roles, err);
	if (st != RS_OK)
		return st;
	if (roles > 0)
		return rs_fail(err, RS_E_CONFLICT, "department.in_use", NULL,
			       "%lld roles are scoped to this department: re-scope or delete "
			       "them first",
			       (long long)roles);
	if (x->move_to) {
		st = dept_find(tx, t.id, x->move_to, x->a, &target, err);
		if (st == RS_E_NOT_FOUND)
			return rs_fail(err, RS_E_INVALID, "request.invalid_parameter", "move_to",
				       "unknown department '%s'", x->move_to);
		if (st == RS_OK)
			st = dept_ancestors(tx, t.id, target.id, x->a, ids, NULL, &level, err);
		if (st != RS_OK)
			return st;
		if (contains(ids, level, cur.id))
			return rs_fail(err, RS_E_CONFLICT, "department.move_into_subtree",
				       "move_to",
				       "the target lies inside the department being deleted");
		/* Its children land one level below the target, their subtrees with them. */
		st = dept_height(tx, t.id, cur.id, &height, err);
		if (st != RS_OK)
			return st;
		if (level + height > RS_DEPT_DEPTH_MAX)
			return too_deep(err);
		st = Q_EXEC(tx, Q_DEPT_MOVE_CHILDREN, NULL, err, SV_S(t.id), SV_S(cur.id),
			    SV_S(target.id), SV_I(now));
		if (st == RS_E_CONFLICT)
			return rs_fail(err, RS_E_CONFLICT, "department.name_taken", "move_to",
				       "a child's name is already taken under the target");
	} else if (cur.user_count > 0 || cur.child_count > 0) {
		return rs_fail(err, RS_E_CONFLICT, "department.not_empty", NULL,
			       "the department has %lld users and %lld child departments: name "
			       "a move_to department for them",
			       (long long)cur.user_count, (long long)cur.child_count);
	}
	/* Tombstones follow too (or lose a department that no longer exists). */
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_DEPT_MOVE_USERS, NULL, err, SV_S(t.id), SV_S(cur.id),
			    SV_S(x->move_to ? target.id : NULL), SV_I(now));
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_DEPT_MANAGERS_CLEAR, NULL, err, SV_S(t.id), SV_S(cur.id));
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_DEPT_DELETE, NULL, err, SV_S(t.id), SV_S(cur.id));
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "name", cur.name, NULL);
	changes_str(ch, "parent_id", cur.parent_id, NULL);
	changes_str(ch, "move_to", NULL, x->move_to ? target.id : NULL);
	changes_int(ch, "users_moved", false, 0, x->move_to != NULL, cur.user_count);
	changes_int(ch, "children_moved", false, 0, x->move_to != NULL, cur.child_count);
	doc = changes_dump(ch, x->a);
	changes_free(ch);
	st = audit_append(tx, x->c, x->who, t.id, "department.delete", "department", cur.id, doc,
			  err);
	if (st == RS_OK)
		st = announce(tx, x->c, t.id, "department.deleted", &cur, doc,
			      json_pack("{s:s?}", "move_to", x->move_to ? target.id : NULL), x->a,
			      err);
	return st;
}

enum rs_status departments_delete(struct core *c, const struct actor *who, const char *tenant,
				  const char *id, int64_t if_match, const char *move_to,
				  struct rs_err *err)
{
	struct ctx x = {.c = c,
			.who = who,
			.tenant = tenant,
			.id = id,
			.if_match = if_match,
			.move_to = move_to};

	return core_write_scratch(c, delete_tx, &x, &x.a, err);
}

static enum rs_status manager_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct department d;
	struct changes *ch;
	struct tenant t;
	struct user u;
	int64_t changed = 0;
	char *doc;
	enum rs_status st;

	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_DEPARTMENTS_MANAGE, err);
	if (st == RS_OK)
		st = dept_find(tx, t.id, x->id, x->a, &d, err);
	if (st == RS_OK)
		st = user_load(tx, t.id, x->user_id, x->a, &u, NULL, err);
	if (st != RS_OK)
		return st;
	if (x->add && strcmp(u.status, "deleting") == 0)
		return rs_fail(err, RS_E_CONFLICT, "user.deletion_pending", "user_id",
			       "the user is being deleted");
	if (x->add)
		st = Q_EXEC(tx, Q_DEPT_MANAGER_ADD, &changed, err, SV_S(t.id), SV_S(d.id),
			    SV_S(u.id), SV_I(core_now(x->c)));
	else
		st = Q_EXEC(tx, Q_DEPT_MANAGER_REMOVE, &changed, err, SV_S(t.id), SV_S(d.id),
			    SV_S(u.id));
	if (st != RS_OK)
		return st;
	if (changed == 0) {
		if (x->add)
			return RS_OK; /* already a manager: PUT is idempotent, nothing to audit */
		return rs_fail(err, RS_E_NOT_FOUND, "department.not_manager", NULL,
			       "the user is not a manager of this department");
	}
	ch = changes_new();
	changes_str(ch, "manager", x->add ? NULL : u.id, x->add ? u.id : NULL);
	doc = changes_dump(ch, x->a);
	changes_free(ch);
	st = audit_append(tx, x->c, x->who, t.id,
			  x->add ? "department.manager_add" : "department.manager_remove",
			  "department", d.id, doc, err);
	if (st == RS_OK)
		st = announce(
		    tx, x->c, t.id,
		    x->add ? "department.manager_added" : "department.manager_removed", &d, doc,
		    json_pack("{s:{s:s,s:s}}", "user", "id", u.id, "username", u.username), x->a,
		    err);
	return st;
}

static enum rs_status manager_op(struct core *c, const struct actor *who, const char *tenant,
				 const char *id, const char *user_id, bool add, struct rs_err *err)
{
	struct ctx x = {
	    .c = c, .who = who, .tenant = tenant, .id = id, .user_id = user_id, .add = add};

	return core_write_scratch(c, manager_tx, &x, &x.a, err);
}

enum rs_status departments_manager_add(struct core *c, const struct actor *who, const char *tenant,
				       const char *id, const char *user_id, struct rs_err *err)
{
	return manager_op(c, who, tenant, id, user_id, true, err);
}

enum rs_status departments_manager_remove(struct core *c, const struct actor *who,
					  const char *tenant, const char *id, const char *user_id,
					  struct rs_err *err)
{
	return manager_op(c, who, tenant, id, user_id, false, err);
}
