/* core/keys.c and core/access_token.c: JWT access tokens and their signing keys. Mint and
 * verify round trip; every forged, altered, expired or premature token refused with the one
 * answer; algorithm confusion (alg none, HS256 keyed with the public key) refused although
 * libjwt 1.10 alone accepts the HS256 one; rotation (previous still verifies, retired does
 * not); the keys sealed under the server key; and a second node on the same database that
 * verifies a token minted after a rotation on the first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto/crypto.h"
#include "crypto/jwt.h"
#include "fixture.h"
#include "util/timeutil.h"

#define T0_S (FX_T0 / 1000)

/* The answer every refused token must get, word for word. */
static struct rs_err refused_answer;

static int setup(void **state)
{
	struct fx *f = fx_open();
	struct rs_err err = {0};

	if (!f)
		return -1;
	if (keys_ensure(f->core, &err) != RS_OK) {
		fprintf(stderr, "keys_ensure: %s %s\n", err.code, err.msg);
		fx_close(f);
		return -1;
	}
	*state = f;
	return 0;
}

static const char *mint(struct fx *f, struct access_claims *cl)
{
	struct rs_err err = {0};
	const char *jwt = NULL;

	fx_expect(access_token_mint(f->core, cl, &f->a, &jwt, &err), &err, RS_OK, NULL);
	assert_non_null(jwt);
	return jwt;
}

static const char *mint_basic(struct fx *f)
{
	static const char *const roles[] = {"Admin", "Member"};
	struct access_claims cl = {.sub = "0190a0b0-0000-7000-8000-000000000001",
				   .tenant_id = "0190a0b0-0000-7000-8000-000000000002",
				   .sid = "0190a0b0-0000-7000-8000-000000000003",
				   .username = "alice",
				   .scope = "openid users.read",
				   .roles = roles,
				   .nroles = 2};

	return mint(f, &cl);
}

static void expect_valid(struct fx *f, const char *jwt, struct access_claims *out, int line)
{
	struct access_claims cl;
	struct rs_err err = {0};

	fx_expect_at(access_token_verify(f->core, jwt, &f->a, out ? out : &cl, &err), &err, RS_OK,
		     NULL, __FILE__, line, "verify");
}
#define expect_valid(f, jwt, out) expect_valid((f), (jwt), (out), __LINE__)

static void expect_refused(struct fx *f, const char *jwt, const char *what)
{
	struct access_claims cl;
	struct rs_err err = {0};
	enum rs_status st = access_token_verify(f->core, jwt, &f->a, &cl, &err);

	if (st != RS_E_UNAUTHENTICATED || strcmp(err.code, "auth.invalid_token") != 0)
		fail_msg("%s: got %s %s", what, rs_status_name(st), st ? err.code : "");
	/* No oracle: nothing tells one refusal from another. */
	if (!refused_answer.code[0])
		refused_answer = err;
	assert_string_equal(err.msg, refused_answer.msg);
	assert_string_equal(err.field, refused_answer.field);
	assert_null(cl.sub);
}

static const char *b64(struct fx *f, const char *text)
{
	size_t n = strlen(text);
	char *out = arena_alloc(&f->a, 4 * ((n + 2) / 3) + 1);

	assert_non_null(out);
	crypto_b64url((const unsigned char *)text, n, out);
	return out;
}

/* A token made by hand: header and payload JSON, signature as given (base64url). */
static const char *forge(struct fx *f, const char *header, const char *payload, const char *sig)
{
	return arena_printf(&f->a, "%s.%s.%s", b64(f, header), b64(f, payload), sig);
}

/* tmpl with its one "KID" replaced by kid. */
static const char *with_kid(struct fx *f, const char *tmpl, const char *kid)
{
	const char *at = strstr(tmpl, "KID");

	assert_non_null(at);
	return arena_printf(&f->a, "%.*s%s%s", (int)(at - tmpl), tmpl, kid, at + 3);
}

/* The current key's kid and private key (a test may sign what it likes with it). */
static void current_key(struct fx *f, char kid[CRYPTO_JWT_KID_MAX], char priv[CRYPTO_ES256_PEM_MAX])
{
	struct rs_err err = {0};

	fx_expect(keys_signer(f->core, kid, CRYPTO_JWT_KID_MAX, priv, CRYPTO_ES256_PEM_MAX, &err),
		  &err, RS_OK, NULL);
}

/* payload signed by the current key, as roster would sign it. */
static const char *sign_payload(struct fx *f, const char *payload)
{
	char kid[CRYPTO_JWT_KID_MAX], priv[CRYPTO_ES256_PEM_MAX];
	char *t;
	const char *jwt;

	current_key(f, kid, priv);
	t = crypto_jwt_sign(priv, kid, payload);
	crypto_wipe(priv, sizeof(priv));
	assert_non_null(t);
	jwt = arena_strdup(&f->a, t);
	free(t);
	return jwt;
}

/* header.payload signed ES256 by the current key with OpenSSL directly, not libjwt: any
 * bytes at all can be signed this way, duplicates and all. */
static const char *sign_raw(struct fx *f, const char *header, const char *payload)
{
	char kid[CRYPTO_JWT_KID_MAX], priv[CRYPTO_ES256_PEM_MAX], sig64[100];
	const char *input;
	unsigned char der[128], rs[64];
	const unsigned char *p = der;
	size_t derlen = sizeof(der);
	BIO *bio;
	EVP_PKEY *pk;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *es;
	const BIGNUM *r, *sv;

	current_key(f, kid, priv);
	bio = BIO_new_mem_buf(priv, -1);
	pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	crypto_wipe(priv, sizeof(priv));
	assert_non_null(pk);
	input = arena_printf(&f->a, "%s.%s", b64(f, header), b64(f, payload));
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk), 1);
	assert_int_equal(
	    EVP_DigestSign(md, der, &derlen, (const unsigned char *)input, strlen(input)), 1);
	es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	assert_non_null(es);
	ECDSA_SIG_get0(es, &r, &sv);
	assert_int_equal(BN_bn2binpad(r, rs, 32), 32);
	assert_int_equal(BN_bn2binpad(sv, rs + 32, 32), 32);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	crypto_b64url(rs, sizeof(rs), sig64);
	return arena_printf(&f->a, "%s.%s", input, sig64);
}

static const char *our_header(struct fx *f)
{
	char kid[CRYPTO_JWT_KID_MAX], priv[CRYPTO_ES256_PEM_MAX];

	current_key(f, kid, priv);
	crypto_wipe(priv, sizeof(priv));
	return arena_printf(&f->a, "{\"alg\":\"ES256\",\"kid\":\"%s\"}", kid);
}

static const char *claims_text(struct fx *f, const char *extra)
{
	return arena_printf(
	    &f->a,
	    "{\"iss\":\"roster\",\"sub\":\"u1\",\"tenant_id\":\"t1\",\"jti\":\"j1\","
	    "\"iat\":%lld,\"exp\":%lld%s}",
	    (long long)T0_S, (long long)T0_S + 300, extra ? extra : "");
}

static void rotate(struct fx *f)
{
	struct rs_err err = {0};

	fx_expect(keys_rotate(f->core, &f->platform, &err), &err, RS_OK, NULL);
}

/* ---- mint and verify ---------------------------------------------------------------------- */

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	static const char *const roles[] = {"Admin", "Member"};
	struct access_claims cl = {.sub = "u-1",
				   .tenant_id = "t-1",
				   .sid = "s-1",
				   .username = "alice",
				   .scope = "openid",
				   .roles = roles,
				   .nroles = 2};
	struct access_claims out;
	const char *jwt;
	char kid[CRYPTO_JWT_KID_MAX];

	f->now = FX_T0 + 1234; /* sub-second: JWT times are whole seconds */
	jwt = mint(f, &cl);
	/* Filled in: iss (no public_url: "roster"), iat = now, exp = iat + 300 s, a jti. */
	assert_string_equal(cl.iss, "roster");
	assert_int_equal(cl.iat, FX_T0 + 1234);
	assert_int_equal(cl.exp, FX_T0 + 1234 + 300000);
	assert_non_null(cl.jti);
	assert_true(uuid_valid(cl.jti));
	assert_true(crypto_jwt_es256_header(jwt, kid));

	expect_valid(f, jwt, &out);
	assert_string_equal(out.iss, "roster");
	assert_string_equal(out.sub, "u-1");
	assert_string_equal(out.tenant_id, "t-1");
	assert_string_equal(out.sid, "s-1");
	assert_null(out.client_id);
	assert_string_equal(out.jti, cl.jti);
	assert_string_equal(out.scope, "openid");
	assert_string_equal(out.username, "alice");
	assert_int_equal(out.nroles, 2);
	assert_string_equal(out.roles[0], "Admin");
	assert_string_equal(out.roles[1], "Member");
	assert_int_equal(out.iat, FX_T0 + 1000);
	assert_int_equal(out.exp, FX_T0 + 301000);

	/* A client_credentials token: no session, a client id; explicit times and jti kept. */
	{
		struct access_claims cc = {.sub = "u-2",
					   .tenant_id = "t-1",
					   .client_id = "c-9",
					   .jti = "my-jti",
					   .iat = FX_T0,
					   .exp = FX_T0 + 60000};

		expect_valid(f, mint(f, &cc), &out);
		assert_null(out.sid);
		assert_string_equal(out.client_id, "c-9");
		assert_string_equal(out.jti, "my-jti");
		assert_int_equal(out.nroles, 0);
		assert_int_equal(out.exp, FX_T0 + 60000);
	}
}

static void test_mint_refuses_bad_claims(void **state)
{
	struct fx *f = *state;
	const char *roles[ACCESS_TOKEN_ROLES_MAX + 1];
	const char *jwt = NULL;
	struct rs_err err = {0};
	struct access_claims none = {.tenant_id = "t"}, nosub = {.sub = "", .tenant_id = "t"},
			     many = {.sub = "u",
				     .tenant_id = "t",
				     .roles = roles,
				     .nroles = ACCESS_TOKEN_ROLES_MAX + 1},
			     backwards = {
				 .sub = "u", .tenant_id = "t", .iat = FX_T0, .exp = FX_T0 - 1000};

	for (int i = 0; i <= ACCESS_TOKEN_ROLES_MAX; i++)
		roles[i] = "r";
	fx_expect(access_token_mint(f->core, &none, &f->a, &jwt, &err), &err, RS_E_INVALID,
		  "access_token.invalid_claims");
	fx_expect(access_token_mint(f->core, &nosub, &f->a, &jwt, &err), &err, RS_E_INVALID,
		  "access_token.invalid_claims");
	fx_expect(access_token_mint(f->core, &many, &f->a, &jwt, &err), &err, RS_E_INVALID,
		  "access_token.invalid_claims");
	fx_expect(access_token_mint(f->core, &backwards, &f->a, &jwt, &err), &err, RS_E_INVALID,
		  "access_token.invalid_claims");
	assert_null(jwt);
}

/* ---- tampering ---------------------------------------------------------------------------- */

static void test_tampered(void **state)
{
	struct fx *f = *state;
	const char *jwt = mint_basic(f);
	const char *d1 = strchr(jwt, '.'), *d2 = strrchr(jwt, '.');
	char *t;

	expect_valid(f, jwt, NULL);
	/* The payload: another subject, same signature. */
	{
		char *claims = arena_strdup(&f->a, claims_text(f, NULL));
		const char *good = sign_payload(f, claims);
		const char *g1 = strchr(good, '.'), *g2 = strrchr(good, '.');

		expect_valid(f, good, NULL);
		t = arena_printf(&f->a, "%.*s.%s%s", (int)(g1 - good), good,
				 b64(f, "{\"iss\":\"roster\",\"sub\":\"u2\",\"tenant_id\":\"t1\","
					"\"jti\":\"j1\",\"iat\":1767225600,\"exp\":1767225900}"),
				 g2);
		expect_refused(f, t, "payload swapped");
	}
	/* One character of the payload flipped. */
	t = arena_strdup(&f->a, jwt);
	t[d1 - jwt + 5] = t[d1 - jwt + 5] == 'A' ? 'B' : 'A';
	expect_refused(f, t, "payload bit flipped");
	/* One character of the signature flipped, in the middle and at the start. */
	t = arena_strdup(&f->a, jwt);
	t[d2 - jwt + 40] = t[d2 - jwt + 40] == 'A' ? 'B' : 'A';
	expect_refused(f, t, "signature bit flipped");
	t = arena_strdup(&f->a, jwt);
	t[d2 - jwt + 1] = t[d2 - jwt + 1] == 'A' ? 'B' : 'A';
	expect_refused(f, t, "signature first char");
	/* Shapes: truncated, extra segment, padding, no signature, garbage. */
	expect_refused(f, arena_strndup(&f->a, jwt, strlen(jwt) - 1), "truncated");
	expect_refused(f, arena_printf(&f->a, "%s.", jwt), "fourth segment");
	expect_refused(f, arena_printf(&f->a, "%s=", jwt), "padded");
	expect_refused(f, arena_strndup(&f->a, jwt, (size_t)(d2 - jwt) + 1), "no signature");
	expect_refused(f, "", "empty");
	expect_refused(f, "not a token", "garbage");
	expect_refused(f, "a.b.c", "three short segments");
	expect_refused(f, NULL, "NULL");
	/* The signature of another token (valid signature, wrong content). */
	{
		const char *other = mint_basic(f);

		t = arena_printf(&f->a, "%.*s%s", (int)(d2 - jwt), jwt, strrchr(other, '.'));
		expect_refused(f, t, "signature of another token");
	}
	/* Claims: the payload as signed is what is read; duplicates are not guessed at. */
	expect_valid(f, sign_payload(f, claims_text(f, ",\"nbf\":1767225600")), NULL);
	/* Signed by OpenSSL itself: roster's verifier is not tied to libjwt's signer. */
	expect_valid(f, sign_raw(f, our_header(f), claims_text(f, NULL)), NULL);
	expect_refused(f, sign_raw(f, our_header(f), claims_text(f, ",\"sub\":\"admin\"")),
		       "duplicate sub");
	expect_refused(f, sign_raw(f, our_header(f), "[1,2,3]"), "payload not an object");
	expect_refused(f, sign_raw(f, our_header(f), "not json"), "payload not JSON");

	expect_refused(f,
		       sign_payload(f, "{\"iss\":\"roster\",\"sub\":\"u1\",\"tenant_id\":\"t1\","
				       "\"jti\":\"j1\",\"iat\":1767225600}"),
		       "no exp");
	expect_refused(f,
		       sign_payload(f, "{\"iss\":\"roster\",\"sub\":\"u1\",\"tenant_id\":\"t1\","
				       "\"jti\":\"j1\",\"exp\":1767225900}"),
		       "no iat");
	expect_refused(f,
		       sign_payload(f, "{\"iss\":\"roster\",\"tenant_id\":\"t1\",\"jti\":\"j1\","
				       "\"iat\":1767225600,\"exp\":1767225900}"),
		       "no sub");
	expect_refused(f,
		       sign_payload(f, "{\"iss\":\"https://evil\",\"sub\":\"u1\",\"tenant_id\":"
				       "\"t1\",\"jti\":\"j1\",\"iat\":1767225600,\"exp\":"
				       "1767225900}"),
		       "another issuer");
	expect_refused(f,
		       sign_payload(f, "{\"iss\":\"roster\",\"sub\":\"u1\",\"tenant_id\":\"t1\","
				       "\"jti\":\"j1\",\"iat\":1767225600,\"exp\":\"1767225900\"}"),
		       "exp as a string");
	expect_refused(f, sign_payload(f, claims_text(f, ",\"roles\":\"Admin\"")),
		       "roles a string");
	expect_refused(f, sign_payload(f, claims_text(f, ",\"roles\":[1]")), "roles of numbers");
	expect_refused(f, sign_payload(f, claims_text(f, ",\"sid\":7")), "sid a number");
}

/* ---- algorithm confusion ------------------------------------------------------------------ */

static void test_alg_none(void **state)
{
	struct fx *f = *state;
	char kid[CRYPTO_JWT_KID_MAX], priv[CRYPTO_ES256_PEM_MAX];
	const char *claims = claims_text(f, NULL);

	current_key(f, kid, priv);
	crypto_wipe(priv, sizeof(priv));
	expect_refused(f, forge(f, "{\"alg\":\"none\"}", claims, ""), "alg none, no signature");
	expect_refused(f,
		       arena_printf(&f->a, "%s.%s.", b64(f, "{\"alg\":\"none\"}"), b64(f, claims)),
		       "alg none, trailing dot");
	expect_refused(f,
		       forge(f, arena_printf(&f->a, "{\"alg\":\"none\",\"kid\":\"%s\"}", kid),
			     claims, strrchr(mint_basic(f), '.') + 1),
		       "alg none with a kid and a real signature");
	expect_refused(f,
		       forge(f, arena_printf(&f->a, "{\"alg\":\"None\",\"kid\":\"%s\"}", kid),
			     claims, strrchr(mint_basic(f), '.') + 1),
		       "alg None");
}

/* An HS256 token whose HMAC key is the public key's PEM, which anyone can rebuild from the
 * JWKS: the classic confusion. libjwt 1.10, handed the EC public key, accepts it; roster must
 * not. */
static void test_hs256_with_public_key(void **state)
{
	struct fx *f = *state;
	char kid[CRYPTO_JWT_KID_MAX], priv[CRYPTO_ES256_PEM_MAX], pub[CRYPTO_ES256_PEM_MAX];
	unsigned char mac[CRYPTO_SHA256_LEN];
	char sig[64];
	struct rs_err err = {0};
	const char *head, *input, *jwt;
	jwt_t *j = NULL;

	current_key(f, kid, priv);
	crypto_wipe(priv, sizeof(priv));
	fx_expect(keys_verifier(f->core, kid, pub, sizeof(pub), &err), &err, RS_OK, NULL);
	head = arena_printf(&f->a, "{\"alg\":\"HS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
	input = arena_printf(&f->a, "%s.%s", b64(f, head), b64(f, claims_text(f, NULL)));
	crypto_hmac_sha256(pub, strlen(pub), input, strlen(input), mac);
	crypto_b64url(mac, sizeof(mac), sig);
	jwt = arena_printf(&f->a, "%s.%s", input, sig);

	/* Why the guard exists: the library alone takes it. */
	assert_int_equal(jwt_decode(&j, jwt, (const unsigned char *)pub, (int)strlen(pub)), 0);
	assert_int_equal(jwt_get_alg(j), JWT_ALG_HS256);
	jwt_free(j);

	expect_refused(f, jwt, "HS256 keyed with the public key");
	assert_null(crypto_jwt_verify(pub, jwt));
	/* The same with an ES256-length signature (86 characters) does not get past either. */
	expect_refused(f, forge(f, head, claims_text(f, NULL), strrchr(mint_basic(f), '.') + 1),
		       "HS256 header, ES256 signature");
	/* Other algorithms and header members. */
	{
		static const char *const heads[] = {
		    "{\"alg\":\"RS256\",\"kid\":\"KID\"}",
		    "{\"alg\":\"ES384\",\"kid\":\"KID\"}",
		    "{\"alg\":\"HS512\",\"kid\":\"KID\"}",
		    "{\"alg\":\"es256\",\"kid\":\"KID\"}",
		    "{\"kid\":\"KID\"}",
		    "{\"alg\":\"ES256\",\"kid\":\"KID\",\"alg\":\"ES256\"}",
		    "{\"alg\":\"ES256\",\"kid\":\"KID\",\"crit\":[\"exp\"]}",
		    "{\"alg\":\"ES256\",\"kid\":\"KID\",\"jku\":\"https://evil/jwks\"}",
		    "{\"alg\":\"ES256\",\"kid\":\"KID\",\"jwk\":{\"kty\":\"EC\"}}",
		    "{\"alg\":\"ES256\",\"kid\":\"KID\",\"b64\":false}",
		    "{\"alg\":\"ES256\",\"kid\":\"KID\",\"typ\":\"at+jwt\"}",
		    "{\"alg\":\"ES256\",\"kid\":\"KID\",\"enc\":\"A256GCM\"}",
		    "[\"ES256\",\"KID\"]",
		};
		const char *good_sig = strrchr(mint_basic(f), '.') + 1;

		for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
			expect_refused(
			    f, forge(f, with_kid(f, heads[i], kid), claims_text(f, NULL), good_sig),
			    heads[i]);
		/* alg ES256 without a kid, or with one that is not base64url. */
		expect_refused(f, forge(f, "{\"alg\":\"ES256\"}", claims_text(f, NULL), good_sig),
			       "no kid");
		expect_refused(f,
			       forge(f, "{\"alg\":\"ES256\",\"kid\":\"../../etc\"}",
				     claims_text(f, NULL), good_sig),
			       "kid with dots");
	}
}

static void test_wrong_kid(void **state)
{
	struct fx *f = *state;
	char kid[CRYPTO_JWT_KID_MAX], priv[CRYPTO_ES256_PEM_MAX];
	char okid[CRYPTO_JWT_KID_MAX], opriv[CRYPTO_ES256_PEM_MAX], ojwk[CRYPTO_ES256_JWK_MAX];
	const char *claims = claims_text(f, NULL);
	char *t;

	current_key(f, kid, priv);
	crypto_wipe(priv, sizeof(priv));
	assert_true(crypto_es256_keygen(opriv, ojwk, okid));
	/* A key roster never had: its own kid is unknown. */
	t = crypto_jwt_sign(opriv, okid, claims);
	assert_non_null(t);
	expect_refused(f, t, "foreign key, its own kid");
	free(t);
	/* A foreign key claiming the current kid: the signature does not match. */
	t = crypto_jwt_sign(opriv, kid, claims);
	assert_non_null(t);
	expect_refused(f, t, "foreign key, our kid");
	free(t);
	crypto_wipe(opriv, sizeof(opriv));
	/* Our signature under a kid that is not ours. */
	{
		const char *jwt = mint_basic(f);

		expect_refused(f,
			       forge(f, "{\"alg\":\"ES256\",\"kid\":\"not-a-kid\",\"typ\":\"JWT\"}",
				     claims, strrchr(jwt, '.') + 1),
			       "unknown kid");
	}
}

/* ---- time ----------------------------------------------------------------------------------- */

static void test_expired(void **state)
{
	struct fx *f = *state;
	const char *jwt = mint_basic(f); /* exp = T0 + 300 s */

	f->now = FX_T0 + 299000;
	expect_valid(f, jwt, NULL);
	f->now = FX_T0 + 329000; /* within the 30 s leeway */
	expect_valid(f, jwt, NULL);
	f->now = FX_T0 + 330000;
	expect_refused(f, jwt, "expired (leeway over)");
	f->now = FX_T0 + 86400000;
	expect_refused(f, jwt, "expired a day ago");
}

static void test_not_yet_valid(void **state)
{
	struct fx *f = *state;
	struct access_claims cl = {.sub = "u", .tenant_id = "t", .iat = FX_T0 + 60000};
	const char *future = mint(f, &cl);
	const char *nbf = sign_payload(f, claims_text(f, ",\"nbf\":1767225660")); /* T0 + 60 s */
	const char *nbf_near = sign_payload(f, claims_text(f, ",\"nbf\":1767225630"));

	expect_refused(f, future, "iat a minute ahead");
	expect_refused(f, nbf, "nbf a minute ahead");
	expect_valid(f, nbf_near, NULL); /* 30 s ahead: within the leeway */
	f->now = FX_T0 + 31000;
	expect_valid(f, future, NULL);
	expect_valid(f, nbf, NULL);
}

/* ---- rotation ------------------------------------------------------------------------------ */

static bool jwks_has(struct fx *f, const char *kid)
{
	const char *json = NULL;
	struct rs_err err = {0};

	fx_expect(keys_jwks(f->core, &f->a, &json, &err), &err, RS_OK, NULL);
	return strstr(json, arena_printf(&f->a, "\"kid\":\"%s\"", kid)) != NULL;
}

static int jwks_count(struct fx *f)
{
	const char *json = NULL, *p;
	struct rs_err err = {0};
	int n = 0;

	fx_expect(keys_jwks(f->core, &f->a, &json, &err), &err, RS_OK, NULL);
	for (p = json; (p = strstr(p, "\"kid\"")) != NULL; p++)
		n++;
	return n;
}

static void verify_report(const struct audit_verify_report *r, void *ctx)
{
	(void)ctx;
	assert_false(r->bad);
}

static void test_rotation(void **state)
{
	struct fx *f = *state;
	char k1[CRYPTO_JWT_KID_MAX], k2[CRYPTO_JWT_KID_MAX], k3[CRYPTO_JWT_KID_MAX];
	char priv[CRYPTO_ES256_PEM_MAX];
	const char *t1, *t2, *t3;
	struct rs_err err = {0};
	struct signing_key_list l;

	assert_int_equal(jwks_count(f), 1);
	current_key(f, k1, priv);
	t1 = mint_basic(f);
	assert_true(jwks_has(f, k1));

	/* One rotation: k1 is previous, still verifies and is still published. */
	rotate(f);
	current_key(f, k2, priv);
	assert_string_not_equal(k1, k2);
	t2 = mint_basic(f);
	assert_true(crypto_jwt_es256_header(t2, k3));
	assert_string_equal(k3, k2); /* new tokens carry the new kid */
	expect_valid(f, t1, NULL);
	expect_valid(f, t2, NULL);
	assert_int_equal(jwks_count(f), 2);
	assert_true(jwks_has(f, k1) && jwks_has(f, k2));
	{
		const char *json = NULL;

		/* Current first. */
		fx_expect(keys_jwks(f->core, &f->a, &json, &err), &err, RS_OK, NULL);
		assert_true(strstr(json, k2) < strstr(json, k1));
	}

	/* Two rotations: k1 is retired, refused, gone from the JWKS, its private part erased. */
	rotate(f);
	current_key(f, k3, priv);
	crypto_wipe(priv, sizeof(priv));
	t3 = mint_basic(f);
	expect_refused(f, t1, "signed by a retired key");
	expect_valid(f, t2, NULL);
	expect_valid(f, t3, NULL);
	assert_int_equal(jwks_count(f), 2);
	assert_false(jwks_has(f, k1));
	assert_int_equal(
	    fx_sql_int(f, arena_printf(&f->a,
				       "SELECT count(*) FROM signing_keys WHERE kid = "
				       "'%s' AND status = 'retired' AND private_enc IS "
				       "NULL",
				       k1)),
	    1);
	assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM signing_keys WHERE private_enc IS "
				       "NOT NULL"),
			 2);
	/* Listed: current, previous, retired. */
	fx_expect(keys_list(f->core, &f->a, &l, &err), &err, RS_OK, NULL);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.items[0].kid, k3);
	assert_string_equal(l.items[0].status, "current");
	assert_int_equal(l.items[0].rotated_at, 0);
	assert_string_equal(l.items[1].kid, k2);
	assert_string_equal(l.items[1].status, "previous");
	assert_string_equal(l.items[2].kid, k1);
	assert_string_equal(l.items[2].status, "retired");
	assert_string_equal(l.items[2].alg, "ES256");
	/* Audited in the system tenant's chain. */
	assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM audit_events WHERE action = "
				       "'keys.rotate' AND actor_type = 'user'"),
			 2);
	assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM audit_events WHERE action = "
				       "'keys.create' AND actor_type = 'system'"),
			 1);
	{
		struct arena a;

		arena_init(&a, 0);
		fx_expect(audit_verify(f->core, &a, verify_report, NULL, &err), &err, RS_OK, NULL);
		arena_release(&a);
	}
	/* keys_ensure again changes nothing. */
	fx_expect(keys_ensure(f->core, &err), &err, RS_OK, NULL);
	assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM signing_keys"), 3);
}

static void test_rotate_needs_platform(void **state)
{
	struct fx *f = *state;
	const char *t = fx_tenant(f, "acme", NULL);
	struct actor owner;
	struct rs_err err = {0};

	fx_user_actor(f, t, "owner", "Owner", NULL, &owner);
	fx_expect(keys_rotate(f->core, &owner, &err), &err, RS_E_FORBIDDEN,
		  "auth.permission_denied");
	assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM signing_keys"), 1);
}

/* ---- other nodes --------------------------------------------------------------------------------
 */

static int64_t node_clock(void *ctx)
{
	return ((struct fx *)ctx)->now;
}

/* Another node on f's database: its own store (connections, watcher) and core. */
static struct core *node_open_key(struct fx *f, struct store **store, const char *public_url,
				  int64_t ttl_s, const unsigned char *key)
{
	struct store_config sc = {.path = f->db, .sync = STORE_SYNC_OFF};
	struct core_config cc = {.now_ms = node_clock, .clock_ctx = f};
	struct core *c = NULL;
	struct rs_err err = {0};

	fx_expect(store_open(&sc, store, &err), &err, RS_OK, NULL);
	cc.store = *store;
	cc.public_url = public_url;
	cc.access_token_ttl_s = ttl_s;
	memcpy(cc.key, key, sizeof(cc.key));
	fx_expect(core_new(&cc, &c, &err), &err, RS_OK, NULL);
	return c;
}

static struct core *node_open(struct fx *f, struct store **store, const char *public_url,
			      int64_t ttl_s)
{
	return node_open_key(f, store, public_url, ttl_s, f->key);
}

static void node_close(struct core *c, struct store *s)
{
	core_free(c);
	store_free(s);
}

/* ---- the keys at rest ------------------------------------------------------------------------ */

static void test_sealed_at_rest(void **state)
{
	struct fx *f = *state;
	char kid[CRYPTO_JWT_KID_MAX], priv[CRYPTO_ES256_PEM_MAX];

	current_key(f, kid, priv);
	/* Nothing of the PEM in the database, not even its armour. */
	assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM signing_keys WHERE private_enc LIKE "
				       "'%BEGIN%' OR public_jwk LIKE '%\"d\"%'"),
			 0);
	assert_non_null(strstr(priv, "BEGIN PRIVATE KEY"));
	crypto_wipe(priv, sizeof(priv));
}

static void test_unreadable_with_another_server_key(void **state)
{
	struct fx *f = *state;
	unsigned char key[CORE_KEY_LEN];
	struct store *s = NULL;
	struct core *other;
	struct rs_err err = {0};
	const char *jwt = NULL;
	struct access_claims cl = {.sub = "u", .tenant_id = "t"};

	memset(key, 0x55, sizeof(key));
	other = node_open_key(f, &s, NULL, 0, key);
	fx_expect(keys_ensure(other, &err), &err, RS_E_INTERNAL, "keys.unreadable");
	fx_expect(access_token_mint(other, &cl, &f->a, &jwt, &err), &err, RS_E_INTERNAL,
		  "keys.unreadable");
	node_close(other, s);
}

static void test_tampered_at_rest(void **state)
{
	struct fx *f = *state;
	const char *jwt = mint_basic(f);
	struct rs_err err = {0};
	char opriv[CRYPTO_ES256_PEM_MAX], ojwk[CRYPTO_ES256_JWK_MAX], okid[CRYPTO_JWT_KID_MAX];

	/* Someone who can write the database swaps in a public key of their own: verification
	 * uses the public half of the sealed private key, so nothing changes. */
	assert_true(crypto_es256_keygen(opriv, ojwk, okid));
	crypto_wipe(opriv, sizeof(opriv));
	fx_sql(f, arena_printf(&f->a, "UPDATE signing_keys SET public_jwk = '%s'", ojwk));
	keys_changed(f->core);
	expect_valid(f, jwt, NULL);
	/* Altering the sealed key makes it unreadable, loudly. */
	fx_sql(f, "UPDATE signing_keys SET private_enc = '00' || substr(private_enc, 3)");
	fx_expect(keys_ensure(f->core, &err), &err, RS_E_INTERNAL, "keys.unreadable");
}

static void test_ttl_and_issuer(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	struct core *b = node_open(f, &s, "https://id.example/", 60);
	struct access_claims cl = {.sub = "u", .tenant_id = "t"}, out;
	struct rs_err err = {0};
	const char *jwt = NULL;

	fx_expect(access_token_mint(b, &cl, &f->a, &jwt, &err), &err, RS_OK, NULL);
	assert_int_equal(cl.exp - cl.iat, 60000);
	assert_string_equal(cl.iss, "https://id.example"); /* public_url, no trailing slash */
	fx_expect(access_token_verify(b, jwt, &f->a, &out, &err), &err, RS_OK, NULL);
	assert_string_equal(out.iss, "https://id.example");
	/* Another issuer's node refuses it: the iss is checked. */
	expect_refused(f, jwt, "issued for another public_url");
	f->now += 60000 + ACCESS_TOKEN_LEEWAY_S * 1000;
	fx_expect(access_token_verify(b, jwt, &f->a, &out, &err), &err, RS_E_UNAUTHENTICATED,
		  "auth.invalid_token");
	node_close(b, s);
}

/* ---- two nodes ------------------------------------------------------------------------------- */

static bool node_jwks_has(struct core *c, struct arena *a, const char *kid)
{
	const char *json = NULL;
	struct rs_err err = {0};

	fx_expect(keys_jwks(c, a, &json, &err), &err, RS_OK, NULL);
	return strstr(json, kid) != NULL;
}

/* Node B has the keys cached when node A rotates. B verifies A's next token at once (an
 * unknown kid makes it reload), and its JWKS shows the new key without any token: within a
 * second on PostgreSQL (the rotation's signal), within the refresh interval on SQLite (no
 * signal crosses SQLite processes). */
static void test_second_node_after_rotation(void **state)
{
	struct fx *f = *state;
	bool pg = strncmp(f->db, "postgres", 8) == 0;
	struct store *s = NULL;
	struct core *b = node_open(f, &s, NULL, 0);
	struct access_claims out;
	struct rs_err err = {0};
	char kid[CRYPTO_JWT_KID_MAX], priv[CRYPTO_ES256_PEM_MAX];
	const char *before = mint_basic(f), *after;
	int64_t t0, waited;

	fx_expect(access_token_verify(b, before, &f->a, &out, &err), &err, RS_OK, NULL);
	usleep(300000); /* B's watch thread is listening */
	rotate(f);
	current_key(f, kid, priv);
	crypto_wipe(priv, sizeof(priv));
	after = mint_basic(f);
	t0 = time_mono_ns();
	while (!node_jwks_has(b, &f->a, kid) && (time_mono_ns() - t0) / 1000000 < 8000)
		usleep(20000);
	waited = (time_mono_ns() - t0) / 1000000;
	print_message("node B published the new key after %lld ms (%s)\n", (long long)waited,
		      pg ? "pg" : "sqlite");
	assert_true(node_jwks_has(b, &f->a, kid));
	assert_true(waited < (pg ? 1500 : 6000));
	fx_expect(access_token_verify(b, after, &f->a, &out, &err), &err, RS_OK, NULL);
	fx_expect(access_token_verify(b, before, &f->a, &out, &err), &err, RS_OK, NULL);
	/* A second rotation on A: B refuses the first token (its key is retired). */
	rotate(f);
	t0 = time_mono_ns();
	while (access_token_verify(b, before, &f->a, &out, &err) == RS_OK &&
	       (time_mono_ns() - t0) / 1000000 < 8000)
		usleep(20000);
	fx_expect(access_token_verify(b, before, &f->a, &out, &err), &err, RS_E_UNAUTHENTICATED,
		  "auth.invalid_token");
	node_close(b, s);
}

/* Tokens from a node with fresh keys on an immediately following rotation: the verifying
 * node reloads at most once a second on unknown kids, so a flood of forged kids costs one
 * read a second. */
static void test_unknown_kids_are_rate_limited(void **state)
{
	struct fx *f = *state;
	const char *claims = claims_text(f, NULL);
	const char *sig = strrchr(mint_basic(f), '.') + 1;

	for (int i = 0; i < 200; i++)
		expect_refused(f,
			       forge(f,
				     arena_printf(&f->a, "{\"alg\":\"ES256\",\"kid\":\"k%d\"}", i),
				     claims, sig),
			       "unknown kid flood");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_mint_refuses_bad_claims, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_tampered, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_alg_none, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_hs256_with_public_key, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_kid, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_expired, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_not_yet_valid, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rotation, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rotate_needs_platform, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_sealed_at_rest, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_unreadable_with_another_server_key, setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_tampered_at_rest, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_ttl_and_issuer, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_second_node_after_rotation, setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_kids_are_rate_limited, setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
