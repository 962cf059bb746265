/* Password hashing and verification (argon2id), bounded so that a burst of logins queues. */
#ifndef ROSTER_CRYPTO_PASSWORD_H
#define ROSTER_CRYPTO_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pw_params {
	uint32_t m_kib, t, p; /* argon2id cost */
};
#define PW_PARAMS_DEFAULT ((struct pw_params){19456, 2, 1})

bool crypto_password_hash2(const char *pw, const struct pw_params *pp, char *out, size_t cap);
enum pw_verify { PW_MISMATCH, PW_MATCH, PW_MATCH_REHASH, PW_UNSUPPORTED };
/* PW_MATCH_REHASH: the right password, but the stored hash is not argon2id with parameters
 * want: the caller re-hashes and stores the new hash. */
enum pw_verify crypto_password_check(const char *encoded, const char *pw,
				     const struct pw_params *want);
/* Costs what a verification against an argon2id hash with pp costs (unknown users). */
void crypto_password_dummy(const char *pw, const struct pw_params *pp);
size_t crypto_password_encoded_max(void);

#endif
