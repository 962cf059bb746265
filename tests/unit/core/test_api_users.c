/* core/api_users.c: API users are users of type api with a seat and the rank rule; their secret
 * key is derived, never stored, and checks out through client_credentials; rotation, disabling
 * and expiry take effect on the next call; a signed request is refused when its signature,
 * clock or novelty is wrong, and an unknown access id answers exactly as a bad signature. */
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

struct made {
	struct user u;
	struct api_credential k;
	const char *secret;
};

static void make(struct fx *f, const struct actor *who, const char *tenant, int64_t days,
		 struct made *out)
{
	struct api_user_req q = {
	    .first_name = "Feed", .last_name = "Bot", .token_expiry_days = days};
	struct rs_err err = {0};

	fx_expect(
	    api_users_create(f->core, who, tenant, &q, &f->a, &out->u, &out->k, &out->secret, &err),
	    &err, RS_OK, NULL);
}

/* The client's side of ThreatConnect's scheme, written out independently of the core. */
static void client_sign(const char *secret, const char *path, const char *method, const char *ts,
			char out[45])
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	char msg[512];

	snprintf(msg, sizeof(msg), "%s:%s:%s", path, method, ts);
	crypto_hmac_sha256(secret, strlen(secret), msg, strlen(msg), mac);
	crypto_b64(mac, sizeof(mac), out);
}

static enum rs_status try_signed(struct fx *f, const char *id, const char *secret, const char *path,
				 int64_t ts_s, struct rs_err *err)
{
	char ts[32], sig[45];
	struct actor who;

	snprintf(ts, sizeof(ts), "%lld", (long long)ts_s);
	client_sign(secret, path, "GET", ts, sig);
	memset(err, 0, sizeof(*err));
	return auth_signed(
	    f->core,
	    &(struct signed_req){
		.access_id = id, .signature = sig, .method = "GET", .path = path, .timestamp = ts},
	    &who, err);
}

static void test_create(void **state)
{
	struct fx *f = *state;
	const char *t = fx_tenant(f, "acme", "threatconnect");
	struct made m;
	struct actor admin, who;
	struct user u;
	struct rs_err err = {0};
	char sql[256];

	make(f, &f->platform, t, 0, &m);
	assert_string_equal(m.u.type, "api");
	assert_string_equal(m.u.system_role.name, "Api User");
	assert_int_equal(strlen(m.k.access_id), API_ACCESS_ID_LEN);
	assert_int_equal(strlen(m.secret), API_SECRET_LEN);
	assert_int_equal(m.k.expires_at, 0);
	assert_int_equal(strncmp(m.u.username, "api-", 4), 0);
	assert_string_equal(m.u.username + 4, m.k.access_id);
	/* A seat of type api: with the limit reached, the next one is refused and nothing stays. */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO seat_limits (tenant_id, type, max_seats) VALUES ('%s', 'api', 1)", t);
	fx_sql(f, sql);
	{
		struct api_user_req q = {.first_name = "A", .last_name = "B"};
		struct api_credential k;
		const char *s;

		fx_expect(api_users_create(f->core, &f->platform, t, &q, &f->a, &u, &k, &s, &err),
			  &err, RS_E_CONFLICT, "seats.exhausted");
		assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM api_credentials"), 1);
		/* The rank rule: an Accounts Administrator can't make an Administrator. */
		fx_sql(f, "DELETE FROM seat_limits");
		fx_user_actor(f, t, "accounts", "Accounts Administrator", NULL, &admin);
		q.system_role = "Administrator";
		fx_expect(api_users_create(f->core, &admin, t, &q, &f->a, &u, &k, &s, &err), &err,
			  RS_E_FORBIDDEN, NULL);
	}
	/* The secret is not in the database; its keyed hash is, and client_credentials takes it. */
	{
		char hash[65], q[256];

		token_hash(f->core, m.secret, hash);
		snprintf(q, sizeof(q),
			 "SELECT count(*) FROM api_credentials WHERE secret_hash = '%s' AND salt "
			 "<> '%s'",
			 hash, m.secret);
		assert_int_equal(fx_sql_int(f, q), 1);
	}
	fx_expect(api_credential_check(f->core, m.k.access_id, m.secret, &f->a, &who, &u, &err),
		  &err, RS_OK, NULL);
	assert_string_equal(who.user_id, m.u.id);
	assert_string_equal(who.tenant_id, t);
	assert_string_equal(u.id, m.u.id);
	fx_expect(api_credential_check(f->core, m.k.access_id, "x", &f->a, &who, NULL, &err), &err,
		  RS_E_UNAUTHENTICATED, "auth.invalid_client");
	fx_expect(api_credential_check(f->core, "AAAAAAAAAAAAAAAAAAAA", m.secret, &f->a, &who, NULL,
				       &err),
		  &err, RS_E_UNAUTHENTICATED, "auth.invalid_client");
}

static void test_rotate_disable_expire(void **state)
{
	struct fx *f = *state;
	const char *t = fx_tenant(f, "acme", "threatconnect");
	struct made m;
	struct api_credential k;
	const char *fresh = NULL;
	struct rs_err err;
	int64_t now_s = f->now / 1000;

	make(f, &f->platform, t, 2, &m);
	fx_expect(try_signed(f, m.k.access_id, m.secret, "/api/v1/me", now_s, &err), &err, RS_OK,
		  NULL);
	fx_expect(api_credentials_rotate(f->core, &f->platform, t, m.u.id, m.k.access_id, NULL,
					 &f->a, &k, &fresh, &err),
		  &err, RS_OK, NULL);
	assert_string_not_equal(fresh, m.secret);
	/* The old key was cached: the rotation still kills it on the next call. */
	fx_expect(try_signed(f, m.k.access_id, m.secret, "/api/v1/me?a", now_s, &err), &err,
		  RS_E_UNAUTHENTICATED, "auth.invalid_signature");
	fx_expect(try_signed(f, m.k.access_id, fresh, "/api/v1/me?b", now_s, &err), &err, RS_OK,
		  NULL);
	fx_expect(api_credentials_set_disabled(f->core, &f->platform, t, m.u.id, m.k.access_id,
					       true, &f->a, &k, &err),
		  &err, RS_OK, NULL);
	assert_true(k.disabled);
	fx_expect(try_signed(f, m.k.access_id, fresh, "/api/v1/me?c", now_s, &err), &err,
		  RS_E_UNAUTHENTICATED, "auth.invalid_signature");
	fx_expect(api_credentials_set_disabled(f->core, &f->platform, t, m.u.id, m.k.access_id,
					       false, &f->a, &k, &err),
		  &err, RS_OK, NULL);
	fx_expect(try_signed(f, m.k.access_id, fresh, "/api/v1/me?d", now_s, &err), &err, RS_OK,
		  NULL);
	/* Two days on, the credential has expired. */
	f->now += 2 * DAY_MS + 1000;
	now_s = f->now / 1000;
	fx_expect(try_signed(f, m.k.access_id, fresh, "/api/v1/me?e", now_s, &err), &err,
		  RS_E_UNAUTHENTICATED, "auth.invalid_signature");
	{
		struct actor who;

		fx_expect(
		    api_credential_check(f->core, m.k.access_id, fresh, &f->a, &who, NULL, &err),
		    &err, RS_E_UNAUTHENTICATED, "auth.invalid_client");
	}
}

static void test_signatures(void **state)
{
	struct fx *f = *state;
	const char *t = fx_tenant(f, "acme", "threatconnect");
	struct made m;
	struct rs_err err, bad;
	struct actor who;
	int64_t now_s = f->now / 1000;
	char sig[45];

	make(f, &f->platform, t, 0, &m);
	fx_expect(try_signed(f, m.k.access_id, m.secret, "/api/v1/me?x=1", now_s, &err), &err,
		  RS_OK, NULL);
	/* The exact same request again: a replay. */
	fx_expect(try_signed(f, m.k.access_id, m.secret, "/api/v1/me?x=1", now_s, &err), &err,
		  RS_E_UNAUTHENTICATED, "auth.replayed");
	/* Wrong key. */
	fx_expect(try_signed(f, m.k.access_id, "not the key", "/api/v1/me?x=2", now_s, &bad), &bad,
		  RS_E_UNAUTHENTICATED, "auth.invalid_signature");
	/* An unknown access id answers word for word as a bad signature. */
	fx_expect(try_signed(f, "ZZZZZZZZZZZZZZZZZZZZ", m.secret, "/api/v1/me?x=3", now_s, &err),
		  &err, RS_E_UNAUTHENTICATED, "auth.invalid_signature");
	assert_string_equal(err.msg, bad.msg);
	assert_string_equal(err.field, bad.field);
	/* Signed for another path (the query string is part of it). */
	{
		char ts[32];

		snprintf(ts, sizeof(ts), "%lld", (long long)now_s);
		client_sign(m.secret, "/api/v1/me?x=4", "GET", ts, sig);
		fx_expect(auth_signed(f->core,
				      &(struct signed_req){.access_id = m.k.access_id,
							   .signature = sig,
							   .method = "GET",
							   .path = "/api/v1/me?x=5",
							   .timestamp = ts},
				      &who, &err),
			  &err, RS_E_UNAUTHENTICATED, "auth.invalid_signature");
		/* ... or another method. */
		fx_expect(auth_signed(f->core,
				      &(struct signed_req){.access_id = m.k.access_id,
							   .signature = sig,
							   .method = "DELETE",
							   .path = "/api/v1/me?x=4",
							   .timestamp = ts},
				      &who, &err),
			  &err, RS_E_UNAUTHENTICATED, "auth.invalid_signature");
	}
	/* The clock: 5 minutes either way, no more. */
	fx_expect(try_signed(f, m.k.access_id, m.secret, "/api/v1/me?y=1", now_s - 300, &err), &err,
		  RS_OK, NULL);
	fx_expect(try_signed(f, m.k.access_id, m.secret, "/api/v1/me?y=2", now_s + 300, &err), &err,
		  RS_OK, NULL);
	fx_expect(try_signed(f, m.k.access_id, m.secret, "/api/v1/me?y=3", now_s - 301, &err), &err,
		  RS_E_UNAUTHENTICATED, "auth.stale_timestamp");
	fx_expect(try_signed(f, m.k.access_id, m.secret, "/api/v1/me?y=4", now_s + 301, &err), &err,
		  RS_E_UNAUTHENTICATED, "auth.stale_timestamp");
	/* Old signatures are forgotten, a minute after they could no longer be replayed. */
	assert_true(fx_sql_int(f, "SELECT count(*) FROM signed_requests") >= 3);
	f->now += 12 * 60000; /* past the latest timestamp (+300 s) by the window and a margin */
	fx_expect(try_signed(f, m.k.access_id, m.secret, "/api/v1/me?z", f->now / 1000, &err), &err,
		  RS_OK, NULL);
	assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM signed_requests"), 1);
}

static void test_deleted_user(void **state)
{
	struct fx *f = *state;
	const char *t = fx_tenant(f, "acme", "threatconnect");
	struct made m;
	struct rs_err err;
	int64_t now_s = f->now / 1000;

	make(f, &f->platform, t, 0, &m);
	fx_expect(try_signed(f, m.k.access_id, m.secret, "/a", now_s, &err), &err, RS_OK, NULL);
	fx_expect(fx_delete(f, &f->platform, t, m.u.id, 0, &err), &err, RS_OK, NULL);
	fx_expect(try_signed(f, m.k.access_id, m.secret, "/b", now_s, &err), &err,
		  RS_E_UNAUTHENTICATED, "auth.invalid_signature");
	assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM api_credentials"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rotate_disable_expire, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_signatures, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_deleted_user, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("core/api_users", tests, NULL, NULL);
}
