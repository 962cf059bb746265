/* scim/filter, scim/path and scim/eval: every filter example of RFC 7644 section 3.4.2.2 and
 * every path of section 3.5.2, parsed, printed canonically and evaluated; and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "scim/eval.h"
#include "scim/filter.h"
#include "scim/path.h"
#include "util/limits.h"

/* The RFC's examples, each with its canonical print. */
static void test_rfc_examples(void **state)
{
	static const struct {
		const char *in, *out;
	} t[] = {
	    {"userName eq \"bjensen\"", NULL},
	    {"name.familyName co \"O'Malley\"", NULL},
	    {"userName sw \"J\"", NULL},
	    {"urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"", NULL},
	    {"title pr", NULL},
	    {"meta.lastModified gt \"2011-05-13T04:42:34Z\"", NULL},
	    {"meta.lastModified ge \"2011-05-13T04:42:34Z\"", NULL},
	    {"meta.lastModified lt \"2011-05-13T04:42:34Z\"", NULL},
	    {"meta.lastModified le \"2011-05-13T04:42:34Z\"", NULL},
	    {"title pr and userType eq \"Employee\"", NULL},
	    {"title pr or userType eq \"Intern\"", NULL},
	    {"schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"", NULL},
	    {"userType eq \"Employee\" and (emails co \"example.com\" or emails.value co "
	     "\"example.org\")",
	     NULL},
	    {"userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co "
	     "\"example.org\")",
	     NULL},
	    {"userType eq \"Employee\" and (emails.type eq \"work\")",
	     "userType eq \"Employee\" and emails.type eq \"work\""},
	    {"userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]",
	     NULL},
	    {"emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and "
	     "value co \"@foo.com\"]",
	     NULL},
	    /* case-insensitive operators and keywords, padding, "not(" */
	    {"userName Eq \"john\"", "userName eq \"john\""},
	    {"  a PR   AND  b pr  ", "a pr and b pr"},
	    {"not(a pr)", "not (a pr)"},
	    {"( a pr )", "a pr"},
	    {"a pr or b pr and c pr", NULL},
	    {"(a pr or b pr) and c pr", NULL},
	    {"a pr and (b pr and c pr)", NULL},
	    {"a eq 1 or a eq -2.5 or a eq 1e3 or a eq true or a eq false or a eq null", NULL},
	    {"a eq \"\\u00e9\\t\\\"\"", "a eq \"\xc3\xa9\\t\\\"\""},
	    {"emails[not (type eq \"work\")]", NULL},
	    {"emails[type eq \"work\" or (type eq \"home\" and value ew \"@example.com\")]",
	     "emails[type eq \"work\" or type eq \"home\" and value ew \"@example.com\"]"},
	    {"members.$ref pr", NULL},
	    {"notes pr", NULL},
	    {"order eq 1", NULL},
	};
	struct arena a;

	arena_init(&a, 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct scim_filter *f;
		struct scim_err err = {0};
		enum rs_status st = scim_filter_parse(&a, t[i].in, strlen(t[i].in), &f, &err);
		if (st != RS_OK)
			fail_msg("%s: %s", t[i].in, err.detail);
		assert_string_equal(scim_filter_print(&a, f), t[i].out ? t[i].out : t[i].in);
	}
	arena_release(&a);
}

/* Entra ID's emails[type eq "work"].value eq "…" becomes one value path with an "and". */
static void test_value_path_sub_compare(void **state)
{
	struct arena a;
	struct scim_filter *f;
	struct scim_err err;
	const char *s = "emails[type eq \"work\"].value eq \"x@example.com\" or userName pr";

	(void)state;
	arena_init(&a, 0);
	assert_int_equal(scim_filter_parse(&a, s, strlen(s), &f, &err), RS_OK);
	assert_int_equal(f->kind, SCIM_F_OR);
	assert_int_equal(f->left->kind, SCIM_F_VALUE_PATH);
	assert_int_equal(f->left->left->kind, SCIM_F_AND);
	assert_string_equal(f->left->left->right->attr.name_lc, "value");
	assert_null(f->left->left->right->attr.sub);
	assert_string_equal(
	    scim_filter_print(&a, f),
	    "emails[type eq \"work\" and value eq \"x@example.com\"] or userName pr");
	arena_release(&a);
}

static void test_ast(void **state)
{
	struct arena a;
	struct scim_filter *f;
	struct scim_err err;
	const char *s = "URN:ietf:params:scim:schemas:core:2.0:User:Name.GivenName eq \"Ba\" and "
			"not (x pr) or emails[Type eq \"work\"]";

	arena_init(&a, 0);
	assert_int_equal(scim_filter_parse(&a, s, strlen(s), &f, &err), RS_OK);
	assert_int_equal(f->kind, SCIM_F_OR);
	assert_int_equal(f->left->kind, SCIM_F_AND);
	assert_int_equal(f->left->right->kind, SCIM_F_NOT);
	assert_int_equal(f->left->left->kind, SCIM_F_COMPARE);
	assert_string_equal(f->left->left->attr.urn, "URN:ietf:params:scim:schemas:core:2.0:User");
	assert_string_equal(f->left->left->attr.urn_lc,
			    "urn:ietf:params:scim:schemas:core:2.0:user");
	assert_string_equal(f->left->left->attr.name, "Name");
	assert_string_equal(f->left->left->attr.name_lc, "name");
	assert_string_equal(f->left->left->attr.sub_lc, "givenname");
	assert_int_equal(f->right->kind, SCIM_F_VALUE_PATH);
	assert_string_equal(f->right->left->attr.name_lc, "type");
	arena_release(&a);
}

static void test_errors(void **state)
{
	static const struct {
		const char *in;
		size_t offset;
	} t[] = {
	    {"", 0},
	    {"userName", 8},
	    {"userName eq", 11},
	    {"userName eq bjensen", 12},
	    {"userName xx \"a\"", 9},
	    {"userName eq \"a", 12},
	    {"userName eq \"a\\x\"", 12},
	    {"a eq True", 5},
	    {"a eq 01", 5},
	    {"a eq 1.", 5},
	    {"a.b.c pr", 2},
	    {"1a pr", 0},
	    {"a pr and", 8},
	    {"a pr andb pr", 5},
	    {"a pr) ", 4},
	    {"(a pr", 5},
	    {"not a pr", 4},
	    {"emails[type eq \"w\"", 18},
	    {"emails[type eq \"w\"].value", 25},
	    {"emails[type eq \"w\"].value[a pr] eq \"x\"", 25},
	    {"emails[type eq \"w\"].urn:a:b eq \"x\"", 20},
	    {"emails[x[y pr]]", 8},
	    {"emails[urn:x:y pr]", 7},
	    {"emails.value[type pr]", 12},
	    {"a eq \"x\"and b pr", 8},
	    {"a\teq \"x\"", 1},
	    {"urn: pr", 4},
	};
	struct arena a;

	arena_init(&a, 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct scim_filter *f;
		struct scim_err err = {0};
		if (scim_filter_parse(&a, t[i].in, strlen(t[i].in), &f, &err) != RS_E_INVALID)
			fail_msg("accepted: %s", t[i].in);
		assert_string_equal(err.scim_type, SCIM_INVALID_FILTER);
		if (err.offset != t[i].offset)
			fail_msg("%s: offset %zu, want %zu (%s)", t[i].in, err.offset, t[i].offset,
				 err.detail);
	}
	arena_release(&a);
}

static void test_limits(void **state)
{
	char deep[4 * RS_SCIM_FILTER_DEPTH_MAX + 16], ok[4 * RS_SCIM_FILTER_DEPTH_MAX + 16];
	char *big = malloc(RS_SCIM_FILTER_MAX + 2);
	struct arena a;
	struct scim_filter *f;
	struct scim_err err;
	size_t n = 0;

	arena_init(&a, 0);
	for (int i = 0; i < RS_SCIM_FILTER_DEPTH_MAX + 1; i++)
		deep[n++] = '(';
	memcpy(deep + n, "a pr", 4);
	n += 4;
	for (int i = 0; i < RS_SCIM_FILTER_DEPTH_MAX + 1; i++)
		deep[n++] = ')';
	assert_int_equal(scim_filter_parse(&a, deep, n, &f, &err), RS_E_INVALID);
	n = 0;
	for (int i = 0; i < RS_SCIM_FILTER_DEPTH_MAX; i++)
		ok[n++] = '(';
	memcpy(ok + n, "a pr", 4);
	n += 4;
	for (int i = 0; i < RS_SCIM_FILTER_DEPTH_MAX; i++)
		ok[n++] = ')';
	assert_int_equal(scim_filter_parse(&a, ok, n, &f, &err), RS_OK);
	assert_non_null(big);
	memset(big, ' ', RS_SCIM_FILTER_MAX + 1);
	memcpy(big, "a pr", 4);
	assert_int_equal(scim_filter_parse(&a, big, RS_SCIM_FILTER_MAX + 1, &f, &err),
			 RS_E_INVALID);
	assert_int_equal(scim_filter_parse(&a, big, RS_SCIM_FILTER_MAX, &f, &err), RS_OK);
	assert_int_equal(scim_filter_parse(&a, "a pr\0", 5, &f, &err), RS_E_INVALID);
	free(big);
	arena_release(&a);
}

static void test_paths(void **state)
{
	static const struct {
		const char *in, *name, *sub;
		bool filter;
	} ok[] = {
	    {"members", "members", NULL, false},
	    {"name.familyName", "name", "familyName", false},
	    {"addresses[type eq \"work\"]", "addresses", NULL, true},
	    {"members[value eq \"2819c223-7f76-453a-919d-413861904646\"]", "members", NULL, true},
	    {"members[value eq \"2819c223-7f76-453a-919d-413861904646\"].displayName", "members",
	     "displayName", true},
	    {"addresses[type eq \"work\"].streetAddress", "addresses", "streetAddress", true},
	    {"emails[type eq \"work\" and value ew \"example.com\"]", "emails", NULL, true},
	    {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "manager", NULL,
	     false},
	    {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "User", NULL, false},
	};
	static const char *const bad[] = {
	    "",
	    "emails[",
	    "emails[type eq \"work\"",
	    "emails[type eq \"work\"].",
	    "a.b.c",
	    "emails[type eq \"work\"].value.x",
	    "emails[type eq \"work\"] ",
	    "a b",
	    "emails[]",
	    "name.givenName[type pr]",
	};
	struct arena a;

	arena_init(&a, 0);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct scim_path p;
		struct scim_err err = {0};
		if (scim_path_parse(&a, ok[i].in, strlen(ok[i].in), &p, &err) != RS_OK)
			fail_msg("%s: %s", ok[i].in, err.detail);
		assert_string_equal(p.attr.name, ok[i].name);
		if (ok[i].sub)
			assert_string_equal(p.attr.sub, ok[i].sub);
		else
			assert_null(p.attr.sub);
		assert_int_equal(p.filter != NULL, ok[i].filter);
		assert_string_equal(scim_path_print(&a, &p), ok[i].in);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct scim_path p;
		struct scim_err err = {0};
		if (scim_path_parse(&a, bad[i], strlen(bad[i]), &p, &err) != RS_E_INVALID)
			fail_msg("accepted path: %s", bad[i]);
		assert_string_equal(err.scim_type, SCIM_INVALID_PATH);
	}
	arena_release(&a);
}

static const char user[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],\"id\":\"2819c223\","
    "\"userName\":\"bjensen\",\"userType\":\"Employee\",\"title\":\"Tour Guide\","
    "\"active\":true,\"name\":{\"familyName\":\"O'Malley\",\"givenName\":\"Barbara\"},"
    "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\",\"primary\":true},"
    "{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
    "\"ims\":[{\"value\":\"babs@foo.com\",\"type\":\"xmpp\"}],"
    "\"meta\":{\"lastModified\":\"2011-05-13T04:42:34Z\"},"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"employeeNumber\":"
    "\"701984\",\"manager\":{\"value\":\"26118915\"}}}";

static void test_eval(void **state)
{
	static const struct {
		const char *filter;
		bool want;
	} t[] = {
	    {"userName eq \"bjensen\"", true},
	    {"USERNAME eq \"BJENSEN\"", true}, /* userName is not caseExact */
	    {"id eq \"2819C223\"", false},     /* id is */
	    {"id eq \"2819c223\"", true},
	    {"name.familyName co \"O'Malley\"", true},
	    {"userName sw \"J\"", false},
	    {"userName sw \"B\"", true},
	    {"urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"bj\"", true},
	    {"title pr", true},
	    {"nickName pr", false},
	    {"meta.lastModified gt \"2011-05-13T04:42:34Z\"", false},
	    {"meta.lastModified ge \"2011-05-13T04:42:34Z\"", true},
	    {"meta.lastModified lt \"2011-05-13T04:42:35Z\"", true},
	    {"meta.lastModified le \"2011-05-13T04:42:33Z\"", false},
	    {"title pr and userType eq \"Employee\"", true},
	    {"title pr or userType eq \"Intern\"", true},
	    {"schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"", true},
	    {"userType eq \"Employee\" and (emails co \"example.com\" or emails.value co "
	     "\"example.org\")",
	     true},
	    {"userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co "
	     "\"example.org\")",
	     false},
	    {"userType eq \"Employee\" and (emails.type eq \"work\")", true},
	    {"userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]",
	     true},
	    {"emails[type eq \"home\" and value co \"@example.com\"]", false},
	    {"emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and "
	     "value co \"@foo.com\"]",
	     true},
	    {"emails[primary eq true]", true},
	    {"emails[type eq \"home\" and primary eq true]", false},
	    {"active eq true", true},
	    {"active eq \"true\"", false},
	    {"nickName ne \"x\"", true},
	    {"nickName eq null", true},
	    {"title ne null", true},
	    {"employeeNumber eq \"701984\"", true},
	    {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "
	     "\"26118915\"",
	     true},
	    {"urn:x:unknown:attr pr", false},
	    {"unknownAttr pr", false},
	    {"title ew \"GUIDE\"", true},
	    {"title gt \"tour\"", true},
	};
	json_t *u = json_loads(user, 0, NULL);
	struct arena a;

	assert_non_null(u);
	arena_init(&a, 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct scim_filter *f;
		struct scim_err err = {0};
		if (scim_filter_parse(&a, t[i].filter, strlen(t[i].filter), &f, &err) != RS_OK)
			fail_msg("%s: %s", t[i].filter, err.detail);
		if (scim_filter_match(f, u, scim_user_type()) != t[i].want)
			fail_msg("%s: want %d", t[i].filter, t[i].want);
	}
	arena_release(&a);
	json_decref(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc_examples),
	    cmocka_unit_test(test_ast),
	    cmocka_unit_test(test_value_path_sub_compare),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_eval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
