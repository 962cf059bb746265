/* The store contract suite: what every engine must do, checked through store.h only (the
 * engine-specific checks are in test_sqlite.c). Each test uses a fresh database file. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "util/str.h"

#define OK(x) assert_int_equal((x), RS_OK)

static struct store *fresh(const char *name)
{
	char p[512];
	struct store *s;

	th_path(p, sizeof(p), name);
	s = th_open(p, STORE_SYNC_FULL);
	assert_non_null(s);
	return s;
}

/* Every migration exists for both engines: a schema version means the same schema on each. */
extern const int pg_migrations_count;

static void test_engines_have_the_same_migrations(void **state)
{
	(void)state;
	assert_true(sqlite_migrations_count >= 5);
	assert_int_equal(sqlite_migrations_count, pg_migrations_count);
}

static void test_migrations_idempotent(void **state)
{
	char p[512];
	struct store *s;
	struct th_res *r = th_res_new();
	struct rs_err err;

	th_path(p, sizeof(p), "mig.db");
	s = th_open(p, STORE_SYNC_FULL);
	assert_non_null(s);
	assert_int_equal(store_schema_version(s), TH_SCHEMA_VERSION);
	assert_string_equal(store_engine(s), th_pg() ? "pg" : "sqlite");
	OK(th_tenant(s, "t1", "acme"));
	store_free(s);
	/* Reopening must not re-run 0001 (it would fail on existing tables). */
	for (int i = 0; i < 2; i++) {
		s = th_open(p, STORE_SYNC_NORMAL);
		assert_non_null(s);
		assert_int_equal(store_schema_version(s), TH_SCHEMA_VERSION);
		OK(th_query(s, Q_TENANT_GET_ID, (struct store_val[]){SV_S("t1")}, 1, 9, r, &err));
		assert_int_equal(r->nrows, 1);
		store_free(s);
	}
	th_res_free(r);
	store_free(NULL);
}

static void test_bad_config(void **state)
{
	struct store_config cfg = {.path = ":memory:"};
	struct store *s = (struct store *)1;
	struct rs_err err;

	assert_int_equal(store_open(&cfg, &s, &err), RS_E_INVALID);
	assert_null(s);
	/* A PostgreSQL URI selects the pg engine: nothing listens on port 1, so the store is
	 * unavailable (retryable), not misconfigured. */
	cfg.path = "postgresql://127.0.0.1:1/y?connect_timeout=2";
	assert_int_equal(store_open(&cfg, &s, &err), RS_E_UNAVAILABLE);
	assert_string_equal(err.code, "store.unavailable");
	assert_null(s);
	cfg.path = "postgres://127.0.0.1:1/y?pool=0";
	assert_int_equal(store_open(&cfg, &s, &err), RS_E_INVALID);
	assert_string_equal(err.code, "store.bad_config");
}

static void test_tenant_roundtrip(void **state)
{
	struct store *s = fresh("tenant.db");
	struct th_res *r = th_res_new();
	struct rs_err err;
	int64_t ch = -1;

	OK(th_tenant(s, "t1", "acme"));
	OK(th_query(s, Q_TENANT_GET_ID, (struct store_val[]){SV_S("t1")}, 1, 9, r, &err));
	assert_int_equal(r->nrows, 1);
	assert_string_equal(r->text[0][TC_ID], "t1");
	assert_string_equal(r->text[0][TC_SLUG], "acme");
	assert_string_equal(r->text[0][TC_NAME], "acme");
	assert_string_equal(r->text[0][TC_TEMPLATE], "default");
	assert_string_equal(r->text[0][TC_STATUS], "active");
	assert_string_equal(r->text[0][TC_SETTINGS], "{}");
	assert_int_equal(r->ints[0][TC_CREATED], 1000);
	assert_int_equal(r->ints[0][TC_UPDATED], 1000);
	assert_int_equal(r->ints[0][TC_VERSION], 1);
	OK(th_query(s, Q_TENANT_GET_SLUG, (struct store_val[]){SV_S("acme")}, 1, 9, r, &err));
	assert_int_equal(r->nrows, 1);
	OK(th_tenant(s, "t2", "beta"));
	OK(th_query(s, Q_TENANT_LIST, (struct store_val[]){SV_NULLV, SV_I(10)}, 2, 9, r, &err));
	assert_int_equal(r->nrows, 2);
	OK(th_query(s, Q_TENANT_LIST, (struct store_val[]){SV_S("t1"), SV_I(10)}, 2, 9, r, &err));
	assert_int_equal(r->nrows, 1);
	assert_string_equal(r->text[0][TC_ID], "t2");

	OK(th_exec(s, Q_TENANT_UPDATE,
		   (struct store_val[]){SV_S("t1"), SV_S("Acme 2"), SV_S("{\"a\":1}"), SV_I(2000),
					SV_I(1)},
		   5, &ch, &err));
	assert_int_equal(ch, 1);
	OK(th_exec(s, Q_TENANT_UPDATE,
		   (struct store_val[]){SV_S("t1"), SV_S("stale"), SV_S("{}"), SV_I(2000), SV_I(1)},
		   5, &ch, &err));
	assert_int_equal(ch, 0); /* optimistic version check */
	OK(th_query(s, Q_TENANT_GET_ID, (struct store_val[]){SV_S("t1")}, 1, 9, r, &err));
	assert_string_equal(r->text[0][TC_NAME], "Acme 2");
	assert_string_equal(r->text[0][TC_SETTINGS], "{\"a\":1}");
	assert_int_equal(r->ints[0][TC_VERSION], 2);

	OK(th_query(s, Q_TENANT_AUDIT_HEAD, (struct store_val[]){SV_S("t1")}, 1, 2, r, &err));
	assert_int_equal(r->ints[0][0], 0);
	assert_string_equal(r->text[0][1], "");
	OK(th_exec(s, Q_TENANT_AUDIT_SET, (struct store_val[]){SV_S("t1"), SV_I(5), SV_S("h5")}, 3,
		   NULL, &err));
	OK(th_query(s, Q_TENANT_AUDIT_HEAD, (struct store_val[]){SV_S("t1")}, 1, 2, r, &err));
	assert_int_equal(r->ints[0][0], 5);
	assert_string_equal(r->text[0][1], "h5");

	OK(th_exec(s, Q_TENANT_DELETE, (struct store_val[]){SV_S("t1"), SV_I(3000)}, 2, &ch, &err));
	assert_int_equal(ch, 1);
	OK(th_query(s, Q_TENANT_GET_ID, (struct store_val[]){SV_S("t1")}, 1, 9, r, &err));
	assert_int_equal(r->nrows, 0);
	OK(th_query(s, Q_TENANT_LIST_ALL, NULL, 0, 3, r, &err));
	assert_int_equal(r->nrows, 2);
	assert_string_equal(r->text[0][2], "deleted");
	/* The slug of a deleted tenant is free again (partial unique index). */
	OK(th_tenant(s, "t3", "acme"));
	/* Wrong argument count is a core bug, reported as such. */
	assert_int_equal(
	    th_exec(s, Q_TENANT_DELETE, (struct store_val[]){SV_S("t1")}, 1, NULL, &err),
	    RS_E_INTERNAL);
	th_res_free(r);
	store_free(s);
}

static void role_insert(struct store *s, const char *id, const char *name, int rank, int def)
{
	struct arena a;
	struct rs_err err;

	arena_init(&a, 0);
	struct store_val v[] = {
	    SV_S("t1"),	    SV_S(id),	SV_S(name),	    SV_S(str_lower(&a, name)),
	    SV_S("tenant"), SV_I(rank), SV_S("users.read"), SV_S("d"),
	    SV_I(0),	    SV_I(def),	SV_I(1000),	    SV_NULLV};
	OK(th_exec(s, Q_ROLE_INSERT, v, 12, NULL, &err));
	arena_release(&a);
}

static void test_roles_users_groups_roundtrip(void **state)
{
	struct store *s = fresh("rug.db");
	struct th_res *r = th_res_new();
	struct rs_err err;
	int64_t ch;

	OK(th_tenant(s, "t1", "acme"));
	role_insert(s, "r1", "Admin", 100, 0);
	role_insert(s, "r-user", "User", 10, 1);
	OK(th_query(s, Q_ROLE_GET, (struct store_val[]){SV_S("t1"), SV_S("r1")}, 2, 12, r, &err));
	assert_int_equal(r->nrows, 1);
	assert_string_equal(r->text[0][RC_NAME], "Admin");
	assert_string_equal(r->text[0][RC_SCOPE], "tenant");
	assert_int_equal(r->ints[0][RC_RANK], 100);
	assert_string_equal(r->text[0][RC_PERMS], "users.read");
	assert_int_equal(r->ints[0][RC_VERSION], 1);
	OK(th_query(s, Q_ROLE_GET_NAME, (struct store_val[]){SV_S("t1"), SV_S("admin")}, 2, 12, r,
		    &err));
	assert_int_equal(r->nrows, 1);
	OK(th_query(s, Q_ROLE_LIST, (struct store_val[]){SV_S("t1")}, 1, 12, r, &err));
	assert_int_equal(r->nrows, 2);
	assert_string_equal(r->text[0][RC_ID], "r1"); /* rank desc */
	OK(th_query(s, Q_ROLE_DEFAULT, (struct store_val[]){SV_S("t1")}, 1, 12, r, &err));
	assert_string_equal(r->text[0][RC_ID], "r-user");
	OK(th_exec(s, Q_ROLE_UPDATE,
		   (struct store_val[]){SV_S("t1"), SV_S("r1"), SV_S("Boss"), SV_S("boss"),
					SV_I(90), SV_S("*"), SV_NULLV, SV_I(2000), SV_NULLV},
		   9, &ch, &err));
	assert_int_equal(ch, 1);
	OK(th_query(s, Q_ROLE_GET, (struct store_val[]){SV_S("t1"), SV_S("r1")}, 2, 12, r, &err));
	assert_string_equal(r->text[0][RC_NAME], "Boss");
	assert_null(r->text[0][RC_DESC]);
	assert_true(r->null[0][RC_DESC]);

	struct th_user u = {.tenant = "t1",
			    .id = "u1",
			    .username = "Alice",
			    .email = "Alice@Example.com",
			    .first = "Alice",
			    .last = "Liddell",
			    .sysrole = "r1",
			    .extid = "ext-1",
			    .created = 1000};
	OK(th_user_insert(s, &u, &err));
	OK(th_query(s, Q_USER_GET, (struct store_val[]){SV_S("t1"), SV_S("u1")}, 2, 35, r, &err));
	assert_int_equal(r->nrows, 1);
	assert_string_equal(r->text[0][UC_TENANT], "t1");
	assert_string_equal(r->text[0][UC_USERNAME], "Alice");
	assert_string_equal(r->text[0][UC_EMAIL], "Alice@Example.com");
	assert_string_equal(r->text[0][UC_FIRST], "Alice");
	assert_string_equal(r->text[0][UC_LAST], "Liddell");
	assert_string_equal(r->text[0][UC_TYPE], "person");
	assert_string_equal(r->text[0][UC_STATUS], "active");
	assert_string_equal(r->text[0][UC_SYSROLE], "r1");
	assert_string_equal(r->text[0][UC_EXTID], "ext-1");
	assert_string_equal(r->text[0][UC_CUSTOM], "{}");
	assert_int_equal(r->ints[0][UC_LOCKED], 0);
	assert_true(r->null[0][UC_LASTLOGIN]);
	assert_int_equal(r->ints[0][UC_CREATED], 1000);
	assert_int_equal(r->ints[0][UC_VERSION], 1);
	OK(th_query(s, Q_USER_BY_USERNAME, (struct store_val[]){SV_S("t1"), SV_S("alice")}, 2, 25,
		    r, &err));
	assert_int_equal(r->nrows, 1);
	u.updated = 2000;
	u.first = "Alicia";
	u.created = 2000;
	struct store_val up[25];
	{
		struct arena a;

		arena_init(&a, 0);
		struct store_val tmp[25] = {
		    SV_S("t1"),	  SV_S("u1"),	 SV_S("Alice"),	    SV_S("alice"),
		    SV_NULLV,	  SV_NULLV,	 SV_S("Alicia"),    SV_S("alicia"),
		    SV_S("L"),	  SV_S("l"),	 SV_S("person"),    SV_S("suspended"),
		    SV_S("r1"),	  SV_S("IT"),	 SV_S("en"),	    SV_S("UTC"),
		    SV_S("desc"), SV_NULLV,	 SV_S("{\"k\":1}"), SV_S("pw"),
		    SV_I(15),	  SV_S("08:00"), SV_S("strict"),    SV_I(2000),
		    SV_NULLV};
		memcpy(up, tmp, sizeof(up));
		OK(th_exec(s, Q_USER_UPDATE, up, 25, &ch, &err));
		assert_int_equal(ch, 1);
		arena_release(&a);
	}
	OK(th_query(s, Q_USER_GET, (struct store_val[]){SV_S("t1"), SV_S("u1")}, 2, 35, r, &err));
	assert_string_equal(r->text[0][UC_FIRST], "Alicia");
	assert_string_equal(r->text[0][UC_STATUS], "suspended");
	assert_string_equal(r->text[0][UC_DEPT], "IT");
	assert_string_equal(r->text[0][UC_LOCALE], "en");
	assert_string_equal(r->text[0][UC_TZ], "UTC");
	assert_string_equal(r->text[0][UC_DESC], "desc");
	assert_true(r->null[0][UC_EXTID]);
	assert_true(r->null[0][UC_EMAIL]);
	assert_string_equal(r->text[0][UC_CUSTOM], "{\"k\":1}");
	assert_string_equal(r->text[0][UC_REQACT], "pw");
	assert_int_equal(r->ints[0][UC_IDLE], 15);
	assert_string_equal(r->text[0][UC_SUMMARY], "08:00");
	assert_string_equal(r->text[0][UC_SECPROF], "strict");
	assert_int_equal(r->ints[0][UC_UPDATED], 2000);
	assert_int_equal(r->ints[0][UC_VERSION], 2);

	/* tenant roles */
	OK(th_exec(s, Q_USER_ROLE_ADD, (struct store_val[]){SV_S("t1"), SV_S("u1"), SV_S("r-user")},
		   3, &ch, &err));
	assert_int_equal(ch, 1);
	OK(th_exec(s, Q_USER_ROLE_ADD, (struct store_val[]){SV_S("t1"), SV_S("u1"), SV_S("r-user")},
		   3, &ch, &err));
	assert_int_equal(ch, 0);
	OK(th_query(s, Q_USER_ROLES, (struct store_val[]){SV_S("t1"), SV_S("u1")}, 2, 12, r, &err));
	assert_int_equal(r->nrows, 1);
	assert_string_equal(r->text[0][RC_ID], "r-user");
	OK(th_query(s, Q_ROLE_USES, (struct store_val[]){SV_S("t1"), SV_S("r1")}, 2, 1, r, &err));
	assert_int_equal(r->ints[0][0], 1);
	OK(th_query(s, Q_ROLE_USES, (struct store_val[]){SV_S("t1"), SV_S("r-user")}, 2, 1, r,
		    &err));
	assert_int_equal(r->ints[0][0], 1);
	OK(th_exec(s, Q_USER_ROLES_CLEAR, (struct store_val[]){SV_S("t1"), SV_S("u1")}, 2, &ch,
		   &err));
	assert_int_equal(ch, 1);

	/* groups */
	OK(th_group(s, "t1", "g1", "Ops"));
	OK(th_query(s, Q_GROUP_GET, (struct store_val[]){SV_S("t1"), SV_S("g1")}, 2, 8, r, &err));
	assert_int_equal(r->nrows, 1);
	assert_string_equal(r->text[0][GC_NAME], "Ops");
	assert_int_equal(r->ints[0][GC_MEMBERS], 0);
	OK(th_query(s, Q_GROUP_GET_NAME, (struct store_val[]){SV_S("t1"), SV_S("ops")}, 2, 8, r,
		    &err));
	assert_int_equal(r->nrows, 1);
	struct store_val gm[] = {SV_S("t1"), SV_S("g1"), SV_S("u1"), SV_I(1000)};
	OK(th_exec(s, Q_GROUP_MEMBER_ADD, gm, 4, &ch, &err));
	assert_int_equal(ch, 1);
	OK(th_exec(s, Q_GROUP_MEMBER_ADD, gm, 4, &ch, &err));
	assert_int_equal(ch, 0);
	OK(th_query(s, Q_GROUP_GET, (struct store_val[]){SV_S("t1"), SV_S("g1")}, 2, 8, r, &err));
	assert_int_equal(r->ints[0][GC_MEMBERS], 1);
	OK(th_query(s, Q_GROUP_MEMBERS,
		    (struct store_val[]){SV_S("t1"), SV_S("g1"), SV_NULLV, SV_I(10)}, 4, 2, r,
		    &err));
	assert_int_equal(r->nrows, 1);
	assert_string_equal(r->text[0][1], "Alice");
	OK(th_query(s, Q_USER_GROUPS, (struct store_val[]){SV_S("t1"), SV_S("u1")}, 2, 2, r, &err));
	assert_int_equal(r->nrows, 1);
	assert_string_equal(r->text[0][1], "Ops");
	OK(th_query(s, Q_GROUP_LIST, (struct store_val[]){SV_S("t1"), SV_NULLV, SV_I(10)}, 3, 8, r,
		    &err));
	assert_int_equal(r->nrows, 1);
	OK(th_exec(s, Q_GROUP_UPDATE,
		   (struct store_val[]){SV_S("t1"), SV_S("g1"), SV_S("Ops2"), SV_S("ops2"),
					SV_S("d"), SV_I(5), SV_S("ext-1")},
		   7, &ch, &err));
	assert_int_equal(ch, 1);
	OK(th_exec(s, Q_GROUP_MEMBER_REMOVE, gm, 3, &ch, &err));
	assert_int_equal(ch, 1);
	OK(th_exec(s, Q_GROUP_MEMBER_ADD, gm, 4, &ch, &err));
	OK(th_exec(s, Q_USER_GROUPS_CLEAR, (struct store_val[]){SV_S("t1"), SV_S("u9")}, 2, &ch,
		   &err));
	assert_int_equal(ch, 0);
	OK(th_exec(s, Q_GROUP_MEMBERS_CLEAR, gm, 2, &ch, &err));
	OK(th_query(s, Q_GROUP_GET, (struct store_val[]){SV_S("t1"), SV_S("g1")}, 2, 9, r, &err));
	assert_int_equal(r->ints[0][GC_MEMBERS], 0);
	assert_int_equal(r->ints[0][GC_VERSION], 2);
	assert_string_equal(r->text[0][GC_EXTERNAL_ID], "ext-1");
	OK(th_exec(s, Q_GROUP_TOUCH, (struct store_val[]){SV_S("t1"), SV_S("g1"), SV_I(9)}, 3, &ch,
		   &err));
	assert_int_equal(ch, 1);
	OK(th_query(s, Q_GROUP_GET, (struct store_val[]){SV_S("t1"), SV_S("g1")}, 2, 9, r, &err));
	assert_int_equal(r->ints[0][GC_VERSION], 3);
	assert_int_equal(r->ints[0][GC_UPDATED], 9);
	OK(th_exec(s, Q_GROUP_DELETE, gm, 2, &ch, &err));
	assert_int_equal(ch, 1);

	/* a deleted user disappears from reads */
	OK(th_exec(
	    s, Q_USER_DELETE,
	    (struct store_val[]){SV_S("t1"), SV_S("u1"), SV_I(9), SV_NULLV, SV_S("hmac-sha256:00")},
	    5, &ch, &err));
	assert_int_equal(ch, 1);
	OK(th_query(s, Q_USER_GET, (struct store_val[]){SV_S("t1"), SV_S("u1")}, 2, 35, r, &err));
	assert_int_equal(r->nrows, 0);
	OK(th_query(s, Q_ROLE_USES, (struct store_val[]){SV_S("t1"), SV_S("r1")}, 2, 1, r, &err));
	assert_int_equal(r->ints[0][0], 0);
	OK(th_exec(s, Q_ROLE_DELETE, (struct store_val[]){SV_S("t1"), SV_S("r1")}, 2, &ch, &err));
	assert_int_equal(ch, 1);
	th_res_free(r);
	store_free(s);
}

static void test_tokens_audit_roundtrip(void **state)
{
	struct store *s = fresh("tok.db");
	struct th_res *r = th_res_new();
	struct rs_err err;
	int64_t ch;

	OK(th_tenant(s, "t1", "acme"));
	struct store_val tk[] = {SV_S("t1"), SV_S("k1"), SV_S("look1"), SV_S("hash"), SV_S("u1"),
				 SV_S("ci"), SV_S("r1"), SV_S("u0"),	SV_I(1000),   SV_NULLV};
	OK(th_exec(s, Q_TOKEN_INSERT, tk, 10, NULL, &err));
	tk[1] = SV_S("k2");
	tk[2] = SV_S("look2");
	tk[4] = SV_S("u2");
	tk[9] = SV_I(5000);
	OK(th_exec(s, Q_TOKEN_INSERT, tk, 10, NULL, &err));
	OK(th_query(s, Q_TOKEN_BY_LOOKUP, (struct store_val[]){SV_S("look1")}, 1, 12, r, &err));
	assert_int_equal(r->nrows, 1);
	assert_string_equal(r->text[0][KC_ID], "k1");
	assert_string_equal(r->text[0][KC_HASH], "hash");
	assert_string_equal(r->text[0][KC_CREATED_BY], "u0");
	assert_true(r->null[0][KC_EXPIRES]);
	assert_true(r->null[0][KC_REVOKED]);
	OK(th_query(s, Q_TOKEN_GET, (struct store_val[]){SV_S("t1"), SV_S("k2")}, 2, 12, r, &err));
	assert_int_equal(r->ints[0][KC_EXPIRES], 5000);
	OK(th_query(s, Q_TOKEN_LIST, (struct store_val[]){SV_S("t1"), SV_NULLV, SV_NULLV, SV_I(10)},
		    4, 12, r, &err));
	assert_int_equal(r->nrows, 2);
	OK(th_query(s, Q_TOKEN_LIST,
		    (struct store_val[]){SV_S("t1"), SV_S("u2"), SV_NULLV, SV_I(10)}, 4, 12, r,
		    &err));
	assert_int_equal(r->nrows, 1);
	OK(th_exec(s, Q_TOKEN_TOUCH, (struct store_val[]){SV_S("t1"), SV_S("k1"), SV_I(7)}, 3, &ch,
		   &err));
	assert_int_equal(ch, 1);
	OK(th_exec(s, Q_TOKEN_REVOKE, (struct store_val[]){SV_S("t1"), SV_S("k1"), SV_I(8)}, 3, &ch,
		   &err));
	assert_int_equal(ch, 1);
	OK(th_exec(s, Q_TOKEN_REVOKE, (struct store_val[]){SV_S("t1"), SV_S("k1"), SV_I(8)}, 3, &ch,
		   &err));
	assert_int_equal(ch, 0);
	OK(th_query(s, Q_TOKEN_GET, (struct store_val[]){SV_S("t1"), SV_S("k1")}, 2, 12, r, &err));
	assert_int_equal(r->ints[0][KC_LASTUSED], 7);
	assert_int_equal(r->ints[0][KC_REVOKED], 8);
	OK(th_exec(s, Q_TOKEN_REVOKE_USER, (struct store_val[]){SV_S("t1"), SV_S("u2"), SV_I(9)}, 3,
		   &ch, &err));
	assert_int_equal(ch, 1);
	OK(th_exec(s, Q_TOKEN_REVOKE_TENANT, (struct store_val[]){SV_S("t1"), SV_I(9)}, 2, &ch,
		   &err));
	assert_int_equal(ch, 0);

	for (int i = 1; i <= 3; i++) {
		char seqid[16];

		snprintf(seqid, sizeof(seqid), "e%d", i);
		struct store_val av[] = {
		    SV_S("t1"), SV_I(i),       SV_S(seqid),	    SV_I(100 * i), SV_S("user"),
		    SV_S("u1"), SV_S("alice"), SV_S("user.create"), SV_S("user"),  SV_S("u2"),
		    SV_S("{}"), SV_S("req"),   SV_S("::1"),	    SV_S("prev"),  SV_S("hash")};
		OK(th_exec(s, Q_AUDIT_INSERT, av, 15, NULL, &err));
	}
	OK(th_query(s, Q_AUDIT_CHAIN, (struct store_val[]){SV_S("t1")}, 1, 15, r, &err));
	assert_int_equal(r->nrows, 3);
	assert_int_equal(r->ints[2][AC_SEQ], 3);
	assert_string_equal(r->text[2][AC_ID], "e3");
	assert_int_equal(r->ints[2][AC_AT], 300);
	assert_string_equal(r->text[2][AC_ACTION], "user.create");
	assert_string_equal(r->text[2][AC_IP], "::1");
	th_res_free(r);
	store_free(s);
}

static void expect_conflict(enum rs_status st, const struct rs_err *err, const char *field)
{
	assert_int_equal(st, RS_E_CONFLICT);
	assert_string_equal(err->code, "store.unique");
	assert_string_equal(err->field, field);
}

static void test_unique_violations(void **state)
{
	struct store *s = fresh("uniq.db");
	struct rs_err err;
	struct th_user u = {.tenant = "t1", .id = "u1", .username = "bob", .created = 1};

	OK(th_tenant(s, "t1", "acme"));
	OK(th_tenant(s, "t2", "beta"));
	expect_conflict(th_exec(s, Q_TENANT_INSERT,
				(struct store_val[]){SV_S("t3"), SV_S("acme"), SV_S("x"),
						     SV_S("default"), SV_I(1)},
				5, NULL, &err),
			&err, "slug");
	expect_conflict(th_exec(s, Q_TENANT_INSERT,
				(struct store_val[]){SV_S("t1"), SV_S("new"), SV_S("x"),
						     SV_S("default"), SV_I(1)},
				5, NULL, &err),
			&err, "id");
	OK(th_user_insert(s, &u, &err));
	u.id = "u2";
	u.username = "BOB"; /* same key */
	expect_conflict(th_user_insert(s, &u, &err), &err, "username_key");
	u.tenant = "t2"; /* another tenant may use it */
	OK(th_user_insert(s, &u, &err));
	role_insert(s, "r1", "Admin", 1, 0);
	struct store_val rv[] = {SV_S("t1"),	 SV_S("r2"), SV_S("ADMIN"), SV_S("admin"),
				 SV_S("tenant"), SV_I(1),    SV_S(""),	    SV_NULLV,
				 SV_I(0),	 SV_I(0),    SV_I(1),	    SV_NULLV};
	expect_conflict(th_exec(s, Q_ROLE_INSERT, rv, 12, NULL, &err), &err, "name_key");
	OK(th_group(s, "t1", "g1", "Ops"));
	assert_int_equal(th_group(s, "t1", "g2", "OPS"), RS_E_CONFLICT);
	struct store_val gv[] = {SV_S("t1"), SV_S("g2"), SV_S("OPS"), SV_S("ops"),
				 SV_NULLV,   SV_I(1),	 SV_NULLV};
	expect_conflict(th_exec(s, Q_GROUP_INSERT, gv, 7, NULL, &err), &err, "name_key");
	struct store_val tk[] = {SV_S("t1"), SV_S("k1"), SV_S("look"), SV_S("h"), SV_S("u1"),
				 SV_S("n"),  SV_S("r1"), SV_NULLV,     SV_I(1),	  SV_NULLV};
	OK(th_exec(s, Q_TOKEN_INSERT, tk, 10, NULL, &err));
	tk[0] = SV_S("t2");
	expect_conflict(th_exec(s, Q_TOKEN_INSERT, tk, 10, NULL, &err), &err, "lookup");
	/* A deleted user's username is free again. */
	OK(th_exec(
	    s, Q_USER_DELETE,
	    (struct store_val[]){SV_S("t1"), SV_S("u1"), SV_I(2), SV_NULLV, SV_S("hmac-sha256:00")},
	    5, NULL, &err));
	u.tenant = "t1";
	u.id = "u3";
	OK(th_user_insert(s, &u, &err));
	store_free(s);
}

/* ---- savepoint isolation under concurrency -------------------------------------------- */

struct iso_ctx {
	const char *tenant, *id;
	bool fail;
};

static enum rs_status iso_fn(struct store_tx *tx, void *ctx, struct rs_err *err)
{
	struct iso_ctx *c = ctx;
	struct store_val a[] = {SV_S(c->tenant), SV_S(c->id), SV_S(c->id), SV_S(c->id),
				SV_NULLV,	 SV_I(1),     SV_NULLV};
	enum rs_status st = store_exec(tx, Q_GROUP_INSERT, a, 7, NULL, err);

	if (st)
		return st;
	if (c->fail) /* after a successful write: the savepoint must undo it */
		return rs_fail(err, RS_E_CONFLICT, "test.fail", NULL, "failing on purpose");
	return RS_OK;
}

struct iso_thread {
	struct store *s;
	int n;
	int bad; /* unexpected results */
};

#define ISO_ITERS 40

static void *iso_main(void *arg)
{
	struct iso_thread *t = arg;

	for (int i = 0; i < ISO_ITERS; i++) {
		char id[32];
		struct rs_err err = {0};
		struct iso_ctx c = {.tenant = "t1", .id = id, .fail = t->n % 2 == 1};
		enum rs_status st;

		snprintf(id, sizeof(id), "g-%d-%03d", t->n, i);
		st = store_write(t->s, iso_fn, &c, &err);
		if (c.fail ? (st != RS_E_CONFLICT || strcmp(err.code, "test.fail") != 0)
			   : st != RS_OK)
			t->bad++;
	}
	return NULL;
}

static void test_savepoint_isolation(void **state)
{
	struct store *s = fresh("iso.db");
	struct th_res *r = th_res_new();
	pthread_t th[8];
	struct iso_thread t[8];
	struct rs_err err;

	OK(th_tenant(s, "t1", "acme"));
	for (int i = 0; i < 8; i++) {
		t[i] = (struct iso_thread){.s = s, .n = i};
		assert_int_equal(pthread_create(&th[i], NULL, iso_main, &t[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].bad, 0);
	}
	OK(th_query(s, Q_GROUP_LIST, (struct store_val[]){SV_S("t1"), SV_NULLV, SV_I(1000)}, 3, 8,
		    r, &err));
	assert_int_equal(r->nrows, 4 * ISO_ITERS);
	for (int i = 0; i < r->nrows; i++) {
		int n = r->text[i][GC_ID][2] - '0';

		assert_int_equal(n % 2, 0);
	}
	th_res_free(r);
	store_free(s);
}

/* ---- durability: a returned write is visible to a fresh connection --------------------- */

static void test_durability(void **state)
{
	char p[512];
	struct store *s, *s2;
	struct th_res *r = th_res_new();
	struct rs_err err;

	th_path(p, sizeof(p), "dur.db");
	s = th_open(p, STORE_SYNC_FULL);
	assert_non_null(s);
	OK(th_tenant(s, "t1", "acme"));
	s2 = th_open(p, STORE_SYNC_FULL); /* another store: its own connections */
	assert_non_null(s2);
	for (int i = 0; i < 30; i++) {
		char id[16];

		snprintf(id, sizeof(id), "g%02d", i);
		OK(th_group(s, "t1", id, id));
		OK(th_query(s2, Q_GROUP_GET, (struct store_val[]){SV_S("t1"), SV_S(id)}, 2, 8, r,
			    &err));
		assert_int_equal(r->nrows, 1);
	}
	store_free(s2);
	store_free(s);
	th_res_free(r);
}

/* ---- read snapshot --------------------------------------------------------------------- */

struct snap_ctx {
	struct store *s;
	int before, after;
};

static void *snap_writer(void *arg)
{
	struct snap_ctx *c = arg;

	OK(th_group(c->s, "t1", "g-new", "new"));
	return NULL;
}

static int count_groups(struct store_tx *tx, struct rs_err *err)
{
	struct store_rows *rows;
	bool has;
	int n = 0;

	OK(store_query(tx, Q_GROUP_LIST, (struct store_val[]){SV_S("t1"), SV_NULLV, SV_I(1000)}, 3,
		       &rows, err));
	while (store_rows_next(rows, &has, err) == RS_OK && has)
		n++;
	store_rows_close(rows);
	return n;
}

static enum rs_status snap_fn(struct store_tx *tx, void *ctx, struct rs_err *err)
{
	struct snap_ctx *c = ctx;
	pthread_t th;

	c->before = count_groups(tx, err);
	/* A write commits while this read transaction is open... */
	assert_int_equal(pthread_create(&th, NULL, snap_writer, c), 0);
	pthread_join(th, NULL);
	/* ...and stays invisible to it. */
	c->after = count_groups(tx, err);
	return RS_OK;
}

static void test_read_snapshot(void **state)
{
	struct store *s = fresh("snap.db");
	struct snap_ctx c = {.s = s};
	struct th_res *r = th_res_new();
	struct rs_err err;

	OK(th_tenant(s, "t1", "acme"));
	OK(th_group(s, "t1", "g1", "one"));
	OK(store_read(s, snap_fn, &c, &err));
	assert_int_equal(c.before, 1);
	assert_int_equal(c.after, 1);
	OK(th_query(s, Q_GROUP_LIST, (struct store_val[]){SV_S("t1"), SV_NULLV, SV_I(1000)}, 3, 8,
		    r, &err));
	assert_int_equal(r->nrows, 2);
	th_res_free(r);
	store_free(s);
}

/* The same query nested inside its own iteration, and a rows object left open by fn. */
static enum rs_status nested_fn(struct store_tx *tx, void *ctx, struct rs_err *err)
{
	struct store_rows *outer, *leak;
	bool has;
	int *pairs = ctx;
	struct store_val a[] = {SV_S("t1"), SV_NULLV, SV_I(1000)};

	OK(store_query(tx, Q_GROUP_LIST, a, 3, &outer, err));
	while (store_rows_next(outer, &has, err) == RS_OK && has) {
		char id[64];

		snprintf(id, sizeof(id), "%s", store_col_text(outer, GC_ID));
		*pairs += count_groups(tx, err);
		assert_string_equal(store_col_text(outer, GC_ID), id);
	}
	store_rows_close(outer);
	OK(store_query(tx, Q_GROUP_LIST, a, 3, &leak, err));
	OK(store_rows_next(leak, &has, err));
	return RS_OK; /* leak left open on purpose: the engine must still end the transaction */
}

static void test_nested_and_leaked_rows(void **state)
{
	struct store *s = fresh("nest.db");
	int pairs = 0;
	struct rs_err err;

	OK(th_tenant(s, "t1", "acme"));
	for (int i = 0; i < 3; i++) {
		char id[8];

		snprintf(id, sizeof(id), "g%d", i);
		OK(th_group(s, "t1", id, id));
	}
	OK(store_read(s, nested_fn, &pairs, &err));
	assert_int_equal(pairs, 9);
	pairs = 0;
	OK(store_read(s, nested_fn, &pairs, &err));
	assert_int_equal(pairs, 9);
	OK(store_write(s, nested_fn, &pairs, &err));
	OK(th_group(s, "t1", "g9", "g9"));
	store_free(s);
}

/* ---- backup ------------------------------------------------------------------------------ */

static void test_backup(void **state)
{
	char p[512], b[512];
	struct store *s, *s2;
	struct th_res *r = th_res_new();
	struct rs_err err;

	th_path(p, sizeof(p), "src.db");
	th_path(b, sizeof(b), "backup.db");
	s = th_open(p, STORE_SYNC_FULL);
	assert_non_null(s);
	OK(th_tenant(s, "t1", "acme"));
	for (int i = 0; i < 50; i++) {
		char id[8];

		snprintf(id, sizeof(id), "g%02d", i);
		OK(th_group(s, "t1", id, id));
	}
	if (th_pg()) {
		/* PostgreSQL has its own tools for that, and the message names them. */
		assert_int_equal(store_backup(s, b, &err), RS_E_INVALID);
		assert_string_equal(err.code, "store.backup_unsupported");
		assert_non_null(strstr(err.msg, "pg_dump"));
		store_free(s);
		th_res_free(r);
		return;
	}
	OK(store_backup(s, b, &err));
	assert_int_equal(store_backup(s, b, &err), RS_E_CONFLICT); /* never overwrites */
	OK(th_group(s, "t1", "after", "after"));
	store_free(s);
	s2 = th_open(b, STORE_SYNC_FULL);
	assert_non_null(s2);
	assert_int_equal(store_schema_version(s2), TH_SCHEMA_VERSION);
	OK(th_query(s2, Q_GROUP_LIST, (struct store_val[]){SV_S("t1"), SV_NULLV, SV_I(1000)}, 3, 8,
		    r, &err));
	assert_int_equal(r->nrows, 50);
	store_free(s2);
	th_res_free(r);
}

/* ---- selections ---------------------------------------------------------------------------- */

#define NU 64

static struct th_user users[NU];
static int nusers;
static char ubuf[NU][6][48];
static int uidx[NU]; /* index in sel_names for tenant A users, -1 for tenant B */
static struct store *sel_store;
/* u-a-NN in role r-x (tenant role) when NN % 5 == 0; in group g1 when NN % 3 == 0. */

/* The last four are for the substring index (0013): quotes, metacharacters, non-ASCII, case. */
static const char *sel_names[] = {
    "Alice",  "alice2",	       "ALBERT",   "bob",      "Bobby",		"carol",   "a%b",
    "a_b",    "a\\b",	       "axb",	   "zed",      "Zoe",		"mallory", "Mal",
    "eve",    "\xc3\xa9lodie", "trent",	   "peggy",    "victor",	"walter",  "ann1",
    "ann2",   "ann3",	       "ann4",	   "ann5",     "ann6",		"ann7",	   "ann8",
    "xavier", "yolanda",       "o\"brien", "Quo_te_x", "\xc3\x89LOISE", "alICE-3",
};

static void sel_dataset(void)
{
	struct rs_err err;
	int n = 0;

	OK(th_tenant(sel_store, "ta", "a"));
	OK(th_tenant(sel_store, "tb", "b"));
	role_insert(sel_store, "r-x", "X", 1, 0);
	OK(th_group(sel_store, "ta", "g1", "G1"));
	for (int i = 0; i < (int)(sizeof(sel_names) / sizeof(sel_names[0])); i++) {
		struct th_user *u = &users[n];

		snprintf(ubuf[n][0], 48, "u-a-%02d", i);
		snprintf(ubuf[n][1], 48, "%s@Example.%s", sel_names[i], i % 2 ? "com" : "org");
		snprintf(ubuf[n][2], 48, "ext-%c%c", 'A' + i % 3, 'a' + i % 2);
		*u = (struct th_user){
		    .tenant = "ta",
		    .id = ubuf[n][0],
		    .username = sel_names[i],
		    .email = i % 4 == 3 ? NULL : ubuf[n][1],
		    .first = i >= 20 ? "Ann" : (i % 7 == 0 ? NULL : (i % 2 ? "Zed" : "amy")),
		    .last = i % 5 == 1 ? "" : (i % 3 ? "Smith" : "jones"),
		    .type = i % 6 == 0 ? "service" : "person",
		    .status = i % 8 == 5 ? "suspended" : "active",
		    .sysrole = i % 4 == 0 ? "r-admin" : "r-user",
		    .extid = i % 3 == 2 ? NULL : ubuf[n][2],
		    .created = 1000 + (i / 4) * 10, /* ties */
		    .updated = 5000 + (i % 5),
		};
		uidx[n] = i;
		OK(th_user_insert(sel_store, u, &err));
		if (i % 5 == 0)
			OK(th_exec(sel_store, Q_USER_ROLE_ADD,
				   (struct store_val[]){SV_S("ta"), SV_S(u->id), SV_S("r-x")}, 3,
				   NULL, &err));
		if (i % 3 == 0)
			OK(th_exec(
			    sel_store, Q_GROUP_MEMBER_ADD,
			    (struct store_val[]){SV_S("ta"), SV_S("g1"), SV_S(u->id), SV_I(1)}, 4,
			    NULL, &err));
		n++;
	}
	/* Deleted users of tenant A: never returned. */
	for (int i = 0; i < 2; i++) {
		struct th_user d = {.tenant = "ta",
				    .id = i ? "u-a-del1" : "u-a-del0",
				    .username = i ? "zz" : "alice-deleted",
				    .first = "Ann",
				    .email = "dead@example.org",
				    .created = 1000,
				    .updated = 5000};

		OK(th_user_insert(sel_store, &d, &err));
		OK(th_exec(sel_store, Q_USER_DELETE,
			   (struct store_val[]){SV_S("ta"), SV_S(d.id), SV_I(6000), SV_NULLV,
						SV_S("hmac-sha256:00")},
			   5, NULL, &err));
	}
	/* Tenant B: same usernames, must never leak into A's selections. */
	for (int i = 0; i < 8; i++) {
		struct th_user *u = &users[n];

		snprintf(ubuf[n][0], 48, "u-b-%02d", i);
		*u = (struct th_user){.tenant = "tb",
				      .id = ubuf[n][0],
				      .username = sel_names[i],
				      .email = "b@example.org",
				      .first = "Ann",
				      .last = "Smith",
				      .extid = "ext-Aa",
				      .created = 1000,
				      .updated = 5000};
		uidx[n] = -1;
		OK(th_user_insert(sel_store, u, &err));
		n++;
	}
	nusers = n;
}

static int sel_setup(void **state)
{
	char p[512];

	th_path(p, sizeof(p), "sel.db");
	sel_store = th_open(p, STORE_SYNC_OFF);
	if (!sel_store)
		return -1;
	sel_dataset();
	return 0;
}

static int sel_teardown(void **state)
{
	store_free(sel_store);
	return 0;
}

/* ---- the model: what a selection must return, evaluated in C ---- */

static const char *model_text(const struct th_user *u, int attr)
{
	switch (attr) {
	case UA_ID:
		return u->id;
	case UA_USERNAME_CI:
		return u->username;
	case UA_EMAIL_CI:
		return u->email;
	case UA_FIRST_NAME_CI:
		return u->first;
	case UA_LAST_NAME_CI:
		return u->last;
	case UA_TYPE:
		return u->type;
	case UA_STATUS:
		return u->status;
	case UA_EXTERNAL_ID:
		return u->extid;
	default:
		return NULL;
	}
}

static bool model_ci(int attr)
{
	return attr == UA_USERNAME_CI || attr == UA_EMAIL_CI || attr == UA_FIRST_NAME_CI ||
	       attr == UA_LAST_NAME_CI;
}

static void lower_into(char *out, size_t cap, const char *s)
{
	size_t i = 0;

	for (; s && s[i] && i + 1 < cap; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	out[i] = '\0';
}

static bool model_match(int k, const struct store_pred *p)
{
	const struct th_user *u = &users[k];
	char col[128], val[128];
	const char *raw;
	int64_t iv;

	switch (p->op) {
	case SO_AND:
		return model_match(k, p->a) && model_match(k, p->b);
	case SO_OR:
		return model_match(k, p->a) || model_match(k, p->b);
	case SO_NOT:
		return !model_match(k, p->a);
	default:
		break;
	}
	if (p->attr == UA_ROLE)
		return strcmp(u->sysrole ? u->sysrole : "r-user", p->val.s) == 0 ||
		       (strcmp(p->val.s, "r-x") == 0 && uidx[k] % 5 == 0);
	if (p->attr == UA_GROUP)
		return strcmp(p->val.s, "g1") == 0 && uidx[k] % 3 == 0;
	if (p->attr == UA_CREATED_AT || p->attr == UA_UPDATED_AT) {
		iv = p->attr == UA_CREATED_AT ? u->created : (u->updated ? u->updated : u->created);
		switch (p->op) {
		case SO_EQ:
			return iv == p->val.i;
		case SO_NE:
			return iv != p->val.i;
		case SO_GT:
			return iv > p->val.i;
		case SO_GE:
			return iv >= p->val.i;
		case SO_LT:
			return iv < p->val.i;
		case SO_LE:
			return iv <= p->val.i;
		case SO_PR:
			return true;
		default:
			fail();
		}
	}
	raw = model_text(u, p->attr);
	if (p->op == SO_PR)
		return raw && *raw;
	if (!raw)
		return p->op == SO_NE;
	if (model_ci(p->attr)) {
		lower_into(col, sizeof(col), raw);
		lower_into(val, sizeof(val), p->val.s);
	} else {
		snprintf(col, sizeof(col), "%s", raw);
		snprintf(val, sizeof(val), "%s", p->val.s);
	}
	size_t cl = strlen(col), vl = strlen(val);
	switch (p->op) {
	case SO_EQ:
		return strcmp(col, val) == 0;
	case SO_NE:
		return strcmp(col, val) != 0;
	case SO_GT:
		return strcmp(col, val) > 0;
	case SO_GE:
		return strcmp(col, val) >= 0;
	case SO_LT:
		return strcmp(col, val) < 0;
	case SO_LE:
		return strcmp(col, val) <= 0;
	case SO_SW:
		return strncmp(col, val, vl) == 0;
	case SO_EW:
		return cl >= vl && strcmp(col + cl - vl, val) == 0;
	case SO_CO:
		return strstr(col, val) != NULL;
	default:
		fail();
	}
	return false;
}

static int sort_attr_g;
static bool sort_desc_g;

/* Sort key of user k as the engine orders it: lower-cased for _CI, '' for NULL. */
static void model_key(int k, int attr, char *out, size_t cap, int64_t *iv)
{
	const struct th_user *u = &users[k];

	*iv = 0;
	out[0] = '\0';
	if (attr == UA_CREATED_AT) {
		*iv = u->created;
		return;
	}
	if (attr == UA_UPDATED_AT) {
		*iv = u->updated ? u->updated : u->created;
		return;
	}
	if (model_ci(attr))
		lower_into(out, cap, model_text(u, attr));
	else
		snprintf(out, cap, "%s", model_text(u, attr) ? model_text(u, attr) : "");
}

static int model_cmp(const void *pa, const void *pb)
{
	int a = *(const int *)pa, b = *(const int *)pb, c;
	char ka[128], kb[128];
	int64_t ia, ib;

	model_key(a, sort_attr_g, ka, sizeof(ka), &ia);
	model_key(b, sort_attr_g, kb, sizeof(kb), &ib);
	c = ia < ib ? -1 : ia > ib ? 1 : strcmp(ka, kb);
	if (c == 0)
		c = strcmp(users[a].id, users[b].id);
	return sort_desc_g ? -c : c;
}

/* Tenant A users matching p (NULL = all), in the engine's order for (attr, desc). */
static int model_select(const struct store_pred *p, int attr, bool desc, int *out)
{
	int n = 0;

	for (int k = 0; k < nusers; k++)
		if (uidx[k] >= 0 && (!p || model_match(k, p)))
			out[n++] = k;
	sort_attr_g = attr;
	sort_desc_g = desc;
	qsort(out, (size_t)n, sizeof(int), model_cmp);
	return n;
}

static int row_col_of(int attr)
{
	switch (attr) {
	case UA_ID:
		return UC_ID;
	case UA_USERNAME_CI:
		return UC_USERNAME;
	case UA_EMAIL_CI:
		return UC_EMAIL;
	case UA_FIRST_NAME_CI:
		return UC_FIRST;
	case UA_LAST_NAME_CI:
		return UC_LAST;
	case UA_TYPE:
		return UC_TYPE;
	case UA_STATUS:
		return UC_STATUS;
	case UA_EXTERNAL_ID:
		return UC_EXTID;
	case UA_CREATED_AT:
		return UC_CREATED;
	case UA_UPDATED_AT:
		return UC_UPDATED;
	default:
		return -1;
	}
}

/* Pages through the selection with limit `page` and checks the concatenation equals the
 * model, every row exactly once and only tenant A's. */
static void check_select(const struct store_pred *p, int attr, bool desc, int page)
{
	int want[NU], n = model_select(p, attr, desc, want), got = 0;
	struct th_res *r = th_res_new();
	struct store_select sel = {.coll = SC_USERS,
				   .tenant_id = "ta",
				   .where = p,
				   .sort_attr = attr,
				   .desc = desc,
				   .limit = page};
	char after_text[128], after_id[64];
	struct rs_err err;

	for (;;) {
		OK(th_select(sel_store, &sel, UC_VERSION + 1, r, &err));
		for (int i = 0; i < r->nrows; i++) {
			assert_string_equal(r->text[i][UC_TENANT], "ta");
			assert_true(got < n);
			if (strcmp(r->text[i][UC_ID], users[want[got]].id) != 0)
				fail_msg("attr %d desc %d row %d: got %s want %s", attr, desc, got,
					 r->text[i][UC_ID], users[want[got]].id);
			got++;
		}
		if (r->nrows < page)
			break;
		int last = r->nrows - 1, c = row_col_of(attr);

		sel.has_after = true;
		snprintf(after_id, sizeof(after_id), "%s", r->text[last][UC_ID]);
		sel.after_id = after_id;
		if (attr == UA_CREATED_AT || attr == UA_UPDATED_AT) {
			sel.after_val = SV_I(r->ints[last][c]);
		} else if (r->null[last][c]) {
			sel.after_val = SV_NULLV;
		} else {
			/* The row's spelling, not the key: the engine lowers _CI cursors. */
			snprintf(after_text, sizeof(after_text), "%s", r->text[last][c]);
			sel.after_val = SV_S(after_text);
		}
	}
	assert_int_equal(got, n);
	th_res_free(r);
}

#define LEAF(o, at, v) ((struct store_pred){.op = (o), .attr = (at), .val = (v)})

static void test_select_ops(void **state)
{
	static const struct {
		int attr;
		const char *v;
	} tv[] = {
	    {UA_USERNAME_CI, "ALICE"},
	    {UA_USERNAME_CI, "a"},
	    {UA_USERNAME_CI, "AL"},
	    {UA_USERNAME_CI, "b"},
	    {UA_USERNAME_CI, "mal"},
	    {UA_USERNAME_CI, "%"},
	    {UA_USERNAME_CI, "_"},
	    {UA_USERNAME_CI, "\\"},
	    {UA_USERNAME_CI, "a_"},
	    {UA_USERNAME_CI, "\xc3\xa9"},
	    {UA_EMAIL_CI, "EXAMPLE.COM"},
	    {UA_EMAIL_CI, "bob"},
	    {UA_FIRST_NAME_CI, "ann"},
	    {UA_FIRST_NAME_CI, "A"},
	    {UA_LAST_NAME_CI, "SMITH"},
	    {UA_LAST_NAME_CI, ""},
	    {UA_TYPE, "service"},
	    {UA_TYPE, "Serv"},
	    {UA_TYPE, "serv"},
	    {UA_STATUS, "suspended"},
	    {UA_STATUS, "deleted"},
	    {UA_EXTERNAL_ID, "ext-Aa"},
	    {UA_EXTERNAL_ID, "ext-a"},
	    {UA_EXTERNAL_ID, "A"},
	    {UA_ID, "u-a-1"},
	    {UA_ID, "u-a-05"},
	    {UA_ID, "u-b"},
	    /* 3 characters or more: through the substring index where the engine has one */
	    {UA_USERNAME_CI, "A%B"},
	    {UA_USERNAME_CI, "o_t"},
	    {UA_USERNAME_CI, "_TE_"},
	    {UA_USERNAME_CI, "O\"B"},
	    {UA_USERNAME_CI, "\"br"},
	    {UA_USERNAME_CI, "a\\b"},
	    {UA_USERNAME_CI, "LICE"},
	    {UA_USERNAME_CI, "ice-3"},
	    {UA_USERNAME_CI, "\xc3\xa9lo"},
	    {UA_USERNAME_CI, "\xc3\x89LO"},
	    {UA_USERNAME_CI, "ann"},
	    {UA_EMAIL_CI, "E.CO"},
	    {UA_EMAIL_CI, "@example.org"},
	    {UA_EMAIL_CI, "xyz"},
	    {UA_FIRST_NAME_CI, "NN"},
	    {UA_FIRST_NAME_CI, "ANN"},
	    {UA_LAST_NAME_CI, "mit"},
	    {UA_LAST_NAME_CI, "ONES"},
	};
	static const enum store_op ops[] = {SO_EQ, SO_NE, SO_CO, SO_SW, SO_EW,
					    SO_GT, SO_GE, SO_LT, SO_LE};

	for (size_t i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
			struct store_pred p = LEAF(ops[o], tv[i].attr, SV_S(tv[i].v));
			struct store_pred n = {.op = SO_NOT, .a = &p};

			check_select(&p, UA_USERNAME_CI, false, 1000);
			check_select(&n, UA_ID, true, 1000);
		}
	}
	for (int a = UA_ID; a <= UA_EXTERNAL_ID; a++) {
		struct store_pred p = LEAF(SO_PR, a, SV_NULLV);
		struct store_pred n = {.op = SO_NOT, .a = &p};

		check_select(&p, UA_ID, false, 1000);
		check_select(&n, UA_ID, false, 1000);
	}
	for (int64_t t = 990; t <= 1080; t += 10) {
		for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
			if (ops[o] == SO_CO || ops[o] == SO_SW || ops[o] == SO_EW)
				continue;
			struct store_pred p = LEAF(ops[o], UA_CREATED_AT, SV_I(t));
			struct store_pred q = LEAF(ops[o], UA_UPDATED_AT, SV_I(5000 + t % 7));

			check_select(&p, UA_CREATED_AT, false, 1000);
			check_select(&q, UA_UPDATED_AT, true, 1000);
		}
	}
	struct store_pred role = LEAF(SO_EQ, UA_ROLE, SV_S("r-x"));
	struct store_pred sysrole = LEAF(SO_EQ, UA_ROLE, SV_S("r-admin"));
	struct store_pred grp = LEAF(SO_EQ, UA_GROUP, SV_S("g1"));
	struct store_pred nogrp = LEAF(SO_EQ, UA_GROUP, SV_S("g-none"));
	struct store_pred ann = LEAF(SO_EQ, UA_FIRST_NAME_CI, SV_S("ANN"));
	struct store_pred sw = LEAF(SO_SW, UA_USERNAME_CI, SV_S("a"));
	struct store_pred and1 = {.op = SO_AND, .a = &ann, .b = &grp};
	struct store_pred or1 = {.op = SO_OR, .a = &sw, .b = &role};
	struct store_pred not1 = {.op = SO_NOT, .a = &or1};
	struct store_pred and2 = {.op = SO_AND, .a = &not1, .b = &sysrole};
	struct store_pred or2 = {.op = SO_OR, .a = &and2, .b = &and1};

	check_select(&role, UA_USERNAME_CI, false, 1000);
	check_select(&sysrole, UA_USERNAME_CI, false, 1000);
	check_select(&grp, UA_USERNAME_CI, false, 1000);
	check_select(&nogrp, UA_USERNAME_CI, false, 1000);
	check_select(&and1, UA_USERNAME_CI, false, 1000);
	check_select(&or1, UA_USERNAME_CI, true, 1000);
	check_select(&not1, UA_USERNAME_CI, false, 1000);
	check_select(&or2, UA_EMAIL_CI, false, 1000);
	check_select(NULL, UA_USERNAME_CI, false, 1000);
}

static void test_select_literal_metachars(void **state)
{
	int want[NU];
	struct store_pred pct = LEAF(SO_CO, UA_USERNAME_CI, SV_S("%"));
	struct store_pred und = LEAF(SO_CO, UA_USERNAME_CI, SV_S("a_"));
	struct store_pred bsl = LEAF(SO_EW, UA_USERNAME_CI, SV_S("\\b"));
	struct store_pred ci = LEAF(SO_EQ, UA_USERNAME_CI, SV_S("aLiCe"));
	struct store_pred cs = LEAF(SO_CO, UA_TYPE, SV_S("SERVICE"));

	/* The model agrees with the engine; these pin the model itself. */
	assert_int_equal(model_select(&pct, UA_ID, false, want), 1);
	assert_string_equal(users[want[0]].username, "a%b");
	assert_int_equal(model_select(&und, UA_ID, false, want), 1);
	assert_string_equal(users[want[0]].username, "a_b");
	assert_int_equal(model_select(&bsl, UA_ID, false, want), 1);
	assert_int_equal(model_select(&ci, UA_ID, false, want), 1);
	assert_int_equal(model_select(&cs, UA_ID, false, want), 0);
	check_select(&pct, UA_ID, false, 10);
	check_select(&und, UA_ID, false, 10);
	check_select(&bsl, UA_ID, false, 10);
	check_select(&ci, UA_ID, false, 10);
	check_select(&cs, UA_ID, false, 10);
}

static void test_select_sort_and_paging(void **state)
{
	static const int attrs[] = {UA_ID,	     UA_USERNAME_CI, UA_EMAIL_CI, UA_FIRST_NAME_CI,
				    UA_LAST_NAME_CI, UA_TYPE,	     UA_STATUS,	  UA_EXTERNAL_ID,
				    UA_CREATED_AT,   UA_UPDATED_AT};
	struct store_pred notb = LEAF(SO_NE, UA_USERNAME_CI, SV_S("bob"));

	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		for (int desc = 0; desc < 2; desc++) {
			check_select(NULL, attrs[i], desc, 1000);
			check_select(NULL, attrs[i], desc, 1);
			check_select(NULL, attrs[i], desc, 3);
			check_select(&notb, attrs[i], desc, 4);
		}
	}
}

/* Positional paging (SCIM startIndex) and counting (totalResults) agree with the model and
 * with each other on both engines. */
static void test_select_offset_count(void **state)
{
	struct store_pred notb = LEAF(SO_NE, UA_USERNAME_CI, SV_S("bob"));
	struct store_pred sw = LEAF(SO_SW, UA_USERNAME_CI, SV_S("A"));
	struct store_pred act = LEAF(SO_EQ, UA_STATUS, SV_S("active"));
	struct store_pred both = {.op = SO_AND, .a = &sw, .b = &act};
	const struct store_pred *preds[] = {NULL, &notb, &sw, &both};
	struct rs_err err;

	for (size_t k = 0; k < sizeof(preds) / sizeof(preds[0]); k++) {
		int want[NU], n = model_select(preds[k], UA_USERNAME_CI, false, want);
		struct store_select sel = {.coll = SC_USERS,
					   .tenant_id = "ta",
					   .where = preds[k],
					   .sort_attr = UA_USERNAME_CI,
					   .limit = 1,
					   .count_only = true};
		struct th_res *r = th_res_new();

		OK(th_select(sel_store, &sel, 1, r, &err));
		assert_int_equal(r->nrows, 1);
		assert_int_equal(r->ints[0][0], n);
		sel.count_only = false;
		for (int off = 0; off <= n; off++) {
			sel.offset = off;
			sel.limit = 2;
			OK(th_select(sel_store, &sel, UC_VERSION + 1, r, &err));
			assert_int_equal(r->nrows, n - off < 2 ? n - off : 2);
			for (int i = 0; i < r->nrows; i++)
				assert_string_equal(r->text[i][UC_ID], users[want[off + i]].id);
		}
		th_res_free(r);
	}
}

static void expect_bad(const struct store_select *sel)
{
	struct th_res *r = th_res_new();
	struct rs_err err;

	assert_int_equal(th_select(sel_store, sel, 1, r, &err), RS_E_INVALID);
	assert_string_equal(err.code, "store.bad_select");
	th_res_free(r);
}

static void test_select_rejects(void **state)
{
	struct store_pred unk = LEAF(SO_EQ, 99, SV_S("x"));
	struct store_pred co_int = LEAF(SO_CO, UA_CREATED_AT, SV_I(1));
	struct store_pred txt_int = LEAF(SO_EQ, UA_CREATED_AT, SV_S("1"));
	struct store_pred int_txt = LEAF(SO_EQ, UA_USERNAME_CI, SV_I(1));
	struct store_pred role_ne = LEAF(SO_NE, UA_ROLE, SV_S("r"));
	struct store_pred badop = LEAF((enum store_op)77, UA_ID, SV_S("x"));
	struct store_pred and_null = {.op = SO_AND, .a = &unk};
	struct store_pred deep[100];
	struct store_select sel = {
	    .coll = SC_USERS, .tenant_id = "ta", .sort_attr = UA_ID, .limit = 10};

	deep[0] = LEAF(SO_EQ, UA_ID, SV_S("x"));
	for (int i = 1; i < 100; i++)
		deep[i] = (struct store_pred){.op = SO_NOT, .a = &deep[i - 1]};
	const struct store_pred *bad[] = {&unk,	    &co_int, &txt_int,	&int_txt,
					  &role_ne, &badop,  &and_null, &deep[99]};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sel.where = bad[i];
		expect_bad(&sel);
	}
	sel.where = &deep[60];
	{
		struct th_res *r = th_res_new();
		struct rs_err err;

		OK(th_select(sel_store, &sel, 1, r, &err)); /* within the depth bound */
		th_res_free(r);
	}
	sel.where = NULL;
	sel.sort_attr = UA_ROLE;
	expect_bad(&sel);
	sel.sort_attr = 42;
	expect_bad(&sel);
	sel.sort_attr = UA_ID;
	sel.limit = 0;
	expect_bad(&sel);
	sel.limit = 10;
	sel.offset = -1;
	expect_bad(&sel);
	sel.offset = 0;
	sel.tenant_id = NULL;
	expect_bad(&sel);
	sel.tenant_id = "ta";
	sel.has_after = true;
	sel.sort_attr = UA_USERNAME_CI;
	sel.after_val = SV_S("x");
	sel.after_id = NULL;
	expect_bad(&sel);
	sel.after_val = SV_I(3);
	sel.after_id = "u";
	expect_bad(&sel);
	sel.sort_attr = UA_ID;
	sel.after_val = SV_S("x");
	sel.offset = 2; /* positional and keyset paging do not mix */
	expect_bad(&sel);
	sel.offset = 0;
	sel = (struct store_select){
	    .coll = SC_AUDIT, .tenant_id = "ta", .sort_attr = AA_AT, .limit = 10};
	expect_bad(&sel);
	sel.coll = (enum store_coll)9;
	expect_bad(&sel);
}

/* Alternating AND/OR nesting needs parentheses at every level: allowed up to a bound,
 * refused (not an engine error) beyond it; long same-operator chains cost nothing. */
static void test_select_nesting(void **state)
{
	struct store_pred leaves[2] = {LEAF(SO_SW, UA_USERNAME_CI, SV_S("a")),
				       LEAF(SO_EQ, UA_TYPE, SV_S("service"))};
	struct store_pred alt[40], chain[60];
	struct store_select sel = {
	    .coll = SC_USERS, .tenant_id = "ta", .sort_attr = UA_ID, .limit = 10};

	alt[0] = leaves[0];
	chain[0] = leaves[1];
	for (int i = 1; i < 40; i++)
		alt[i] = (struct store_pred){
		    .op = i % 2 ? SO_OR : SO_AND, .a = &alt[i - 1], .b = &leaves[i % 2]};
	for (int i = 1; i < 60; i++)
		chain[i] =
		    (struct store_pred){.op = SO_AND, .a = &leaves[i % 2], .b = &chain[i - 1]};
	check_select(&alt[10], UA_ID, false, 1000);
	check_select(&alt[20], UA_ID, false, 1000);
	check_select(&chain[59], UA_ID, false, 1000);
	sel.where = &alt[39];
	expect_bad(&sel);
}

static void test_select_many_shapes(void **state)
{
	/* More shapes than the statement cache holds, twice: eviction must stay correct. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 40; i++) {
			struct store_pred leaves[8];
			struct store_pred ors[8];

			for (int j = 0; j <= i % 8; j++)
				leaves[j] = LEAF(SO_SW, UA_USERNAME_CI, SV_S(j % 2 ? "a" : "b"));
			ors[0] = leaves[0];
			for (int j = 1; j <= i % 8; j++)
				ors[j] = (struct store_pred){.op = i % 16 < 8 ? SO_OR : SO_AND,
							     .a = &ors[j - 1],
							     .b = &leaves[j]};
			check_select(&ors[i % 8], i % 2 ? UA_USERNAME_CI : UA_ID, i % 3 == 0, 7);
		}
	}
}

/* ---- audit selections ---- */

static void test_select_audit(void **state)
{
	struct store *s = sel_store;
	struct th_res *r = th_res_new();
	struct rs_err err;
	static const char *actions[] = {"user.create", "user.update", "group.create",
					"role.delete"};

	for (int i = 1; i <= 40; i++) {
		char id[16];

		snprintf(id, sizeof(id), "ea%02d", i);
		struct store_val av[] = {SV_S(i % 10 == 0 ? "tb" : "ta"),
					 SV_I(i),
					 SV_S(id),
					 SV_I(100 * (i / 3)),
					 SV_S("user"),
					 SV_S(i % 4 ? "actor1" : NULL),
					 SV_NULLV,
					 SV_S(actions[i % 4]),
					 SV_S("user"),
					 SV_S(i % 5 ? "target1" : "target2"),
					 SV_S("{}"),
					 SV_NULLV,
					 SV_NULLV,
					 SV_S("p"),
					 SV_S("h")};
		OK(th_exec(s, Q_AUDIT_INSERT, av, 15, NULL, &err));
	}
	struct store_pred sw = LEAF(SO_SW, AA_ACTION, SV_S("user."));
	struct store_select sel = {.coll = SC_AUDIT,
				   .tenant_id = "ta",
				   .where = &sw,
				   .sort_attr = AA_SEQ,
				   .desc = true,
				   .limit = 4};
	int got = 0;
	int64_t last = 1000;

	for (;;) {
		OK(th_select(s, &sel, AC_HASH + 1, r, &err));
		for (int i = 0; i < r->nrows; i++) {
			int64_t q = r->ints[i][AC_SEQ];

			assert_string_equal(r->text[i][AC_TENANT], "ta");
			assert_true(q < last);
			assert_true(q % 4 == 0 || q % 4 == 1);
			assert_true(q % 10 != 0);
			last = q;
			got++;
		}
		if (r->nrows < 4)
			break;
		sel.has_after = true;
		sel.after_val = SV_I(last);
	}
	/* seq 1..40 with seq%4 in {0,1}: 20, minus tenant B's (seq%10==0) among them: 20, 40 */
	assert_int_equal(got, 18);

	struct store_pred actor = LEAF(SO_EQ, AA_ACTOR_ID, SV_S("actor1"));
	struct store_pred nactor = {.op = SO_NOT, .a = &actor};
	struct store_pred at = LEAF(SO_GE, AA_AT, SV_I(1200));
	struct store_pred tgt = LEAF(SO_EQ, AA_TARGET_ID, SV_S("target2"));
	struct store_pred both = {.op = SO_AND, .a = &at, .b = &tgt};

	sel = (struct store_select){.coll = SC_AUDIT,
				    .tenant_id = "ta",
				    .where = &nactor,
				    .sort_attr = AA_SEQ,
				    .limit = 100};
	OK(th_select(s, &sel, AC_HASH + 1, r, &err));
	assert_int_equal(r->nrows, 8); /* seq%4==0 and not %10: 4,8,12,16,24,28,32,36 */
	assert_true(r->null[0][AC_ACTOR_ID]);
	sel.where = &both;
	OK(th_select(s, &sel, AC_HASH + 1, r, &err));
	/* at >= 1200 means seq >= 36; target2 when seq%5==0: 40 is tenant B -> none */
	assert_int_equal(r->nrows, 0);
	at.val = SV_I(1000);
	OK(th_select(s, &sel, AC_HASH + 1, r, &err));
	assert_int_equal(r->nrows, 1); /* seq 35 */
	assert_int_equal(r->ints[0][AC_SEQ], 35);
	th_res_free(r);
}

/* store_contract [--pg]: with --pg every test runs on a fresh PostgreSQL database of the
 * server in ROSTER_TEST_PG, and a missing ROSTER_TEST_PG is a failure, not a skip. */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_engines_have_the_same_migrations),
	    cmocka_unit_test(test_migrations_idempotent),
	    cmocka_unit_test(test_bad_config),
	    cmocka_unit_test(test_tenant_roundtrip),
	    cmocka_unit_test(test_roles_users_groups_roundtrip),
	    cmocka_unit_test(test_tokens_audit_roundtrip),
	    cmocka_unit_test(test_unique_violations),
	    cmocka_unit_test(test_savepoint_isolation),
	    cmocka_unit_test(test_durability),
	    cmocka_unit_test(test_read_snapshot),
	    cmocka_unit_test(test_nested_and_leaked_rows),
	    cmocka_unit_test(test_backup),
	};
	const struct CMUnitTest sel_tests[] = {
	    cmocka_unit_test(test_select_literal_metachars),
	    cmocka_unit_test(test_select_ops),
	    cmocka_unit_test(test_select_sort_and_paging),
	    cmocka_unit_test(test_select_offset_count),
	    cmocka_unit_test(test_select_rejects),
	    cmocka_unit_test(test_select_many_shapes),
	    cmocka_unit_test(test_select_nesting),
	    cmocka_unit_test(test_select_audit),
	};
	int failed;

	if (argc > 1 && strcmp(argv[1], "--pg") == 0 && !th_pg_init())
		return 1;
	failed = cmocka_run_group_tests_name("store_contract", tests, NULL, NULL);

	failed += cmocka_run_group_tests_name("store_select", sel_tests, sel_setup, sel_teardown);
	return failed ? 1 : 0;
}
