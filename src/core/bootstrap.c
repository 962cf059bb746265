/* First start: the system tenant, the maintenance account (the platform operator's break-glass
 * account, with every permission) and its API token. */
#include "core/core_int.h"

#include "crypto/crypto.h"

#define BOOTSTRAP_MIN 32

struct ctx {
	struct core *c;
	const char *token;
	struct arena *a;
	bool *created;
	const char **secret;
};

static enum rs_status boot_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct actor sys = {
	    .kind = ACTOR_SYSTEM, .rank = 1000, .perms = PERM_ALL, .platform = true};
	struct tenant t;
	struct role role;
	struct rs_err probe;
	char tid[UUID_STR_LEN], uid[UUID_STR_LEN], kid[UUID_STR_LEN];
	char lookup[TOKEN_LOOKUP_LEN + 1], hash[65];
	const char *secret;
	enum rs_status st;
	int64_t now = core_now(x->c);

	st = tenant_load(tx, "system", x->a, &t, &probe);
	if (st == RS_OK)
		return RS_OK; /* already bootstrapped */
	if (st != RS_E_NOT_FOUND)
		return rs_fail(err, st, probe.code, NULL, "%s", probe.msg);
	if (!core_new_id(tid) || !core_new_id(uid) || !core_new_id(kid))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	st = Q_EXEC(tx, Q_TENANT_INSERT, NULL, err, SV_S(tid), SV_S("system"), SV_S("Platform"),
		    SV_S("system"), SV_I(now));
	if (st == RS_OK)
		st = template_apply(tx, x->c, tid, templates_find("system"), x->a, err);
	if (st == RS_OK)
		st = role_find(tx, tid, "Maintenance Account", x->a, &role, err);
	if (st != RS_OK)
		return st;
	st = Q_EXEC(tx, Q_USER_INSERT, NULL, err, SV_S(tid), SV_S(uid), SV_S("maintenance"),
		    SV_S("maintenance"), SV_NULLV, SV_NULLV, SV_S("Maintenance"),
		    SV_S("maintenance"), SV_S("Account"), SV_S("account"), SV_S("api"),
		    SV_S("active"), SV_S(role.id), SV_NULLV, SV_NULLV, SV_NULLV,
		    SV_S("the platform operator's break-glass account"), SV_NULLV, SV_S("{}"),
		    SV_S(""), SV_NULLV, SV_NULLV, SV_NULLV, SV_I(now), SV_NULLV);
	if (st != RS_OK)
		return st;
	if (x->token) {
		secret = x->token;
		token_split(x->token, lookup, &secret);
		token_hash(x->c, secret, hash);
		secret = NULL;
	} else {
		st = token_mint(x->c, x->a, &secret, lookup, hash, err);
		if (st != RS_OK)
			return st;
	}
	st =
	    token_insert(tx, x->c, tid, kid, lookup, hash, uid, "bootstrap", role.id, NULL, 0, err);
	if (st != RS_OK)
		return st;
	st = audit_append(tx, x->c, &sys, tid, "tenant.create", "tenant", tid,
			  "{\"slug\":{\"after\":\"system\",\"before\":null}}", err);
	if (st == RS_OK)
		st =
		    audit_append(tx, x->c, &sys, tid, "user.create", "user", uid,
				 "{\"username\":{\"after\":\"maintenance\",\"before\":null}}", err);
	if (st == RS_OK)
		st = audit_append(tx, x->c, &sys, tid, "token.create", "token", kid,
				  "{\"name\":{\"after\":\"bootstrap\",\"before\":null}}", err);
	if (st != RS_OK)
		return st;
	*x->created = true;
	*x->secret = secret;
	return RS_OK;
}

enum rs_status core_bootstrap(struct core *c, const char *token, struct arena *a, bool *created,
			      const char **secret, struct rs_err *err)
{
	struct ctx x = {c, token, a, created, secret};

	*created = false;
	*secret = NULL;
	if (token &&
	    (strlen(token) < BOOTSTRAP_MIN || strlen(token) > 256 || !str_valid_text(token)))
		return rs_fail(err, RS_E_INVALID, "bootstrap.token_invalid", NULL,
			       "ROSTER_BOOTSTRAP_TOKEN must be %d-256 printable characters",
			       BOOTSTRAP_MIN);
	return core_write(c, boot_tx, &x, err);
}
