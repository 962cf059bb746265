/* The store interface: the only way the core reaches persistent state. The core names queries
 * (enum store_q) and describes list selections (struct store_select); each engine owns the SQL
 * text and compiles selections into its own dialect, so the core never sees SQL and a second
 * engine (PostgreSQL) is one more implementation of this header, not a change to the core.
 *
 * Threading: store_read() runs on a connection owned by the calling thread (opened on first
 * use, statements prepared once per connection). store_write() hands the function to the
 * engine's writer, which batches concurrent writes into one transaction (group commit), each
 * write isolated in its own savepoint, and returns only after the commit is durable. */
#ifndef ROSTER_STORE_STORE_H
#define ROSTER_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/queries.h"
#include "util/err.h"

struct store;
struct store_tx;   /* a transaction in progress; valid only inside a store_fn */
struct store_rows; /* a running query; valid until store_rows_close() */

enum store_vtype { SV_NULL = 0, SV_INT, SV_TEXT };

struct store_val {
	enum store_vtype type;
	int64_t i;
	const char *s; /* borrowed; must outlive the query */
};

#define SV_NULLV ((struct store_val){.type = SV_NULL})
#define SV_I(x) ((struct store_val){.type = SV_INT, .i = (int64_t)(x)})
/* A NULL string binds SQL NULL. A function, not a macro, so arrays can be passed. */
static inline struct store_val store_val_text(const char *s)
{
	return (struct store_val){.type = s ? SV_TEXT : SV_NULL, .s = s};
}
#define SV_S(x) store_val_text(x)

enum store_sync { STORE_SYNC_FULL = 0, STORE_SYNC_NORMAL, STORE_SYNC_OFF };

struct store_config {
	const char *path;     /* SQLite file; ":memory:" is not supported (one file, many conns) */
	enum store_sync sync; /* default FULL: a 2xx means the commit reached the disk */
	int busy_timeout_ms;  /* default 5000 */
	int group_commit_max; /* writes per transaction at most; default 256 */
	bool read_only;	      /* open without migrating or writing (audit verify) */
};

/* Opens the store and runs pending migrations (unless read_only). On success *out is owned
 * by the caller and released with store_free(). */
enum rs_status store_open(const struct store_config *cfg, struct store **out, struct rs_err *err);
/* Stops the writer after the writes already queued, closes every connection. NULL is a no-op.
 * No thread may still be inside store_read() (threads waiting in store_write() are fine). */
void store_free(struct store *s);
/* Schema version after migrations; 0 when unknown. */
int store_schema_version(struct store *s);
/* Name of the engine ("sqlite"). */
const char *store_engine(const struct store *s);
/* Online backup of the whole store into a new file at path. */
enum rs_status store_backup(struct store *s, const char *path, struct rs_err *err);

/* A unit of work. Returning an error rolls back everything fn did; err is passed through.
 * An engine may run fn more than once (PostgreSQL retries serialization failures and
 * deadlocks): fn must overwrite its outputs, never accumulate into them. */
typedef enum rs_status (*store_fn)(struct store_tx *tx, void *ctx, struct rs_err *err);

/* Runs fn in a read transaction (one consistent snapshot) on this thread's connection. */
enum rs_status store_read(struct store *s, store_fn fn, void *ctx, struct rs_err *err);
/* Runs fn in a write transaction; returns after commit (RS_OK) or rollback (fn's error, or
 * RS_E_UNAVAILABLE when the commit itself failed). fn runs on the writer thread: it must not
 * block on anything but the store, and must not call store_read/store_write itself. */
enum rs_status store_write(struct store *s, store_fn fn, void *ctx, struct rs_err *err);

/* Runs a named query. Writes: *changes (if not NULL) gets the number of rows changed.
 * Engine errors are translated: unique violation -> RS_E_CONFLICT with code "store.unique"
 * and field = the offending column other than tenant_id ("username_key", "slug", "name_key");
 * busy/locked -> RS_E_UNAVAILABLE; anything else RS_E_INTERNAL. Rows must be closed before
 * the store_fn that opened them returns. */
enum rs_status store_exec(struct store_tx *tx, enum store_q q, const struct store_val *args,
			  int nargs, int64_t *changes, struct rs_err *err);
/* Runs a named query that returns rows; iterate with store_rows_next(). */
enum rs_status store_query(struct store_tx *tx, enum store_q q, const struct store_val *args,
			   int nargs, struct store_rows **rows, struct rs_err *err);

/* ---- Signals between nodes ------------------------------------------------------------ */

/* What a committed write can announce to every roster process sharing the store. */
enum store_signal {
	STORE_SIG_AUTH = 1 << 0, /* credentials or permissions changed: drop cached actors */
	STORE_SIG_KEYS = 1 << 1, /* the JWT signing keys were rotated: reload them */
};

/* Inside a write: after this transaction commits, every watcher of every process sharing
 * the store is told sig (this process's before store_write() returns; other nodes within a
 * second, by notification or, when that channel is down, by polling). Nothing is sent if the
 * write rolls back. */
enum rs_status store_signal(struct store_tx *tx, enum store_signal sig, struct rs_err *err);
typedef void (*store_watch_fn)(unsigned sigs, void *ctx);
/* Registers the one watcher of this store (a later call replaces it). fn runs on an engine
 * thread and must be quick and thread-safe. */
enum rs_status store_watch(struct store *s, store_watch_fn fn, void *ctx, struct rs_err *err);

/* ---- Selections: filtered, sorted, keyset-paged lists compiled by the engine ---------- */

enum store_op {
	SO_EQ,
	SO_NE,
	SO_CO,
	SO_SW,
	SO_EW,
	SO_PR,
	SO_GT,
	SO_GE,
	SO_LT,
	SO_LE, /* attr op val */
	SO_AND,
	SO_OR,
	SO_NOT, /* a, b */
};

struct store_pred {
	enum store_op op;
	int attr;	      /* enum store_user_attr / store_audit_attr, by collection */
	struct store_val val; /* text comparisons on case-insensitive attrs ignore case */
	const struct store_pred *a, *b;
};

struct store_select {
	enum store_coll coll;
	const char *tenant_id;		/* always bound: selections never cross tenants */
	const struct store_pred *where; /* NULL = all */
	int sort_attr;			/* an attr of the collection that is sortable */
	bool desc;
	bool has_after; /* keyset paging: rows strictly after (after_val, after_id) */
	struct store_val after_val;
	const char *after_id; /* the row key that breaks ties (id, or seq as text) */
	int limit;	      /* rows wanted; engines fetch exactly this many */
	/* Rows skipped before the first one returned: SCIM's startIndex (RFC 7644 section
	 * 3.4.2.4) is positional, so it cannot be a keyset. Use with has_after false. */
	int offset;
	/* One row, one column: how many rows match (where, tenant), ignoring sort, paging and
	 * limit. SCIM's totalResults. */
	bool count_only;
};

/* Rows come back with the collection's row columns (queries.h), same order as its GET query. */
enum rs_status store_select(struct store_tx *tx, const struct store_select *sel,
			    struct store_rows **rows, struct rs_err *err);

/* ---- Whole tables (export/import; app/ only, the core never uses these) ---------------- */

/* The tables of the schema in an order that loads without dangling references; columns
 * are the same on every engine. */
struct store_table {
	const char *name;
	const char *const *columns;
	int ncolumns;
	int since; /* the schema version that created it */
};
const struct store_table *store_tables(int *n);
/* Every row of t, columns in t's order, in primary-key order. */
enum rs_status store_dump(struct store_tx *tx, const struct store_table *t,
			  struct store_rows **rows, struct rs_err *err);
/* Inserts one row of t (vals in t's column order; text is converted to the column's type). */
enum rs_status store_load(struct store_tx *tx, const struct store_table *t,
			  const struct store_val *vals, struct rs_err *err);

/* ---- Rows ------------------------------------------------------------------------------ */

/* Advances to the next row: RS_OK with *has_row true/false, or an error. */
enum rs_status store_rows_next(struct store_rows *r, bool *has_row, struct rs_err *err);
bool store_col_null(struct store_rows *r, int col);
int64_t store_col_int(struct store_rows *r, int col);
/* NULL for SQL NULL. Valid until the next store_rows_next()/store_rows_close(). */
const char *store_col_text(struct store_rows *r, int col);
/* Resets the statement for reuse. NULL is a no-op. */
void store_rows_close(struct store_rows *r);

#endif
