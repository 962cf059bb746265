/* Bearer-token authentication with an in-memory cache. A hit costs one HMAC and a constant-
 * time compare; entries are tied to the auth epoch, which every revoking write bumps after its
 * commit, so a revoked token, deleted user or deleted tenant is refused on the next request
 * without a store round-trip per request in the common case. */
#include "core/core_int.h"

#include <stdlib.h>

#include "crypto/crypto.h"

#define CACHE_SLOTS 4096
#define CACHE_STRIPES 64
#define CACHE_TTL_MS 60000    /* re-read from the store at least this often */
#define TOUCH_EVERY_MS 600000 /* last_used_at is kept to this precision */

struct cache_entry {
	char lookup[TOKEN_LOOKUP_LEN + 1];
	char hash[65];
	uint64_t epoch;
	int64_t filled_ms, expires_at, last_used_at;
	struct actor actor;
};

struct auth_cache {
	pthread_mutex_t locks[CACHE_STRIPES];
	struct cache_entry slots[CACHE_SLOTS];
};

struct auth_cache *auth_cache_new(void)
{
	struct auth_cache *ac = calloc(1, sizeof(*ac));

	if (!ac)
		return NULL;
	for (int i = 0; i < CACHE_STRIPES; i++)
		pthread_mutex_init(&ac->locks[i], NULL);
	return ac;
}

void auth_cache_free(struct auth_cache *ac)
{
	if (!ac)
		return;
	for (int i = 0; i < CACHE_STRIPES; i++)
		pthread_mutex_destroy(&ac->locks[i]);
	crypto_wipe(ac->slots, sizeof(ac->slots));
	free(ac);
}

static unsigned slot_of(const char *lookup)
{
	return str_hash(lookup) % CACHE_SLOTS;
}

static enum rs_status invalid(struct rs_err *err)
{
	return rs_fail(err, RS_E_UNAUTHENTICATED, "auth.invalid_token", NULL,
		       "the token is invalid, expired or revoked");
}

struct fill_ctx {
	struct core *c;
	const char *lookup;
	const char *hash;
	struct cache_entry *e;
};

static enum rs_status fill_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct fill_ctx *x = arg;
	struct store_rows *r = NULL;
	struct arena a;
	struct token tok;
	struct tenant t;
	struct user owner;
	struct role role;
	uint64_t owner_perms = 0;
	struct actor_scope scopes[ACTOR_SCOPES_MAX];
	int nscopes = 0;
	const char *stored = NULL;
	bool has = false, match = false;
	enum rs_status st;
	int64_t now = core_now(x->c);

	arena_init(&a, 0);
	st = Q_QUERY(tx, Q_TOKEN_BY_LOOKUP, &r, err, SV_S(x->lookup));
	if (st != RS_OK)
		goto out;
	st = store_rows_next(r, &has, err);
	if (st == RS_OK && has) {
		row_token(r, &a, &tok);
		stored = store_col_text(r, KC_HASH);
		match = stored && strlen(stored) == 64 && crypto_equal(stored, x->hash, 64);
	}
	store_rows_close(r);
	if (st != RS_OK)
		goto out;
	if (!has || !match || tok.revoked_at || (tok.expires_at && tok.expires_at <= now)) {
		st = invalid(err);
		goto out;
	}
	st = tenant_load(tx, tok.tenant_id, &a, &t, err);
	if (st == RS_OK)
		st = user_load_grants(tx, t.id, tok.user_id, &a, &owner, &owner_perms, scopes,
				      &nscopes, err);
	if (st == RS_OK && strcmp(owner.status, "active") != 0)
		st = RS_E_NOT_FOUND;
	if (st == RS_OK && tok.role.id) {
		st = role_find(tx, t.id, tok.role.id, &a, &role, err);
	} else if (st == RS_OK) {
		/* No role of its own: the token acts as its owner. */
		role.perms = owner_perms;
		role.rank = owner.rank;
	}
	if (st == RS_E_NOT_FOUND) {
		st = invalid(err);
		goto out;
	}
	if (st != RS_OK)
		goto out;
	memset(x->e, 0, sizeof(*x->e));
	str_copy(x->e->lookup, sizeof(x->e->lookup), x->lookup);
	str_copy(x->e->hash, sizeof(x->e->hash), x->hash);
	x->e->expires_at = tok.expires_at;
	x->e->last_used_at = tok.last_used_at;
	x->e->filled_ms = now;
	x->e->actor.kind = ACTOR_TOKEN;
	str_copy(x->e->actor.tenant_id, sizeof(x->e->actor.tenant_id), t.id);
	str_copy(x->e->actor.tenant_slug, sizeof(x->e->actor.tenant_slug), t.slug);
	str_copy(x->e->actor.user_id, sizeof(x->e->actor.user_id), owner.id);
	str_copy(x->e->actor.username, sizeof(x->e->actor.username), owner.username);
	str_copy(x->e->actor.token_id, sizeof(x->e->actor.token_id), tok.id);
	/* A token never holds more than its role, nor more than its owner holds today. */
	x->e->actor.perms = role.perms & owner_perms;
	x->e->actor.rank = role.rank < owner.rank ? role.rank : owner.rank;
	x->e->actor.platform = (x->e->actor.perms & PERM_BIT(PERM_PLATFORM_TENANTS)) != 0;
	/* Scoped grants follow the same bound: a token with a role of its own keeps, in each of
	 * its owner's subtrees, what both hold; a token whose own role is scoped holds that
	 * role's permissions in its subtree, within what the owner holds tenant-wide or there. */
	if (tok.role.id && role.department_id) {
		uint64_t there = owner_perms;

		for (int i = 0; i < nscopes && i < ACTOR_SCOPES_MAX; i++) {
			if (strcmp(scopes[i].department_id, role.department_id) == 0)
				there |= scopes[i].perms;
		}
		x->e->actor.perms = 0;
		x->e->actor.nscopes = 1;
		str_copy(x->e->actor.scopes[0].department_id,
			 sizeof(x->e->actor.scopes[0].department_id), role.department_id);
		x->e->actor.scopes[0].perms = role.perms & there;
		x->e->actor.platform = false;
	} else {
		for (int i = 0; i < nscopes; i++) {
			x->e->actor.scopes[i] = scopes[i];
			if (tok.role.id)
				x->e->actor.scopes[i].perms &= role.perms;
		}
		x->e->actor.nscopes = nscopes;
	}
out:
	arena_release(&a);
	return st;
}

static enum rs_status touch_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct cache_entry *e = arg;

	enum rs_status st = Q_EXEC(tx, Q_TOKEN_TOUCH, NULL, err, SV_S(e->actor.tenant_id),
				   SV_S(e->actor.token_id), SV_I(e->filled_ms));

	/* API use is activity too: the unused-seat report must not flag an integration. */
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_USER_TOUCH, NULL, err, SV_S(e->actor.tenant_id),
			    SV_S(e->actor.user_id), SV_I(e->filled_ms));
	return st;
}

enum rs_status auth_bearer(struct core *c, const char *token, struct actor *out, struct rs_err *err)
{
	struct cache_entry fresh, *slot;
	struct fill_ctx fx;
	char lookup[TOKEN_LOOKUP_LEN + 1], hash[65];
	const char *secret;
	pthread_mutex_t *lock;
	uint64_t epoch;
	int64_t now = core_now(c);
	unsigned idx;
	bool hit = false;
	enum rs_status st;

	if (!token || strlen(token) < 16 || strlen(token) > 512 || !str_valid_text(token))
		return invalid(err);
	token_split(token, lookup, &secret);
	token_hash(c, secret, hash);
	idx = slot_of(lookup);
	slot = &c->cache->slots[idx];
	lock = &c->cache->locks[idx % CACHE_STRIPES];
	/* Read the epoch before the store: an entry built from a read that raced a revocation
	 * carries the old epoch and is discarded by the bump that follows the commit. */
	epoch = atomic_load(&c->auth_epoch);
	pthread_mutex_lock(lock);
	if (strcmp(slot->lookup, lookup) == 0 && slot->epoch == epoch &&
	    now - slot->filled_ms < CACHE_TTL_MS && crypto_equal(slot->hash, hash, 64) &&
	    (!slot->expires_at || slot->expires_at > now)) {
		*out = slot->actor;
		hit = true;
	}
	pthread_mutex_unlock(lock);
	if (hit)
		return RS_OK;
	fx = (struct fill_ctx){c, lookup, hash, &fresh};
	st = core_read(c, fill_tx, &fx, err);
	if (st != RS_OK)
		return st;
	fresh.epoch = epoch;
	pthread_mutex_lock(lock);
	*slot = fresh;
	pthread_mutex_unlock(lock);
	*out = fresh.actor;
	if (now - fresh.last_used_at >= TOUCH_EVERY_MS) {
		struct rs_err ignored;

		/* Best effort: a failed touch must not fail the request it rides on. */
		(void)core_write(c, touch_tx, &fresh, &ignored);
	}
	crypto_wipe(&fresh, sizeof(fresh));
	return RS_OK;
}
