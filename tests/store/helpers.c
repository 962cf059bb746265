/* Test helpers over store.h; see helpers.h. */
#include "helpers.h"

#include <ftw.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/sqlite/sqlite_int.h"
#include "util/str.h"

static char th_dir[256];

/* PostgreSQL mode: the server's URI and the databases created, dropped at exit. */
static const char *th_pg_base;
static char th_pg_dbs[64][64];
static int th_pg_ndbs;

static int th_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void th_cleanup(void)
{
	if (th_dir[0] && !getenv("TH_KEEP"))
		nftw(th_dir, th_rm, 16, FTW_DEPTH | FTW_PHYS);
}

bool th_pg_init(void)
{
	th_pg_base = getenv("ROSTER_TEST_PG");
	if (!th_pg_base || !*th_pg_base) {
		fprintf(stderr, "ROSTER_TEST_PG is not set: it must be the libpq URI of a "
				"PostgreSQL server where the tests may CREATE DATABASE "
				"(scripts/pg starts one)\n");
		th_pg_base = NULL;
		return false;
	}
	return true;
}

bool th_pg(void)
{
	return th_pg_base != NULL;
}

/* uri with its database name replaced by db: the path component after the authority. */
static void th_pg_uri(char *out, size_t cap, const char *uri, const char *db)
{
	const char *auth = strstr(uri, "://");
	const char *path, *query;

	auth = auth ? auth + 3 : uri;
	path = auth + strcspn(auth, "/?");
	query = strchr(path, '?');
	snprintf(out, cap, "%.*s/%s%s", (int)(path - uri), uri, db, query ? query : "");
}

long long th_pg_sql(const char *uri, const char *sql)
{
	PGconn *pg = PQconnectdb(uri);
	PGresult *res = NULL;
	long long v = -1;

	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "th_pg_sql: connect: %s", PQerrorMessage(pg));
		goto out;
	}
	res = PQexec(pg, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "th_pg_sql: %s: %s", sql, PQerrorMessage(pg));
		goto out;
	}
	v = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 && PQnfields(res) > 0
		? strtoll(PQgetvalue(res, 0, 0), NULL, 10)
		: 0;
out:
	PQclear(res);
	PQfinish(pg);
	return v;
}

static void th_pg_cleanup(void)
{
	char sql[128];

	if (getenv("TH_KEEP"))
		return;
	for (int i = 0; i < th_pg_ndbs; i++) {
		/* FORCE: a store a failed test never freed may still hold connections. */
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %.63s WITH (FORCE)",
			 th_pg_dbs[i]);
		(void)th_pg_sql(th_pg_base, sql);
	}
}

static void th_pg_path(char *out, size_t cap)
{
	char sql[128];
	unsigned r;

	if (th_pg_ndbs >= (int)(sizeof(th_pg_dbs) / sizeof(th_pg_dbs[0])))
		abort();
	if (th_pg_ndbs == 0)
		atexit(th_pg_cleanup);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL) ^ (unsigned)th_pg_ndbs * 7919u);
	r = (unsigned)random();
	snprintf(th_pg_dbs[th_pg_ndbs], sizeof(th_pg_dbs[0]), "roster_t_%d_%d_%08x", (int)getpid(),
		 th_pg_ndbs, r);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %.63s", th_pg_dbs[th_pg_ndbs]);
	if (th_pg_sql(th_pg_base, sql) != 0)
		abort();
	th_pg_uri(out, cap, th_pg_base, th_pg_dbs[th_pg_ndbs]);
	th_pg_ndbs++;
}

void th_path(char *out, size_t cap, const char *name)
{
	static int n;

	if (th_pg_base) {
		th_pg_path(out, cap);
		return;
	}

	if (!th_dir[0]) {
		const char *base = getenv("TH_DIR") ? getenv("TH_DIR") : "/tmp";

		snprintf(th_dir, sizeof(th_dir), "%s/roster-store-XXXXXX", base);
		if (!mkdtemp(th_dir)) {
			perror("mkdtemp");
			abort();
		}
		atexit(th_cleanup);
	}
	snprintf(out, cap, "%s/%d-%s", th_dir, ++n, name);
}

struct store *th_open(const char *path, enum store_sync sync)
{
	struct store_config cfg = {.path = path, .sync = sync};
	struct store *s = NULL;
	struct rs_err err = {0};

	if (store_open(&cfg, &s, &err) != RS_OK) {
		fprintf(stderr, "store_open %s: %s %s\n", path, err.code, err.msg);
		return NULL;
	}
	return s;
}

struct th_q {
	enum store_q q;
	const struct store_val *args;
	int n;
	int64_t *changes;
	const struct store_select *sel;
	int ncols;
	struct th_res *out;
};

static enum rs_status th_exec_fn(struct store_tx *tx, void *ctx, struct rs_err *err)
{
	struct th_q *c = ctx;

	return store_exec(tx, c->q, c->args, c->n, c->changes, err);
}

enum rs_status th_exec(struct store *s, enum store_q q, const struct store_val *args, int n,
		       int64_t *changes, struct rs_err *err)
{
	struct th_q c = {.q = q, .args = args, .n = n, .changes = changes};

	return store_write(s, th_exec_fn, &c, err);
}

static enum rs_status th_collect(struct store_rows *rows, int ncols, struct th_res *out,
				 struct rs_err *err)
{
	enum rs_status st;
	bool has;

	if (ncols > TH_MAXC)
		abort(); /* a test asking for more columns than th_res holds */
	out->ncols = ncols;
	while ((st = store_rows_next(rows, &has, err)) == RS_OK && has) {
		int r = out->nrows;

		if (r >= TH_MAXR)
			abort();
		for (int i = 0; i < ncols; i++) {
			const char *t;

			out->ints[r][i] = store_col_int(rows, i);
			out->null[r][i] = store_col_null(rows, i);
			t = store_col_text(rows, i);
			out->text[r][i] = t ? strdup(t) : NULL;
		}
		out->nrows++;
	}
	store_rows_close(rows);
	return st;
}

static enum rs_status th_query_fn(struct store_tx *tx, void *ctx, struct rs_err *err)
{
	struct th_q *c = ctx;
	struct store_rows *rows;
	enum rs_status st;

	for (int r = 0; r < c->out->nrows; r++)
		for (int i = 0; i < c->out->ncols; i++)
			free(c->out->text[r][i]);
	c->out->nrows = 0;
	st = c->sel ? store_select(tx, c->sel, &rows, err)
		    : store_query(tx, c->q, c->args, c->n, &rows, err);
	if (st)
		return st;
	return th_collect(rows, c->ncols, c->out, err);
}

enum rs_status th_query(struct store *s, enum store_q q, const struct store_val *args, int n,
			int ncols, struct th_res *out, struct rs_err *err)
{
	struct th_q c = {.q = q, .args = args, .n = n, .ncols = ncols, .out = out};

	return store_read(s, th_query_fn, &c, err);
}

enum rs_status th_select(struct store *s, const struct store_select *sel, int ncols,
			 struct th_res *out, struct rs_err *err)
{
	struct th_q c = {.sel = sel, .ncols = ncols, .out = out};

	return store_read(s, th_query_fn, &c, err);
}

struct th_res *th_res_new(void)
{
	struct th_res *r = calloc(1, sizeof(*r));

	if (!r)
		abort();
	return r;
}

void th_res_free(struct th_res *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->nrows; i++)
		for (int j = 0; j < r->ncols; j++)
			free(r->text[i][j]);
	free(r);
}

enum rs_status th_tenant(struct store *s, const char *id, const char *slug)
{
	struct store_val a[] = {SV_S(id), SV_S(slug), SV_S(slug), SV_S("default"), SV_I(1000)};
	struct rs_err err;

	return th_exec(s, Q_TENANT_INSERT, a, 5, NULL, &err);
}

enum rs_status th_group(struct store *s, const char *tenant, const char *id, const char *name)
{
	struct arena ar;
	struct rs_err err;
	enum rs_status st;

	arena_init(&ar, 0);
	struct store_val a[] = {SV_S(tenant), SV_S(id),	  SV_S(name), SV_S(str_lower(&ar, name)),
				SV_NULLV,     SV_I(1000), SV_NULLV};
	st = th_exec(s, Q_GROUP_INSERT, a, 7, NULL, &err);
	arena_release(&ar);
	return st;
}

enum rs_status th_user_insert(struct store *s, const struct th_user *u, struct rs_err *err)
{
	struct arena ar;
	enum rs_status st;

	arena_init(&ar, 0);
	/* created_at is the last insert argument; updated_at is set by Q_USER_INSERT to the
	 * same, so a different updated value goes through an update below. */
	struct store_val a[25] = {SV_S(u->tenant),
				  SV_S(u->id),
				  SV_S(u->username),
				  SV_S(str_lower(&ar, u->username)),
				  SV_S(u->email),
				  SV_S(str_lower(&ar, u->email)),
				  SV_S(u->first),
				  SV_S(str_lower(&ar, u->first)),
				  SV_S(u->last),
				  SV_S(str_lower(&ar, u->last)),
				  SV_S(u->type ? u->type : "person"),
				  SV_S(u->status ? u->status : "active"),
				  SV_S(u->sysrole ? u->sysrole : "r-user"),
				  SV_NULLV,
				  SV_NULLV,
				  SV_NULLV,
				  SV_NULLV,
				  SV_S(u->extid),
				  SV_S("{}"),
				  SV_S(""),
				  SV_NULLV,
				  SV_NULLV,
				  SV_NULLV,
				  SV_I(u->created),
				  SV_NULLV /* manager_id */};
	st = th_exec(s, Q_USER_INSERT, a, 25, NULL, err);
	if (!st && u->updated && u->updated != u->created) {
		a[23] = SV_I(u->updated);
		st = th_exec(s, Q_USER_UPDATE, a, 25, NULL, err);
	}
	arena_release(&ar);
	return st;
}
