/* Randomness, hashes, keyed token hashes and constant-time comparison, all from OpenSSL 3.
 * Nothing here is hand-written cryptography: these are thin, typed wrappers. */
#ifndef ROSTER_CRYPTO_CRYPTO_H
#define ROSTER_CRYPTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_HEX256_LEN 65 /* 64 hex chars + NUL */

/* Fills buf with n bytes from the CSPRNG. False only if OpenSSL's generator fails. */
bool crypto_random(void *buf, size_t n);
void crypto_sha256(const void *data, size_t len, unsigned char out[CRYPTO_SHA256_LEN]);
/* HMAC-SHA256 of data under key. Cannot fail for valid pointers. */
void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
			unsigned char out[CRYPTO_SHA256_LEN]);
/* Lower-case hex; out must hold 2*n+1 bytes. */
void crypto_hex(const unsigned char *in, size_t n, char *out);
/* base64url without padding; out must hold 4*((n+2)/3)+1 bytes. Returns the length written. */
size_t crypto_b64url(const unsigned char *in, size_t n, char *out);
/* Standard base64 (RFC 4648 section 4) with padding; out must hold 4*((n+2)/3)+1 bytes.
 * Returns the length written. */
size_t crypto_b64(const unsigned char *in, size_t n, char *out);
/* Compares n bytes in time independent of their content. */
bool crypto_equal(const void *a, const void *b, size_t n);
/* Wipes a secret from memory in a way the compiler cannot drop. */
void crypto_wipe(void *p, size_t n);

/* Passwords: the first interface, kept for its callers; crypto/password.h has the full one.
 * hash: argon2id with PW_PARAMS_DEFAULT (m = 19 MiB, t = 2, p = 1), random salt, as a PHC
 * string; out needs CRYPTO_PASSWORD_HASH_MAX bytes; false when the hash could not be made.
 * verify: true when password matches encoded, in any format crypto_password_check accepts. */
#define CRYPTO_PASSWORD_HASH_MAX 128 /* == crypto_password_encoded_max() */
bool crypto_password_hash(const char *password, char *out, size_t cap);
bool crypto_password_verify(const char *encoded, const char *password);

/* Incremental SHA-256 for the audit chain. */
struct crypto_sha256_ctx {
	void *md; /* EVP_MD_CTX, opaque */
};
bool crypto_sha256_begin(struct crypto_sha256_ctx *c);
void crypto_sha256_update(struct crypto_sha256_ctx *c, const void *data, size_t len);
void crypto_sha256_end(struct crypto_sha256_ctx *c, unsigned char out[CRYPTO_SHA256_LEN]);

#endif
