/* core/tokens.c and core/auth.c: the token format and its keyed hash, tokens_create/revoke,
 * and auth_bearer's one answer for every dead credential (revoked, expired, deleted owner,
 * deleted tenant, unknown, malformed), with revocation effective on the very next call even
 * when the previous one was served from the cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "fixture.h"

#define DAY_MS 86400000LL

/* The answer every dead credential must get, word for word. */
static struct rs_err dead_answer;

static void expect_dead(struct fx *f, const char *token, const char *what)
{
	struct actor who;
	struct rs_err err = {0};
	enum rs_status st = auth_bearer(f->core, token, &who, &err);

	if (st != RS_E_UNAUTHENTICATED || strcmp(err.code, "auth.invalid_token") != 0)
		fail_msg("%s: got %s %s", what, rs_status_name(st), st ? err.code : "");
	/* Nothing tells which kind of dead it is. */
	if (!dead_answer.code[0])
		dead_answer = err;
	assert_string_equal(err.msg, dead_answer.msg);
	assert_string_equal(err.field, dead_answer.field);
}

static void expect_alive(struct fx *f, const char *token, struct actor *out, const char *what)
{
	struct actor who;
	struct rs_err err = {0};

	fx_expect_at(auth_bearer(f->core, token, out ? out : &who, &err), &err, RS_OK, NULL,
		     __FILE__, __LINE__, what);
}

/* ---- format and hash -------------------------------------------------------------------- */

static void test_token_split(void **state)
{
	static const struct {
		const char *token;
		const char *lookup; /* NULL: not roster format, lookup derived from the whole */
		const char *secret;
	} t[] = {
	    {"rst_0123456789abcdef_SECRET", "0123456789abcdef", "SECRET"},
	    {FX_BOOT_TOKEN, "0123456789abcdef", "AAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjj-_0"},
	    {"rst_0123456789abcdef_x", "0123456789abcdef", "x"},
	    {"rst_0123456789abcdef__", "0123456789abcdef", "_"},
	    {"rst_0123456789abcdef_a_b", "0123456789abcdef", "a_b"},
	    {"rst_0123456789abcdef_", NULL, NULL},     /* no secret */
	    {"rst_0123456789abcde_xyz", NULL, NULL},   /* 15-char lookup */
	    {"rst_0123456789abcdefX_xyz", NULL, NULL}, /* 17-char lookup */
	    {"RST_0123456789abcdef_xyz", NULL, NULL},  /* prefix is case-sensitive */
	    {"rs_0123456789abcdef_xyz", NULL, NULL},
	    {"rst-0123456789abcdef_xyz", NULL, NULL},
	    {"an operator-chosen bootstrap secret!", NULL, NULL},
	    {"", NULL, NULL},
	    {"rst_", NULL, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char lookup[TOKEN_LOOKUP_LEN + 1];
		const char *secret = NULL;

		memset(lookup, '#', sizeof(lookup));
		token_split(t[i].token, lookup, &secret);
		assert_int_equal(strlen(lookup), TOKEN_LOOKUP_LEN);
		if (t[i].lookup) {
			assert_string_equal(lookup, t[i].lookup);
			assert_string_equal(secret, t[i].secret);
		} else {
			unsigned char md[CRYPTO_SHA256_LEN];
			char hex[65];

			crypto_sha256(t[i].token, strlen(t[i].token), md);
			crypto_hex(md, sizeof(md), hex);
			hex[TOKEN_LOOKUP_LEN] = '\0';
			if (strcmp(lookup, hex) != 0)
				fail_msg("'%s': lookup %s, want %s", t[i].token, lookup, hex);
			assert_ptr_equal(secret, t[i].token); /* the whole value is the secret */
		}
	}
}

static void test_token_hash_keyed(void **state)
{
	unsigned char k1[CORE_KEY_LEN], k2[CORE_KEY_LEN];
	struct core *c1, *c1b, *c2;
	char h1[65], h1b[65], h2[65], h3[65];
	unsigned char mac[CRYPTO_SHA256_LEN];
	char want[65];

	(void)state;
	for (int i = 0; i < CORE_KEY_LEN; i++)
		k1[i] = k2[i] = (unsigned char)i;
	k2[CORE_KEY_LEN - 1] ^= 1; /* one bit apart */
	c1 = fx_core_nostore(k1);
	c1b = fx_core_nostore(k1);
	c2 = fx_core_nostore(k2);
	assert_non_null(c1);
	assert_non_null(c2);
	token_hash(c1, "secret", h1);
	token_hash(c1b, "secret", h1b);
	token_hash(c2, "secret", h2);
	token_hash(c1, "secreT", h3);
	assert_int_equal(strlen(h1), 64);
	for (const char *p = h1; *p; p++)
		assert_non_null(strchr("0123456789abcdef", *p));
	assert_string_equal(h1, h1b);	 /* deterministic */
	assert_string_not_equal(h1, h2); /* depends on the key */
	assert_string_not_equal(h1, h3); /* and on the secret */
	/* It is HMAC-SHA256(key, secret), nothing home-made. */
	crypto_hmac_sha256(k1, CORE_KEY_LEN, "secret", 6, mac);
	crypto_hex(mac, sizeof(mac), want);
	assert_string_equal(h1, want);
	token_hash(c1, "", h3);
	assert_int_equal(strlen(h3), 64);
	core_free(c1);
	core_free(c1b);
	core_free(c2);
	core_free(NULL); /* a no-op */
}

static void test_token_mint(void **state)
{
	unsigned char k[CORE_KEY_LEN] = {1};
	struct core *c = fx_core_nostore(k);
	struct arena a;
	const char *prev = NULL;

	(void)state;
	arena_init(&a, 0);
	for (int i = 0; i < 50; i++) {
		const char *tok = NULL, *secret = NULL;
		char lookup[TOKEN_LOOKUP_LEN + 1], hash[65], lk2[TOKEN_LOOKUP_LEN + 1], h2[65];
		struct rs_err err = {0};

		assert_int_equal(token_mint(c, &a, &tok, lookup, hash, &err), RS_OK);
		/* rst_<16 hex>_<43 base64url> (docs/api.md) */
		assert_int_equal(strlen(tok), 4 + 16 + 1 + 43);
		assert_memory_equal(tok, "rst_", 4);
		for (int j = 4; j < 20; j++)
			assert_non_null(strchr("0123456789abcdef", tok[j]));
		assert_int_equal(tok[20], '_');
		for (int j = 21; tok[j]; j++)
			assert_non_null(
			    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789-_",
				   tok[j]));
		token_split(tok, lk2, &secret);
		assert_string_equal(lk2, lookup);
		token_hash(c, secret, h2);
		assert_string_equal(h2, hash);
		if (prev)
			assert_string_not_equal(tok, prev);
		prev = tok;
	}
	arena_release(&a);
	core_free(c);
}

/* ---- auth_bearer ------------------------------------------------------------------------ */

static void test_malformed_and_unknown(void **state)
{
	struct fx *f = *state;
	char longtok[600];
	char wrong[sizeof(FX_BOOT_TOKEN)];
	const char *t[] = {
	    "",
	    "short",
	    "rst_0123456789abcdef",
	    "rst_ffffffffffffffff_AAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjj-_0",
	    "Bearer " FX_BOOT_TOKEN,
	    FX_BOOT_TOKEN " ",
	    "rst_0123456789abcdef_AAAA\nbbbb",
	    "rst_0123456789abcdef_\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8",
	    "a random string long enough to pass the length check",
	};

	expect_alive(f, FX_BOOT_TOKEN, NULL, "bootstrap");
	assert_int_equal(auth_bearer(f->core, NULL, &(struct actor){0}, &(struct rs_err){0}),
			 RS_E_UNAUTHENTICATED);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect_dead(f, t[i], t[i]);
	/* The right lookup with a wrong secret, one character off. */
	memcpy(wrong, FX_BOOT_TOKEN, sizeof(wrong));
	wrong[sizeof(wrong) - 2] ^= 1;
	expect_dead(f, wrong, "wrong secret");
	/* ... also once the right one is in the cache. */
	expect_alive(f, FX_BOOT_TOKEN, NULL, "bootstrap");
	expect_dead(f, wrong, "wrong secret, cached lookup");
	memset(longtok, 'a', sizeof(longtok) - 1);
	longtok[sizeof(longtok) - 1] = '\0';
	expect_dead(f, longtok, "600 chars");
	/* The bootstrap token itself still works after all that. */
	expect_alive(f, FX_BOOT_TOKEN, NULL, "bootstrap");
}

static void test_revoke_next_call(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", "threatconnect");
	const char *uid = fx_user(f, tid, "alice", "Administrator", NULL);
	const char *kid = NULL;
	const char *secret = fx_token(f, tid, uid, NULL, &kid);
	struct actor who;
	struct rs_err err = {0};

	expect_alive(f, secret, &who, "first call (fills the cache)");
	assert_string_equal(who.user_id, uid);
	assert_string_equal(who.token_id, kid);
	assert_string_equal(who.tenant_id, tid);
	assert_string_equal(who.tenant_slug, "acme");
	assert_string_equal(who.username, "alice");
	assert_int_equal(who.rank, 900);
	assert_false(who.platform);
	expect_alive(f, secret, NULL, "second call (from the cache)");
	/* The owner revokes its own token. */
	fx_expect(tokens_revoke(f->core, &who, tid, kid, &err), &err, RS_OK, NULL);
	expect_dead(f, secret, "revoked");
	/* Revoking twice is the same as once, and writes one audit event. */
	fx_expect(tokens_revoke(f->core, &f->platform, tid, kid, &err), &err, RS_OK, NULL);
	assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM audit_events WHERE action = "
				       "'token.revoke'"),
			 1);
	{
		struct token t;

		fx_expect(tokens_get(f->core, &f->platform, tid, kid, &f->a, &t, &err), &err, RS_OK,
			  NULL);
		assert_int_equal(t.revoked_at, f->now);
	}
}

/* The cache is real: a change made behind the core's back is not seen until the entry ages
 * out; a change made through the core is seen at once. */
static void test_cache_is_used(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *uid = fx_user(f, tid, "bob", NULL, NULL);
	const char *kid = NULL;
	const char *secret = fx_token(f, tid, uid, NULL, &kid);
	char *sql;

	expect_alive(f, secret, NULL, "fill");
	sql = arena_printf(&f->a, "UPDATE api_tokens SET revoked_at = 1 WHERE id = '%s'", kid);
	fx_sql(f, sql);
	expect_alive(f, secret, NULL, "served from the cache");
	f->now += 60000; /* CACHE_TTL_MS */
	expect_dead(f, secret, "re-read after the TTL");
}

static void test_expired(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *uid = fx_user(f, tid, "carol", NULL, NULL);
	struct token_create_req req = {
	    .name = "short-lived", .user_id = uid, .has_expiry = true, .expires_in_days = 1};
	struct token t;
	const char *secret = NULL;
	struct rs_err err = {0};
	int64_t t0 = f->now;

	fx_expect(tokens_create(f->core, &f->platform, tid, &req, &f->a, &t, &secret, &err), &err,
		  RS_OK, NULL);
	assert_int_equal(t.expires_at, t0 + DAY_MS);
	expect_alive(f, secret, NULL, "fresh");
	f->now = t0 + DAY_MS - 1;
	expect_alive(f, secret, NULL, "one ms before expiry");
	f->now = t0 + DAY_MS;
	expect_dead(f, secret, "at expires_at (cached entry)");
	f->now = t0 + 2 * DAY_MS;
	expect_dead(f, secret, "a day later");
}

static void test_deleted_owner(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *uid = fx_user(f, tid, "dave", NULL, NULL);
	const char *s1 = fx_token(f, tid, uid, NULL, NULL);
	const char *s2 = fx_token(f, tid, uid, "Viewer", NULL);
	struct rs_err err = {0};

	expect_alive(f, s1, NULL, "before");
	expect_alive(f, s2, NULL, "before");
	fx_expect(fx_delete(f, &f->platform, tid, uid, 0, &err), &err, RS_OK, NULL);
	expect_dead(f, s1, "owner deleted");
	expect_dead(f, s2, "owner deleted, role token");
	/* Even if the tombstone's tokens were not revoked, the owner's status refuses them. */
	fx_sql(f, "UPDATE api_tokens SET revoked_at = NULL");
	f->now += 60000;
	expect_dead(f, s1, "owner deleted, token row not revoked");
}

static void test_deleted_tenant(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *keep = fx_tenant(f, "other", NULL);
	const char *u1 = fx_user(f, tid, "erin", "Owner", NULL);
	const char *u2 = fx_user(f, tid, "frank", NULL, NULL);
	const char *u3 = fx_user(f, keep, "grace", NULL, NULL);
	const char *s1 = fx_token(f, tid, u1, NULL, NULL);
	const char *s2 = fx_token(f, tid, u2, "Viewer", NULL);
	const char *s3 = fx_token(f, keep, u3, NULL, NULL);
	struct rs_err err = {0};

	expect_alive(f, s1, NULL, "before");
	expect_alive(f, s2, NULL, "before");
	expect_alive(f, s3, NULL, "before");
	fx_expect(tenants_delete(f->core, &f->platform, "acme", 0, &err), &err, RS_OK, NULL);
	expect_dead(f, s1, "tenant deleted");
	expect_dead(f, s2, "tenant deleted, role token");
	expect_alive(f, s3, NULL, "another tenant's token");
	/* The tenant row's status alone refuses them too. */
	fx_sql(f, "UPDATE api_tokens SET revoked_at = NULL");
	f->now += 60000;
	expect_dead(f, s1, "tenant deleted, token row not revoked");
}

/* A token without a role follows its owner's roles; a token with one is bounded by it. */
static void test_token_scope(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", "threatconnect");
	const char *uid = fx_user(f, tid, "heidi", "Administrator", NULL);
	const char *follow = fx_token(f, tid, uid, NULL, NULL);
	const char *reader = fx_token(f, tid, uid, "Read Only User", NULL);
	struct user_fields uf = {.system_role = {true, "User"}};
	struct user u;
	struct actor who;
	struct rs_err err = {0};

	expect_alive(f, follow, &who, "follow");
	assert_int_equal(who.rank, 900);
	assert_true(who.perms & PERM_BIT(PERM_USERS_CREATE));
	expect_alive(f, reader, &who, "reader");
	assert_int_equal(who.rank, 100);
	assert_int_equal(who.perms, PERM_BIT(PERM_TENANT_READ) | PERM_BIT(PERM_USERS_READ));
	/* Demote the owner: the following token follows at once, the role token is capped by
	 * what the owner holds today. */
	fx_expect(users_update(f->core, &f->platform, tid, uid, &uf, 0, &f->a, &u, &err), &err,
		  RS_OK, NULL);
	expect_alive(f, follow, &who, "follow, demoted");
	assert_int_equal(who.rank, 300);
	assert_false(who.perms & PERM_BIT(PERM_USERS_CREATE));
	expect_alive(f, reader, &who, "reader, demoted");
	assert_int_equal(who.rank, 100);
}

static void test_create_rules(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", "threatconnect");
	const char *uid = fx_user(f, tid, "ivan", "User", NULL);
	const char *other = fx_user(f, tid, "judy", "User", NULL);
	struct actor ivan;
	struct token t;
	const char *secret;
	struct rs_err err = {0};
	static const struct {
		struct token_create_req req;
		enum rs_status st;
		const char *code, *field;
	} bad[] = {
	    {{.name = NULL}, RS_E_INVALID, "request.invalid_field", "name"},
	    {{.name = ""}, RS_E_INVALID, "request.invalid_field", "name"},
	    {{.name = "a\tb"}, RS_E_INVALID, "request.invalid_field", "name"},
	    {{.name = "x", .has_expiry = true, .expires_in_days = 0},
	     RS_E_INVALID,
	     "request.invalid_field",
	     "expires_in_days"},
	    {{.name = "x", .has_expiry = true, .expires_in_days = 3651},
	     RS_E_INVALID,
	     "request.invalid_field",
	     "expires_in_days"},
	    {{.name = "x", .has_expiry = true, .expires_in_days = -1},
	     RS_E_INVALID,
	     "request.invalid_field",
	     "expires_in_days"},
	    {{.name = "x", .user_id = "not-a-uuid"},
	     RS_E_INVALID,
	     "request.invalid_field",
	     "user_id"},
	    {{.name = "x", .role = "No Such Role"}, RS_E_INVALID, "request.invalid_field", "role"},
	    /* above the creator's own rank */
	    {{.name = "x", .role = "Administrator"}, RS_E_FORBIDDEN, "rank.role_above_own", ""},
	    /* a tenant role may scope a token as well, but not above the owner */
	    {{.name = "x", .role = "Organization Administrator"},
	     RS_E_FORBIDDEN,
	     "rank.role_above_own",
	     ""},
	};

	fx_actor(f, tid, uid, NULL, &ivan);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[32];

		snprintf(what, sizeof(what), "row %zu", i);
		fx_expect_at(
		    tokens_create(f->core, &ivan, tid, &bad[i].req, &f->a, &t, &secret, &err), &err,
		    bad[i].st, bad[i].code, __FILE__, __LINE__, what);
		assert_string_equal(err.field, bad[i].field);
	}
	/* For oneself, at or below one's own rank, no permission is needed. */
	{
		struct token_create_req ok = {.name = "mine",
					      .role = "Read Only User",
					      .has_expiry = true,
					      .expires_in_days = 3650};

		fx_expect(tokens_create(f->core, &ivan, tid, &ok, &f->a, &t, &secret, &err), &err,
			  RS_OK, NULL);
		assert_string_equal(t.user_id, uid);
		assert_string_equal(t.role.name, "Read Only User");
		assert_int_equal(t.role.rank, 100);
	}
	/* For somebody else it needs tokens.manage. */
	{
		struct token_create_req req = {.name = "theirs", .user_id = other};

		fx_expect(tokens_create(f->core, &ivan, tid, &req, &f->a, &t, &secret, &err), &err,
			  RS_E_FORBIDDEN, "auth.permission_denied");
	}
	/* The platform can't give a User's token the Administrator role either. */
	{
		struct token_create_req req = {
		    .name = "up", .user_id = uid, .role = "Administrator"};

		fx_expect(tokens_create(f->core, &f->platform, tid, &req, &f->a, &t, &secret, &err),
			  &err, RS_E_FORBIDDEN, "rank.role_above_own");
	}
	/* The platform creating a token in another tenant must name the owner. */
	{
		struct token_create_req req = {.name = "nobody"};

		fx_expect(tokens_create(f->core, &f->platform, tid, &req, &f->a, &t, &secret, &err),
			  &err, RS_E_INVALID, "request.invalid_field");
		assert_string_equal(err.field, "user_id");
	}
}

static void test_visibility(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", "threatconnect");
	const char *u1 = fx_user(f, tid, "kim", "User", NULL);
	const char *u2 = fx_user(f, tid, "lee", "User", NULL);
	const char *k2 = NULL;
	struct actor kim;
	struct token_list tl;
	struct token t;
	struct rs_err err = {0};

	fx_actor(f, tid, u1, NULL, &kim);
	fx_token(f, tid, u2, NULL, &k2);
	/* Without tokens.read a user sees only its own tokens... */
	fx_expect(tokens_list(f->core, &kim, tid, NULL, NULL, &f->a, &tl, &err), &err, RS_OK, NULL);
	assert_int_equal(tl.n, 1);
	assert_string_equal(tl.items[0].user_id, u1);
	fx_expect(tokens_list(f->core, &kim, tid, u2, NULL, &f->a, &tl, &err), &err, RS_E_FORBIDDEN,
		  "auth.permission_denied");
	/* ...and another user's token does not exist for it. */
	fx_expect(tokens_get(f->core, &kim, tid, k2, &f->a, &t, &err), &err, RS_E_NOT_FOUND,
		  "token.not_found");
	fx_expect(tokens_revoke(f->core, &kim, tid, k2, &err), &err, RS_E_NOT_FOUND,
		  "token.not_found");
	/* The platform sees both. */
	fx_expect(tokens_list(f->core, &f->platform, tid, NULL, NULL, &f->a, &tl, &err), &err,
		  RS_OK, NULL);
	assert_int_equal(tl.n, 2);
	/* me_get names the token in use. */
	{
		struct me me;

		fx_expect(me_get(f->core, &kim, &f->a, &me, &err), &err, RS_OK, NULL);
		assert_true(me.has_token);
		assert_string_equal(me.token.id, kim.token_id);
		assert_string_equal(me.user.id, u1);
		assert_string_equal(me.tenant.slug, "acme");
	}
}

/* A bootstrap secret in another format than roster's own still works. */
static void test_bootstrap_foreign_secret(void **state)
{
	struct fx *f = *state;
	const char *foreign = "an operator-chosen bootstrap secret, 40+ chars";
	struct store_config scfg = {.sync = STORE_SYNC_OFF};
	struct core_config ccfg = {0};
	struct store *s = NULL;
	struct core *c = NULL;
	struct rs_err err = {0};
	struct actor who;
	bool created = false;
	const char *secret = NULL;

	scfg.path = arena_printf(&f->a, "%s/foreign.db", f->dir);
	fx_expect(store_open(&scfg, &s, &err), &err, RS_OK, NULL);
	ccfg.store = s;
	memcpy(ccfg.key, f->key, CORE_KEY_LEN);
	fx_expect(core_new(&ccfg, &c, &err), &err, RS_OK, NULL);
	/* Too short or with control characters: refused before anything is written. */
	fx_expect(core_bootstrap(c, "short", &f->a, &created, &secret, &err), &err, RS_E_INVALID,
		  "bootstrap.token_invalid");
	fx_expect(core_bootstrap(c, "0123456789012345678901234567890123\n", &f->a, &created,
				 &secret, &err),
		  &err, RS_E_INVALID, "bootstrap.token_invalid");
	fx_expect(core_bootstrap(c, foreign, &f->a, &created, &secret, &err), &err, RS_OK, NULL);
	assert_true(created);
	assert_null(secret); /* the operator chose it: nothing to print */
	fx_expect(auth_bearer(c, foreign, &who, &err), &err, RS_OK, NULL);
	assert_true(who.platform);
	assert_int_equal(who.rank, 1000);
	/* A second bootstrap changes nothing. */
	fx_expect(core_bootstrap(c, NULL, &f->a, &created, &secret, &err), &err, RS_OK, NULL);
	assert_false(created);
	fx_expect(auth_bearer(c, foreign, &who, &err), &err, RS_OK, NULL);
	core_free(c);
	store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_split),
	    cmocka_unit_test(test_token_hash_keyed),
	    cmocka_unit_test(test_token_mint),
	    cmocka_unit_test_setup_teardown(test_malformed_and_unknown, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_revoke_next_call, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_cache_is_used, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_expired, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_deleted_owner, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_deleted_tenant, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_token_scope, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_create_rules, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_visibility, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_bootstrap_foreign_secret, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("core/tokens", tests, NULL, NULL);
}
