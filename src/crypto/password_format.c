/* Parser of the stored password hash formats roster accepts (docs/passwords.md): argon2 PHC
 * strings, PBKDF2 in passlib's form, bcrypt and sha-crypt. It only reads and bounds: nothing
 * here hashes. Stored hashes may come from an import, that is from outside, so every field is
 * checked for syntax and for a cost roster is willing to pay before anything is computed. */
#include "crypto/password_int.h"

#include <stdio.h>
#include <string.h>

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/* bcrypt's and crypt(3)'s alphabets, for the syntax check only (crypt_rn decodes). */
static const char b64_crypt[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

size_t crypto_pw_b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64_std[v >> 18 & 63];
		out[o++] = b64_std[v >> 12 & 63];
		out[o++] = b64_std[v >> 6 & 63];
		out[o++] = b64_std[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = b64_std[v >> 18 & 63];
		out[o++] = b64_std[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = b64_std[v >> 18 & 63];
		out[o++] = b64_std[v >> 12 & 63];
		out[o++] = b64_std[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

static int b64_value(char c, bool ab64)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || (ab64 && c == '.'))
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool crypto_pw_b64_decode(const char *s, size_t n, bool ab64, unsigned char *out, size_t cap,
			  size_t *outlen)
{
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	size_t pad = 0;

	/* Padding is optional, but only at the end and only as much as completes a quantum. */
	while (n > 0 && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (pad && (n + pad) % 4 != 0)
		return false;
	if (n % 4 == 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(s[i], ab64);

		if (v < 0)
			return false;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return false;
			out[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	*outlen = o;
	return true;
}

/* A decimal field of 1-10 digits that fits in uint32_t; *s moves past it. */
static bool parse_u32(const char **s, uint32_t *out)
{
	uint64_t v = 0;
	int n = 0;

	while (**s >= '0' && **s <= '9') {
		if (++n > 10)
			return false;
		v = v * 10 + (uint64_t)(**s - '0');
		(*s)++;
	}
	if (n == 0 || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool eat(const char **s, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*s, lit, n) != 0)
		return false;
	*s += n;
	return true;
}

/* The field up to the next '$' or the end; *s moves to that delimiter. */
static size_t field(const char **s)
{
	size_t n = strcspn(*s, "$");

	*s += n;
	return n;
}

static bool only_of(const char *s, size_t n, const char *alphabet)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0' || !strchr(alphabet, s[i]))
			return false;
	}
	return true;
}

/* $argon2{id,i,d}$[v=NN$]m=N,t=N,p=N$salt$hash (reference implementation's encoding). */
static bool parse_argon2(const char *s, struct pw_parsed *out)
{
	const char *f;
	size_t n;
	uint64_t work;

	if (eat(&s, "$argon2id$"))
		out->type = PW_ARGON2ID;
	else if (eat(&s, "$argon2i$"))
		out->type = PW_ARGON2I;
	else if (eat(&s, "$argon2d$"))
		out->type = PW_ARGON2D;
	else
		return false;
	out->kind = PWK_ARGON2;
	out->version = 0x10; /* absent means the original 1.0 */
	if (eat(&s, "v=")) {
		if (!parse_u32(&s, &out->version) ||
		    (out->version != 0x10 && out->version != 0x13) || !eat(&s, "$"))
			return false;
	}
	if (!eat(&s, "m=") || !parse_u32(&s, &out->m_kib) || !eat(&s, ",t=") ||
	    !parse_u32(&s, &out->t) || !eat(&s, ",p=") || !parse_u32(&s, &out->p) || !eat(&s, "$"))
		return false;
	if (out->t < 1 || out->t > PW_IMPORT_ARGON2_T_MAX || out->p < 1 ||
	    out->p > PW_IMPORT_ARGON2_P_MAX || out->m_kib < 8 * out->p ||
	    out->m_kib > PW_IMPORT_ARGON2_M_MAX)
		return false;
	work = (uint64_t)out->m_kib * out->t;
	if (work > PW_IMPORT_ARGON2_WORK_MAX)
		return false;
	f = s;
	n = field(&s);
	/* The reference encoding has no padding; refusing it keeps one spelling per hash. */
	if (!eat(&s, "$") || memchr(f, '=', n) ||
	    !crypto_pw_b64_decode(f, n, false, out->salt, sizeof(out->salt), &out->saltlen) ||
	    out->saltlen < 8)
		return false;
	f = s;
	n = field(&s);
	if (*s != '\0' || memchr(f, '=', n) ||
	    !crypto_pw_b64_decode(f, n, false, out->hash, sizeof(out->hash), &out->hashlen) ||
	    out->hashlen < 4)
		return false;
	return true;
}

/* passlib's $pbkdf2-sha256$iterations$salt$hash (adapted base64; standard base64 also accepted,
 * which is what a Keycloak export converts to: docs/passwords.md). */
static bool parse_pbkdf2(const char *s, struct pw_parsed *out)
{
	const char *f;
	size_t n;

	if (eat(&s, "$pbkdf2-sha256$"))
		out->digest = PW_SHA256;
	else if (eat(&s, "$pbkdf2-sha512$"))
		out->digest = PW_SHA512;
	else if (eat(&s, "$pbkdf2$"))
		out->digest = PW_SHA1;
	else
		return false;
	out->kind = PWK_PBKDF2;
	if (!parse_u32(&s, &out->iterations) || !eat(&s, "$") || out->iterations < 1 ||
	    out->iterations > PW_IMPORT_PBKDF2_ITER_MAX)
		return false;
	f = s;
	n = field(&s);
	if (!eat(&s, "$") ||
	    !crypto_pw_b64_decode(f, n, true, out->salt, sizeof(out->salt), &out->saltlen) ||
	    out->saltlen < 1)
		return false;
	f = s;
	n = field(&s);
	if (*s != '\0' ||
	    !crypto_pw_b64_decode(f, n, true, out->hash, sizeof(out->hash), &out->hashlen) ||
	    out->hashlen < 16)
		return false;
	return true;
}

/* $2b$NN$ + 22 characters of salt + 31 of hash. */
static bool parse_bcrypt(const char *s, struct pw_parsed *out)
{
	if (!(eat(&s, "$2b$") || eat(&s, "$2a$") || eat(&s, "$2y$")))
		return false;
	if (!(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == '$'))
		return false;
	out->kind = PWK_CRYPT;
	out->crypt_id = '2';
	out->cost = (uint32_t)((s[0] - '0') * 10 + (s[1] - '0'));
	s += 3;
	return out->cost >= 4 && out->cost <= PW_IMPORT_BCRYPT_COST_MAX && strlen(s) == 53 &&
	       only_of(s, 53, b64_crypt);
}

/* $6$[rounds=N$]salt$hash: salt of 1-16 characters, hash of 86 (sha512) or 43 (sha256). */
static bool parse_shacrypt(const char *s, struct pw_parsed *out)
{
	const char *f;
	size_t n;

	if (eat(&s, "$6$"))
		out->crypt_id = '6';
	else if (eat(&s, "$5$"))
		out->crypt_id = '5';
	else
		return false;
	out->kind = PWK_CRYPT;
	out->cost = 5000; /* the default when rounds= is absent */
	if (eat(&s, "rounds=")) {
		/* crypt clamps rounds to 1000..999999999 and writes the clamped value, which would
		 * then never match the stored string: only the values it keeps are accepted. */
		if (!parse_u32(&s, &out->cost) || !eat(&s, "$") || out->cost < 1000 ||
		    out->cost > PW_IMPORT_SHACRYPT_ROUNDS_MAX)
			return false;
	}
	f = s;
	n = field(&s);
	if (n < 1 || n > 16 || !eat(&s, "$") || !only_of(f, n, b64_crypt))
		return false;
	n = strlen(s);
	return n == (out->crypt_id == '6' ? 86u : 43u) && only_of(s, n, b64_crypt);
}

bool crypto_pw_parse(const char *encoded, struct pw_parsed *out)
{
	memset(out, 0, sizeof(*out));
	if (!encoded || encoded[0] != '$')
		return false;
	if (strncmp(encoded, "$argon2", 7) == 0)
		return parse_argon2(encoded, out);
	if (strncmp(encoded, "$pbkdf2", 7) == 0)
		return parse_pbkdf2(encoded, out);
	if (strncmp(encoded, "$2", 2) == 0)
		return parse_bcrypt(encoded, out);
	return parse_shacrypt(encoded, out);
}

bool crypto_pw_argon2_encode(const struct pw_parsed *ph, char *out, size_t cap)
{
	static const char *const names[] = {"argon2d", "argon2i", "argon2id"};
	char salt[4 * ((PW_SALT_MAX + 2) / 3) + 1], hash[4 * ((PW_HASH_MAX + 2) / 3) + 1];
	int n;

	if (ph->kind != PWK_ARGON2 || ph->saltlen > PW_SALT_MAX || ph->hashlen > PW_HASH_MAX)
		return false;
	crypto_pw_b64_encode(ph->salt, ph->saltlen, salt);
	crypto_pw_b64_encode(ph->hash, ph->hashlen, hash);
	n = snprintf(out, cap, "$%s$v=%u$m=%u,t=%u,p=%u$%s$%s", names[ph->type],
		     (unsigned)ph->version, (unsigned)ph->m_kib, (unsigned)ph->t, (unsigned)ph->p,
		     salt, hash);
	return n > 0 && (size_t)n < cap;
}
