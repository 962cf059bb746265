/* Tenants: the platform operator creates them from a role template; tenant actors may read
 * (and with tenant.settings rename) only their own. Tenant-level events go to the system
 * tenant's audit chain, where the platform operator's actions are recorded. */
#include "core/core_int.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#define SYSTEM_SLUG "system"

static bool slug_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n > RS_SLUG_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	}
	return true;
}

enum rs_status template_apply(struct store_tx *tx, struct core *c, const char *tenant_id,
			      const struct role_template *t, struct arena *a, struct rs_err *err)
{
	int64_t now = core_now(c);

	for (int i = 0; i < t->nroles; i++) {
		const struct template_role *tr = &t->roles[i];
		char id[UUID_STR_LEN];
		enum rs_status st;

		if (!core_new_id(id))
			return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL,
				       "no randomness");
		st = Q_EXEC(tx, Q_ROLE_INSERT, NULL, err, SV_S(tenant_id), SV_S(id), SV_S(tr->name),
			    SV_S(str_lower(a, tr->name)), SV_S(tr->scope), SV_I(tr->rank),
			    SV_S(perms_to_text(template_role_perms(tr), a)), SV_NULLV, SV_I(1),
			    SV_I(tr->is_default ? 1 : 0), SV_I(now), SV_NULLV);
		if (st != RS_OK)
			return st;
	}
	return RS_OK;
}

/* The system tenant's id, for recording platform events. */
static enum rs_status system_tenant(struct store_tx *tx, struct arena *a, struct tenant *out,
				    struct rs_err *err)
{
	return tenant_load(tx, SYSTEM_SLUG, a, out, err);
}

struct create_ctx {
	struct core *c;
	const struct actor *who;
	const struct tenant_create_req *req;
	const struct role_template *tpl;
	struct arena *a;
	struct tenant *out;
};

static enum rs_status create_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct create_ctx *x = arg;
	struct tenant sys;
	struct changes *ch;
	char id[UUID_STR_LEN];
	enum rs_status st;
	char *doc;

	if (!core_new_id(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	/* Platform events append to the system tenant's chain: take its write lock first. */
	if (strcmp(x->req->slug, SYSTEM_SLUG) != 0) {
		st = system_tenant(tx, x->a, &sys, err);
		if (st == RS_OK)
			st = tenant_lock(tx, sys.id, err);
		if (st != RS_OK)
			return st;
	}
	st = Q_EXEC(tx, Q_TENANT_INSERT, NULL, err, SV_S(id), SV_S(x->req->slug),
		    SV_S(x->req->name), SV_S(x->tpl->name), SV_I(core_now(x->c)));
	if (st == RS_E_CONFLICT)
		return rs_fail(err, RS_E_CONFLICT, "tenant.slug_taken", "slug",
			       "the slug '%s' is already taken", x->req->slug);
	if (st != RS_OK)
		return st;
	st = template_apply(tx, x->c, id, x->tpl, x->a, err);
	if (st != RS_OK)
		return st;
	st = tenant_load(tx, id, x->a, x->out, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "slug", NULL, x->req->slug);
	changes_str(ch, "name", NULL, x->req->name);
	changes_str(ch, "template", NULL, x->tpl->name);
	doc = changes_dump(ch, x->a);
	changes_free(ch);
	/* The very first tenant is the system tenant itself: it records its own creation. */
	if (strcmp(x->req->slug, SYSTEM_SLUG) == 0)
		return audit_append(tx, x->c, x->who, id, "tenant.create", "tenant", id, doc, err);
	st = system_tenant(tx, x->a, &sys, err);
	if (st != RS_OK)
		return st;
	return audit_append(tx, x->c, x->who, sys.id, "tenant.create", "tenant", id, doc, err);
}

enum rs_status tenants_create(struct core *c, const struct actor *who,
			      const struct tenant_create_req *req, struct arena *a,
			      struct tenant *out, struct rs_err *err)
{
	struct create_ctx x = {c, who, req, NULL, a, out};
	const char *tname = req->template_name ? req->template_name : "default";
	enum rs_status st;

	st = require_perm(who, PERM_PLATFORM_TENANTS, err);
	if (st != RS_OK)
		return st;
	if (!req->slug || !slug_valid(req->slug))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "slug",
			       "'slug' must be 2-63 characters of a-z, 0-9 and '-', not starting "
			       "or ending with '-'");
	st = check_text("name", req->name, RS_NAME_MAX, true, err);
	if (st != RS_OK)
		return st;
	x.tpl = templates_find(tname);
	/* The system template belongs to the system tenant alone. */
	if (!x.tpl || (strcmp(tname, "system") == 0 && strcmp(req->slug, SYSTEM_SLUG) != 0))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "template",
			       "unknown template '%s'", tname);
	return core_write(c, create_tx, &x, err);
}

struct get_ctx {
	const struct actor *who;
	const char *ref;
	struct arena *a;
	struct tenant *out;
};

static enum rs_status get_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct get_ctx *x = arg;
	enum rs_status st = tenant_resolve(tx, x->who, x->ref, x->a, x->out, err);

	if (st == RS_OK && !x->who->platform)
		st = require_perm(x->who, PERM_TENANT_READ, err);
	if (st != RS_OK)
		return st;
	return seats_load_limits(tx, x->out, err);
}

enum rs_status tenants_get(struct core *c, const struct actor *who, const char *ref,
			   struct arena *a, struct tenant *out, struct rs_err *err)
{
	struct get_ctx x = {who, ref, a, out};

	return core_read(c, get_tx, &x, err);
}

struct list_ctx {
	struct core *c;
	const struct actor *who;
	const struct page *pg;
	struct arena *a;
	struct tenant_list *out;
};

static enum rs_status list_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct list_ctx *x = arg;
	struct store_rows *r = NULL;
	const char *after = NULL;
	int limit = page_limit(x->pg);
	enum rs_status st;
	bool has;

	x->out->items = arena_alloc(x->a, sizeof(*x->out->items) * (size_t)(limit + 1));
	if (!x->out->items)
		return core_oom(err);
	if (!x->who->platform) {
		/* A tenant actor sees its own tenant only. */
		st = require_perm(x->who, PERM_TENANT_READ, err);
		if (st != RS_OK)
			return st;
		st = tenant_load(tx, x->who->tenant_id, x->a, &x->out->items[0], err);
		if (st == RS_OK)
			st = seats_load_limits(tx, &x->out->items[0], err);
		if (st != RS_OK)
			return st;
		x->out->n = 1;
		return RS_OK;
	}
	if (x->pg && x->pg->cursor) {
		const char *sv;

		st = cursor_decode(x->c, x->a, x->pg->cursor, &sv, &after, err);
		if (st != RS_OK)
			return st;
	}
	st = Q_QUERY(tx, Q_TENANT_LIST, &r, err, SV_S(after), SV_I(limit + 1));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if (x->out->n == limit) {
			x->out->next_cursor =
			    cursor_encode(x->c, x->a, "", x->out->items[limit - 1].id);
			break;
		}
		row_tenant(r, x->a, &x->out->items[x->out->n++]);
	}
	store_rows_close(r);
	for (int i = 0; st == RS_OK && i < x->out->n; i++)
		st = seats_load_limits(tx, &x->out->items[i], err);
	return st;
}

enum rs_status tenants_list(struct core *c, const struct actor *who, const struct page *pg,
			    struct arena *a, struct tenant_list *out, struct rs_err *err)
{
	struct list_ctx x = {c, who, pg, a, out};

	memset(out, 0, sizeof(*out));
	return core_read(c, list_tx, &x, err);
}

/* Seat limits are the operator's (seed 001: only system Administrators change user limits). */
static enum rs_status seat_limits_apply(struct store_tx *tx, const struct actor *who,
					struct tenant *t, const struct tenant_patch *p,
					struct changes *ch, struct arena *a, struct rs_err *err)
{
	enum rs_status st = seats_load_limits(tx, t, err);

	for (int i = 0; st == RS_OK && i < USER_TYPES; i++) {
		const struct seat_limit *cur = &t->seat_limits[i];
		char *field;

		if (!p->seat_limits[i].set)
			continue;
		if (!who->platform)
			return rs_fail(err, RS_E_FORBIDDEN, "auth.permission_denied", "seat_limits",
				       "seat limits are set by the platform operator");
		field = arena_printf(a, "seat_limits.%s", user_type_names[i]);
		if (p->seat_limits[i].clear)
			st = Q_EXEC(tx, Q_SEAT_LIMIT_DELETE, NULL, err, SV_S(t->id),
				    SV_S(user_type_names[i]));
		else
			st = Q_EXEC(tx, Q_SEAT_LIMIT_SET, NULL, err, SV_S(t->id),
				    SV_S(user_type_names[i]), SV_I(p->seat_limits[i].max));
		changes_int(ch, field, cur->set, cur->max, !p->seat_limits[i].clear,
			    p->seat_limits[i].max);
	}
	return st;
}

struct update_ctx {
	struct core *c;
	const struct actor *who;
	const char *ref;
	const struct tenant_patch *p;
	int64_t if_match;
	bool del;
	struct arena *a;
	struct tenant *out;
};

static enum rs_status update_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct update_ctx *x = arg;
	struct tenant t, sys;
	struct changes *ch;
	enum rs_status st;
	int64_t changed = 0;
	const char *name;
	char *doc;

	st = tenant_resolve_write(tx, x->who, x->ref, x->a, &t, err);
	if (st != RS_OK)
		return st;
	if (x->del || !x->who->platform) {
		st = require_perm(x->who, x->del ? PERM_PLATFORM_TENANTS : PERM_TENANT_SETTINGS,
				  err);
		if (st != RS_OK)
			return st;
	}
	if (x->if_match && x->if_match != t.version)
		return rs_fail(err, RS_E_PRECONDITION, "request.precondition_failed", NULL,
			       "the tenant changed since version %lld", (long long)x->if_match);
	if (x->del && strcmp(t.slug, SYSTEM_SLUG) == 0)
		return rs_fail(err, RS_E_CONFLICT, "tenant.system", NULL,
			       "the system tenant can't be deleted");
	ch = changes_new();
	if (x->del) {
		st = Q_EXEC(tx, Q_TENANT_DELETE, NULL, err, SV_S(t.id), SV_I(core_now(x->c)));
		if (st == RS_OK)
			st = Q_EXEC(tx, Q_TOKEN_REVOKE_TENANT, NULL, err, SV_S(t.id),
				    SV_I(core_now(x->c)));
		if (st == RS_OK) /* its users' tokens are refused at once, on every node */
			st = store_signal(tx, STORE_SIG_AUTH, err);
		changes_str(ch, "status", t.status, "deleted");
	} else {
		int64_t set[TS__COUNT];
		const char *dtu = t.default_transfer_user_id;
		struct tenant_password pw = t.password;
		json_t *settings;
		char *text;

		name = x->p->name.set ? x->p->name.v : t.name;
		memcpy(set, t.settings, sizeof(set));
		st = tenant_settings_apply(x->p, set, err);
		if (st != RS_OK) {
			changes_free(ch);
			return st;
		}
		if (x->p->default_transfer_user_id.set) {
			struct user u;

			dtu = x->p->default_transfer_user_id.v;
			/* A live user of this tenant; whether it may receive is checked at use. */
			st = dtu ? user_load(tx, t.id, dtu, x->a, &u, NULL, err) : RS_OK;
			if (st == RS_E_NOT_FOUND)
				st = rs_fail(
				    err, RS_E_INVALID, "request.invalid_field",
				    "default_transfer_user_id",
				    "'default_transfer_user_id' is not a user of this tenant");
			if (st != RS_OK) {
				changes_free(ch);
				return st;
			}
		}
		st = password_settings_patch(x->p, &pw, err);
		if (st != RS_OK) {
			changes_free(ch);
			return st;
		}
		settings = json_pack("{s:s?}", "default_transfer_user_id", dtu);
		for (int i = 0; settings && i < TS__COUNT; i++)
			json_object_set_new(settings, tenant_settings[i].name,
					    json_integer((json_int_t)set[i]));
		if (settings && !password_settings_write(settings, &pw)) {
			json_decref(settings);
			settings = NULL;
		}
		text = settings ? json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(settings);
		if (!text) {
			changes_free(ch);
			return core_oom(err);
		}
		st = Q_EXEC(tx, Q_TENANT_UPDATE, &changed, err, SV_S(t.id), SV_S(name),
			    SV_S(arena_strdup(x->a, text)), SV_I(core_now(x->c)), SV_I(t.version));
		free(text);
		if (st == RS_OK && changed == 0)
			st = rs_fail(err, RS_E_PRECONDITION, "request.precondition_failed", NULL,
				     "the tenant changed concurrently");
		changes_str(ch, "name", t.name, name);
		for (int i = 0; i < TS__COUNT; i++)
			changes_int(ch, tenant_settings[i].name, true, t.settings[i], true, set[i]);
		changes_str(ch, "default_transfer_user_id", t.default_transfer_user_id, dtu);
		password_settings_changes(ch, &t.password, &pw);
		if (st == RS_OK)
			st = seat_limits_apply(tx, x->who, &t, x->p, ch, x->a, err);
	}
	doc = changes_dump(ch, x->a);
	changes_free(ch);
	if (st != RS_OK)
		return st;
	st = system_tenant(tx, x->a, &sys, err);
	if (st != RS_OK)
		return st;
	st = audit_append(tx, x->c, x->who, sys.id, x->del ? "tenant.delete" : "tenant.update",
			  "tenant", t.id, doc, err);
	if (st != RS_OK || x->del)
		return st;
	st = tenant_load(tx, t.id, x->a, x->out, err);
	return st == RS_OK ? seats_load_limits(tx, x->out, err) : st;
}

enum rs_status tenants_update(struct core *c, const struct actor *who, const char *ref,
			      const struct tenant_patch *p, struct arena *a, struct tenant *out,
			      struct rs_err *err)
{
	struct update_ctx x = {c, who, ref, p, p->if_match, false, a, out};
	enum rs_status st;

	if (p->name.set) {
		st = check_text("name", p->name.v, RS_NAME_MAX, true, err);
		if (st != RS_OK)
			return st;
	}
	{
		int64_t probe[TS__COUNT];

		/* Bad settings are refused before the transaction starts. */
		tenant_settings_defaults(probe);
		st = tenant_settings_apply(p, probe, err);
		if (st != RS_OK)
			return st;
	}
	for (int i = 0; i < USER_TYPES; i++) {
		if (p->seat_limits[i].set && !p->seat_limits[i].clear &&
		    (p->seat_limits[i].max < 0 || p->seat_limits[i].max > 10000000))
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "seat_limits",
				       "a seat limit is a number from 0 to 10000000, or null");
	}
	return core_write(c, update_tx, &x, err);
}

enum rs_status tenants_delete(struct core *c, const struct actor *who, const char *ref,
			      int64_t if_match, struct rs_err *err)
{
	struct update_ctx x = {c, who, ref, NULL, if_match, true, NULL, NULL};

	return core_write_scratch(c, update_tx, &x, &x.a, err);
}
