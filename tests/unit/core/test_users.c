/* core/users.c and core/merge.c: field validation shared by every surface, custom_attributes
 * as an RFC 7396 merge patch (the examples of RFC 7396 Appendix A), case-insensitive username
 * uniqueness, If-Match, and list filters, sorts and keyset paging that visit every row once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <jansson.h>

#include "fixture.h"

#define S(x) ((struct opt_str){true, (x)})

/* ---- validation ------------------------------------------------------------------------- */

enum vf {
	V_USERNAME,
	V_EMAIL,
	V_TYPE,
	V_SUMMARY,
	V_IDLE,
	V_IDLE_NULL,
	V_REQACT,
	V_FIRST,
	V_DEPT,
	V_CUSTOM,
	V_ROLES,
};

static const struct vcase {
	enum vf f;
	const char *v; /* the value; for V_IDLE a number in text; V_REQACT: ','-separated */
	bool ok;
	const char *field; /* the field named when refused */
} vcases[] = {
    {V_USERNAME, "alice", true, NULL},
    {V_USERNAME, "a", true, NULL},
    {V_USERNAME, "al.ice+tag@corp", true, NULL},
    {V_USERNAME, "\xc3\xa9lodie", true, NULL},
    {V_USERNAME, "", false, "username"},
    {V_USERNAME, NULL, false, "username"},
    {V_USERNAME, " alice", false, "username"},
    {V_USERNAME, "alice ", false, "username"},
    {V_USERNAME, "al ice", false, "username"},
    {V_USERNAME, "al\tice", false, "username"},
    {V_USERNAME, "al\nice", false, "username"},
    {V_USERNAME, "al\x01ice", false, "username"},
    {V_USERNAME, "al\xc3", false, "username"}, /* broken UTF-8 */
    {V_USERNAME, "128", true, NULL},	       /* "N": a username of N 'u's */
    {V_USERNAME, "129", false, "username"},
    {V_EMAIL, "a@b", true, NULL},
    {V_EMAIL, "first.last+tag@example.co.uk", true, NULL},
    {V_EMAIL, NULL, true, NULL}, /* none */
    {V_EMAIL, "ab", false, "email"},
    {V_EMAIL, "@b", false, "email"},
    {V_EMAIL, "a@", false, "email"},
    {V_EMAIL, "a@b@c", false, "email"},
    {V_EMAIL, "a b@c", false, "email"},
    {V_EMAIL, "a\t@c", false, "email"},
    {V_EMAIL, "a@b\n", false, "email"},
    {V_EMAIL, "254", true, NULL}, /* "N": x...x@example.org, N chars in all */
    {V_EMAIL, "255", false, "email"},
    {V_TYPE, "standard", true, NULL},
    {V_TYPE, "api", true, NULL},
    {V_TYPE, "taxii", true, NULL},
    {V_TYPE, "read_only", true, NULL},
    {V_TYPE, "admin", false, "type"},
    {V_TYPE, "Standard", false, "type"},
    {V_TYPE, "", false, "type"},
    {V_TYPE, NULL, false, "type"},
    {V_SUMMARY, "00:00", true, NULL},
    {V_SUMMARY, "09:30", true, NULL},
    {V_SUMMARY, "23:59", true, NULL},
    {V_SUMMARY, NULL, true, NULL},
    {V_SUMMARY, "24:00", false, "summary_mail_time"},
    {V_SUMMARY, "12:60", false, "summary_mail_time"},
    {V_SUMMARY, "9:30", false, "summary_mail_time"},
    {V_SUMMARY, "09:30:00", false, "summary_mail_time"},
    {V_SUMMARY, "0930", false, "summary_mail_time"},
    {V_SUMMARY, "09-30", false, "summary_mail_time"},
    {V_SUMMARY, "ab:cd", false, "summary_mail_time"},
    {V_SUMMARY, "", false, "summary_mail_time"},
    {V_IDLE, "1", true, NULL},
    {V_IDLE, "10080", true, NULL},
    {V_IDLE, "0", false, "idle_logout_minutes"},
    {V_IDLE, "-5", false, "idle_logout_minutes"},
    {V_IDLE, "10081", false, "idle_logout_minutes"},
    {V_IDLE, "4294967297", false, "idle_logout_minutes"}, /* 2^32 + 1 */
    {V_IDLE_NULL, NULL, true, NULL},
    {V_REQACT, "password_reset,mfa_reset,terms_of_service", true, NULL},
    {V_REQACT, "mfa_reset", true, NULL},
    {V_REQACT, "", true, NULL},
    {V_REQACT, "reset", false, "required_actions"},
    {V_REQACT, "mfa_reset,MFA_RESET", false, "required_actions"},
    {V_REQACT, "password_reset,", false, "required_actions"}, /* an empty name */
    {V_FIRST, "Zo\xc3\xab", true, NULL},
    {V_FIRST, "201", false, "first_name"},
    {V_FIRST, "tab\there", false, "first_name"},
    {V_DEPT, "R&D", false, "department_id"}, /* not a department id */
    {V_DEPT, "01890000-0000-7000-8000-000000000000", false, "department_id"}, /* unknown */
    {V_CUSTOM, "{\"a\":1}", true, NULL},
    {V_CUSTOM, "16385", false, "custom_attributes"}, /* "N": an object of N bytes */
    /* Not JSON, or not an object: see test_custom_attributes_shape. */
    {V_ROLES, "33", false, "roles"}, /* more than RS_ROLES_PER_USER_MAX */
    {V_ROLES, "Nope", false, "roles"},
    {V_ROLES, "Member", false, "roles"}, /* a system role among tenant roles */
};

static char *repeat(struct arena *a, char ch, size_t n)
{
	char *s = arena_alloc(a, n + 1);

	memset(s, ch, n);
	return s;
}

/* Fills uf with the case's value; other fields stay absent (username is set by the caller). */
static void apply_case(struct arena *a, const struct vcase *c, struct user_fields *uf)
{
	switch (c->f) {
	case V_USERNAME:
		if (c->v && c->v[0] >= '1' && c->v[0] <= '9')
			uf->username = S(repeat(a, 'u', (size_t)atoi(c->v)));
		else
			uf->username = S(c->v);
		break;
	case V_EMAIL:
		if (c->v && c->v[0] >= '1' && c->v[0] <= '9') {
			size_t n = (size_t)atoi(c->v);

			uf->email = S(arena_printf(a, "%s@example.org", repeat(a, 'x', n - 12)));
			assert_int_equal(strlen(uf->email.v), n);
		} else {
			uf->email = S(c->v);
		}
		break;
	case V_TYPE:
		uf->type = S(c->v);
		break;
	case V_SUMMARY:
		uf->summary_mail_time = S(c->v);
		break;
	case V_IDLE:
		uf->idle_logout_minutes =
		    (struct opt_int){.set = true, .v = strtoll(c->v, NULL, 10)};
		break;
	case V_IDLE_NULL:
		uf->idle_logout_minutes = (struct opt_int){.set = true, .null = true};
		break;
	case V_REQACT: {
		const char **l = arena_alloc(a, 8 * sizeof(*l));
		char *s = arena_strdup(a, c->v);
		int n = 0;

		for (char *p = s; *s && p; n++) {
			char *comma = strchr(p, ',');

			if (comma)
				*comma = '\0';
			l[n] = p;
			p = comma ? comma + 1 : NULL;
		}
		uf->required_actions_set = true;
		uf->required_actions = l;
		uf->nrequired_actions = n;
		break;
	}
	case V_FIRST:
		uf->first_name =
		    S(c->v[0] >= '1' && c->v[0] <= '9' ? repeat(a, 'f', (size_t)atoi(c->v)) : c->v);
		break;
	case V_DEPT:
		uf->department_id = S(c->v);
		break;
	case V_CUSTOM:
		if (c->v[0] >= '1' && c->v[0] <= '9') {
			size_t n = (size_t)atoi(c->v);

			/* {"k":"vvv…"} of exactly n bytes */
			uf->custom_attributes =
			    S(arena_printf(a, "{\"k\":\"%s\"}", repeat(a, 'v', n - 8)));
			assert_int_equal(strlen(uf->custom_attributes.v), n);
		} else {
			uf->custom_attributes = S(c->v);
		}
		break;
	case V_ROLES: {
		int n = c->v[0] >= '1' && c->v[0] <= '9' ? atoi(c->v) : 1;
		const char **l = arena_alloc(a, (size_t)n * sizeof(*l));

		for (int i = 0; i < n; i++)
			l[i] = c->v[0] >= '1' && c->v[0] <= '9' ? "Standard User" : c->v;
		uf->roles_set = true;
		uf->roles = l;
		uf->nroles = n;
		break;
	}
	}
}

static void test_validation(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *tc = fx_tenant(f, "tc", "threatconnect");
	const char *target = fx_user(f, tid, "target", NULL, NULL);
	int failures = 0;

	for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];
		/* roles are checked in the threatconnect tenant, which has tenant roles */
		const char *t = c->f == V_ROLES ? tc : tid;

		for (int upd = 0; upd < 2; upd++) {
			struct user_fields uf = {0};
			struct user u;
			struct rs_err err = {0};
			enum rs_status st;

			if (upd && c->f == V_USERNAME && c->ok)
				continue; /* would rename target: tested on create only */
			if (!upd)
				uf.username = S(arena_printf(&f->a, "v%zu", i));
			apply_case(&f->a, c, &uf);
			st = upd ? users_update(f->core, &f->platform, t,
						c->f == V_ROLES
						    ? fx_user(f, tc, arena_printf(&f->a, "r%zu", i),
							      NULL, NULL)
						    : target,
						&uf, 0, &f->a, &u, &err)
				 : users_create(f->core, &f->platform, t, &uf, &f->a, &u, &err);
			if (c->ok ? st != RS_OK
				  : st != RS_E_INVALID ||
					strcmp(err.code, "request.invalid_field") != 0 ||
					strcmp(err.field, c->field) != 0) {
				print_error(
				    "case %zu (%s, field %d, '%.20s'): want %s%s, got %s %s "
				    "field '%s' (%s)\n",
				    i, upd ? "update" : "create", c->f, c->v ? c->v : "(null)",
				    c->ok ? "ok" : "invalid ", c->ok ? "" : c->field,
				    rs_status_name(st), st ? err.code : "", st ? err.field : "",
				    st ? err.msg : "");
				failures++;
			}
		}
	}
	if (failures)
		fail_msg("%d validation cases failed", failures);
}

/* Stored values come back as written, and absent fields get their defaults. */
static void test_create_roundtrip(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	static const char *const ra[] = {"terms_of_service", "password_reset"};
	struct user_fields uf = {
	    .username = S("Alice"),
	    .email = S("Alice@Example.org"),
	    .first_name = S("Alice"),
	    .last_name = S("Liddell"),
	    .type = S("api"),
	    .locale = S("en-GB"),
	    .timezone = S("Europe/London"),
	    .description = S("d"),
	    .external_id = S("ext-1"),
	    .summary_mail_time = S("07:45"),
	    .security_profile = S("default"),
	    .custom_attributes = S("{\"b\":[1,2],\"a\":{}}"),
	    .required_actions_set = true,
	    .required_actions = ra,
	    .nrequired_actions = 2,
	    .idle_logout_minutes = {.set = true, .v = 30},
	    .system_role = S("viewer"),
	};
	struct user u, g;
	struct rs_err err = {0};

	fx_expect(users_create(f->core, &f->platform, tid, &uf, &f->a, &u, &err), &err, RS_OK,
		  NULL);
	fx_expect(users_get(f->core, &f->platform, tid, u.id, &f->a, &g, &err), &err, RS_OK, NULL);
	assert_string_equal(g.username, "Alice"); /* case kept */
	assert_string_equal(g.email, "Alice@Example.org");
	assert_string_equal(g.type, "api");
	assert_string_equal(g.status, "active");
	assert_null(g.department_id);
	assert_string_equal(g.summary_mail_time, "07:45");
	assert_string_equal(g.system_role.name, "Viewer"); /* found case-insensitively */
	assert_int_equal(g.rank, 100);
	assert_true(g.has_idle_logout);
	assert_int_equal(g.idle_logout_minutes, 30);
	assert_int_equal(g.nrequired_actions, 2);
	assert_string_equal(g.required_actions[0], "password_reset");
	assert_string_equal(g.required_actions[1], "terms_of_service");
	assert_string_equal(g.custom_attributes, "{\"a\":{},\"b\":[1,2]}");
	assert_int_equal(g.created_at, FX_T0);
	assert_int_equal(g.updated_at, FX_T0);
	assert_int_equal(g.version, 1);
	assert_false(g.locked);
	/* Defaults. */
	{
		struct user_fields min = {.username = S("bare")};

		fx_expect(users_create(f->core, &f->platform, tid, &min, &f->a, &u, &err), &err,
			  RS_OK, NULL);
		assert_string_equal(u.type, "standard");
		assert_string_equal(u.custom_attributes, "{}");
		assert_string_equal(u.system_role.name, "Member");
		assert_null(u.email);
		assert_false(u.has_idle_logout);
		assert_int_equal(u.nrequired_actions, 0);
		assert_int_equal(u.nroles, 0);
	}
	/* Merge patch semantics: absent keeps, null clears. */
	{
		struct user_fields p = {.email = {true, NULL},
					.idle_logout_minutes = {.set = true, .null = true},
					.required_actions_set = true};

		fx_expect(users_update(f->core, &f->platform, tid, g.id, &p, 0, &f->a, &u, &err),
			  &err, RS_OK, NULL);
		assert_null(u.email);
		assert_false(u.has_idle_logout);
		assert_int_equal(u.nrequired_actions, 0);
		assert_null(u.department_id);
		assert_string_equal(u.first_name, "Alice");
		assert_int_equal(u.version, 2);
	}
}

/* ---- RFC 7396 ------------------------------------------------------------------------------ */

/* RFC 7396 Appendix A, every example: original, patch, result. */
static const struct {
	const char *target, *patch, *result;
} rfc7396[] = {
    {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
    {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
    {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
    {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
    {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
    {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
    {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
    {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
    {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
    {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
    {"{\"a\":\"foo\"}", "null", "null"},
    {"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
    {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
    {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
    {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
};

static void expect_json_equal(const char *got, const char *want, const char *what)
{
	json_t *g = got ? json_loads(got, JSON_DECODE_ANY, NULL) : NULL;
	json_t *w = json_loads(want, JSON_DECODE_ANY, NULL);
	bool eq = g && w && json_equal(g, w);

	json_decref(g);
	json_decref(w);
	if (!eq)
		fail_msg("%s: got %s, want %s", what, got ? got : "(NULL)", want);
}

static void test_merge_patch_rfc7396(void **state)
{
	struct arena a;

	(void)state;
	arena_init(&a, 0);
	for (size_t i = 0; i < sizeof(rfc7396) / sizeof(rfc7396[0]); i++) {
		char what[32];

		snprintf(what, sizeof(what), "Appendix A #%zu", i + 1);
		expect_json_equal(json_merge_patch_text(&a, rfc7396[i].target, rfc7396[i].patch),
				  rfc7396[i].result, what);
	}
	/* NULL target is {}; a patch that is not JSON gives NULL. */
	expect_json_equal(json_merge_patch_text(&a, NULL, "{\"a\":1}"), "{\"a\":1}", "NULL target");
	assert_null(json_merge_patch_text(&a, "{}", "{"));
	assert_null(json_merge_patch_text(&a, "{}", ""));
	/* The output is canonical: compact, keys sorted. */
	assert_string_equal(json_merge_patch_text(&a, "{\"b\":1}", "{\"a\":2}"),
			    "{\"a\":2,\"b\":1}");
	arena_release(&a);
}

/* The same examples through users_update, where the target is an object: custom_attributes
 * is always a JSON object. */
static void test_custom_attributes_patch(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	int failures = 0;

	for (size_t i = 0; i < sizeof(rfc7396) / sizeof(rfc7396[0]); i++) {
		struct user_fields mk = {.username = S(arena_printf(&f->a, "u%zu", i))};
		struct user_fields p = {.custom_attributes = S(rfc7396[i].patch)};
		struct user u;
		struct rs_err err = {0};
		enum rs_status st;
		bool target_obj = rfc7396[i].target[0] == '{';
		bool result_obj = rfc7396[i].result[0] == '{';
		char what[48];

		/* Targets with a null member can't be stored: merging them in drops the member. */
		if (!target_obj || strstr(rfc7396[i].target, "null"))
			continue;
		mk.custom_attributes = S(rfc7396[i].target);
		fx_expect(users_create(f->core, &f->platform, tid, &mk, &f->a, &u, &err), &err,
			  RS_OK, NULL);
		expect_json_equal(u.custom_attributes, rfc7396[i].target, "stored target");
		if (strcmp(rfc7396[i].patch, "null") == 0) {
			/* A JSON null patch arrives as a cleared field (opt_str set, v NULL). */
			p.custom_attributes.v = NULL;
		}
		st = users_update(f->core, &f->platform, tid, u.id, &p, 0, &f->a, &u, &err);
		snprintf(what, sizeof(what), "Appendix A #%zu via users_update", i + 1);
		if (result_obj) {
			if (st != RS_OK) {
				print_error("%s: %s %s\n", what, err.code, err.msg);
				failures++;
				continue;
			}
			expect_json_equal(u.custom_attributes, rfc7396[i].result, what);
		} else if (strcmp(rfc7396[i].patch, "null") == 0) {
			/* null clears them all */
			if (st != RS_OK || strcmp(u.custom_attributes, "{}") != 0) {
				print_error("%s: null should clear to {}, got %s %s\n", what,
					    rs_status_name(st),
					    st ? err.code : u.custom_attributes);
				failures++;
			}
		}
		/* A patch that would make custom_attributes a non-object: see
		 * test_custom_attributes_shape. */
	}
	if (failures)
		fail_msg("%d custom_attributes cases failed", failures);
}

/* custom_attributes is a JSON object on every surface: the core refuses a patch that is not
 * one (a top-level array or string would otherwise replace the object, and text that is not
 * JSON once came back as an internal error). */
static void test_custom_attributes_shape(void **state)
{
	struct fx *f = *state;
	const char *tid;
	static const char *const bad[] = {"{", "", "[1,2]", "\"text\"", "42", "[\"c\"]"};
	int failures = 0;

	tid = fx_tenant(f, "acme", NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct user_fields mk = {.username = S(arena_printf(&f->a, "k%zu", i)),
					 .custom_attributes = S(bad[i])};
		struct user_fields plain = {.username = S(arena_printf(&f->a, "p%zu", i))};
		struct user_fields p = {.custom_attributes = S(bad[i])};
		struct user u;
		struct rs_err err = {0};
		enum rs_status st;

		st = users_create(f->core, &f->platform, tid, &mk, &f->a, &u, &err);
		if (st != RS_E_INVALID || strcmp(err.field, "custom_attributes") != 0) {
			print_error("create with custom_attributes '%s': got %s %s\n", bad[i],
				    rs_status_name(st), st ? err.code : u.custom_attributes);
			failures++;
		}
		fx_expect(users_create(f->core, &f->platform, tid, &plain, &f->a, &u, &err), &err,
			  RS_OK, NULL);
		st = users_update(f->core, &f->platform, tid, u.id, &p, 0, &f->a, &u, &err);
		if (st != RS_E_INVALID || strcmp(err.field, "custom_attributes") != 0) {
			print_error("patch custom_attributes with '%s': got %s %s\n", bad[i],
				    rs_status_name(st), st ? err.code : u.custom_attributes);
			failures++;
		}
	}
	if (failures)
		fail_msg("%d custom_attributes shape cases failed", failures);
}

/* The size cap applies to the merged result, not only to the patch. */
static void test_custom_attributes_cap(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *half = arena_printf(&f->a, "{\"a\":\"%s\"}", repeat(&f->a, 'x', 9000));
	const char *half2 = arena_printf(&f->a, "{\"b\":\"%s\"}", repeat(&f->a, 'y', 9000));
	struct user_fields mk = {.username = S("big"), .custom_attributes = S(half)};
	struct user_fields p = {.custom_attributes = S(half2)};
	struct user u;
	struct rs_err err = {0};

	fx_expect(users_create(f->core, &f->platform, tid, &mk, &f->a, &u, &err), &err, RS_OK,
		  NULL);
	fx_expect(users_update(f->core, &f->platform, tid, u.id, &p, 0, &f->a, &u, &err), &err,
		  RS_E_INVALID, "request.invalid_field");
	assert_string_equal(err.field, "custom_attributes");
}

/* ---- uniqueness and If-Match ---------------------------------------------------------------- */

static void test_username_unique(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *other = fx_tenant(f, "other", NULL);
	const char *alice = fx_user(f, tid, "Alice", NULL, NULL);
	const char *bob = fx_user(f, tid, "bob", NULL, NULL);
	static const char *const dups[] = {"Alice", "alice", "ALICE", "aLiCe"};
	struct user u;
	struct rs_err err = {0};

	for (size_t i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
		struct user_fields mk = {.username = S(dups[i])};
		struct user_fields rn = {.username = S(dups[i])};

		fx_expect(users_create(f->core, &f->platform, tid, &mk, &f->a, &u, &err), &err,
			  RS_E_CONFLICT, "user.username_taken");
		assert_string_equal(err.field, "username");
		fx_expect(users_update(f->core, &f->platform, tid, bob, &rn, 0, &f->a, &u, &err),
			  &err, RS_E_CONFLICT, "user.username_taken");
	}
	/* Another tenant may have its own alice. */
	fx_user(f, other, "alice", NULL, NULL);
	/* Renaming oneself to another case of one's own name is fine. */
	{
		struct user_fields rn = {.username = S("ALICE")};

		fx_expect(users_update(f->core, &f->platform, tid, alice, &rn, 0, &f->a, &u, &err),
			  &err, RS_OK, NULL);
		assert_string_equal(u.username, "ALICE");
	}
	/* Deleted: the name is free again, and the tombstone is invisible. */
	fx_expect(fx_delete(f, &f->platform, tid, alice, 0, &err), &err, RS_OK, NULL);
	fx_expect(users_get(f->core, &f->platform, tid, alice, &f->a, &u, &err), &err,
		  RS_E_NOT_FOUND, "user.not_found");
	fx_expect(fx_delete(f, &f->platform, tid, alice, 0, &err), &err, RS_E_NOT_FOUND,
		  "user.not_found");
	{
		const char *again = fx_user(f, tid, "alice", NULL, NULL);
		struct user_list ul;
		struct user_list_query q = {.username = "ALICE"};

		assert_string_not_equal(again, alice);
		fx_expect(users_list(f->core, &f->platform, tid, &q, &f->a, &ul, &err), &err, RS_OK,
			  NULL);
		assert_int_equal(ul.n, 1);
		assert_string_equal(ul.items[0].id, again);
	}
	/* Uniqueness is on the username only: same e-mail, external id are fine. */
	{
		struct user_fields a1 = {
		    .username = S("x1"), .email = S("same@x"), .external_id = S("e")};
		struct user_fields a2 = {
		    .username = S("x2"), .email = S("same@x"), .external_id = S("e")};

		fx_expect(users_create(f->core, &f->platform, tid, &a1, &f->a, &u, &err), &err,
			  RS_OK, NULL);
		fx_expect(users_create(f->core, &f->platform, tid, &a2, &f->a, &u, &err), &err,
			  RS_OK, NULL);
	}
}

static void test_if_match(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *id = fx_user(f, tid, "carol", NULL, NULL);
	struct user u;
	struct rs_err err = {0};
	struct user_fields p1 = {.description = S("one")};
	struct user_fields p2 = {.description = S("two")};

	fx_expect(users_update(f->core, &f->platform, tid, id, &p1, 1, &f->a, &u, &err), &err,
		  RS_OK, NULL);
	assert_int_equal(u.version, 2);
	/* Version 1 is stale now. */
	fx_expect(users_update(f->core, &f->platform, tid, id, &p2, 1, &f->a, &u, &err), &err,
		  RS_E_PRECONDITION, "request.precondition_failed");
	fx_expect(users_update(f->core, &f->platform, tid, id, &p2, 3, &f->a, &u, &err), &err,
		  RS_E_PRECONDITION, "request.precondition_failed");
	fx_expect(fx_delete(f, &f->platform, tid, id, 1, &err), &err, RS_E_PRECONDITION,
		  "request.precondition_failed");
	fx_expect(users_get(f->core, &f->platform, tid, id, &f->a, &u, &err), &err, RS_OK, NULL);
	assert_string_equal(u.description, "one"); /* nothing changed */
	assert_int_equal(u.version, 2);
	fx_expect(users_update(f->core, &f->platform, tid, id, &p2, 2, &f->a, &u, &err), &err,
		  RS_OK, NULL);
	assert_string_equal(u.description, "two");
	fx_expect(fx_delete(f, &f->platform, tid, id, 3, &err), &err, RS_OK, NULL);
}

/* ---- lists ------------------------------------------------------------------------------------
 */

#define NLIST 23

struct listed {
	const char *id, *username, *email, *last_name;
	int64_t created_at, updated_at;
};

static struct listed people[NLIST];

static void make_people(struct fx *f, const char *tid)
{
	static const char *const last[] = {"Smith", "jones", NULL, "Brown", "smith", NULL, "Zed"};
	const char *grp = NULL;
	struct group_fields gf = {.name = S("Team")};
	struct group g;
	struct rs_err err = {0};

	fx_expect(groups_create(f->core, &f->platform, tid, &gf, &f->a, &g, &err), &err, RS_OK,
		  NULL);
	grp = g.id;
	for (int i = 0; i < NLIST; i++) {
		/* Mixed case, ties on created_at (three per millisecond), NULL e-mails and last
		 * names, so that the tie-breaker and NULL ordering are both exercised. */
		struct user_fields uf = {
		    .username =
			S(arena_printf(&f->a, i % 2 ? "User%02d" : "user%02d", (i * 7) % NLIST)),
		    .email = i % 4 == 3
				 ? (struct opt_str){false, NULL}
				 : S(arena_printf(&f->a, "%c%d@Example.org", 'a' + (i % 5), i)),
		    .last_name = S(last[i % 7]),
		    .first_name = S(i % 3 ? "Ann" : "Bob"),
		    .type = S(i % 5 ? "standard" : "api"),
		    .system_role = S(i % 6 ? "Member" : "Viewer"),
		};
		struct user u;

		if (!last[i % 7])
			uf.last_name.set = false;
		if (i % 3 == 0)
			f->now += 1;
		fx_expect(users_create(f->core, &f->platform, tid, &uf, &f->a, &u, &err), &err,
			  RS_OK, NULL);
		people[i] =
		    (struct listed){u.id, u.username, u.email, u.last_name, u.created_at, 0};
		if (i % 4 == 1)
			fx_expect(groups_member_add(f->core, &f->platform, tid, grp, u.id, &err),
				  &err, RS_OK, NULL);
	}
	/* updated_at: touch some, in reverse order. */
	for (int i = NLIST - 1; i >= 0; i -= 2) {
		struct user_fields p = {.description = S(arena_printf(&f->a, "d%d", i))};
		struct user u;

		f->now += 1;
		fx_expect(
		    users_update(f->core, &f->platform, tid, people[i].id, &p, 0, &f->a, &u, &err),
		    &err, RS_OK, NULL);
	}
}

/* Compares a and b by the sort key, as the API promises (case-insensitive text, NULL as ""),
 * then by id. */
static int order(const struct user *a, const struct user *b, const char *key)
{
	int c = 0;

	if (strcmp(key, "created_at") == 0)
		c = a->created_at < b->created_at ? -1 : a->created_at > b->created_at;
	else if (strcmp(key, "updated_at") == 0)
		c = a->updated_at < b->updated_at ? -1 : a->updated_at > b->updated_at;
	else {
		const char *x = strcmp(key, "username") == 0 ? a->username
				: strcmp(key, "email") == 0  ? a->email
							     : a->last_name;
		const char *y = strcmp(key, "username") == 0 ? b->username
				: strcmp(key, "email") == 0  ? b->email
							     : b->last_name;

		c = strcasecmp(x ? x : "", y ? y : "");
	}
	return c ? c : strcmp(a->id, b->id);
}

/* Pages through a query with the given limit; checks order and that each row comes once. */
static int walk(struct fx *f, const char *tid, struct user_list_query q, int limit,
		const char **ids, int cap)
{
	int n = 0, pages = 0;
	struct user prev = {0};
	bool has_prev = false;
	const char *key = q.sort ? (q.sort[0] == '-' ? q.sort + 1 : q.sort) : "created_at";
	bool desc = q.sort && q.sort[0] == '-';

	q.page.limit = limit;
	q.page.cursor = NULL;
	for (;;) {
		struct user_list ul;
		struct rs_err err = {0};

		fx_expect(users_list(f->core, &f->platform, tid, &q, &f->a, &ul, &err), &err, RS_OK,
			  NULL);
		assert_true(ul.n <= limit);
		assert_true(++pages <= cap + 2);
		for (int i = 0; i < ul.n; i++) {
			for (int k = 0; k < n; k++) {
				if (strcmp(ids[k], ul.items[i].id) == 0)
					fail_msg("sort %s limit %d: %s listed twice",
						 q.sort ? q.sort : "", limit, ul.items[i].username);
			}
			if (has_prev) {
				int c = order(&prev, &ul.items[i], key);

				if (desc ? c < 0 : c > 0)
					fail_msg("sort %s limit %d: %s before %s",
						 q.sort ? q.sort : "", limit, prev.username,
						 ul.items[i].username);
			}
			prev = ul.items[i];
			has_prev = true;
			assert_true(n < cap);
			ids[n++] = ul.items[i].id;
		}
		if (!ul.next_cursor) {
			break;
		}
		assert_int_equal(ul.n, limit); /* only full pages have a next cursor */
		q.page.cursor = ul.next_cursor;
	}
	return n;
}

static void test_list_sorts_and_paging(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	static const char *const sorts[] = {
	    NULL,	 "created_at", "-created_at", "updated_at", "-updated_at", "username",
	    "-username", "email",      "-email",      "last_name",  "-last_name",
	};
	static const int limits[] = {1, 2, 5, 22, 23, 24, 200};
	const char *ids[NLIST + 5];

	make_people(f, tid);
	for (size_t s = 0; s < sizeof(sorts) / sizeof(sorts[0]); s++) {
		for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
			struct user_list_query q = {.sort = sorts[s]};
			int n = walk(f, tid, q, limits[l], ids, NLIST + 5);

			if (n != NLIST)
				fail_msg("sort %s limit %d: %d rows, want %d",
					 sorts[s] ? sorts[s] : "", limits[l], n, NLIST);
		}
	}
}

static int count_expected(const char *tid, bool (*pred)(int i))
{
	int n = 0;

	(void)tid;
	for (int i = 0; i < NLIST; i++)
		n += pred(i);
	return n;
}

static bool p_api(int i)
{
	return i % 5 == 0;
}
static bool p_viewer(int i)
{
	return i % 6 == 0;
}
static bool p_group(int i)
{
	return i % 4 == 1;
}
static bool p_bob(int i)
{
	return i % 3 == 0;
}
static bool p_smith(int i)
{
	return i % 7 == 0 || i % 7 == 4;
}
static bool p_email_a(int i)
{
	return i % 4 != 3 && i % 5 == 0;
}
static bool p_no_email(int i)
{
	return i % 4 == 3;
}

static void test_list_filters(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *ids[NLIST + 5];
	static const struct {
		struct user_list_query q;
		bool (*pred)(int i);
		int n; /* used when pred is NULL */
	} t[] = {
	    {{.type = "api"}, p_api, 0},
	    {{.role = "Viewer"}, p_viewer, 0},
	    {{.role = "viewer"}, p_viewer, 0},
	    {{.role = "No Such Role"}, NULL, 0},
	    {{.group = "team"}, p_group, 0},
	    {{.group = "nope"}, NULL, 0},
	    {{.name = "bob"}, p_bob, 0},     /* first name, exact, case-insensitive */
	    {{.name = "SMITH"}, p_smith, 0}, /* or last name */
	    {{.name = "smi"}, NULL, 0},	     /* exact, not prefix */
	    {{.name_prefix = "smi"}, p_smith, 0},
	    {{.email_prefix = "A"}, p_email_a, 0},
	    {{.username = "USER00"}, NULL, 1},
	    {{.username = "user0"}, NULL, 0},
	    {{.username_prefix = "user0"}, NULL, 10},
	    {{.username_prefix = "USER1"}, NULL, 10},
	    {{.q = "EXAMPLE"}, NULL, NLIST - 5}, /* substring of the e-mail */
	    {{.q = "ser2"}, NULL, 3},
	    {{.q = "%"}, NULL, 0}, /* LIKE wildcards are literal */
	    {{.q = "_"}, NULL, 0},
	    {{.status = "active"}, NULL, NLIST},
	    {{.status = "suspended"}, NULL, 0},
	    {{.type = "api", .role = "Viewer"}, NULL, 1}, /* i = 0 mod 30: only i = 0 */
	};

	make_people(f, tid);
	(void)p_no_email;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int want = t[i].pred ? count_expected(tid, t[i].pred) : t[i].n;
		int got = walk(f, tid, t[i].q, 4, ids, NLIST + 5);

		if (got != want)
			fail_msg("filter row %zu: %d rows, want %d", i, got, want);
	}
	/* Bad parameters. */
	{
		struct user_list ul;
		struct rs_err err = {0};
		struct user_list_query bad[] = {{.sort = "password"},
						{.sort = "--username"},
						{.sort = ""},
						{.status = "deleted"},
						{.type = "robot"}};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			fx_expect(users_list(f->core, &f->platform, tid, &bad[i], &f->a, &ul, &err),
				  &err, RS_E_INVALID, "request.invalid_parameter");
	}
}

/* ---- positional pages (SCIM startIndex) and the paging caches (core/list_cache.c) ---------- */

/* Every positional page of a selection, with its total, against one page holding all of it
 * (offset 0, no total: never through the caches). */
static void check_positional(struct fx *f, const char *tid, const char *sort,
			     const struct pred *where, int limit, const char *what)
{
	struct user_list_query all = {.sort = sort, .where = where};
	struct user_list ref;
	struct rs_err err = {0};

	all.page.limit = 200;
	fx_expect(users_list(f->core, &f->platform, tid, &all, &f->a, &ref, &err), &err, RS_OK,
		  NULL);
	/* A page's roles and groups come from one query each (users_complete_page): the same as
	 * reading each user alone. */
	for (int i = 0; i < ref.n; i++) {
		const struct user *l = &ref.items[i];
		struct user g;

		fx_expect(users_get(f->core, &f->platform, tid, l->id, &f->a, &g, &err), &err,
			  RS_OK, NULL);
		assert_string_equal(l->system_role.name, g.system_role.name);
		assert_int_equal(l->rank, g.rank);
		assert_int_equal(l->nroles, g.nroles);
		assert_int_equal(l->ngroups, g.ngroups);
		for (int k = 0; k < l->nroles; k++)
			assert_string_equal(l->roles[k].id, g.roles[k].id);
		for (int k = 0; k < l->ngroups; k++)
			assert_string_equal(l->groups[k].name, g.groups[k].name);
	}
	for (int off = 0; off <= ref.n + limit; off += limit) {
		struct user_list_query q = {
		    .sort = sort, .where = where, .offset = off, .with_total = true};
		struct user_list pg;
		int want = ref.n - off < 0 ? 0 : ref.n - off > limit ? limit : ref.n - off;

		q.page.limit = limit;
		fx_expect(users_list(f->core, &f->platform, tid, &q, &f->a, &pg, &err), &err, RS_OK,
			  NULL);
		if (pg.total != ref.n || pg.n != want)
			fail_msg("%s, sort %s, offset %d: %d rows of %lld, want %d of %d", what,
				 sort ? sort : "", off, pg.n, (long long)pg.total, want, ref.n);
		for (int i = 0; i < pg.n; i++) {
			if (strcmp(pg.items[i].id, ref.items[off + i].id) != 0)
				fail_msg("%s, sort %s, offset %d, row %d: %s, want %s", what,
					 sort ? sort : "", off, i, pg.items[i].username,
					 ref.items[off + i].username);
		}
	}
}

static const char *some_user(struct fx *f, const char *tid, const char *sort, int at)
{
	struct user_list_query q = {.sort = sort, .offset = at};
	struct user_list ul;
	struct rs_err err = {0};

	q.page.limit = 1;
	fx_expect(users_list(f->core, &f->platform, tid, &q, &f->a, &ul, &err), &err, RS_OK, NULL);
	assert_int_equal(ul.n, 1);
	return ul.items[0].id;
}

static void test_positional_paging(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	static const char *const sorts[] = {NULL,	 "username",	"-email",
					    "last_name", "-updated_at", "-created_at"};
	struct pred co = {.op = PRED_CO, .attr = USER_A_USERNAME, .s = "SER1"};
	struct pred sw = {.op = PRED_SW, .attr = USER_A_LAST_NAME, .s = "SMI"};
	struct pred or = {.op = PRED_OR, .a = &co, .b = &sw};
	struct user_fields uf = {.username = S("aaa-first"), .last_name = S("Aaron")};
	struct user_fields ren = {.username = S("zzz-renamed"), .last_name = S("Smithers")};
	struct user u;
	struct rs_err err = {0};
	const char *id;

	make_people(f, tid);
	/* More than one group and tenant role for some, in an order to keep. */
	{
		struct group_fields gf = {.name = S("Alpha")};
		struct group g;
		static const char *const perms[] = {"users.read"};
		struct role_create_req rq = {
		    .name = "Editor", .rank = 200, .permissions = perms, .npermissions = 1};
		struct role ro;
		static const char *const roles[] = {"Editor", NULL};
		struct user_fields rf = {.roles_set = true, .roles = roles, .nroles = 1};
		struct user ru;

		fx_expect(groups_create(f->core, &f->platform, tid, &gf, &f->a, &g, &err), &err,
			  RS_OK, NULL);
		fx_expect(roles_create(f->core, &f->platform, tid, &rq, &f->a, &ro, &err), &err,
			  RS_OK, NULL);
		for (int i = 0; i < 6; i++) {
			id = some_user(f, tid, "username", i * 3);
			fx_expect(groups_member_add(f->core, &f->platform, tid, g.id, id, &err),
				  &err, RS_OK, NULL);
			fx_expect(
			    users_update(f->core, &f->platform, tid, id, &rf, 0, &f->a, &ru, &err),
			    &err, RS_OK, NULL);
		}
	}
	/* Twice: the second walk goes through the positions and totals the first remembered. */
	for (int k = 0; k < 2; k++) {
		for (size_t s = 0; s < sizeof(sorts) / sizeof(sorts[0]); s++) {
			check_positional(f, tid, sorts[s], NULL, 4, "all");
			check_positional(f, tid, sorts[s], & or, 2, "co or sw");
			check_positional(f, tid, sorts[s], &co, 1, "co");
		}
	}
	/* Each write between two walks moves rows; the next walk must see it, not the cache. */
	fx_expect(users_create(f->core, &f->platform, tid, &uf, &f->a, &u, &err), &err, RS_OK,
		  NULL);
	for (size_t s = 0; s < sizeof(sorts) / sizeof(sorts[0]); s++)
		check_positional(f, tid, sorts[s], NULL, 4, "after a create");
	id = some_user(f, tid, "username", 7);
	f->now += 1;
	fx_expect(users_update(f->core, &f->platform, tid, id, &ren, 0, &f->a, &u, &err), &err,
		  RS_OK, NULL);
	for (size_t s = 0; s < sizeof(sorts) / sizeof(sorts[0]); s++) {
		check_positional(f, tid, sorts[s], NULL, 4, "after a rename");
		check_positional(f, tid, sorts[s], & or, 2, "co or sw after a rename");
	}
	/* A write by another process (or node) moves the generation too: it is the database's. */
	fx_sql(f, "UPDATE users SET created_at = 0 WHERE username_key = 'user05'");
	check_positional(f, tid, NULL, NULL, 4, "after another process's write");
	check_positional(f, tid, "-created_at", NULL, 3, "after another process's write");
}

/* The cache is what answers a remembered position: with the generation put back by hand after
 * a change, the page is the remembered one, not OFFSET's (so the generation is the one thing
 * that keeps positional pages exact). */
static void test_positional_paging_uses_cache(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	struct user_list_query q = {.sort = "username", .offset = 4, .with_total = true};
	struct user_list a, b;
	struct rs_err err = {0};
	int64_t gen;
	char sql[256];

	make_people(f, tid);
	q.page.limit = 4;
	q.offset = 0;
	fx_expect(users_list(f->core, &f->platform, tid, &q, &f->a, &a, &err), &err, RS_OK, NULL);
	q.offset = 4;
	fx_expect(users_list(f->core, &f->platform, tid, &q, &f->a, &a, &err), &err, RS_OK, NULL);
	gen = fx_sql_int(f, "SELECT users_gen FROM tenants WHERE slug = 'acme'");
	/* The first user by name moves last: OFFSET 4 now starts one row later. */
	snprintf(sql, sizeof(sql),
		 "UPDATE users SET username_key = 'zzzz' WHERE id = '%s'; UPDATE tenants SET "
		 "users_gen = %lld WHERE slug = 'acme'",
		 some_user(f, tid, "username", 0), (long long)gen);
	fx_sql(f, sql);
	fx_expect(users_list(f->core, &f->platform, tid, &q, &f->a, &b, &err), &err, RS_OK, NULL);
	assert_int_equal(a.n, b.n);
	for (int i = 0; i < a.n; i++)
		assert_string_equal(a.items[i].id, b.items[i].id);
	assert_int_equal(a.total, b.total);
}

/* users_gen moves with every commit that changes users (the paging caches rely on it); on
 * PostgreSQL once per transaction and tenant, not once per row (migration 0015: one UPDATE of
 * the tenant row per row written made a large transaction quadratic). */
static void test_users_gen_once_per_transaction(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *gen = "SELECT users_gen FROM tenants WHERE slug = 'acme'";
	const char *touch = "UPDATE users SET updated_at = updated_at + 1 WHERE tenant_id = "
			    "(SELECT id FROM tenants WHERE slug = 'acme')";
	int64_t n, g0, g1, g2;

	make_people(f, tid);
	n = fx_sql_int(f, "SELECT count(*) FROM users WHERE tenant_id = (SELECT id FROM tenants "
			  "WHERE slug = 'acme')");
	assert_true(n > 2);
	g0 = fx_sql_int(f, gen);
	fx_sql_live(f, touch); /* one statement, one transaction, n rows */
	g1 = fx_sql_int(f, gen);
	fx_sql_live(f, touch);
	g2 = fx_sql_int(f, gen);
	assert_int_equal(g1 - g0, fx_is_pg(f) ? 1 : n);
	assert_int_equal(g2 - g1, fx_is_pg(f) ? 1 : n);
}

/* A walk of a large tenant stores one position per page; its total, the dearest entry to
 * compute again, stays (totals have slots of their own), and answers only for its generation. */
static void test_list_cache_walk_keeps_its_total(void **state)
{
	struct list_cache *lc = list_cache_new();
	const char *fp = "users t-1 20 ";
	struct arena a;
	const char *val, *id;
	int64_t total = 0;

	(void)state;
	assert_non_null(lc);
	arena_init(&a, 0);
	list_cache_total_put(lc, fp, 7, 1000002);
	for (int64_t pos = 1000; pos <= 4 * LIST_CACHE_SLOTS * 1000; pos += 1000)
		list_cache_pos_put(lc, fp, 7, pos, "01a204d4-cedd-7121-8c97-3aa76db0bf48",
				   "01a204d4-cedd-7121-8c97-3aa76db0bf48");
	assert_true(list_cache_total_get(lc, fp, 7, &total));
	assert_int_equal(total, 1000002);
	assert_false(list_cache_total_get(lc, fp, 8, &total));
	assert_true(list_cache_pos_get(lc, fp, 7, 4 * LIST_CACHE_SLOTS * 1000, &a, &val, &id));
	assert_string_equal(id, "01a204d4-cedd-7121-8c97-3aa76db0bf48");
	assert_false(list_cache_pos_get(lc, fp, 8, 4 * LIST_CACHE_SLOTS * 1000, &a, &val, &id));
	arena_release(&a);
	list_cache_free(lc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_cache_walk_keeps_its_total),
	    cmocka_unit_test_setup_teardown(test_users_gen_once_per_transaction, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_validation, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_create_roundtrip, fx_setup, fx_teardown),
	    cmocka_unit_test(test_merge_patch_rfc7396),
	    cmocka_unit_test_setup_teardown(test_custom_attributes_patch, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_custom_attributes_cap, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_custom_attributes_shape, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_username_unique, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_if_match, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_list_sorts_and_paging, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_list_filters, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_positional_paging, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_positional_paging_uses_cache, fx_setup,
					    fx_teardown),
	};

	return cmocka_run_group_tests_name("core/users", tests, NULL, NULL);
}
