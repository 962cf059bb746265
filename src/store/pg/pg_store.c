/* The PostgreSQL engine's store object: open (URI, pool, migrations), store_read and
 * store_write with their transactions and retries, teardown. SQL lives in pg_queries.c,
 * selections in pg_select.c, signals in pg_signal.c, the pool in pg_conn.c.
 *
 * Isolation, per operation:
 *   store_read   BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY … COMMIT: one snapshot for
 *                all of fn, as SQLite's read transaction gives; READ ONLY makes a write slipped
 *                into a read fail loudly. Row locks are not taken (pg_queries.c: FOR UPDATE is
 *                dropped from the read text of Q_TENANT_LOCK and Q_TENANT_AUDIT_HEAD).
 *   store_write  BEGIN ISOLATION LEVEL READ COMMITTED … COMMIT. The core starts each write
 *                with Q_TENANT_LOCK (SELECT … FOR UPDATE on the tenant row), which serialises
 *                that tenant's writers until COMMIT; under READ COMMITTED every later
 *                statement sees what the previous holder committed, so read-modify-write
 *                sequences (audit chain head, versions) cannot lose updates. Writers of
 *                different tenants run in parallel. Uniqueness is enforced by unique indexes.
 *   migrations   one transaction per migration, under pg_advisory_xact_lock (pg_migrate.c).
 *
 * Retries: a transaction that failed with 40001 (serialization_failure) or 40P01
 * (deadlock_detected) is rolled back and fn runs again, up to PG_ATTEMPTS times, after a
 * jittered, growing pause (store.h allows an engine to run fn more than once). A connection
 * lost before fn ran anything (a pooled connection killed while idle, e.g. by a failover) is
 * reconnected and the transaction begun again; lost during fn → RS_E_UNAVAILABLE
 * "store.unavailable", never retried here (the caller answers 503 and the client retries);
 * lost during COMMIT → the outcome is unknown, also RS_E_UNAVAILABLE: never a wrong answer.
 *
 * URI: postgres:// or postgresql:// as libpq takes it (multi-host and target_session_attrs
 * included), plus one parameter of ours, pool=N (connections per store, default 16), removed
 * before libpq sees the URI. */
#include "store/pg/pg_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/timeutil.h"

/* The store this thread is inside a transaction of, if any: a nested store_read/store_write
 * would take a second pool connection and, for a write on the same tenant, wait forever on
 * the row lock its own outer transaction holds. */
static _Thread_local struct pg_store *pg_active;

static int pg_schema_version_of(struct store *st)
{
	return ((struct pg_store *)st)->schema_version;
}

static enum rs_status pg_backup(struct store *st, const char *path, struct rs_err *err)
{
	(void)st;
	(void)path;
	return rs_fail(err, RS_E_INVALID, "store.backup_unsupported", NULL,
		       "backups of a PostgreSQL store are taken with pg_dump (logical) or "
		       "pg_basebackup (physical, with WAL archiving for point-in-time recovery)");
}

/* Sleeps before attempt n (1-based retry count): 2^n ms plus up to as much again at random,
 * so two transactions that just deadlocked do not meet again in lockstep. */
static void pg_backoff(int n)
{
	unsigned base = 1u << (n < 8 ? n : 8);
	unsigned jitter = (unsigned)(time_mono_ns() >> 10) % (base + 1);

	usleep((base + jitter) * 1000);
}

/* COMMIT, telling success, a refused commit (the server answered ROLLBACK: the transaction
 * had failed, or a deferred serialization failure) and an unknown outcome apart. */
static enum rs_status pg_commit(struct pg_tx *tx, struct rs_err *err)
{
	struct pg_conn *c = tx->conn;
	PGresult *res = PQexec(c->pg, "COMMIT");
	ExecStatusType es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	enum rs_status st = RS_OK;

	if (es == PGRES_COMMAND_OK && strcmp(PQcmdStatus(res), "COMMIT") == 0)
		goto out;
	if (es == PGRES_COMMAND_OK) {
		/* "ROLLBACK": a statement of fn failed and fn returned RS_OK anyway. */
		st = rs_fail(err, RS_E_INTERNAL, "store.error", NULL,
			     "the transaction had failed and was rolled back");
		goto out;
	}
	st = pg_fail(c, tx, res, err);
	if (tx->lost)
		st = rs_fail(err, RS_E_UNAVAILABLE, "store.unavailable", NULL,
			     "the database connection was lost during COMMIT: the write may or may "
			     "not have been applied; retry");
out:
	PQclear(res);
	return st;
}

/* One run of fn in a transaction opened with begin. */
static enum rs_status pg_attempt(struct pg_tx *tx, const char *begin, store_fn fn, void *ctx,
				 struct rs_err *err)
{
	struct pg_conn *c = tx->conn;
	enum rs_status st;

	tx->retry = tx->lost = tx->began = false;
	tx->signals = 0;
	st = pg_simple(c, tx, begin, err);
	if (st)
		return st;
	tx->began = true;
	st = fn(&tx->base, ctx, err);
	pg_tx_close_rows(tx);
	if (st == RS_OK && !tx->read && !tx->lost)
		st = pg_signal_send(tx, err);
	if (st == RS_OK && !tx->lost)
		return pg_commit(tx, err);
	if (!tx->lost && PQstatus(c->pg) == CONNECTION_OK &&
	    PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		(void)pg_simple(c, NULL, "ROLLBACK", NULL); /* else the pool drops the connection */
	if (tx->lost && st != RS_E_UNAVAILABLE)
		st = rs_fail(err, RS_E_UNAVAILABLE, "store.unavailable", NULL,
			     "the database connection was lost; retry");
	return st;
}

static enum rs_status pg_run_tx(struct pg_store *s, bool read, store_fn fn, void *ctx,
				struct rs_err *err)
{
	static const char begin_read[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
	static const char begin_write[] = "BEGIN ISOLATION LEVEL READ COMMITTED";
	struct pg_tx tx = {.base.ops = &pg_ops, .store = s, .read = read};
	enum rs_status st;
	bool reconnected = false;

	if (pg_active == s)
		return rs_fail(err, RS_E_INTERNAL, "store.nested", NULL,
			       "store_read/store_write called from inside a transaction");
	if (!read && s->read_only)
		return rs_fail(err, RS_E_INTERNAL, "store.read_only", NULL,
			       "the store was opened read-only");
	st = pg_conn_acquire(s, &tx.conn, err);
	if (st)
		return st;
	pg_active = s;
	for (int attempt = 1;; attempt++) {
		bool was_fresh = tx.conn->fresh;

		st = pg_attempt(&tx, read ? begin_read : begin_write, fn, ctx, err);
		tx.conn->fresh = false;
		if (st == RS_OK)
			break;
		if (tx.lost && !tx.began && !was_fresh && !reconnected) {
			/* A pooled connection that died while idle (server restart, failover,
			 * idle timeout): nothing ran yet, so reconnecting is safe, once. */
			reconnected = true;
			st = pg_conn_reconnect(s, tx.conn, err);
			if (st)
				break;
			attempt--;
			continue;
		}
		if (tx.retry && attempt < PG_ATTEMPTS) {
			pg_stats_add(s, &s->stats.retries, 1);
			pg_backoff(attempt);
			continue;
		}
		break;
	}
	pg_active = NULL;
	if (st == RS_OK && !read && tx.signals)
		pg_signal_local(s, tx.signals);
	pg_conn_release(s, tx.conn);
	return st;
}

enum rs_status pg_read(struct store *st, store_fn fn, void *ctx, struct rs_err *err)
{
	return pg_run_tx((struct pg_store *)st, true, fn, ctx, err);
}

enum rs_status pg_write(struct store *st, store_fn fn, void *ctx, struct rs_err *err)
{
	return pg_run_tx((struct pg_store *)st, false, fn, ctx, err);
}

static void pg_store_free(struct store *st)
{
	struct pg_store *s = (struct pg_store *)st;

	if (!s)
		return;
	pg_watch_stop(s);
	if (s->pool_inited) {
		/* store.h: no thread is inside store_read/store_write any more. */
		for (int i = 0; i < s->pool_size; i++)
			PQfinish(s->conns[i].pg);
		pthread_mutex_destroy(&s->pool_lock);
		pthread_cond_destroy(&s->pool_cond);
		pthread_mutex_destroy(&s->stats_lock);
		pthread_mutex_destroy(&s->watch_lock);
	}
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	free(s->conns);
	free(s->conninfo);
	free(s);
}

const struct store_engine_ops pg_ops = {
    .name = "pg",
    .free = pg_store_free,
    .schema_version = pg_schema_version_of,
    .backup = pg_backup,
    .read = pg_read,
    .write = pg_write,
    .exec = pg_exec,
    .query = pg_query,
    .select = pg_select,
    .rows_next = pg_rows_next,
    .col_null = pg_col_null,
    .col_int = pg_col_int,
    .col_text = pg_col_text,
    .rows_close = pg_rows_close,
    .signal = pg_signal,
    .watch = pg_watch,
    .raw = pg_raw,
};

/* Copies uri into *out without our own "pool=N" query parameter, which libpq would reject;
 * *pool gets N (0 when absent). */
static enum rs_status pg_parse_uri(const char *uri, char **out, int *pool, struct rs_err *err)
{
	const char *q = strchr(uri, '?');
	size_t n = strlen(uri);
	char *dst = malloc(n + 1);
	size_t k;

	*pool = 0;
	*out = NULL;
	if (!dst)
		return rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
	if (!q) {
		memcpy(dst, uri, n + 1);
		*out = dst;
		return RS_OK;
	}
	k = (size_t)(q - uri);
	memcpy(dst, uri, k);
	for (const char *p = q + 1; *p;) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > 5 && strncmp(p, "pool=", 5) == 0) {
			char num[16];
			char *e;
			long v;

			if (len - 5 >= sizeof(num))
				goto bad;
			memcpy(num, p + 5, len - 5);
			num[len - 5] = '\0';
			v = strtol(num, &e, 10);
			if (*e || v < 1 || v > PG_POOL_MAX)
				goto bad;
			*pool = (int)v;
		} else if (len > 0) {
			char sep = k == (size_t)(q - uri) ? '?' : '&';

			dst[k++] = sep;
			memcpy(dst + k, p, len);
			k += len;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	dst[k] = '\0';
	*out = dst;
	return RS_OK;
bad:
	free(dst);
	return rs_fail(err, RS_E_INVALID, "store.bad_config", "path",
		       "pool= must be a number of connections within 1..%d", PG_POOL_MAX);
}

enum rs_status pg_store_open(const struct store_config *cfg, struct store **out, struct rs_err *err)
{
	struct pg_store *s;
	struct pg_conn *c = NULL;
	enum rs_status ret;
	int pool;

	*out = NULL;
	if (cfg->busy_timeout_ms < 0)
		return rs_fail(err, RS_E_INVALID, "store.bad_config", NULL,
			       "invalid store configuration");
	s = calloc(1, sizeof(*s));
	if (!s)
		return rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
	s->base.ops = &pg_ops;
	s->wake[0] = s->wake[1] = -1;
	s->read_only = cfg->read_only;
	s->wait_ms = cfg->busy_timeout_ms ? cfg->busy_timeout_ms : PG_WAIT_DEFAULT_MS;
	ret = pg_parse_uri(cfg->path, &s->conninfo, &pool, err);
	if (ret)
		goto out;
	s->pool_size = pool ? pool : PG_POOL_DEFAULT;
	s->conns = calloc((size_t)s->pool_size, sizeof(*s->conns));
	if (!s->conns) {
		ret = rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
		goto out;
	}
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_cond_init(&s->pool_cond, NULL);
	pthread_mutex_init(&s->stats_lock, NULL);
	pthread_mutex_init(&s->watch_lock, NULL);
	s->pool_inited = true;
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		s->wake[0] = s->wake[1] = -1;
		ret = rs_fail(err, RS_E_INTERNAL, "store.error", NULL, "pipe2 failed");
		goto out;
	}
	ret = pg_conn_acquire(s, &c, err);
	if (ret)
		goto out;
	ret = cfg->read_only ? pg_schema_check(c, &s->schema_version, err)
			     : pg_migrate(c, &s->schema_version, err);
	pg_conn_release(s, c);
out:
	if (ret) {
		pg_store_free(&s->base);
		return ret;
	}
	*out = &s->base;
	return RS_OK;
}
