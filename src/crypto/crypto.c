/* OpenSSL wrappers. EVP is used throughout: the low-level SHA256_* calls are deprecated in 3.0. */
#include "crypto/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

bool crypto_random(void *buf, size_t n)
{
	return n <= 0x7fffffff && RAND_bytes(buf, (int)n) == 1;
}

void crypto_sha256(const void *data, size_t len, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int olen = 0;

	/* EVP_Digest only fails on allocation failure; a zeroed digest then fails every compare. */
	if (EVP_Digest(data, len, out, &olen, EVP_sha256(), NULL) != 1)
		OPENSSL_cleanse(out, CRYPTO_SHA256_LEN);
}

void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
			unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int olen = 0;

	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &olen))
		OPENSSL_cleanse(out, CRYPTO_SHA256_LEN);
}

void crypto_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

size_t crypto_b64url(const unsigned char *in, size_t n, char *out)
{
	size_t len = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);

	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return len;
}

size_t crypto_b64(const unsigned char *in, size_t n, char *out)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void crypto_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

bool crypto_sha256_begin(struct crypto_sha256_ctx *c)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		c->md = NULL;
		return false;
	}
	c->md = md;
	return true;
}

void crypto_sha256_update(struct crypto_sha256_ctx *c, const void *data, size_t len)
{
	(void)EVP_DigestUpdate(c->md, data, len);
}

void crypto_sha256_end(struct crypto_sha256_ctx *c, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int olen = 0;

	if (EVP_DigestFinal_ex(c->md, out, &olen) != 1)
		OPENSSL_cleanse(out, CRYPTO_SHA256_LEN);
	EVP_MD_CTX_free(c->md);
	c->md = NULL;
}
