/* Password hashing and verification: argon2id for new hashes (tenant-configurable cost), and
 * the imported formats roster accepts and upgrades (docs/passwords.md). Every argon2 computation
 * first takes a slot of one process-wide pool (about one hasher per core), so that a burst of
 * logins queues instead of allocating m KiB per waiting request; argon2's memory is mmap'ed and
 * munmap'ed, so it goes back to the kernel after the burst. All functions are thread-safe. */
#ifndef ROSTER_CRYPTO_PASSWORD_H
#define ROSTER_CRYPTO_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pw_params {
	uint32_t m_kib, t, p; /* argon2id cost */
};
/* OWASP's minimum for argon2id: m = 19 MiB, t = 2, p = 1. */
#define PW_PARAMS_DEFAULT ((struct pw_params){19456, 2, 1})

/* Bounds of the parameters roster hashes with (tenant setting password_hash). */
#define PW_M_KIB_MIN 7168   /* 7 MiB: OWASP's lowest-memory argon2id variant (with t = 5) */
#define PW_M_KIB_MAX 262144 /* 256 MiB */
#define PW_T_MIN 1
#define PW_T_MAX 10
#define PW_P_MIN 1
#define PW_P_MAX 8

/* True when pp is within the bounds above. */
bool crypto_password_params_valid(const struct pw_params *pp);

/* argon2id of pw with pp and a random 128-bit salt, as a PHC string
 * ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag>") in out (cap bytes, at least
 * crypto_password_encoded_max()). False when pp is out of bounds, cap too small or hashing
 * failed (no randomness, no memory). Blocks while every pool slot is taken. */
bool crypto_password_hash2(const char *pw, const struct pw_params *pp, char *out, size_t cap);

enum pw_verify { PW_MISMATCH, PW_MATCH, PW_MATCH_REHASH, PW_UNSUPPORTED };
/* Verifies pw against encoded, in any accepted format: argon2id/i/d PHC strings, bcrypt
 * ($2a$, $2b$, $2y$), sha512-crypt ($6$), sha256-crypt ($5$), PBKDF2
 * ($pbkdf2-sha256$, $pbkdf2-sha512$, $pbkdf2$ for SHA-1). PW_MATCH_REHASH: right password,
 * but the stored hash is not argon2id with parameters want: the caller re-hashes and stores
 * the new hash. PW_UNSUPPORTED: encoded is no accepted format, is malformed, or its cost is
 * beyond the bounds roster is willing to spend (docs/passwords.md). Constant time in the
 * comparison. */
enum pw_verify crypto_password_check(const char *encoded, const char *pw,
				     const struct pw_params *want);

/* Costs what a verification against an argon2id hash with pp costs, for unknown users, so that
 * timing doesn't reveal whether an account exists. */
void crypto_password_dummy(const char *pw, const struct pw_params *pp);

/* A buffer this big holds any crypto_password_hash2 output (and the NUL). */
size_t crypto_password_encoded_max(void);

/* Sizes the hashing pool: n concurrent argon2 computations at most; n <= 0 means the number of
 * online CPUs (the default when this is never called). Meant for start-up; a change later
 * applies to computations that have not yet taken a slot. */
void crypto_password_slots(int n);

#endif
