/* AES-256-GCM and HKDF-SHA256 through OpenSSL 3's EVP interfaces (see aead.h). */
#include "crypto/aead.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <string.h>

#include "crypto/crypto.h"

bool crypto_hkdf_sha256(const void *ikm, size_t ikmlen, const char *info, unsigned char *out,
			size_t outlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[4];
	bool ok = false;

	if (!kctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
	params[2] =
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	params[3] = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(kctx, out, outlen, params) == 1;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return ok;
}

bool crypto_aead_seal(const unsigned char key[CRYPTO_AEAD_KEY_LEN], const void *aad, size_t aadlen,
		      const void *pt, size_t ptlen, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char *nonce = out, *ct = out + CRYPTO_AEAD_NONCE_LEN, *tag = ct + ptlen;
	int n = 0, fin = 0;
	bool ok = false;

	if (!ctx || ptlen > (size_t)1 << 30 || aadlen > (size_t)1 << 30)
		goto out;
	/* A random 96-bit nonce per message: secrets are few, far below GCM's 2^32 bound. */
	if (!crypto_random(nonce, CRYPTO_AEAD_NONCE_LEN))
		goto out;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &n, pt, (int)ptlen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_AEAD_TAG_LEN, tag) != 1)
		goto out;
	ok = true;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

bool crypto_aead_open(const unsigned char key[CRYPTO_AEAD_KEY_LEN], const void *aad, size_t aadlen,
		      const unsigned char *in, size_t inlen, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx;
	const unsigned char *nonce = in, *ct = in + CRYPTO_AEAD_NONCE_LEN;
	size_t ctlen;
	int n = 0, fin = 0;
	bool ok = false;

	if (inlen < CRYPTO_AEAD_OVERHEAD || inlen > (size_t)1 << 30 || aadlen > (size_t)1 << 30)
		return false;
	ctlen = inlen - CRYPTO_AEAD_OVERHEAD;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return false;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &n, ct, (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_AEAD_TAG_LEN,
				(void *)(ct + ctlen)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + n, &fin) != 1)
		goto out;
	ok = true;
out:
	/* Never hand out plaintext that failed authentication. */
	if (!ok && ctlen)
		OPENSSL_cleanse(out, ctlen);
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}
