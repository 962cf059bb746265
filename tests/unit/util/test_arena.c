/* util/arena: alignment, zeroing, big one-off blocks, the cap, release and reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/arena.h"
#include "util/limits.h"

static void test_alloc_aligned_zeroed(void **state)
{
	struct arena a;

	arena_init(&a, 0);
	assert_int_equal(a.cap, RS_ARENA_MAX);
	for (size_t n = 1; n < 200; n += 7) {
		unsigned char *p = arena_alloc(&a, n);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(p[i], 0);
		memset(p, 0xab, n);
	}
	arena_release(&a);
	assert_null(a.head);
	assert_int_equal(a.used_total, 0);
}

static void test_big_blocks_keep_room(void **state)
{
	struct arena a;
	char *small1, *big, *small2;

	arena_init(&a, 0);
	small1 = arena_alloc(&a, 10);
	big = arena_alloc(&a, 100000);
	small2 = arena_alloc(&a, 10);
	assert_non_null(small1);
	assert_non_null(big);
	assert_non_null(small2);
	memset(big, 1, 100000);
	/* The small one still comes from the first block, right after small1. */
	assert_ptr_equal(small2, small1 + 16);
	arena_release(&a);
}

static void test_cap(void **state)
{
	struct arena a;

	arena_init(&a, 100);
	assert_non_null(arena_alloc(&a, 64));
	assert_non_null(arena_alloc(&a, 32));
	assert_null(arena_alloc(&a, 16));	/* 96 used, 16 more would be 112 > 100 */
	assert_null(arena_alloc(&a, 4));	/* rounded up to 16 as well */
	assert_null(arena_alloc(&a, SIZE_MAX)); /* overflow of the rounding */
	assert_null(arena_strdup(&a, "this string is far too long for what is left"));
	arena_release(&a);
	/* Reusable after release, with the same cap. */
	assert_non_null(arena_alloc(&a, 96));
	assert_null(arena_alloc(&a, 5));
	arena_release(&a);
}

static void test_strings(void **state)
{
	struct arena a;

	arena_init(&a, 0);
	assert_string_equal(arena_strdup(&a, "abc"), "abc");
	assert_null(arena_strdup(&a, NULL));
	assert_string_equal(arena_strndup(&a, "abcdef", 3), "abc");
	assert_string_equal(arena_printf(&a, "%s-%d", "x", 42), "x-42");
	assert_string_equal(arena_printf(&a, "%s", ""), "");
	arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alloc_aligned_zeroed),
	    cmocka_unit_test(test_big_blocks_keep_room),
	    cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests_name("util_arena", tests, NULL, NULL);
}
