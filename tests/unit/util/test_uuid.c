/* util/uuid: UUIDv7 layout (version, variant, timestamp), ordering within and across
 * milliseconds, and validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/uuid.h"

static int64_t uuid_ms(const char *u)
{
	char hex[13];

	memcpy(hex, u, 8);
	memcpy(hex + 8, u + 9, 4);
	hex[12] = '\0';
	return (int64_t)strtoll(hex, NULL, 16);
}

static void test_layout(void **state)
{
	char u[UUID_STR_LEN];

	assert_true(uuid7_new(1795356000000LL, u));
	assert_int_equal(strlen(u), 36);
	assert_true(uuid_valid(u));
	assert_int_equal(u[14], '7');		/* version */
	assert_non_null(strchr("89ab", u[19])); /* variant 10xx */
	assert_true(uuid_ms(u) == 1795356000000LL);
}

static void test_ordering(void **state)
{
	char prev[UUID_STR_LEN], cur[UUID_STR_LEN];

	/* Same millisecond, many ids: strictly increasing (counter), past the 12-bit counter. */
	assert_true(uuid7_new(1800000000000LL, prev));
	for (int i = 0; i < 10000; i++) {
		assert_true(uuid7_new(1800000000000LL, cur));
		assert_true(uuid_valid(cur));
		if (strcmp(prev, cur) >= 0)
			fail_msg("not increasing: %s then %s", prev, cur);
		memcpy(prev, cur, sizeof(cur));
	}
	/* A later millisecond sorts after; a clock step back never goes backwards. */
	assert_true(uuid7_new(1900000000000LL, cur));
	assert_true(strcmp(prev, cur) < 0);
	memcpy(prev, cur, sizeof(cur));
	assert_true(uuid7_new(1000, cur));
	assert_true(strcmp(prev, cur) < 0);
}

static void test_valid(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} t[] = {
	    {"01890a5d-ac96-774b-bcce-b302099a8057", true},
	    {"01890A5D-AC96-774B-BCCE-B302099A8057", true},
	    {"01890a5d-ac96-774b-bcce-b302099a805", false},
	    {"01890a5d-ac96-774b-bcce-b302099a80577", false},
	    {"01890a5dac96-774b-bcce-b302099a8057-", false},
	    {"01890a5d-ac96-774b-bcce-b302099a805g", false},
	    {"", false},
	    {"01890a5d_ac96_774b_bcce_b302099a8057", false},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(uuid_valid(t[i].s), t[i].ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_ordering),
	    cmocka_unit_test(test_valid),
	};

	return cmocka_run_group_tests_name("util_uuid", tests, NULL, NULL);
}
