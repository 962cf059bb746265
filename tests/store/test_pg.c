/* Checks specific to the PostgreSQL engine, against the server in ROSTER_TEST_PG (required:
 * unset is a failure): concurrent writers of one tenant, retry of a deadlocked transaction,
 * connection loss mid-read, signals between two stores (two nodes) by notification and by the
 * polling fallback, concurrent migration, refusal of a newer schema, the pool parameter. May
 * use store/pg/pg_int.h. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "store/pg/pg_int.h"
#include "util/timeutil.h"

#define OK(x) assert_int_equal((x), RS_OK)

static struct store *fresh(char *uri, size_t cap)
{
	struct store *s;

	th_path(uri, cap, "pg");
	s = th_open(uri, STORE_SYNC_FULL);
	assert_non_null(s);
	return s;
}

/* ---- 8 writers on one tenant: gapless audit chain, no lost update ------------------------ */

struct cw_thread {
	struct store *s;
	int n, done, bad;
};

#define CW_ITERS 25

/* What a core write does: lock the tenant, extend the audit chain, read-modify-write a
 * counter kept in the tenant's settings. */
static enum rs_status cw_fn(struct store_tx *tx, void *ctx, struct rs_err *err)
{
	struct cw_thread *t = ctx;
	struct store_rows *r;
	bool has;
	int64_t seq, version, count;
	char id[32], settings[32];
	enum rs_status st;

	st = store_query(tx, Q_TENANT_LOCK, (struct store_val[]){SV_S("t1")}, 1, &r, err);
	if (st)
		return st;
	store_rows_close(r);
	st = store_query(tx, Q_TENANT_AUDIT_HEAD, (struct store_val[]){SV_S("t1")}, 1, &r, err);
	if (st)
		return st;
	st = store_rows_next(r, &has, err);
	seq = store_col_int(r, 0);
	store_rows_close(r);
	if (st || !has)
		return st ? st : RS_E_INTERNAL;
	snprintf(id, sizeof(id), "e-%d-%lld", t->n, (long long)seq);
	struct store_val av[] = {SV_S("t1"), SV_I(seq + 1), SV_S(id),  SV_I(1),	     SV_S("user"),
				 SV_NULLV,   SV_NULLV,	    SV_S("x"), SV_S("user"), SV_NULLV,
				 SV_S("{}"), SV_NULLV,	    SV_NULLV,  SV_S("p"),    SV_S("h")};
	st = store_exec(tx, Q_AUDIT_INSERT, av, 15, NULL, err);
	if (!st)
		st = store_exec(tx, Q_TENANT_AUDIT_SET,
				(struct store_val[]){SV_S("t1"), SV_I(seq + 1), SV_S("h")}, 3, NULL,
				err);
	if (st)
		return st;
	st = store_query(tx, Q_TENANT_GET_ID, (struct store_val[]){SV_S("t1")}, 1, &r, err);
	if (st)
		return st;
	st = store_rows_next(r, &has, err);
	version = store_col_int(r, TC_VERSION);
	count = strtoll(store_col_text(r, TC_SETTINGS) + 5, NULL, 10); /* {"n":N} */
	store_rows_close(r);
	if (st)
		return st;
	snprintf(settings, sizeof(settings), "{\"n\":%lld}", (long long)count + 1);
	int64_t ch = 0;
	st = store_exec(
	    tx, Q_TENANT_UPDATE,
	    (struct store_val[]){SV_S("t1"), SV_S("acme"), SV_S(settings), SV_I(2), SV_I(version)},
	    5, &ch, err);
	if (!st && ch != 1)
		st = rs_fail(err, RS_E_PRECONDITION, "test.lost_update", NULL, "version moved");
	return st;
}

static void *cw_main(void *arg)
{
	struct cw_thread *t = arg;

	for (int i = 0; i < CW_ITERS; i++) {
		struct rs_err err = {0};

		if (store_write(t->s, cw_fn, t, &err) == RS_OK)
			t->done++;
		else {
			fprintf(stderr, "writer %d: %s %s\n", t->n, err.code, err.msg);
			t->bad++;
		}
	}
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	char uri[512];
	struct store *s = fresh(uri, sizeof(uri));
	struct th_res *r = th_res_new();
	struct cw_thread t[8];
	pthread_t th[8];
	struct rs_err err;

	OK(th_tenant(s, "t1", "acme"));
	OK(th_exec(
	    s, Q_TENANT_UPDATE,
	    (struct store_val[]){SV_S("t1"), SV_S("acme"), SV_S("{\"n\":0}"), SV_I(2), SV_I(1)}, 5,
	    NULL, &err));
	for (int i = 0; i < 8; i++) {
		t[i] = (struct cw_thread){.s = s, .n = i};
		assert_int_equal(pthread_create(&th[i], NULL, cw_main, &t[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].bad, 0);
		assert_int_equal(t[i].done, CW_ITERS);
	}
	OK(th_query(s, Q_AUDIT_CHAIN, (struct store_val[]){SV_S("t1")}, 1, 15, r, &err));
	assert_int_equal(r->nrows, 8 * CW_ITERS);
	for (int i = 0; i < r->nrows; i++)
		assert_int_equal(r->ints[i][AC_SEQ], i + 1); /* gapless */
	OK(th_query(s, Q_TENANT_GET_ID, (struct store_val[]){SV_S("t1")}, 1, 9, r, &err));
	assert_string_equal(r->text[0][TC_SETTINGS], "{\"n\":200}"); /* no lost update */
	assert_int_equal(r->ints[0][TC_VERSION], 2 + 8 * CW_ITERS);
	th_res_free(r);
	store_free(s);
}

/* ---- a deadlock is retried: fn runs again and both writers succeed ------------------------ */

struct dl_ctx {
	struct store *s;
	const char *first, *second;
	pthread_barrier_t *barrier;
	atomic_int runs;
	enum rs_status st;
	struct rs_err err;
};

static enum rs_status dl_lock(struct store_tx *tx, const char *tenant, struct rs_err *err)
{
	struct store_rows *r;
	enum rs_status st =
	    store_query(tx, Q_TENANT_LOCK, (struct store_val[]){SV_S(tenant)}, 1, &r, err);

	if (!st)
		store_rows_close(r);
	return st;
}

static enum rs_status dl_fn(struct store_tx *tx, void *ctx, struct rs_err *err)
{
	struct dl_ctx *c = ctx;
	enum rs_status st;

	/* Only the first run meets the other writer in lockstep; a rerun must not wait. */
	bool first_run = atomic_fetch_add(&c->runs, 1) == 0;

	st = dl_lock(tx, c->first, err);
	if (st)
		return st;
	if (first_run)
		pthread_barrier_wait(c->barrier);
	return dl_lock(tx, c->second, err);
}

static void *dl_main(void *arg)
{
	struct dl_ctx *c = arg;

	c->st = store_write(c->s, dl_fn, c, &c->err);
	return NULL;
}

static void test_deadlock_retried(void **state)
{
	char uri[512];
	struct store *s = fresh(uri, sizeof(uri));
	pthread_barrier_t b;
	struct dl_ctx c[2] = {{.first = "t1", .second = "t2"}, {.first = "t2", .second = "t1"}};
	struct pg_stats before, after;
	pthread_t th[2];

	OK(th_tenant(s, "t1", "a"));
	OK(th_tenant(s, "t2", "b"));
	pthread_barrier_init(&b, NULL, 2);
	pg_store_stats(s, &before);
	for (int i = 0; i < 2; i++) {
		c[i].s = s;
		c[i].barrier = &b;
		assert_int_equal(pthread_create(&th[i], NULL, dl_main, &c[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pg_store_stats(s, &after);
	OK(c[0].st);
	OK(c[1].st);
	/* PostgreSQL aborted one of them (40P01) after deadlock_timeout; it ran again. */
	assert_int_equal(atomic_load(&c[0].runs) + atomic_load(&c[1].runs), 3);
	assert_int_equal(after.retries - before.retries, 1);
	pthread_barrier_destroy(&b);
	store_free(s);
}

/* ---- connection loss mid-read: 503-class error, then the next call works ----------------- */

struct kill_ctx {
	const char *uri;
	enum rs_status second;
};

static enum rs_status kill_fn(struct store_tx *tx, void *ctx, struct rs_err *err)
{
	struct kill_ctx *k = ctx;
	struct store_rows *r;
	enum rs_status st;

	st = store_query(tx, Q_TENANT_LIST_ALL, NULL, 0, &r, err);
	if (st)
		return st;
	store_rows_close(r);
	/* From another connection: terminate the backend that is inside this transaction. */
	assert_int_equal(th_pg_sql(k->uri, "SELECT count(pg_terminate_backend(pid, 5000)) FROM "
					   "pg_stat_activity WHERE datname = current_database() "
					   "AND state = 'idle in transaction'"),
			 1);
	k->second = store_query(tx, Q_TENANT_LIST_ALL, NULL, 0, &r, err);
	if (!k->second)
		store_rows_close(r);
	return k->second;
}

static void test_connection_loss(void **state)
{
	char uri[512];
	struct store *s = fresh(uri, sizeof(uri));
	struct kill_ctx k = {.uri = uri};
	struct th_res *r = th_res_new();
	struct rs_err err;

	OK(th_tenant(s, "t1", "a"));
	assert_int_equal(store_read(s, kill_fn, &k, &err), RS_E_UNAVAILABLE);
	assert_int_equal(k.second, RS_E_UNAVAILABLE);
	assert_string_equal(err.code, "store.unavailable");
	OK(th_query(s, Q_TENANT_LIST_ALL, NULL, 0, 3, r, &err));
	assert_int_equal(r->nrows, 1);
	/* Every idle pooled connection killed at once (a server restart): the next calls
	 * reconnect before running anything, so they succeed. */
	assert_true(th_pg_sql(uri, "SELECT count(pg_terminate_backend(pid, 5000)) FROM "
				   "pg_stat_activity WHERE datname = current_database() AND "
				   "pid <> pg_backend_pid()") >= 1);
	OK(th_query(s, Q_TENANT_LIST_ALL, NULL, 0, 3, r, &err));
	OK(th_group(s, "t1", "g1", "g1"));
	th_res_free(r);
	store_free(s);
}

/* ---- signals between two nodes ------------------------------------------------------------- */

struct sig_seen {
	atomic_int count;
	atomic_uint bits;
};

static void sig_watch(unsigned sigs, void *ctx)
{
	struct sig_seen *w = ctx;

	atomic_fetch_or(&w->bits, sigs);
	atomic_fetch_add(&w->count, 1);
}

static enum rs_status sig_fn(struct store_tx *tx, void *ctx, struct rs_err *err)
{
	struct store_val a[] = {SV_S("t1"), SV_S(ctx), SV_I(9)};
	enum rs_status st = store_exec(tx, Q_TOKEN_REVOKE, a, 3, NULL, err);

	return st ? st : store_signal(tx, STORE_SIG_AUTH, err);
}

/* Waits up to ms for w->count to exceed since; returns the time it took, or -1. */
static int64_t sig_wait(struct sig_seen *w, int since, int ms)
{
	int64_t t0 = time_mono_ns();

	while ((time_mono_ns() - t0) / 1000000 < ms) {
		if (atomic_load(&w->count) > since)
			return (time_mono_ns() - t0) / 1000000;
		usleep(5000);
	}
	return -1;
}

static enum rs_status fail_fn(struct store_tx *tx, void *ctx, struct rs_err *err)
{
	enum rs_status st = store_signal(tx, STORE_SIG_AUTH, err);

	return st ? st : rs_fail(err, RS_E_CONFLICT, "test.fail", NULL, "rolled back");
}

static void test_signals_two_nodes(void **state)
{
	char uri[512];
	struct store *a = fresh(uri, sizeof(uri));
	struct store *b = th_open(uri, STORE_SYNC_FULL);
	struct sig_seen wa = {0}, wb = {0};
	struct rs_err err;
	int64_t ms;
	int n;

	assert_non_null(b);
	OK(th_tenant(a, "t1", "a"));
	OK(store_watch(a, sig_watch, &wa, &err));
	OK(store_watch(b, sig_watch, &wb, &err));
	usleep(300000); /* let b's watch thread LISTEN and read the first seq */

	/* A write through node a: a's watcher runs before store_write returns, b's within 1 s. */
	n = atomic_load(&wb.count);
	OK(store_write(a, sig_fn, "k1", &err));
	assert_true(atomic_load(&wa.count) >= 1);
	ms = sig_wait(&wb, n, 1000);
	assert_true(ms >= 0);
	assert_true(atomic_load(&wb.bits) & STORE_SIG_AUTH);

	/* A rolled-back write announces nothing. */
	usleep(700000); /* let the poll see the seq of the first write */
	n = atomic_load(&wb.count);
	int na = atomic_load(&wa.count);
	assert_int_equal(store_write(a, fail_fn, NULL, &err), RS_E_CONFLICT);
	usleep(1200000);
	assert_int_equal(atomic_load(&wb.count), n);
	assert_int_equal(atomic_load(&wa.count), na);

	/* b's LISTEN connection is terminated: the write still reaches b within about a second
	 * (reconnect + seq poll). */
	assert_int_equal(th_pg_sql(uri, "SELECT count(pg_terminate_backend(pid, 5000)) FROM "
					"pg_stat_activity WHERE datname = current_database() AND "
					"application_name = 'roster-watch'"),
			 2);
	n = atomic_load(&wb.count);
	OK(store_write(a, sig_fn, "k2", &err));
	ms = sig_wait(&wb, n, 1500);
	assert_true(ms >= 0);

	/* Unregistered: no more calls. */
	OK(store_watch(b, NULL, NULL, &err));
	n = atomic_load(&wb.count);
	OK(store_write(a, sig_fn, "k3", &err));
	usleep(1200000);
	assert_int_equal(atomic_load(&wb.count), n);
	store_free(b);
	store_free(a);
}

/* The poll alone: a node whose LISTEN connection is down for good still sees the change,
 * because the seq poll runs on whatever connection the watch thread has. Simulated by
 * bumping seq without a notification (what a lost NOTIFY looks like). */
static void test_signal_poll_fallback(void **state)
{
	char uri[512];
	struct store *b = fresh(uri, sizeof(uri));
	struct sig_seen wb = {0};
	struct rs_err err;
	int n;

	OK(store_watch(b, sig_watch, &wb, &err));
	usleep(300000);
	n = atomic_load(&wb.count);
	assert_int_equal(th_pg_sql(uri, "UPDATE store_signals SET seq = seq + 1 WHERE name = "
					"'auth'"),
			 0);
	assert_true(sig_wait(&wb, n, 1000) >= 0);
	store_free(b);
}

/* A rotation of the signing keys reaches other nodes as STORE_SIG_KEYS, and only that: by
 * notification, and by the poll of its own seq row when the notification is lost. */
static enum rs_status keys_sig_fn(struct store_tx *tx, void *ctx, struct rs_err *err)
{
	(void)ctx;
	return store_signal(tx, STORE_SIG_KEYS, err);
}

static void test_signal_keys(void **state)
{
	char uri[512];
	struct store *a = fresh(uri, sizeof(uri));
	struct store *b = th_open(uri, STORE_SYNC_FULL);
	struct sig_seen wb = {0};
	struct rs_err err;
	int n;

	assert_non_null(b);
	OK(store_watch(b, sig_watch, &wb, &err));
	usleep(300000);
	n = atomic_load(&wb.count);
	OK(store_write(a, keys_sig_fn, NULL, &err));
	assert_true(sig_wait(&wb, n, 1000) >= 0);
	assert_int_equal(atomic_load(&wb.bits), STORE_SIG_KEYS);
	assert_int_equal(th_pg_sql(uri, "SELECT seq FROM store_signals WHERE name = 'keys'"), 1);
	assert_int_equal(th_pg_sql(uri, "SELECT seq FROM store_signals WHERE name = 'auth'"), 0);
	/* A lost notification: only the keys row moves, and the poll reports the keys signal. */
	usleep(700000);
	atomic_store(&wb.bits, 0);
	n = atomic_load(&wb.count);
	assert_int_equal(th_pg_sql(uri, "UPDATE store_signals SET seq = seq + 1 WHERE name = "
					"'keys'"),
			 0);
	assert_true(sig_wait(&wb, n, 1000) >= 0);
	assert_int_equal(atomic_load(&wb.bits), STORE_SIG_KEYS);
	store_free(b);
	store_free(a);
}

/* ---- migrations: two nodes at once; a newer schema; the pool parameter ------------------- */

struct open_ctx {
	const char *uri;
	struct store *s;
	enum rs_status st;
};

static void *open_main(void *arg)
{
	struct open_ctx *o = arg;
	struct store_config cfg = {.path = o->uri};
	struct rs_err err;

	o->st = store_open(&cfg, &o->s, &err);
	if (o->st)
		fprintf(stderr, "store_open: %s %s\n", err.code, err.msg);
	return NULL;
}

static void test_concurrent_migration(void **state)
{
	char uri[512];
	struct open_ctx o[4];
	pthread_t th[4];

	th_path(uri, sizeof(uri), "mig");
	for (int i = 0; i < 4; i++) {
		o[i] = (struct open_ctx){.uri = uri};
		assert_int_equal(pthread_create(&th[i], NULL, open_main, &o[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		OK(o[i].st);
		assert_int_equal(store_schema_version(o[i].s), TH_SCHEMA_VERSION);
		store_free(o[i].s);
	}
	assert_int_equal(th_pg_sql(uri, "SELECT count(*) FROM schema_migrations"),
			 sqlite_migrations_count);
}

static void test_schema_too_new(void **state)
{
	char uri[512];
	struct store *s = fresh(uri, sizeof(uri));
	struct store_config cfg = {.path = uri};
	struct rs_err err;

	store_free(s);
	assert_int_equal(th_pg_sql(uri, "INSERT INTO schema_migrations VALUES (999, 'future', 1)"),
			 0);
	assert_int_equal(store_open(&cfg, &s, &err), RS_E_INTERNAL);
	assert_string_equal(err.code, "store.schema_too_new");
	assert_null(s);
	cfg.read_only = true;
	assert_int_equal(store_open(&cfg, &s, &err), RS_E_INTERNAL);
	assert_string_equal(err.code, "store.schema_too_new");
}

static enum rs_status write_in_read(struct store_tx *tx, void *ctx, struct rs_err *err)
{
	struct store_val a[] = {SV_S("t9"), SV_S("x"), SV_S("x"), SV_S("d"), SV_I(1)};

	return store_exec(tx, Q_TENANT_INSERT, a, 5, NULL, err);
}

static enum rs_status nested_write(struct store_tx *tx, void *ctx, struct rs_err *err)
{
	return store_write(ctx, nested_write, ctx, err);
}

static void test_misuse(void **state)
{
	char uri[512], pooled[600];
	struct store *s = fresh(uri, sizeof(uri));
	struct rs_err err;

	/* A write inside a read is a bug (READ ONLY transaction), not a failover. */
	assert_int_equal(store_read(s, write_in_read, NULL, &err), RS_E_INTERNAL);
	assert_int_equal(store_write(s, nested_write, s, &err), RS_E_INTERNAL);
	assert_string_equal(err.code, "store.nested");
	store_free(s);
	/* pool=N is ours: stripped before libpq sees the URI, other parameters kept. */
	snprintf(pooled, sizeof(pooled), "%s%spool=2&connect_timeout=5", uri,
		 strchr(uri, '?') ? "&" : "?");
	s = th_open(pooled, STORE_SYNC_FULL);
	assert_non_null(s);
	assert_int_equal(((struct pg_store *)s)->pool_size, 2);
	OK(th_tenant(s, "t1", "a"));
	store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_concurrent_writers),
	    cmocka_unit_test(test_deadlock_retried),
	    cmocka_unit_test(test_connection_loss),
	    cmocka_unit_test(test_signals_two_nodes),
	    cmocka_unit_test(test_signal_poll_fallback),
	    cmocka_unit_test(test_signal_keys),
	    cmocka_unit_test(test_concurrent_migration),
	    cmocka_unit_test(test_schema_too_new),
	    cmocka_unit_test(test_misuse),
	};

	if (!th_pg_init())
		return 1;
	return cmocka_run_group_tests_name("store_pg", tests, NULL, NULL);
}
