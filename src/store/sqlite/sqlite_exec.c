/* Named queries and rows: binds struct store_val arguments to the SQL of queries.c, runs it
 * on the transaction's connection and iterates the result. Statements are prepared once per
 * connection and reset (never finalized) on close. */
#include "store/sqlite/sqlite_int.h"

#include <stdlib.h>

static struct sqlite_rows *sqlite_rows_of(struct store_rows *r)
{
	return (struct sqlite_rows *)r;
}

enum rs_status sqlite_rows_begin(struct sqlite_conn *c, struct sqlite_rows *slot, const char *sql,
				 struct sqlite_rows **out, struct rs_err *err)
{
	struct sqlite_rows *r = slot;
	int rc;

	if (slot->open) {
		/* The cached statement is mid-iteration (the same query nested in its own
		 * loop): resetting it would corrupt the outer loop, so prepare a one-off. */
		r = calloc(1, sizeof(*r));
		if (!r)
			return rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
		r->transient = true;
		rc = sqlite3_prepare_v2(c->db, sql, -1, &r->stmt, NULL);
		if (rc != SQLITE_OK) {
			enum rs_status st = sqlite_fail(c->db, rc, err);

			free(r);
			return st;
		}
	} else if (!slot->stmt) {
		rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->stmt,
					NULL);
		if (rc != SQLITE_OK)
			return sqlite_fail(c->db, rc, err);
	}
	r->base.ops = &sqlite_ops;
	r->conn = c;
	r->ncols = sqlite3_column_count(r->stmt);
	r->open = true;
	c->open_rows++;
	*out = r;
	return RS_OK;
}

enum rs_status sqlite_bind_args(sqlite3_stmt *stmt, const struct store_val *args, int nargs,
				struct rs_err *err)
{
	int want = sqlite3_bind_parameter_count(stmt);

	/* A wrong count is a core bug; catching it here beats binding NULL silently. */
	if (nargs != want || (nargs > 0 && !args))
		return rs_fail(err, RS_E_INTERNAL, "store.bad_args", NULL,
			       "query takes %d arguments, got %d", want, nargs);
	for (int i = 0; i < nargs; i++) {
		int rc = SQLITE_OK;

		switch (args[i].type) {
		case SV_NULL:
			rc = sqlite3_bind_null(stmt, i + 1);
			break;
		case SV_INT:
			rc = sqlite3_bind_int64(stmt, i + 1, args[i].i);
			break;
		case SV_TEXT:
			/* STATIC: store.h makes the caller keep the string alive for the query. */
			rc = args[i].s
				 ? sqlite3_bind_text(stmt, i + 1, args[i].s, -1, SQLITE_STATIC)
				 : sqlite3_bind_null(stmt, i + 1);
			break;
		default:
			return rs_fail(err, RS_E_INTERNAL, "store.bad_args", NULL,
				       "argument %d has an unknown type", i + 1);
		}
		if (rc != SQLITE_OK)
			return sqlite_fail(sqlite3_db_handle(stmt), rc, err);
	}
	return RS_OK;
}

static enum rs_status sqlite_named(struct store_tx *tx, enum store_q q,
				   const struct store_val *args, int nargs,
				   struct sqlite_rows **out, struct rs_err *err)
{
	struct sqlite_conn *c = ((struct sqlite_tx *)tx)->conn;
	const char *sql = sqlite_query_sql(q);
	struct sqlite_rows *r = NULL;
	enum rs_status st;

	if (!sql)
		return rs_fail(err, RS_E_INTERNAL, "store.bad_query", NULL, "unknown query %d",
			       (int)q);
	st = sqlite_rows_begin(c, &c->named[q], sql, &r, err);
	if (st)
		return st;
	st = sqlite_bind_args(r->stmt, args, nargs, err);
	if (st) {
		sqlite_rows_close(&r->base);
		return st;
	}
	*out = r;
	return RS_OK;
}

enum rs_status sqlite_exec(struct store_tx *tx, enum store_q q, const struct store_val *args,
			   int nargs, int64_t *changes, struct rs_err *err)
{
	struct sqlite_rows *r = NULL;
	enum rs_status st = sqlite_named(tx, q, args, nargs, &r, err);
	int rc;

	if (st)
		return st;
	while ((rc = sqlite3_step(r->stmt)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		st = sqlite_fail(r->conn->db, rc, err);
		goto out;
	}
	if (changes)
		*changes = sqlite3_stmt_readonly(r->stmt) ? 0 : sqlite3_changes64(r->conn->db);
out:
	sqlite_rows_close(&r->base);
	return st;
}

enum rs_status sqlite_query(struct store_tx *tx, enum store_q q, const struct store_val *args,
			    int nargs, struct store_rows **rows, struct rs_err *err)
{
	struct sqlite_rows *r = NULL;
	enum rs_status st = sqlite_named(tx, q, args, nargs, &r, err);

	if (st)
		return st;
	*rows = &r->base;
	return RS_OK;
}

enum rs_status sqlite_rows_next(struct store_rows *rows, bool *has_row, struct rs_err *err)
{
	struct sqlite_rows *r = sqlite_rows_of(rows);
	int rc = sqlite3_step(r->stmt);

	*has_row = false;
	if (rc == SQLITE_ROW) {
		*has_row = true;
		return RS_OK;
	}
	if (rc == SQLITE_DONE)
		return RS_OK;
	return sqlite_fail(r->conn->db, rc, err);
}

bool sqlite_col_null(struct store_rows *rows, int col)
{
	struct sqlite_rows *r = sqlite_rows_of(rows);

	return col < 0 || col >= r->ncols || sqlite3_column_type(r->stmt, col) == SQLITE_NULL;
}

int64_t sqlite_col_int(struct store_rows *rows, int col)
{
	struct sqlite_rows *r = sqlite_rows_of(rows);

	if (col < 0 || col >= r->ncols)
		return 0;
	return sqlite3_column_int64(r->stmt, col);
}

const char *sqlite_col_text(struct store_rows *rows, int col)
{
	struct sqlite_rows *r = sqlite_rows_of(rows);

	if (col < 0 || col >= r->ncols)
		return NULL;
	return (const char *)sqlite3_column_text(r->stmt, col);
}

void sqlite_rows_close(struct store_rows *rows)
{
	struct sqlite_rows *r = sqlite_rows_of(rows);

	if (r->transient) {
		sqlite3_finalize(r->stmt);
		if (r->conn->open_rows > 0)
			r->conn->open_rows--;
		free(r);
		return;
	}
	if (!r->open)
		return;
	sqlite3_reset(r->stmt);
	sqlite3_clear_bindings(r->stmt);
	r->open = false;
	if (r->conn->open_rows > 0)
		r->conn->open_rows--;
}
