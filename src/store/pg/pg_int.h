/* Internals of the PostgreSQL engine, shared by the files of store/pg/ only.
 *
 * Objects: one struct pg_store per store_open(); a fixed pool of struct pg_conn (connected
 * lazily, each used by one transaction at a time); one struct pg_tx per running transaction,
 * on the caller's stack; struct pg_rows wrap a complete PGresult (libpq materialises every
 * result, so a query nested inside another's iteration needs nothing special). The watch
 * thread (pg_signal.c) has its own connection outside the pool. */
#ifndef ROSTER_STORE_PG_PG_INT_H
#define ROSTER_STORE_PG_PG_INT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "store/pg/pg.h"
#include "store/select_sql.h"
#include "store/store_int.h"

#define PG_POOL_DEFAULT 16 /* connections per store unless the URI says ?pool=N */
#define PG_POOL_MAX 1024
#define PG_WAIT_DEFAULT_MS 5000 /* how long a call waits for a free connection */
#define PG_ATTEMPTS 6		/* runs of fn at most on serialization failure or deadlock */
#define PG_ARGS_MAX 32		/* arguments of a named query at most */

#define PG_SEL_SQL_MAX SELECT_SQL_MAX /* selections: the bounds are select_sql.h's */

#define PG_NOTIFY_CHANNEL "roster_signals"

/* Generated from migrations/pg/ by scripts/embed_sql.py. */
extern const struct store_migration pg_migrations[];
extern const int pg_migrations_count;

/* pg_queries.c: SQL text per named query. locking: the text for a write transaction
 * (SELECT … FOR UPDATE where the query takes a row lock); otherwise the plain read, since a
 * READ ONLY transaction refuses FOR UPDATE. NULL when unknown. */
const char *pg_query_sql(enum store_q q, bool locking);
/* Number of $n parameters of the query (the highest n). */
int pg_query_nparams(enum store_q q);
const char *pg_select_cols(enum store_coll c);

struct pg_store;

struct pg_conn {
	PGconn *pg;
	/* Statements prepared on this connection: [0] for write, [1] for read transactions. */
	bool prepared[2][Q__COUNT];
	bool broken; /* lost or unusable: closed when released, reconnected on next use */
	bool in_use; /* handed out by the pool */
	bool fresh;  /* connected by this acquire; a failure cannot be a stale connection */
};

struct pg_rows {
	struct store_rows base;
	struct pg_tx *tx;
	PGresult *res;
	int row; /* current row; -1 before the first store_rows_next() */
	int nrows, ncols;
	struct pg_rows *prev, *next; /* the transaction's open rows */
};

struct pg_tx {
	struct store_tx base;
	struct pg_store *store;
	struct pg_conn *conn;
	bool read;  /* REPEATABLE READ READ ONLY (store_read) vs READ COMMITTED (store_write) */
	bool retry; /* a statement failed with 40001/40P01: rerun the whole fn */
	bool lost;  /* the connection was lost */
	bool began; /* BEGIN succeeded: fn may have run statements */
	unsigned signals;
	struct pg_rows *open; /* rows fn has not closed yet; freed when the transaction ends */
};

struct pg_stats {
	uint64_t retries;  /* fn reruns after 40001/40P01 */
	uint64_t connects; /* pool connections opened */
	uint64_t watch_reconnects;
};

struct pg_store {
	struct store base;
	char *conninfo; /* the URI given, ?pool=N removed */
	bool read_only;
	int schema_version;
	int wait_ms;

	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;
	struct pg_conn *conns;
	int pool_size;
	bool pool_inited;

	pthread_mutex_t stats_lock;
	struct pg_stats stats;

	/* Signals (pg_signal.c). watch_lock is held while the watcher runs, so after
	 * store_watch(s, NULL, …) returns the old watcher is neither running nor called again. */
	pthread_mutex_t watch_lock;
	store_watch_fn watch_fn;
	void *watch_ctx;
	pthread_t watch_thread;
	bool watch_running;
	atomic_bool watch_stop;
	int wake[2]; /* pipe: store_free wakes the watch thread out of poll() */
};

/* pg_conn.c */
/* Takes a free pool connection (waiting up to wait_ms), connecting it if needed. */
enum rs_status pg_conn_acquire(struct pg_store *s, struct pg_conn **out, struct rs_err *err);
/* An idle, connected pool connection, without waiting or connecting; NULL if none. Released
 * with pg_conn_release(). */
struct pg_conn *pg_conn_try_idle(struct pg_store *s);
/* Replaces c's connection by a new one (after it was found dead). */
enum rs_status pg_conn_reconnect(struct pg_store *s, struct pg_conn *c, struct rs_err *err);
/* Returns c to the pool; a broken connection is closed first. */
void pg_conn_release(struct pg_store *s, struct pg_conn *c);
/* Opens a new libpq connection with the store's conninfo (application_name app). NULL with
 * err filled on failure. */
PGconn *pg_connect(struct pg_store *s, const char *app, struct rs_err *err);
/* Translates a failed result (res may be NULL) into err, marking c broken on connection
 * errors and tx->retry / tx->lost (tx may be NULL). */
enum rs_status pg_fail(struct pg_conn *c, struct pg_tx *tx, const PGresult *res,
		       struct rs_err *err);
/* Runs a statement without parameters (transaction control, migrations); RS_OK when the
 * result is COMMAND_OK or TUPLES_OK. */
enum rs_status pg_simple(struct pg_conn *c, struct pg_tx *tx, const char *sql, struct rs_err *err);
void pg_stats_add(struct pg_store *s, uint64_t *field, uint64_t n);
void pg_store_stats(struct store *st, struct pg_stats *out);

/* pg_exec.c */
extern const struct store_engine_ops pg_ops;
enum rs_status pg_exec(struct store_tx *tx, enum store_q q, const struct store_val *args, int nargs,
		       int64_t *changes, struct rs_err *err);
enum rs_status pg_query(struct store_tx *tx, enum store_q q, const struct store_val *args,
			int nargs, struct store_rows **rows, struct rs_err *err);
/* store.c's engine-neutral SQL (export/import): ?N placeholders become $N. */
enum rs_status pg_raw(struct store_tx *tx, const char *sql, const struct store_val *args, int nargs,
		      struct store_rows **rows, struct rs_err *err);
/* Wraps a successful result (ownership passes) as rows of tx. */
enum rs_status pg_rows_new(struct pg_tx *tx, PGresult *res, struct store_rows **out,
			   struct rs_err *err);
enum rs_status pg_rows_next(struct store_rows *r, bool *has_row, struct rs_err *err);
bool pg_col_null(struct store_rows *r, int col);
int64_t pg_col_int(struct store_rows *r, int col);
const char *pg_col_text(struct store_rows *r, int col);
void pg_rows_close(struct store_rows *r);
/* Frees the rows fn left open, so the transaction can end. */
void pg_tx_close_rows(struct pg_tx *tx);

/* pg_select.c */
enum rs_status pg_select(struct store_tx *tx, const struct store_select *sel,
			 struct store_rows **rows, struct rs_err *err);
/* Compiles sel into SQL text in buf without running it; for tests and EXPLAIN. */
enum rs_status pg_select_sql(const struct store_select *sel, char *buf, size_t cap,
			     struct rs_err *err);

/* pg_signal.c */
enum rs_status pg_signal(struct store_tx *tx, enum store_signal sig, struct rs_err *err);
enum rs_status pg_watch(struct store *st, store_watch_fn fn, void *ctx, struct rs_err *err);
/* Announces tx's signals inside tx, just before COMMIT. */
enum rs_status pg_signal_send(struct pg_tx *tx, struct rs_err *err);
/* Calls this process's watcher (after a commit that signalled). */
void pg_signal_local(struct pg_store *s, unsigned sigs);
/* Stops the watch thread. Idempotent. */
void pg_watch_stop(struct pg_store *s);

/* pg_migrate.c */
enum rs_status pg_migrate(struct pg_conn *c, int *version, struct rs_err *err);
enum rs_status pg_schema_check(struct pg_conn *c, int *version, struct rs_err *err);

/* pg_store.c (pg_store_open() is declared in pg.h) */
enum rs_status pg_read(struct store *st, store_fn fn, void *ctx, struct rs_err *err);
enum rs_status pg_write(struct store *st, store_fn fn, void *ctx, struct rs_err *err);

#endif
