/* Internals of the SQLite engine, shared by the files of store/sqlite/ only.
 *
 * Objects: one struct sqlite_store per store_open(); one struct sqlite_conn per reading thread
 * (pthread key, closed by the thread's exit or by store_free) plus the writer's own; statements
 * are prepared lazily once per connection and reused. Every connection is used by one thread
 * at a time (SQLITE_OPEN_NOMUTEX), so nothing below the store needs a lock except the reader
 * list and the write queue. */
#ifndef ROSTER_STORE_SQLITE_SQLITE_INT_H
#define ROSTER_STORE_SQLITE_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include "store/select_sql.h"
#include "store/store_int.h"

#define SQLITE_SEL_CACHE 32 /* prepared selection shapes kept per connection (LRU) */
#define SQLITE_SEL_SQL_MAX SELECT_SQL_MAX

/* Generated from migrations/sqlite/ by scripts/embed_sql.py. */
extern const struct store_migration sqlite_migrations[];
extern const int sqlite_migrations_count;

/* queries.c: SQL text per named query; row columns per collection. NULL when unknown. */
const char *sqlite_query_sql(enum store_q q);
const char *sqlite_select_cols(enum store_coll c);

/* Transaction-control statements, cached like named queries. */
enum sqlite_ctl {
	SCTL_BEGIN,
	SCTL_BEGIN_IMMEDIATE,
	SCTL_COMMIT,
	SCTL_ROLLBACK,
	SCTL_SAVEPOINT,
	SCTL_RELEASE,
	SCTL_ROLLBACK_TO,
	SCTL_TRGM_PENDING,
	SCTL_TRGM_APPLY,
	SCTL_TRGM_CLEAR,
	SCTL__COUNT
};

struct sqlite_conn;

struct sqlite_rows {
	struct store_rows base;
	struct sqlite_conn *conn;
	sqlite3_stmt *stmt;
	int ncols;
	bool transient; /* prepared for this call only: finalized and freed on close */
	bool open;	/* handed out and not yet closed */
};

struct sqlite_sel_entry {
	char *sql; /* key; NULL = free slot */
	struct sqlite_rows rows;
	uint64_t used; /* LRU tick */
};

struct sqlite_conn {
	struct sqlite_store *store;
	sqlite3 *db;
	struct sqlite_conn *prev, *next; /* the store's reader list */
	sqlite3_stmt *ctl[SCTL__COUNT];
	struct sqlite_rows named[Q__COUNT];
	struct sqlite_sel_entry sel[SQLITE_SEL_CACHE];
	uint64_t sel_tick;
	int open_rows; /* rows handed out and not closed */
	bool in_tx;
};

struct sqlite_tx {
	struct store_tx base;
	struct sqlite_conn *conn;
	unsigned signals; /* store_signal() bits of the running job */
};

/* A store_write() waiting for the writer; lives on the caller's stack. */
struct sqlite_job {
	store_fn fn;
	void *ctx;
	struct rs_err *err;
	enum rs_status st;
	bool done; /* set under q_lock once the batch's commit returned */
	pthread_cond_t done_cond;
	struct sqlite_job *next;
};

struct sqlite_stats {
	uint64_t batches, jobs, commit_failures;
	uint64_t checkpoints; /* under ck_lock */
	int max_batch;
};

struct sqlite_store {
	struct store base;
	struct store_config cfg; /* cfg.path points to path */
	char *path;
	int schema_version;

	pthread_key_t key; /* this thread's reader connection */
	bool key_ok;
	pthread_mutex_t readers_lock;
	struct sqlite_conn *readers;

	/* The writer (absent when read_only). */
	struct sqlite_conn *wconn;
	pthread_t writer;
	bool writer_running;
	pthread_mutex_t q_lock;
	pthread_cond_t q_cond; /* the writer sleeps here while the queue is empty */
	struct sqlite_job *q_head, *q_tail;
	int waiters; /* threads inside store_write(), so store_free can wait them out */
	pthread_cond_t idle_cond; /* signalled when waiters drops to 0 while stopping */
	bool stopping;
	struct sqlite_stats stats; /* under q_lock */
	store_watch_fn watch_fn;   /* called by the writer after a commit that signalled */
	void *watch_ctx;

	/* The checkpointer (sqlite_checkpoint.c; absent when read_only). */
	sqlite3 *ck_db;
	pthread_t ck_thread;
	bool ck_running, ck_wanted, ck_stopping;
	pthread_mutex_t ck_lock;
	pthread_cond_t ck_cond;
};

/* sqlite_writer.c: signals. One process owns an SQLite store, so a signal is delivered to
 * this process's watcher, on the writer thread, right after the commit. */
enum rs_status sqlite_signal(struct store_tx *tx, enum store_signal sig, struct rs_err *err);
enum rs_status sqlite_watch(struct store *st, store_watch_fn fn, void *ctx, struct rs_err *err);

/* sqlite_checkpoint.c */
enum rs_status sqlite_checkpointer_start(struct sqlite_store *s, struct rs_err *err);
/* Stops the thread; call after the writer has stopped. Idempotent. */
void sqlite_checkpointer_stop(struct sqlite_store *s);

/* sqlite_conn.c */
enum rs_status sqlite_conn_open(struct sqlite_store *s, bool writer, struct sqlite_conn **out,
				struct rs_err *err);
/* Finalizes every statement and closes the handle. NULL is a no-op. */
void sqlite_conn_close(struct sqlite_conn *c);
/* pthread key destructor: unlists and closes a reader when its thread exits. */
void sqlite_reader_destroy(void *v);
/* This thread's reader connection, opened on first use. */
enum rs_status sqlite_conn_reader(struct sqlite_store *s, struct sqlite_conn **out,
				  struct rs_err *err);
/* Runs a transaction-control statement. */
/* Applies the substring-index changes the users triggers queued (migration 0013) to the FTS5
 * table, inside the writer's open transaction: triggers may not write a virtual table while
 * trusted_schema is OFF. Cheap when nothing is queued (one indexed probe). */
enum rs_status sqlite_trgm_flush(struct sqlite_conn *c, struct rs_err *err);
/* At open, on the writer before it serves: applies what writes by another program (the sqlite3
 * shell, a bulk loader) left queued, in one transaction of its own. */
enum rs_status sqlite_trgm_catch_up(struct sqlite_conn *c, struct rs_err *err);
enum rs_status sqlite_ctl(struct sqlite_conn *c, enum sqlite_ctl which, struct rs_err *err);
/* Resets statements a store_fn left open (rows it forgot to close), so the transaction can end. */
void sqlite_conn_reset_stray(struct sqlite_conn *c);
/* Translates an SQLite result code (extended) into err; see store_exec() in store.h. */
enum rs_status sqlite_fail(sqlite3 *db, int rc, struct rs_err *err);

/* sqlite_store.c: the engine's ops table. */
extern const struct store_engine_ops sqlite_ops;

/* sqlite_exec.c */
enum rs_status sqlite_exec(struct store_tx *tx, enum store_q q, const struct store_val *args,
			   int nargs, int64_t *changes, struct rs_err *err);
enum rs_status sqlite_query(struct store_tx *tx, enum store_q q, const struct store_val *args,
			    int nargs, struct store_rows **rows, struct rs_err *err);
enum rs_status sqlite_rows_next(struct store_rows *r, bool *has_row, struct rs_err *err);
bool sqlite_col_null(struct store_rows *r, int col);
int64_t sqlite_col_int(struct store_rows *r, int col);
const char *sqlite_col_text(struct store_rows *r, int col);
void sqlite_rows_close(struct store_rows *r);
enum rs_status sqlite_bind_args(sqlite3_stmt *stmt, const struct store_val *args, int nargs,
				struct rs_err *err);
/* store.c's engine-neutral SQL (export/import); statements cached like selections. */
enum rs_status sqlite_raw(struct store_tx *tx, const char *sql, const struct store_val *args,
			  int nargs, struct store_rows **rows, struct rs_err *err);
/* Hands out rows over stmt, or a transient statement when stmt is already running (a query
 * nested in an iteration over the same query). */
enum rs_status sqlite_rows_begin(struct sqlite_conn *c, struct sqlite_rows *slot, const char *sql,
				 struct sqlite_rows **out, struct rs_err *err);

/* sqlite_select.c */
enum rs_status sqlite_select(struct store_tx *tx, const struct store_select *sel,
			     struct store_rows **rows, struct rs_err *err);
/* Compiles sel into SQL text (NUL-terminated, in buf) without binding; for tests and EXPLAIN. */
enum rs_status sqlite_select_sql(const struct store_select *sel, char *buf, size_t cap,
				 struct rs_err *err);
/* Drops the cached selection statements of c. */
void sqlite_select_cache_clear(struct sqlite_conn *c);

/* sqlite_writer.c */
enum rs_status sqlite_writer_start(struct sqlite_store *s, struct rs_err *err);
/* Lets the writer finish the queued jobs, then joins it. */
void sqlite_writer_stop(struct sqlite_store *s);
enum rs_status sqlite_write(struct store *st, store_fn fn, void *ctx, struct rs_err *err);
/* Group-commit counters, for the bench and tests. */
void sqlite_store_stats(struct store *st, struct sqlite_stats *out);

/* sqlite_migrate.c */
/* Applies pending migrations on c (the writer's connection), one transaction each. */
enum rs_status sqlite_migrate(struct sqlite_conn *c, int *version, struct rs_err *err);
/* Reads the schema version without changing anything; refuses one newer than the binary. */
enum rs_status sqlite_schema_check(struct sqlite_conn *c, int *version, struct rs_err *err);

#endif
