/* Invitations (docs/lifecycle.md): a user created in state 'invited' with its pre-assigned
 * roles, and a single-use link e-mailed to it. The link's token is minted like an API token
 * (256 random bits, token_mint) and stored only as HMAC-SHA256(server key, secret); its lookup
 * half finds the row from the link alone, the hash is then compared in constant time. The link
 * is the credential of the accept routes: they have no actor, and an unknown token answers the
 * same whichever tenant it might have belonged to.
 *
 * Every step writes its change, its audit event and what must leave roster (the e-mail, the
 * webhook event) in one transaction. invite_one() is the whole of one invitation inside a
 * caller's transaction, so bulk invitation can reuse it. */
#include "core/core_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto/crypto.h"
#include "util/timeutil.h"

#define DAY_MS 86400000LL

#define NZ(s) ((s) ? (s) : "")

static int64_t col_int0(struct store_rows *r, int col)
{
	return store_col_null(r, col) ? 0 : store_col_int(r, col);
}

/* One row; *hash (if not NULL) gets the stored token hash (NULL once used or revoked). */
static void row_invitation(struct store_rows *r, struct arena *a, int64_t now,
			   struct invitation *out, const char **hash)
{
	memset(out, 0, sizeof(*out));
	out->tenant_id = col_str(r, IC_TENANT, a);
	out->id = col_str(r, IC_ID, a);
	out->user_id = col_str(r, IC_USER, a);
	out->email = col_str(r, IC_EMAIL, a);
	out->status = col_str(r, IC_STATUS, a);
	out->message = col_str(r, IC_MESSAGE, a);
	out->expires_at = col_int0(r, IC_EXPIRES);
	out->created_at = col_int0(r, IC_CREATED);
	out->resent_at = col_int0(r, IC_RESENT);
	out->accepted_at = col_int0(r, IC_ACCEPTED);
	out->revoked_at = col_int0(r, IC_REVOKED);
	if (out->status && strcmp(out->status, "pending") == 0 && out->expires_at <= now)
		out->status = "expired";
	if (hash)
		*hash = col_str(r, IC_HASH, a);
}

static enum rs_status not_found(struct rs_err *err)
{
	return rs_fail(err, RS_E_NOT_FOUND, "invitation.not_found", NULL, "no such invitation");
}

static enum rs_status inv_load(struct store_tx *tx, enum store_q q, const char *tenant_id,
			       const char *key, struct arena *a, int64_t now,
			       struct invitation *out, const char **hash, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has = false;

	if (q == Q_INVITATION_GET)
		st = Q_QUERY(tx, q, &r, err, SV_S(tenant_id), SV_S(key));
	else
		st = Q_QUERY(tx, q, &r, err, SV_S(key));
	if (st != RS_OK)
		return st;
	st = store_rows_next(r, &has, err);
	if (st == RS_OK && has)
		row_invitation(r, a, now, out, hash);
	store_rows_close(r);
	if (st != RS_OK)
		return st;
	return has ? RS_OK : not_found(err);
}

static enum rs_status inv_find(struct store_tx *tx, const char *tenant_id, const char *id,
			       struct arena *a, int64_t now, struct invitation *out,
			       struct rs_err *err)
{
	if (!id || !uuid_valid(id))
		return not_found(err);
	return inv_load(tx, Q_INVITATION_GET, tenant_id, id, a, now, out, NULL, err);
}

static bool is_open(const struct invitation *inv)
{
	return strcmp(inv->status, "pending") == 0 || strcmp(inv->status, "expired") == 0;
}

/* Queues the e-mail with the link (template invitation or invitation_resent). */
static enum rs_status send_link(struct store_tx *tx, struct core *c, const struct actor *who,
				const struct user *u, const char *email, const char *template_name,
				const char *link, int64_t expires_at, const char *message,
				struct arena *a, struct rs_err *err)
{
	char when[TIME_STR_LEN];
	const char *inviter = who->username[0] ? who->username : "roster";
	char *vars;

	time_format(expires_at, when);
	/* Template variables are strings; an invitee has no first name yet: greet the username. */
	vars =
	    core_json_dump(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "username", NZ(u->username),
				     "first_name", u->first_name ? u->first_name : NZ(u->username),
				     "last_name", NZ(u->last_name), "link", link, "expires", when,
				     "message", NZ(message), "inviter", inviter),
			   a);
	if (!vars)
		return core_oom(err);
	return outbox_email(tx, c, u->tenant_id, template_name, email, vars, err);
}

static enum rs_status announce(struct store_tx *tx, struct core *c, const struct user *u,
			       const char *event, const char *invitation_id, struct arena *a,
			       struct rs_err *err)
{
	char *data = core_json_dump(json_pack("{s:{s:s,s:s?,s:s?,s:s?},s:s}", "user", "id", u->id,
					      "username", u->username, "email", u->email, "status",
					      u->status, "invitation_id", invitation_id),
				    a);

	if (!data)
		return core_oom(err);
	return outbox_event(tx, c, u->tenant_id, event, data, err);
}

/* Mints a token; *link (arena) is the URL that carries it. */
static enum rs_status mint_link(struct core *c, struct arena *a, const char **link,
				char lookup[TOKEN_LOOKUP_LEN + 1], char hash[65],
				struct rs_err *err)
{
	const char *token;
	enum rs_status st = token_mint(c, a, &token, lookup, hash, err);

	if (st != RS_OK)
		return st;
	*link = arena_printf(a, "%s/invitations/%s", core_public_url(c), token);
	return *link ? RS_OK : core_oom(err);
}

/* ---- create -------------------------------------------------------------------------------------
 */

/* One invitation inside the caller's write transaction, tenant t locked for writing. */
static enum rs_status invite_one(struct store_tx *tx, struct core *c, const struct actor *who,
				 const struct tenant *t, const struct user_fields *f,
				 const char *message, struct arena *a, struct invitation *out,
				 const char **link, struct rs_err *err)
{
	char lookup[TOKEN_LOOKUP_LEN + 1], hash[65], id[UUID_STR_LEN];
	int64_t now = core_now(c), expires;
	struct changes *ch;
	struct user u;
	enum rs_status st;

	st = user_write_invited(tx, c, who, t->id, NULL, f, a, &u, err);
	if (st != RS_OK)
		return st;
	if (!core_new_id(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	st = mint_link(c, a, link, lookup, hash, err);
	if (st != RS_OK)
		return st;
	expires = now + t->settings[TS_INVITATION_DAYS] * DAY_MS;
	st = Q_EXEC(tx, Q_INVITATION_INSERT, NULL, err, SV_S(t->id), SV_S(id), SV_S(u.id),
		    SV_S(u.email), SV_S(lookup), SV_S(hash), SV_S(message),
		    SV_S(who->user_id[0] ? who->user_id : NULL), SV_I(expires), SV_I(now));
	crypto_wipe(hash, sizeof(hash));
	if (st == RS_OK)
		st = send_link(tx, c, who, &u, u.email, "invitation", *link, expires, message, a,
			       err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "status", NULL, "pending");
	changes_str(ch, "user_id", NULL, u.id);
	changes_str(ch, "email", NULL, u.email);
	changes_str(ch, "message", NULL, message);
	changes_int(ch, "expires_at", false, 0, true, expires);
	st = audit_append(tx, c, who, t->id, "invitation.create", "invitation", id,
			  changes_dump(ch, a), err);
	changes_free(ch);
	if (st != RS_OK)
		return st;
	*out = (struct invitation){.id = arena_strdup(a, id),
				   .tenant_id = t->id,
				   .user_id = u.id,
				   .email = u.email,
				   .status = "pending",
				   .message = message,
				   .expires_at = expires,
				   .created_at = now};
	return out->id ? RS_OK : core_oom(err);
}

struct wctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *id;
	const struct user_fields *f;
	const char *message;
	const struct opt_str *new_message;
	struct arena *a;
	struct invitation *out;
	const char **link;
};

static enum rs_status create_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct wctx *x = arg;
	struct tenant t;
	enum rs_status st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK) /* tenant-wide or in a scope: the department is checked with the user */
		st = require_perm_any(x->who, PERM_USERS_CREATE, err);
	if (st != RS_OK)
		return st;
	return invite_one(tx, x->c, x->who, &t, x->f, x->message, x->a, x->out, x->link, err);
}

static enum rs_status check_message(const char *m, struct rs_err *err)
{
	return check_text("message", m, INVITATION_MESSAGE_MAX, false, err);
}

enum rs_status invitations_create(struct core *c, const struct actor *who, const char *tenant,
				  const struct user_fields *f, const char *message, struct arena *a,
				  struct invitation *out, const char **link, struct rs_err *err)
{
	struct user_fields g = *f;
	struct wctx x = {.c = c,
			 .who = who,
			 .tenant = tenant,
			 .f = &g,
			 .message = message,
			 .a = a,
			 .out = out,
			 .link = link};
	enum rs_status st;

	if (!f->email.set || !f->email.v)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "email",
			       "'email' is required: the invitation is sent there");
	st = check_message(message, err);
	if (st != RS_OK)
		return st;
	if (!g.username.set || !g.username.v) /* the e-mail is the username by default */
		g.username = (struct opt_str){true, f->email.v};
	return core_write(c, create_tx, &x, err);
}

/* ---- resend, revoke
 * ------------------------------------------------------------------------------- */

/* Loads the invitation and its user for a change: the permission, a state that allows it and
 * the rank rule. */
static enum rs_status load_for_change(struct store_tx *tx, struct wctx *x, struct tenant *t,
				      struct invitation *inv, struct user *u, bool *has_user,
				      const char *what, struct rs_err *err)
{
	enum rs_status st = tenant_resolve_write(tx, x->who, x->tenant, x->a, t, err);

	if (st == RS_OK)
		st = require_perm_any(x->who, PERM_USERS_CREATE, err);
	if (st == RS_OK)
		st = inv_find(tx, t->id, x->id, x->a, core_now(x->c), inv, err);
	if (st != RS_OK)
		return st;
	st = user_load(tx, t->id, inv->user_id, x->a, u, NULL, err);
	/* An invitee outside the actor's subtrees (or gone, for an actor holding users.create
	 * only in some): as if neither existed, before anything else is said about it. */
	if (st == RS_OK)
		st = require_user_perm(tx, x->who, u, PERM_USERS_CREATE, err);
	if (st == RS_E_NOT_FOUND && !(x->who->perms & PERM_BIT(PERM_USERS_CREATE)))
		return rs_fail(err, RS_E_NOT_FOUND, "invitation.not_found", NULL,
			       "no such invitation");
	if (st != RS_OK && st != RS_E_NOT_FOUND)
		return st;
	if (!is_open(inv))
		return rs_fail(err, RS_E_CONFLICT, "invitation.not_pending", NULL,
			       "can't %s an invitation that is %s", what, inv->status);
	*has_user = st == RS_OK && strcmp(u->status, "invited") == 0;
	if (st == RS_E_NOT_FOUND || (st == RS_OK && !*has_user)) {
		/* The user was deleted (or changed state) by other means: nothing to invite. */
		if (strcmp(what, "resend") == 0)
			return rs_fail(err, RS_E_CONFLICT, "invitation.not_pending", NULL,
				       "the invited user no longer awaits this invitation");
		return RS_OK;
	}
	if (st != RS_OK)
		return st;
	return rank_may_act_on(x->who, u->rank, err); /* DESIGN rule 2 */
}

static enum rs_status resend_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct wctx *x = arg;
	const struct user_fields *f = x->f;
	char lookup[TOKEN_LOOKUP_LEN + 1], hash[65];
	struct invitation inv;
	struct tenant t;
	struct user u;
	struct changes *ch;
	const char *message;
	int64_t now = core_now(x->c), expires, changed = 0;
	enum rs_status st;
	bool has_user;

	st = load_for_change(tx, x, &t, &inv, &u, &has_user, "resend", err);
	if (st != RS_OK)
		return st;
	if (f->system_role.set || f->roles_set || f->department_id.set) {
		st = user_write_invited(tx, x->c, x->who, t.id, u.id, f, x->a, &u, err);
		if (st != RS_OK)
			return st;
	}
	message = x->new_message->set ? x->new_message->v : inv.message;
	st = mint_link(x->c, x->a, x->link, lookup, hash, err);
	if (st != RS_OK)
		return st;
	expires = now + t.settings[TS_INVITATION_DAYS] * DAY_MS;
	st = Q_EXEC(tx, Q_INVITATION_RESEND, &changed, err, SV_S(t.id), SV_S(inv.id), SV_S(lookup),
		    SV_S(hash), SV_S(message), SV_I(expires), SV_I(now));
	crypto_wipe(hash, sizeof(hash));
	if (st == RS_OK && changed == 0)
		st = rs_fail(err, RS_E_CONFLICT, "invitation.not_pending", NULL,
			     "the invitation changed concurrently");
	if (st == RS_OK)
		st = send_link(tx, x->c, x->who, &u, inv.email, "invitation_resent", *x->link,
			       expires, message, x->a, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "status", inv.status, "pending");
	changes_str(ch, "message", inv.message, message);
	changes_int(ch, "expires_at", true, inv.expires_at, true, expires);
	st = audit_append(tx, x->c, x->who, t.id, "invitation.resend", "invitation", inv.id,
			  changes_dump(ch, x->a), err);
	changes_free(ch);
	if (st == RS_OK)
		st = inv_find(tx, t.id, inv.id, x->a, now, x->out, err);
	return st;
}

enum rs_status invitations_resend(struct core *c, const struct actor *who, const char *tenant,
				  const char *id, const struct user_fields *f,
				  const struct opt_str *message, struct arena *a,
				  struct invitation *out, const char **link, struct rs_err *err)
{
	struct wctx x = {.c = c,
			 .who = who,
			 .tenant = tenant,
			 .id = id,
			 .f = f,
			 .new_message = message,
			 .a = a,
			 .out = out,
			 .link = link};
	enum rs_status st = check_message(message->v, err);

	if (st != RS_OK)
		return st;
	return core_write(c, resend_tx, &x, err);
}

static enum rs_status revoke_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct wctx *x = arg;
	struct invitation inv;
	struct tenant t;
	struct user u;
	struct changes *ch;
	int64_t now = core_now(x->c), changed = 0;
	enum rs_status st;
	bool has_user;

	st = load_for_change(tx, x, &t, &inv, &u, &has_user, "revoke", err);
	if (st != RS_OK)
		return st;
	st = Q_EXEC(tx, Q_INVITATION_CLOSE, &changed, err, SV_S(t.id), SV_S(inv.id),
		    SV_S("revoked"), SV_I(now));
	if (st == RS_OK && changed == 0)
		st = rs_fail(err, RS_E_CONFLICT, "invitation.not_pending", NULL,
			     "the invitation changed concurrently");
	/* The invitee goes: a deleted tombstone, its seat free, nothing left that it could use. */
	if (st == RS_OK && has_user)
		st = user_tombstone(tx, x->c, &u, x->who->user_id[0] ? x->who->user_id : NULL, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "status", inv.status, "revoked");
	if (has_user)
		changes_str(ch, "user_status", u.status, "deleted");
	st = audit_append(tx, x->c, x->who, t.id, "invitation.revoke", "invitation", inv.id,
			  changes_dump(ch, x->a), err);
	changes_free(ch);
	if (st == RS_OK && has_user) {
		u.status = "deleted";
		st = announce(tx, x->c, &u, "user.deleted", inv.id, x->a, err);
	}
	return st;
}

enum rs_status invitations_revoke(struct core *c, const struct actor *who, const char *tenant,
				  const char *id, struct rs_err *err)
{
	struct wctx x = {.c = c, .who = who, .tenant = tenant, .id = id};

	return core_write_scratch(c, revoke_tx, &x, &x.a, err);
}

/* ---- reads
 * ----------------------------------------------------------------------------------------- */

struct rctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *id, *status;
	const struct page *pg;
	struct arena *a;
	struct invitation *out;
	struct invitation_list *list;
};

static enum rs_status get_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct rctx *x = arg;
	struct tenant t;
	enum rs_status st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK)
		st = require_perm(x->who, PERM_USERS_READ, err);
	if (st != RS_OK)
		return st;
	return inv_find(tx, t.id, x->id, x->a, core_now(x->c), x->out, err);
}

enum rs_status invitations_get(struct core *c, const struct actor *who, const char *tenant,
			       const char *id, struct arena *a, struct invitation *out,
			       struct rs_err *err)
{
	struct rctx x = {.c = c, .who = who, .tenant = tenant, .id = id, .a = a, .out = out};

	return core_read(c, get_tx, &x, err);
}

static enum rs_status list_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct rctx *x = arg;
	struct store_rows *r = NULL;
	const char *after = NULL;
	int limit = page_limit(x->pg);
	int64_t now = core_now(x->c);
	struct tenant t;
	enum rs_status st;
	bool has;

	st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_USERS_READ, err);
	if (st != RS_OK)
		return st;
	if (x->pg && x->pg->cursor) {
		const char *sv;

		st = cursor_decode(x->c, x->a, x->pg->cursor, &sv, &after, err);
		if (st != RS_OK)
			return st;
	}
	x->list->items = arena_alloc(x->a, sizeof(*x->list->items) * (size_t)(limit + 1));
	if (!x->list->items)
		return core_oom(err);
	st = Q_QUERY(tx, Q_INVITATION_LIST, &r, err, SV_S(t.id), SV_S(x->status), SV_I(now),
		     SV_S(after), SV_I(limit + 1));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if (x->list->n == limit) {
			x->list->next_cursor =
			    cursor_encode(x->c, x->a, "", x->list->items[limit - 1].id);
			break;
		}
		row_invitation(r, x->a, now, &x->list->items[x->list->n++], NULL);
	}
	store_rows_close(r);
	return st;
}

enum rs_status invitations_list(struct core *c, const struct actor *who, const char *tenant,
				const char *status, const struct page *pg, struct arena *a,
				struct invitation_list *out, struct rs_err *err)
{
	static const char *const statuses[] = {"pending", "accepted", "revoked", "expired"};
	struct rctx x = {
	    .c = c, .who = who, .tenant = tenant, .status = status, .pg = pg, .a = a, .list = out};
	bool ok = status == NULL;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; !ok && i < sizeof(statuses) / sizeof(statuses[0]); i++)
		ok = strcmp(status, statuses[i]) == 0;
	if (!ok)
		return rs_fail(err, RS_E_INVALID, "request.invalid_parameter", "status",
			       "'status' must be pending, accepted, revoked or expired");
	return core_read(c, list_tx, &x, err);
}

/* ---- the link's side: view and accept
 * ------------------------------------------------------------- */

/* Finds the open invitation of token, its tenant and its invited user. Every way a token can
 * fail to be one (malformed, unknown, wrong secret, used, revoked, its user or tenant gone)
 * is the same 404; an expired one is 409 "invitation.expired". */
static enum rs_status by_token(struct store_tx *tx, struct core *c, const char *token,
			       struct arena *a, struct invitation *inv, struct tenant *t,
			       struct user *u, struct rs_err *err)
{
	char lookup[TOKEN_LOOKUP_LEN + 1], want[65];
	const char *secret, *hash = NULL;
	enum rs_status st;
	bool match;

	if (!token || strncmp(token, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1) != 0 ||
	    strlen(token) > 128)
		return not_found(err);
	token_split(token, lookup, &secret);
	st = inv_load(tx, Q_INVITATION_BY_LOOKUP, NULL, lookup, a, core_now(c), inv, &hash, err);
	if (st != RS_OK)
		return st;
	token_hash(c, secret, want);
	match = hash && strlen(hash) == 64 && crypto_equal(want, hash, 64);
	crypto_wipe(want, sizeof(want));
	if (!match || !is_open(inv))
		return not_found(err);
	st = tenant_load(tx, inv->tenant_id, a, t, err);
	if (st == RS_OK)
		st = user_load(tx, t->id, inv->user_id, a, u, NULL, err);
	if (st == RS_E_NOT_FOUND || (st == RS_OK && strcmp(u->status, "invited") != 0))
		return not_found(err);
	if (st != RS_OK)
		return st;
	if (strcmp(inv->status, "expired") == 0)
		return rs_fail(err, RS_E_CONFLICT, "invitation.expired", NULL,
			       "this invitation has expired: ask for a new one");
	return RS_OK;
}

struct lctx {
	struct core *c;
	const char *token;
	const struct invitation_accept_req *req;
	const char *phc;
	struct arena *a;
	struct invitation inv;
	struct tenant t;
	struct user u;
	struct user *out;
};

static enum rs_status view_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct lctx *x = arg;

	return by_token(tx, x->c, x->token, x->a, &x->inv, &x->t, &x->u, err);
}

enum rs_status invitations_view(struct core *c, const char *token, struct arena *a,
				struct invitation_view *out, struct rs_err *err)
{
	struct lctx x = {.c = c, .token = token, .a = a};
	enum rs_status st = core_read(c, view_tx, &x, err);

	if (st != RS_OK)
		return st;
	*out = (struct invitation_view){x.t.name, x.inv.email, x.u.username, x.inv.expires_at};
	return RS_OK;
}

/* The tenant's password policy (core/password_policy.c), with the invitee's context words:
 * the username and e-mail it was invited with, the names it gives now, the tenant's name. */
static enum rs_status check_password(const struct lctx *x, struct rs_err *err)
{
	const char *ctx[PW_CTX_N + 2] = {0};

	ctx[PW_CTX_USERNAME] = x->u.username;
	ctx[PW_CTX_EMAIL] = x->inv.email;
	ctx[PW_CTX_FIRST_NAME] = x->req->first_name;
	ctx[PW_CTX_LAST_NAME] = x->req->last_name;
	ctx[PW_CTX_TENANT] = x->t.name;
	ctx[PW_CTX_N] = x->u.email; /* the user's own, if it differs from the invitation's */
	ctx[PW_CTX_N + 1] = x->t.slug;
	return password_policy_check(&x->t, x->req->password, ctx, PW_CTX_N + 2, err);
}

static enum rs_status accept_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct lctx *x = arg;
	const struct invitation_accept_req *q = x->req;
	struct actor who = {.kind = ACTOR_TOKEN};
	struct changes *ch;
	int64_t now = core_now(x->c), changed = 0;
	enum rs_status st;
	char *doc;

	st = by_token(tx, x->c, x->token, x->a, &x->inv, &x->t, &x->u, err);
	if (st != RS_OK)
		return st;
	/* Serialise with the tenant's other writers, then check again what the lock protects. */
	st = tenant_lock(tx, x->t.id, err);
	if (st == RS_OK)
		st = by_token(tx, x->c, x->token, x->a, &x->inv, &x->t, &x->u, err);
	if (st != RS_OK)
		return st;
	/* The invitee is the actor of its own acceptance. */
	snprintf(who.tenant_id, sizeof(who.tenant_id), "%s", x->t.id);
	snprintf(who.tenant_slug, sizeof(who.tenant_slug), "%s", x->t.slug);
	snprintf(who.user_id, sizeof(who.user_id), "%s", x->u.id);
	snprintf(who.username, sizeof(who.username), "%s", x->u.username);
	who.request_id = q->request_id;
	who.source_ip = q->source_ip;
	st = Q_EXEC(tx, Q_INVITATION_CLOSE, &changed, err, SV_S(x->t.id), SV_S(x->inv.id),
		    SV_S("accepted"), SV_I(now));
	if (st == RS_OK && changed == 0)
		st = not_found(err); /* used by a concurrent accept */
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_USER_ACCEPT, &changed, err, SV_S(x->t.id), SV_S(x->u.id),
			    SV_S(q->first_name), SV_S(str_lower(x->a, q->first_name)),
			    SV_S(q->last_name), SV_S(str_lower(x->a, q->last_name)),
			    SV_S(q->timezone), SV_I(now), SV_I(x->u.version));
	if (st == RS_OK && changed == 0)
		st = not_found(err);
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_CREDENTIAL_PUT, NULL, err, SV_S(x->t.id), SV_S(x->u.id),
			    SV_S("password"), SV_S(x->phc), SV_I(now));
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "status", x->u.status, "active");
	changes_str(ch, "first_name", x->u.first_name, q->first_name);
	changes_str(ch, "last_name", x->u.last_name, q->last_name);
	changes_str(ch, "timezone", x->u.timezone, q->timezone);
	changes_str(ch, "invitation_id", NULL, x->inv.id);
	changes_str(ch, "password", NULL, "set"); /* never the hash */
	doc = changes_dump(ch, x->a);
	changes_free(ch);
	st = audit_append(tx, x->c, &who, x->t.id, "user.accept", "user", x->u.id, doc, err);
	if (st == RS_OK)
		st = user_load(tx, x->t.id, x->u.id, x->a, x->out, NULL, err);
	if (st == RS_OK)
		st = announce(tx, x->c, x->out, "user.activated", x->inv.id, x->a, err);
	return st;
}

enum rs_status invitations_accept(struct core *c, const char *token,
				  const struct invitation_accept_req *req, struct arena *a,
				  struct user *out, struct rs_err *err)
{
	struct lctx x = {.c = c, .token = token, .req = req, .a = a, .out = out};
	char phc[CRYPTO_PASSWORD_HASH_MAX];
	struct pw_params pp;
	enum rs_status st;

	/* The link first: an unknown or expired one says so whatever the body holds. */
	st = core_read(c, view_tx, &x, err);
	if (st != RS_OK)
		return st;
	st = check_text("password", req->password, 4 * RS_PASSWORD_MAX, true, err);
	if (st == RS_OK)
		st = check_password(&x, err);
	if (st == RS_OK)
		st = check_text("first_name", req->first_name, RS_NAME_MAX, true, err);
	if (st == RS_OK)
		st = check_text("last_name", req->last_name, RS_NAME_MAX, true, err);
	if (st == RS_OK)
		st = check_text("timezone", req->timezone, RS_ATTR_MAX, false, err);
	if (st != RS_OK)
		return st;
	/* argon2id takes m KiB and tens of milliseconds: outside the write transaction. */
	password_policy_params(&x.t, &pp);
	if (!crypto_password_hash2(req->password, &pp, phc, sizeof(phc)))
		return rs_fail(err, RS_E_INTERNAL, "internal.password_hash", NULL,
			       "the password could not be hashed");
	x.phc = phc;
	st = core_write(c, accept_tx, &x, err);
	crypto_wipe(phc, sizeof(phc));
	return st;
}
