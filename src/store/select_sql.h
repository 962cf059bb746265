/* Selections as SQL: the one compiler from a struct store_select to a statement (tenant always
 * bound, deleted users never returned, keyset paging, LIMIT), shared by the engines so that
 * they accept, refuse and answer exactly the same selections. An engine supplies its dialect
 * (struct select_dialect: only what its SQL spells differently), then caches, binds and runs
 * the statement its own way. Values are always bound, never spliced into the text.
 *
 * Every leaf predicate is two-valued (0/1, never NULL), so NOT means "does not match": a
 * user without an e-mail matches "not (email co x)" and "email ne x". */
#ifndef ROSTER_STORE_SELECT_SQL_H
#define ROSTER_STORE_SELECT_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"
#include "util/arena.h"

/* One set of bounds for every engine, so that all refuse the same selections. */
#define SELECT_SQL_DEPTH_MAX 64	 /* nesting of a selection predicate */
#define SELECT_SQL_PARENS_MAX 16 /* parenthesized levels (SQLite's parser stack is ~25) */
#define SELECT_SQL_BINDS_MAX 256
#define SELECT_SQL_MAX 16384
#define SELECT_SQL_LIMIT_MAX 10000

struct select_dialect {
	char placeholder; /* '?' for ?N (SQLite), '$' for $N (PostgreSQL) */
	/* Appended to LIKE: the escape clause naming '\', as a literal the engine reads the
	 * same whatever its settings. */
	const char *like_escape;
	/* The collection's row columns (queries.h), NULL for an unknown collection. */
	const char *(*cols)(enum store_coll c);
	/* The smallest string (in a) greater than every string starting with prefix, so that a
	 * starts-with is a range the (tenant_id, col) index serves. NULL with *none set: there is
	 * none and "col >= prefix" alone is exact. NULL without *none: no bound the engine can
	 * bind (or no memory); the compiler falls back to LIKE 'prefix%'. */
	char *(*prefix_upper)(struct arena *a, const char *prefix, bool *none);
	/* A substring index over the users' lower-cased key columns that LIKE cannot use by
	 * itself (SQLite's FTS5 trigram table, migration 0013): writes into buf (at most cap
	 * bytes, snprintf's result) a subquery of one column, cand_id, yielding the id of every
	 * user whose column col contains the text that the MATCH query bound as placeholder n
	 * spells, and perhaps others; the compiler ANDs it with the exact LIKE. The tenant is
	 * placeholder 1. NULL when the engine's LIKE uses its index itself (pg_trgm). */
	int (*substr_cands)(char *buf, size_t cap, char ph, const char *col, int n);
	/* " CROSS JOIN " (SQLite: keeps the page's keys the outer loop) or " JOIN ": joins the
	 * page's keys to the rows they name. NULL: one query reads the rows as it filters. */
	const char *join;
};

/* Substrings shorter than this many characters have no trigram: "co" and "ew" with them
 * scan the tenant's users (correct, not indexed; docs/scim.md "Filters"). */
#define SELECT_SQL_SUBSTR_MIN 3

/* A compiled selection's values, in placeholder order: binds[i] is ?(i+1) / $(i+1). */
struct select_sql {
	struct store_val binds[SELECT_SQL_BINDS_MAX];
	int nbinds;
	struct arena
	    a; /* owns the bound text that is not sel's: lowered values, patterns, bounds */
};

/* Compiles sel into buf (NUL-terminated, at most cap bytes) in dialect d. RS_E_INVALID or
 * RS_E_TOO_LARGE with code "store.bad_select" for a selection no engine accepts. out NULL:
 * the text only (tests, EXPLAIN). Otherwise *out gets the values to bind, which borrow sel's
 * strings; the caller frees it with select_sql_free(). *out is NULL on failure. */
enum rs_status select_sql_compile(const struct select_dialect *d, const struct store_select *sel,
				  char *buf, size_t cap, struct select_sql **out,
				  struct rs_err *err);
/* NULL is a no-op. */
void select_sql_free(struct select_sql *q);

#endif
