/* Passwords as the core uses them (docs/authentication.md): the policy a new one must meet,
 * verification against whatever format is stored with an upgrade to the tenant's argon2id,
 * an administrator setting one, and a user changing their own. Hashing always happens outside
 * a transaction: 19 MiB and tens of milliseconds must not hold the store's writer. */
#include "core/core_int.h"

#include "crypto/crypto.h"
#include "crypto/password.h"

static struct pw_params tenant_params(const struct tenant *t)
{
	struct pw_params pp;

	password_policy_params(t, &pp);
	return pp;
}

enum rs_status password_acceptable(const struct tenant *t, const char *pw, const struct user *u,
				   const char *email, struct arena *a, struct rs_err *err)
{
	const char *ctx[PW_CTX_N + 2] = {0};

	(void)a;
	ctx[PW_CTX_USERNAME] = u->username;
	ctx[PW_CTX_EMAIL] = u->email;
	ctx[PW_CTX_FIRST_NAME] = u->first_name;
	ctx[PW_CTX_LAST_NAME] = u->last_name;
	ctx[PW_CTX_TENANT] = t->name;
	ctx[PW_CTX_N] = email;
	ctx[PW_CTX_N + 1] = t->slug;
	return password_policy_check(t, pw, ctx, PW_CTX_N + 2, err);
}

enum pw_verify password_verify(struct core *c, const struct tenant *t, const char *hash,
			       const char *pw, struct arena *a, const char **rehash)
{
	struct pw_params pp = tenant_params(t);
	enum pw_verify v = crypto_password_check(hash, pw, &pp);
	size_t cap = crypto_password_encoded_max();
	char *buf;

	(void)c;
	*rehash = NULL;
	if (v != PW_MATCH_REHASH)
		return v;
	buf = arena_alloc(a, cap);
	/* An upgrade that fails leaves the old hash: the login itself succeeded. */
	if (buf && crypto_password_hash2(pw, &pp, buf, cap))
		*rehash = buf;
	return v;
}

void password_dummy(struct core *c, const struct tenant *t, const char *pw)
{
	struct pw_params pp = tenant_params(t);

	(void)c;
	crypto_password_dummy(pw ? pw : "", &pp);
}

/* ---- setting and changing ---------------------------------------------------------------------
 */

/* (core_int.h) */
const char *user_required_with(const struct user *u, const char *action, bool on, struct arena *a)
{
	const char *out = "";

	for (int i = 0; i < u->nrequired_actions && out; i++) {
		if (strcmp(u->required_actions[i], action) != 0)
			out =
			    arena_printf(a, "%s%s%s", out, *out ? " " : "", u->required_actions[i]);
	}
	if (on && out)
		out = arena_printf(a, "%s%s%s", out, *out ? " " : "", action);
	return out;
}

static bool has_required(const struct user *u, const char *action)
{
	for (int i = 0; i < u->nrequired_actions; i++) {
		if (strcmp(u->required_actions[i], action) == 0)
			return true;
	}
	return false;
}

struct pctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *id; /* NULL id: the caller itself */
	const char *current, *password;
	bool temporary;
	const char *hash;     /* the new password's, computed between the two transactions */
	const char **history; /* the current and previous hashes, newest first */
	int nhistory;
	const char *action; /* the required action to clear (me_required_done) */
	struct arena *a;
	struct tenant t;
	struct user u;
};

/* The hashes a new password may not match: the current one and the tenant's
 * password_history previous ones. */
static enum rs_status history_load(struct store_tx *tx, struct pctx *x, struct rs_err *err)
{
	struct store_rows *r = NULL;
	int64_t keep = x->t.password.history;
	bool has;
	enum rs_status st;

	x->nhistory = 0;
	if (keep <= 0)
		return RS_OK;
	x->history = arena_alloc(x->a, sizeof(*x->history) * (size_t)(keep + 1));
	if (!x->history)
		return core_oom(err);
	st = Q_QUERY(tx, Q_CREDENTIAL_GET, &r, err, SV_S(x->t.id), SV_S(x->u.id), SV_S("password"));
	if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has)
		x->history[x->nhistory++] = col_str(r, 0, x->a);
	store_rows_close(r);
	r = NULL;
	if (st == RS_OK)
		st = Q_QUERY(tx, Q_PASSWORD_HISTORY_LIST, &r, err, SV_S(x->t.id), SV_S(x->u.id),
			     SV_I(keep));
	while (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has &&
	       x->nhistory <= keep)
		x->history[x->nhistory++] = col_str(r, 0, x->a);
	store_rows_close(r);
	return st;
}

static enum rs_status target_only_tx(struct store_tx *tx, void *arg, struct rs_err *err);

/* The target, and what a new password must not repeat. */
static enum rs_status target_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	enum rs_status st = target_only_tx(tx, arg, err);

	return st == RS_OK ? history_load(tx, arg, err) : st;
}

/* Reads the target: another user (perm, rank rule) or the caller. */
static enum rs_status target_only_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct pctx *x = arg;
	enum rs_status st;

	if (!x->id) {
		if (!x->who->user_id[0])
			return rs_fail(err, RS_E_NOT_FOUND, "user.not_found", NULL,
				       "this credential belongs to no user");
		st = tenant_load(tx, x->who->tenant_id, x->a, &x->t, err);
		return st == RS_OK ? user_load(tx, x->t.id, x->who->user_id, x->a, &x->u, NULL, err)
				   : st;
	}
	st = tenant_resolve(tx, x->who, x->tenant, x->a, &x->t, err);
	if (st == RS_OK)
		st = require_perm_any(x->who, PERM_USERS_UPDATE, err);
	if (st == RS_OK)
		st = user_load(tx, x->t.id, x->id, x->a, &x->u, NULL, err);
	if (st == RS_OK)
		st = require_user_perm(tx, x->who, &x->u, PERM_USERS_UPDATE, err);
	if (st == RS_OK)
		st = rank_may_act_on(x->who, x->u.rank, err);
	if (st == RS_OK && strcmp(x->u.status, "deleting") == 0)
		st = rs_fail(err, RS_E_CONFLICT, "user.deletion_pending", NULL,
			     "the user is being deleted");
	return st;
}

static enum rs_status current_hash_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct pctx *x = arg;
	struct store_rows *r = NULL;
	bool has = false;
	enum rs_status st = target_tx(tx, arg, err);

	x->hash = NULL;
	if (st == RS_OK)
		st = Q_QUERY(tx, Q_CREDENTIAL_GET, &r, err, SV_S(x->t.id), SV_S(x->u.id),
			     SV_S("password"));
	if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has)
		x->hash = col_str(r, 0, x->a);
	store_rows_close(r);
	return st;
}

static enum rs_status store_tx_fn(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct pctx *x = arg;
	struct user cur;
	struct changes *ch;
	const char *req;
	int64_t now = core_now(x->c);
	bool self = !x->id;
	enum rs_status st = tenant_lock(tx, x->t.id, err);

	/* The user as it is now, under the lock: what the read checked may have changed since
	 * (a move out of the actor's departments, a promotion, a deletion request). */
	if (st == RS_OK)
		st = user_load(tx, x->t.id, x->u.id, x->a, &cur, NULL, err);
	if (st == RS_OK && x->id)
		st = require_user_perm(tx, x->who, &cur, PERM_USERS_UPDATE, err);
	if (st == RS_OK && x->id)
		st = rank_may_act_on(x->who, cur.rank, err);
	if (st == RS_OK && strcmp(cur.status, "deleting") == 0)
		st = rs_fail(err, RS_E_CONFLICT, "user.deletion_pending", NULL,
			     "the user is being deleted");
	if (st != RS_OK)
		return st;
	if (x->hash) {
		st = Q_EXEC(tx, Q_CREDENTIAL_PUT, NULL, err, SV_S(x->t.id), SV_S(cur.id),
			    SV_S("password"), SV_S(x->hash), SV_I(now));
		if (st == RS_OK)
			st = Q_EXEC(tx, Q_PASSWORD_HISTORY_ADD, NULL, err, SV_S(x->t.id),
				    SV_S(cur.id), SV_I(now), SV_S(x->hash));
	}
	/* A temporary password must be changed at the next login; one the user chose (or a
	 * permanent one an admin set) completes a pending reset. */
	req = x->action ? user_required_with(&cur, x->action, false, x->a)
			: user_required_with(&cur, "password_reset", x->temporary, x->a);
	if (st == RS_OK && !req)
		st = core_oom(err);
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_USER_SET_REQUIRED, NULL, err, SV_S(x->t.id), SV_S(cur.id),
			    SV_S(req), SV_I(now));
	/* A new password ends the other sessions: whoever knew the old one is out. The caller's
	 * own session survives its own change. */
	if (st == RS_OK && x->hash)
		st = Q_EXEC(tx, Q_SESSION_REVOKE_USER, NULL, err, SV_S(x->t.id), SV_S(cur.id),
			    SV_I(now), SV_S("password changed"),
			    self && x->who->session_id[0] ? SV_S(x->who->session_id) : SV_NULLV);
	if (st == RS_OK)
		st = store_signal(tx, STORE_SIG_AUTH, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	if (x->hash)
		changes_str(ch, "password", "(hidden)", "(changed)");
	changes_str(ch, "required_actions", user_required_with(&cur, "", false, x->a), req);
	st = audit_append(tx, x->c, x->who, x->t.id,
			  x->action ? "user.required_action_done"
			  : self    ? "user.password_change"
				    : "user.password_set",
			  "user", cur.id, changes_dump(ch, x->a), err);
	changes_free(ch);
	return st;
}

static enum rs_status hash_new(struct pctx *x, struct rs_err *err)
{
	struct pw_params pp = tenant_params(&x->t);
	size_t cap = crypto_password_encoded_max();
	char *buf = arena_alloc(x->a, cap);
	enum rs_status st = password_acceptable(&x->t, x->password, &x->u, NULL, x->a, err);

	/* The current password counts as used: history starts there. */
	if (st == RS_OK && x->nhistory > 0)
		st = password_history_check(&x->t, x->password, x->history, x->nhistory, err);
	if (st != RS_OK)
		return st;
	if (!buf)
		return core_oom(err);
	if (!crypto_password_hash2(x->password, &pp, buf, cap))
		return rs_fail(err, RS_E_INTERNAL, "internal.password_hash", NULL,
			       "the password could not be hashed");
	x->hash = buf;
	return RS_OK;
}

enum rs_status users_password_set(struct core *c, const struct actor *who, const char *tenant,
				  const char *id, const char *password, bool temporary,
				  struct rs_err *err)
{
	struct arena a;
	struct pctx x = {.c = c,
			 .who = who,
			 .tenant = tenant,
			 .id = id,
			 .password = password,
			 .temporary = temporary,
			 .a = &a};
	enum rs_status st = check_text("password", password, RS_PASSWORD_INPUT_MAX, true, err);

	arena_init(&a, 0);
	if (st == RS_OK)
		st = core_read(c, target_tx, &x, err);
	if (st == RS_OK)
		st = hash_new(&x, err);
	if (st == RS_OK)
		st = core_write(c, store_tx_fn, &x, err);
	arena_release(&a);
	return st;
}

enum rs_status me_password_change(struct core *c, const struct actor *who, const char *current,
				  const char *password, struct rs_err *err)
{
	struct arena a;
	struct pctx x = {.c = c, .who = who, .current = current, .password = password, .a = &a};
	const char *rehash;
	enum rs_status st = check_text("password", password, RS_PASSWORD_INPUT_MAX, true, err);

	arena_init(&a, 0);
	if (st == RS_OK)
		st = check_text("current_password", current, RS_PASSWORD_INPUT_MAX, true, err);
	if (st == RS_OK)
		st = core_read(c, current_hash_tx, &x, err);
	/* The current password proves it is the user at the keyboard, not a stolen session. */
	if (st == RS_OK) {
		enum pw_verify v = x.hash ? password_verify(c, &x.t, x.hash, current, &a, &rehash)
					  : (password_dummy(c, &x.t, current), PW_MISMATCH);

		if (v != PW_MATCH && v != PW_MATCH_REHASH)
			st = rs_fail(err, RS_E_FORBIDDEN, "password.wrong_current",
				     "current_password", "the current password is wrong");
	}
	x.hash = NULL;
	if (st == RS_OK)
		st = hash_new(&x, err);
	if (st == RS_OK)
		st = core_write(c, store_tx_fn, &x, err);
	arena_release(&a);
	return st;
}

enum rs_status me_required_done(struct core *c, const struct actor *who, const char *action,
				struct rs_err *err)
{
	struct arena a;
	struct pctx x = {.c = c, .who = who, .action = action, .a = &a};
	enum rs_status st;

	arena_init(&a, 0);
	/* A reset is done by changing the password (me_password_change), an MFA reset by
	 * enrolling again; only consent is given by saying so. */
	if (!action || strcmp(action, "terms_of_service") != 0) {
		arena_release(&a);
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "action",
			       "only terms_of_service is completed by accepting it");
	}
	/* Consent sets no password: the history target_tx would load is not needed. */
	st = core_read(c, target_only_tx, &x, err);
	if (st == RS_OK && !has_required(&x.u, action))
		st = rs_fail(err, RS_E_CONFLICT, "user.action_not_required", NULL,
			     "'%s' is not among your required actions", action);
	if (st == RS_OK)
		st = core_write(c, store_tx_fn, &x, err);
	arena_release(&a);
	return st;
}

/* ---- provisioning (core/provision.c) -----------------------------------------------------------
 */

static enum rs_status tenant_only_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct pctx *x = arg;

	return tenant_resolve(tx, x->who, x->tenant, x->a, &x->t, err);
}

/* (core_int.h) */
enum rs_status password_prepare(struct core *c, const struct actor *who, const char *tenant,
				const char *id, const struct user_fields *f, const char *password,
				bool explicit, struct arena *a, const char **hash,
				struct rs_err *err)
{
	struct pctx x = {
	    .c = c, .who = who, .tenant = tenant, .id = id, .password = password, .a = a};
	const char *rehash;
	enum rs_status st = check_text("password", password, RS_PASSWORD_INPUT_MAX, true, err);

	*hash = NULL;
	if (st == RS_OK)
		st = core_read(c, id ? current_hash_tx : tenant_only_tx, &x, err);
	if (st != RS_OK)
		return st;
	/* The tenant ignores them (docs/scim.md): a placeholder in a created or replaced user
	 * passes, a change asked for by itself is refused rather than lost. */
	if (x.t.settings[TS_PROVISIONED_PASSWORDS] == 0)
		return explicit ? rs_fail(err, RS_E_INVALID, "password.not_provisioned", "password",
					  "this tenant does not take passwords from identity "
					  "providers (setting provisioned_passwords is ignore)")
				: RS_OK;
	/* An identity provider that syncs passwords sends the password again with every
	 * replacement of the user: the one already set is no change (and no history error). */
	if (x.hash) {
		enum pw_verify v = password_verify(c, &x.t, x.hash, password, a, &rehash);

		if (v == PW_MATCH || v == PW_MATCH_REHASH)
			return RS_OK;
	}
	x.hash = NULL;
	/* The policy's context words are the user's as they will be. */
	if (f->username.set)
		x.u.username = f->username.v;
	if (f->email.set)
		x.u.email = f->email.v;
	if (f->first_name.set)
		x.u.first_name = f->first_name.v;
	if (f->last_name.set)
		x.u.last_name = f->last_name.v;
	st = hash_new(&x, err);
	if (st == RS_OK)
		*hash = x.hash;
	return st;
}

/* (core_int.h) */
enum rs_status password_store_in(struct store_tx *tx, struct core *c, const struct actor *who,
				 const char *tenant_id, const char *user_id, const char *hash,
				 struct arena *a, struct rs_err *err)
{
	struct pctx x = {.c = c, .who = who, .id = user_id, .hash = hash, .a = a};

	x.t.id = tenant_id;
	x.u.id = user_id;
	return store_tx_fn(tx, &x, err);
}
