/* util/timeutil: RFC 3339 formatting and parsing, offsets, fractions, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/timeutil.h"

static void test_format(void **state)
{
	static const struct {
		int64_t ms;
		const char *s;
	} t[] = {
	    {0, "1970-01-01T00:00:00Z"},
	    {999, "1970-01-01T00:00:00Z"}, /* seconds precision, truncated */
	    {1795356000000LL, "2026-11-22T14:00:00Z"},
	    {951782400000LL, "2000-02-29T00:00:00Z"},
	    {253402300799000LL, "9999-12-31T23:59:59Z"},
	};
	char out[TIME_STR_LEN];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		time_format(t[i].ms, out);
		assert_string_equal(out, t[i].s);
	}
}

static void test_parse(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} t[] = {
	    {"1970-01-01T00:00:00Z", 0},
	    {"2026-11-22T14:00:00Z", 1795356000000LL},
	    {"2026-11-22t14:00:00z", 1795356000000LL},
	    {"2026-11-22T15:00:00+01:00", 1795356000000LL},
	    {"2026-11-22T09:30:00-04:30", 1795356000000LL},
	    {"2026-11-22T14:00:00.5Z", 1795356000500LL},
	    {"2026-11-22T14:00:00.123Z", 1795356000123LL},
	    {"2026-11-22T14:00:00.123456Z", 1795356000123LL},
	    {"2000-02-29T00:00:00Z", 951782400000LL},
	    {"1969-12-31T23:59:59Z", -1000},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t ms = -42;

		assert_true(time_parse(t[i].s, &ms));
		assert_true(ms == t[i].ms);
	}
}

static void test_parse_malformed(void **state)
{
	static const char *const bad[] = {
	    "2026-02-30T00:00:00Z", /* no 30th of February */
	    "2026-11-31T00:00:00Z", /* November has 30 days */
	    "2025-02-29T00:00:00Z", /* not a leap year */
	    "2026-11-22T14:00:60Z", /* leap seconds are not accepted */
	    "",
	    "2026-11-22",
	    "2026-11-22T14:00:00",  /* no zone */
	    "2026-11-22 14:00:00Z", /* space separator */
	    "2026-13-22T14:00:00Z", /* month */
	    "2026-00-22T14:00:00Z",
	    "2026-11-00T14:00:00Z",
	    "2026-11-32T14:00:00Z",
	    "2026-11-22T24:00:00Z",
	    "2026-11-22T14:60:00Z",
	    "2026-11-22T14:00:61Z",
	    "2026-11-22T14:00:00.Z",	/* empty fraction */
	    "2026-11-22T14:00:00+0100", /* offset without colon */
	    "2026-11-22T14:00:00+01",
	    "2026-11-22T14:00:00+24:00",
	    "2026-11-22T14:00:00+01:60",
	    "2026-11-22T14:00:00Zjunk",
	    "2026-11-22T14:00:00+01:00x",
	    "26-11-22T14:00:00Z",
	    "2026/11/22T14:00:00Z",
	    "2026-1a-22T14:00:00Z",
	    "2026-11-22T14:00:00+",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = 7;

		if (time_parse(bad[i], &ms))
			fail_msg("accepted '%s'", bad[i]);
		assert_true(ms == 7);
	}
}

static void test_roundtrip(void **state)
{
	char out[TIME_STR_LEN];

	for (int64_t ms = 0; ms < 4102444800000LL; ms += 86399000LL * 37) {
		int64_t back;

		time_format(ms, out);
		assert_true(time_parse(out, &back));
		assert_true(back == ms - ms % 1000);
	}
}

static void test_clocks(void **state)
{
	int64_t a = time_mono_ns(), b = time_mono_ns();

	assert_true(b >= a);
	assert_true(time_now_ms() > 1600000000000LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format),	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_parse_malformed), cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_clocks),
	};

	return cmocka_run_group_tests_name("util_timeutil", tests, NULL, NULL);
}
