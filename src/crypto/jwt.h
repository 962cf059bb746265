/* ES256 (ECDSA P-256 with SHA-256) JSON Web Signatures for roster's access tokens: key
 * generation and the public JWK with OpenSSL 3 EVP, signing and signature verification with
 * libjwt. Nothing here is hand-written JOSE; the one thing done by hand is the refusal, before
 * libjwt sees a token, of every header that is not exactly {"alg":"ES256","kid":…[,"typ":"JWT"]},
 * because libjwt 1.10 trusts the header's alg: given an EC public key it verifies an HS256
 * token with the key's PEM text as the HMAC secret (algorithm confusion), and it accepts
 * alg "none" when no key is given. Knows nothing of claims: payloads are JSON text. */
#ifndef ROSTER_CRYPTO_JWT_H
#define ROSTER_CRYPTO_JWT_H

#include <stdbool.h>
#include <stddef.h>

#define CRYPTO_JWT_KID_MAX 64	    /* a kid is 1-63 base64url characters; buffers add the NUL */
#define CRYPTO_ES256_PEM_MAX 512    /* a P-256 PKCS#8 or SPKI PEM, with room to spare */
#define CRYPTO_ES256_JWK_MAX 256    /* the public JWK text */
#define CRYPTO_JWT_MAX 8192	    /* longest token looked at; longer ones are refused unread */
#define CRYPTO_JWT_PAYLOAD_MAX 6144 /* longest payload (decoded) */

/* A fresh P-256 key pair. priv gets the private key as PKCS#8 PEM (NUL-terminated; a secret:
 * wipe it after use), jwk the public key as a JWK object text ({"kty":"EC","crv":"P-256","x",
 * "y","kid","use":"sig","alg":"ES256"}), kid its RFC 7638 thumbprint (SHA-256, base64url, 43
 * characters). False only if OpenSSL fails. */
bool crypto_es256_keygen(char priv[CRYPTO_ES256_PEM_MAX], char jwk[CRYPTO_ES256_JWK_MAX],
			 char kid[CRYPTO_JWT_KID_MAX]);

/* The public half of a private key (PKCS#8 PEM of a P-256 key): pub gets it as SPKI PEM for
 * verification, jwk and kid as crypto_es256_keygen makes them. Deriving them from the sealed
 * private key, rather than trusting a stored public key, means that whoever can write the
 * database but does not hold the server key cannot slip in a key of their own. False when
 * priv_pem is not a P-256 private key. */
bool crypto_es256_public(const char *priv_pem, char pub[CRYPTO_ES256_PEM_MAX],
			 char jwk[CRYPTO_ES256_JWK_MAX], char kid[CRYPTO_JWT_KID_MAX]);

/* Signs payload (a JSON object text) as a compact JWS with the header
 * {"alg":"ES256","kid":kid,"typ":"JWT"}. Returns the token (malloc'd; free()) or NULL when
 * the key or the payload is unusable or memory ran out. */
char *crypto_jwt_sign(const char *priv_pem, const char *kid, const char *payload);

/* True when token is a compact JWS (three base64url segments, a 64-byte signature) whose
 * header is a JSON object holding exactly alg "ES256", a kid (1-63 base64url characters) and
 * optionally typ "JWT", with no duplicate and no other member; kid gets the kid. Reads
 * nothing but the header: a true answer says nothing about the signature. */
bool crypto_jwt_es256_header(const char *token, char kid[CRYPTO_JWT_KID_MAX]);

/* Verifies token with the public key pub_pem (SPKI PEM). Refuses anything
 * crypto_jwt_es256_header refuses, then lets libjwt check the ES256 signature. On success
 * returns the payload exactly as signed (decoded, NUL-terminated, malloc'd; free()); NULL
 * otherwise. The payload is not parsed: claims are the caller's. */
char *crypto_jwt_verify(const char *pub_pem, const char *token);

/* Strict base64url without padding (RFC 7515 section 2): false on any other character, an
 * impossible length or non-zero trailing bits. out must hold n * 3 / 4 + 1 bytes; it is
 * NUL-terminated and *outlen excludes the NUL. */
bool crypto_b64url_decode(const char *in, size_t n, unsigned char *out, size_t *outlen);

#endif
