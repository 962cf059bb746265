/* Writes tokens minted by roster, and the JWKS that should verify them, into a directory, for
 * the independent verifier (tests/e2e/jose/verify.mjs, the npm package jose) to check:
 * jose_check.sh runs both. A test program, not a product path: it mints through the same
 * core API as any caller, on a fixture store.
 *
 * Files: jwks.json (after one rotation: current + previous), issuer, at (the pinned clock, UNIX
 * seconds), and one token per case, ok_*.jwt (jose must accept) and bad_*.jwt (jose must
 * refuse). Usage: core_jose_export DIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "crypto/jwt.h"
#include "fixture.h"

static const char *dir;

static void put(const char *name, const char *text)
{
	char path[1024];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static const char *mint(struct fx *f, int64_t iat)
{
	static const char *const roles[] = {"Admin"};
	struct access_claims cl = {.sub = "u-1",
				   .tenant_id = "t-1",
				   .sid = "s-1",
				   .username = "alice",
				   .roles = roles,
				   .nroles = 1,
				   .iat = iat};
	struct rs_err err = {0};
	const char *jwt = NULL;

	fx_expect(access_token_mint(f->core, &cl, &f->a, &jwt, &err), &err, RS_OK, NULL);
	return jwt;
}

static void test_export(void **state)
{
	struct fx *f = fx_open();
	struct rs_err err = {0};
	const char *jwks = NULL, *old, *cur, *head;
	char kid[CRYPTO_JWT_KID_MAX], priv[CRYPTO_ES256_PEM_MAX], pub[CRYPTO_ES256_PEM_MAX];
	unsigned char mac[CRYPTO_SHA256_LEN];
	char sig[64], *t;

	(void)state;
	assert_non_null(f);
	fx_expect(keys_ensure(f->core, &err), &err, RS_OK, NULL);
	old = mint(f, 0);
	fx_expect(keys_rotate(f->core, &f->platform, &err), &err, RS_OK, NULL);
	cur = mint(f, 0);
	fx_expect(keys_jwks(f->core, &f->a, &jwks, &err), &err, RS_OK, NULL);
	put("jwks.json", jwks);
	put("issuer", "roster");
	put("at", arena_printf(&f->a, "%lld", (long long)(FX_T0 / 1000)));
	put("ok_current.jwt", cur);
	put("ok_previous.jwt", old);

	/* What roster refuses, jose must refuse too. */
	put("bad_expired.jwt", mint(f, FX_T0 - 3600 * 1000));
	t = arena_strdup(&f->a, cur);
	t[strlen(t) - 10] = t[strlen(t) - 10] == 'A' ? 'B' : 'A';
	put("bad_signature.jwt", t);
	fx_expect(keys_signer(f->core, kid, sizeof(kid), priv, sizeof(priv), &err), &err, RS_OK,
		  NULL);
	crypto_wipe(priv, sizeof(priv));
	fx_expect(keys_verifier(f->core, kid, pub, sizeof(pub), &err), &err, RS_OK, NULL);
	{
		const char *payload = strchr(cur, '.') + 1;
		size_t plen = (size_t)(strrchr(cur, '.') - payload);
		char hb[256];

		head =
		    arena_printf(&f->a, "{\"alg\":\"HS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
		crypto_b64url((const unsigned char *)head, strlen(head), hb);
		t = arena_printf(&f->a, "%s.%.*s", hb, (int)plen, payload);
		crypto_hmac_sha256(pub, strlen(pub), t, strlen(t), mac);
		crypto_b64url(mac, sizeof(mac), sig);
		put("bad_hs256_public_key.jwt", arena_printf(&f->a, "%s.%s", t, sig));
		crypto_b64url((const unsigned char *)"{\"alg\":\"none\"}", 14, hb);
		put("bad_alg_none.jwt", arena_printf(&f->a, "%s.%.*s.", hb, (int)plen, payload));
	}
	/* Retired after a second rotation: gone from the JWKS written now. */
	fx_expect(keys_rotate(f->core, &f->platform, &err), &err, RS_OK, NULL);
	fx_expect(keys_jwks(f->core, &f->a, &jwks, &err), &err, RS_OK, NULL);
	put("jwks_after_two.json", jwks);
	fx_close(f);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_export)};

	if (argc != 2) {
		fprintf(stderr, "usage: core_jose_export DIR\n");
		return 2;
	}
	dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
