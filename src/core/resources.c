/* Owned resources: what a user owns on the host platform (playbooks, job apps, dashboards,
 * investigations, data collections), recorded by the host platform through the API so that
 * deactivating or deleting the user hands them to another user — never silently orphaned
 * (issue 4, seed 001: job apps go to an API user). */
#include "core/core_int.h"

#include <jansson.h>
#include <stdlib.h>

static void row_resource(struct store_rows *r, struct arena *a, struct owned_resource *o)
{
	o->tenant_id = col_str(r, OC_TENANT, a);
	o->id = col_str(r, OC_ID, a);
	o->owner_id = col_str(r, OC_OWNER, a);
	o->kind = col_str(r, OC_KIND, a);
	o->external_id = col_str(r, OC_EXTID, a);
	o->name = col_str(r, OC_NAME, a);
	o->created_at = store_col_int(r, OC_CREATED);
	o->updated_at = store_col_int(r, OC_UPDATED);
}

static enum rs_status check_kind(const char *v, struct rs_err *err)
{
	size_t n = v ? strlen(v) : 0;

	if (n < 1 || n > RESOURCE_KIND_MAX)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		char ch = v[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
		      ch == '.' || ch == '-'))
			goto bad;
	}
	return RS_OK;
bad:
	return rs_fail(err, RS_E_INVALID, "request.invalid_field", "kind",
		       "'kind' is 1 to %d characters of a-z, 0-9, '_', '.', '-'",
		       RESOURCE_KIND_MAX);
}

static enum rs_status resource_find(struct store_tx *tx, const char *tenant_id, const char *id,
				    struct arena *a, struct owned_resource *out, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has = false;

	if (!id || !uuid_valid(id))
		goto missing;
	st = Q_QUERY(tx, Q_RESOURCE_GET, &r, err, SV_S(tenant_id), SV_S(id));
	if (st != RS_OK)
		return st;
	st = store_rows_next(r, &has, err);
	if (st == RS_OK && has)
		row_resource(r, a, out);
	store_rows_close(r);
	if (st != RS_OK || has)
		return st;
missing:
	return rs_fail(err, RS_E_NOT_FOUND, "resource.not_found", NULL, "no such resource");
}

/* An owner must be a live (not deleted) user of the tenant. */
static enum rs_status check_owner(struct store_tx *tx, const char *tenant_id, const char *id,
				  struct arena *a, struct rs_err *err)
{
	struct user u;
	enum rs_status st = user_load(tx, tenant_id, id, a, &u, NULL, err);

	if (st == RS_E_NOT_FOUND)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "owner_id",
			       "'owner_id' is not a user of this tenant");
	return st;
}

struct ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *id;
	const struct resource_create_req *create;
	const struct resource_patch *patch;
	const struct resource_list_query *q;
	bool del;
	struct arena *a;
	struct owned_resource *out;
	struct resource_list *list;
};

static enum rs_status read_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct store_rows *r = NULL;
	struct tenant t;
	const char *after = NULL;
	int limit;
	enum rs_status st;
	bool has;

	st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_USERS_READ, err);
	if (st != RS_OK)
		return st;
	if (x->out)
		return resource_find(tx, t.id, x->id, x->a, x->out, err);
	limit = page_limit(&x->q->page);
	if (x->q->page.cursor) {
		const char *sv;

		st = cursor_decode(x->c, x->a, x->q->page.cursor, &sv, &after, err);
		if (st != RS_OK)
			return st;
	}
	x->list->items = arena_alloc(x->a, sizeof(*x->list->items) * (size_t)(limit + 1));
	if (!x->list->items)
		return core_oom(err);
	st = Q_QUERY(tx, Q_RESOURCE_LIST, &r, err, SV_S(t.id), SV_S(x->q->owner_id),
		     SV_S(x->q->kind), SV_S(after), SV_I(limit + 1));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if (x->list->n == limit) {
			x->list->next_cursor =
			    cursor_encode(x->c, x->a, "", x->list->items[limit - 1].id);
			break;
		}
		row_resource(r, x->a, &x->list->items[x->list->n++]);
	}
	store_rows_close(r);
	return st;
}

static enum rs_status write_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	struct owned_resource cur, n;
	struct changes *ch;
	int64_t now = core_now(x->c);
	const char *action;
	enum rs_status st;

	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_USERS_UPDATE, err);
	if (st != RS_OK)
		return st;
	if (x->create) {
		char id[UUID_STR_LEN];

		memset(&cur, 0, sizeof(cur));
		st = check_owner(tx, t.id, x->create->owner_id, x->a, err);
		if (st != RS_OK)
			return st;
		if (!core_new_id(id))
			return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL,
				       "no randomness");
		n = (struct owned_resource){arena_strdup(x->a, id),
					    t.id,
					    x->create->owner_id,
					    x->create->kind,
					    x->create->external_id,
					    x->create->name,
					    now,
					    now};
		if (!n.id)
			return core_oom(err);
		st = Q_EXEC(tx, Q_RESOURCE_INSERT, NULL, err, SV_S(t.id), SV_S(n.id),
			    SV_S(n.owner_id), SV_S(n.kind), SV_S(n.external_id), SV_S(n.name),
			    SV_I(now));
		if (st == RS_E_CONFLICT)
			return rs_fail(err, RS_E_CONFLICT, "resource.exists", "external_id",
				       "a %s with external_id '%s' is already registered", n.kind,
				       n.external_id);
		action = "resource.register";
	} else {
		st = resource_find(tx, t.id, x->id, x->a, &cur, err);
		if (st != RS_OK)
			return st;
		n = cur;
		if (x->del) {
			st = Q_EXEC(tx, Q_RESOURCE_DELETE, NULL, err, SV_S(t.id), SV_S(cur.id));
			action = "resource.delete";
		} else {
			if (x->patch->name.set)
				n.name = x->patch->name.v;
			if (x->patch->owner_id.set) {
				n.owner_id = x->patch->owner_id.v;
				st = check_owner(tx, t.id, n.owner_id, x->a, err);
				if (st != RS_OK)
					return st;
			}
			n.updated_at = now;
			st = Q_EXEC(tx, Q_RESOURCE_UPDATE, NULL, err, SV_S(t.id), SV_S(cur.id),
				    SV_S(n.owner_id), SV_S(n.name), SV_I(now));
			action = "resource.update";
		}
	}
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "kind", cur.kind, x->del ? NULL : n.kind);
	changes_str(ch, "external_id", cur.external_id, x->del ? NULL : n.external_id);
	changes_str(ch, "name", cur.name, x->del ? NULL : n.name);
	changes_str(ch, "owner_id", cur.owner_id, x->del ? NULL : n.owner_id);
	if (!x->create && !x->del && changes_empty(ch)) {
		changes_free(ch);
		*x->out = n;
		return RS_OK;
	}
	st = audit_append(tx, x->c, x->who, t.id, action, "resource", n.id, changes_dump(ch, x->a),
			  err);
	changes_free(ch);
	if (st == RS_OK && x->out)
		*x->out = n;
	return st;
}

enum rs_status resources_create(struct core *c, const struct actor *who, const char *tenant,
				const struct resource_create_req *req, struct arena *a,
				struct owned_resource *out, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .create = req, .a = a, .out = out};
	enum rs_status st = check_kind(req->kind, err);

	if (st == RS_OK)
		st = check_text("external_id", req->external_id, RESOURCE_EXTERNAL_ID_MAX, true,
				err);
	if (st == RS_OK)
		st = check_text("name", req->name, RS_NAME_MAX, true, err);
	if (st == RS_OK && (!req->owner_id || !*req->owner_id))
		st = rs_fail(err, RS_E_INVALID, "request.invalid_field", "owner_id",
			     "'owner_id' is required");
	if (st != RS_OK)
		return st;
	return core_write(c, write_tx, &x, err);
}

enum rs_status resources_get(struct core *c, const struct actor *who, const char *tenant,
			     const char *id, struct arena *a, struct owned_resource *out,
			     struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .id = id, .a = a, .out = out};

	return core_read(c, read_tx, &x, err);
}

enum rs_status resources_list(struct core *c, const struct actor *who, const char *tenant,
			      const struct resource_list_query *q, struct arena *a,
			      struct resource_list *out, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .q = q, .a = a, .list = out};

	memset(out, 0, sizeof(*out));
	if (q->kind) {
		enum rs_status st = check_kind(q->kind, err);

		if (st != RS_OK)
			return st;
	}
	return core_read(c, read_tx, &x, err);
}

enum rs_status resources_update(struct core *c, const struct actor *who, const char *tenant,
				const char *id, const struct resource_patch *p, struct arena *a,
				struct owned_resource *out, struct rs_err *err)
{
	struct ctx x = {
	    .c = c, .who = who, .tenant = tenant, .id = id, .patch = p, .a = a, .out = out};
	enum rs_status st = RS_OK;

	if (p->name.set)
		st = check_text("name", p->name.v, RS_NAME_MAX, true, err);
	if (st == RS_OK && p->owner_id.set && (!p->owner_id.v || !*p->owner_id.v))
		st = rs_fail(err, RS_E_INVALID, "request.invalid_field", "owner_id",
			     "'owner_id' can't be cleared: a resource always has an owner");
	if (st != RS_OK)
		return st;
	return core_write(c, write_tx, &x, err);
}

enum rs_status resources_delete(struct core *c, const struct actor *who, const char *tenant,
				const char *id, int64_t if_match, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .id = id, .del = true};

	(void)if_match; /* resources carry no version */
	return core_write_scratch(c, write_tx, &x, &x.a, err);
}

/* ---- transfer on deactivation and deletion --------------------------------------------------- */

/* "playbook/pb-1, job_app/ja-7 and 3 more": as many as fit the problem's detail. */
static const char *resource_names(const struct owned_resource *items, int n, struct arena *a)
{
	const char *s = "";
	int i;

	for (i = 0; i < n; i++) {
		const char *next = arena_printf(a, "%s%s%s/%s", s, i ? ", " : "", items[i].kind,
						items[i].external_id);

		if (!next || strlen(next) > 140)
			break;
		s = next;
	}
	if (i < n)
		s = arena_printf(a, "%s%s%d more", s, i ? " and " : "", n - i);
	return s ? s : "";
}

static enum rs_status transfer(struct store_tx *tx, struct core *c, const struct actor *who,
			       const struct tenant *t, const struct user *u,
			       const char *transfer_to, const char *why, bool apply,
			       struct arena *a, struct rs_err *err)
{
	struct store_rows *r = NULL;
	struct owned_resource *items = NULL;
	struct user to;
	int n = 0, cap = 0;
	bool has, job_app = false;
	const char *target = transfer_to;
	int64_t now = core_now(c);
	enum rs_status st;

	st = Q_QUERY(tx, Q_RESOURCE_BY_OWNER, &r, err, SV_S(t->id), SV_S(u->id));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if (n == cap) {
			struct owned_resource *grown;

			cap = cap ? cap * 2 : 16;
			grown = arena_alloc(a, sizeof(*grown) * (size_t)cap);
			if (!grown) {
				st = core_oom(err);
				break;
			}
			if (n)
				memcpy(grown, items, sizeof(*grown) * (size_t)n);
			items = grown;
		}
		row_resource(r, a, &items[n]);
		job_app = job_app || strcmp(items[n].kind, "job_app") == 0;
		n++;
	}
	store_rows_close(r);
	if (st != RS_OK)
		return st;
	if (!transfer_to) {
		if (n == 0)
			return RS_OK;
		target = t->default_transfer_user_id;
		if (!target)
			return rs_fail(
			    err, RS_E_CONFLICT, "user.owns_resources", NULL,
			    "the user owns %d resource%s (%s): name 'transfer_to' or set "
			    "the tenant's default_transfer_user_id",
			    n, n == 1 ? "" : "s", resource_names(items, n, a));
	}
	/* The target: a live, active user of this tenant, not the user itself. A tenant default
	 * that no longer qualifies is the tenant's problem, not the request's: 409. */
	st = user_load(tx, t->id, target, a, &to, NULL, err);
	/* A target the actor named must be one it may see: otherwise the answer (and where the
	 * resources go) would tell a scoped actor about users outside its subtrees. */
	if (st == RS_OK && transfer_to && who) {
		bool ok = false;

		st = dept_reach(tx, who, t->id, to.department_id, PERM_USERS_READ, &ok, err);
		if (st == RS_OK && !ok)
			st = RS_E_NOT_FOUND;
	}
	if (st == RS_E_NOT_FOUND ||
	    (st == RS_OK && (strcmp(to.id, u->id) == 0 || strcmp(to.status, "active") != 0))) {
		const char *why_not = st == RS_E_NOT_FOUND	  ? "is not a user of this tenant"
				      : strcmp(to.id, u->id) == 0 ? "is the user itself"
								  : "is not an active user";

		if (transfer_to)
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "transfer_to",
				       "'transfer_to' %s", why_not);
		return rs_fail(err, RS_E_CONFLICT, "transfer.default_unusable", NULL,
			       "the user owns %d resource%s and the tenant's "
			       "default_transfer_user_id %s: name 'transfer_to'",
			       n, n == 1 ? "" : "s", why_not);
	}
	if (st != RS_OK)
		return st;
	if (job_app && strcmp(to.type, "api") != 0) /* seed 001 */
		return rs_fail(err, RS_E_CONFLICT, "transfer.job_app_needs_api_user", "transfer_to",
			       "the user owns job apps, which only an api user may own; '%s' is a "
			       "%s user",
			       to.username, to.type);
	for (int i = 0; apply && i < n; i++) {
		const struct owned_resource *o = &items[i];
		struct changes *ch;
		char *data;

		st = Q_EXEC(tx, Q_RESOURCE_UPDATE, NULL, err, SV_S(t->id), SV_S(o->id), SV_S(to.id),
			    SV_S(o->name), SV_I(now));
		if (st != RS_OK)
			return st;
		ch = changes_new();
		changes_str(ch, "owner_id", o->owner_id, to.id);
		st = audit_append(tx, c, who, t->id, "resource.transfer", "resource", o->id,
				  changes_dump(ch, a), err);
		changes_free(ch);
		if (st != RS_OK)
			return st;
		data = core_json_dump(
		    json_pack("{s:{s:s,s:s,s:s,s:s,s:s},s:{s:s,s:s?},s:{s:s,s:s?},s:s}", "resource",
			      "id", o->id, "kind", o->kind, "external_id", o->external_id, "name",
			      o->name, "owner_id", to.id, "from", "id", u->id, "username",
			      u->username, "to", "id", to.id, "username", to.username, "reason",
			      why),
		    a);
		if (!data)
			return core_oom(err);
		st = outbox_event(tx, c, t->id, "resource.transferred", data, err);
		if (st != RS_OK)
			return st;
	}
	return RS_OK;
}

enum rs_status ownership_transfer(struct store_tx *tx, struct core *c, const struct actor *who,
				  const struct tenant *t, const struct user *u,
				  const char *transfer_to, const char *why, struct arena *a,
				  struct rs_err *err)
{
	return transfer(tx, c, who, t, u, transfer_to, why, true, a, err);
}

enum rs_status ownership_check(struct store_tx *tx, struct core *c, const struct actor *who,
			       const struct tenant *t, const struct user *u,
			       const char *transfer_to, struct arena *a, struct rs_err *err)
{
	return transfer(tx, c, who, t, u, transfer_to, NULL, false, a, err);
}
