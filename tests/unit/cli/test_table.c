/* Unit tests for src/cli/table.c and output.c: table layout, value rendering, sanitising. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cli/cli_int.h"

/* A FILE writing to memory, and the text written so far. */
struct capture {
	FILE *f;
	char *text;
	size_t len;
};

static void capture_open(struct capture *c)
{
	c->text = NULL;
	c->len = 0;
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
}

/* Closes the stream; c->text then holds everything written (caller frees). */
static void capture_close(struct capture *c)
{
	assert_int_equal(fclose(c->f), 0);
}

static void test_width(void **state)
{
	(void)state;
	assert_int_equal(table_width(""), 0);
	assert_int_equal(table_width("abc"), 3);
	assert_int_equal(table_width("Zoë"), 3);
	assert_int_equal(table_width("日本"), 2); /* code points; wide glyphs count once */
}

static void test_layout(void **state)
{
	static const char *const headers[] = {"ID", "NAME", "STATUS"};
	const char *r1[] = {"1", "alice", "active"};
	const char *r2[] = {"22222", "Zoë", NULL};
	struct capture c;
	struct cli_err err = {0};
	struct table t;

	(void)state;
	table_init(&t, 3, headers);
	assert_true(table_add_row(&t, r1));
	assert_true(table_add_row(&t, r2));
	capture_open(&c);
	assert_int_equal(table_print(&t, c.f, &err), CLI_OK);
	capture_close(&c);
	/* Two spaces between columns, widths by characters, no padding after the last. */
	assert_string_equal(c.text, "ID     NAME   STATUS\n"
				    "1      alice  active\n"
				    "22222  Zoë    -\n");
	free(c.text);
	table_release(&t);
}

static void test_header_only(void **state)
{
	static const char *const headers[] = {"ID", "NAME"};
	struct capture c;
	struct cli_err err = {0};
	struct table t;

	(void)state;
	table_init(&t, 2, headers);
	capture_open(&c);
	assert_int_equal(table_print(&t, c.f, &err), CLI_OK);
	capture_close(&c);
	assert_string_equal(c.text, "ID  NAME\n");
	free(c.text);
	table_release(&t);
}

static void test_control_characters_are_replaced(void **state)
{
	static const char *const headers[] = {"A", "B"};
	const char *r[] = {"x\x1b[31mred\n", "c1:\xc2\x9b!"};
	struct capture c;
	struct cli_err err = {0};
	struct table t;

	(void)state;
	table_init(&t, 2, headers);
	assert_true(table_add_row(&t, r));
	capture_open(&c);
	assert_int_equal(table_print(&t, c.f, &err), CLI_OK);
	capture_close(&c);
	assert_string_equal(c.text, "A           B\n"
				    "x?[31mred?  c1:?!\n");
	free(c.text);
	table_release(&t);
}

static void test_many_rows(void **state)
{
	static const char *const headers[] = {"N"};
	struct capture c;
	struct cli_err err = {0};
	struct table t;
	char n[16];
	const char *r[] = {n};

	(void)state;
	table_init(&t, 1, headers);
	for (int i = 0; i < 1000; i++) {
		(void)snprintf(n, sizeof(n), "%d", i);
		assert_true(table_add_row(&t, r));
	}
	capture_open(&c);
	assert_int_equal(table_print(&t, c.f, &err), CLI_OK);
	capture_close(&c);
	assert_int_equal(c.len, 2 + 10 * 2 + 90 * 3 + 900 * 4);
	free(c.text);
	table_release(&t);
}

static void test_out_value(void **state)
{
	static const struct {
		const char *json;
		enum out_mode mode;
		const char *text;
	} cases[] = {
	    {"null", OUT_BRIEF, "-"},
	    {"\"x\"", OUT_BRIEF, "x"},
	    {"42", OUT_FULL, "42"},
	    {"true", OUT_BRIEF, "true"},
	    {"[]", OUT_FULL, "-"},
	    {"{}", OUT_FULL, "{}"},
	    {"[\"a\",\"b\"]", OUT_BRIEF, "a,b"},
	    {"[\"a\",\"b\"]", OUT_FULL, "a, b"},
	    {"{\"id\":\"r1\",\"name\":\"admin\",\"rank\":900}", OUT_BRIEF, "admin"},
	    {"{\"id\":\"r1\",\"name\":\"admin\",\"rank\":900}", OUT_FULL, "admin (rank 900, r1)"},
	    {"[{\"id\":\"g\",\"name\":\"ops\"},{\"id\":\"h\",\"name\":\"dev\"}]", OUT_FULL,
	     "ops (g), dev (h)"},
	    {"{\"id\":\"u1\",\"username\":\"alice\"}", OUT_FULL, "alice (u1)"},
	    {"{\"type\":\"user\",\"id\":\"u1\"}", OUT_BRIEF, "user:u1"},
	    {"{\"type\":\"system\",\"id\":null,\"name\":null}", OUT_FULL, "system"},
	    {"{\"team\":\"red\"}", OUT_FULL, "{\"team\":\"red\"}"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		struct buf b;

		assert_non_null(v);
		buf_init(&b, 1024);
		out_value(v, cases[i].mode, &b);
		assert_string_equal(buf_cstr(&b), cases[i].text);
		buf_release(&b);
		json_decref(v);
	}
}

static void test_out_lookup(void **state)
{
	json_t *o = json_loads("{\"a\":{\"b\":{\"c\":1}},\"x\":2}", 0, NULL);

	(void)state;
	assert_int_equal(json_integer_value(out_lookup(o, "a.b.c")), 1);
	assert_int_equal(json_integer_value(out_lookup(o, "x")), 2);
	assert_null(out_lookup(o, "x.y"));
	assert_null(out_lookup(o, "nope"));
	json_decref(o);
}

static void test_out_table_and_object(void **state)
{
	static const struct out_column cols[] = {
	    {"ID", "id", NULL},
	    {"ROLE", "role.name", NULL},
	    {"ROLES", "roles", NULL},
	};
	json_t *items = json_loads("[{\"id\":\"u1\",\"role\":{\"name\":\"admin\"},"
				   "\"roles\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
				   "{\"id\":\"u22\",\"role\":null,\"roles\":[]}]",
				   0, NULL);
	json_t *obj = json_loads("{\"id\":\"u1\",\"username\":\"alice\",\"email\":null}", 0, NULL);
	struct cli_err err = {0};
	struct capture c;

	(void)state;
	capture_open(&c);
	assert_int_equal(out_table(c.f, items, cols, 3, &err), CLI_OK);
	assert_int_equal(out_object(c.f, obj, NULL, &err), CLI_OK);
	capture_close(&c);
	assert_string_equal(c.text, "ID   ROLE   ROLES\n"
				    "u1   admin  a,b\n"
				    "u22  -      -\n"
				    "id:       u1\n"
				    "username: alice\n"
				    "email:    -\n");
	free(c.text);
	json_decref(items);
	json_decref(obj);
}

static void test_buf_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 5);
	assert_true(buf_puts(&b, "abc"));
	assert_false(buf_puts(&b, "def"));
	assert_true(b.failed);
	assert_string_equal(buf_cstr(&b), "abc");
	assert_false(buf_printf(&b, "%d", 123));
	buf_release(&b);
	assert_string_equal(buf_cstr(&b), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_width),
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_header_only),
	    cmocka_unit_test(test_control_characters_are_replaced),
	    cmocka_unit_test(test_many_rows),
	    cmocka_unit_test(test_out_value),
	    cmocka_unit_test(test_out_lookup),
	    cmocka_unit_test(test_out_table_and_object),
	    cmocka_unit_test(test_buf_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
