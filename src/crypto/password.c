/* Password hashing and verification (crypto/password.h, docs/passwords.md). New hashes are
 * argon2id through libargon2's argon2_ctx with our own allocator; imported formats are verified
 * with libxcrypt (bcrypt, sha-crypt) and OpenSSL (PBKDF2) and reported for an upgrade.
 *
 * Memory: argon2 needs m KiB per computation. Each computation first takes a slot of one
 * process-wide pool sized to the online CPUs, so at most slots x m is ever allocated, and the
 * memory is mmap'ed and munmap'ed directly: through malloc, glibc would serve 19 MiB from
 * per-thread arenas after its mmap threshold adapts, and keep them after a burst. The pool's
 * mutex guards only the slot counter; the hashing itself runs without any lock. */
#include "crypto/password.h"

#include <argon2.h>
#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/password_int.h"

#define PW_SALT_LEN 16
#define PW_HASH_LEN 32
#define PW_ENCODED_MAX 128 /* "$argon2id$v=19$m=4294967295,t=…,p=…$" + 22 + 1 + 43 < 128 */
/* Longer passwords are refused by every policy (RS 1024 code points); bounding the input here
 * too keeps a verification's cost independent of what a client sends. */
#define PW_INPUT_MAX 4096

/* ---- the pool ------------------------------------------------------------------------------ */

static pthread_mutex_t slot_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slot_cv = PTHREAD_COND_INITIALIZER;
static int slot_max; /* 0 until sized: then the online CPUs */
static int slot_used;

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 && n < 4096 ? (int)n : 1;
}

void crypto_password_slots(int n)
{
	pthread_mutex_lock(&slot_mu);
	slot_max = n > 0 ? n : online_cpus();
	pthread_cond_broadcast(&slot_cv);
	pthread_mutex_unlock(&slot_mu);
}

static void slot_take(void)
{
	pthread_mutex_lock(&slot_mu);
	if (slot_max == 0)
		slot_max = online_cpus();
	while (slot_used >= slot_max)
		pthread_cond_wait(&slot_cv, &slot_mu);
	slot_used++;
	pthread_mutex_unlock(&slot_mu);
}

static void slot_give(void)
{
	pthread_mutex_lock(&slot_mu);
	slot_used--;
	pthread_cond_signal(&slot_cv);
	pthread_mutex_unlock(&slot_mu);
}

/* argon2's allocator callbacks: straight to the kernel and back (see the file comment). */
static int pw_alloc(uint8_t **memory, size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	*memory = p == MAP_FAILED ? NULL : p;
	return *memory ? ARGON2_OK : ARGON2_MEMORY_ALLOCATION_ERROR;
}

static void pw_free(uint8_t *memory, size_t n)
{
	/* libargon2 has already wiped it (ARGON2_FLAG_CLEAR_MEMORY is its default). */
	if (memory)
		(void)munmap(memory, n); /* cannot fail for a mapping we made */
}

/* One argon2 computation of outlen bytes into out, in a pool slot. */
static bool argon2_run(enum pw_argon2_type type, uint32_t version, uint32_t m, uint32_t t,
		       uint32_t p, const char *pw, size_t pwlen, const unsigned char *salt,
		       size_t saltlen, unsigned char *out, size_t outlen)
{
	argon2_context ctx = {
	    .out = out,
	    .outlen = (uint32_t)outlen,
	    /* argon2_context is not const-correct; with flags 0 it never writes the password. */
	    .pwd = (uint8_t *)(uintptr_t)pw,
	    .pwdlen = (uint32_t)pwlen,
	    .salt = (uint8_t *)(uintptr_t)salt,
	    .saltlen = (uint32_t)saltlen,
	    .t_cost = t,
	    .m_cost = m,
	    .lanes = p,
	    .threads = p,
	    .version = version,
	    .allocate_cbk = pw_alloc,
	    .free_cbk = pw_free,
	    .flags = ARGON2_DEFAULT_FLAGS,
	};
	int rc;

	slot_take();
	rc = argon2_ctx(&ctx, (argon2_type)type);
	slot_give();
	return rc == ARGON2_OK;
}

/* ---- hashing ------------------------------------------------------------------------------- */

bool crypto_password_params_valid(const struct pw_params *pp)
{
	return pp && pp->m_kib >= PW_M_KIB_MIN && pp->m_kib <= PW_M_KIB_MAX && pp->t >= PW_T_MIN &&
	       pp->t <= PW_T_MAX && pp->p >= PW_P_MIN && pp->p <= PW_P_MAX &&
	       pp->m_kib >= 8 * pp->p;
}

size_t crypto_password_encoded_max(void)
{
	return PW_ENCODED_MAX;
}

bool crypto_password_hash2(const char *pw, const struct pw_params *pp, char *out, size_t cap)
{
	struct pw_parsed ph = {
	    .kind = PWK_ARGON2, .type = PW_ARGON2ID, .version = ARGON2_VERSION_13};
	size_t pwlen = pw ? strlen(pw) : 0;
	bool ok;

	if (!pw || pwlen > PW_INPUT_MAX || !crypto_password_params_valid(pp) || !out ||
	    cap < PW_ENCODED_MAX)
		return false;
	ph.m_kib = pp->m_kib;
	ph.t = pp->t;
	ph.p = pp->p;
	ph.saltlen = PW_SALT_LEN;
	ph.hashlen = PW_HASH_LEN;
	ok = crypto_random(ph.salt, PW_SALT_LEN) &&
	     argon2_run(PW_ARGON2ID, ph.version, ph.m_kib, ph.t, ph.p, pw, pwlen, ph.salt,
			PW_SALT_LEN, ph.hash, PW_HASH_LEN) &&
	     crypto_pw_argon2_encode(&ph, out, cap);
	crypto_wipe(&ph, sizeof(ph));
	if (!ok)
		crypto_wipe(out, cap);
	return ok;
}

bool crypto_password_hash(const char *password, char *out, size_t cap)
{
	return crypto_password_hash2(password, &PW_PARAMS_DEFAULT, out, cap);
}

/* ---- verification -------------------------------------------------------------------------- */

static bool check_argon2(const struct pw_parsed *ph, const char *pw, size_t pwlen, bool *match)
{
	unsigned char calc[PW_HASH_MAX];
	bool ok = argon2_run(ph->type, ph->version, ph->m_kib, ph->t, ph->p, pw, pwlen, ph->salt,
			     ph->saltlen, calc, ph->hashlen);

	*match = ok && CRYPTO_memcmp(calc, ph->hash, ph->hashlen) == 0;
	crypto_wipe(calc, sizeof(calc));
	return ok;
}

static bool check_pbkdf2(const struct pw_parsed *ph, const char *pw, size_t pwlen, bool *match)
{
	const EVP_MD *md = ph->digest == PW_SHA512   ? EVP_sha512()
			   : ph->digest == PW_SHA256 ? EVP_sha256()
						     : EVP_sha1();
	unsigned char calc[PW_HASH_MAX];
	bool ok = PKCS5_PBKDF2_HMAC(pw, (int)pwlen, ph->salt, (int)ph->saltlen, (int)ph->iterations,
				    md, (int)ph->hashlen, calc) == 1;

	*match = ok && CRYPTO_memcmp(calc, ph->hash, ph->hashlen) == 0;
	crypto_wipe(calc, sizeof(calc));
	return ok;
}

/* bcrypt and sha-crypt: crypt_rn (reentrant, thread-safe) with the stored string as the
 * setting gives the string the password should have produced. */
static bool check_crypt(const char *encoded, const char *pw, bool *match)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd)); /* 32 KiB: not on a worker's stack */
	const char *res;
	size_t n = strlen(encoded);
	bool ok;

	*match = false;
	if (!cd)
		return false;
	res = crypt_rn(pw, encoded, cd, (int)sizeof(*cd));
	/* A failure is NULL or a string starting with '*' (never a valid hash). */
	ok = res && res[0] != '*';
	if (ok)
		*match = strlen(res) == n && CRYPTO_memcmp(res, encoded, n) == 0;
	crypto_wipe(cd, sizeof(*cd));
	free(cd);
	return ok;
}

enum pw_verify crypto_password_check(const char *encoded, const char *pw,
				     const struct pw_params *want)
{
	struct pw_parsed ph;
	size_t pwlen = pw ? strlen(pw) : 0;
	bool ok = false, match = false, current = false;

	if (!crypto_pw_parse(encoded, &ph))
		return PW_UNSUPPORTED;
	/* No policy lets such a password be set: it can only be wrong. */
	if (!pw || pwlen > PW_INPUT_MAX) {
		crypto_wipe(&ph, sizeof(ph));
		return PW_MISMATCH;
	}
	switch (ph.kind) {
	case PWK_ARGON2:
		ok = check_argon2(&ph, pw, pwlen, &match);
		/* Current: what crypto_password_hash2(want) would write now. */
		current = ph.type == PW_ARGON2ID && ph.version == ARGON2_VERSION_13 && want &&
			  ph.m_kib == want->m_kib && ph.t == want->t && ph.p == want->p &&
			  ph.saltlen >= PW_SALT_LEN && ph.hashlen >= PW_HASH_LEN;
		break;
	case PWK_PBKDF2:
		ok = check_pbkdf2(&ph, pw, pwlen, &match);
		break;
	case PWK_CRYPT:
		ok = check_crypt(encoded, pw, &match);
		break;
	}
	crypto_wipe(&ph, sizeof(ph));
	if (!ok)
		return PW_UNSUPPORTED;
	if (!match)
		return PW_MISMATCH;
	return current ? PW_MATCH : PW_MATCH_REHASH;
}

bool crypto_password_verify(const char *encoded, const char *password)
{
	enum pw_verify v = crypto_password_check(encoded, password, &PW_PARAMS_DEFAULT);

	return v == PW_MATCH || v == PW_MATCH_REHASH;
}

void crypto_password_dummy(const char *pw, const struct pw_params *pp)
{
	/* A fixed salt is fine: the result is thrown away, only the time it takes matters. */
	static const unsigned char salt[PW_SALT_LEN] = "roster-dummy-slt";
	struct pw_params d = PW_PARAMS_DEFAULT;
	unsigned char out[PW_HASH_LEN];
	size_t pwlen = pw ? strlen(pw) : 0;

	if (crypto_password_params_valid(pp))
		d = *pp;
	(void)argon2_run(PW_ARGON2ID, ARGON2_VERSION_13, d.m_kib, d.t, d.p, pw ? pw : "",
			 pwlen > PW_INPUT_MAX ? PW_INPUT_MAX : pwlen, salt, sizeof(salt), out,
			 sizeof(out)); /* nothing to do if it fails: there is no answer to give */
	crypto_wipe(out, sizeof(out));
}
