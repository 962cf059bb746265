/* API tokens: "rst_<lookup>_<secret>". Only HMAC-SHA256(server key, secret) is stored: the
 * secret is 256 random bits, so a keyed hash is as strong as a password hash and a thousand
 * times cheaper to check on every request. The lookup half finds the row; the hash is then
 * compared in constant time. */
#include "core/core_int.h"

#include <stdio.h>

#include "crypto/crypto.h"

#define SECRET_BYTES 32

void token_split(const char *token, char lookup[TOKEN_LOOKUP_LEN + 1], const char **secret)
{
	size_t n = strlen(token);
	const size_t plen = sizeof(TOKEN_PREFIX) - 1;

	if (n > plen + TOKEN_LOOKUP_LEN + 1 && strncmp(token, TOKEN_PREFIX, plen) == 0 &&
	    token[plen + TOKEN_LOOKUP_LEN] == '_') {
		memcpy(lookup, token + plen, TOKEN_LOOKUP_LEN);
		lookup[TOKEN_LOOKUP_LEN] = '\0';
		*secret = token + plen + TOKEN_LOOKUP_LEN + 1;
		return;
	}
	/* A credential in another format (an operator-chosen bootstrap secret): its lookup is
	 * derived from the whole value, which is also the secret. */
	{
		unsigned char md[CRYPTO_SHA256_LEN];

		crypto_sha256(token, n, md);
		crypto_hex(md, TOKEN_LOOKUP_LEN / 2, lookup);
		*secret = token;
	}
}

void token_hash(const struct core *c, const char *secret, char out[65])
{
	unsigned char mac[CRYPTO_SHA256_LEN];

	crypto_hmac_sha256(c->key, sizeof(c->key), secret, strlen(secret), mac);
	crypto_hex(mac, sizeof(mac), out);
}

enum rs_status secret_mint(const struct core *c, struct arena *a, const char *prefix,
			   const char **token, char lookup[TOKEN_LOOKUP_LEN + 1], char hash[65],
			   struct rs_err *err)
{
	unsigned char raw[TOKEN_LOOKUP_LEN / 2 + SECRET_BYTES];
	char secret[64];
	char *t;

	if (!crypto_random(raw, sizeof(raw)))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	crypto_hex(raw, TOKEN_LOOKUP_LEN / 2, lookup);
	crypto_b64url(raw + TOKEN_LOOKUP_LEN / 2, SECRET_BYTES, secret);
	t = arena_printf(a, "%s%s_%s", prefix, lookup, secret);
	token_hash(c, secret, hash);
	crypto_wipe(raw, sizeof(raw));
	crypto_wipe(secret, sizeof(secret));
	if (!t)
		return core_oom(err);
	*token = t;
	return RS_OK;
}

enum rs_status token_mint(const struct core *c, struct arena *a, const char **token,
			  char lookup[TOKEN_LOOKUP_LEN + 1], char hash[65], struct rs_err *err)
{
	return secret_mint(c, a, TOKEN_PREFIX, token, lookup, hash, err);
}

bool secret_split(const char *token, const char *prefix, char lookup[TOKEN_LOOKUP_LEN + 1],
		  const char **secret)
{
	size_t plen = strlen(prefix), n = token ? strlen(token) : 0;

	if (n < plen + TOKEN_LOOKUP_LEN + 2 || n > 256 || strncmp(token, prefix, plen) != 0 ||
	    token[plen + TOKEN_LOOKUP_LEN] != '_')
		return false;
	for (size_t i = plen; i < plen + TOKEN_LOOKUP_LEN; i++) {
		if (!strchr("0123456789abcdef", token[i]))
			return false;
	}
	memcpy(lookup, token + plen, TOKEN_LOOKUP_LEN);
	lookup[TOKEN_LOOKUP_LEN] = '\0';
	*secret = token + plen + TOKEN_LOOKUP_LEN + 1;
	return true;
}

enum rs_status token_insert(struct store_tx *tx, struct core *c, const char *tenant_id,
			    const char *id, const char *lookup, const char *hash,
			    const char *user_id, const char *name, const char *role_id,
			    const char *created_by, int64_t expires_at, struct rs_err *err)
{
	return Q_EXEC(tx, Q_TOKEN_INSERT, NULL, err, SV_S(tenant_id), SV_S(id), SV_S(lookup),
		      SV_S(hash), SV_S(user_id), SV_S(name), SV_S(role_id), SV_S(created_by),
		      SV_I(core_now(c)), expires_at ? SV_I(expires_at) : SV_NULLV);
}

/* Fills the role name and rank of a token row. */
static enum rs_status token_complete(struct store_tx *tx, struct arena *a, struct token *t,
				     struct rs_err *err)
{
	struct role r;
	enum rs_status st;

	if (!t->role.id)
		return RS_OK;
	st = role_find(tx, t->tenant_id, t->role.id, a, &r, err);

	if (st == RS_E_NOT_FOUND)
		return RS_OK; /* a role deleted under a revoked token: show the id alone */
	if (st != RS_OK)
		return st;
	t->role.name = r.name;
	t->role.rank = r.rank;
	return RS_OK;
}

enum rs_status token_find(struct store_tx *tx, const char *tenant_id, const char *id,
			  struct arena *a, struct token *out, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has = false;

	if (!id || !uuid_valid(id))
		goto missing;
	st = Q_QUERY(tx, Q_TOKEN_GET, &r, err, SV_S(tenant_id), SV_S(id));
	if (st != RS_OK)
		return st;
	st = store_rows_next(r, &has, err);
	if (st == RS_OK && has)
		row_token(r, a, out);
	store_rows_close(r);
	if (st != RS_OK)
		return st;
	if (has)
		return token_complete(tx, a, out, err);
missing:
	return rs_fail(err, RS_E_NOT_FOUND, "token.not_found", NULL, "no such token");
}

struct ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *id, *user_id;
	const struct token_create_req *req;
	const struct page *pg;
	struct arena *a;
	struct token *out;
	struct token_list *list;
	const char **secret;
};

static bool own(const struct actor *who, const char *user_id)
{
	return user_id && strcmp(user_id, who->user_id) == 0;
}

static enum rs_status create_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	const struct token_create_req *q = x->req;
	struct tenant t;
	struct user owner;
	struct role role;
	struct changes *ch;
	char id[UUID_STR_LEN], lookup[TOKEN_LOOKUP_LEN + 1], hash[65];
	const char *owner_id = q->user_id ? q->user_id : x->who->user_id;
	int64_t expires = 0;
	enum rs_status st;

	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);
	if (st != RS_OK)
		return st;
	if (!own(x->who, owner_id) || strcmp(t.id, x->who->tenant_id) != 0) {
		/* A token for somebody else: an administrative act on that user. */
		st = require_perm(x->who, PERM_TOKENS_MANAGE, err);
		if (st != RS_OK)
			return st;
		if (!q->user_id)
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "user_id",
				       "'user_id' is required for a token in another tenant");
	}
	st = user_load(tx, t.id, owner_id, x->a, &owner, NULL, err);
	if (st == RS_E_NOT_FOUND)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "user_id",
			       "unknown user '%s'", owner_id);
	if (st == RS_OK)
		st = rank_may_act_on(x->who, owner.rank, err);
	if (st != RS_OK)
		return st;
	if (q->role) {
		st = role_find(tx, t.id, q->role, x->a, &role, err);
		if (st == RS_E_NOT_FOUND)
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "role",
				       "unknown role '%s'", q->role);
		if (st != RS_OK)
			return st;
		/* DESIGN rule 2: a token's scope is a role not above its creator's nor its
		 * owner's. */
		st = rank_may_grant(x->who, role.rank, err);
		if (st != RS_OK)
			return st;
		if (role.rank > owner.rank)
			return rs_fail(err, RS_E_FORBIDDEN, "rank.role_above_own", "role",
				       "a token can't be ranked above the user it belongs to");
	} else {
		role.id = NULL; /* the owner's own roles, whatever they become */
	}
	if (q->has_expiry)
		expires = core_now(x->c) + q->expires_in_days * 86400000LL;
	if (!core_new_id(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	st = token_mint(x->c, x->a, x->secret, lookup, hash, err);
	if (st == RS_OK)
		st = token_insert(tx, x->c, t.id, id, lookup, hash, owner.id, q->name, role.id,
				  x->who->user_id[0] ? x->who->user_id : NULL, expires, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "name", NULL, q->name);
	changes_str(ch, "user_id", NULL, owner.id);
	if (role.id)
		changes_str(ch, "role", NULL, role.id);
	if (expires)
		changes_int(ch, "expires_at", false, 0, true, expires);
	st = audit_append(tx, x->c, x->who, t.id, "token.create", "token", id,
			  changes_dump(ch, x->a), err);
	changes_free(ch);
	if (st != RS_OK)
		return st;
	return token_find(tx, t.id, id, x->a, x->out, err);
}

enum rs_status tokens_create(struct core *c, const struct actor *who, const char *tenant,
			     const struct token_create_req *req, struct arena *a, struct token *out,
			     const char **secret, struct rs_err *err)
{
	struct ctx x = {
	    .c = c, .who = who, .tenant = tenant, .req = req, .a = a, .out = out, .secret = secret};
	enum rs_status st = check_text("name", req->name, RS_NAME_MAX, true, err);

	if (st != RS_OK)
		return st;
	if (req->has_expiry &&
	    (req->expires_in_days < 1 || req->expires_in_days > RS_TOKEN_DAYS_MAX))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "expires_in_days",
			       "'expires_in_days' must be between 1 and %d", RS_TOKEN_DAYS_MAX);
	if (req->user_id && !uuid_valid(req->user_id))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "user_id",
			       "unknown user '%s'", req->user_id);
	return core_write(c, create_tx, &x, err);
}

static enum rs_status read_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct store_rows *r = NULL;
	struct tenant t;
	const char *after = NULL, *user = x->user_id;
	bool all = x->who->perms & PERM_BIT(PERM_TOKENS_READ);
	int limit = page_limit(x->pg);
	enum rs_status st;
	bool has;

	st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);
	if (st != RS_OK)
		return st;
	if (x->out) {
		st = token_find(tx, t.id, x->id, x->a, x->out, err);
		if (st == RS_OK && !all && !own(x->who, x->out->user_id))
			st = rs_fail(err, RS_E_NOT_FOUND, "token.not_found", NULL, "no such token");
		return st;
	}
	if (!all) {
		if (user && !own(x->who, user))
			return rs_fail(err, RS_E_FORBIDDEN, "auth.permission_denied", NULL,
				       "listing another user's tokens needs 'tokens.read'");
		user = x->who->user_id;
	}
	if (x->pg && x->pg->cursor) {
		const char *sv;

		st = cursor_decode(x->c, x->a, x->pg->cursor, &sv, &after, err);
		if (st != RS_OK)
			return st;
	}
	x->list->items = arena_alloc(x->a, sizeof(*x->list->items) * (size_t)(limit + 1));
	if (!x->list->items)
		return core_oom(err);
	st = Q_QUERY(tx, Q_TOKEN_LIST, &r, err, SV_S(t.id), SV_S(user), SV_S(after),
		     SV_I(limit + 1));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if (x->list->n == limit) {
			x->list->next_cursor =
			    cursor_encode(x->c, x->a, "", x->list->items[limit - 1].id);
			break;
		}
		row_token(r, x->a, &x->list->items[x->list->n++]);
	}
	store_rows_close(r);
	for (int i = 0; st == RS_OK && i < x->list->n; i++)
		st = token_complete(tx, x->a, &x->list->items[i], err);
	return st;
}

enum rs_status tokens_list(struct core *c, const struct actor *who, const char *tenant,
			   const char *user_id, const struct page *pg, struct arena *a,
			   struct token_list *out, struct rs_err *err)
{
	struct ctx x = {.c = c,
			.who = who,
			.tenant = tenant,
			.user_id = user_id,
			.pg = pg,
			.a = a,
			.list = out};

	memset(out, 0, sizeof(*out));
	return core_read(c, read_tx, &x, err);
}

enum rs_status tokens_get(struct core *c, const struct actor *who, const char *tenant,
			  const char *id, struct arena *a, struct token *out, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .id = id, .a = a, .out = out};

	return core_read(c, read_tx, &x, err);
}

static enum rs_status revoke_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	struct token tok;
	struct changes *ch;
	enum rs_status st;
	int64_t now = core_now(x->c);

	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = token_find(tx, t.id, x->id, x->a, &tok, err);
	if (st != RS_OK)
		return st;
	if (!own(x->who, tok.user_id)) {
		struct user owner;

		if (!(x->who->perms & PERM_BIT(PERM_TOKENS_READ)))
			return rs_fail(err, RS_E_NOT_FOUND, "token.not_found", NULL,
				       "no such token");
		st = require_perm(x->who, PERM_TOKENS_MANAGE, err);
		if (st != RS_OK)
			return st;
		st = user_load(tx, t.id, tok.user_id, x->a, &owner, NULL, err);
		if (st == RS_OK)
			st = rank_may_act_on(x->who, owner.rank, err);
		else if (st == RS_E_NOT_FOUND)
			st = RS_OK; /* the owner is gone; revoking its token harms nobody */
		if (st != RS_OK)
			return st;
	}
	if (tok.revoked_at)
		return RS_OK; /* revoking twice is the same as once */
	st = Q_EXEC(tx, Q_TOKEN_REVOKE, NULL, err, SV_S(t.id), SV_S(tok.id), SV_I(now));
	if (st == RS_OK)
		st = store_signal(tx, STORE_SIG_AUTH, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_int(ch, "revoked_at", false, 0, true, now);
	st = audit_append(tx, x->c, x->who, t.id, "token.revoke", "token", tok.id,
			  changes_dump(ch, x->a), err);
	changes_free(ch);
	return st;
}

enum rs_status tokens_revoke(struct core *c, const struct actor *who, const char *tenant,
			     const char *id, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .id = id};

	return core_write_scratch(c, revoke_tx, &x, &x.a, err);
}
