/* The JWT signing keys: creation, rotation, the JWKS, and each node's cache of them.
 *
 * Keys are global (one issuer for every tenant) and live in the store's signing_keys table:
 * one current (signs), one previous (still verifies), any number retired (verify nothing,
 * private part erased). The private key is stored only sealed (AES-256-GCM under a key derived
 * from the server key, bound to the kid); the public key used to verify is derived from it
 * when the keys are loaded, never read from the stored JWK, so writing the database without
 * the server key cannot plant a verification key. Nothing here logs a key or a token. */
#include "core/core_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "crypto/jwt.h"
#include "util/timeutil.h"

#define HKDF_INFO "roster signing keys"
/* How long a node trusts its cached keys without a signal. Rotation signals reach every
 * process of a PostgreSQL deployment, but only the rotating process of an SQLite one: a
 * `roster keys rotate` beside a running SQLite server reaches the server this way. */
#define KEYS_REFRESH_MS 5000
/* A token signed by a key this node does not know yet forces a reload, at most this often,
 * so unknown kids cannot make a node hammer the store. */
#define KEYS_MISS_RELOAD_MS 1000
#define KEYS_LIVE 2
#define SEALED_MAX (2 * (CRYPTO_ES256_PEM_MAX + CRYPTO_AEAD_OVERHEAD) + 1)

struct keyset {
	int n;
	struct live_key {
		char kid[CRYPTO_JWT_KID_MAX];
		bool current;
		char pub[CRYPTO_ES256_PEM_MAX];
		char jwk[CRYPTO_ES256_JWK_MAX];
	} keys[KEYS_LIVE];
	bool has_current;
	char priv[CRYPTO_ES256_PEM_MAX]; /* the current key's PKCS#8 PEM: a secret */
};

struct keys_cache {
	pthread_mutex_t lock;
	atomic_uint_fast64_t epoch; /* bumped by keys_changed() */
	/* Under lock: */
	struct keyset set;
	bool loaded, loading;
	uint64_t loaded_epoch;
	int64_t loaded_ms, miss_ms; /* monotonic */
};

static int64_t mono_ms(void)
{
	return time_mono_ns() / 1000000;
}

struct keys_cache *keys_cache_new(void)
{
	struct keys_cache *kc = calloc(1, sizeof(*kc));

	if (!kc)
		return NULL;
	if (pthread_mutex_init(&kc->lock, NULL) != 0) {
		free(kc);
		return NULL;
	}
	atomic_init(&kc->epoch, 1);
	return kc;
}

void keys_cache_free(struct keys_cache *kc)
{
	if (!kc)
		return;
	crypto_wipe(&kc->set, sizeof(kc->set));
	pthread_mutex_destroy(&kc->lock);
	free(kc);
}

void keys_changed(struct core *c)
{
	atomic_fetch_add(&c->keys->epoch, 1);
}

/* ---- sealing ------------------------------------------------------------------------------- */

static bool seal_key(const struct core *c, unsigned char key[CRYPTO_AEAD_KEY_LEN])
{
	return crypto_hkdf_sha256(c->key, CORE_KEY_LEN, HKDF_INFO, key, CRYPTO_AEAD_KEY_LEN);
}

/* hex(nonce | AES-256-GCM(priv) | tag) into out (SEALED_MAX), bound to kid. */
static bool seal(const struct core *c, const char *kid, const char *priv, char *out)
{
	unsigned char key[CRYPTO_AEAD_KEY_LEN], sealed[CRYPTO_ES256_PEM_MAX + CRYPTO_AEAD_OVERHEAD];
	char aad[16 + CRYPTO_JWT_KID_MAX];
	size_t n = strlen(priv);
	bool ok;

	if (n >= CRYPTO_ES256_PEM_MAX)
		return false;
	snprintf(aad, sizeof(aad), "signing_key/%s", kid);
	ok = seal_key(c, key) && crypto_aead_seal(key, aad, strlen(aad), priv, n, sealed);
	crypto_wipe(key, sizeof(key));
	if (ok)
		crypto_hex(sealed, n + CRYPTO_AEAD_OVERHEAD, out);
	return ok;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Opens what seal() wrote into priv (CRYPTO_ES256_PEM_MAX, NUL-terminated). */
static bool unseal(const struct core *c, const char *kid, const char *hex, char *priv)
{
	unsigned char key[CRYPTO_AEAD_KEY_LEN], raw[CRYPTO_ES256_PEM_MAX + CRYPTO_AEAD_OVERHEAD];
	char aad[16 + CRYPTO_JWT_KID_MAX];
	size_t hl = hex ? strlen(hex) : 0, n = hl / 2;
	bool ok;

	if (hl % 2 || n <= CRYPTO_AEAD_OVERHEAD || n > sizeof(raw))
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		raw[i] = (unsigned char)(hi << 4 | lo);
	}
	snprintf(aad, sizeof(aad), "signing_key/%s", kid);
	ok = seal_key(c, key) &&
	     crypto_aead_open(key, aad, strlen(aad), raw, n, (unsigned char *)priv);
	crypto_wipe(key, sizeof(key));
	if (ok)
		priv[n - CRYPTO_AEAD_OVERHEAD] = '\0';
	return ok;
}

static enum rs_status unreadable(struct rs_err *err)
{
	/* Sealed under another server key, or altered in the database. */
	return rs_fail(err, RS_E_INTERNAL, "keys.unreadable", NULL,
		       "a signing key can't be opened with this server key (is the key file the "
		       "one the keys were made with?)");
}

/* ---- loading ------------------------------------------------------------------------------- */

struct load_ctx {
	struct core *c;
	struct keyset *out;
};

static enum rs_status load_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct load_ctx *x = arg;
	struct keyset *ks = x->out;
	struct store_rows *r = NULL;
	enum rs_status st;
	char priv[CRYPTO_ES256_PEM_MAX], kid[CRYPTO_JWT_KID_MAX];
	bool has;

	crypto_wipe(ks, sizeof(*ks)); /* a retried transaction starts over */
	st = Q_QUERY(tx, Q_SIGNING_KEYS_LIVE, &r, err);
	while (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		const char *rkid = store_col_text(r, SKC_KID);
		const char *status = store_col_text(r, SKC_STATUS);
		struct live_key *k;

		if (ks->n == KEYS_LIVE || !rkid || !status)
			break; /* the unique index allows no more */
		k = &ks->keys[ks->n];
		if (!unseal(x->c, rkid, store_col_text(r, SKC_PRIVATE), priv) ||
		    !crypto_es256_public(priv, k->pub, k->jwk, kid) || strcmp(kid, rkid) != 0) {
			st = unreadable(err);
			break;
		}
		memcpy(k->kid, kid, sizeof(kid));
		k->current = strcmp(status, "current") == 0;
		if (k->current) {
			memcpy(ks->priv, priv, sizeof(priv));
			ks->has_current = true;
		}
		ks->n++;
	}
	crypto_wipe(priv, sizeof(priv));
	store_rows_close(r);
	return st;
}

/* Makes the cache fresh: reloads when a rotation was signalled since the last load, when the
 * last load is older than KEYS_REFRESH_MS, or when force. While another thread reloads, the
 * keys already loaded serve; a failed reload keeps them (the store may be briefly away) and
 * is retried after KEYS_REFRESH_MS. An error only when nothing was ever loaded, or, when
 * strict, when this reload failed. */
static enum rs_status keys_fresh_x(struct core *c, bool force, bool strict, struct rs_err *err)
{
	struct keys_cache *kc = c->keys;
	uint64_t epoch = atomic_load(&kc->epoch);
	int64_t now = mono_ms();
	struct keyset *ks;
	struct load_ctx x;
	enum rs_status st;
	bool stale;

	pthread_mutex_lock(&kc->lock);
	stale = force || !kc->loaded || kc->loaded_epoch != epoch ||
		now - kc->loaded_ms >= KEYS_REFRESH_MS;
	if (!stale || (kc->loading && kc->loaded)) {
		pthread_mutex_unlock(&kc->lock);
		return RS_OK;
	}
	kc->loading = true;
	pthread_mutex_unlock(&kc->lock);

	ks = malloc(sizeof(*ks));
	if (!ks) {
		st = core_oom(err);
	} else {
		x = (struct load_ctx){c, ks};
		st = core_read(c, load_tx, &x, err);
	}

	pthread_mutex_lock(&kc->lock);
	kc->loading = false;
	kc->loaded_ms = now;
	if (st == RS_OK) {
		crypto_wipe(&kc->set, sizeof(kc->set));
		memcpy(&kc->set, ks, sizeof(*ks));
		kc->loaded_epoch = epoch; /* a signal during the load makes the next call reload */
		kc->loaded = true;
	} else if (kc->loaded && !strict) {
		st = RS_OK;
	}
	pthread_mutex_unlock(&kc->lock);
	if (ks) {
		crypto_wipe(ks, sizeof(*ks));
		free(ks);
	}
	return st;
}

static enum rs_status keys_fresh(struct core *c, bool force, struct rs_err *err)
{
	return keys_fresh_x(c, force, false, err);
}

enum rs_status keys_signer(struct core *c, char *kid, size_t kidcap, char *priv, size_t privcap,
			   struct rs_err *err)
{
	struct keys_cache *kc = c->keys;
	enum rs_status st = keys_fresh(c, false, err);
	bool ok = false;

	if (st != RS_OK)
		return st;
	pthread_mutex_lock(&kc->lock);
	for (int i = 0; i < kc->set.n; i++) {
		const struct live_key *k = &kc->set.keys[i];

		if (k->current && kc->set.has_current && str_copy(kid, kidcap, k->kid) &&
		    str_copy(priv, privcap, kc->set.priv))
			ok = true;
	}
	pthread_mutex_unlock(&kc->lock);
	if (!ok) {
		crypto_wipe(priv, privcap);
		return rs_fail(err, RS_E_INTERNAL, "keys.none", NULL,
			       "there is no current signing key (run roster init, or start "
			       "roster serve once)");
	}
	return RS_OK;
}

uint64_t keys_version(struct core *c)
{
	struct keys_cache *kc = c->keys;
	struct rs_err ignored;
	uint64_t v = 1469598103934665603ull;

	if (keys_fresh(c, false, &ignored) != RS_OK)
		return 0;
	pthread_mutex_lock(&kc->lock);
	for (int i = 0; i < kc->set.n; i++)
		v = (v ^ str_hash(kc->set.keys[i].kid)) * 1099511628211ull;
	pthread_mutex_unlock(&kc->lock);
	return v;
}

/* Copies the public key of kid out of the cache; false when kid is not there. */
static bool find_pub(struct keys_cache *kc, const char *kid, char *pub, size_t pubcap)
{
	bool found = false;

	pthread_mutex_lock(&kc->lock);
	for (int i = 0; i < kc->set.n && !found; i++) {
		if (strcmp(kc->set.keys[i].kid, kid) == 0)
			found = str_copy(pub, pubcap, kc->set.keys[i].pub);
	}
	pthread_mutex_unlock(&kc->lock);
	return found;
}

enum rs_status keys_verifier(struct core *c, const char *kid, char *pub, size_t pubcap,
			     struct rs_err *err)
{
	struct keys_cache *kc = c->keys;
	enum rs_status st = keys_fresh(c, false, err);
	int64_t now;
	bool retry;

	if (st != RS_OK)
		return st;
	if (find_pub(kc, kid, pub, pubcap))
		return RS_OK;
	/* Perhaps a key rotated in by another process whose signal has not arrived (or never
	 * will: SQLite). */
	now = mono_ms();
	pthread_mutex_lock(&kc->lock);
	retry = now - kc->miss_ms >= KEYS_MISS_RELOAD_MS;
	if (retry)
		kc->miss_ms = now;
	pthread_mutex_unlock(&kc->lock);
	if (retry) {
		st = keys_fresh(c, true, err);
		if (st != RS_OK)
			return st;
		if (find_pub(kc, kid, pub, pubcap))
			return RS_OK;
	}
	return rs_fail(err, RS_E_NOT_FOUND, "keys.unknown_kid", NULL, "no live key has this kid");
}

/* ---- creation and rotation ------------------------------------------------------------------- */

struct new_key {
	char kid[CRYPTO_JWT_KID_MAX];
	char jwk[CRYPTO_ES256_JWK_MAX];
	char sealed[SEALED_MAX];
};

/* A fresh key, sealed: the private key is wiped before this returns. */
static enum rs_status new_key_make(const struct core *c, struct new_key *k, struct rs_err *err)
{
	char priv[CRYPTO_ES256_PEM_MAX];
	bool ok = crypto_es256_keygen(priv, k->jwk, k->kid) && seal(c, k->kid, priv, k->sealed);

	crypto_wipe(priv, sizeof(priv));
	if (!ok)
		return rs_fail(err, RS_E_INTERNAL, "keys.generate", NULL,
			       "cannot make a signing key");
	return RS_OK;
}

/* The kids of the live keys, as the store has them now. */
static enum rs_status live_kids(struct store_tx *tx, struct arena *a, const char **current,
				const char **previous, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st = Q_QUERY(tx, Q_SIGNING_KEYS_LIVE, &r, err);
	bool has;

	*current = *previous = NULL;
	while (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		const char *status = store_col_text(r, SKC_STATUS);

		if (status && strcmp(status, "current") == 0)
			*current = col_str(r, SKC_KID, a);
		else
			*previous = col_str(r, SKC_KID, a);
	}
	store_rows_close(r);
	return st;
}

static const struct actor keys_system = {
    .kind = ACTOR_SYSTEM, .rank = 1000, .perms = PERM_ALL, .platform = true};

struct write_ctx {
	struct core *c;
	const struct actor *who;
	const struct new_key *k;
	bool rotate;
	struct arena a;
};

static enum rs_status write_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct write_ctx *x = arg;
	struct tenant sys;
	struct changes *ch;
	const char *cur, *prev, *doc;
	int64_t now = core_now(x->c);
	enum rs_status st;

	/* The system tenant's write lock: rotations (and first keys) are serialised across
	 * nodes, and the audit event goes into that tenant's chain. */
	st = tenant_resolve_write(tx, x->who, "system", &x->a, &sys, err);
	if (st == RS_OK)
		st = live_kids(tx, &x->a, &cur, &prev, err);
	if (st != RS_OK)
		return st;
	if (!x->rotate && cur)
		return RS_OK; /* keys_ensure: there is one already */
	if (x->rotate) {
		st = Q_EXEC(tx, Q_SIGNING_KEY_RETIRE, NULL, err, SV_I(now));
		if (st == RS_OK)
			st = Q_EXEC(tx, Q_SIGNING_KEY_DEMOTE, NULL, err, SV_I(now));
		if (st != RS_OK)
			return st;
	}
	st = Q_EXEC(tx, Q_SIGNING_KEY_INSERT, NULL, err, SV_S(x->k->kid), SV_S("ES256"),
		    SV_S(x->k->sealed), SV_S(x->k->jwk), SV_I(now));
	if (st != RS_OK)
		return st;
	ch = changes_new();
	if (!ch)
		return core_oom(err);
	changes_str(ch, "current", cur, x->k->kid);
	if (x->rotate) {
		changes_str(ch, "previous", prev, cur);
		changes_str(ch, "retired", NULL, prev);
	}
	doc = changes_dump(ch, &x->a);
	changes_free(ch);
	if (!doc)
		return core_oom(err);
	st = audit_append(tx, x->c, x->who, sys.id, x->rotate ? "keys.rotate" : "keys.create",
			  "signing_key", x->k->kid, doc, err);
	/* Every node reloads: the new key signs, the retired one stops verifying. */
	if (st == RS_OK)
		st = store_signal(tx, STORE_SIG_KEYS, err);
	return st;
}

static enum rs_status keys_write(struct core *c, const struct actor *who, bool rotate,
				 struct rs_err *err)
{
	struct new_key k;
	struct write_ctx x = {.c = c, .who = who, .k = &k, .rotate = rotate};
	enum rs_status st;

	/* A rotation by a process holding another server key (a CLI pointed at the wrong key
	 * file) would seal the new current key where no node can open it: prove first that this
	 * key opens the keys there are. */
	if (rotate && (st = keys_fresh_x(c, true, true, err)) != RS_OK)
		return st;
	st = new_key_make(c, &k, err);
	if (st != RS_OK)
		return st;
	arena_init(&x.a, 0);
	st = core_write(c, write_tx, &x, err);
	arena_release(&x.a);
	crypto_wipe(&k, sizeof(k));
	/* This process's watcher has seen the signal already; a store without one has not. */
	if (st == RS_OK)
		keys_changed(c);
	return st;
}

static enum rs_status has_current_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct arena a;
	const char *cur, *prev;
	enum rs_status st;

	arena_init(&a, 0);
	st = live_kids(tx, &a, &cur, &prev, err);
	*(bool *)arg = st == RS_OK && cur;
	arena_release(&a);
	return st;
}

enum rs_status keys_ensure(struct core *c, struct rs_err *err)
{
	bool has = false;
	enum rs_status st = core_read(c, has_current_tx, &has, err);

	/* Checked first so a start-up does not make (and throw away) a key every time; the
	 * write checks again under the lock, for nodes starting together. */
	if (st == RS_OK && !has)
		st = keys_write(c, &keys_system, false, err);
	if (st == RS_OK)
		st = keys_fresh_x(c, true, true, err);
	return st;
}

enum rs_status keys_rotate(struct core *c, const struct actor *who, struct rs_err *err)
{
	/* DESIGN rule 1: decided here. Only the platform (the operator, roster itself). */
	enum rs_status st = require_perm(who, PERM_PLATFORM_TENANTS, err);

	if (st != RS_OK)
		return st;
	if (!who->platform)
		return rs_fail(err, RS_E_FORBIDDEN, "auth.permission_denied", NULL,
			       "only the platform operator may rotate the signing keys");
	return keys_write(c, who, true, err);
}

/* ---- publication ----------------------------------------------------------------------------- */

enum rs_status keys_jwks(struct core *c, struct arena *a, const char **json, struct rs_err *err)
{
	struct keys_cache *kc = c->keys;
	enum rs_status st = keys_fresh(c, false, err);
	char buf[32 + KEYS_LIVE * (CRYPTO_ES256_JWK_MAX + 1)];
	size_t len;

	if (st != RS_OK)
		return st;
	/* The JWKs are our own text (crypto_es256_keygen's), current first. */
	pthread_mutex_lock(&kc->lock);
	len = (size_t)snprintf(buf, sizeof(buf), "{\"keys\":[");
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < kc->set.n; i++) {
			if (kc->set.keys[i].current != (pass == 0))
				continue;
			len +=
			    (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
					     buf[len - 1] == '[' ? "" : ",", kc->set.keys[i].jwk);
		}
	}
	pthread_mutex_unlock(&kc->lock);
	snprintf(buf + len, sizeof(buf) - len, "]}");
	*json = arena_strdup(a, buf);
	return *json ? RS_OK : core_oom(err);
}

struct list_ctx {
	struct arena *a;
	struct signing_key_list *out;
};

static enum rs_status list_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct list_ctx *x = arg;
	struct store_rows *r = NULL;
	enum rs_status st = Q_QUERY(tx, Q_SIGNING_KEY_LIST, &r, err);
	int cap = 0;
	bool has;

	x->out->n = 0;
	x->out->items = NULL;
	while (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		struct signing_key *k;

		if (x->out->n == cap) {
			struct signing_key *grown;

			cap = cap ? cap * 2 : 8;
			grown = arena_alloc(x->a, (size_t)cap * sizeof(*grown));
			if (!grown) {
				st = core_oom(err);
				break;
			}
			if (x->out->n)
				memcpy(grown, x->out->items, (size_t)x->out->n * sizeof(*grown));
			x->out->items = grown;
		}
		k = &x->out->items[x->out->n++];
		k->kid = col_str(r, SKC_KID, x->a);
		k->alg = col_str(r, SKC_ALG, x->a);
		k->status = col_str(r, SKC_STATUS, x->a);
		k->created_at = store_col_int(r, SKC_CREATED);
		k->rotated_at = store_col_null(r, SKC_ROTATED) ? 0 : store_col_int(r, SKC_ROTATED);
	}
	store_rows_close(r);
	return st;
}

enum rs_status keys_list(struct core *c, struct arena *a, struct signing_key_list *out,
			 struct rs_err *err)
{
	struct list_ctx x = {a, out};

	return core_read(c, list_tx, &x, err);
}
