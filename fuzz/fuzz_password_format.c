/* libFuzzer target: the stored password hash parser (crypto_pw_parse in
 * crypto/password_format.c) and, for cheap costs, the whole verification
 * (crypto_password_check in crypto/password.c, with libargon2, libxcrypt and OpenSSL behind).
 * The input is the stored string (up to the first NUL). Properties: a parsed argon2 hash
 * re-encodes to a string that parses to the same fields; a verification never crashes and
 * never answers PW_MATCH for a hash the parser refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/password.h"
#include "crypto/password_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether verifying costs at most a few milliseconds (the fuzzer must stay fast). */
static int cheap(const struct pw_parsed *ph)
{
	switch (ph->kind) {
	case PWK_ARGON2:
		return ph->m_kib <= 64 && ph->t <= 2 && ph->p <= 2;
	case PWK_PBKDF2:
		return ph->iterations <= 1000;
	case PWK_CRYPT:
		return ph->crypt_id == '2' ? ph->cost <= 5 : ph->cost <= 5000;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_parsed ph, again;
	struct pw_params want = PW_PARAMS_DEFAULT;
	char *s, out[512];
	bool ok;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	ok = crypto_pw_parse(s, &ph);
	if (ok && ph.kind == PWK_ARGON2) {
		if (!crypto_pw_argon2_encode(&ph, out, sizeof(out)) ||
		    !crypto_pw_parse(out, &again) || again.type != ph.type ||
		    again.version != ph.version || again.m_kib != ph.m_kib || again.t != ph.t ||
		    again.p != ph.p || again.saltlen != ph.saltlen || again.hashlen != ph.hashlen ||
		    memcmp(again.salt, ph.salt, ph.saltlen) != 0 ||
		    memcmp(again.hash, ph.hash, ph.hashlen) != 0)
			abort();
	}
	if (!ok) {
		if (crypto_password_check(s, "password", &want) != PW_UNSUPPORTED)
			abort();
	} else if (cheap(&ph)) {
		(void)crypto_password_check(s, "password", &want); /* any answer; no crash */
	}
	free(s);
	return 0;
}
