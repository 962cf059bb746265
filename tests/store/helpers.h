/* Helpers shared by the store tests and the group-commit bench: temp paths, one-statement
 * writes and reads through the public store.h interface only. */
#ifndef ROSTER_TESTS_STORE_HELPERS_H
#define ROSTER_TESTS_STORE_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The schema version after every migration: the version of the last one compiled in. Numbers
 * are handed out per branch, so they may have gaps until every branch is merged. Both engines
 * must have the same migrations; test_contract checks it. */
#include "store/store_int.h"
extern const int sqlite_migrations_count;
extern const struct store_migration sqlite_migrations[];
#define TH_SCHEMA_VERSION (sqlite_migrations[sqlite_migrations_count - 1].version)

#define TH_MAXR 600
#define TH_MAXC 40

struct th_res {
	int nrows, ncols;
	char *text[TH_MAXR][TH_MAXC]; /* strdup'd; NULL for SQL NULL */
	int64_t ints[TH_MAXR][TH_MAXC];
	bool null[TH_MAXR][TH_MAXC];
};

/* A fresh store path: a file in a private temp directory (removed at exit) or, after
 * th_pg_init(), the URI of a new PostgreSQL database (dropped at exit). */
void th_path(char *out, size_t cap, const char *name);
/* Switches th_path() to PostgreSQL: ROSTER_TEST_PG must hold a libpq URI of a server where
 * the test may CREATE DATABASE. Returns false (with a message) when it is unset. */
bool th_pg_init(void);
/* True after th_pg_init(). */
bool th_pg(void);
/* Runs sql on a separate connection to the database of uri; returns the first column of the
 * first row as a number (0 if none), or -1 on error (printed). */
long long th_pg_sql(const char *uri, const char *sql);
struct store *th_open(const char *path, enum store_sync sync);

enum rs_status th_exec(struct store *s, enum store_q q, const struct store_val *args, int n,
		       int64_t *changes, struct rs_err *err);
/* Runs a named query (in store_read) and collects ncols columns of every row. */
enum rs_status th_query(struct store *s, enum store_q q, const struct store_val *args, int n,
			int ncols, struct th_res *out, struct rs_err *err);
enum rs_status th_select(struct store *s, const struct store_select *sel, int ncols,
			 struct th_res *out, struct rs_err *err);
struct th_res *th_res_new(void);
void th_res_free(struct th_res *r);

enum rs_status th_tenant(struct store *s, const char *id, const char *slug);
enum rs_status th_group(struct store *s, const char *tenant, const char *id, const char *name);

struct th_user {
	const char *tenant, *id, *username, *email, *first, *last, *type, *status, *sysrole, *extid;
	int64_t created, updated;
};
enum rs_status th_user_insert(struct store *s, const struct th_user *u, struct rs_err *err);

#endif
