/* Selections on PostgreSQL: the PostgreSQL dialect of the shared compiler (select_sql.h), whose
 * semantics tests/store/test_contract.c holds every engine to, and execution. The schema's
 * COLLATE "C" makes every comparison and sort bytewise, as in SQLite.
 *
 * Statements are not prepared: PQexecParams plans each with its values known (a custom plan),
 * which is what lets a prefix range or a selective equality pick its index; a filter's shape
 * varies too much for a per-connection cache to pay. */
#include "store/pg/pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/select_sql.h"

/* Length of the UTF-8 sequence starting at p (at most n bytes) and its code point; 0 when
 * the bytes are not one well-formed sequence. */
static size_t sel_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len = p[0] < 0x80	     ? 1
		     : (p[0] & 0xe0) == 0xc0 ? 2
		     : (p[0] & 0xf0) == 0xe0 ? 3
		     : (p[0] & 0xf8) == 0xf0 ? 4
					     : 0;
	uint32_t v;

	if (len == 0 || len != n)
		return 0;
	v = len == 1 ? p[0] : p[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	if ((len == 2 && v < 0x80) || (len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
	    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static size_t sel_utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The smallest valid UTF-8 string greater than every string starting with prefix: the last
 * character replaced by its successor code point (after dropping trailing U+10FFFF). The
 * SQLite engine increments the last byte instead, but PostgreSQL refuses text that is not
 * valid UTF-8, and UTF-8 orders bytewise like code points, so this bound is exact too.
 * *none is set when there is no bound (empty or all U+10FFFF: "col >= prefix" alone is
 * exact); NULL without *none when prefix is not valid UTF-8 (or on no memory): the compiler
 * falls back to LIKE. */
static char *pg_prefix_upper(struct arena *a, const char *prefix, bool *none)
{
	size_t n = strlen(prefix);
	char *up;

	*none = false;
	while (n > 0) {
		size_t start = n - 1, len;
		uint32_t cp;

		while (start > 0 && n - start < 4 && ((unsigned char)prefix[start] & 0xc0) == 0x80)
			start--;
		len = sel_utf8_decode((const unsigned char *)prefix + start, n - start, &cp);
		if (!len)
			return NULL;
		if (cp == 0x10ffff) {
			n = start;
			continue;
		}
		cp = cp + 1 == 0xd800 ? 0xe000 : cp + 1;
		up = arena_alloc(a, start + 5);
		if (!up)
			return NULL;
		memcpy(up, prefix, start);
		up[start + sel_utf8_encode(cp, up + start)] = '\0';
		return up;
	}
	*none = true;
	return NULL;
}

/* ESCAPE E'\\': an escape-string literal reads as one backslash whatever
 * standard_conforming_strings says. */
static const struct select_dialect pg_dialect = {
    .placeholder = '$',
    .like_escape = " ESCAPE E'\\\\'",
    .cols = pg_select_cols,
    .prefix_upper = pg_prefix_upper,
    .join = " JOIN ",
};

enum rs_status pg_select_sql(const struct store_select *sel, char *buf, size_t cap,
			     struct rs_err *err)
{
	return select_sql_compile(&pg_dialect, sel, buf, cap, NULL, err);
}

enum rs_status pg_select(struct store_tx *t, const struct store_select *sel,
			 struct store_rows **rows, struct rs_err *err)
{
	struct pg_tx *tx = (struct pg_tx *)t;
	struct pg_conn *c = tx->conn;
	char *buf = malloc(PG_SEL_SQL_MAX);
	struct select_sql *q = NULL;
	const char *vals[SELECT_SQL_BINDS_MAX];
	Oid types[SELECT_SQL_BINDS_MAX];
	char(*ints)[24] = malloc(sizeof(char[24]) * SELECT_SQL_BINDS_MAX);
	PGresult *res = NULL;
	ExecStatusType es;
	enum rs_status st;

	if (!buf || !ints) {
		free(buf);
		free(ints);
		return rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
	}
	st = select_sql_compile(&pg_dialect, sel, buf, PG_SEL_SQL_MAX, &q, err);
	if (st)
		goto out;
	if (tx->lost) {
		st = rs_fail(err, RS_E_UNAVAILABLE, "store.unavailable", NULL,
			     "the database connection was lost; retry");
		goto out;
	}
	for (int i = 0; i < q->nbinds; i++) {
		const struct store_val *v = &q->binds[i];

		/* Typed, so that "(col, id) > ($n, $m)" and comparisons resolve without casts:
		 * 20 = int8, 25 = text (pg_type.h). */
		if (v->type == SV_INT) {
			snprintf(ints[i], sizeof(ints[i]), "%lld", (long long)v->i);
			vals[i] = ints[i];
			types[i] = 20;
		} else {
			vals[i] = v->s;
			types[i] = 25;
		}
	}
	res = PQexecParams(c->pg, buf, q->nbinds, types, vals, NULL, NULL, 0);
	es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (es != PGRES_TUPLES_OK) {
		st = pg_fail(c, tx, res, err);
		PQclear(res);
		goto out;
	}
	st = pg_rows_new(tx, res, rows, err);
out:
	select_sql_free(q);
	free(buf);
	free(ints);
	return st;
}
