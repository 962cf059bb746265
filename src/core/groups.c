/* Groups: named sets of users (ThreatConnect user groups, SCIM groups). Changing a user's
 * memberships is acting on that user, so the rank rule applies to member add and remove. */
#include "core/core_int.h"

#include <stdlib.h>

enum rs_status group_find(struct store_tx *tx, const char *tenant_id, const char *ref,
			  struct arena *a, struct group *out, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has = false;

	if (!ref || !*ref)
		goto missing;
	if (uuid_valid(ref))
		st = Q_QUERY(tx, Q_GROUP_GET, &r, err, SV_S(tenant_id), SV_S(ref));
	else
		st = Q_QUERY(tx, Q_GROUP_GET_NAME, &r, err, SV_S(tenant_id),
			     SV_S(str_lower(a, ref)));
	if (st != RS_OK)
		return st;
	st = store_rows_next(r, &has, err);
	if (st == RS_OK && has)
		row_group(r, a, out);
	store_rows_close(r);
	if (st != RS_OK || has)
		return st;
missing:
	return rs_fail(err, RS_E_NOT_FOUND, "group.not_found", NULL, "no such group");
}

struct ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *ref, *user_id;
	const struct group_fields *f;
	const struct page *pg;
	int64_t if_match;
	enum { G_GET, G_CREATE, G_UPDATE, G_DELETE, G_ADD, G_REMOVE } op;
	struct arena *a;
	struct group *out;
	struct group_list *list;
	struct member_list *members;
};

static enum rs_status read_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct store_rows *r = NULL;
	struct tenant t;
	struct group g;
	const char *after = NULL;
	int limit = page_limit(x->pg);
	enum rs_status st;
	bool has;

	st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_GROUPS_READ, err);
	if (st != RS_OK)
		return st;
	if (x->out)
		return group_find(tx, t.id, x->ref, x->a, x->out, err);
	if (x->pg && x->pg->cursor) {
		const char *sv;

		st = cursor_decode(x->c, x->a, x->pg->cursor, &sv, &after, err);
		if (st != RS_OK)
			return st;
	}
	if (x->list) {
		x->list->items = arena_alloc(x->a, sizeof(*x->list->items) * (size_t)(limit + 1));
		if (!x->list->items)
			return core_oom(err);
		st = Q_QUERY(tx, Q_GROUP_LIST, &r, err, SV_S(t.id), SV_S(after), SV_I(limit + 1));
		if (st != RS_OK)
			return st;
		while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
			if (x->list->n == limit) {
				x->list->next_cursor =
				    cursor_encode(x->c, x->a, "", x->list->items[limit - 1].id);
				break;
			}
			row_group(r, x->a, &x->list->items[x->list->n++]);
		}
		store_rows_close(r);
		return st;
	}
	st = group_find(tx, t.id, x->ref, x->a, &g, err);
	if (st != RS_OK)
		return st;
	x->members->items = arena_alloc(x->a, sizeof(*x->members->items) * (size_t)(limit + 1));
	if (!x->members->items)
		return core_oom(err);
	st = Q_QUERY(tx, Q_GROUP_MEMBERS, &r, err, SV_S(t.id), SV_S(g.id), SV_S(after),
		     SV_I(limit + 1));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		struct member_list *m = x->members;

		if (m->n == limit) {
			m->next_cursor = cursor_encode(x->c, x->a, "", m->items[limit - 1].id);
			break;
		}
		m->items[m->n].id = col_str(r, 0, x->a);
		m->items[m->n].username = col_str(r, 1, x->a);
		m->n++;
	}
	store_rows_close(r);
	return st;
}

enum rs_status groups_list(struct core *c, const struct actor *who, const char *tenant,
			   const struct page *pg, struct arena *a, struct group_list *out,
			   struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .pg = pg, .a = a, .list = out};

	memset(out, 0, sizeof(*out));
	return core_read(c, read_tx, &x, err);
}

enum rs_status groups_get(struct core *c, const struct actor *who, const char *tenant,
			  const char *ref, struct arena *a, struct group *out, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .ref = ref, .a = a, .out = out};

	return core_read(c, read_tx, &x, err);
}

enum rs_status groups_members(struct core *c, const struct actor *who, const char *tenant,
			      const char *ref, const struct page *pg, struct arena *a,
			      struct member_list *out, struct rs_err *err)
{
	struct ctx x = {
	    .c = c, .who = who, .tenant = tenant, .ref = ref, .pg = pg, .a = a, .members = out};

	memset(out, 0, sizeof(*out));
	return core_read(c, read_tx, &x, err);
}

static enum rs_status member_tx(struct store_tx *tx, struct ctx *x, const struct tenant *t,
				const struct group *g, struct rs_err *err)
{
	struct user u;
	struct changes *ch;
	int64_t changed = 0;
	enum rs_status st;

	st = user_load(tx, t->id, x->user_id, x->a, &u, NULL, err);
	if (st == RS_OK)
		st = rank_may_act_on(x->who, u.rank, err); /* DESIGN rule 2 */
	if (st != RS_OK)
		return st;
	if (x->op == G_ADD)
		st = Q_EXEC(tx, Q_GROUP_MEMBER_ADD, &changed, err, SV_S(t->id), SV_S(g->id),
			    SV_S(u.id), SV_I(core_now(x->c)));
	else
		st = Q_EXEC(tx, Q_GROUP_MEMBER_REMOVE, &changed, err, SV_S(t->id), SV_S(g->id),
			    SV_S(u.id));
	if (st != RS_OK)
		return st;
	if (changed == 0) {
		if (x->op == G_ADD)
			return RS_OK; /* already a member: PUT is idempotent, nothing to audit */
		return rs_fail(err, RS_E_NOT_FOUND, "group.not_member", NULL,
			       "the user is not a member of this group");
	}
	/* The group's rendering (member_count, SCIM members) changed: so do its version and
	 * updated_at, as with groups_apply(). */
	st = Q_EXEC(tx, Q_GROUP_TOUCH, NULL, err, SV_S(t->id), SV_S(g->id), SV_I(core_now(x->c)));
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "user", x->op == G_ADD ? NULL : u.id, x->op == G_ADD ? u.id : NULL);
	st = audit_append(tx, x->c, x->who, t->id,
			  x->op == G_ADD ? "group.member_add" : "group.member_remove", "group",
			  g->id, changes_dump(ch, x->a), err);
	changes_free(ch);
	return st;
}

/* An empty external id is none: SCIM and REST clients send "" to clear it. */
static const char *ext_or_null(const char *v)
{
	return v && *v ? v : NULL;
}

static enum rs_status write_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	struct group g;
	struct changes *ch;
	char id[UUID_STR_LEN];
	const char *name, *desc, *ext, *action;
	enum rs_status st;

	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_GROUPS_MANAGE, err);
	if (st != RS_OK)
		return st;
	if (x->op != G_CREATE) {
		st = group_find(tx, t.id, x->ref, x->a, &g, err);
		if (st != RS_OK)
			return st;
		if (x->if_match && x->if_match != g.version)
			return rs_fail(err, RS_E_PRECONDITION, "request.precondition_failed", NULL,
				       "the group changed since version %lld",
				       (long long)x->if_match);
	}
	if (x->op == G_ADD || x->op == G_REMOVE)
		return member_tx(tx, x, &t, &g, err);
	ch = changes_new();
	if (x->op == G_CREATE) {
		if (!core_new_id(id)) {
			changes_free(ch);
			return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL,
				       "no randomness");
		}
		name = x->f->name.v;
		desc = x->f->description.v;
		ext = ext_or_null(x->f->external_id.v);
		st = Q_EXEC(tx, Q_GROUP_INSERT, NULL, err, SV_S(t.id), SV_S(id), SV_S(name),
			    SV_S(str_lower(x->a, name)), SV_S(desc), SV_I(core_now(x->c)),
			    SV_S(ext));
		changes_str(ch, "name", NULL, name);
		changes_str(ch, "description", NULL, desc);
		changes_str(ch, "external_id", NULL, ext);
		action = "group.create";
	} else if (x->op == G_UPDATE) {
		str_copy(id, sizeof(id), g.id);
		name = x->f->name.set ? x->f->name.v : g.name;
		desc = x->f->description.set ? x->f->description.v : g.description;
		ext = x->f->external_id.set ? ext_or_null(x->f->external_id.v) : g.external_id;
		st = Q_EXEC(tx, Q_GROUP_UPDATE, NULL, err, SV_S(t.id), SV_S(g.id), SV_S(name),
			    SV_S(str_lower(x->a, name)), SV_S(desc), SV_I(core_now(x->c)),
			    SV_S(ext));
		changes_str(ch, "name", g.name, name);
		changes_str(ch, "description", g.description, desc);
		changes_str(ch, "external_id", g.external_id, ext);
		action = "group.update";
	} else {
		str_copy(id, sizeof(id), g.id);
		name = g.name;
		st = Q_EXEC(tx, Q_GROUP_MEMBERS_CLEAR, NULL, err, SV_S(t.id), SV_S(g.id));
		if (st == RS_OK)
			st = Q_EXEC(tx, Q_GROUP_DELETE, NULL, err, SV_S(t.id), SV_S(g.id));
		changes_str(ch, "name", g.name, NULL);
		action = "group.delete";
	}
	if (st == RS_E_CONFLICT)
		st = rs_fail(err, RS_E_CONFLICT, "group.name_taken", "name",
			     "a group named '%s' already exists", name);
	if (st == RS_OK)
		st = audit_append(tx, x->c, x->who, t.id, action, "group", id,
				  changes_dump(ch, x->a), err);
	changes_free(ch);
	if (st != RS_OK || x->op == G_DELETE)
		return st;
	return group_find(tx, t.id, id, x->a, x->out, err);
}

static enum rs_status check_fields(const struct group_fields *f, bool create, struct rs_err *err)
{
	enum rs_status st = RS_OK;

	if (create || f->name.set)
		st = check_text("name", f->name.v, RS_NAME_MAX, true, err);
	if (st == RS_OK && f->description.set)
		st = check_text("description", f->description.v, RS_TEXT_MAX, false, err);
	if (st == RS_OK && f->external_id.set)
		st = check_text("external_id", f->external_id.v, RS_ATTR_MAX, false, err);
	return st;
}

enum rs_status groups_create(struct core *c, const struct actor *who, const char *tenant,
			     const struct group_fields *f, struct arena *a, struct group *out,
			     struct rs_err *err)
{
	struct ctx x = {
	    .c = c, .who = who, .tenant = tenant, .f = f, .op = G_CREATE, .a = a, .out = out};
	enum rs_status st = check_fields(f, true, err);

	return st != RS_OK ? st : core_write(c, write_tx, &x, err);
}

enum rs_status groups_update(struct core *c, const struct actor *who, const char *tenant,
			     const char *ref, const struct group_fields *f, int64_t if_match,
			     struct arena *a, struct group *out, struct rs_err *err)
{
	struct ctx x = {.c = c,
			.who = who,
			.tenant = tenant,
			.ref = ref,
			.f = f,
			.if_match = if_match,
			.op = G_UPDATE,
			.a = a,
			.out = out};
	enum rs_status st = check_fields(f, false, err);

	return st != RS_OK ? st : core_write(c, write_tx, &x, err);
}

static enum rs_status write_simple(struct core *c, struct ctx *x, struct rs_err *err)
{
	return core_write_scratch(c, write_tx, x, &x->a, err);
}

enum rs_status groups_delete(struct core *c, const struct actor *who, const char *tenant,
			     const char *ref, int64_t if_match, struct rs_err *err)
{
	struct ctx x = {
	    .c = c, .who = who, .tenant = tenant, .ref = ref, .if_match = if_match, .op = G_DELETE};

	return write_simple(c, &x, err);
}

enum rs_status groups_member_add(struct core *c, const struct actor *who, const char *tenant,
				 const char *ref, const char *user_id, struct rs_err *err)
{
	struct ctx x = {
	    .c = c, .who = who, .tenant = tenant, .ref = ref, .user_id = user_id, .op = G_ADD};

	return write_simple(c, &x, err);
}

enum rs_status groups_member_remove(struct core *c, const struct actor *who, const char *tenant,
				    const char *ref, const char *user_id, struct rs_err *err)
{
	struct ctx x = {
	    .c = c, .who = who, .tenant = tenant, .ref = ref, .user_id = user_id, .op = G_REMOVE};

	return write_simple(c, &x, err);
}

/* ---- Selections ------------------------------------------------------------------------------ */

static const int group_attr_store[] = {
    [GROUP_A_ID] = GA_ID,
    [GROUP_A_NAME] = GA_NAME_CI,
    [GROUP_A_EXTERNAL_ID] = GA_EXTERNAL_ID,
    [GROUP_A_CREATED_AT] = GA_CREATED_AT,
    [GROUP_A_UPDATED_AT] = GA_UPDATED_AT,
    [GROUP_A_MEMBER] = GA_MEMBER,
};

struct sel_ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant;
	const struct group_query *q;
	struct arena *a;
	struct group_list *out;
};

static const struct {
	const char *name;
	int attr;
} group_sorts[] = {
    {"id", GA_ID},
    {"name", GA_NAME_CI},
    {"external_id", GA_EXTERNAL_ID},
    {"created_at", GA_CREATED_AT},
    {"updated_at", GA_UPDATED_AT},
};

static enum rs_status select_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct sel_ctx *x = arg;
	const struct group_query *q = x->q;
	struct store_select sel = {.coll = SC_GROUPS, .sort_attr = GA_ID};
	struct store_rows *r = NULL;
	struct tenant t;
	const char *sort = q->sort;
	enum rs_status st;
	bool has;

	st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_GROUPS_READ, err);
	if (st != RS_OK)
		return st;
	if (q->limit < 0 || q->limit > RS_LIST_LIMIT_MAX || q->offset < 0)
		return rs_fail(err, RS_E_INVALID, "request.invalid_parameter", "limit",
			       "limit must be within 0..%d and offset positive", RS_LIST_LIMIT_MAX);
	if (sort && *sort) {
		size_t i;

		sel.desc = *sort == '-';
		sort += sel.desc;
		for (i = 0; i < sizeof(group_sorts) / sizeof(group_sorts[0]); i++)
			if (strcmp(sort, group_sorts[i].name) == 0)
				break;
		if (i == sizeof(group_sorts) / sizeof(group_sorts[0]))
			return rs_fail(err, RS_E_INVALID, "request.invalid_parameter", "sort",
				       "groups sort by id, name, external_id, created_at or "
				       "updated_at");
		sel.sort_attr = group_sorts[i].attr;
	}
	if (q->where) {
		st = core_pred_compile(q->where, group_attr_store,
				       sizeof(group_attr_store) / sizeof(group_attr_store[0]), x->a,
				       &sel.where, err);
		if (st != RS_OK)
			return st;
	}
	sel.tenant_id = t.id;
	if (q->with_total) {
		struct store_select cnt = sel;

		cnt.count_only = true;
		cnt.limit = 1;
		has = false;
		st = store_select(tx, &cnt, &r, err);
		if (st != RS_OK)
			return st;
		st = store_rows_next(r, &has, err);
		x->out->total = st == RS_OK && has ? store_col_int(r, 0) : 0;
		store_rows_close(r);
		r = NULL;
		if (st != RS_OK)
			return st;
	}
	if (q->limit == 0)
		return RS_OK;
	sel.limit = q->limit;
	sel.offset = q->offset;
	x->out->items = arena_alloc(x->a, sizeof(*x->out->items) * (size_t)q->limit);
	if (!x->out->items)
		return core_oom(err);
	st = store_select(tx, &sel, &r, err);
	if (st != RS_OK)
		return st;
	while (x->out->n < q->limit && (st = store_rows_next(r, &has, err)) == RS_OK && has)
		row_group(r, x->a, &x->out->items[x->out->n++]);
	store_rows_close(r);
	return st;
}

enum rs_status groups_select(struct core *c, const struct actor *who, const char *tenant,
			     const struct group_query *q, struct arena *a, struct group_list *out,
			     struct rs_err *err)
{
	struct sel_ctx x = {.c = c, .who = who, .tenant = tenant, .q = q, .a = a, .out = out};

	memset(out, 0, sizeof(*out));
	return core_read(c, select_tx, &x, err);
}

/* ---- Several changes as one ------------------------------------------------------------------ */

struct apply_ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant;
	const struct group_change *ch;
	struct arena *a;
	struct group *out;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A sorted copy of v without duplicates, in a; *n becomes its length. NULL: no memory. */
static const char **sorted_set(struct arena *a, const char *const *v, int *n)
{
	const char **s = arena_alloc(a, sizeof(*s) * (size_t)(*n + 1));
	int k = 0;

	if (!s)
		return NULL;
	if (*n)
		memcpy(s, v, sizeof(*s) * (size_t)*n);
	qsort(s, (size_t)*n, sizeof(*s), cmp_str);
	for (int i = 0; i < *n; i++)
		if (k == 0 || strcmp(s[k - 1], s[i]) != 0)
			s[k++] = s[i];
	*n = k;
	return s;
}

static bool in_set(const char *const *set, int n, const char *s)
{
	return n > 0 && bsearch(&s, set, (size_t)n, sizeof(*set), cmp_str) != NULL;
}

/* The group's live members' ids, all of them (read inside the write transaction). */
static enum rs_status members_load(struct store_tx *tx, const char *tenant_id, const char *gid,
				   struct arena *a, const char ***out, int *n, struct rs_err *err)
{
	const char **v = NULL, *after = NULL;
	int cap = 0;
	enum rs_status st;

	*n = 0;
	for (;;) {
		struct store_rows *r = NULL;
		bool has;
		int got = 0;

		st = Q_QUERY(tx, Q_GROUP_MEMBERS, &r, err, SV_S(tenant_id), SV_S(gid), SV_S(after),
			     SV_I(RS_LIST_LIMIT_MAX));
		if (st != RS_OK)
			return st;
		while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
			if (*n == cap) {
				const char **nv;

				cap = cap ? 2 * cap : 64;
				nv = arena_alloc(a, sizeof(*nv) * (size_t)cap);
				if (!nv) {
					store_rows_close(r);
					return core_oom(err);
				}
				if (*n)
					memcpy(nv, v, sizeof(*nv) * (size_t)*n);
				v = nv;
			}
			v[(*n)++] = col_str(r, 0, a);
			got++;
		}
		store_rows_close(r);
		if (st != RS_OK)
			return st;
		if (got < RS_LIST_LIMIT_MAX)
			break;
		after = v[*n - 1];
	}
	*out = v;
	return RS_OK;
}

/* One member added or removed, audited; *changed tells whether the membership changed. A user
 * who is not a live user of the tenant is invalid input for an add, and no change for a
 * remove (it cannot be a member). The rank rule applies to an actual change only, so that a
 * PUT restating a member the actor outranks leaves it alone rather than failing; a
 * refusal after the statement ran is undone with the rest of the transaction. */
static enum rs_status apply_member(struct store_tx *tx, struct apply_ctx *x, const char *tenant_id,
				   const char *gid, const char *user_id, bool add, bool *changed,
				   struct rs_err *err)
{
	struct user u;
	struct changes *ch;
	int64_t n = 0;
	enum rs_status st = RS_E_NOT_FOUND;

	if (user_id && uuid_valid(user_id))
		st = user_load(tx, tenant_id, user_id, x->a, &u, NULL, err);
	if (st == RS_E_NOT_FOUND) {
		if (!add)
			return RS_OK;
		/* DESIGN rule 3: another tenant's user reads exactly like a missing one. */
		return rs_fail(err, RS_E_INVALID, "group.member_unknown", "members",
			       "no user '%s' in this tenant", user_id ? user_id : "");
	}
	if (st != RS_OK)
		return st;
	if (add)
		st = Q_EXEC(tx, Q_GROUP_MEMBER_ADD, &n, err, SV_S(tenant_id), SV_S(gid), SV_S(u.id),
			    SV_I(core_now(x->c)));
	else
		st = Q_EXEC(tx, Q_GROUP_MEMBER_REMOVE, &n, err, SV_S(tenant_id), SV_S(gid),
			    SV_S(u.id));
	if (st != RS_OK || n == 0)
		return st;
	st = rank_may_act_on(x->who, u.rank, err); /* DESIGN rule 2 */
	if (st != RS_OK)
		return st;
	*changed = true;
	ch = changes_new();
	changes_str(ch, "user", add ? NULL : u.id, add ? u.id : NULL);
	st = audit_append(tx, x->c, x->who, tenant_id,
			  add ? "group.member_add" : "group.member_remove", "group", gid,
			  changes_dump(ch, x->a), err);
	changes_free(ch);
	return st;
}

static enum rs_status apply_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct apply_ctx *x = arg;
	const struct group_change *gc = x->ch;
	const struct group_fields *f = &gc->f;
	struct tenant t;
	struct group g;
	struct changes *ch;
	char id[UUID_STR_LEN];
	const char *const *add, *const *remove;
	int nadd = gc->nadd, nremove = gc->nremove;
	bool members_changed = false;
	enum rs_status st;

	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_GROUPS_MANAGE, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	if (gc->create) {
		if (!core_new_id(id)) {
			changes_free(ch);
			return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL,
				       "no randomness");
		}
		st = Q_EXEC(tx, Q_GROUP_INSERT, NULL, err, SV_S(t.id), SV_S(id), SV_S(f->name.v),
			    SV_S(str_lower(x->a, f->name.v)), SV_S(f->description.v),
			    SV_I(core_now(x->c)), SV_S(ext_or_null(f->external_id.v)));
		changes_str(ch, "name", NULL, f->name.v);
		changes_str(ch, "description", NULL, f->description.v);
		changes_str(ch, "external_id", NULL, ext_or_null(f->external_id.v));
		if (st == RS_OK)
			st = audit_append(tx, x->c, x->who, t.id, "group.create", "group", id,
					  changes_dump(ch, x->a), err);
	} else {
		st = group_find(tx, t.id, gc->ref, x->a, &g, err);
		if (st == RS_OK && gc->if_match && gc->if_match != g.version)
			st = rs_fail(err, RS_E_PRECONDITION, "request.precondition_failed", NULL,
				     "the group changed since version %lld",
				     (long long)gc->if_match);
		if (st == RS_OK) {
			const char *name = f->name.set ? f->name.v : g.name;
			const char *desc = f->description.set ? f->description.v : g.description;
			const char *ext =
			    f->external_id.set ? ext_or_null(f->external_id.v) : g.external_id;

			str_copy(id, sizeof(id), g.id);
			changes_str(ch, "name", g.name, name);
			changes_str(ch, "description", g.description, desc);
			changes_str(ch, "external_id", g.external_id, ext);
			if (!changes_empty(ch))
				st = Q_EXEC(tx, Q_GROUP_UPDATE, NULL, err, SV_S(t.id), SV_S(g.id),
					    SV_S(name), SV_S(str_lower(x->a, name)), SV_S(desc),
					    SV_I(core_now(x->c)), SV_S(ext));
			if (st == RS_OK && !changes_empty(ch))
				st = audit_append(tx, x->c, x->who, t.id, "group.update", "group",
						  id, changes_dump(ch, x->a), err);
		}
	}
	if (st == RS_E_CONFLICT)
		st = rs_fail(err, RS_E_CONFLICT, "group.name_taken", "name",
			     "a group named '%s' already exists", f->name.v ? f->name.v : "");
	changes_free(ch);
	if (st != RS_OK)
		return st;
	if (gc->replace_members) {
		const char **cur = NULL, **rm;
		int ncur = 0, nrm = 0;

		st = gc->create ? RS_OK : members_load(tx, t.id, id, x->a, &cur, &ncur, err);
		if (st != RS_OK)
			return st;
		nadd = gc->nmembers;
		add = sorted_set(x->a, gc->members, &nadd);
		rm = arena_alloc(x->a, sizeof(*rm) * (size_t)(ncur + 1));
		if (!add || !rm)
			return core_oom(err);
		for (int i = 0; i < ncur; i++)
			if (!in_set(add, nadd, cur[i]))
				rm[nrm++] = cur[i];
		remove = rm;
		nremove = nrm;
	} else {
		add = sorted_set(x->a, gc->add, &nadd);
		remove = sorted_set(x->a, gc->remove, &nremove);
		if (!add || !remove)
			return core_oom(err);
	}
	/* One savepoint holds all of it: the first refused member undoes everything before. */
	for (int i = 0; st == RS_OK && i < nadd; i++)
		st = apply_member(tx, x, t.id, id, add[i], true, &members_changed, err);
	for (int i = 0; st == RS_OK && i < nremove; i++)
		if (!in_set(add, nadd, remove[i]))
			st = apply_member(tx, x, t.id, id, remove[i], false, &members_changed, err);
	if (st == RS_OK && members_changed && !gc->create)
		st = Q_EXEC(tx, Q_GROUP_TOUCH, NULL, err, SV_S(t.id), SV_S(id),
			    SV_I(core_now(x->c)));
	if (st != RS_OK)
		return st;
	return group_find(tx, t.id, id, x->a, x->out, err);
}

enum rs_status groups_apply(struct core *c, const struct actor *who, const char *tenant,
			    const struct group_change *ch, struct arena *a, struct group *out,
			    struct rs_err *err)
{
	struct apply_ctx x = {.c = c, .who = who, .tenant = tenant, .ch = ch, .a = a, .out = out};
	enum rs_status st = check_fields(&ch->f, ch->create, err);

	if (st != RS_OK)
		return st;
	if (ch->nadd < 0 || ch->nremove < 0 || ch->nmembers < 0 ||
	    (long)ch->nadd + ch->nremove + ch->nmembers > RS_GROUP_CHANGE_MAX)
		return rs_fail(err, RS_E_TOO_LARGE, "group.too_many_members", "members",
			       "at most %d member changes at once", RS_GROUP_CHANGE_MAX);
	for (int i = 0; i < ch->nadd; i++)
		if (!ch->add[i])
			return rs_fail(err, RS_E_INVALID, "group.member_unknown", "members",
				       "a member needs a user id");
	for (int i = 0; i < ch->nmembers; i++)
		if (!ch->members[i])
			return rs_fail(err, RS_E_INVALID, "group.member_unknown", "members",
				       "a member needs a user id");
	return core_write(c, apply_tx, &x, err);
}
