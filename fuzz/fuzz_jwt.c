/* libFuzzer target: the access-token header check and verification (crypto/jwt.c: strict
 * base64url, the header's JSON, then libjwt's ES256 check and the payload's decoding). Any
 * input must end in a refusal or in a verified payload; a token that verifies must have passed
 * the header check (alg ES256, a kid), and its payload must be the decoded middle segment.
 * The key below is a test key, not a secret: the seeds in fuzz/corpus/jwt/ are tokens signed
 * with it (plus alg none, HS256-with-the-public-key and malformed ones), so the fuzzer starts
 * from inputs that reach the signature check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_pub[] = "-----BEGIN PUBLIC KEY-----\n"
			       "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEvWOmbKpVxAg+pYktKNfuJlisbc4P\n"
			       "MYE6MUcIjegJM/VY7CnG5tu21pLW7I2nWoL2JtuVu/QkbJLQ/4DE7o1WGg==\n"
			       "-----END PUBLIC KEY-----\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char kid[CRYPTO_JWT_KID_MAX], *s, *payload;
	unsigned char *raw;
	size_t rawlen;
	bool header_ok;

	if (size > CRYPTO_JWT_MAX + 16)
		return 0;
	s = malloc(size + 1);
	raw = malloc(size * 3 / 4 + 2);
	if (!s || !raw)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	(void)crypto_b64url_decode(s, strlen(s), raw, &rawlen);
	header_ok = crypto_jwt_es256_header(s, kid);
	if (header_ok && (kid[0] == '\0' || strlen(kid) >= CRYPTO_JWT_KID_MAX))
		abort();
	payload = crypto_jwt_verify(fuzz_pub, s);
	if (payload) {
		const char *d1 = strchr(s, '.'), *d2 = strrchr(s, '.');

		if (!header_ok || !d1 || d1 == d2)
			abort(); /* verified without passing the header check */
		if (!crypto_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), raw, &rawlen) ||
		    rawlen != strlen(payload) || memcmp(raw, payload, rawlen) != 0)
			abort(); /* the payload is not what was signed */
		free(payload);
	}
	free(raw);
	free(s);
	return 0;
}
