/* Interactive sessions (docs/authentication.md). A session is a row with two secrets: the
 * cookie value "rss_<lookup>_<secret>" and the CSRF token, both stored as HMAC-SHA256 under
 * the server key, plus a family of rotating refresh tokens. Requests carrying the cookie are
 * resolved through a per-node cache tied to the auth epoch, like API tokens (core/auth.c): any
 * revoking write anywhere empties it, so a revoked session, or a suspended user's, is refused
 * on the very next request without a store round-trip per request in the common case. */
#include "core/core_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "crypto/crypto.h"

#define SESSION_PREFIX "rss_"
#define REFRESH_PREFIX "rsr_"
#define CACHE_SLOTS 4096
#define CACHE_STRIPES 64
#define CACHE_TTL_MS 60000
#define TOUCH_EVERY_MS 60000 /* last_seen_at is kept to this precision */
#define MINUTE_MS 60000LL
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

struct session_entry {
	char key[UUID_STR_LEN + 2]; /* "c" + the cookie's lookup, or "s" + the session id */
	char hash[65], csrf[65];
	uint64_t epoch;
	int64_t filled_ms, expires_at, idle_ms, last_seen, touched;
	struct actor actor;
};

struct session_cache {
	pthread_mutex_t locks[CACHE_STRIPES];
	struct session_entry slots[CACHE_SLOTS];
};

struct session_cache *session_cache_new(void)
{
	struct session_cache *sc = calloc(1, sizeof(*sc));

	for (int i = 0; sc && i < CACHE_STRIPES; i++)
		pthread_mutex_init(&sc->locks[i], NULL);
	return sc;
}

void session_cache_free(struct session_cache *sc)
{
	if (!sc)
		return;
	for (int i = 0; i < CACHE_STRIPES; i++)
		pthread_mutex_destroy(&sc->locks[i]);
	crypto_wipe(sc->slots, sizeof(sc->slots));
	free(sc);
}

static unsigned slot_of(const char *lookup)
{
	return str_hash(lookup) % CACHE_SLOTS;
}

static enum rs_status invalid(struct rs_err *err)
{
	return rs_fail(err, RS_E_UNAUTHENTICATED, "auth.invalid_session", NULL,
		       "the session is invalid, expired or revoked: log in again");
}

void row_session(struct store_rows *r, struct arena *a, struct session *s)
{
	*s = (struct session){
	    .id = col_str(r, SEC_ID, a),
	    .tenant_id = col_str(r, SEC_TENANT, a),
	    .user_id = col_str(r, SEC_USER, a),
	    .source_ip = col_str(r, SEC_IP, a),
	    .user_agent = col_str(r, SEC_UA, a),
	    .revoked_reason = col_str(r, SEC_REASON, a),
	    .created_at = store_col_int(r, SEC_CREATED),
	    .last_seen_at = store_col_int(r, SEC_SEEN),
	    .expires_at = store_col_int(r, SEC_EXPIRES),
	    .idle_timeout_ms = store_col_null(r, SEC_IDLE) ? 0 : store_col_int(r, SEC_IDLE),
	    .revoked_at = store_col_null(r, SEC_REVOKED) ? 0 : store_col_int(r, SEC_REVOKED),
	};
}

/* Alive at now: not revoked, within its absolute lifetime and its idle timeout. */
static bool session_live(const struct session *s, int64_t last_seen, int64_t now)
{
	return !s->revoked_at && now < s->expires_at &&
	       (!s->idle_timeout_ms || now - last_seen < s->idle_timeout_ms);
}

void actor_for_user(struct actor *out, const struct tenant *t, const struct user *u, uint64_t perms,
		    const struct actor_scope *scopes, int nscopes)
{
	memset(out, 0, sizeof(*out));
	out->kind = ACTOR_TOKEN;
	str_copy(out->tenant_id, sizeof(out->tenant_id), t->id);
	str_copy(out->tenant_slug, sizeof(out->tenant_slug), t->slug);
	str_copy(out->user_id, sizeof(out->user_id), u->id);
	str_copy(out->username, sizeof(out->username), u->username);
	out->rank = u->rank;
	/* Required actions first: a session can do nothing else until they are done. */
	out->restricted = u->nrequired_actions > 0;
	if (out->restricted)
		return;
	out->perms = perms;
	out->platform = (perms & PERM_BIT(PERM_PLATFORM_TENANTS)) != 0;
	for (int i = 0; i < nscopes && i < ACTOR_SCOPES_MAX; i++)
		out->scopes[out->nscopes++] = scopes[i];
}

/* ---- creating ---------------------------------------------------------------------------------
 */

/* The session's idle timeout: the user's own "log out after", else the tenant's. */
static int64_t idle_ms_of(const struct tenant *t, const struct user *u)
{
	if (u->has_idle_logout && u->idle_logout_minutes > 0)
		return u->idle_logout_minutes * MINUTE_MS;
	return t->settings[TS_SESSION_IDLE_MINUTES] * MINUTE_MS;
}

/* At the tenant's session limit the oldest live sessions go, or the login is refused. */
static enum rs_status make_room(struct store_tx *tx, struct core *c, const struct tenant *t,
				const struct user *u, struct arena *a, struct rs_err *err)
{
	int64_t max = t->settings[TS_MAX_SESSIONS], now = core_now(c);
	struct store_rows *r = NULL;
	struct session *live = NULL;
	int n = 0, cap = 0;
	enum rs_status st;
	bool has;

	if (max <= 0)
		return RS_OK;
	st = Q_QUERY(tx, Q_SESSION_LIST_USER, &r, err, SV_S(t->id), SV_S(u->id), SV_I(now));
	while (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		struct session s;

		row_session(r, a, &s);
		if (!session_live(&s, s.last_seen_at, now))
			continue;
		if (n == cap) {
			struct session *grown = arena_alloc(a, sizeof(*grown) * (size_t)(cap + 16));

			if (!grown) {
				st = core_oom(err);
				break;
			}
			if (n)
				memcpy(grown, live, sizeof(*grown) * (size_t)n);
			live = grown;
			cap += 16;
		}
		live[n++] = s;
	}
	store_rows_close(r);
	if (st != RS_OK || n < max)
		return st;
	if (t->settings[TS_SESSION_LIMIT_ACTION] == 1)
		return rs_fail(err, RS_E_CONFLICT, "session.limit", NULL,
			       "you already have %d sessions, the most this tenant allows: log out "
			       "of one first",
			       n);
	for (int i = 0; st == RS_OK && i <= n - max; i++)
		st = Q_EXEC(tx, Q_SESSION_REVOKE, NULL, err, SV_S(t->id), SV_S(live[i].id),
			    SV_I(now), SV_S("evicted"));
	return st == RS_OK ? store_signal(tx, STORE_SIG_AUTH, err) : st;
}

enum rs_status refresh_issue(struct store_tx *tx, struct core *c, const char *tenant_id,
			     const char *session_id, int64_t expires_at, struct arena *a,
			     const char **token, struct rs_err *err)
{
	char lookup[TOKEN_LOOKUP_LEN + 1], hash[65];
	enum rs_status st = secret_mint(c, a, REFRESH_PREFIX, token, lookup, hash, err);

	if (st == RS_OK)
		st = Q_EXEC(tx, Q_REFRESH_INSERT, NULL, err, SV_S(lookup), SV_S(tenant_id),
			    SV_S(session_id), SV_S(hash), SV_I(core_now(c)), SV_I(expires_at));
	return st;
}

enum rs_status session_create(struct store_tx *tx, struct core *c, const struct tenant *t,
			      const struct user *u, const char *source_ip, const char *user_agent,
			      struct arena *a, struct login_result *out, struct rs_err *err)
{
	char id[UUID_STR_LEN], lookup[TOKEN_LOOKUP_LEN + 1], hash[65], csrf_lookup[17],
	    csrf_hash[65];
	int64_t now = core_now(c), idle = idle_ms_of(t, u);
	int64_t expires = now + t->settings[TS_SESSION_MAX_HOURS] * HOUR_MS;
	int64_t refresh_exp = now + t->settings[TS_REFRESH_TOKEN_DAYS] * DAY_MS;
	const char *csrf;
	enum rs_status st = make_room(tx, c, t, u, a, err);

	if (st != RS_OK)
		return st;
	if (!core_new_id(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	st = secret_mint(c, a, SESSION_PREFIX, &out->session_token, lookup, hash, err);
	if (st == RS_OK)
		st = secret_mint(c, a, "", &csrf, csrf_lookup, csrf_hash, err);
	if (st != RS_OK)
		return st;
	out->csrf_token = csrf;
	st = Q_EXEC(tx, Q_SESSION_INSERT, NULL, err, SV_S(t->id), SV_S(id), SV_S(u->id),
		    SV_S(lookup), SV_S(hash), SV_S(csrf_hash), SV_S(source_ip), SV_S(user_agent),
		    SV_I(now), SV_I(idle), SV_I(expires));
	if (refresh_exp > expires)
		refresh_exp = expires;
	if (st == RS_OK)
		st = refresh_issue(tx, c, t->id, id, refresh_exp, a, &out->refresh_token, err);
	if (st != RS_OK)
		return st;
	out->refresh_expires_at = refresh_exp;
	out->session = (struct session){.id = arena_strdup(a, id),
					.tenant_id = t->id,
					.user_id = u->id,
					.source_ip = source_ip,
					.user_agent = user_agent,
					.created_at = now,
					.last_seen_at = now,
					.expires_at = expires,
					.idle_timeout_ms = idle,
					.current = true};
	return out->session.id ? RS_OK : core_oom(err);
}

/* ---- resolving a cookie or a session id --------------------------------------------------------
 */

struct fill_ctx {
	struct core *c;
	const char *key, *lookup, *hash; /* a cookie: its lookup and secret's hash */
	const char *tenant_id, *sid;	 /* or a session named by an access token */
	struct session_entry *e;
};

static enum rs_status fill_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct fill_ctx *x = arg;
	struct store_rows *r = NULL;
	struct arena a;
	struct session s;
	struct tenant t;
	struct user u;
	struct actor_scope scopes[ACTOR_SCOPES_MAX];
	int nscopes = 0;
	uint64_t perms = 0;
	bool has = false, match = false;
	char csrf[65] = "";
	int64_t now = core_now(x->c);
	enum rs_status st;

	arena_init(&a, 0);
	st = x->lookup ? Q_QUERY(tx, Q_SESSION_BY_LOOKUP, &r, err, SV_S(x->lookup))
		       : Q_QUERY(tx, Q_SESSION_GET, &r, err, SV_S(x->tenant_id), SV_S(x->sid));
	if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		const char *stored = store_col_text(r, SEC_HASH);

		row_session(r, &a, &s);
		/* An access token's signature has already proven it; a cookie proves itself. */
		match = !x->lookup ||
			(stored && strlen(stored) == 64 && crypto_equal(stored, x->hash, 64));
		str_copy(csrf, sizeof(csrf), store_col_text(r, SEC_CSRF));
	}
	store_rows_close(r);
	if (st != RS_OK)
		goto out;
	if (!has || !match || !session_live(&s, s.last_seen_at, now)) {
		st = invalid(err);
		goto out;
	}
	st = tenant_load(tx, s.tenant_id, &a, &t, err);
	if (st == RS_OK)
		st = user_load_grants(tx, t.id, s.user_id, &a, &u, &perms, scopes, &nscopes, err);
	if (st == RS_E_NOT_FOUND || (st == RS_OK && strcmp(u.status, "active") != 0)) {
		st = invalid(err);
		goto out;
	}
	if (st != RS_OK)
		goto out;
	memset(x->e, 0, sizeof(*x->e));
	str_copy(x->e->key, sizeof(x->e->key), x->key);
	if (x->hash)
		str_copy(x->e->hash, sizeof(x->e->hash), x->hash);
	str_copy(x->e->csrf, sizeof(x->e->csrf), csrf);
	x->e->filled_ms = now;
	x->e->expires_at = s.expires_at;
	x->e->idle_ms = s.idle_timeout_ms;
	x->e->last_seen = s.last_seen_at;
	x->e->touched = s.last_seen_at;
	actor_for_user(&x->e->actor, &t, &u, perms, scopes, nscopes);
	str_copy(x->e->actor.session_id, sizeof(x->e->actor.session_id), s.id);
out:
	arena_release(&a);
	return st;
}

static enum rs_status touch_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	const struct session_entry *e = arg;
	enum rs_status st = Q_EXEC(tx, Q_SESSION_TOUCH, NULL, err, SV_S(e->actor.tenant_id),
				   SV_S(e->actor.session_id), SV_I(e->last_seen));

	if (st == RS_OK)
		st = Q_EXEC(tx, Q_USER_TOUCH, NULL, err, SV_S(e->actor.tenant_id),
			    SV_S(e->actor.user_id), SV_I(e->last_seen));
	return st;
}

static bool entry_live(const struct session_entry *e, uint64_t epoch, int64_t now)
{
	return e->epoch == epoch && now - e->filled_ms < CACHE_TTL_MS && now < e->expires_at &&
	       (!e->idle_ms || now - e->last_seen < e->idle_ms);
}

/* The session's entry, from the cache or the store; *out gets a copy. Use keeps it alive
 * (idle timeout) and is written to the store at most every TOUCH_EVERY_MS. */
static enum rs_status resolve(struct core *c, struct fill_ctx *fx, struct session_entry *out,
			      struct rs_err *err)
{
	struct session_entry *slot;
	pthread_mutex_t *lock;
	uint64_t epoch = atomic_load(&c->auth_epoch);
	int64_t now = core_now(c);
	unsigned idx = slot_of(fx->key);
	bool hit = false, touch = false;
	enum rs_status st;

	slot = &c->sessions->slots[idx];
	lock = &c->sessions->locks[idx % CACHE_STRIPES];
	pthread_mutex_lock(lock);
	if (strcmp(slot->key, fx->key) == 0 &&
	    (!fx->hash || crypto_equal(slot->hash, fx->hash, 64)) && entry_live(slot, epoch, now)) {
		*out = *slot;
		slot->last_seen = now;
		touch = now - slot->touched >= TOUCH_EVERY_MS;
		if (touch)
			slot->touched = now;
		hit = true;
	}
	pthread_mutex_unlock(lock);
	if (!hit) {
		fx->e = out;
		st = core_read(c, fill_tx, fx, err);
		if (st != RS_OK)
			return st;
		out->epoch = epoch;
		touch = now - out->touched >= TOUCH_EVERY_MS;
		out->last_seen = now;
		if (touch)
			out->touched = now;
		pthread_mutex_lock(lock);
		*slot = *out;
		pthread_mutex_unlock(lock);
	}
	if (touch) {
		struct rs_err ignored;

		out->last_seen = now;
		(void)core_write(c, touch_tx, out, &ignored); /* best effort */
	}
	return RS_OK;
}

enum rs_status auth_session(struct core *c, const char *cookie, bool safe, const char *csrf,
			    struct actor *out, struct rs_err *err)
{
	struct session_entry e;
	struct fill_ctx fx = {.c = c};
	char key[UUID_STR_LEN + 2], lookup[TOKEN_LOOKUP_LEN + 1], hash[65], csrf_hash[65] = "";
	const char *secret;
	bool csrf_ok;
	enum rs_status st;

	if (!cookie || !secret_split(cookie, SESSION_PREFIX, lookup, &secret))
		return invalid(err);
	token_hash(c, secret, hash);
	if (!safe) {
		char l[TOKEN_LOOKUP_LEN + 1];
		const char *cs;

		if (!csrf || !secret_split(csrf, "", l, &cs))
			return rs_fail(err, RS_E_FORBIDDEN, "auth.csrf", NULL,
				       "a write with the session cookie needs the session's "
				       "X-CSRF-Token header");
		token_hash(c, cs, csrf_hash);
	}
	snprintf(key, sizeof(key), "c%s", lookup);
	fx.key = key;
	fx.lookup = lookup;
	fx.hash = hash;
	st = resolve(c, &fx, &e, err);
	if (st != RS_OK)
		return st;
	csrf_ok = safe || crypto_equal(e.csrf, csrf_hash, 64);
	*out = e.actor;
	crypto_wipe(&e, sizeof(e));
	if (!csrf_ok)
		return rs_fail(err, RS_E_FORBIDDEN, "auth.csrf", NULL,
			       "the X-CSRF-Token header doesn't match the session");
	return RS_OK;
}

enum rs_status auth_session_id(struct core *c, const char *tenant_id, const char *sid,
			       struct actor *out, struct rs_err *err)
{
	struct session_entry e;
	struct fill_ctx fx = {.c = c, .tenant_id = tenant_id, .sid = sid};
	char key[UUID_STR_LEN + 2];
	enum rs_status st;

	if (!sid || !uuid_valid(sid) || !tenant_id)
		return invalid(err);
	snprintf(key, sizeof(key), "s%s", sid);
	fx.key = key;
	st = resolve(c, &fx, &e, err);
	if (st == RS_OK)
		*out = e.actor;
	crypto_wipe(&e, sizeof(e));
	return st;
}

/* ---- listing and revoking ---------------------------------------------------------------------
 */

struct ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *user_id, *id;
	struct arena *a;
	struct session_list *out;
};

/* The user whose sessions are meant: the caller's own, or another's (perm, rank rule). */
static enum rs_status target_user(struct store_tx *tx, struct ctx *x, enum perm p, struct tenant *t,
				  struct user *u, struct rs_err *err)
{
	const char *uid = x->user_id ? x->user_id : x->who->user_id;
	enum rs_status st = x->user_id ? tenant_resolve(tx, x->who, x->tenant, x->a, t, err)
				       : tenant_load(tx, x->who->tenant_id, x->a, t, err);

	if (st == RS_OK && x->user_id)
		st = require_perm_any(x->who, p, err);
	if (st == RS_OK && !*uid)
		st = rs_fail(err, RS_E_NOT_FOUND, "user.not_found", NULL,
			     "this credential belongs to no user");
	if (st == RS_OK)
		st = user_load(tx, t->id, uid, x->a, u, NULL, err);
	if (st == RS_OK && x->user_id)
		st = require_user_perm(tx, x->who, u, p, err);
	if (st == RS_OK && x->user_id)
		st = rank_may_act_on(x->who, u->rank, err);
	return st;
}

static enum rs_status list_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	struct user u;
	struct store_rows *r = NULL;
	int64_t now = core_now(x->c);
	int cap = 0;
	bool has;
	enum rs_status st = target_user(tx, x, PERM_USERS_READ, &t, &u, err);

	x->out->n = 0;
	if (st == RS_OK)
		st = Q_QUERY(tx, Q_SESSION_LIST_USER, &r, err, SV_S(t.id), SV_S(u.id), SV_I(now));
	while (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		struct session s;

		row_session(r, x->a, &s);
		if (!session_live(&s, s.last_seen_at, now))
			continue;
		if (x->out->n == cap) {
			struct session *grown =
			    arena_alloc(x->a, sizeof(*grown) * (size_t)(cap + 16));

			if (!grown) {
				st = core_oom(err);
				break;
			}
			if (x->out->n)
				memcpy(grown, x->out->items, sizeof(*grown) * (size_t)x->out->n);
			x->out->items = grown;
			cap += 16;
		}
		s.current = strcmp(s.id, x->who->session_id) == 0;
		x->out->items[x->out->n++] = s;
	}
	store_rows_close(r);
	return st;
}

enum rs_status sessions_list(struct core *c, const struct actor *who, const char *tenant,
			     const char *user_id, struct arena *a, struct session_list *out,
			     struct rs_err *err)
{
	struct ctx x = {c, who, tenant, user_id, NULL, a, out};

	memset(out, 0, sizeof(*out));
	return core_read(c, list_tx, &x, err);
}

static enum rs_status revoke_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	struct user u;
	struct changes *ch;
	int64_t now = core_now(x->c), changed = 0;
	const char *reason = x->user_id ? "revoked by an administrator" : "revoked";
	enum rs_status st = target_user(tx, x, PERM_USERS_SUSPEND, &t, &u, err);

	if (st == RS_OK)
		st = tenant_lock(tx, t.id, err);
	if (st != RS_OK)
		return st;
	if (x->id) {
		struct store_rows *r = NULL;
		struct session s;
		bool has = false;

		st = uuid_valid(x->id)
			 ? Q_QUERY(tx, Q_SESSION_GET, &r, err, SV_S(t.id), SV_S(x->id))
			 : RS_OK;
		if (st == RS_OK && r && (st = store_rows_next(r, &has, err)) == RS_OK && has)
			row_session(r, x->a, &s);
		store_rows_close(r);
		if (st != RS_OK)
			return st;
		if (!has || strcmp(s.user_id, u.id) != 0 || !session_live(&s, s.last_seen_at, now))
			return rs_fail(err, RS_E_NOT_FOUND, "session.not_found", NULL,
				       "no such live session of this user");
		st = Q_EXEC(tx, Q_SESSION_REVOKE, &changed, err, SV_S(t.id), SV_S(s.id), SV_I(now),
			    SV_S(reason));
	} else {
		st = Q_EXEC(tx, Q_SESSION_REVOKE_USER, &changed, err, SV_S(t.id), SV_S(u.id),
			    SV_I(now), SV_S(reason), SV_NULLV);
	}
	if (st == RS_OK)
		st = store_signal(tx, STORE_SIG_AUTH, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_int(ch, "sessions_revoked", false, 0, true, changed);
	changes_str(ch, "session_id", NULL, x->id);
	st = audit_append(tx, x->c, x->who, t.id, "session.revoke", "user", u.id,
			  changes_dump(ch, x->a), err);
	changes_free(ch);
	return st;
}

enum rs_status sessions_revoke(struct core *c, const struct actor *who, const char *tenant,
			       const char *user_id, const char *id, struct rs_err *err)
{
	struct ctx x = {c, who, tenant, user_id, id, NULL, NULL};

	return core_write_scratch(c, revoke_tx, &x, &x.a, err);
}

enum rs_status auth_logout(struct core *c, const struct actor *who, struct rs_err *err)
{
	if (!who->session_id[0])
		return rs_fail(err, RS_E_INVALID, "session.none", NULL,
			       "this credential is not a session: revoke the token instead");
	return sessions_revoke(c, who, NULL, NULL, who->session_id, err);
}

enum rs_status sessions_revoke_user(struct store_tx *tx, const char *tenant_id, const char *user_id,
				    int64_t now, const char *reason, struct rs_err *err)
{
	return Q_EXEC(tx, Q_SESSION_REVOKE_USER, NULL, err, SV_S(tenant_id), SV_S(user_id),
		      SV_I(now), SV_S(reason), SV_NULLV);
}
