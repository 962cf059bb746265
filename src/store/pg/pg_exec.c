/* Named queries and rows: binds struct store_val arguments (integers as decimal text, so no
 * binary formats are involved) to the SQL of pg_queries.c, prepared once per connection under
 * the name "w<q>"/"r<q>", and hands the complete result out as rows. */
#include "store/pg/pg_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct pg_rows *pg_rows_of(struct store_rows *r)
{
	return (struct pg_rows *)r;
}

enum rs_status pg_rows_new(struct pg_tx *tx, PGresult *res, struct store_rows **out,
			   struct rs_err *err)
{
	struct pg_rows *r = calloc(1, sizeof(*r));

	if (!r) {
		PQclear(res);
		return rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
	}
	r->base.ops = &pg_ops;
	r->tx = tx;
	r->res = res;
	r->row = -1;
	r->nrows = PQntuples(res);
	r->ncols = PQnfields(res);
	r->next = tx->open;
	if (tx->open)
		tx->open->prev = r;
	tx->open = r;
	*out = &r->base;
	return RS_OK;
}

/* Runs q with args on tx's connection; *out gets the successful result. */
static enum rs_status pg_run(struct store_tx *t, enum store_q q, const struct store_val *args,
			     int nargs, PGresult **out, struct rs_err *err)
{
	struct pg_tx *tx = (struct pg_tx *)t;
	struct pg_conn *c = tx->conn;
	bool locking = !tx->read;
	const char *sql = pg_query_sql(q, locking);
	const char *vals[PG_ARGS_MAX];
	char ints[PG_ARGS_MAX][24];
	char name[16];
	int want = pg_query_nparams(q);
	PGresult *res;
	ExecStatusType es;

	*out = NULL;
	if (!sql)
		return rs_fail(err, RS_E_INTERNAL, "store.bad_query", NULL, "unknown query %d",
			       (int)q);
	/* A wrong count is a core bug; catching it here beats binding NULL silently. */
	if (nargs != want || nargs > PG_ARGS_MAX || (nargs > 0 && !args))
		return rs_fail(err, RS_E_INTERNAL, "store.bad_args", NULL,
			       "query takes %d arguments, got %d", want, nargs);
	if (tx->lost)
		return rs_fail(err, RS_E_UNAVAILABLE, "store.unavailable", NULL,
			       "the database connection was lost; retry");
	for (int i = 0; i < nargs; i++) {
		switch (args[i].type) {
		case SV_NULL:
			vals[i] = NULL;
			break;
		case SV_INT:
			snprintf(ints[i], sizeof(ints[i]), "%" PRId64, args[i].i);
			vals[i] = ints[i];
			break;
		case SV_TEXT:
			vals[i] = args[i].s;
			break;
		default:
			return rs_fail(err, RS_E_INTERNAL, "store.bad_args", NULL,
				       "argument %d has an unknown type", i + 1);
		}
	}
	snprintf(name, sizeof(name), "%c%d", locking ? 'w' : 'r', (int)q);
	if (!c->prepared[!locking][q]) {
		res = PQprepare(c->pg, name, sql, 0, NULL);
		es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
		if (es != PGRES_COMMAND_OK) {
			enum rs_status st = pg_fail(c, tx, res, err);

			PQclear(res);
			return st;
		}
		PQclear(res);
		c->prepared[!locking][q] = true;
	}
	res = PQexecPrepared(c->pg, name, nargs, vals, NULL, NULL, 0);
	es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
		enum rs_status st = pg_fail(c, tx, res, err);

		PQclear(res);
		return st;
	}
	*out = res;
	return RS_OK;
}

enum rs_status pg_exec(struct store_tx *tx, enum store_q q, const struct store_val *args, int nargs,
		       int64_t *changes, struct rs_err *err)
{
	PGresult *res;
	enum rs_status st = pg_run(tx, q, args, nargs, &res, err);

	if (st)
		return st;
	if (changes) {
		/* PQcmdTuples is "" for statements that report no count (plain SELECT). */
		const char *n = PQresultStatus(res) == PGRES_COMMAND_OK ? PQcmdTuples(res) : "";

		*changes = *n ? strtoll(n, NULL, 10) : 0;
	}
	PQclear(res);
	return RS_OK;
}

enum rs_status pg_query(struct store_tx *tx, enum store_q q, const struct store_val *args,
			int nargs, struct store_rows **rows, struct rs_err *err)
{
	PGresult *res;
	enum rs_status st = pg_run(tx, q, args, nargs, &res, err);

	if (st)
		return st;
	return pg_rows_new((struct pg_tx *)tx, res, rows, err);
}

enum rs_status pg_rows_next(struct store_rows *rows, bool *has_row, struct rs_err *err)
{
	struct pg_rows *r = pg_rows_of(rows);

	(void)err;
	if (r->row < r->nrows)
		r->row++;
	*has_row = r->row < r->nrows;
	return RS_OK;
}

static bool pg_cell_ok(const struct pg_rows *r, int col)
{
	return col >= 0 && col < r->ncols && r->row >= 0 && r->row < r->nrows;
}

bool pg_col_null(struct store_rows *rows, int col)
{
	struct pg_rows *r = pg_rows_of(rows);

	return !pg_cell_ok(r, col) || PQgetisnull(r->res, r->row, col);
}

int64_t pg_col_int(struct store_rows *rows, int col)
{
	struct pg_rows *r = pg_rows_of(rows);

	if (!pg_cell_ok(r, col) || PQgetisnull(r->res, r->row, col))
		return 0;
	return strtoll(PQgetvalue(r->res, r->row, col), NULL, 10);
}

const char *pg_col_text(struct store_rows *rows, int col)
{
	struct pg_rows *r = pg_rows_of(rows);

	if (!pg_cell_ok(r, col) || PQgetisnull(r->res, r->row, col))
		return NULL;
	return PQgetvalue(r->res, r->row, col);
}

static void pg_rows_unlink(struct pg_rows *r)
{
	struct pg_tx *tx = r->tx;

	if (r->prev)
		r->prev->next = r->next;
	else
		tx->open = r->next;
	if (r->next)
		r->next->prev = r->prev;
	PQclear(r->res);
	free(r);
}

void pg_rows_close(struct store_rows *rows)
{
	pg_rows_unlink(pg_rows_of(rows));
}

void pg_tx_close_rows(struct pg_tx *tx)
{
	while (tx->open)
		pg_rows_unlink(tx->open);
}

enum rs_status pg_raw(struct store_tx *t, const char *sql, const struct store_val *args, int nargs,
		      struct store_rows **rows, struct rs_err *err)
{
	struct pg_tx *tx = (struct pg_tx *)t;
	struct pg_conn *c = tx->conn;
	size_t n = strlen(sql);
	char *text = malloc(n + 1);
	const char **vals = calloc((size_t)(nargs > 0 ? nargs : 1), sizeof(*vals));
	char(*ints)[24] = calloc((size_t)(nargs > 0 ? nargs : 1), sizeof(*ints));
	PGresult *res = NULL;
	ExecStatusType es;
	enum rs_status st = RS_OK;

	if (!text || !vals || !ints) {
		st = rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
		goto out;
	}
	/* store.c writes placeholders as ?N and no literal holds a '?'. */
	for (size_t i = 0; i <= n; i++)
		text[i] = sql[i] == '?' ? '$' : sql[i];
	if (tx->lost) {
		st = rs_fail(err, RS_E_UNAVAILABLE, "store.unavailable", NULL,
			     "the database connection was lost; retry");
		goto out;
	}
	for (int i = 0; i < nargs; i++) {
		if (args[i].type == SV_INT) {
			snprintf(ints[i], sizeof(ints[i]), "%" PRId64, args[i].i);
			vals[i] = ints[i];
		} else {
			vals[i] = args[i].type == SV_TEXT ? args[i].s : NULL;
		}
	}
	/* Untyped parameters: the server converts the text to each column's type. */
	res = PQexecParams(c->pg, text, nargs, NULL, vals, NULL, NULL, 0);
	es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
		st = pg_fail(c, tx, res, err);
		goto out;
	}
	if (rows) {
		st = pg_rows_new(tx, res, rows, err);
		res = NULL; /* owned by the rows, or freed by pg_rows_new on failure */
	}
out:
	PQclear(res);
	free(text);
	free(vals);
	free(ints);
	return st;
}
