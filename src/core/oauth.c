/* OAuth 2.0 for roster's own tokens (docs/authentication.md): the access tokens of sessions
 * (JWT, core/access_token.c) and their rotating refresh tokens, introspection (RFC 7662) and
 * revocation (RFC 7009). An access token is short-lived but never trusted alone: its session
 * is looked up on every request (cached per node and dropped by any revocation anywhere), so a
 * revoked session, or a suspended user's, is refused on the very next request. */
#include "core/core_int.h"

#include <stdlib.h>

#include "crypto/crypto.h"

#define REFRESH_PREFIX "rsr_"
#define DAY_MS 86400000LL

static enum rs_status invalid_grant(struct rs_err *err)
{
	return rs_fail(err, RS_E_INVALID, "oauth.invalid_grant", NULL,
		       "the refresh token is invalid, expired, used or revoked");
}

/* The roles a token carries: the system role and the tenant roles, by name. */
static void claims_roles(const struct user *u, struct arena *a, struct access_claims *cl)
{
	const char **names = arena_alloc(a, sizeof(*names) * (size_t)(u->nroles + 1));

	cl->nroles = 0;
	cl->roles = names;
	if (!names)
		return;
	if (u->system_role.name)
		names[cl->nroles++] = u->system_role.name;
	for (int i = 0; i < u->nroles && cl->nroles < ACCESS_TOKEN_ROLES_MAX; i++)
		names[cl->nroles++] = u->roles[i].name;
}

enum rs_status session_access_token(struct core *c, const struct user *u, const char *sid,
				    struct arena *a, const char **jwt, int64_t *expires_in_s,
				    struct rs_err *err)
{
	struct access_claims cl = {
	    .sub = u->id, .tenant_id = u->tenant_id, .sid = sid, .username = u->username};
	enum rs_status st;

	claims_roles(u, a, &cl);
	st = access_token_mint(c, &cl, a, jwt, err);
	if (st == RS_OK)
		*expires_in_s = (cl.exp - cl.iat) / 1000;
	return st;
}

/* Access tokens whose signature and claims were verified, by SHA-256 of the token: an ECDSA
 * verification (and libjwt's PEM parsing) costs a millisecond, ten times the rest of a
 * request, and a client sends the same token for its whole life. An entry holds while the
 * token is unexpired and the set of live keys is the one it was verified under (a retired key
 * changes it). What the token may do is not cached here: its session or credential is looked
 * up on every request, through caches every revocation empties. */
#define JWT_SLOTS 4096
#define JWT_STRIPES 64

struct jwt_entry {
	unsigned char digest[CRYPTO_SHA256_LEN];
	uint64_t keys;
	int64_t exp;
	char tenant_id[UUID_STR_LEN], sub[UUID_STR_LEN], sid[UUID_STR_LEN], client_id[40];
};

struct jwt_cache {
	pthread_mutex_t locks[JWT_STRIPES];
	struct jwt_entry slots[JWT_SLOTS];
};

struct jwt_cache *jwt_cache_new(void)
{
	struct jwt_cache *jc = calloc(1, sizeof(*jc));

	for (int i = 0; jc && i < JWT_STRIPES; i++)
		pthread_mutex_init(&jc->locks[i], NULL);
	return jc;
}

void jwt_cache_free(struct jwt_cache *jc)
{
	if (!jc)
		return;
	for (int i = 0; i < JWT_STRIPES; i++)
		pthread_mutex_destroy(&jc->locks[i]);
	free(jc);
}

/* The verified claims of jwt that matter to authentication, from the cache or verified now. */
static enum rs_status jwt_claims(struct core *c, const char *jwt, struct arena *a,
				 struct access_claims *cl, struct rs_err *err)
{
	unsigned char d[CRYPTO_SHA256_LEN];
	uint64_t keys = keys_version(c);
	int64_t now = core_now(c);
	unsigned idx;
	struct jwt_entry e, *slot;
	bool hit = false;
	enum rs_status st;

	crypto_sha256(jwt, strlen(jwt), d);
	memcpy(&idx, d, sizeof(idx));
	idx %= JWT_SLOTS;
	slot = &c->jwts->slots[idx];
	pthread_mutex_lock(&c->jwts->locks[idx % JWT_STRIPES]);
	if (keys && slot->keys == keys && now < slot->exp &&
	    memcmp(slot->digest, d, sizeof(d)) == 0) {
		e = *slot;
		hit = true;
	}
	pthread_mutex_unlock(&c->jwts->locks[idx % JWT_STRIPES]);
	if (hit) {
		*cl = (struct access_claims){
		    .tenant_id = arena_strdup(a, e.tenant_id),
		    .sub = arena_strdup(a, e.sub),
		    .sid = e.sid[0] ? arena_strdup(a, e.sid) : NULL,
		    .client_id = e.client_id[0] ? arena_strdup(a, e.client_id) : NULL,
		    .exp = e.exp};
		return RS_OK;
	}
	st = access_token_verify(c, jwt, a, cl, err);
	if (st != RS_OK || !keys || !cl->tenant_id || !cl->sub)
		return st;
	memset(&e, 0, sizeof(e));
	memcpy(e.digest, d, sizeof(d));
	e.keys = keys;
	e.exp = cl->exp;
	str_copy(e.tenant_id, sizeof(e.tenant_id), cl->tenant_id);
	str_copy(e.sub, sizeof(e.sub), cl->sub);
	if (cl->sid)
		str_copy(e.sid, sizeof(e.sid), cl->sid);
	if (cl->client_id)
		str_copy(e.client_id, sizeof(e.client_id), cl->client_id);
	pthread_mutex_lock(&c->jwts->locks[idx % JWT_STRIPES]);
	*slot = e;
	pthread_mutex_unlock(&c->jwts->locks[idx % JWT_STRIPES]);
	return st;
}

enum rs_status auth_access_token(struct core *c, const char *jwt, struct actor *out,
				 struct rs_err *err)
{
	struct arena a;
	struct access_claims cl;
	enum rs_status st;

	arena_init(&a, 0);
	st = jwt_claims(c, jwt, &a, &cl, err);
	if (st == RS_OK && cl.sid)
		st = auth_session_id(c, cl.tenant_id, cl.sid, out, err);
	else if (st == RS_OK && cl.client_id) /* client_credentials: its credential must live */
		st = api_credential_actor(c, cl.client_id, out, err);
	else if (st == RS_OK)
		st = rs_fail(err, RS_E_UNAUTHENTICATED, "auth.invalid_token", NULL,
			     "the token is invalid, expired or revoked");
	/* The session must be the subject's: a token can't be re-pointed at another's. */
	if (st == RS_OK && (!cl.sub || strcmp(out->user_id, cl.sub) != 0))
		st = rs_fail(err, RS_E_UNAUTHENTICATED, "auth.invalid_token", NULL,
			     "the token is invalid, expired or revoked");
	arena_release(&a);
	return st;
}

enum rs_status oauth_client_credentials(struct core *c, const char *client_id, const char *secret,
					struct arena *a, struct oauth_tokens *out,
					struct rs_err *err)
{
	struct actor who;
	struct user u;
	struct access_claims cl = {0};
	enum rs_status st;

	memset(out, 0, sizeof(*out));
	st = api_credential_check(c, client_id, secret, a, &who, &u, err);
	if (st != RS_OK)
		return st;
	cl = (struct access_claims){
	    .sub = u.id, .tenant_id = u.tenant_id, .client_id = client_id, .username = u.username};
	claims_roles(&u, a, &cl);
	st = access_token_mint(c, &cl, a, &out->access_token, err);
	if (st == RS_OK)
		out->expires_in_s = (cl.exp - cl.iat) / 1000;
	return st;
}

/* ---- refresh ----------------------------------------------------------------------------------
 */

struct rctx {
	struct core *c;
	const char *lookup, *hash;
	const char *source_ip;
	struct arena *a;
	struct oauth_tokens *out;
	struct user u;
	bool reused; /* a rotated token came back: the family was revoked, commit that */
};

struct refresh_row {
	const char *tenant_id, *session_id, *hash;
	int64_t expires_at;
	bool used;
};

static enum rs_status refresh_load(struct store_tx *tx, const char *lookup, struct arena *a,
				   struct refresh_row *out, bool *has, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st = Q_QUERY(tx, Q_REFRESH_BY_LOOKUP, &r, err, SV_S(lookup));

	*has = false;
	if (st == RS_OK && (st = store_rows_next(r, has, err)) == RS_OK && *has)
		*out = (struct refresh_row){col_str(r, 1, a), col_str(r, 2, a), col_str(r, 3, a),
					    store_col_int(r, 5), !store_col_null(r, 6)};
	store_rows_close(r);
	return st;
}

static enum rs_status session_load(struct store_tx *tx, const char *tenant_id, const char *id,
				   struct arena *a, struct session *s, struct rs_err *err)
{
	struct store_rows *r = NULL;
	bool has = false;
	enum rs_status st = Q_QUERY(tx, Q_SESSION_GET, &r, err, SV_S(tenant_id), SV_S(id));

	if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has)
		row_session(r, a, s);
	store_rows_close(r);
	return st == RS_OK && !has ? RS_E_NOT_FOUND : st;
}

/* Someone presented a refresh token that was already exchanged: either the legitimate client
 * or a thief holds a copy. The whole family (the session) ends, as RFC 6819 5.2.2.3 advises. */
static enum rs_status reuse_tx(struct store_tx *tx, struct rctx *x, const struct refresh_row *rr,
			       struct rs_err *err)
{
	struct actor sys = {.kind = ACTOR_SYSTEM, .source_ip = x->source_ip};
	struct session s;
	struct changes *ch;
	enum rs_status st = session_load(tx, rr->tenant_id, rr->session_id, x->a, &s, err);

	if (st == RS_E_NOT_FOUND)
		return RS_OK;
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_SESSION_REVOKE, NULL, err, SV_S(rr->tenant_id), SV_S(s.id),
			    SV_I(core_now(x->c)), SV_S("refresh token reuse"));
	if (st == RS_OK)
		st = store_signal(tx, STORE_SIG_AUTH, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "session_id", NULL, s.id);
	st = audit_append(tx, x->c, &sys, rr->tenant_id, "session.refresh_reuse", "user", s.user_id,
			  changes_dump(ch, x->a), err);
	changes_free(ch);
	x->reused = st == RS_OK;
	return st;
}

static enum rs_status refresh_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct rctx *x = arg;
	struct refresh_row rr;
	struct session s;
	struct tenant t;
	int64_t now = core_now(x->c), changed = 0, exp;
	bool has;
	enum rs_status st = refresh_load(tx, x->lookup, x->a, &rr, &has, err);

	x->reused = false;
	if (st != RS_OK)
		return st;
	if (!has || !rr.hash || strlen(rr.hash) != 64 || !crypto_equal(rr.hash, x->hash, 64))
		return invalid_grant(err);
	st = tenant_lock(tx, rr.tenant_id, err);
	if (st != RS_OK)
		return st;
	if (rr.used)
		return reuse_tx(tx, x, &rr, err);
	if (rr.expires_at <= now)
		return invalid_grant(err);
	st = session_load(tx, rr.tenant_id, rr.session_id, x->a, &s, err);
	if (st == RS_OK)
		st = tenant_load(tx, rr.tenant_id, x->a, &t, err);
	if (st == RS_OK)
		st = user_load(tx, rr.tenant_id, s.user_id, x->a, &x->u, NULL, err);
	if (st == RS_E_NOT_FOUND)
		return invalid_grant(err);
	if (st != RS_OK)
		return st;
	if (s.revoked_at || s.expires_at <= now ||
	    (s.idle_timeout_ms && now - s.last_seen_at >= s.idle_timeout_ms) ||
	    strcmp(x->u.status, "active") != 0)
		return invalid_grant(err);
	st = Q_EXEC(tx, Q_REFRESH_USE, &changed, err, SV_S(x->lookup), SV_I(now));
	if (st == RS_OK && changed == 0) /* exchanged by a concurrent request */
		return reuse_tx(tx, x, &rr, err);
	exp = now + t.settings[TS_REFRESH_TOKEN_DAYS] * DAY_MS;
	if (exp > s.expires_at)
		exp = s.expires_at;
	if (st == RS_OK)
		st = refresh_issue(tx, x->c, rr.tenant_id, s.id, exp, x->a, &x->out->refresh_token,
				   err);
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_SESSION_TOUCH, NULL, err, SV_S(rr.tenant_id), SV_S(s.id),
			    SV_I(now));
	x->out->refresh_expires_at = exp;
	x->out->session_id = arena_strdup(x->a, s.id);
	return st;
}

enum rs_status oauth_refresh(struct core *c, const char *refresh, const char *source_ip,
			     struct arena *a, struct oauth_tokens *out, struct rs_err *err)
{
	char lookup[TOKEN_LOOKUP_LEN + 1], hash[65];
	const char *secret;
	struct rctx x = {.c = c, .source_ip = source_ip, .a = a, .out = out};
	enum rs_status st;

	memset(out, 0, sizeof(*out));
	if (!refresh || !secret_split(refresh, REFRESH_PREFIX, lookup, &secret))
		return invalid_grant(err);
	token_hash(c, secret, hash);
	x.lookup = lookup;
	x.hash = hash;
	st = core_write(c, refresh_tx, &x, err);
	if (st == RS_OK && x.reused)
		return invalid_grant(err);
	if (st == RS_OK)
		st = session_access_token(c, &x.u, out->session_id, a, &out->access_token,
					  &out->expires_in_s, err);
	return st;
}

/* ---- introspection and revocation -------------------------------------------------------------
 */

struct ictx {
	struct core *c;
	const char *lookup, *hash;
	struct arena *a;
	struct introspection *out;
	bool revoke;
};

static enum rs_status refresh_view_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ictx *x = arg;
	struct refresh_row rr = {0};
	struct session s;
	int64_t now = core_now(x->c);
	bool has;
	enum rs_status st = refresh_load(tx, x->lookup, x->a, &rr, &has, err);

	if (st != RS_OK || !has || !rr.hash || strlen(rr.hash) != 64 ||
	    !crypto_equal(rr.hash, x->hash, 64))
		return st;
	st = session_load(tx, rr.tenant_id, rr.session_id, x->a, &s, err);
	if (st == RS_E_NOT_FOUND)
		return RS_OK;
	if (st != RS_OK)
		return st;
	if (x->revoke) {
		st = Q_EXEC(tx, Q_SESSION_REVOKE, NULL, err, SV_S(rr.tenant_id), SV_S(s.id),
			    SV_I(now), SV_S("revoked by its client"));
		return st == RS_OK ? store_signal(tx, STORE_SIG_AUTH, err) : st;
	}
	x->out->active = !rr.used && rr.expires_at > now && !s.revoked_at && s.expires_at > now;
	x->out->sub = s.user_id;
	x->out->tenant_id = rr.tenant_id;
	x->out->sid = s.id;
	x->out->exp = rr.expires_at;
	x->out->token_type = "refresh_token";
	return RS_OK;
}

struct vctx {
	struct core *c;
	const struct access_claims *cl;
};

static enum rs_status revoke_session_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	const struct vctx *x = arg;
	enum rs_status st =
	    Q_EXEC(tx, Q_SESSION_REVOKE, NULL, err, SV_S(x->cl->tenant_id), SV_S(x->cl->sid),
		   SV_I(core_now(x->c)), SV_S("revoked by its client"));

	return st == RS_OK ? store_signal(tx, STORE_SIG_AUTH, err) : st;
}

enum rs_status oauth_introspect(struct core *c, const struct actor *who, const char *token,
				struct arena *a, struct introspection *out, struct rs_err *err)
{
	char lookup[TOKEN_LOOKUP_LEN + 1], hash[65];
	const char *secret;
	struct access_claims cl;
	struct rs_err ignored;
	enum rs_status st = RS_OK;

	memset(out, 0, sizeof(*out));
	if (!who->user_id[0] && !who->platform)
		return rs_fail(err, RS_E_FORBIDDEN, "auth.permission_denied", NULL,
			       "introspection needs a user's or the platform's credential");
	if (token && secret_split(token, REFRESH_PREFIX, lookup, &secret)) {
		struct ictx x = {.c = c, .lookup = lookup, .hash = hash, .a = a, .out = out};

		token_hash(c, secret, hash);
		st = core_read(c, refresh_view_tx, &x, err);
	} else if (token && access_token_verify(c, token, a, &cl, &ignored) == RS_OK) {
		struct actor holder;

		/* Alive while its session, or its API credential, is. */
		out->active =
		    cl.sid ? auth_session_id(c, cl.tenant_id, cl.sid, &holder, &ignored) == RS_OK
			   : cl.client_id &&
				 api_credential_actor(c, cl.client_id, &holder, &ignored) == RS_OK;
		out->sub = cl.sub;
		out->tenant_id = cl.tenant_id;
		out->sid = cl.sid;
		out->client_id = cl.client_id;
		out->username = cl.username;
		out->scope = cl.scope;
		out->iat = cl.iat;
		out->exp = cl.exp;
		out->token_type = "access_token";
	}
	/* Another tenant's token is none of the caller's business: it is inactive to them. */
	if (st == RS_OK && out->active && !who->platform &&
	    (!out->tenant_id || strcmp(out->tenant_id, who->tenant_id) != 0))
		memset(out, 0, sizeof(*out));
	return st;
}

enum rs_status oauth_revoke(struct core *c, const char *token, struct rs_err *err)
{
	char lookup[TOKEN_LOOKUP_LEN + 1], hash[65];
	const char *secret;
	struct arena a;
	struct access_claims cl;
	struct rs_err ignored;
	enum rs_status st = RS_OK;

	arena_init(&a, 0);
	if (token && secret_split(token, REFRESH_PREFIX, lookup, &secret)) {
		struct introspection unused;
		struct ictx x = {.c = c,
				 .lookup = lookup,
				 .hash = hash,
				 .a = &a,
				 .out = &unused,
				 .revoke = true};

		token_hash(c, secret, hash);
		st = core_write(c, refresh_view_tx, &x, err);
	} else if (token && strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0) {
		st = rs_fail(
		    err, RS_E_INVALID, "oauth.unsupported_token_type", NULL,
		    "API tokens are revoked with DELETE /api/v1/tenants/{tenant}/tokens/{id}");
	} else if (token && access_token_verify(c, token, &a, &cl, &ignored) == RS_OK && cl.sid) {
		struct vctx x = {c, &cl};

		st = core_write(c, revoke_session_tx, &x, err);
	}
	/* RFC 7009 2.2: an unknown or already invalid token is not an error. */
	arena_release(&a);
	return st;
}
