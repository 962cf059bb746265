/* core/password_policy: every rule of the policy with its message, the blocklist, context
 * words, history, maximum age, the tenant's argon2id parameters; and the tenant settings that
 * configure them (validation naming the field, storage, defaults, null). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "fixture.h"

/* The outcome of one check: RS_OK, or RS_E_INVALID with code, field password and a message
 * containing msg. */
static void expect(enum rs_status st, const struct rs_err *err, const char *code, const char *msg)
{
	if (!code) {
		if (st != RS_OK)
			fail_msg("refused: %s (%s)", err->msg, err->code);
		return;
	}
	assert_int_equal(st, RS_E_INVALID);
	assert_string_equal(err->code, code);
	assert_string_equal(err->field, "password");
	if (!strstr(err->msg, msg))
		fail_msg("message '%s' lacks '%s'", err->msg, msg);
}

static void check(const struct tenant *t, const char *pw, const char *const *ctx, int n,
		  const char *code, const char *msg)
{
	struct rs_err err = {0};

	print_message("%s\n", pw ? pw : "(null)");
	expect(password_policy_check(t, pw, ctx, n, &err), &err, code, msg);
}

static void test_defaults(void **state)
{
	struct tenant zero = {0};
	struct tenant_password d;
	struct pw_params pp;
	char longpw[200];

	password_settings_default(&d);
	assert_int_equal(d.min_length, 12);
	assert_int_equal(d.max_length, 128);
	assert_int_equal(d.require_classes, 0);
	assert_int_equal(d.max_age_days, 0);
	assert_int_equal(d.history, 0);
	password_policy_params(&zero, &pp);
	assert_int_equal(pp.m_kib, 19456);
	assert_int_equal(pp.t, 2);
	assert_int_equal(pp.p, 1);
	password_policy_params(NULL, &pp);
	assert_int_equal(pp.m_kib, 19456);

	/* a zeroed tenant and NULL mean the defaults */
	check(&zero, "elevenchars", NULL, 0, "password.policy", "at least 12 characters");
	check(NULL, "elevenchars", NULL, 0, "password.policy", "at least 12 characters");
	check(&zero, "twelve chars", NULL, 0, NULL, NULL);
	/* code points, not bytes: 11 two-byte characters are 11 */
	check(&zero,
	      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
	      "\xa9\xc3\xa9",
	      NULL, 0, "password.policy", "at least 12 characters");
	check(&zero,
	      "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	      "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
	      NULL, 0, NULL, NULL);
	memset(longpw, 'k', 129);
	longpw[129] = '\0';
	check(&zero, longpw, NULL, 0, "password.policy", "at most 128 characters");
	longpw[128] = '\0';
	check(&zero, longpw, NULL, 0, NULL, NULL);
	/* no composition rule by default: all lower case, spaces, all digits are fine */
	check(&zero, "purple monkey dishwasher", NULL, 0, NULL, NULL);
	check(&zero, "4815162342 108", NULL, 0, NULL, NULL);
	check(&zero, NULL, NULL, 0, "password.policy", "required");
}

static void test_blocklist(void **state)
{
	static const char *const common[] = {
	    "password1234",
	    "PASSWORD1234",
	    "Password1234",
	    "qwertyuiop123",
	    "123456789012",
	    "iloveyou1234",
	    "Summer2024!",
	    "welcome12345",
	    "1qaz2wsx3edc",
	    "passwordpassword",
	    "purple turtle 77" /* not listed */,
	};
	struct tenant t = {0};

	t.password.min_length = 8;
	for (size_t i = 0; i + 1 < sizeof(common) / sizeof(common[0]); i++)
		check(&t, common[i], NULL, 0, "password.policy", "is a commonly used password");
	check(&t, common[sizeof(common) / sizeof(common[0]) - 1], NULL, 0, NULL, NULL);
	/* the well-known heads of every list, with a lowered minimum */
	assert_true(password_blocklisted("password"));
	assert_true(password_blocklisted("12345678"));
	assert_true(password_blocklisted("QWERTY123"));
	assert_true(password_blocklisted("letmein"));
	assert_true(password_blocklisted("p@ssw0rd"));
	assert_false(password_blocklisted("correct horse battery staple"));
	assert_false(password_blocklisted(""));
	assert_false(password_blocklisted("# roster's blocklist")); /* the header is no entry */
	check(&t, "12345678", NULL, 0, "password.policy", "commonly used");
	check(&t, "Winter2025", NULL, 0, "password.policy", "commonly used");
}

static void test_context(void **state)
{
	const char *ctx[PW_CTX_N + 1] = {
	    "Ada_L", "ada.lovelace@analytical.example", "Ada", "Lovelace", "Acme Corp", "babbage"};
	struct tenant t = {0};

	check(&t, "my name is lovelace", ctx, PW_CTX_N + 1, "password.policy",
	      "contains your name");
	check(&t, "ADA.LOVELACE@ANALYTICAL.EXAMPLE", ctx, PW_CTX_N + 1, "password.policy",
	      "contains your e-mail address");
	/* a word of the e-mail address counts as the address */
	check(&t, "analytical engines", ctx, PW_CTX_N + 1, "password.policy",
	      "contains your e-mail address");
	check(&t, "xx ada_l yy zz 42", ctx, PW_CTX_N + 1, "password.policy",
	      "contains your username");
	check(&t, "the acme corp password", ctx, PW_CTX_N + 1, "password.policy",
	      "contains the tenant's name");
	check(&t, "CorpCorpCorpCorp", ctx, PW_CTX_N + 1, "password.policy",
	      "contains the tenant's name");
	check(&t, "charles babbage 1791", ctx, PW_CTX_N + 1, "password.policy",
	      "contains a word tied to your account");
	/* words under 4 characters don't count: "ada" is in many passwords */
	check(&t, "ada rides a bicycle", ctx, PW_CTX_N + 1, NULL, NULL);
	/* NULL and empty entries are skipped */
	{
		const char *sparse[PW_CTX_N] = {NULL, "", NULL, "Lovelace", NULL};

		check(&t, "quiet lovelace hour", sparse, PW_CTX_N, "password.policy",
		      "contains your name");
		check(&t, "quiet mountain hour", sparse, PW_CTX_N, NULL, NULL);
	}
}

static void test_classes(void **state)
{
	struct tenant t = {0};

	t.password.require_classes = 3;
	check(&t, "alllowercaseletters", NULL, 0, "password.policy", "at least 3 of");
	check(&t, "lowerandUPPERcase", NULL, 0, "password.policy", "at least 3 of");
	check(&t, "lowerUPPER12345", NULL, 0, NULL, NULL);
	check(&t, "lower and UPPER ", NULL, 0, NULL, NULL); /* the space is an "other" */
	t.password.require_classes = 4;
	check(&t, "lowerUPPER12345", NULL, 0, "password.policy", "at least 4 of");
	check(&t, "lowerUPPER12345\xc3\xa9", NULL, 0, NULL, NULL);
	/* the length rule answers first */
	t.password.min_length = 20;
	check(&t, "lowerUPPER12345", NULL, 0, "password.policy", "at least 20 characters");
}

static void test_history_and_age(void **state)
{
	struct pw_params small = {PW_M_KIB_MIN, 1, 1};
	char h1[CRYPTO_PASSWORD_HASH_MAX], h2[CRYPTO_PASSWORD_HASH_MAX];
	const char *old[3];
	struct tenant t = {0};
	struct rs_err err = {0};

	assert_true(crypto_password_hash2("first password here", &small, h1, sizeof(h1)));
	assert_true(crypto_password_hash2("second password here", &small, h2, sizeof(h2)));
	old[0] = h2;
	old[1] =
	    "$2y$05$SmP9mm/ueAvBLm7JHsXdh.ZZ7Hu0w5VoI.6V9FgTbd2bIVdJ1Lni6"; /* bcrypt of
						   correct horse battery staple (htpasswd -B) */
	old[2] = h1;
	/* history 0 (the default): nothing is compared */
	expect(password_history_check(&t, "first password here", old, 3, &err), &err, NULL, NULL);
	t.password.history = 2;
	expect(password_history_check(&t, "second password here", old, 3, &err), &err,
	       "password.reused", "last 2");
	expect(password_history_check(&t, "correct horse battery staple", old, 3, &err), &err,
	       "password.reused", "used before");
	/* the third is beyond the history */
	expect(password_history_check(&t, "first password here", old, 3, &err), &err, NULL, NULL);
	t.password.history = 24;
	expect(password_history_check(&t, "first password here", old, 3, &err), &err,
	       "password.reused", "last 24");
	expect(password_history_check(&t, "a brand new one", old, 3, &err), &err, NULL, NULL);

	t.password.max_age_days = 0;
	assert_false(password_expired(&t, 0, FX_T0));
	t.password.max_age_days = 90;
	assert_false(password_expired(&t, FX_T0, FX_T0 + 89 * 86400000LL));
	assert_true(password_expired(&t, FX_T0, FX_T0 + 90 * 86400000LL));
}

/* Tenant settings through tenants_update: bad values are 400 naming the field and change
 * nothing; good ones are stored, read back, audited; null restores the default. */
static void test_settings(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	struct tenant_patch p;
	struct tenant t;
	struct rs_err err = {0};
	struct pw_params pp;
	static const struct {
		const char *field;
		int which; /* index into the opt_int fields below */
		int64_t v;
	} bad[] = {
	    {"password_min_length", 0, 7},	 {"password_min_length", 0, 65},
	    {"password_max_length", 1, 63},	 {"password_max_length", 1, 1025},
	    {"password_require_classes", 2, -1}, {"password_require_classes", 2, 5},
	    {"password_max_age_days", 3, -1},	 {"password_max_age_days", 3, 3651},
	    {"password_history", 4, -1},	 {"password_history", 4, 25},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct opt_int *o[5];

		memset(&p, 0, sizeof(p));
		o[0] = &p.password_min_length;
		o[1] = &p.password_max_length;
		o[2] = &p.password_require_classes;
		o[3] = &p.password_max_age_days;
		o[4] = &p.password_history;
		*o[bad[i].which] = (struct opt_int){.set = true, .v = bad[i].v};
		fx_expect(tenants_update(f->core, &f->platform, tid, &p, &f->a, &t, &err), &err,
			  RS_E_INVALID, "request.invalid_field");
		assert_string_equal(err.field, bad[i].field);
	}
	/* argon2id cost out of bounds, member by member */
	{
		static const int64_t m[][3] = {{1024, 2, 1},   {300000, 2, 1}, {19456, 0, 1},
					       {19456, 11, 1}, {19456, 2, 0},  {19456, 2, 9}};

		for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
			memset(&p, 0, sizeof(p));
			p.password_hash.set = true;
			p.password_hash.m_kib = (struct opt_int){.set = true, .v = m[i][0]};
			p.password_hash.t = (struct opt_int){.set = true, .v = m[i][1]};
			p.password_hash.p = (struct opt_int){.set = true, .v = m[i][2]};
			fx_expect(tenants_update(f->core, &f->platform, tid, &p, &f->a, &t, &err),
				  &err, RS_E_INVALID, "request.invalid_field");
			assert_string_equal(err.field, "password_hash");
		}
	}
	/* the bounds meet at 64: a minimum above the maximum can't be set */
	memset(&p, 0, sizeof(p));
	p.password_min_length = (struct opt_int){.set = true, .v = 64};
	p.password_max_length = (struct opt_int){.set = true, .v = 64};
	fx_expect(tenants_update(f->core, &f->platform, tid, &p, &f->a, &t, &err), &err, RS_OK,
		  NULL);
	assert_int_equal(t.password.min_length, 64);
	/* nothing changed by the refusals above; everything is stored and read back */
	memset(&p, 0, sizeof(p));
	p.password_min_length = (struct opt_int){.set = true, .v = 14};
	p.password_max_length = (struct opt_int){.set = true, .v = 256};
	p.password_require_classes = (struct opt_int){.set = true, .v = 2};
	p.password_max_age_days = (struct opt_int){.set = true, .v = 365};
	p.password_history = (struct opt_int){.set = true, .v = 5};
	p.password_hash.set = true;
	p.password_hash.m_kib = (struct opt_int){.set = true, .v = 65536};
	p.password_hash.p = (struct opt_int){.set = true, .v = 2};
	fx_expect(tenants_update(f->core, &f->platform, tid, &p, &f->a, &t, &err), &err, RS_OK,
		  NULL);
	fx_expect(tenants_get(f->core, &f->platform, tid, &f->a, &t, &err), &err, RS_OK, NULL);
	assert_int_equal(t.password.min_length, 14);
	assert_int_equal(t.password.max_length, 256);
	assert_int_equal(t.password.require_classes, 2);
	assert_int_equal(t.password.max_age_days, 365);
	assert_int_equal(t.password.history, 5);
	password_policy_params(&t, &pp);
	assert_int_equal(pp.m_kib, 65536);
	assert_int_equal(pp.t, 2); /* left out: the default */
	assert_int_equal(pp.p, 2);
	assert_int_equal(t.settings[TS_INVITATION_DAYS], INVITATION_DAYS_DEFAULT); /* untouched */
	check(&t, "thirteen char", NULL, 0, "password.policy", "at least 14 characters");
	check(&t, "fourteen chars", NULL, 0, NULL, NULL); /* lower + other: 2 classes */
	check(&t, "fourteencharss", NULL, 0, "password.policy", "at least 2 of");
	/* a patch of other fields keeps the policy */
	memset(&p, 0, sizeof(p));
	p.settings[TS_INVITATION_DAYS] = (struct opt_int){.set = true, .v = 3};
	fx_expect(tenants_update(f->core, &f->platform, tid, &p, &f->a, &t, &err), &err, RS_OK,
		  NULL);
	assert_int_equal(t.password.history, 5);
	assert_int_equal(t.password.hash_m_kib, 65536);
	/* null restores each default */
	memset(&p, 0, sizeof(p));
	p.password_min_length = (struct opt_int){.set = true, .null = true};
	p.password_max_length = (struct opt_int){.set = true, .null = true};
	p.password_require_classes = (struct opt_int){.set = true, .null = true};
	p.password_max_age_days = (struct opt_int){.set = true, .null = true};
	p.password_history = (struct opt_int){.set = true, .null = true};
	p.password_hash.set = p.password_hash.null = true;
	fx_expect(tenants_update(f->core, &f->platform, tid, &p, &f->a, &t, &err), &err, RS_OK,
		  NULL);
	assert_int_equal(t.password.min_length, 12);
	assert_int_equal(t.password.max_length, 128);
	assert_int_equal(t.password.require_classes, 0);
	assert_int_equal(t.password.max_age_days, 0);
	assert_int_equal(t.password.history, 0);
	assert_int_equal(t.password.hash_m_kib, 19456);
	assert_int_equal(t.password.hash_t, 2);
	assert_int_equal(t.password.hash_p, 1);
	/* the change is audited, never with a password */
	assert_true(fx_sql_int(f, "SELECT count(*) FROM audit_events WHERE action = 'tenant.update'"
				  " AND changes LIKE '%password_history%'") >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_blocklist),
	    cmocka_unit_test(test_context),
	    cmocka_unit_test(test_classes),
	    cmocka_unit_test(test_history_and_age),
	    cmocka_unit_test_setup_teardown(test_settings, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
