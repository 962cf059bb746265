/* util/str: ASCII lower-casing, text validation, bounded copies, integer parsing. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "util/str.h"

static void test_lower(void **state)
{
	static const struct {
		const char *in, *out;
	} t[] = {
	    {"", ""},
	    {"ABC xyz", "abc xyz"},
	    {"MiXeD-09_@Z", "mixed-09_@z"},
	    {"\xc3\x89LODIE", "\xc3\x89lodie"}, /* non-ASCII kept as is */
	    {"[\\]^`{", "[\\]^`{"},		/* neighbours of the letter ranges */
	    {"@AZ[", "@az["},
	};
	struct arena a;

	arena_init(&a, 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(str_lower(&a, t[i].in), t[i].out);
	assert_null(str_lower(&a, NULL));
	arena_release(&a);
}

static void test_weak_etag(void **state)
{
	struct arena a;

	(void)state;
	arena_init(&a, 0);
	assert_string_equal(str_weak_etag(&a, 0), "W/\"0\"");
	assert_string_equal(str_weak_etag(&a, 7), "W/\"7\"");
	assert_string_equal(str_weak_etag(&a, 1234567890123LL), "W/\"1234567890123\"");
	assert_string_equal(str_weak_etag(&a, INT64_MAX), "W/\"9223372036854775807\"");
	arena_release(&a);
}

static void test_valid_text(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} t[] = {
	    {"", true},
	    {"hello world", true},
	    {"caf\xc3\xa9", true},
	    {"\xe2\x82\xac", true},	/* U+20AC */
	    {"\xf0\x9f\x98\x80", true}, /* U+1F600 */
	    {"tab\there", false},
	    {"nl\n", false},
	    {"del\x7f", false},
	    {"\xc3", false},		 /* truncated */
	    {"\xc0\xaf", false},	 /* overlong */
	    {"\xe0\x80\xaf", false},	 /* overlong */
	    {"\xed\xa0\x80", false},	 /* surrogate */
	    {"\xf4\x90\x80\x80", false}, /* > U+10FFFF */
	    {"\xff", false},
	    {"\x80", false},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(str_valid_text(t[i].s), t[i].ok);
}

static void test_copy(void **state)
{
	char buf[4];

	assert_true(str_copy(buf, sizeof(buf), "abc"));
	assert_string_equal(buf, "abc");
	assert_false(str_copy(buf, sizeof(buf), "abcd"));
	assert_string_equal(buf, "abc");
	assert_true(str_copy(buf, sizeof(buf), ""));
	assert_string_equal(buf, "");
	assert_false(str_copy(buf, 0, "x"));
	assert_false(str_copy(buf, 1, "x"));
	assert_string_equal(buf, "");
}

static void test_to_ll(void **state)
{
	static const struct {
		const char *s;
		long long min, max;
		bool ok;
		long long v;
	} t[] = {
	    {"0", 0, 10, true, 0},
	    {"10", 0, 10, true, 10},
	    {"11", 0, 10, false, 0},
	    {"-5", -10, 10, true, -5},
	    {"-5", 0, 10, false, 0},
	    {"", 0, 10, false, 0},
	    {" 1", 0, 10, false, 0},
	    {"+1", 0, 10, false, 0},
	    {"1 ", 0, 10, false, 0},
	    {"1x", 0, 10, false, 0},
	    {"0x10", 0, 100, false, 0},
	    {"9223372036854775807", 0, LLONG_MAX, true, LLONG_MAX},
	    {"9223372036854775808", 0, LLONG_MAX, false, 0},
	    {"-9223372036854775809", LLONG_MIN, 0, false, 0},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		long long v = 12345;

		assert_int_equal(str_to_ll(t[i].s, t[i].min, t[i].max, &v), t[i].ok);
		if (t[i].ok)
			assert_true(v == t[i].v);
		else
			assert_true(v == 12345); /* untouched on failure */
	}
	assert_false(str_to_ll(NULL, 0, 1, &(long long){0}));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lower),
	    cmocka_unit_test(test_weak_etag),
	    cmocka_unit_test(test_valid_text),
	    cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_to_ll),
	};

	return cmocka_run_group_tests_name("util_str", tests, NULL, NULL);
}
