/* ES256 JWS (see jwt.h): P-256 keys and JWKs through OpenSSL 3 EVP, signatures through libjwt,
 * and the header check that keeps libjwt from ever choosing the algorithm. */
#include "crypto/jwt.h"

#include <jansson.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

#define ES256_SIG_B64_LEN 86 /* 64 bytes, R || S, base64url without padding */
#define P256_COORD_LEN 32

static int b64url_val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '-')
		return 62;
	if (ch == '_')
		return 63;
	return -1;
}

bool crypto_b64url_decode(const char *in, size_t n, unsigned char *out, size_t *outlen)
{
	unsigned acc = 0;
	int bits = 0;
	size_t len = 0;

	if (n % 4 == 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_val(in[i]);

		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* One text per byte string: the unused low bits of the last character must be zero. */
	if (acc != 0)
		return false;
	out[len] = '\0';
	*outlen = len;
	return true;
}

/* ---- keys ------------------------------------------------------------------------------------ */

/* Reads what a memory BIO holds into buf as a NUL-terminated string. */
static bool bio_text(BIO *bio, char *buf, size_t cap)
{
	char *data = NULL;
	long n = BIO_get_mem_data(bio, &data);

	if (n <= 0 || (size_t)n >= cap || !data)
		return false;
	memcpy(buf, data, (size_t)n);
	buf[n] = '\0';
	return true;
}

static bool coord_b64(const EVP_PKEY *pk, const char *param, char out[48])
{
	BIGNUM *bn = NULL;
	unsigned char raw[P256_COORD_LEN];
	bool ok = EVP_PKEY_get_bn_param(pk, param, &bn) == 1 &&
		  BN_bn2binpad(bn, raw, sizeof(raw)) == (int)sizeof(raw);

	BN_free(bn);
	if (ok)
		crypto_b64url(raw, sizeof(raw), out);
	return ok;
}

/* The JWK, kid (RFC 7638 thumbprint) and SPKI PEM of pk's public half. */
static bool es256_describe(EVP_PKEY *pk, char pub[CRYPTO_ES256_PEM_MAX],
			   char jwk[CRYPTO_ES256_JWK_MAX], char kid[CRYPTO_JWT_KID_MAX])
{
	char x[48], y[48], group[32], canon[160];
	unsigned char sha[CRYPTO_SHA256_LEN];
	size_t glen = 0;
	BIO *bio = NULL;
	bool ok = false;
	int n;

	if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   &glen) != 1 ||
	    strcmp(group, "prime256v1") != 0)
		return false;
	if (!coord_b64(pk, OSSL_PKEY_PARAM_EC_PUB_X, x) ||
	    !coord_b64(pk, OSSL_PKEY_PARAM_EC_PUB_Y, y))
		return false;
	/* RFC 7638: the required members only, in lexicographic order, no white space. */
	n = snprintf(canon, sizeof(canon),
		     "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
	if (n < 0 || (size_t)n >= sizeof(canon))
		return false;
	crypto_sha256(canon, (size_t)n, sha);
	crypto_b64url(sha, sizeof(sha), kid);
	n = snprintf(jwk, CRYPTO_ES256_JWK_MAX,
		     "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"kid\":\"%s\","
		     "\"use\":\"sig\",\"alg\":\"ES256\"}",
		     x, y, kid);
	if (n < 0 || n >= CRYPTO_ES256_JWK_MAX)
		return false;
	bio = BIO_new(BIO_s_mem());
	ok = bio && PEM_write_bio_PUBKEY(bio, pk) == 1 && bio_text(bio, pub, CRYPTO_ES256_PEM_MAX);
	BIO_free(bio);
	return ok;
}

static EVP_PKEY *es256_read_private(const char *priv_pem)
{
	size_t n = strlen(priv_pem);
	BIO *bio = n < CRYPTO_ES256_PEM_MAX ? BIO_new_mem_buf(priv_pem, (int)n) : NULL;
	EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	return pk;
}

bool crypto_es256_public(const char *priv_pem, char pub[CRYPTO_ES256_PEM_MAX],
			 char jwk[CRYPTO_ES256_JWK_MAX], char kid[CRYPTO_JWT_KID_MAX])
{
	EVP_PKEY *pk = es256_read_private(priv_pem);
	bool ok = pk && es256_describe(pk, pub, jwk, kid);

	EVP_PKEY_free(pk);
	return ok;
}

bool crypto_es256_keygen(char priv[CRYPTO_ES256_PEM_MAX], char jwk[CRYPTO_ES256_JWK_MAX],
			 char kid[CRYPTO_JWT_KID_MAX])
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	/* Secure-heap memory for the PEM text of the private key: cleansed when freed. */
	BIO *bio = pk ? BIO_new(BIO_s_secmem()) : NULL;
	char pub[CRYPTO_ES256_PEM_MAX];
	bool ok = bio && PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1 &&
		  bio_text(bio, priv, CRYPTO_ES256_PEM_MAX) && es256_describe(pk, pub, jwk, kid);

	BIO_free(bio);
	EVP_PKEY_free(pk);
	if (!ok)
		crypto_wipe(priv, CRYPTO_ES256_PEM_MAX);
	return ok;
}

/* ---- tokens ---------------------------------------------------------------------------------- */

char *crypto_jwt_sign(const char *priv_pem, const char *kid, const char *payload)
{
	jwt_t *j = NULL;
	char *token = NULL;
	size_t n = strlen(priv_pem);

	if (n == 0 || n >= CRYPTO_ES256_PEM_MAX || jwt_new(&j) != 0)
		return NULL;
	/* libjwt copies the key and wipes its copy in jwt_free(). */
	if (jwt_add_grants_json(j, payload) == 0 && jwt_add_header(j, "kid", kid) == 0 &&
	    jwt_set_alg(j, JWT_ALG_ES256, (const unsigned char *)priv_pem, (int)n) == 0)
		token = jwt_encode_str(j);
	jwt_free(j);
	return token;
}

static bool kid_valid(const char *kid)
{
	size_t n = strlen(kid);

	if (n == 0 || n >= CRYPTO_JWT_KID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (b64url_val(kid[i]) < 0)
			return false;
	}
	return true;
}

/* Splits token into its three segments; false unless it is a compact JWS of base64url
 * segments with a signature of exactly ES256's length. */
static bool jws_split(const char *token, size_t *hlen, const char **payload, size_t *plen)
{
	size_t n = strnlen(token, CRYPTO_JWT_MAX + 1);
	const char *d1, *d2;

	if (n > CRYPTO_JWT_MAX)
		return false;
	d1 = memchr(token, '.', n);
	d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - token)) : NULL;
	if (!d2 || d1 == token || d2 == d1 + 1)
		return false;
	if (strlen(d2 + 1) != ES256_SIG_B64_LEN)
		return false; /* also refuses a fourth segment: '.' is not base64url */
	for (const char *p = d2 + 1; *p; p++) {
		if (b64url_val(*p) < 0)
			return false;
	}
	*hlen = (size_t)(d1 - token);
	*payload = d1 + 1;
	*plen = (size_t)(d2 - d1 - 1);
	return true;
}

bool crypto_jwt_es256_header(const char *token, char kid[CRYPTO_JWT_KID_MAX])
{
	unsigned char *raw = NULL;
	const char *payload, *k;
	size_t hlen, plen, rawlen;
	json_t *h = NULL, *v;
	bool ok = false, has_alg = false, has_kid = false;

	if (!token || !jws_split(token, &hlen, &payload, &plen))
		return false;
	raw = malloc(hlen * 3 / 4 + 1);
	if (!raw || !crypto_b64url_decode(token, hlen, raw, &rawlen))
		goto out;
	h = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(h))
		goto out;
	json_object_foreach(h, k, v)
	{
		if (strcmp(k, "alg") == 0 && json_is_string(v) &&
		    strcmp(json_string_value(v), "ES256") == 0) {
			has_alg = true;
		} else if (strcmp(k, "kid") == 0 && json_is_string(v) &&
			   kid_valid(json_string_value(v))) {
			has_kid = true;
			memcpy(kid, json_string_value(v), strlen(json_string_value(v)) + 1);
		} else if (strcmp(k, "typ") == 0 && json_is_string(v) &&
			   strcmp(json_string_value(v), "JWT") == 0) {
			continue;
		} else {
			/* Anything else (another alg, crit, jku, jwk, x5u, b64, a zip…) is not a
			 * token roster made: refuse rather than let a library interpret it. */
			goto out;
		}
	}
	ok = has_alg && has_kid;
out:
	json_decref(h);
	free(raw);
	if (!ok && kid)
		kid[0] = '\0';
	return ok;
}

char *crypto_jwt_verify(const char *pub_pem, const char *token)
{
	char kid[CRYPTO_JWT_KID_MAX];
	const char *payload;
	size_t hlen, plen, outlen, n = strlen(pub_pem);
	unsigned char *out = NULL;
	jwt_t *j = NULL;

	/* The header decides nothing: alg was pinned to ES256 above, the key is ours. */
	if (!crypto_jwt_es256_header(token, kid) || !jws_split(token, &hlen, &payload, &plen))
		return NULL;
	if (n == 0 || n >= CRYPTO_ES256_PEM_MAX || plen > CRYPTO_JWT_PAYLOAD_MAX * 4 / 3 + 4)
		return NULL;
	if (jwt_decode(&j, token, (const unsigned char *)pub_pem, (int)n) != 0 || !j)
		goto fail;
	if (jwt_get_alg(j) != JWT_ALG_ES256)
		goto fail;
	jwt_free(j);
	j = NULL;
	/* The payload as signed, not libjwt's re-serialisation of it: the caller parses exactly
	 * the bytes the signature covers. */
	out = malloc(plen * 3 / 4 + 1);
	if (!out || !crypto_b64url_decode(payload, plen, out, &outlen) || memchr(out, '\0', outlen))
		goto fail;
	return (char *)out;
fail:
	jwt_free(j);
	free(out);
	return NULL;
}
