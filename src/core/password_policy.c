/* The tenant's password policy, after NIST SP 800-63B 5.1.1.2 (docs/passwords.md): a minimum
 * and maximum length in code points, no composition rules unless the tenant asks for them, a
 * blocklist of common and breached passwords shipped with roster, context words (username,
 * e-mail, names, the tenant), optional history and maximum age; and the tenant's argon2id
 * parameters. It decides and explains; it never stores anything and never logs a password. */
#include "core/core_int.h"

#include <ctype.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto/crypto.h"

extern const char core_password_blocklist[]; /* data/password-blocklist.txt, embedded */

/* ---- settings ------------------------------------------------------------------------------ */

void password_settings_default(struct tenant_password *p)
{
	struct pw_params d = PW_PARAMS_DEFAULT;

	*p = (struct tenant_password){
	    .min_length = PASSWORD_MIN_LENGTH_DEFAULT,
	    .max_length = PASSWORD_MAX_LENGTH_DEFAULT,
	    .hash_m_kib = d.m_kib,
	    .hash_t = d.t,
	    .hash_p = d.p,
	};
}

/* The tenant's settings with the defaults in place of zeros: a struct tenant built by hand (or
 * zeroed) means the default policy. */
static void effective(const struct tenant *t, struct tenant_password *out)
{
	struct tenant_password d;

	password_settings_default(&d);
	*out = t ? t->password : d;
	if (out->min_length <= 0)
		out->min_length = d.min_length;
	if (out->max_length <= 0)
		out->max_length = d.max_length;
	if (out->hash_m_kib <= 0 || out->hash_t <= 0 || out->hash_p <= 0) {
		out->hash_m_kib = d.hash_m_kib;
		out->hash_t = d.hash_t;
		out->hash_p = d.hash_p;
	}
}

void password_policy_params(const struct tenant *t, struct pw_params *out)
{
	struct tenant_password p;

	effective(t, &p);
	*out = (struct pw_params){(uint32_t)p.hash_m_kib, (uint32_t)p.hash_t, (uint32_t)p.hash_p};
	if (!crypto_password_params_valid(out))
		*out = PW_PARAMS_DEFAULT;
}

bool password_expired(const struct tenant *t, int64_t set_at_ms, int64_t now_ms)
{
	struct tenant_password p;

	effective(t, &p);
	return p.max_age_days > 0 && now_ms - set_at_ms >= p.max_age_days * 86400000LL;
}

static int64_t json_int_in(json_t *o, const char *key, int64_t lo, int64_t hi, int64_t def)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi)
		return json_integer_value(v);
	return def;
}

void password_settings_read(json_t *settings, struct tenant_password *out)
{
	json_t *h = json_object_get(settings, "password_hash");
	struct pw_params pp;

	password_settings_default(out);
	/* A stored value out of range (written by an older or newer roster) means the default. */
	out->min_length = json_int_in(settings, "password_min_length", PASSWORD_MIN_LENGTH_MIN,
				      PASSWORD_MIN_LENGTH_MAX, out->min_length);
	out->max_length = json_int_in(settings, "password_max_length", PASSWORD_MAX_LENGTH_MIN,
				      PASSWORD_MAX_LENGTH_MAX, out->max_length);
	out->require_classes = json_int_in(settings, "password_require_classes", 0,
					   PASSWORD_CLASSES_MAX, out->require_classes);
	out->max_age_days = json_int_in(settings, "password_max_age_days", 0,
					PASSWORD_MAX_AGE_DAYS_MAX, out->max_age_days);
	out->history =
	    json_int_in(settings, "password_history", 0, PASSWORD_HISTORY_MAX, out->history);
	pp = (struct pw_params){
	    (uint32_t)json_int_in(h, "m_kib", PW_M_KIB_MIN, PW_M_KIB_MAX, 0),
	    (uint32_t)json_int_in(h, "t", PW_T_MIN, PW_T_MAX, 0),
	    (uint32_t)json_int_in(h, "p", PW_P_MIN, PW_P_MAX, 0),
	};
	if (crypto_password_params_valid(&pp)) {
		out->hash_m_kib = pp.m_kib;
		out->hash_t = pp.t;
		out->hash_p = pp.p;
	}
}

bool password_settings_write(json_t *settings, const struct tenant_password *p)
{
	return json_object_set_new(settings, "password_min_length", json_integer(p->min_length)) ==
		   0 &&
	       json_object_set_new(settings, "password_max_length", json_integer(p->max_length)) ==
		   0 &&
	       json_object_set_new(settings, "password_require_classes",
				   json_integer(p->require_classes)) == 0 &&
	       json_object_set_new(settings, "password_max_age_days",
				   json_integer(p->max_age_days)) == 0 &&
	       json_object_set_new(settings, "password_history", json_integer(p->history)) == 0 &&
	       json_object_set_new(settings, "password_hash",
				   json_pack("{s:I,s:I,s:I}", "m_kib", (json_int_t)p->hash_m_kib,
					     "t", (json_int_t)p->hash_t, "p",
					     (json_int_t)p->hash_p)) == 0;
}

static enum rs_status bad_setting(struct rs_err *err, const char *field, int64_t lo, int64_t hi)
{
	return rs_fail(err, RS_E_INVALID, "request.invalid_field", field,
		       "'%s' is a number from %lld to %lld, or null", field, (long long)lo,
		       (long long)hi);
}

static enum rs_status patch_int(const struct opt_int *o, const char *field, int64_t lo, int64_t hi,
				int64_t def, int64_t *v, struct rs_err *err)
{
	if (!o->set)
		return RS_OK;
	if (o->null) {
		*v = def;
		return RS_OK;
	}
	if (o->v < lo || o->v > hi)
		return bad_setting(err, field, lo, hi);
	*v = o->v;
	return RS_OK;
}

enum rs_status password_settings_patch(const struct tenant_patch *p, struct tenant_password *io,
				       struct rs_err *err)
{
	struct tenant_password d;
	enum rs_status st;

	password_settings_default(&d);
	st = patch_int(&p->password_min_length, "password_min_length", PASSWORD_MIN_LENGTH_MIN,
		       PASSWORD_MIN_LENGTH_MAX, d.min_length, &io->min_length, err);
	if (st == RS_OK)
		st = patch_int(&p->password_max_length, "password_max_length",
			       PASSWORD_MAX_LENGTH_MIN, PASSWORD_MAX_LENGTH_MAX, d.max_length,
			       &io->max_length, err);
	if (st == RS_OK)
		st = patch_int(&p->password_require_classes, "password_require_classes", 0,
			       PASSWORD_CLASSES_MAX, 0, &io->require_classes, err);
	if (st == RS_OK)
		st = patch_int(&p->password_max_age_days, "password_max_age_days", 0,
			       PASSWORD_MAX_AGE_DAYS_MAX, 0, &io->max_age_days, err);
	if (st == RS_OK)
		st = patch_int(&p->password_history, "password_history", 0, PASSWORD_HISTORY_MAX, 0,
			       &io->history, err);
	if (st != RS_OK)
		return st;
	if (p->password_hash.set) {
		const struct opt_int *m = &p->password_hash.m_kib, *t = &p->password_hash.t,
				     *pp = &p->password_hash.p;
		struct pw_params v = PW_PARAMS_DEFAULT;

		/* null, or an object whose missing members take their defaults */
		if (!p->password_hash.null) {
			if ((m->set && (m->null || m->v < PW_M_KIB_MIN || m->v > PW_M_KIB_MAX)) ||
			    (t->set && (t->null || t->v < PW_T_MIN || t->v > PW_T_MAX)) ||
			    (pp->set && (pp->null || pp->v < PW_P_MIN || pp->v > PW_P_MAX)))
				return rs_fail(
				    err, RS_E_INVALID, "request.invalid_field", "password_hash",
				    "'password_hash' is {\"m_kib\": %d-%d, \"t\": %d-%d, "
				    "\"p\": %d-%d} (argon2id), or null",
				    PW_M_KIB_MIN, PW_M_KIB_MAX, PW_T_MIN, PW_T_MAX, PW_P_MIN,
				    PW_P_MAX);
			v.m_kib = m->set ? (uint32_t)m->v : v.m_kib;
			v.t = t->set ? (uint32_t)t->v : v.t;
			v.p = pp->set ? (uint32_t)pp->v : v.p;
		}
		io->hash_m_kib = v.m_kib;
		io->hash_t = v.t;
		io->hash_p = v.p;
	}
	if (io->min_length > io->max_length)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "password_min_length",
			       "'password_min_length' (%lld) can't be above 'password_max_length' "
			       "(%lld)",
			       (long long)io->min_length, (long long)io->max_length);
	return RS_OK;
}

void password_settings_changes(struct changes *ch, const struct tenant_password *before,
			       const struct tenant_password *after)
{
	changes_int(ch, "password_min_length", true, before->min_length, true, after->min_length);
	changes_int(ch, "password_max_length", true, before->max_length, true, after->max_length);
	changes_int(ch, "password_require_classes", true, before->require_classes, true,
		    after->require_classes);
	changes_int(ch, "password_max_age_days", true, before->max_age_days, true,
		    after->max_age_days);
	changes_int(ch, "password_history", true, before->history, true, after->history);
	changes_int(ch, "password_hash.m_kib", true, before->hash_m_kib, true, after->hash_m_kib);
	changes_int(ch, "password_hash.t", true, before->hash_t, true, after->hash_t);
	changes_int(ch, "password_hash.p", true, before->hash_p, true, after->hash_p);
}

/* ---- the blocklist ------------------------------------------------------------------------- */

static pthread_once_t block_once = PTHREAD_ONCE_INIT;
static const char **block; /* sorted, into block_text; built once, kept for the process */
static size_t nblock;
static char *block_text;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void block_load(void)
{
	size_t n = 0, cap = 0;
	char *line, *next;

	block_text = strdup(core_password_blocklist);
	if (!block_text)
		return; /* no memory at start: nothing is blocklisted rather than a crash */
	for (const char *s = block_text; *s; s++)
		cap += *s == '\n';
	block = malloc((cap + 1) * sizeof(*block));
	if (!block)
		return;
	for (line = block_text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] != '\0' && line[0] != '#')
			block[n++] = line;
	}
	/* The file is kept sorted, but sorting here makes a hand-edited file safe too. */
	qsort(block, n, sizeof(*block), cmp_str);
	nblock = n;
}

#define LOWER_MAX                                                                                  \
	(4 * PASSWORD_MAX_LENGTH_MAX) /* bytes of the longest password any policy allows */

/* ASCII lower case into out (LOWER_MAX + 1 bytes); false when pw is longer. */
static bool lower_into(const char *pw, char *out)
{
	size_t n = strlen(pw);

	if (n > LOWER_MAX)
		return false;
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)tolower((unsigned char)pw[i]);
	return true;
}

static bool blocklisted_low(const char *low)
{
	pthread_once(&block_once, block_load);
	return nblock && bsearch(&low, block, nblock, sizeof(*block), cmp_str) != NULL;
}

bool password_blocklisted(const char *pw)
{
	char low[LOWER_MAX + 1];
	bool hit = pw && lower_into(pw, low) && blocklisted_low(low);

	crypto_wipe(low, sizeof(low));
	return hit;
}

/* ---- the checks ---------------------------------------------------------------------------- */

/* Counts UTF-8 code points (continuation bytes don't start one). */
static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static int classes(const char *pw)
{
	bool lower = false, upper = false, digit = false, other = false;

	for (const unsigned char *s = (const unsigned char *)pw; *s; s++) {
		if (*s >= 'a' && *s <= 'z')
			lower = true;
		else if (*s >= 'A' && *s <= 'Z')
			upper = true;
		else if (*s >= '0' && *s <= '9')
			digit = true;
		else if ((*s & 0xC0) != 0x80) /* one per code point, non-ASCII letters included */
			other = true;
	}
	return lower + upper + digit + other;
}

#define CONTEXT_WORD_MIN 4 /* code points: shorter words ("ann", "it") are in everything */

/* True when low (the lower-cased password) contains w (lower-cased, ≥ CONTEXT_WORD_MIN). */
static bool has_word(const char *low, const char *w, size_t wlen, struct arena *a)
{
	char *word = arena_alloc(a, wlen + 1);

	if (!word)
		return false;
	memcpy(word, w, wlen);
	word[wlen] = '\0';
	return utf8_len(word) >= CONTEXT_WORD_MIN && strstr(low, word) != NULL;
}

/* The context string as a whole or, when words, each of its words: split on ASCII that is
 * neither a letter nor a digit, so "ada.lovelace@example.com" gives "lovelace" and "example",
 * and "Acme Corp" gives "acme" and "corp". */
static bool has_context(const char *low, const char *ctx, bool words, struct arena *a)
{
	const char *c = str_lower(a, ctx), *s;

	if (!c)
		return false;
	if (!words)
		return has_word(low, c, strlen(c), a);
	for (s = c; *s;) {
		size_t n = 0;

		while (s[n] && ((unsigned char)s[n] >= 0x80 || isalnum((unsigned char)s[n])))
			n++;
		if (n && has_word(low, s, n, a))
			return true;
		s += n;
		while (*s && (unsigned char)*s < 0x80 && !isalnum((unsigned char)*s))
			s++;
	}
	return false;
}

static enum rs_status policy_fail(struct rs_err *err, const char *msg)
{
	return rs_fail(err, RS_E_INVALID, "password.policy", "password", "%s", msg);
}

enum rs_status password_policy_check(const struct tenant *t, const char *pw,
				     const char *const *context, int ncontext, struct rs_err *err)
{
	static const char *const what[PW_CTX_N] = {
	    "the password contains your username",     "the password contains your e-mail address",
	    "the password contains your name",	       "the password contains your name",
	    "the password contains the tenant's name",
	};
	struct tenant_password p;
	struct arena a;
	enum rs_status st = RS_OK;
	char low[LOWER_MAX + 1];
	size_t n;
	int k;

	effective(t, &p);
	if (!pw)
		return policy_fail(err, "a password is required");
	n = utf8_len(pw);
	if ((int64_t)n < p.min_length)
		return rs_fail(err, RS_E_INVALID, "password.policy", "password",
			       "the password must be at least %lld characters long",
			       (long long)p.min_length);
	if ((int64_t)n > p.max_length)
		return rs_fail(err, RS_E_INVALID, "password.policy", "password",
			       "the password must be at most %lld characters long",
			       (long long)p.max_length);
	k = classes(pw);
	if (k < p.require_classes)
		return rs_fail(err, RS_E_INVALID, "password.policy", "password",
			       "the password must mix at least %lld of: lower-case letters, "
			       "upper-case letters, digits, other characters",
			       (long long)p.require_classes);
	/* The lower-cased password stays on this stack and is wiped; the arena holds only the
	 * lower-cased context words. */
	if (!lower_into(pw, low))
		return policy_fail(err, "the password is too long"); /* unreachable: max_length */
	arena_init(&a, 0);
	if (blocklisted_low(low))
		st = policy_fail(err, "the password is a commonly used password");
	/* Whole entries first, so that the message names what the user typed ("Lovelace" is the
	 * last name before it is a word of the e-mail address), then their words. */
	for (int i = 0; st == RS_OK && i < 2 * ncontext; i++) {
		const char *w = context ? context[i % ncontext] : NULL;

		if (w && w[0] && has_context(low, w, i >= ncontext, &a))
			st = policy_fail(err, i % ncontext < PW_CTX_N
						  ? what[i % ncontext]
						  : "the password contains a word tied "
						    "to your account");
	}
	arena_release(&a);
	crypto_wipe(low, sizeof(low));
	return st;
}

enum rs_status password_history_check(const struct tenant *t, const char *pw,
				      const char *const *old_hashes, int n, struct rs_err *err)
{
	struct tenant_password p;

	effective(t, &p);
	/* Each comparison is a full verification (tens of ms, m KiB): the history is bounded. */
	for (int i = 0; pw && i < n && i < p.history; i++) {
		enum pw_verify v;

		if (!old_hashes || !old_hashes[i])
			continue;
		v = crypto_password_check(old_hashes[i], pw, NULL);
		if (v == PW_MATCH || v == PW_MATCH_REHASH)
			return rs_fail(err, RS_E_INVALID, "password.reused", "password",
				       "the password was used before: choose one that is not among "
				       "your last %lld",
				       (long long)p.history);
	}
	return RS_OK;
}
