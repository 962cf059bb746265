/* JWT access tokens: the claims roster puts in them and the checks a token must pass here
 * (docs/tokens.md). Signing and signature verification are crypto/jwt.c's (libjwt); the keys
 * are core/keys.c's. jansson builds and reads the claims only: no json_t leaves this file.
 * Every refusal of a presented token is the same answer, so a caller learns nothing about why:
 * RS_E_UNAUTHENTICATED, "auth.invalid_token". */
#include "core/core_int.h"

#include <jansson.h>
#include <stdlib.h>

#include "crypto/crypto.h"
#include "crypto/jwt.h"

#define ISSUER_DEFAULT "roster"

static const char *issuer(const struct core *c)
{
	const char *u = core_public_url(c);

	return u && *u ? u : ISSUER_DEFAULT;
}

static enum rs_status invalid_token(struct rs_err *err)
{
	return rs_fail(err, RS_E_UNAUTHENTICATED, "auth.invalid_token", NULL,
		       "the token is invalid, expired or revoked");
}

static enum rs_status bad_claims(struct rs_err *err, const char *why)
{
	return rs_fail(err, RS_E_INVALID, "access_token.invalid_claims", NULL, "%s", why);
}

static bool set_str(json_t *o, const char *name, const char *v)
{
	return !v || json_object_set_new(o, name, json_string(v)) == 0;
}

/* The payload, as compact JSON text (malloc'd), or NULL. */
static char *claims_json(const struct access_claims *cl)
{
	json_t *o = json_object(), *roles = json_array();
	char *text = NULL;
	bool ok = o && roles;

	for (int i = 0; ok && i < cl->nroles; i++)
		ok = json_array_append_new(roles, json_string(cl->roles[i])) == 0;
	ok = ok && set_str(o, "iss", cl->iss) && set_str(o, "sub", cl->sub) &&
	     set_str(o, "tenant_id", cl->tenant_id) && set_str(o, "sid", cl->sid) &&
	     set_str(o, "client_id", cl->client_id) && set_str(o, "jti", cl->jti) &&
	     set_str(o, "scope", cl->scope) && set_str(o, "preferred_username", cl->username) &&
	     json_object_set(o, "roles", roles) == 0 &&
	     json_object_set_new(o, "iat", json_integer(cl->iat / 1000)) == 0 &&
	     json_object_set_new(o, "exp", json_integer(cl->exp / 1000)) == 0;
	if (ok)
		text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(roles);
	json_decref(o);
	return text;
}

static bool text_ok(const char *s, size_t max)
{
	return s && *s && strlen(s) <= max && str_valid_text(s);
}

enum rs_status access_token_mint(struct core *c, struct access_claims *cl, struct arena *a,
				 const char **jwt, struct rs_err *err)
{
	char kid[CRYPTO_JWT_KID_MAX], priv[CRYPTO_ES256_PEM_MAX], id[UUID_STR_LEN];
	char *payload, *token;
	enum rs_status st;

	*jwt = NULL;
	if (!text_ok(cl->sub, 128) || !text_ok(cl->tenant_id, 128))
		return bad_claims(err, "an access token needs sub and tenant_id");
	if (cl->nroles < 0 || cl->nroles > ACCESS_TOKEN_ROLES_MAX || (cl->nroles && !cl->roles))
		return bad_claims(err, "too many roles for an access token");
	for (int i = 0; i < cl->nroles; i++) {
		if (!text_ok(cl->roles[i], 256))
			return bad_claims(err, "a role of an access token is not text");
	}
	if (!cl->iss)
		cl->iss = arena_strdup(a, issuer(c));
	if (!cl->jti) {
		if (!core_new_id(id))
			return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL,
				       "no randomness");
		cl->jti = arena_strdup(a, id);
	}
	if (!cl->iat)
		cl->iat = core_now(c);
	if (!cl->exp)
		cl->exp = cl->iat + c->access_token_ttl_ms;
	if (!cl->iss || !cl->jti)
		return core_oom(err);
	if (cl->exp / 1000 <= cl->iat / 1000)
		return bad_claims(err, "an access token must expire after it is issued");
	payload = claims_json(cl);
	if (!payload)
		return core_oom(err);
	st = keys_signer(c, kid, sizeof(kid), priv, sizeof(priv), err);
	token = st == RS_OK ? crypto_jwt_sign(priv, kid, payload) : NULL;
	crypto_wipe(priv, sizeof(priv));
	free(payload);
	if (st != RS_OK)
		return st;
	if (!token)
		return rs_fail(err, RS_E_INTERNAL, "access_token.sign", NULL,
			       "cannot sign the access token");
	*jwt = arena_strdup(a, token);
	/* A bearer credential: no copy outlives the arena's. */
	crypto_wipe(token, strlen(token));
	free(token);
	return *jwt ? RS_OK : core_oom(err);
}

/* ---- verification -----------------------------------------------------------------------------
 */

/* An optional string claim: absent is fine (NULL), anything but a string is not. */
static bool opt_str(json_t *o, const char *name, struct arena *a, const char **out)
{
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (!v)
		return true;
	if (!json_is_string(v))
		return false;
	*out = arena_strdup(a, json_string_value(v));
	return *out != NULL;
}

static bool req_str(json_t *o, const char *name, struct arena *a, const char **out)
{
	return opt_str(o, name, a, out) && *out && **out;
}

static bool roles_of(json_t *o, struct arena *a, struct access_claims *out)
{
	json_t *v = json_object_get(o, "roles"), *r;
	const char **roles;
	size_t i;

	out->roles = NULL;
	out->nroles = 0;
	if (!v)
		return true;
	if (!json_is_array(v) || json_array_size(v) > ACCESS_TOKEN_ROLES_MAX)
		return false;
	roles = arena_alloc(a, (json_array_size(v) + 1) * sizeof(*roles));
	if (!roles)
		return false;
	json_array_foreach(v, i, r)
	{
		if (!json_is_string(r) || !(roles[i] = arena_strdup(a, json_string_value(r))))
			return false;
	}
	roles[json_array_size(v)] = NULL;
	out->roles = roles;
	out->nroles = (int)json_array_size(v);
	return true;
}

/* A NumericDate claim in whole seconds, within a range where ms arithmetic cannot overflow. */
static bool time_claim(json_t *o, const char *name, bool required, bool *has, int64_t *out)
{
	json_t *v = json_object_get(o, name);

	*has = v != NULL;
	if (!v)
		return !required;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > INT64_MAX / 1000 - 86400)
		return false;
	*out = json_integer_value(v);
	return true;
}

static bool claims_check(struct core *c, const char *payload, struct arena *a,
			 struct access_claims *out)
{
	json_t *o = json_loads(payload, JSON_REJECT_DUPLICATES, NULL);
	int64_t now = core_now(c) / 1000, iat = 0, exp = 0, nbf = 0;
	bool has, has_nbf, ok;

	ok = json_is_object(o) && req_str(o, "iss", a, &out->iss) &&
	     strcmp(out->iss, issuer(c)) == 0 && req_str(o, "sub", a, &out->sub) &&
	     req_str(o, "tenant_id", a, &out->tenant_id) && req_str(o, "jti", a, &out->jti) &&
	     opt_str(o, "sid", a, &out->sid) && opt_str(o, "client_id", a, &out->client_id) &&
	     opt_str(o, "scope", a, &out->scope) &&
	     opt_str(o, "preferred_username", a, &out->username) && roles_of(o, a, out) &&
	     time_claim(o, "exp", true, &has, &exp) && time_claim(o, "iat", true, &has, &iat) &&
	     time_claim(o, "nbf", false, &has_nbf, &nbf);
	json_decref(o);
	if (!ok)
		return false;
	/* RFC 7519 4.1.4: not on or after exp; the leeway forgives clocks that disagree. */
	if (now >= exp + ACCESS_TOKEN_LEEWAY_S)
		return false;
	if (iat > now + ACCESS_TOKEN_LEEWAY_S || (has_nbf && nbf > now + ACCESS_TOKEN_LEEWAY_S))
		return false;
	if (exp <= iat)
		return false;
	out->iat = iat * 1000;
	out->exp = exp * 1000;
	return true;
}

enum rs_status access_token_verify(struct core *c, const char *jwt, struct arena *a,
				   struct access_claims *out, struct rs_err *err)
{
	char kid[CRYPTO_JWT_KID_MAX], pub[CRYPTO_ES256_PEM_MAX];
	struct rs_err lookup;
	char *payload;
	bool ok;

	memset(out, 0, sizeof(*out));
	/* The header first: alg is pinned to ES256 before any library interprets the token. */
	if (!jwt || !crypto_jwt_es256_header(jwt, kid))
		return invalid_token(err);
	switch (keys_verifier(c, kid, pub, sizeof(pub), &lookup)) {
	case RS_OK:
		break;
	case RS_E_NOT_FOUND: /* an unknown or retired kid */
		return invalid_token(err);
	case RS_E_INVALID:
	case RS_E_UNAUTHENTICATED:
	case RS_E_FORBIDDEN:
	case RS_E_CONFLICT:
	case RS_E_PRECONDITION:
	case RS_E_TOO_LARGE:
	case RS_E_LIMIT:
	case RS_E_UNAVAILABLE:
	case RS_E_INTERNAL:
		/* No key could be loaded at all: the store's failure, not the token's. */
		*err = lookup;
		return lookup.status;
	}
	payload = crypto_jwt_verify(pub, jwt);
	ok = payload && claims_check(c, payload, a, out);
	free(payload);
	if (!ok) {
		memset(out, 0, sizeof(*out));
		return invalid_token(err);
	}
	return RS_OK;
}
