/* Internals shared by store.c and the engines: the table of function pointers each engine
 * fills (git's struct ref_storage_be, curl's struct Curl_ssl) and the base structs engines
 * embed as their first member. Only store/ includes this; the core sees store.h alone. */
#ifndef ROSTER_STORE_STORE_INT_H
#define ROSTER_STORE_STORE_INT_H

#include "store/store.h"

/* One engine. Every entry is mandatory; store.c checks nothing but dispatches. The contracts
 * are those of the store.h function of the same name. */
struct store_engine_ops {
	const char *name;
	void (*free)(struct store *s);
	int (*schema_version)(struct store *s);
	enum rs_status (*backup)(struct store *s, const char *path, struct rs_err *err);
	enum rs_status (*read)(struct store *s, store_fn fn, void *ctx, struct rs_err *err);
	enum rs_status (*write)(struct store *s, store_fn fn, void *ctx, struct rs_err *err);
	enum rs_status (*exec)(struct store_tx *tx, enum store_q q, const struct store_val *args,
			       int nargs, int64_t *changes, struct rs_err *err);
	enum rs_status (*query)(struct store_tx *tx, enum store_q q, const struct store_val *args,
				int nargs, struct store_rows **rows, struct rs_err *err);
	enum rs_status (*select)(struct store_tx *tx, const struct store_select *sel,
				 struct store_rows **rows, struct rs_err *err);
	enum rs_status (*rows_next)(struct store_rows *r, bool *has_row, struct rs_err *err);
	bool (*col_null)(struct store_rows *r, int col);
	int64_t (*col_int)(struct store_rows *r, int col);
	const char *(*col_text)(struct store_rows *r, int col);
	void (*rows_close)(struct store_rows *r);
	enum rs_status (*signal)(struct store_tx *tx, enum store_signal sig, struct rs_err *err);
	enum rs_status (*watch)(struct store *s, store_watch_fn fn, void *ctx, struct rs_err *err);
	/* Runs engine-neutral SQL built by store.c (placeholders written ?1, ?2, …; an engine
	 * with another syntax rewrites them). rows NULL: run to completion. */
	enum rs_status (*raw)(struct store_tx *tx, const char *sql, const struct store_val *args,
			      int nargs, struct store_rows **rows, struct rs_err *err);
};

/* Engines embed these as their first member and cast back (C11 6.7.2.1p15). */
struct store {
	const struct store_engine_ops *ops;
};
struct store_tx {
	const struct store_engine_ops *ops;
};
struct store_rows {
	const struct store_engine_ops *ops;
};

/* One schema migration, embedded at build time by scripts/embed_sql.py from
 * migrations/<engine>/NNNN_name.sql; arrays are sorted by strictly increasing version. */
struct store_migration {
	int version;
	const char *name;
	const char *sql;
};

/* Engine constructors: same contract as store_open(). */
enum rs_status sqlite_store_open(const struct store_config *cfg, struct store **out,
				 struct rs_err *err);

#endif
