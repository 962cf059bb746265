/* Helpers shared by the store tests and the group-commit bench: temp paths, one-statement
 * writes and reads through the public store.h interface only. */
#ifndef ROSTER_TESTS_STORE_HELPERS_H
#define ROSTER_TESTS_STORE_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define TH_MAXR 600
#define TH_MAXC 25

struct th_res {
	int nrows, ncols;
	char *text[TH_MAXR][TH_MAXC]; /* strdup'd; NULL for SQL NULL */
	int64_t ints[TH_MAXR][TH_MAXC];
	bool null[TH_MAXR][TH_MAXC];
};

/* A fresh file path in a private temp directory (removed at exit). */
void th_path(char *out, size_t cap, const char *name);
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
	const char *tenant, *id, *username, *email, *first, *last, *type, *status, *sysrole,
		*extid;
	int64_t created, updated;
};
enum rs_status th_user_insert(struct store *s, const struct th_user *u, struct rs_err *err);

#endif
