/* Password login (docs/authentication.md). The password is verified outside any transaction:
 * a 19 MiB, tens-of-milliseconds argon2id run must not hold the store's writer. The outcome
 * is then written in its own transaction, which re-reads the user, so a login racing a
 * suspension or an unlock sees the committed state.
 *
 * What an attacker learns is bounded: every failure that depends on whether the account
 * exists (unknown tenant or user, wrong password, locked, backing off) gets the same answer
 * after the same work, one password verification. Only after the right password does the
 * answer say more (suspended, deactivated). */
#include "core/core_int.h"

#include <stdio.h>

#include "crypto/crypto.h"
#include "crypto/password.h"

#define SECOND_MS 1000LL
#define MINUTE_MS 60000LL
#define BACKOFF_AFTER 3			/* failures in a row before attempts are spaced out */
#define BACKOFF_MAX_MS (15 * MINUTE_MS) /* and never by more than this */
#define FAILURES_PAGE_MAX 200

static enum rs_status bad_credentials(struct rs_err *err)
{
	return rs_fail(err, RS_E_UNAUTHENTICATED, "auth.invalid_credentials", NULL,
		       "the tenant, user name or password is wrong, or the account is locked");
}

/* What the read before the verification found. */
struct lookup {
	struct tenant t;
	struct user u;
	const char *hash; /* the stored password hash; NULL: none */
	int64_t hash_set_at;
	bool found, tenant_found;
};

struct lctx {
	struct core *c;
	const struct login_req *q;
	struct arena *a;
	struct lookup *l;
};

static enum rs_status find_user(struct store_tx *tx, struct lctx *x, struct rs_err *err)
{
	struct store_rows *r = NULL;
	struct user found[2];
	const char *key = str_lower(x->a, x->q->login);
	bool more = false;
	int n = 0;
	enum rs_status st;

	if (!key)
		return core_oom(err);
	st = Q_QUERY(tx, Q_USER_BY_USERNAME, &r, err, SV_S(x->l->t.id), SV_S(key));
	if (st == RS_OK)
		st = user_rows_fill(tx, r, x->a, found, 1, &n, &more, err);
	store_rows_close(r);
	/* An e-mail address identifies a user only when no other user of the tenant has it. */
	if (st == RS_OK && n == 0) {
		r = NULL;
		st = Q_QUERY(tx, Q_USER_BY_EMAIL, &r, err, SV_S(x->l->t.id), SV_S(key));
		if (st == RS_OK)
			st = user_rows_fill(tx, r, x->a, found, 2, &n, &more, err);
		store_rows_close(r);
	}
	if (st == RS_OK && n != 1)
		return RS_E_NOT_FOUND;
	if (st == RS_OK)
		x->l->u = found[0];
	return st;
}

static enum rs_status lookup_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct lctx *x = arg;
	struct store_rows *r = NULL;
	bool has = false, user = false;
	enum rs_status st;

	x->l->found = false;
	x->l->hash = NULL;
	st = tenant_load(tx, x->q->tenant, x->a, &x->l->t, err);
	x->l->tenant_found = st == RS_OK;
	if (st == RS_OK)
		st = find_user(tx, x, err);
	user = st == RS_OK;
	/* No such user: the credential is read all the same, for the same work either way. */
	if (st == RS_OK || (st == RS_E_NOT_FOUND && x->l->tenant_found))
		st = Q_QUERY(tx, Q_CREDENTIAL_GET, &r, err, SV_S(x->l->t.id),
			     SV_S(user ? x->l->u.id : ""), SV_S("password"));
	if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		x->l->hash = col_str(r, 0, x->a);
		x->l->hash_set_at = store_col_int(r, 1);
	}
	store_rows_close(r);
	if (st == RS_E_NOT_FOUND)
		return RS_OK;
	x->l->found = st == RS_OK && user;
	return st;
}

/* How long after its last failure an account takes its next attempt: nothing for the first
 * few, then 1 s, 2 s, 4 s … up to BACKOFF_MAX_MS. */
static int64_t backoff_ms(int64_t failures)
{
	int64_t shift = failures - BACKOFF_AFTER;

	if (shift < 0)
		return 0;
	return shift >= 10			       ? BACKOFF_MAX_MS
	       : (SECOND_MS << shift) > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
						       : (SECOND_MS << shift);
}

/* Locked now? A lock ends by itself after lockout_minutes (0: an admin unlocks). */
static bool is_locked(const struct tenant *t, const struct user *u, int64_t now)
{
	int64_t minutes = t->settings[TS_LOCKOUT_MINUTES];

	if (!u->locked)
		return false;
	return minutes == 0 || now - u->last_failed_login_at < minutes * MINUTE_MS;
}

/* ---- the outcome --------------------------------------------------------------------------
 */

struct octx {
	struct core *c;
	const struct login_req *q;
	struct lookup *l;
	const char *reason; /* a failure's reason; NULL: success */
	const char *rehash; /* success: a new hash to store */
	struct arena *a;
	struct login_result *out;
};

/* An attempt on no account leaves a record too (user_id ""), written by the same statements
 * in the same kind of transaction as a failure on a real account: the answer then takes as
 * long either way, and the tenant keeps a count of attempts on names it doesn't have (what a
 * credential-stuffing run looks like). No attempted name is stored: people type passwords
 * into the name field. */
/* The lockout state of a user, read under the tenant's lock; nothing for id "". */
static enum rs_status login_state(struct store_tx *tx, const char *tenant_id, const char *id,
				  struct user *u, struct rs_err *err)
{
	struct store_rows *r = NULL;
	bool has = false;
	enum rs_status st = Q_QUERY(tx, Q_USER_LOGIN_STATE, &r, err, SV_S(tenant_id), SV_S(id));

	if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		u->locked = store_col_int(r, 0) != 0;
		u->failed_logins = store_col_int(r, 1);
		u->last_failed_login_at = store_col_null(r, 2) ? 0 : store_col_int(r, 2);
	}
	store_rows_close(r);
	return st == RS_OK && !has && *id ? RS_E_NOT_FOUND : st;
}

static enum rs_status unknown_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct octx *x = arg;
	const char *tid = x->l->tenant_found ? x->l->t.id : "";
	char id[UUID_STR_LEN];
	int64_t now = core_now(x->c);
	struct user none = {0};
	enum rs_status st = tenant_lock(tx, tid, err);

	if (st == RS_OK)
		st = login_state(tx, tid, "", &none, err);
	if (!core_new_id(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_USER_LOGIN_FAILED, NULL, err, SV_S(tid), SV_S(""), SV_I(now),
			    SV_I(0));
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_LOGIN_FAILURE_INSERT, NULL, err, SV_S(tid), SV_S(""), SV_S(id),
			    SV_I(now), SV_S(x->q->source_ip), SV_S(x->q->user_agent),
			    SV_S(x->l->tenant_found ? "unknown_user" : "unknown_tenant"));
	return st;
}

static enum rs_status failure_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct octx *x = arg;
	struct user u = x->l->u; /* ids and names; the lockout state is read again below */
	char id[UUID_STR_LEN];
	int64_t now = core_now(x->c), threshold = x->l->t.settings[TS_LOCKOUT_THRESHOLD];
	bool lock;
	enum rs_status st = tenant_lock(tx, x->l->t.id, err);

	if (st == RS_OK)
		st = login_state(tx, x->l->t.id, u.id, &u, err);
	if (st != RS_OK)
		return st;
	/* A lock that has run out counts again from nothing. */
	if (u.locked && !is_locked(&x->l->t, &u, now))
		u.failed_logins = 0;
	lock = threshold > 0 && u.failed_logins + 1 >= threshold;
	if (!core_new_id(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	st = Q_EXEC(tx, Q_USER_LOGIN_FAILED, NULL, err, SV_S(u.tenant_id), SV_S(u.id), SV_I(now),
		    SV_I(lock ? 1 : 0));
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_LOGIN_FAILURE_INSERT, NULL, err, SV_S(u.tenant_id), SV_S(u.id),
			    SV_S(id), SV_I(now), SV_S(x->q->source_ip), SV_S(x->q->user_agent),
			    SV_S(x->reason));
	if (st == RS_OK && lock && !is_locked(&x->l->t, &u, now)) {
		struct actor sys = {.kind = ACTOR_SYSTEM,
				    .request_id = x->q->request_id,
				    .source_ip = x->q->source_ip};
		struct changes *ch = changes_new();

		changes_int(ch, "locked", true, 0, true, 1);
		changes_int(ch, "failed_logins", true, u.failed_logins, true, u.failed_logins + 1);
		st = audit_append(tx, x->c, &sys, u.tenant_id, "user.lock", "user", u.id,
				  changes_dump(ch, x->a), err);
		changes_free(ch);
		if (st == RS_OK)
			st =
			    outbox_event(tx, x->c, u.tenant_id, "user.locked",
					 arena_printf(x->a,
						      "{\"user\":{\"id\":\"%s\"},\"failed_logins\":"
						      "%lld}",
						      u.id, (long long)(u.failed_logins + 1)),
					 err);
	}
	return st;
}

static enum rs_status success_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct octx *x = arg;
	struct user u;
	struct actor who;
	int64_t now = core_now(x->c);
	enum rs_status st = tenant_lock(tx, x->l->t.id, err);

	if (st == RS_OK)
		st = user_load(tx, x->l->t.id, x->l->u.id, x->a, &u, NULL, err);
	if (st == RS_E_NOT_FOUND)
		return bad_credentials(err); /* deleted meanwhile */
	if (st != RS_OK)
		return st;
	/* Checked again under the lock: an admin may have suspended or locked it meanwhile. */
	if (is_locked(&x->l->t, &u, now))
		return bad_credentials(err);
	if (strcmp(u.status, "active") != 0)
		return rs_fail(err, RS_E_FORBIDDEN, arena_printf(x->a, "auth.account_%s", u.status),
			       NULL, "the account is %s", u.status);
	if (x->rehash)
		st = Q_EXEC(tx, Q_CREDENTIAL_PUT, NULL, err, SV_S(u.tenant_id), SV_S(u.id),
			    SV_S("password"), SV_S(x->rehash), SV_I(now));
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_USER_LOGIN_OK, NULL, err, SV_S(u.tenant_id), SV_S(u.id),
			    SV_I(now));
	/* A password past the tenant's maximum age still logs in, into a session that can only
	 * change it. */
	if (st == RS_OK && password_expired(&x->l->t, x->l->hash_set_at, now)) {
		const char *req = user_required_with(&u, "password_reset", true, x->a);

		st = req ? Q_EXEC(tx, Q_USER_SET_REQUIRED, NULL, err, SV_S(u.tenant_id), SV_S(u.id),
				  SV_S(req), SV_I(now))
			 : core_oom(err);
		if (st == RS_OK)
			st = user_load(tx, u.tenant_id, u.id, x->a, &u, NULL, err);
	}
	if (st == RS_OK)
		st = session_create(tx, x->c, &x->l->t, &u, x->q->source_ip, x->q->user_agent, x->a,
				    x->out, err);
	if (st != RS_OK)
		return st;
	actor_for_user(&who, &x->l->t, &u, 0, NULL, 0);
	who.request_id = x->q->request_id;
	who.source_ip = x->q->source_ip;
	{
		struct changes *ch = changes_new();

		changes_str(ch, "session_id", NULL, x->out->session.id);
		changes_str(ch, "source_ip", NULL, x->q->source_ip);
		if (x->rehash)
			changes_str(ch, "password_hash", "upgraded", "argon2id");
		st = audit_append(tx, x->c, &who, u.tenant_id, "session.create", "user", u.id,
				  changes_dump(ch, x->a), err);
		changes_free(ch);
	}
	x->out->user = u;
	x->out->tenant = x->l->t;
	return st;
}

enum rs_status auth_login(struct core *c, const struct login_req *q, struct arena *a,
			  struct login_result *out, int64_t *retry_after_s, struct rs_err *err)
{
	struct lookup l = {0};
	struct lctx lx = {c, q, a, &l};
	struct octx ox = {.c = c, .q = q, .l = &l, .a = a, .out = out};
	int64_t now = core_now(c), wait;
	enum pw_verify v;
	enum rs_status st;

	*retry_after_s = 0;
	memset(out, 0, sizeof(*out));
	if (!q->tenant || !*q->tenant || !q->login || !*q->login || !q->password)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field",
			       !q->tenant || !*q->tenant ? "tenant"
			       : !q->login || !*q->login ? "username"
							 : "password",
			       "tenant, username (or email) and password are required");
	wait = throttle_take(c->throttle, q->source_ip, now);
	if (wait > 0) {
		*retry_after_s = (wait + 999) / 1000;
		return rs_fail(err, RS_E_LIMIT, "auth.throttled", NULL,
			       "too many login attempts from this address: wait %lld s",
			       (long long)*retry_after_s);
	}
	if (strlen(q->login) > RS_EMAIL_MAX || strlen(q->password) > RS_PASSWORD_INPUT_MAX ||
	    !str_valid_text(q->login)) {
		password_dummy(c, l.tenant_found ? &l.t : NULL, q->password);
		return bad_credentials(err);
	}
	st = core_read(c, lookup_tx, &lx, err);
	if (st != RS_OK)
		return st;
	if (!l.found || !l.hash) {
		password_dummy(c, l.tenant_found ? &l.t : NULL,
			       q->password); /* the same cost as a real verification */
		st = core_write(c, unknown_tx, &ox, err);
		return st == RS_OK ? bad_credentials(err) : st;
	}
	/* Locked or backing off: the password is not even judged, but it costs the same. */
	if (is_locked(&l.t, &l.u, now) ||
	    (l.u.last_failed_login_at &&
	     now - l.u.last_failed_login_at < backoff_ms(l.u.failed_logins))) {
		password_dummy(c, l.tenant_found ? &l.t : NULL, q->password);
		ox.reason = is_locked(&l.t, &l.u, now) ? "locked" : "backoff";
		st = core_write(c, failure_tx, &ox, err);
		return st == RS_OK ? bad_credentials(err) : st;
	}
	v = password_verify(c, &l.t, l.hash, q->password, a, &ox.rehash);
	if (v != PW_MATCH && v != PW_MATCH_REHASH) {
		ox.reason = v == PW_UNSUPPORTED ? "unsupported_hash" : "bad_password";
		st = core_write(c, failure_tx, &ox, err);
		return st == RS_OK ? bad_credentials(err) : st;
	}
	st = core_write(c, success_tx, &ox, err);
	if (st == RS_OK)
		st = session_access_token(c, &out->user, out->session.id, a, &out->access_token,
					  &out->access_expires_in_s, err);
	return st;
}

/* ---- admin: unlock, failure history -----------------------------------------------------------
 */

struct uctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *id;
	const struct page *pg;
	struct arena *a;
	struct user *out;
	struct login_failure_list *list;
};

static enum rs_status target(struct store_tx *tx, struct uctx *x, enum perm p, bool write,
			     struct tenant *t, struct user *u, struct rs_err *err)
{
	enum rs_status st = write ? tenant_resolve_write(tx, x->who, x->tenant, x->a, t, err)
				  : tenant_resolve(tx, x->who, x->tenant, x->a, t, err);

	if (st == RS_OK)
		st = require_perm_any(x->who, p, err);
	if (st == RS_OK)
		st = user_load(tx, t->id, x->id, x->a, u, NULL, err);
	if (st == RS_OK)
		st = require_user_perm(tx, x->who, u, p, err);
	if (st == RS_OK)
		st = rank_may_act_on(x->who, u->rank, err);
	return st;
}

static enum rs_status unlock_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct uctx *x = arg;
	struct tenant t;
	struct user u;
	struct changes *ch;
	enum rs_status st = target(tx, x, PERM_USERS_UPDATE, true, &t, &u, err);

	if (st == RS_OK)
		st = Q_EXEC(tx, Q_USER_UNLOCK, NULL, err, SV_S(t.id), SV_S(u.id),
			    SV_I(core_now(x->c)));
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_int(ch, "locked", true, u.locked, true, 0);
	changes_int(ch, "failed_logins", true, u.failed_logins, true, 0);
	st = audit_append(tx, x->c, x->who, t.id, "user.unlock", "user", u.id,
			  changes_dump(ch, x->a), err);
	changes_free(ch);
	return st == RS_OK ? user_load(tx, t.id, u.id, x->a, x->out, NULL, err) : st;
}

enum rs_status users_unlock(struct core *c, const struct actor *who, const char *tenant,
			    const char *id, struct arena *a, struct user *out, struct rs_err *err)
{
	struct uctx x = {.c = c, .who = who, .tenant = tenant, .id = id, .a = a, .out = out};

	return core_write(c, unlock_tx, &x, err);
}

static enum rs_status failures_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct uctx *x = arg;
	struct tenant t;
	struct user u;
	struct store_rows *r = NULL;
	int limit = x->pg->limit > 0 && x->pg->limit <= FAILURES_PAGE_MAX ? x->pg->limit : 50;
	const char *before = x->pg->cursor;
	bool has;
	enum rs_status st = target(tx, x, PERM_USERS_READ, false, &t, &u, err);

	if (st != RS_OK)
		return st;
	if (before && !uuid_valid(before))
		return rs_fail(err, RS_E_INVALID, "request.invalid_cursor", "cursor",
			       "the cursor is not one this list gave");
	x->list->items = arena_alloc(x->a, sizeof(*x->list->items) * (size_t)(limit + 1));
	if (!x->list->items)
		return core_oom(err);
	st = Q_QUERY(tx, Q_LOGIN_FAILURE_LIST, &r, err, SV_S(t.id), SV_S(u.id), SV_S(before),
		     SV_I(limit + 1));
	while (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		struct login_failure *f = &x->list->items[x->list->n];

		if (x->list->n == limit) {
			x->list->next_cursor = x->list->items[limit - 1].id;
			break;
		}
		*f = (struct login_failure){col_str(r, 0, x->a), col_str(r, 2, x->a),
					    col_str(r, 3, x->a), col_str(r, 4, x->a),
					    store_col_int(r, 1)};
		x->list->n++;
	}
	store_rows_close(r);
	return st;
}

enum rs_status login_failures_list(struct core *c, const struct actor *who, const char *tenant,
				   const char *user_id, const struct page *pg, struct arena *a,
				   struct login_failure_list *out, struct rs_err *err)
{
	struct uctx x = {
	    .c = c, .who = who, .tenant = tenant, .id = user_id, .pg = pg, .a = a, .list = out};

	memset(out, 0, sizeof(*out));
	return core_read(c, failures_tx, &x, err);
}
