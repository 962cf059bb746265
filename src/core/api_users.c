/* API users (seed 001): users of type api and their credentials, an access id with a secret key,
 * used with the client_credentials grant or to sign requests (ThreatConnect's scheme). The
 * secret key is not stored but derived from the server key and a per-credential salt
 * (docs/authentication.md "API users"). This module never logs a secret key nor puts one in an
 * error, and wipes every copy it makes. */
#include "core/core_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "crypto/aead.h"
#include "crypto/crypto.h"

#define HKDF_INFO "roster api secret v1"
#define SALT_BYTES 16
#define SALT_HEX (2 * SALT_BYTES)
#define SIG_B64_LEN 44 /* base64 of 32 bytes, padded */
#define TIMESTAMP_DIGITS_MAX 12
#define METHOD_MAX 16
#define CACHE_SLOTS 1024
#define CACHE_STRIPES 32
#define CACHE_TTL_MS 60000    /* re-read from the store at least this often */
#define TOUCH_EVERY_MS 600000 /* last_used_at is kept to this precision, like API tokens' */
#define PURGE_EVERY_MS 60000  /* how often a node forgets signatures too old to replay */
#define PURGE_MARGIN_MS 60000 /* clocks of several nodes differ a little */
#define DAY_MS 86400000LL

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/* ---- credentials: ids, salts and derived secrets ----------------------------------------------
 */

static bool access_id_new(char out[API_ACCESS_ID_LEN + 1])
{
	unsigned char raw[48];
	int n = 0;

	while (n < API_ACCESS_ID_LEN) {
		if (!crypto_random(raw, sizeof(raw)))
			return false;
		for (size_t i = 0; i < sizeof(raw) && n < API_ACCESS_ID_LEN; i++) {
			/* 252 = 7 * 36: rejecting the rest keeps every character equally likely. */
			if (raw[i] < 252)
				out[n++] = alphabet[raw[i] % 36];
		}
	}
	out[n] = '\0';
	return true;
}

static bool access_id_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		if (n >= API_ACCESS_ID_LEN || !strchr(alphabet, s[n]))
			return false;
	}
	return n == API_ACCESS_ID_LEN;
}

/* secret = base64url(HMAC-SHA256(K, access_id || salt)), K = HKDF(server key, HKDF_INFO). The
 * access id has a fixed length, so the concatenation is unambiguous. */
static bool secret_derive(const struct core *c, const char *access_id, const char *salt,
			  char out[API_SECRET_LEN + 1])
{
	unsigned char k[CRYPTO_SHA256_LEN], mac[CRYPTO_SHA256_LEN];
	char msg[API_ACCESS_ID_LEN + SALT_HEX + 1];
	bool ok = crypto_hkdf_sha256(c->key, CORE_KEY_LEN, HKDF_INFO, k, sizeof(k));

	if (ok) {
		snprintf(msg, sizeof(msg), "%s%s", access_id, salt);
		crypto_hmac_sha256(k, sizeof(k), msg, strlen(msg), mac);
		crypto_b64url(mac, sizeof(mac), out);
	}
	crypto_wipe(k, sizeof(k));
	crypto_wipe(mac, sizeof(mac));
	return ok;
}

/* A fresh salt, the secret it derives and the secret's keyed hash (for client_credentials). */
static enum rs_status secret_new(const struct core *c, const char *access_id,
				 char salt[SALT_HEX + 1], char secret[API_SECRET_LEN + 1],
				 char hash[65], struct rs_err *err)
{
	unsigned char raw[SALT_BYTES];

	if (!crypto_random(raw, sizeof(raw)))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	crypto_hex(raw, sizeof(raw), salt);
	if (!secret_derive(c, access_id, salt, secret))
		return rs_fail(err, RS_E_INTERNAL, "internal.crypto", NULL,
			       "key derivation failed");
	token_hash(c, secret, hash);
	return RS_OK;
}

/* A credential row as stored: the public part, and what only this module reads. */
struct cred_row {
	struct api_credential pub;
	const char *salt, *hash;
};

static void row_cred(struct store_rows *r, struct arena *a, struct cred_row *out)
{
	out->pub = (struct api_credential){
	    .access_id = col_str(r, ACC_ID, a),
	    .tenant_id = col_str(r, ACC_TENANT, a),
	    .user_id = col_str(r, ACC_USER, a),
	    .disabled = store_col_int(r, ACC_DISABLED) != 0,
	    .created_at = store_col_int(r, ACC_CREATED),
	    .expires_at = store_col_null(r, ACC_EXPIRES) ? 0 : store_col_int(r, ACC_EXPIRES),
	    .last_used_at = store_col_null(r, ACC_LASTUSED) ? 0 : store_col_int(r, ACC_LASTUSED),
	};
	out->salt = col_str(r, ACC_SALT, a);
	out->hash = col_str(r, ACC_HASH, a);
}

/* One row of a single-row query; RS_E_NOT_FOUND when there is none. */
static enum rs_status cred_query(struct store_rows *r, enum rs_status st, struct arena *a,
				 struct cred_row *out, struct rs_err *err)
{
	bool has = false;

	if (st != RS_OK)
		return st;
	st = store_rows_next(r, &has, err);
	if (st == RS_OK && has)
		row_cred(r, a, out);
	store_rows_close(r);
	if (st != RS_OK)
		return st;
	if (!has || !out->pub.access_id || !out->salt || !out->hash)
		return rs_fail(err, RS_E_NOT_FOUND, "api_credential.not_found", NULL,
			       "no such API credential");
	return RS_OK;
}

static enum rs_status cred_load(struct store_tx *tx, const char *tenant_id, const char *access_id,
				struct arena *a, struct cred_row *out, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;

	if (!access_id_valid(access_id))
		return rs_fail(err, RS_E_NOT_FOUND, "api_credential.not_found", NULL,
			       "no such API credential");
	st = Q_QUERY(tx, Q_API_CRED_GET, &r, err, SV_S(tenant_id), SV_S(access_id));
	return cred_query(r, st, a, out, err);
}

/* ---- management ------------------------------------------------------------------------------ */

struct mctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *user_id, *access_id;
	const struct api_user_req *ureq;
	const struct api_credential_req *creq;
	bool disabled;
	struct arena *a;
	struct user *user;
	struct api_credential *out;
	struct api_credential_list *list;
	const char **secret;
	/* filled by target() */
	struct tenant t;
	struct user u;
};

/* The tenant and the user a credential operation acts on: who holds p over that user
 * (tenant-wide or in its department) and does not rank below it (DESIGN rule 2). */
static enum rs_status target(struct store_tx *tx, struct mctx *x, enum perm p, bool write,
			     struct rs_err *err)
{
	enum rs_status st = write ? tenant_resolve_write(tx, x->who, x->tenant, x->a, &x->t, err)
				  : tenant_resolve(tx, x->who, x->tenant, x->a, &x->t, err);

	if (st == RS_OK)
		st = require_perm_any(x->who, p, err);
	if (st == RS_OK)
		st = user_load(tx, x->t.id, x->user_id, x->a, &x->u, NULL, err);
	if (st == RS_OK)
		st = require_user_perm(tx, x->who, &x->u, p, err);
	if (st == RS_OK)
		st = rank_may_act_on(x->who, x->u.rank, err);
	return st;
}

/* The credential access_id of the target user; another user's answers as a missing one. */
static enum rs_status target_cred(struct store_tx *tx, struct mctx *x, struct cred_row *out,
				  struct rs_err *err)
{
	enum rs_status st = cred_load(tx, x->t.id, x->access_id, x->a, out, err);

	if (st == RS_OK && strcmp(out->pub.user_id, x->u.id) != 0)
		st = rs_fail(err, RS_E_NOT_FOUND, "api_credential.not_found", NULL,
			     "no such API credential");
	return st;
}

static enum rs_status check_days(int64_t days, struct rs_err *err)
{
	if (days < 0 || days > RS_TOKEN_DAYS_MAX)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "token_expiry_days",
			       "'token_expiry_days' must be between 0 (never) and %d",
			       RS_TOKEN_DAYS_MAX);
	return RS_OK;
}

static void cred_changes(struct changes *ch, const struct api_credential *before,
			 const struct api_credential *after)
{
	changes_str(ch, "access_id", before ? before->access_id : NULL, after->access_id);
	changes_str(ch, "user_id", before ? before->user_id : NULL, after->user_id);
	changes_int(ch, "expires_at", before && before->expires_at, before ? before->expires_at : 0,
		    after->expires_at != 0, after->expires_at);
	changes_int(ch, "disabled", before != NULL, before ? before->disabled : 0, true,
		    after->disabled);
}

/* Adds credential id (NULL: a new one) to x->u inside the write, audited as action on
 * target_type/target_id (NULL: the credential); the secret goes to *x->secret (arena). */
static enum rs_status cred_add(struct store_tx *tx, struct mctx *x, const char *id_in, int64_t days,
			       bool disabled, const char *action, const char *target_type,
			       const char *target_id, struct rs_err *err)
{
	char id[API_ACCESS_ID_LEN + 1], salt[SALT_HEX + 1], secret[API_SECRET_LEN + 1], hash[65];
	int64_t now = core_now(x->c), expires = days ? now + days * DAY_MS : 0;
	struct api_credential *o = x->out;
	struct changes *ch;
	enum rs_status st;

	if (id_in)
		str_copy(id, sizeof(id), id_in);
	else if (!access_id_new(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	st = secret_new(x->c, id, salt, secret, hash, err);
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_API_CRED_INSERT, NULL, err, SV_S(x->t.id), SV_S(id),
			    SV_S(x->u.id), SV_S(salt), SV_S(hash), SV_I(now),
			    expires ? SV_I(expires) : SV_NULLV, SV_I(disabled ? 1 : 0));
	if (st == RS_OK) {
		*x->secret = arena_strdup(x->a, secret);
		*o = (struct api_credential){.access_id = arena_strdup(x->a, id),
					     .tenant_id = x->t.id,
					     .user_id = x->u.id,
					     .disabled = disabled,
					     .created_at = now,
					     .expires_at = expires};
		if (!*x->secret || !o->access_id)
			st = core_oom(err);
	}
	crypto_wipe(secret, sizeof(secret));
	if (st != RS_OK)
		return st;
	ch = changes_new();
	cred_changes(ch, NULL, o);
	st = audit_append(tx, x->c, x->who, x->t.id, action, target_type,
			  target_id ? target_id : o->access_id, changes_dump(ch, x->a), err);
	changes_free(ch);
	return st;
}

static enum rs_status create_user_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct mctx *x = arg;
	const struct api_user_req *q = x->ureq;
	struct user_fields f = {0};
	char id[API_ACCESS_ID_LEN + 1];
	struct role api_role;
	enum rs_status st;

	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &x->t, err);
	if (st != RS_OK)
		return st;
	f.first_name = (struct opt_str){true, q->first_name};
	f.last_name = (struct opt_str){true, q->last_name};
	f.type = (struct opt_str){true, "api"};
	if (q->department_id)
		f.department_id = (struct opt_str){true, q->department_id};
	if (q->system_role) {
		f.system_role = (struct opt_str){true, q->system_role};
	} else {
		/* Seed 001: without a choice, an API user gets the system role "Api User". */
		st = role_find(tx, x->t.id, "Api User", x->a, &api_role, err);
		if (st == RS_OK && strcmp(api_role.scope, "system") == 0)
			f.system_role = (struct opt_str){true, api_role.id};
		else if (st != RS_OK && st != RS_E_NOT_FOUND)
			return st;
	}
	if (q->nroles > 0) {
		f.roles_set = true;
		f.roles = q->roles;
		f.nroles = q->nroles;
	}
	/* The username names the first access id, so it is unique as the access id is; the id is
	 * made here and handed on to the credential. */
	if (!access_id_new(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	f.username = (struct opt_str){true, arena_printf(x->a, "api-%s", id)};
	if (!f.username.v)
		return core_oom(err);
	/* users_create's own path: validation, users.create, department, rank rule on the roles,
	 * a seat of type api, audit user.create and the user.created event. */
	st = user_write_new(tx, x->c, x->who, x->t.id, &f, x->a, x->user, err);
	if (st != RS_OK)
		return st;
	x->u = *x->user;
	/* The credential is audited on the user: the trail reads "user.create", then
	 * "api_user.create" with the access id, never the secret. */
	return cred_add(tx, x, id, q->token_expiry_days, q->disabled, "api_user.create", "user",
			x->u.id, err);
}

enum rs_status api_users_create(struct core *c, const struct actor *who, const char *tenant,
				const struct api_user_req *req, struct arena *a, struct user *user,
				struct api_credential *cred, const char **secret,
				struct rs_err *err)
{
	struct mctx x = {.c = c,
			 .who = who,
			 .tenant = tenant,
			 .ureq = req,
			 .a = a,
			 .user = user,
			 .out = cred,
			 .secret = secret};
	enum rs_status st = check_text("first_name", req->first_name, RS_NAME_MAX, true, err);

	if (st == RS_OK)
		st = check_text("last_name", req->last_name, RS_NAME_MAX, true, err);
	if (st == RS_OK)
		st = check_days(req->token_expiry_days, err);
	if (st != RS_OK)
		return st;
	return core_write(c, create_user_tx, &x, err);
}

static enum rs_status is_api_user(const struct user *u, struct rs_err *err)
{
	if (strcmp(u->type, "api") != 0)
		return rs_fail(err, RS_E_CONFLICT, "api_user.not_api_user", NULL,
			       "only users of type api have API credentials");
	return RS_OK;
}

static enum rs_status create_cred_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct mctx *x = arg;
	struct store_rows *r = NULL;
	enum rs_status st = target(tx, x, PERM_USERS_UPDATE, true, err);
	int n = 0;
	bool has;

	if (st == RS_OK)
		st = is_api_user(&x->u, err);
	if (st == RS_OK)
		st = Q_QUERY(tx, Q_API_CRED_LIST_USER, &r, err, SV_S(x->t.id), SV_S(x->u.id));
	while (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has)
		n++;
	store_rows_close(r);
	if (st != RS_OK)
		return st;
	if (n >= API_CREDENTIALS_PER_USER_MAX)
		return rs_fail(err, RS_E_CONFLICT, "api_credential.limit", NULL,
			       "an API user has at most %d credentials: delete one first",
			       API_CREDENTIALS_PER_USER_MAX);
	return cred_add(tx, x, NULL, x->creq->token_expiry_days, x->creq->disabled,
			"api_credential.create", "api_credential", NULL, err);
}

enum rs_status api_credentials_create(struct core *c, const struct actor *who, const char *tenant,
				      const char *user_id, const struct api_credential_req *req,
				      struct arena *a, struct api_credential *out,
				      const char **secret, struct rs_err *err)
{
	struct mctx x = {.c = c,
			 .who = who,
			 .tenant = tenant,
			 .user_id = user_id,
			 .creq = req,
			 .a = a,
			 .out = out,
			 .secret = secret};
	enum rs_status st = check_days(req->token_expiry_days, err);

	if (st != RS_OK)
		return st;
	return core_write(c, create_cred_tx, &x, err);
}

static enum rs_status read_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct mctx *x = arg;
	struct store_rows *r = NULL;
	struct cred_row row;
	enum rs_status st = target(tx, x, PERM_USERS_READ, false, err);
	int cap = 0;
	bool has;

	if (st != RS_OK)
		return st;
	if (x->out) {
		st = target_cred(tx, x, &row, err);
		if (st == RS_OK)
			*x->out = row.pub;
		return st;
	}
	x->list->n = 0;
	st = Q_QUERY(tx, Q_API_CRED_LIST_USER, &r, err, SV_S(x->t.id), SV_S(x->u.id));
	while (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if (x->list->n == cap) {
			struct api_credential *grown =
			    arena_alloc(x->a, sizeof(*grown) * (size_t)(cap + 16));

			if (!grown) {
				st = core_oom(err);
				break;
			}
			if (cap)
				memcpy(grown, x->list->items, sizeof(*grown) * (size_t)cap);
			x->list->items = grown;
			cap += 16;
		}
		row_cred(r, x->a, &row);
		x->list->items[x->list->n++] = row.pub;
	}
	store_rows_close(r);
	return st;
}

enum rs_status api_credentials_list(struct core *c, const struct actor *who, const char *tenant,
				    const char *user_id, struct arena *a,
				    struct api_credential_list *out, struct rs_err *err)
{
	struct mctx x = {
	    .c = c, .who = who, .tenant = tenant, .user_id = user_id, .a = a, .list = out};

	memset(out, 0, sizeof(*out));
	return core_read(c, read_tx, &x, err);
}

enum rs_status api_credentials_get(struct core *c, const struct actor *who, const char *tenant,
				   const char *user_id, const char *access_id, struct arena *a,
				   struct api_credential *out, struct rs_err *err)
{
	struct mctx x = {.c = c,
			 .who = who,
			 .tenant = tenant,
			 .user_id = user_id,
			 .access_id = access_id,
			 .a = a,
			 .out = out};

	return core_read(c, read_tx, &x, err);
}

enum cred_op { OP_ROTATE, OP_SET_DISABLED, OP_DELETE };

struct opctx {
	struct mctx m;
	enum cred_op op;
};

static enum rs_status op_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct opctx *o = arg;
	struct mctx *x = &o->m;
	struct cred_row row;
	struct api_credential after;
	struct changes *ch;
	const char *action = "api_credential.delete";
	enum rs_status st = target(tx, x, PERM_USERS_UPDATE, true, err);
	int64_t now = core_now(x->c);

	if (st == RS_OK)
		st = target_cred(tx, x, &row, err);
	if (st != RS_OK)
		return st;
	after = row.pub;
	switch (o->op) {
	case OP_ROTATE: {
		char salt[SALT_HEX + 1], secret[API_SECRET_LEN + 1], hash[65];
		int64_t days = x->creq ? x->creq->token_expiry_days : 0;

		action = "api_credential.rotate";
		if (days)
			after.expires_at = now + days * DAY_MS;
		st = secret_new(x->c, row.pub.access_id, salt, secret, hash, err);
		if (st == RS_OK)
			st = Q_EXEC(tx, Q_API_CRED_ROTATE, NULL, err, SV_S(x->t.id),
				    SV_S(row.pub.access_id), SV_S(salt), SV_S(hash),
				    after.expires_at ? SV_I(after.expires_at) : SV_NULLV);
		if (st == RS_OK && !(*x->secret = arena_strdup(x->a, secret)))
			st = core_oom(err);
		crypto_wipe(secret, sizeof(secret));
		break;
	}
	case OP_SET_DISABLED:
		action = "api_credential.update";
		after.disabled = x->disabled;
		st = Q_EXEC(tx, Q_API_CRED_SET_DISABLED, NULL, err, SV_S(x->t.id),
			    SV_S(row.pub.access_id), SV_I(x->disabled ? 1 : 0));
		break;
	case OP_DELETE:
		st = Q_EXEC(tx, Q_API_CRED_DELETE, NULL, err, SV_S(x->t.id),
			    SV_S(row.pub.access_id));
		break;
	}
	/* The old secret, a disabled or a deleted credential is refused on the very next request
	 * of every node: their caches are tied to the auth epoch this signal moves. */
	if (st == RS_OK)
		st = store_signal(tx, STORE_SIG_AUTH, err);
	if (st != RS_OK)
		return st;
	if (x->out)
		*x->out = after;
	ch = changes_new();
	if (o->op == OP_ROTATE)
		changes_int(ch, "rotated_at", false, 0, true, now);
	if (o->op == OP_DELETE)
		changes_str(ch, "access_id", row.pub.access_id, NULL);
	else
		cred_changes(ch, &row.pub, &after);
	st = audit_append(tx, x->c, x->who, x->t.id, action, "api_credential", row.pub.access_id,
			  changes_dump(ch, x->a), err);
	changes_free(ch);
	return st;
}

enum rs_status api_credentials_rotate(struct core *c, const struct actor *who, const char *tenant,
				      const char *user_id, const char *access_id,
				      const struct api_credential_req *req, struct arena *a,
				      struct api_credential *out, const char **secret,
				      struct rs_err *err)
{
	struct opctx o = {.m = {.c = c,
				.who = who,
				.tenant = tenant,
				.user_id = user_id,
				.access_id = access_id,
				.creq = req,
				.a = a,
				.out = out,
				.secret = secret},
			  .op = OP_ROTATE};
	enum rs_status st = req ? check_days(req->token_expiry_days, err) : RS_OK;

	if (st != RS_OK)
		return st;
	return core_write(c, op_tx, &o, err);
}

enum rs_status api_credentials_set_disabled(struct core *c, const struct actor *who,
					    const char *tenant, const char *user_id,
					    const char *access_id, bool disabled, struct arena *a,
					    struct api_credential *out, struct rs_err *err)
{
	struct opctx o = {.m = {.c = c,
				.who = who,
				.tenant = tenant,
				.user_id = user_id,
				.access_id = access_id,
				.disabled = disabled,
				.a = a,
				.out = out},
			  .op = OP_SET_DISABLED};

	return core_write(c, op_tx, &o, err);
}

enum rs_status api_credentials_delete(struct core *c, const struct actor *who, const char *tenant,
				      const char *user_id, const char *access_id,
				      struct rs_err *err)
{
	struct opctx o = {
	    .m = {.c = c, .who = who, .tenant = tenant, .user_id = user_id, .access_id = access_id},
	    .op = OP_DELETE};

	return core_write_scratch(c, op_tx, &o, &o.m.a, err);
}

/* ---- authentication ----------------------------------------------------------------------------
 */

struct api_entry {
	char access_id[API_ACCESS_ID_LEN + 1];
	char secret[API_SECRET_LEN + 1];
	char hash[65];
	char tenant_id[UUID_STR_LEN];
	uint64_t epoch;
	int64_t filled_ms, expires_at, last_used_at;
	struct actor actor;
};

struct api_cache {
	pthread_mutex_t locks[CACHE_STRIPES];
	struct api_entry slots[CACHE_SLOTS];
};

struct api_cache *api_cache_new(void)
{
	struct api_cache *ac = calloc(1, sizeof(*ac));

	for (int i = 0; ac && i < CACHE_STRIPES; i++)
		pthread_mutex_init(&ac->locks[i], NULL);
	return ac;
}

void api_cache_free(struct api_cache *ac)
{
	if (!ac)
		return;
	for (int i = 0; i < CACHE_STRIPES; i++)
		pthread_mutex_destroy(&ac->locks[i]);
	crypto_wipe(ac->slots, sizeof(ac->slots));
	free(ac);
}

static unsigned slot_of(const char *access_id)
{
	return str_hash(access_id) % CACHE_SLOTS;
}

struct fill_ctx {
	struct core *c;
	const char *access_id;
	struct arena *a;
	struct api_entry *e;
	struct user *user; /* NULL: not wanted */
};

/* Everything that makes a credential usable, checked at the source: it exists, is enabled and
 * unexpired, and its user is a live, active API user of a live tenant. RS_E_NOT_FOUND for
 * every way it is not: the callers turn that into their one answer. */
static enum rs_status fill_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct fill_ctx *x = arg;
	struct store_rows *r = NULL;
	struct cred_row row;
	struct tenant t;
	struct user u;
	uint64_t perms = 0;
	struct actor_scope scopes[ACTOR_SCOPES_MAX];
	int nscopes = 0;
	int64_t now = core_now(x->c);
	enum rs_status st;

	st = Q_QUERY(tx, Q_API_CRED_BY_ID, &r, err, SV_S(x->access_id));
	st = cred_query(r, st, x->a, &row, err);
	if (st == RS_OK && (row.pub.disabled || (row.pub.expires_at && row.pub.expires_at <= now)))
		st = RS_E_NOT_FOUND;
	if (st == RS_OK)
		st = tenant_load(tx, row.pub.tenant_id, x->a, &t, err);
	if (st == RS_OK)
		st = user_load_grants(tx, t.id, row.pub.user_id, x->a, &u, &perms, scopes, &nscopes,
				      err);
	if (st == RS_OK && (strcmp(u.status, "active") != 0 || strcmp(u.type, "api") != 0))
		st = RS_E_NOT_FOUND;
	if (st != RS_OK)
		return st;
	memset(x->e, 0, sizeof(*x->e));
	if (!secret_derive(x->c, row.pub.access_id, row.salt, x->e->secret))
		return rs_fail(err, RS_E_INTERNAL, "internal.crypto", NULL,
			       "key derivation failed");
	str_copy(x->e->access_id, sizeof(x->e->access_id), row.pub.access_id);
	str_copy(x->e->hash, sizeof(x->e->hash), row.hash);
	str_copy(x->e->tenant_id, sizeof(x->e->tenant_id), t.id);
	x->e->filled_ms = now;
	x->e->expires_at = row.pub.expires_at;
	x->e->last_used_at = row.pub.last_used_at;
	actor_for_user(&x->e->actor, &t, &u, perms, scopes, nscopes);
	if (x->user)
		*x->user = u;
	return RS_OK;
}

struct use_ctx {
	struct core *c;
	const struct api_entry *e;
	const char *seen; /* the replay key, NULL for client_credentials */
	int64_t at, now, purge_before;
	bool touch;
};

/* One write per signed request: the signature is remembered (a second use is a unique
 * violation: a replay), and, now and then, last use is recorded and old signatures forgotten. */
static enum rs_status use_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct use_ctx *x = arg;
	enum rs_status st = RS_OK;

	if (x->seen) {
		st = Q_EXEC(tx, Q_SIGNED_REQUEST_INSERT, NULL, err, SV_S(x->seen), SV_I(x->at));
		if (st == RS_E_CONFLICT)
			return rs_fail(err, RS_E_UNAUTHENTICATED, "auth.replayed", NULL,
				       "this signed request was already received: sign every "
				       "request anew");
	}
	if (st == RS_OK && x->purge_before)
		st = Q_EXEC(tx, Q_SIGNED_REQUEST_PURGE, NULL, err, SV_I(x->purge_before));
	if (st == RS_OK && x->touch)
		st = Q_EXEC(tx, Q_API_CRED_TOUCH, NULL, err, SV_S(x->e->tenant_id),
			    SV_S(x->e->access_id), SV_I(x->now));
	/* API use is activity: the unused-seat report must not flag a working integration. */
	if (st == RS_OK && x->touch)
		st = Q_EXEC(tx, Q_USER_TOUCH, NULL, err, SV_S(x->e->tenant_id),
			    SV_S(x->e->actor.user_id), SV_I(x->now));
	return st;
}

static enum rs_status invalid_client(struct rs_err *err)
{
	return rs_fail(err, RS_E_UNAUTHENTICATED, "auth.invalid_client", NULL,
		       "the client credentials are invalid, disabled or expired");
}

enum rs_status api_credential_check(struct core *c, const char *access_id, const char *secret,
				    struct arena *a, struct actor *out, struct user *user,
				    struct rs_err *err)
{
	struct api_entry e;
	struct fill_ctx fx = {c, access_id, a, &e, user};
	char hash[65];
	enum rs_status st;
	bool ok;

	/* The hash costs the same whatever follows: a malformed id answers no faster. */
	token_hash(c, secret ? secret : "", hash);
	if (!access_id_valid(access_id) || !secret || strlen(secret) != API_SECRET_LEN)
		return invalid_client(err);
	st = core_read(c, fill_tx, &fx, err);
	if (st == RS_E_NOT_FOUND)
		return invalid_client(err);
	if (st != RS_OK)
		return st;
	ok = crypto_equal(e.hash, hash, 64);
	if (ok) {
		*out = e.actor;
		if (core_now(c) - e.last_used_at >= TOUCH_EVERY_MS) {
			struct use_ctx u = {.c = c, .e = &e, .now = core_now(c), .touch = true};
			struct rs_err ignored;

			/* Best effort: a failed touch must not fail the grant it rides on. */
			(void)core_write(c, use_tx, &u, &ignored);
		}
	}
	crypto_wipe(&e, sizeof(e));
	return ok ? RS_OK : invalid_client(err);
}

static enum rs_status bad_signature(struct rs_err *err)
{
	return rs_fail(err, RS_E_UNAUTHENTICATED, "auth.invalid_signature", NULL,
		       "the request signature is invalid, or its access id is unknown, disabled "
		       "or expired");
}

static enum rs_status stale(struct rs_err *err)
{
	return rs_fail(err, RS_E_UNAUTHENTICATED, "auth.stale_timestamp", NULL,
		       "the Timestamp header must be the current time in unix seconds (within "
		       "5 minutes)");
}

static bool parse_timestamp(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		if (n >= TIMESTAMP_DIGITS_MAX || s[n] < '0' || s[n] > '9')
			return false;
		v = v * 10 + (s[n] - '0');
	}
	*out = v;
	return n > 0;
}

/* The expected signature of q under secret, base64 (SIG_B64_LEN + 1 bytes). */
static bool sign(const char *secret, const struct signed_req *q, char out[SIG_B64_LEN + 1])
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char *msg;
	size_t n = strlen(q->path) + strlen(q->method) + strlen(q->timestamp) + 3;

	msg = malloc(n);
	if (!msg)
		return false;
	snprintf(msg, n, "%s:%s:%s", q->path, q->method, q->timestamp);
	crypto_hmac_sha256(secret, strlen(secret), msg, strlen(msg), mac);
	crypto_b64(mac, sizeof(mac), out);
	free(msg);
	crypto_wipe(mac, sizeof(mac));
	return true;
}

/* The credential's cache entry (RS_E_NOT_FOUND when it is unusable), from the cache when the
 * auth epoch hasn't moved since it was filled. */
static enum rs_status entry_get(struct core *c, const char *access_id, int64_t now,
				struct api_entry *e, struct rs_err *err)
{
	struct api_entry *slot;
	struct fill_ctx fx;
	struct arena a;
	pthread_mutex_t *lock;
	uint64_t epoch;
	unsigned idx = slot_of(access_id);
	bool hit = false;
	enum rs_status st;

	slot = &c->api->slots[idx];
	lock = &c->api->locks[idx % CACHE_STRIPES];
	/* Read the epoch before the store: an entry built from a read that raced a revocation
	 * carries the old epoch and is dropped by the bump that follows that commit. */
	epoch = atomic_load(&c->auth_epoch);
	pthread_mutex_lock(lock);
	if (strcmp(slot->access_id, access_id) == 0 && slot->epoch == epoch &&
	    now - slot->filled_ms < CACHE_TTL_MS && (!slot->expires_at || slot->expires_at > now)) {
		*e = *slot;
		hit = true;
	}
	pthread_mutex_unlock(lock);
	if (hit)
		return RS_OK;
	arena_init(&a, 0);
	fx = (struct fill_ctx){c, access_id, &a, e, NULL};
	st = core_read(c, fill_tx, &fx, err);
	arena_release(&a);
	if (st != RS_OK)
		return st;
	e->epoch = epoch;
	pthread_mutex_lock(lock);
	*slot = *e;
	pthread_mutex_unlock(lock);
	return RS_OK;
}

enum rs_status api_credential_actor(struct core *c, const char *access_id, struct actor *out,
				    struct rs_err *err)
{
	struct api_entry e;
	enum rs_status st = access_id_valid(access_id)
				? entry_get(c, access_id, core_now(c), &e, err)
				: RS_E_NOT_FOUND;

	if (st == RS_OK)
		*out = e.actor;
	crypto_wipe(&e, sizeof(e));
	if (st == RS_E_NOT_FOUND)
		return rs_fail(err, RS_E_UNAUTHENTICATED, "auth.invalid_token", NULL,
			       "the token is invalid, expired or revoked");
	return st;
}

enum rs_status auth_signed(struct core *c, const struct signed_req *q, struct actor *out,
			   struct rs_err *err)
{
	struct api_entry e;
	struct use_ctx u;
	char expect[SIG_B64_LEN + 1], seen[65];
	unsigned char md[CRYPTO_SHA256_LEN];
	int64_t now = q->now ? q->now : core_now(c), ts, last;
	bool ok;
	enum rs_status st;

	/* The clock first: it says nothing about any access id. */
	if (!parse_timestamp(q->timestamp, &ts) ||
	    ts * 1000 < now - API_SIGNATURE_SKEW_S * 1000LL ||
	    ts * 1000 > now + API_SIGNATURE_SKEW_S * 1000LL)
		return stale(err);
	if (!access_id_valid(q->access_id) || !q->signature ||
	    strlen(q->signature) != SIG_B64_LEN || !q->method || !*q->method ||
	    strlen(q->method) > METHOD_MAX || !q->path || strlen(q->path) > RS_URL_MAX)
		return bad_signature(err);
	st = entry_get(c, q->access_id, now, &e, err);
	if (st == RS_E_NOT_FOUND) {
		/* An unknown access id costs the HMAC a known one does, and answers the same
		 * words. */
		(void)sign("roster: no such access id", q, expect);
		return bad_signature(err);
	}
	if (st != RS_OK)
		return st;
	ok = sign(e.secret, q, expect) && crypto_equal(expect, q->signature, SIG_B64_LEN);
	crypto_wipe(expect, sizeof(expect));
	if (!ok) {
		crypto_wipe(&e, sizeof(e));
		return bad_signature(err);
	}
	/* The replay key: what was signed, by whom. Hashing keeps the row at one size. */
	{
		char key[API_ACCESS_ID_LEN + SIG_B64_LEN + 2];

		snprintf(key, sizeof(key), "%s:%s", e.access_id, q->signature);
		crypto_sha256(key, strlen(key), md);
		crypto_hex(md, sizeof(md), seen);
	}
	u = (struct use_ctx){.c = c,
			     .e = &e,
			     .seen = seen,
			     .at = ts * 1000,
			     .now = now,
			     .touch = now - e.last_used_at >= TOUCH_EVERY_MS};
	/* A signature whose timestamp is older than the window can't be replayed any more: one
	 * request a minute per node forgets those. */
	last = atomic_load(&c->signed_purged_ms);
	if (now - last >= PURGE_EVERY_MS &&
	    atomic_compare_exchange_strong(&c->signed_purged_ms, &last, now))
		u.purge_before = now - API_SIGNATURE_SKEW_S * 1000LL - PURGE_MARGIN_MS;
	st = core_write(c, use_tx, &u, err);
	if (st == RS_OK) {
		*out = e.actor;
		if (u.touch) {
			unsigned idx = slot_of(e.access_id);
			pthread_mutex_t *lock = &c->api->locks[idx % CACHE_STRIPES];

			pthread_mutex_lock(lock);
			if (strcmp(c->api->slots[idx].access_id, e.access_id) == 0)
				c->api->slots[idx].last_used_at = now;
			pthread_mutex_unlock(lock);
		}
	}
	crypto_wipe(&e, sizeof(e));
	return st;
}
