/* Selections on SQLite: the SQLite dialect of the shared compiler (select_sql.h), binding, and
 * a per-connection LRU of prepared statements keyed by the SQL text, so each filter shape is
 * prepared once. */
#include "store/sqlite/sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/select_sql.h"

/* The smallest string greater than every string starting with prefix: drop trailing 0xff
 * bytes, increment the last remaining one. SQLite compares text bytewise (BINARY) and binds
 * any bytes, so this bound is exact whatever the encoding. */
static char *sqlite_prefix_upper(struct arena *a, const char *prefix, bool *none)
{
	size_t n = strlen(prefix);
	char *up;

	while (n > 0 && (unsigned char)prefix[n - 1] == 0xff)
		n--;
	*none = n == 0;
	if (n == 0)
		return NULL;
	up = arena_strndup(a, prefix, n);
	if (up)
		up[n - 1] = (char)((unsigned char)up[n - 1] + 1);
	return up;
}

/* Candidates from the FTS5 trigram index of migration 0013 (users_trgm, keyed through
 * users_trgm_ids). CROSS JOIN keeps the MATCH the outer loop: the index's few rowids first,
 * then their ids by integer key. */
static int sqlite_substr_cands(char *buf, size_t cap, char ph, const char *col, int n)
{
	return snprintf(buf, cap,
			"SELECT m.id AS cand_id FROM users_trgm t CROSS JOIN users_trgm_ids m ON "
			"m.rid = t.rowid WHERE t.%s MATCH %c%d AND m.tenant_id = %c1",
			col, ph, n, ph);
}

static const struct select_dialect sqlite_dialect = {
    .placeholder = '?',
    .like_escape = " ESCAPE '\\'",
    .cols = sqlite_select_cols,
    .prefix_upper = sqlite_prefix_upper,
    .substr_cands = sqlite_substr_cands,
    .join = " CROSS JOIN ",
};

enum rs_status sqlite_select_sql(const struct store_select *sel, char *buf, size_t cap,
				 struct rs_err *err)
{
	return select_sql_compile(&sqlite_dialect, sel, buf, cap, NULL, err);
}

void sqlite_select_cache_clear(struct sqlite_conn *c)
{
	for (int i = 0; i < SQLITE_SEL_CACHE; i++) {
		sqlite3_finalize(c->sel[i].rows.stmt);
		free(c->sel[i].sql);
		memset(&c->sel[i], 0, sizeof(c->sel[i]));
	}
}

/* The cache slot for sql: a hit, else a free or the least recently used idle slot (its
 * statement finalized). NULL when every slot is in use by open rows. */
static struct sqlite_sel_entry *sel_slot(struct sqlite_conn *c, const char *sql)
{
	struct sqlite_sel_entry *victim = NULL;

	for (int i = 0; i < SQLITE_SEL_CACHE; i++) {
		struct sqlite_sel_entry *e = &c->sel[i];

		if (e->sql && strcmp(e->sql, sql) == 0) {
			e->used = ++c->sel_tick;
			return e;
		}
		if (e->rows.open || (victim && !victim->sql))
			continue; /* busy, or a free slot was already found */
		if (!victim || !e->sql || e->used < victim->used)
			victim = e;
	}
	if (!victim)
		return NULL;
	sqlite3_finalize(victim->rows.stmt);
	free(victim->sql);
	memset(victim, 0, sizeof(*victim));
	victim->sql = strdup(sql);
	if (!victim->sql)
		return NULL;
	victim->used = ++c->sel_tick;
	return victim;
}

enum rs_status sqlite_select(struct store_tx *tx, const struct store_select *sel,
			     struct store_rows **rows, struct rs_err *err)
{
	struct sqlite_conn *c = ((struct sqlite_tx *)tx)->conn;
	char *buf = malloc(SQLITE_SEL_SQL_MAX);
	struct select_sql *q = NULL;
	struct sqlite_sel_entry *e;
	struct sqlite_rows *r = NULL;
	struct sqlite_rows busy = {.open = true};
	enum rs_status st;

	if (!buf)
		return rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
	st = select_sql_compile(&sqlite_dialect, sel, buf, SQLITE_SEL_SQL_MAX, &q, err);
	if (st)
		goto out;
	e = sel_slot(c, buf);
	/* No idle slot: a one-off statement, as for a nested run of the same shape. */
	st = sqlite_rows_begin(c, e ? &e->rows : &busy, buf, &r, err);
	if (st)
		goto out;
	for (int i = 0; i < q->nbinds; i++) {
		const struct store_val *v = &q->binds[i];
		/* TRANSIENT: the values die with q, before the statement runs. */
		int rc = v->type == SV_INT
			     ? sqlite3_bind_int64(r->stmt, i + 1, v->i)
			     : sqlite3_bind_text(r->stmt, i + 1, v->s, -1, SQLITE_TRANSIENT);

		if (rc != SQLITE_OK) {
			st = sqlite_fail(c->db, rc, err);
			goto out;
		}
	}
	*rows = &r->base;
out:
	if (st && r)
		sqlite_rows_close(&r->base);
	select_sql_free(q);
	free(buf);
	return st;
}

enum rs_status sqlite_raw(struct store_tx *tx, const char *sql, const struct store_val *args,
			  int nargs, struct store_rows **rows, struct rs_err *err)
{
	struct sqlite_conn *c = ((struct sqlite_tx *)tx)->conn;
	struct sqlite_sel_entry *e = sel_slot(c, sql);
	struct sqlite_rows busy = {.open = true};
	struct sqlite_rows *r = NULL;
	enum rs_status st;
	int rc;

	st = sqlite_rows_begin(c, e ? &e->rows : &busy, sql, &r, err);
	if (st)
		return st;
	st = sqlite_bind_args(r->stmt, args, nargs, err);
	if (!st && rows) {
		*rows = &r->base;
		return RS_OK;
	}
	if (!st) {
		while ((rc = sqlite3_step(r->stmt)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE)
			st = sqlite_fail(c->db, rc, err);
	}
	sqlite_rows_close(&r->base);
	return st;
}
