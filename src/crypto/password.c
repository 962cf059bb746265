/* Password hashing: argon2id (libargon2, the reference implementation) with the parameters
 * OWASP recommends as a minimum: m = 19 MiB, t = 2, p = 1; a 128-bit random salt and a 256-bit
 * tag, encoded as a PHC string ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag>"). */
#include "crypto/crypto.h"

#include <argon2.h>
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
