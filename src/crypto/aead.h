/* Authenticated encryption of secrets that must be usable again (webhook signing secrets):
 * AES-256-GCM under a key derived from the server key with HKDF-SHA256. OpenSSL EVP only;
 * nothing here is hand-written cryptography. */
#ifndef ROSTER_CRYPTO_AEAD_H
#define ROSTER_CRYPTO_AEAD_H

#include <stdbool.h>
#include <stddef.h>

#define CRYPTO_AEAD_KEY_LEN 32
#define CRYPTO_AEAD_NONCE_LEN 12
#define CRYPTO_AEAD_TAG_LEN 16
/* What seal adds to the plaintext: a random nonce before it, the tag after it. */
#define CRYPTO_AEAD_OVERHEAD (CRYPTO_AEAD_NONCE_LEN + CRYPTO_AEAD_TAG_LEN)

/* HKDF-SHA256 (RFC 5869) without salt: outlen bytes of key material for the purpose named by
 * info. False only if OpenSSL fails. */
bool crypto_hkdf_sha256(const void *ikm, size_t ikmlen, const char *info, unsigned char *out,
			size_t outlen);

/* Encrypts pt under key, binding aad (not stored, must be given again to open). out must hold
 * ptlen + CRYPTO_AEAD_OVERHEAD bytes: nonce | ciphertext | tag. False if OpenSSL fails. */
bool crypto_aead_seal(const unsigned char key[CRYPTO_AEAD_KEY_LEN], const void *aad, size_t aadlen,
		      const void *pt, size_t ptlen, unsigned char *out);
/* Decrypts what seal wrote (inlen bytes) into out (inlen - CRYPTO_AEAD_OVERHEAD bytes). False
 * when the input was altered, the aad differs or the key is another: out is then wiped. */
bool crypto_aead_open(const unsigned char key[CRYPTO_AEAD_KEY_LEN], const void *aad, size_t aadlen,
		      const unsigned char *in, size_t inlen, unsigned char *out);

#endif
