/* Parsing of the stored password hash formats (crypto/password_format.c), shared by
 * password.c and the fuzz target fuzz/fuzz_password_format.c. Only crypto/ includes this. */
#ifndef ROSTER_CRYPTO_PASSWORD_INT_H
#define ROSTER_CRYPTO_PASSWORD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What roster is willing to spend on an imported hash: beyond these, PW_UNSUPPORTED rather
 * than seconds of CPU or hundreds of MiB per attempt (an attacker may plant such a hash). */
#define PW_IMPORT_ARGON2_M_MAX 262144 /* KiB */
#define PW_IMPORT_ARGON2_T_MAX 16
#define PW_IMPORT_ARGON2_P_MAX 16
#define PW_IMPORT_ARGON2_WORK_MAX 1048576 /* m * t, KiB passes: 1 GiB of memory traffic */
#define PW_IMPORT_PBKDF2_ITER_MAX 3000000
#define PW_IMPORT_BCRYPT_COST_MAX 15
#define PW_IMPORT_SHACRYPT_ROUNDS_MAX 1000000

#define PW_SALT_MAX 64
#define PW_HASH_MAX 64

enum pw_kind { PWK_ARGON2, PWK_PBKDF2, PWK_CRYPT };
enum pw_argon2_type { PW_ARGON2D = 0, PW_ARGON2I = 1, PW_ARGON2ID = 2 }; /* libargon2's */
enum pw_digest { PW_SHA1, PW_SHA256, PW_SHA512 };

struct pw_parsed {
	enum pw_kind kind;
	/* PWK_ARGON2 */
	enum pw_argon2_type type;
	uint32_t version; /* 0x10 or 0x13 */
	uint32_t m_kib, t, p;
	/* PWK_PBKDF2 */
	enum pw_digest digest;
	uint32_t iterations;
	/* PWK_CRYPT: the crypt prefix ('2' bcrypt, '5', '6' sha-crypt) and its cost (bcrypt log2
	 * rounds, sha-crypt rounds); the whole string goes to crypt_rn as the setting. */
	char crypt_id;
	uint32_t cost;
	/* PWK_ARGON2, PWK_PBKDF2 */
	unsigned char salt[PW_SALT_MAX];
	size_t saltlen;
	unsigned char hash[PW_HASH_MAX];
	size_t hashlen;
};

/* Parses encoded (NUL-terminated, any bytes) into out; false when it is no accepted format,
 * is malformed, or is beyond the bounds above. Never reads past the NUL. */
bool crypto_pw_parse(const char *encoded, struct pw_parsed *out);

/* Base64 without padding, standard alphabet (PHC strings): out must hold 4*((n+2)/3)+1. */
size_t crypto_pw_b64_encode(const unsigned char *in, size_t n, char *out);
/* Decodes n characters of standard base64 (optional '=' padding) or, when ab64, also passlib's
 * "adapted" base64 ('.' for '+'). False on a character outside the alphabet, an impossible
 * length, or more than cap bytes. */
bool crypto_pw_b64_decode(const char *s, size_t n, bool ab64, unsigned char *out, size_t cap,
			  size_t *outlen);

/* Writes the PHC string of an argon2 hash into out (cap bytes); false if it does not fit. */
bool crypto_pw_argon2_encode(const struct pw_parsed *ph, char *out, size_t cap);

#endif
