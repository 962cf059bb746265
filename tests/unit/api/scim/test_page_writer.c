/* api/scim/user_stream: the page writer (scim_page_writer_*), which writes a ListResponse while
 * the core hands it chunks of users. Whatever the chunks (in order, none, restarted by a
 * transaction run again, too many, not covering the page) and with or without its helper
 * thread, the text is the ListResponse of exactly the users finish() is given, each the
 * resource scim_user_render() builds; and a writer freed unfinished stops its helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/scim/user_map.h"
#include "api/scim/user_stream.h"

#define HEAD "{\"schemas\":[\"x\"],\"Resources\":["

/* n users in a, all different, some with names and lists so that chunks differ in length. */
static struct user *users_make(struct arena *a, int n, const char *tag)
{
	struct user *u = arena_alloc(a, sizeof(*u) * (size_t)(n ? n : 1));

	assert_non_null(u);
	for (int i = 0; i < n; i++) {
		u[i].tenant_id = "t";
		u[i].id = arena_printf(a, "01a2%s-%04d-7000-8000-000000000000", tag, i);
		u[i].username = arena_printf(a, "%s-user-%d", tag, i);
		u[i].status = i % 5 ? "active" : "deactivated";
		u[i].type = "standard";
		u[i].custom_attributes = "{}";
		u[i].created_at = 1790000000000 + i;
		u[i].updated_at = 1790000000000 + 2 * i;
		u[i].version = i + 1;
		if (i % 3 == 0) {
			u[i].first_name = "G\xc3\xa9 \"q\"";
			u[i].last_name = arena_printf(a, "F\\%d", i);
		}
		if (i % 4 == 1)
			u[i].email = arena_printf(a, "u%d@example.com", i);
		u[i].system_role.name = "User";
	}
	return u;
}

/* The writer's text is the ListResponse of items[0..n): HEAD's fields, then each user as
 * scim_user_render() builds it, in order. */
static void check_page(const char *text, size_t len, const struct user *items, int n)
{
	struct arena a;
	json_error_t e;
	json_t *doc = json_loadb(text, len, 0, &e), *res;

	assert_non_null(doc);
	assert_int_equal(strlen(text), len);
	res = json_object_get(doc, "Resources");
	assert_true(json_is_array(res));
	assert_int_equal(json_array_size(res), n);
	arena_init(&a, 0);
	for (int i = 0; i < n; i++) {
		json_t *want = scim_user_render(&a, &items[i]);

		assert_true(json_equal(json_array_get(res, (size_t)i), want));
		json_decref(want);
	}
	arena_release(&a);
	json_decref(doc);
}

/* Feeds chunks [b[k], b[k+1]) of items, then finishes with items[0..n). */
static void run(bool helper, const struct user *items, const int *b, int nb, int n)
{
	struct arena a;
	struct scim_page_writer *w;
	size_t len = 0;
	char *out;

	arena_init(&a, 0);
	w = scim_page_writer_new(&a, helper);
	assert_non_null(w);
	for (int k = 0; k + 1 < nb; k++)
		scim_page_writer_users(w, items, b[k], b[k + 1]);
	out = scim_page_writer_finish(w, &a, HEAD, strlen(HEAD), items, n, &len);
	assert_non_null(out);
	check_page(out, len, items, n);
	arena_release(&a);
}

static void test_chunks_in_order(void **state)
{
	struct arena a;
	struct user *u;
	int b[] = {0, 50, 100, 150, 173};

	(void)state;
	arena_init(&a, 0);
	u = users_make(&a, 173, "a");
	run(true, u, b, 5, 173);
	run(false, u, b, 5, 173); /* no helper: the caller writes every chunk */
	arena_release(&a);
}

static void test_no_chunks_writes_the_page_whole(void **state)
{
	struct arena a;
	struct user *u;

	(void)state;
	arena_init(&a, 0);
	u = users_make(&a, 9, "b");
	run(false, u, NULL, 0, 9);
	run(true, u, NULL, 0, 9);
	run(true, u, NULL, 0, 0); /* an empty page */
	arena_release(&a);
}

static void test_chunks_that_do_not_cover_the_page(void **state)
{
	struct arena a;
	struct user *u;
	int part[] = {0, 3};
	int gap[] = {0, 3, 5}; /* then 6..9: 5..6 missing */
	int once[] = {0, 4};

	(void)state;
	arena_init(&a, 0);
	u = users_make(&a, 9, "c");
	run(true, u, part, 2, 9);
	run(true, u, once, 2, 2); /* more read than the page keeps (count 0, or the extra row) */
	{
		struct scim_page_writer *w = scim_page_writer_new(&a, true);
		size_t len = 0;
		char *out;

		assert_non_null(w);
		for (int k = 0; k + 1 < 3; k++)
			scim_page_writer_users(w, u, gap[k], gap[k + 1]);
		scim_page_writer_users(w, u, 6, 9);
		out = scim_page_writer_finish(w, &a, HEAD, strlen(HEAD), u, 9, &len);
		assert_non_null(out);
		check_page(out, len, u, 9);
	}
	arena_release(&a);
}

/* The store ran the read again: chunks start over at 0 with another items array. */
static void test_restarted_read(void **state)
{
	struct arena a;
	struct user *first, *second;
	struct scim_page_writer *w;
	size_t len = 0;
	char *out;

	(void)state;
	arena_init(&a, 0);
	first = users_make(&a, 120, "d");
	second = users_make(&a, 80, "e");
	w = scim_page_writer_new(&a, true);
	assert_non_null(w);
	scim_page_writer_users(w, first, 0, 50);
	scim_page_writer_users(w, first, 50, 100);
	scim_page_writer_users(w, second, 0, 50);
	scim_page_writer_users(w, second, 50, 80);
	out = scim_page_writer_finish(w, &a, HEAD, strlen(HEAD), second, 80, &len);
	assert_non_null(out);
	check_page(out, len, second, 80);
	arena_release(&a);
}

static void test_more_chunks_than_the_writer_holds(void **state)
{
	struct arena a;
	struct user *u;
	int b[101];

	(void)state;
	arena_init(&a, 0);
	u = users_make(&a, 100, "f");
	for (int i = 0; i <= 100; i++)
		b[i] = i;
	run(true, u, b, 101, 100);
	arena_release(&a);
}

/* A list that failed after chunks came: the writer is freed unfinished, its helper stopped. */
static void test_freed_unfinished(void **state)
{
	struct arena a;
	struct user *u;

	(void)state;
	arena_init(&a, 0);
	u = users_make(&a, 200, "g");
	for (int round = 0; round < 20; round++) {
		struct scim_page_writer *w = scim_page_writer_new(&a, true);

		assert_non_null(w);
		scim_page_writer_users(w, u, 0, 100);
		if (round % 2)
			scim_page_writer_users(w, u, 100, 200);
		scim_page_writer_free(w);
	}
	arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chunks_in_order),
	    cmocka_unit_test(test_no_chunks_writes_the_page_whole),
	    cmocka_unit_test(test_chunks_that_do_not_cover_the_page),
	    cmocka_unit_test(test_restarted_read),
	    cmocka_unit_test(test_more_chunks_than_the_writer_holds),
	    cmocka_unit_test(test_freed_unfinished),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
