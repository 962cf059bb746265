/* Groups: named sets of users (ThreatConnect user groups, SCIM groups). Changing a user's
 * memberships is acting on that user, so the rank rule applies to member add and remove. */
#include "core/core_int.h"

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
	ch = changes_new();
	changes_str(ch, "user", x->op == G_ADD ? NULL : u.id, x->op == G_ADD ? u.id : NULL);
	st = audit_append(tx, x->c, x->who, t->id,
			  x->op == G_ADD ? "group.member_add" : "group.member_remove", "group",
			  g->id, changes_dump(ch, x->a), err);
	changes_free(ch);
	return st;
}

static enum rs_status write_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	struct group g;
	struct changes *ch;
	char id[UUID_STR_LEN];
	const char *name, *desc, *action;
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
		st = Q_EXEC(tx, Q_GROUP_INSERT, NULL, err, SV_S(t.id), SV_S(id), SV_S(name),
			    SV_S(str_lower(x->a, name)), SV_S(desc), SV_I(core_now(x->c)));
		changes_str(ch, "name", NULL, name);
		changes_str(ch, "description", NULL, desc);
		action = "group.create";
	} else if (x->op == G_UPDATE) {
		str_copy(id, sizeof(id), g.id);
		name = x->f->name.set ? x->f->name.v : g.name;
		desc = x->f->description.set ? x->f->description.v : g.description;
		st = Q_EXEC(tx, Q_GROUP_UPDATE, NULL, err, SV_S(t.id), SV_S(g.id), SV_S(name),
			    SV_S(str_lower(x->a, name)), SV_S(desc), SV_I(core_now(x->c)));
		changes_str(ch, "name", g.name, name);
		changes_str(ch, "description", g.description, desc);
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
