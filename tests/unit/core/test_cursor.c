/* core/core.c cursors: opaque, authenticated with the server key. encode/decode round-trip
 * (a sort value may even hold '\n'), every tampering is refused with request.invalid_cursor,
 * page_limit clamps, and the list operations refuse a cursor that is not theirs. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "fixture.h"

static const unsigned char key_a[CORE_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char key_b[CORE_KEY_LEN] = "0123456789abcdef0123456789abcdeF";

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct cstate {
	struct core *a, *b;
	struct arena ar;
};

static int setup(void **state)
{
	struct cstate *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	s->a = fx_core_nostore(key_a);
	s->b = fx_core_nostore(key_b);
	arena_init(&s->ar, 0);
	*state = s;
	return s->a && s->b ? 0 : -1;
}

static int teardown(void **state)
{
	struct cstate *s = *state;

	core_free(s->a);
	core_free(s->b);
	arena_release(&s->ar);
	free(s);
	return 0;
}

/* A cursor made by hand with a known key: base64url(plain) "." base64url(HMAC[0..12]). */
static char *forge(struct arena *a, const unsigned char *key, const void *plain, size_t n)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char *out = arena_alloc(a, 4 * ((n + 2) / 3) + 1 + 24);
	size_t m;

	crypto_hmac_sha256(key, CORE_KEY_LEN, plain, n, mac);
	m = crypto_b64url(plain, n, out);
	out[m++] = '.';
	crypto_b64url(mac, 12, out + m);
	return out;
}

static void expect_refused(struct core *c, struct arena *a, const char *cur, const char *what)
{
	const char *sv = "untouched", *id = "untouched";
	struct rs_err err = {0};
	enum rs_status st = cursor_decode(c, a, cur, &sv, &id, &err);

	if (st != RS_E_INVALID || strcmp(err.code, "request.invalid_cursor") != 0 ||
	    strcmp(err.field, "cursor") != 0)
		fail_msg("%s: cursor '%s' gave %s %s (sortval '%s')", what, cur, rs_status_name(st),
			 st ? err.code : "", st ? "" : sv);
	/* Nothing leaks to the out-parameters on refusal. */
	assert_string_equal(sv, "untouched");
	assert_string_equal(id, "untouched");
}

static void test_roundtrip(void **state)
{
	struct cstate *s = *state;
	char long_sv[RS_EMAIL_MAX + 1];
	static const struct {
		const char *sv, *id;
	} t[] = {
	    {"1767225600000", "01936a4e-8c2b-7a3d-9f10-1234567890ab"},
	    {"alice", "01936a4e-8c2b-7a3d-9f10-1234567890ab"},
	    {"", "01936a4e-8c2b-7a3d-9f10-1234567890ab"},
	    {"42", ""}, /* audit: the seq alone */
	    {"", ""},
	    {"a", "b"},	  /* 3 bytes: no padding */
	    {"ab", "c"},  /* 4 bytes */
	    {"abc", "d"}, /* 5 bytes */
	    {"\xc3\xa9lodie@exampl\xc3\xa9.org", "x"},
	    {"x.y_z-w", "id.with.dots"},
	    {"multi\nline", "01936a4e-8c2b-7a3d-9f10-1234567890ab"}, /* '\n' in the sort value */
	    {"\n", ""},
	    {"trailing\n", "id"},
	};

	memset(long_sv, 'z', sizeof(long_sv) - 1);
	long_sv[sizeof(long_sv) - 1] = '\0';
	for (size_t i = 0; i <= sizeof(t) / sizeof(t[0]); i++) {
		const char *sv_in = i < sizeof(t) / sizeof(t[0]) ? t[i].sv : long_sv;
		const char *id_in =
		    i < sizeof(t) / sizeof(t[0]) ? t[i].id : "01936a4e-8c2b-7a3d-9f10-1234567890ab";
		const char *cur = cursor_encode(s->a, &s->ar, sv_in, id_in);
		const char *sv = NULL, *id = NULL;
		struct rs_err err = {0};

		assert_non_null(cur);
		/* URL-safe as it is: no escaping needed in a query string. */
		for (const char *p = cur; *p; p++)
			assert_true(strchr(b64chars, *p) || *p == '.');
		if (cursor_decode(s->a, &s->ar, cur, &sv, &id, &err) != RS_OK)
			fail_msg("row %zu: decode refused its own cursor: %s", i, err.code);
		if (strcmp(sv, sv_in) != 0 || strcmp(id, id_in) != 0)
			fail_msg("row %zu: ('%s','%s') came back as ('%s','%s')", i, sv_in, id_in,
				 sv, id);
		/* Deterministic: the same position gives the same cursor. */
		assert_string_equal(cursor_encode(s->a, &s->ar, sv_in, id_in), cur);
		/* Another server key refuses it. */
		expect_refused(s->b, &s->ar, cur, "other key");
	}
	/* NULLs encode as empty strings. */
	{
		const char *cur = cursor_encode(s->a, &s->ar, NULL, NULL), *sv, *id;
		struct rs_err err = {0};

		assert_int_equal(cursor_decode(s->a, &s->ar, cur, &sv, &id, &err), RS_OK);
		assert_string_equal(sv, "");
		assert_string_equal(id, "");
	}
}

/* Every single-character change of a real cursor, to any other character, is refused. */
static void test_flip_each_char(void **state)
{
	struct cstate *s = *state;
	static const char others[] = "+/=.~ %";
	/* Payload lengths of 0, 1 and 2 mod 3: the last base64 character carries 0, 4 or 2
	 * padding bits, which a lax decoder ignores. */
	static const struct {
		const char *sv, *id;
	} t[] = {
	    {"1767225600000", "01936a4e-8c2b-7a3d-9f10-1234567890ab"},
	    {"alice", "01936a4e-8c2b-7a3d-9f10-1234567890ab"},
	    {"bob", "01936a4e-8c2b-7a3d-9f10-1234567890ab"},
	    {"17", ""},
	    {"171", ""},
	    {"1712", ""},
	};

	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		const char *orig = cursor_encode(s->a, &s->ar, t[k].sv, t[k].id);
		size_t n = strlen(orig);
		char *c = arena_strdup(&s->ar, orig);

		for (size_t i = 0; i < n; i++) {
			for (size_t j = 0; j < sizeof(b64chars) - 1 + sizeof(others) - 1; j++) {
				char ch = j < sizeof(b64chars) - 1
					      ? b64chars[j]
					      : others[j - (sizeof(b64chars) - 1)];
				char what[64];

				if (ch == orig[i])
					continue;
				c[i] = ch;
				snprintf(what, sizeof(what), "cursor %zu, char %zu -> '%c'", k, i,
					 ch);
				expect_refused(s->a, &s->ar, c, what);
			}
			c[i] = orig[i];
		}
	}
}

static void test_truncate_append(void **state)
{
	struct cstate *s = *state;
	const char *orig =
	    cursor_encode(s->a, &s->ar, "alice", "01936a4e-8c2b-7a3d-9f10-1234567890ab");
	size_t n = strlen(orig);

	for (size_t len = 0; len < n; len++) {
		char what[64];

		snprintf(what, sizeof(what), "truncated to %zu", len);
		expect_refused(s->a, &s->ar, arena_strndup(&s->ar, orig, len), what);
		/* Cut from the front too. */
		snprintf(what, sizeof(what), "first %zu cut", n - len);
		expect_refused(s->a, &s->ar, orig + n - len, what);
	}
	for (size_t j = 0; j < sizeof(b64chars) - 1; j++) {
		expect_refused(s->a, &s->ar, arena_printf(&s->ar, "%s%c", orig, b64chars[j]),
			       "appended");
		expect_refused(s->a, &s->ar, arena_printf(&s->ar, "%c%s", b64chars[j], orig),
			       "prepended");
	}
	expect_refused(s->a, &s->ar, arena_printf(&s->ar, "%s=", orig), "padded");
	expect_refused(s->a, &s->ar, arena_printf(&s->ar, "%s.", orig), "second dot");
	expect_refused(s->a, &s->ar, arena_printf(&s->ar, "%s%s", orig, orig), "doubled");
	expect_refused(s->a, &s->ar, arena_printf(&s->ar, "%s ", orig), "trailing space");
}

static void test_malformed(void **state)
{
	struct cstate *s = *state;
	char big[3000];
	static const char *const t[] = {
	    "",
	    ".",
	    "..",
	    "abc",
	    "abc.",
	    ".abc",
	    "YWJj",
	    "YWJj.",
	    "!!!!.AAAAAAAAAAAAAAAAAAAAAA",
	    "YWxpY2UKMTIz.AAAAAAAAAAAAAAAA", /* right shape, wrong tag */
	    "YW=xp.AAAAAAAAAAAAAAAA",
	    "YWxp+2U/.AAAAAAAAAAAAAAAA",
	    "\xc3\xa9.\xc3\xa9",
	    "A.AAAAAAAAAAAAAAAA",
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect_refused(s->a, &s->ar, t[i], t[i]);
	/* Over the length cap, even when otherwise valid. */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_refused(s->a, &s->ar, big, "3000 x A");
	{
		char *plain = arena_alloc(&s->ar, 1700);

		memset(plain, 'q', 1699);
		plain[10] = '\n';
		expect_refused(s->a, &s->ar, forge(&s->ar, key_a, plain, 1699), "over 2048");
	}
}

/* Correctly signed, but not the shape cursor_encode makes. */
static void test_forged_shapes(void **state)
{
	struct cstate *s = *state;
	const char *sv, *id;
	struct rs_err err = {0};

	/* The forging helper is right: a well-formed forgery is accepted... */
	assert_int_equal(
	    cursor_decode(s->a, &s->ar, forge(&s->ar, key_a, "v\nid", 4), &sv, &id, &err), RS_OK);
	assert_string_equal(sv, "v");
	assert_string_equal(id, "id");
	/* ...and is exactly what cursor_encode makes. */
	assert_string_equal(forge(&s->ar, key_a, "v\nid", 4),
			    cursor_encode(s->a, &s->ar, "v", "id"));
	/* No separator. */
	expect_refused(s->a, &s->ar, forge(&s->ar, key_a, "noseparator", 11), "no newline");
	/* An embedded NUL would cut the id short unseen. */
	expect_refused(s->a, &s->ar, forge(&s->ar, key_a, "v\nid\0more", 9), "NUL in id");
	expect_refused(s->a, &s->ar, forge(&s->ar, key_a, "\0\nid", 4), "NUL in sortval");
	/* Empty plaintext. */
	expect_refused(s->a, &s->ar, forge(&s->ar, key_a, "", 0), "empty");
}

static void test_page_limit(void **state)
{
	static const struct {
		int in, out;
	} t[] = {
	    {0, RS_LIST_LIMIT_DEFAULT},
	    {-1, RS_LIST_LIMIT_DEFAULT},
	    {INT_MIN, RS_LIST_LIMIT_DEFAULT},
	    {1, 1},
	    {50, 50},
	    {199, 199},
	    {RS_LIST_LIMIT_MAX, RS_LIST_LIMIT_MAX},
	    {RS_LIST_LIMIT_MAX + 1, RS_LIST_LIMIT_MAX},
	    {INT_MAX, RS_LIST_LIMIT_MAX},
	};

	(void)state;
	assert_int_equal(page_limit(NULL), RS_LIST_LIMIT_DEFAULT);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct page pg = {.limit = t[i].in};

		assert_int_equal(page_limit(&pg), t[i].out);
	}
}

/* Through the API: a list refuses a tampered cursor, and a cursor of another sort order
 * whose value can't be that order's. */
static void test_lists_refuse(void **state)
{
	struct fx *f = fx_open();
	const char *tid;
	struct user_list ul;
	struct user_list_query q = {.sort = "username", .page.limit = 2};
	struct rs_err err = {0};
	char *bad;

	(void)state;
	assert_non_null(f);
	tid = fx_tenant(f, "acme", NULL);
	fx_user(f, tid, "alice", NULL, NULL);
	fx_user(f, tid, "bob", NULL, NULL);
	fx_user(f, tid, "carol", NULL, NULL);
	fx_expect(users_list(f->core, &f->platform, tid, &q, &f->a, &ul, &err), &err, RS_OK, NULL);
	assert_int_equal(ul.n, 2);
	assert_non_null(ul.next_cursor);
	/* A username cursor on a created_at list. */
	q.sort = "created_at";
	q.page.cursor = ul.next_cursor;
	fx_expect(users_list(f->core, &f->platform, tid, &q, &f->a, &ul, &err), &err, RS_E_INVALID,
		  "request.invalid_cursor");
	/* Tampered. */
	bad = arena_strdup(&f->a, q.page.cursor);
	bad[0] = bad[0] == 'A' ? 'B' : 'A';
	q.sort = "username";
	q.page.cursor = bad;
	fx_expect(users_list(f->core, &f->platform, tid, &q, &f->a, &ul, &err), &err, RS_E_INVALID,
		  "request.invalid_cursor");
	/* Audit cursors carry a number: a word there is refused too. */
	{
		struct audit_list al;
		struct audit_query aq = {
		    .page = {.cursor = cursor_encode(f->core, &f->a, "abc", "")}};

		fx_expect(audit_list(f->core, &f->platform, tid, &aq, &f->a, &al, &err), &err,
			  RS_E_INVALID, "request.invalid_cursor");
		aq.page.cursor = "garbage";
		fx_expect(audit_list(f->core, &f->platform, tid, &aq, &f->a, &al, &err), &err,
			  RS_E_INVALID, "request.invalid_cursor");
	}
	{
		struct group_list gl;
		struct token_list tl;
		struct tenant_list tnl;
		struct page pg = {.cursor = "garbage.AAAAAAAAAAAAAAAA"};

		fx_expect(groups_list(f->core, &f->platform, tid, &pg, &f->a, &gl, &err), &err,
			  RS_E_INVALID, "request.invalid_cursor");
		fx_expect(tokens_list(f->core, &f->platform, tid, NULL, &pg, &f->a, &tl, &err),
			  &err, RS_E_INVALID, "request.invalid_cursor");
		fx_expect(tenants_list(f->core, &f->platform, &pg, &f->a, &tnl, &err), &err,
			  RS_E_INVALID, "request.invalid_cursor");
	}
	fx_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),	    cmocka_unit_test(test_flip_each_char),
	    cmocka_unit_test(test_truncate_append), cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_forged_shapes),   cmocka_unit_test(test_page_limit),
	    cmocka_unit_test(test_lists_refuse),
	};

	return cmocka_run_group_tests_name("core/cursor", tests, setup, teardown);
}
