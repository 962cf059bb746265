/* Password hashing: argon2id (libargon2, the reference implementation) with the parameters
 * OWASP recommends as a minimum: m = 19 MiB, t = 2, p = 1; a 128-bit random salt and a 256-bit
 * tag, encoded as a PHC string ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag>"). */
#include "crypto/crypto.h"
#include "crypto/password.h"

#include <argon2.h>
#include <stdio.h>
#include <string.h>

#define PW_T_COST 2
#define PW_M_COST 19456 /* KiB */
#define PW_PARALLELISM 1
#define PW_SALT_LEN 16
#define PW_HASH_LEN 32

bool crypto_password_hash(const char *password, char *out, size_t cap)
{
	unsigned char salt[PW_SALT_LEN];
	size_t need = argon2_encodedlen(PW_T_COST, PW_M_COST, PW_PARALLELISM, PW_SALT_LEN,
					PW_HASH_LEN, Argon2_id);
	int rc;

	if (cap < need || !crypto_random(salt, sizeof(salt)))
		return false;
	rc = argon2id_hash_encoded(PW_T_COST, PW_M_COST, PW_PARALLELISM, password, strlen(password),
				   salt, sizeof(salt), PW_HASH_LEN, out, cap);
	crypto_wipe(salt, sizeof(salt));
	return rc == ARGON2_OK;
}

bool crypto_password_verify(const char *encoded, const char *password)
{
	return argon2id_verify(encoded, password, strlen(password)) == ARGON2_OK;
}

bool crypto_password_hash2(const char *pw, const struct pw_params *pp, char *out, size_t cap)
{
	unsigned char salt[PW_SALT_LEN];
	int rc;

	if (!crypto_random(salt, sizeof(salt)))
		return false;
	rc = argon2id_hash_encoded(pp->t, pp->m_kib, pp->p, pw, strlen(pw), salt, sizeof(salt),
				   PW_HASH_LEN, out, cap);
	crypto_wipe(salt, sizeof(salt));
	return rc == ARGON2_OK;
}

/* The cost parameters of an argon2id PHC string, to tell whether it needs upgrading. */
static bool phc_params(const char *encoded, struct pw_params *out)
{
	unsigned m, t, p;

	return sscanf(encoded, "$argon2id$v=19$m=%u,t=%u,p=%u$", &m, &t, &p) == 3 &&
	       (*out = (struct pw_params){m, t, p}, true);
}

enum pw_verify crypto_password_check(const char *encoded, const char *pw,
				     const struct pw_params *want)
{
	struct pw_params have;

	if (!encoded || !phc_params(encoded, &have))
		return PW_UNSUPPORTED;
	if (argon2id_verify(encoded, pw, strlen(pw)) != ARGON2_OK)
		return PW_MISMATCH;
	return have.m_kib == want->m_kib && have.t == want->t && have.p == want->p
		   ? PW_MATCH
		   : PW_MATCH_REHASH;
}

void crypto_password_dummy(const char *pw, const struct pw_params *pp)
{
	static const unsigned char salt[PW_SALT_LEN] = "roster-dummy-slt";
	unsigned char out[PW_HASH_LEN];

	(void)argon2id_hash_raw(pp->t, pp->m_kib, pp->p, pw, strlen(pw), salt, sizeof(salt), out,
				sizeof(out));
	crypto_wipe(out, sizeof(out));
}

size_t crypto_password_encoded_max(void)
{
	return argon2_encodedlen(UINT32_MAX / 2, UINT32_MAX / 2, 255, PW_SALT_LEN, PW_HASH_LEN,
				 Argon2_id);
}
