/* crypto/password: every accepted format verified against fixtures made by independent tools,
 * PW_MATCH_REHASH for everything but the current argon2id, PW_UNSUPPORTED for garbage,
 * truncation and absurd costs; hash2 output checked by libargon2's own verifier; the pool. */
#include <argon2.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "crypto/password.h"
#include "crypto/password_int.h"

#define PW "correct horse battery staple"

/* Fixtures, each for the password PW, and the exact command that made it (Debian 12):
 *   argon2:  echo -n "$PW" | argon2 SALT -id|-i|-d -t T -k M -p P -l 32 -e [-v 10]
 *            (package argon2: the reference implementation's CLI)
 *   bcrypt:  htpasswd -nbB -C 5 u "$PW"  (apache2-utils, APR's own bcrypt). bcrypt's $2a$,
 *            $2b$ and $2y$ compute the same for ASCII passwords: the $2a$/$2b$ rows are the
 *            htpasswd output with its prefix relabelled.
 *   sha-crypt: openssl passwd -6 -salt Nfy3MFVc8oUwdhhT "$PW"; openssl passwd -5 -salt
 *            4nIL0E8zYcw9 "$PW" (OpenSSL's implementation, not libxcrypt's). The rounds=10000
 *            row: python3 -c 'import crypt; crypt.crypt(PW, "$6$rounds=10000$Rw2yxcBpzvRCU4cG$")'
 *   PBKDF2:  python3 hashlib.pbkdf2_hmac(alg, PW, bytes.fromhex(
 *            "a1b2c3d4e5f60718293a4b5c6d7e8f90"), iterations, dklen) written as passlib does
 *            (adapted base64: no padding, '.' for '+'); the Keycloak-style rows use the salt
 *            00112233445566778899aabbccddeeff, 27500 iterations, and standard base64 with
 *            padding, as Keycloak's secretData holds them (docs/passwords.md). */
static const struct fixture {
	const char *name, *hash;
	enum pw_verify want; /* for the right password, against PW_PARAMS_DEFAULT */
} fixtures[] = {
    {"argon2id current", /* argon2 saltsaltsaltsalt -id -t 2 -k 19456 -p 1 */
     "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$"
     "QKHrg5tayLGcN+Y0HVPNaBqykOVLUxlMkZycXE1uWRM",
     PW_MATCH},
    {"argon2id other parameters", /* argon2 saltsaltsaltsalt -id -t 1 -k 8192 -p 2 */
     "$argon2id$v=19$m=8192,t=1,p=2$c2FsdHNhbHRzYWx0c2FsdA$"
     "DKQJgl8HbTJQElLjl4hl4G/uOVK/lSz4ePwqhUgm/28",
     PW_MATCH_REHASH},
    {"argon2id version 1.0", /* argon2 oldversionsalt12 -id -t 2 -k 19456 -p 1 -v 10 */
     "$argon2id$v=16$m=19456,t=2,p=1$b2xkdmVyc2lvbnNhbHQxMg$"
     "aAYk6bjUNoZT0RwML2HxWOyjCCtfUdwFrqzEGtzt7Zg",
     PW_MATCH_REHASH},
    {"argon2i", /* argon2 somesaltsomesalt -i -t 3 -k 4096 -p 1 */
     "$argon2i$v=19$m=4096,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$"
     "3uXUGtziuIoIR4ZmpJ/YhXZ+Wrz3H2u6anCu/kWFBno",
     PW_MATCH_REHASH},
    {"argon2d", /* argon2 anothersaltvalue -d -t 2 -k 4096 -p 1 */
     "$argon2d$v=19$m=4096,t=2,p=1$YW5vdGhlcnNhbHR2YWx1ZQ$"
     "lpIn3x47LW9A4KhTTPja7dLNGIc9vIFAz3i8mc+LVK4",
     PW_MATCH_REHASH},
    {"bcrypt $2y$", "$2y$05$SmP9mm/ueAvBLm7JHsXdh.ZZ7Hu0w5VoI.6V9FgTbd2bIVdJ1Lni6",
     PW_MATCH_REHASH},
    {"bcrypt $2b$", "$2b$05$SmP9mm/ueAvBLm7JHsXdh.ZZ7Hu0w5VoI.6V9FgTbd2bIVdJ1Lni6",
     PW_MATCH_REHASH},
    {"bcrypt $2a$ cost 4", "$2a$04$My2eBGrHrxmIp1JLngiWaOvshnY4yv.As3.rkXOimYnqtsrKydGUK",
     PW_MATCH_REHASH},
    {"sha512-crypt",
     "$6$Nfy3MFVc8oUwdhhT$immqJrcAQlzfC2tRbYbTyFjSzP5YeTcyNxn6vvuIBhGctuLkThqv4"
     "thCkr2BcEim5ASOCNtBHMbxpbl1YCwA91",
     PW_MATCH_REHASH},
    {"sha512-crypt rounds",
     "$6$rounds=10000$Rw2yxcBpzvRCU4cG$duVG7OTQ5ADB00BI.S.JLc4uocZHdGVxIw"
     "PsuHyd/24x40cLE1pyRy/pKxByxZ7VEFngC8YZUkvarY0TzxnDE1",
     PW_MATCH_REHASH},
    {"sha256-crypt", "$5$4nIL0E8zYcw9$ce87KmBovt0sySrbZ8vZFHCVhzvECnrOQpNqFdAHTu9",
     PW_MATCH_REHASH},
    {"pbkdf2-sha256 (passlib)",
     "$pbkdf2-sha256$29000$obLD1OX2BxgpOktcbX6PkA$H6dAv2o/egKDUaOyCLSYQcoUgC0WOQwMUF5NIzKvQDw",
     PW_MATCH_REHASH},
    {"pbkdf2-sha512 (passlib)",
     "$pbkdf2-sha512$25000$obLD1OX2BxgpOktcbX6PkA$trOQj9JH85R7MJwpUGVjAiUwQYeRD71BfZjnGwJ/z5G/"
     "SjILPg9J0XGqgBqiVd8QZGOLPpqdsUBGmQtENbsM9g",
     PW_MATCH_REHASH},
    {"pbkdf2-sha1 (passlib)", "$pbkdf2$131000$obLD1OX2BxgpOktcbX6PkA$AMQsmpIG4tTwEtWE5HYbhEI7VF4",
     PW_MATCH_REHASH},
    {"pbkdf2-sha256 (Keycloak, 512-bit key)",
     "$pbkdf2-sha256$27500$ABEiM0RVZneImaq7zN3u/w==$Kcj/NLAl6EqspXUpEikoOvV9kJDqcze85qXNPwQVd8Hm"
     "AfFmCgmL7YdTjC8OfXRWHCPWqm5/ztF7Ga08D/4TLA==",
     PW_MATCH_REHASH},
    {"pbkdf2-sha256 (Keycloak, 256-bit key)",
     "$pbkdf2-sha256$27500$ABEiM0RVZneImaq7zN3u/w==$Kcj/NLAl6EqspXUpEikoOvV9kJDqcze85qXNPwQVd8E=",
     PW_MATCH_REHASH},
};

static void test_fixtures(void **state)
{
	struct pw_params def = PW_PARAMS_DEFAULT;

	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		const struct fixture *f = &fixtures[i];

		print_message("%s\n", f->name);
		assert_int_equal(crypto_password_check(f->hash, PW, &def), f->want);
		assert_int_equal(crypto_password_check(f->hash, PW "!", &def), PW_MISMATCH);
		assert_int_equal(crypto_password_check(f->hash, "", &def), PW_MISMATCH);
		assert_true(crypto_password_verify(f->hash, PW));
		assert_false(crypto_password_verify(f->hash, "Correct horse battery staple"));
	}
}

/* The argon2id fixture made with other parameters is current for a tenant that wants them. */
static void test_rehash_depends_on_want(void **state)
{
	struct pw_params other = {8192, 1, 2}, def = PW_PARAMS_DEFAULT;

	assert_int_equal(crypto_password_check(fixtures[1].hash, PW, &other), PW_MATCH);
	assert_int_equal(crypto_password_check(fixtures[0].hash, PW, &other), PW_MATCH_REHASH);
	assert_int_equal(crypto_password_check(fixtures[0].hash, PW, &def), PW_MATCH);
	assert_int_equal(crypto_password_check(fixtures[0].hash, PW, NULL), PW_MATCH_REHASH);
}

static void test_unsupported(void **state)
{
	static const char *const bad[] = {
	    "",
	    "x",
	    "$",
	    "$$$$",
	    "plaintext-password",
	    "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", /* md5-crypt: not accepted */
	    "$argon2id$",
	    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA",  /* no hash */
	    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$", /* empty hash */
	    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$QKHrg5tayLGcN+Y0HVPNaBqykOVLUx"
	    "lMkZycXE1uWRM$", /* trailing field */
	    "$argon2id$v=19$m=19456,t=2$c2FsdHNhbHRzYWx0c2FsdA$QKHrg5tayLGcN+Y0HVPNaBqykOVLUxlMk",
	    "$argon2id$v=18$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$QKHrg5tayLGcN+Y0HVPNaBqykOVLUx",
	    "$argon2id$v=19$m=19456,t=2,p=1$c2Fs$QKHrg5tayLGcN+Y0HVPNaBqykOVLUxlMkZycXE1uWRM",
	    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRz*Wx0c2FsdA$QKHrg5tayLGcN+Y0HVPNaBqykOVLU",
	    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA==$QKHrg5tayLGcN+Y0HVPNaBqykOVL",
	    /* absurd costs: 4 GiB, a million passes, 255 lanes, more than the work bound */
	    "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$QKHrg5tayLGcN+Y0HVPNaBqykOVLU",
	    "$argon2id$v=19$m=19456,t=1000000,p=1$c2FsdHNhbHRzYWx0c2FsdA$QKHrg5tayLGcN+Y0HVPNaBqyk",
	    "$argon2id$v=19$m=19456,t=2,p=255$c2FsdHNhbHRzYWx0c2FsdA$QKHrg5tayLGcN+Y0HVPNaBqykOVLU",
	    "$argon2id$v=19$m=262144,t=16,p=1$c2FsdHNhbHRzYWx0c2FsdA$QKHrg5tayLGcN+Y0HVPNaBqykOVLU",
	    "$argon2id$v=19$m=99999999999,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$QKHrg5tayLGcN+Y0HVPNaBqy",
	    "$argon2id$v=19$m=4,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$QKHrg5tayLGcN+Y0HVPNaBqykOVLUxlMkZ",
	    "$2b$05$SmP9mm/ueAvBLm7JHsXdh.ZZ7Hu0w5VoI.6V9FgTbd2bIVdJ1Lni",   /* truncated */
	    "$2b$31$SmP9mm/ueAvBLm7JHsXdh.ZZ7Hu0w5VoI.6V9FgTbd2bIVdJ1Lni6",  /* cost 2^31 */
	    "$2b$03$SmP9mm/ueAvBLm7JHsXdh.ZZ7Hu0w5VoI.6V9FgTbd2bIVdJ1Lni6",  /* below 4 */
	    "$2x$05$SmP9mm/ueAvBLm7JHsXdh.ZZ7Hu0w5VoI.6V9FgTbd2bIVdJ1Lni6",  /* buggy variant */
	    "$2b$05$SmP9mm/ueAvBLm7JHsXdh.ZZ7Hu0w5VoI.6V9FgTbd2bIVdJ1Lni6!", /* too long */
	    "$6$Nfy3MFVc8oUwdhhT$immqJrcAQlzfC2tRbYbTyFjSzP5YeTcyNxn6vvuIBhGctuLkThqv4thCkr2BcEim5",
	    "$6$rounds=999999999$Rw2yxcBpzvRCU4cG$duVG7OTQ5ADB00BI.S.JLc4uocZHdGVxIwPsuHyd/24x40cLE"
	    "1pyRy/pKxByxZ7VEFngC8YZUkvarY0TzxnDE1",
	    "$6$rounds=10$Rw2yxcBpzvRCU4cG$duVG7OTQ5ADB00BI.S.JLc4uocZHdGVxIwPsuHyd/24x40cLE1pyRy/p"
	    "KxByxZ7VEFngC8YZUkvarY0TzxnDE1",
	    "$5$4nIL0E8zYcw9$ce87KmBovt0sySrbZ8vZFHCVhzvECnrOQpNqFdAHTu",
	    "$pbkdf2-sha256$29000$obLD1OX2BxgpOktcbX6PkA$",
	    "$pbkdf2-sha256$29000$obLD1OX2BxgpOktcbX6PkA$H6dAv2o",
	    "$pbkdf2-sha256$0$obLD1OX2BxgpOktcbX6PkA$H6dAv2o/egKDUaOyCLSYQcoUgC0WOQwMUF5NIzKvQDw",
	    "$pbkdf2-sha256$4000000000$obLD1OX2BxgpOktcbX6PkA$H6dAv2o/egKDUaOyCLSYQcoUgC0WOQwMUF5",
	    "$pbkdf2-sha384$29000$obLD1OX2BxgpOktcbX6PkA$H6dAv2o/egKDUaOyCLSYQcoUgC0WOQwMUF5NIzKvQ",
	    "$pbkdf2-sha256$29000$obLD1OX2BxgpOktcbX6PkA===$H6dAv2o/egKDUaOyCLSYQcoUgC0WOQwMUF5NIz",
	    "$pbkdf2-sha256$-5$obLD1OX2BxgpOktcbX6PkA$H6dAv2o/egKDUaOyCLSYQcoUgC0WOQwMUF5NIzKvQDw",
	};
	struct pw_params def = PW_PARAMS_DEFAULT;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i]);
		assert_int_equal(crypto_password_check(bad[i], PW, &def), PW_UNSUPPORTED);
		assert_false(crypto_password_verify(bad[i], PW));
	}
	assert_int_equal(crypto_password_check(NULL, PW, &def), PW_UNSUPPORTED);
	/* Every prefix of every fixture that lacks its hash field is refused by the parser (a
	 * shortened hash field may parse: PBKDF2's output is a prefix of its longer output, so a
	 * truncated PBKDF2 hash still verifies, which is harmless: whoever can shorten a stored
	 * hash can replace it). bcrypt and sha-crypt have fixed lengths: every prefix fails. */
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		const char *h = fixtures[i].hash;
		size_t n = strlen(h), stop = (size_t)(strrchr(h, '$') - h) + 1;
		char buf[256];

		if (h[1] == '2' || h[1] == '5' || h[1] == '6')
			stop = n;
		for (size_t k = 0; k < stop; k++) {
			struct pw_parsed ph;

			memcpy(buf, h, k);
			buf[k] = '\0';
			assert_false(crypto_pw_parse(buf, &ph));
		}
	}
}

static void test_hash2(void **state)
{
	struct pw_params def = PW_PARAMS_DEFAULT, small = {PW_M_KIB_MIN, 1, 2};
	char h1[CRYPTO_PASSWORD_HASH_MAX], h2[CRYPTO_PASSWORD_HASH_MAX];

	assert_true(crypto_password_encoded_max() <= CRYPTO_PASSWORD_HASH_MAX);
	assert_true(crypto_password_hash2(PW, &def, h1, sizeof(h1)));
	assert_int_equal(strncmp(h1, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
	/* libargon2's own decoder and verifier accept what we encoded */
	assert_int_equal(argon2id_verify(h1, PW, strlen(PW)), ARGON2_OK);
	assert_int_equal(argon2id_verify(h1, "wrong", 5), ARGON2_VERIFY_MISMATCH);
	assert_int_equal(crypto_password_check(h1, PW, &def), PW_MATCH);
	assert_int_equal(crypto_password_check(h1, "wrong", &def), PW_MISMATCH);
	assert_int_equal(crypto_password_check(h1, PW, &small), PW_MATCH_REHASH);
	/* random salt: two hashes of one password differ */
	assert_true(crypto_password_hash2(PW, &def, h2, sizeof(h2)));
	assert_string_not_equal(h1, h2);
	/* other parameters, as written */
	assert_true(crypto_password_hash2(PW, &small, h2, sizeof(h2)));
	assert_int_equal(strncmp(h2, "$argon2id$v=19$m=7168,t=1,p=2$", 30), 0);
	assert_int_equal(argon2id_verify(h2, PW, strlen(PW)), ARGON2_OK);
	assert_int_equal(crypto_password_check(h2, PW, &small), PW_MATCH);
	/* the old interface */
	assert_true(crypto_password_hash(PW, h2, sizeof(h2)));
	assert_true(crypto_password_verify(h2, PW));
	/* refused: out of bounds, buffer too small */
	assert_false(crypto_password_hash2(PW, &(struct pw_params){1024, 2, 1}, h2, sizeof(h2)));
	assert_false(crypto_password_hash2(PW, &(struct pw_params){19456, 0, 1}, h2, sizeof(h2)));
	assert_false(crypto_password_hash2(PW, &(struct pw_params){19456, 2, 64}, h2, sizeof(h2)));
	assert_false(
	    crypto_password_hash2(PW, &(struct pw_params){1u << 30, 2, 1}, h2, sizeof(h2)));
	assert_false(crypto_password_hash2(PW, &def, h2, 64));
	assert_false(crypto_password_hash2(PW, NULL, h2, sizeof(h2)));
	/* empty and non-ASCII passwords hash and verify */
	assert_true(crypto_password_hash2("", &small, h2, sizeof(h2)));
	assert_int_equal(crypto_password_check(h2, "", &small), PW_MATCH);
	assert_true(
	    crypto_password_hash2("p\xc3\xa4ssw\xc3\xb6rd \xe2\x82\xac", &small, h2, sizeof(h2)));
	assert_int_equal(crypto_password_check(h2, "p\xc3\xa4ssw\xc3\xb6rd \xe2\x82\xac", &small),
			 PW_MATCH);
}

static void test_parse_round_trip(void **state)
{
	for (size_t i = 0; i < 5; i++) { /* the argon2 fixtures */
		struct pw_parsed ph;
		char out[256];

		assert_true(crypto_pw_parse(fixtures[i].hash, &ph));
		assert_true(crypto_pw_argon2_encode(&ph, out, sizeof(out)));
		assert_string_equal(out, fixtures[i].hash);
	}
}

static void test_b64(void **state)
{
	unsigned char out[16];
	size_t n = 0;

	assert_true(crypto_pw_b64_decode("YQ", 2, false, out, sizeof(out), &n));
	assert_int_equal(n, 1);
	assert_true(crypto_pw_b64_decode("YQ==", 4, false, out, sizeof(out), &n));
	assert_int_equal(n, 1);
	assert_false(crypto_pw_b64_decode("YQ=", 3, false, out, sizeof(out), &n));
	assert_false(crypto_pw_b64_decode("Y", 1, false, out, sizeof(out), &n));
	assert_false(crypto_pw_b64_decode("YQ.=", 4, false, out, sizeof(out), &n));
	assert_true(crypto_pw_b64_decode("+/8.", 4, true, out, sizeof(out), &n));
	assert_int_equal(n, 3);
	assert_false(crypto_pw_b64_decode("=", 1, false, out, sizeof(out), &n));
	assert_false(crypto_pw_b64_decode("AAAAAAAAAAAAAAAAAAAAAAAA", 24, false, out, 16, &n));
}

static void test_dummy(void **state)
{
	struct pw_params small = {PW_M_KIB_MIN, 1, 1};

	/* runs (and so costs) without a hash; out-of-bounds parameters fall back to the default */
	crypto_password_dummy(PW, &small);
	crypto_password_dummy(NULL, NULL);
}

static void *hash_thread(void *arg)
{
	struct pw_params small = {PW_M_KIB_MIN, 1, 1};
	char h[CRYPTO_PASSWORD_HASH_MAX];
	bool *ok = arg;

	*ok = crypto_password_hash2(PW, &small, h, sizeof(h)) &&
	      crypto_password_check(h, PW, &small) == PW_MATCH;
	return NULL;
}

/* One slot and six threads: they queue, and all finish. */
static void test_pool(void **state)
{
	pthread_t th[6];
	bool ok[6] = {false};

	crypto_password_slots(1);
	for (int i = 0; i < 6; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hash_thread, &ok[i]), 0);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_true(ok[i]);
	}
	crypto_password_slots(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixtures),
	    cmocka_unit_test(test_rehash_depends_on_want),
	    cmocka_unit_test(test_unsupported),
	    cmocka_unit_test(test_hash2),
	    cmocka_unit_test(test_parse_round_trip),
	    cmocka_unit_test(test_b64),
	    cmocka_unit_test(test_dummy),
	    cmocka_unit_test(test_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
