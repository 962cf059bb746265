/* Test fixture for the core unit tests; see fixture.h.
 *
 * The engine comes from ROSTER_TEST_ENGINE: "sqlite" (or unset) opens a fresh SQLite file in the
 * fixture's temp directory; "pg" creates a fresh database on the PostgreSQL cluster named by
 * ROSTER_TEST_PG (a libpq URI; scripts/test starts one with scripts/pg) and opens the store on
 * its URI; the database is dropped at fx_close (kept with FX_KEEP, like the directory). f->db is
 * what the store was opened with, and fx_sql/fx_sql_int reach it directly on either engine. */
#include "fixture.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>
#ifdef FX_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include "store/store.h"

static int64_t pinned_clock(void *ctx)
{
	return ((struct fx *)ctx)->now;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void fx_expect_at(enum rs_status st, const struct rs_err *err, enum rs_status want_st,
		  const char *want_code, const char *file, int line, const char *what)
{
	bool ok = st == want_st;

	if (ok && st != RS_OK && want_code)
		ok = strcmp(err->code, want_code) == 0;
	if (ok)
		return;
	print_error("%s%swant %s %s, got %s %s (field '%s': %s)\n", what ? what : "",
		    what ? ": " : "", rs_status_name(want_st), want_code ? want_code : "",
		    rs_status_name(st), st == RS_OK ? "" : err->code, st == RS_OK ? "" : err->field,
		    st == RS_OK ? "" : err->msg);
	_fail(file, line);
}

struct core *fx_core_nostore(const unsigned char key[CORE_KEY_LEN])
{
	struct core_config cfg = {.store = NULL};
	struct core *c = NULL;
	struct rs_err err = {0};

	memcpy(cfg.key, key, CORE_KEY_LEN);
	if (core_new(&cfg, &c, &err) != RS_OK)
		return NULL;
	return c;
}

/* ---- engines ---------------------------------------------------------------------------- */

enum fx_engine { FX_SQLITE, FX_PG, FX_BAD };

static enum fx_engine fx_engine(void)
{
	const char *e = getenv("ROSTER_TEST_ENGINE");

	if (!e || !*e || strcmp(e, "sqlite") == 0)
		return FX_SQLITE;
	if (strcmp(e, "pg") == 0)
		return FX_PG;
	fprintf(stderr, "fixture: unknown ROSTER_TEST_ENGINE='%s' (want sqlite or pg)\n", e);
	return FX_BAD;
}

static bool fx_is_pg_uri(const char *db)
{
	return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

#ifdef FX_HAVE_LIBPQ
/* base (a postgresql:// URI) with its database replaced by name; false if it does not fit. */
static bool fx_pg_uri(const char *base, const char *name, char *out, size_t cap)
{
	const char *auth = strstr(base, "://");
	const char *end, *query;
	int n;

	if (!auth)
		return false;
	auth += 3;
	end = auth + strcspn(auth, "/?");
	query = strchr(end, '?');
	n = snprintf(out, cap, "%.*s/%s%s", (int)(end - base), base, name, query ? query : "");
	return n > 0 && (size_t)n < cap;
}

/* The database name of a URI made by fx_pg_uri (the last path segment, before any query). */
static void fx_pg_dbname(const char *uri, char *out, size_t cap)
{
	const char *q = strchr(uri, '?');
	size_t len = q ? (size_t)(q - uri) : strlen(uri);
	const char *slash = uri + len;

	while (slash > uri && slash[-1] != '/')
		slash--;
	snprintf(out, cap, "%.*s", (int)(uri + len - slash), slash);
}

static PGconn *fx_pg_connect(const char *uri)
{
	PGconn *c = PQconnectdb(uri);

	if (!c || PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "fixture: cannot connect to %s: %s\n", uri,
			c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Runs sql on uri; false (after printing why) on error. */
static bool fx_pg_run(const char *uri, const char *sql)
{
	PGconn *c = fx_pg_connect(uri);
	PGresult *r;
	bool ok;

	if (!c)
		return false;
	r = PQexec(c, sql);
	ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
	if (!ok)
		fprintf(stderr, "fixture: %s on %s: %s\n", sql, uri, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return ok;
}

/* Creates a fresh database on ROSTER_TEST_PG and writes its URI to f->db. */
static bool fx_pg_create(struct fx *f)
{
	static unsigned counter;
	const char *base = getenv("ROSTER_TEST_PG");
	char name[64], sql[128];
	unsigned rnd = 0;
	FILE *ur;

	if (!base || !*base) {
		fprintf(stderr,
			"fixture: ROSTER_TEST_ENGINE=pg but ROSTER_TEST_PG is unset: start a "
			"cluster with `scripts/pg start DIR` and export ROSTER_TEST_PG=<the URI "
			"it prints> (./scripts/test does this)\n");
		return false;
	}
	ur = fopen("/dev/urandom", "rb");
	if (!ur || fread(&rnd, sizeof(rnd), 1, ur) != 1)
		rnd = (unsigned)time(NULL);
	if (ur)
		fclose(ur);
	snprintf(name, sizeof(name), "roster_core_%ld_%u_%08x", (long)getpid(), ++counter, rnd);
	if (!fx_pg_uri(base, name, f->db, sizeof(f->db))) {
		fprintf(stderr, "fixture: ROSTER_TEST_PG is not a usable postgresql:// URI: %s\n",
			base);
		return false;
	}
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", name);
	if (!fx_pg_run(base, sql)) {
		f->db[0] = '\0';
		return false;
	}
	return true;
}

static void fx_pg_drop(const char *uri)
{
	const char *base = getenv("ROSTER_TEST_PG");
	char name[64], sql[128];

	fx_pg_dbname(uri, name, sizeof(name));
	if (getenv("FX_KEEP")) {
		fprintf(stderr, "fixture: FX_KEEP: kept database %s\n", uri);
		return;
	}
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
	if (base)
		(void)fx_pg_run(base, sql);
}
#else
static bool fx_pg_create(struct fx *f)
{
	(void)f;
	fprintf(stderr, "fixture: ROSTER_TEST_ENGINE=pg, but the core tests were built without "
			"libpq (install libpq-dev: scripts/deps, then reconfigure)\n");
	return false;
}
#endif

struct fx *fx_open(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_config scfg = {.sync = STORE_SYNC_OFF};
	struct core_config ccfg = {0};
	struct rs_err err = {0};
	const char *tmp = getenv("TMPDIR");
	const char *secret = NULL;
	bool created = false;

	if (!f)
		return NULL;
	arena_init(&f->a, 0);
	f->now = FX_T0;
	for (int i = 0; i < CORE_KEY_LEN; i++)
		f->key[i] = (unsigned char)(0xA0 + i);
	snprintf(f->dir, sizeof(f->dir), "%s/roster-core-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir)) {
		perror("mkdtemp");
		free(f);
		return NULL;
	}
	switch (fx_engine()) {
	case FX_SQLITE:
		snprintf(f->db, sizeof(f->db), "%s/roster.db", f->dir);
		break;
	case FX_PG:
		if (!fx_pg_create(f))
			goto fail;
		break;
	case FX_BAD:
		goto fail;
	}
	scfg.path = f->db;
	if (store_open(&scfg, &f->store, &err) != RS_OK) {
		fprintf(stderr, "store_open %s: %s %s\n", f->db, err.code, err.msg);
		goto fail;
	}
	ccfg.store = f->store;
	memcpy(ccfg.key, f->key, CORE_KEY_LEN);
	ccfg.now_ms = pinned_clock;
	ccfg.clock_ctx = f;
	if (core_new(&ccfg, &f->core, &err) != RS_OK) {
		fprintf(stderr, "core_new: %s %s\n", err.code, err.msg);
		goto fail;
	}
	if (core_bootstrap(f->core, FX_BOOT_TOKEN, &f->a, &created, &secret, &err) != RS_OK ||
	    !created) {
		fprintf(stderr, "core_bootstrap: %s %s\n", err.code, err.msg);
		goto fail;
	}
	if (auth_bearer(f->core, FX_BOOT_TOKEN, &f->platform, &err) != RS_OK) {
		fprintf(stderr, "auth_bearer(bootstrap): %s %s\n", err.code, err.msg);
		goto fail;
	}
	if (f->platform.kind != ACTOR_TOKEN || f->platform.perms != PERM_ALL ||
	    f->platform.rank != 1000 || !f->platform.platform ||
	    strcmp(f->platform.tenant_slug, "system") != 0) {
		fprintf(stderr, "the bootstrap token is not the platform actor\n");
		goto fail;
	}
	str_copy(f->sys_tenant, sizeof(f->sys_tenant), f->platform.tenant_id);
	return f;
fail:
	fx_close(f);
	return NULL;
}

void fx_close(struct fx *f)
{
	if (!f)
		return;
	core_free(f->core);
	store_free(f->store);
#ifdef FX_HAVE_LIBPQ
	if (fx_is_pg_uri(f->db))
		fx_pg_drop(f->db);
#endif
	arena_release(&f->a);
	if (f->dir[0] && !getenv("FX_KEEP"))
		nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
}

int fx_setup(void **state)
{
	*state = fx_open();
	return *state ? 0 : -1;
}

int fx_teardown(void **state)
{
	fx_close(*state);
	*state = NULL;
	return 0;
}

const char *fx_tenant(struct fx *f, const char *slug, const char *template_name)
{
	struct tenant_create_req req = {.slug = slug, .name = slug, .template_name = template_name};
	struct tenant t;
	struct rs_err err = {0};

	fx_expect_at(tenants_create(f->core, &f->platform, &req, &f->a, &t, &err), &err, RS_OK,
		     NULL, __FILE__, __LINE__, slug);
	return t.id;
}

const char *fx_user(struct fx *f, const char *tenant, const char *username, const char *system_role,
		    const char *const *roles)
{
	struct user_fields uf = {0};
	struct user u;
	struct rs_err err = {0};
	int n = 0;

	while (roles && roles[n])
		n++;
	uf.username = (struct opt_str){true, username};
	if (system_role)
		uf.system_role = (struct opt_str){true, system_role};
	if (roles) {
		uf.roles_set = true;
		uf.roles = roles;
		uf.nroles = n;
	}
	fx_expect_at(users_create(f->core, &f->platform, tenant, &uf, &f->a, &u, &err), &err, RS_OK,
		     NULL, __FILE__, __LINE__, username);
	return u.id;
}

const char *fx_token(struct fx *f, const char *tenant, const char *user_id, const char *role,
		     const char **token_id)
{
	struct token_create_req req = {.name = "test", .role = role, .user_id = user_id};
	struct token t;
	struct rs_err err = {0};
	const char *secret = NULL;

	fx_expect_at(tokens_create(f->core, &f->platform, tenant, &req, &f->a, &t, &secret, &err),
		     &err, RS_OK, NULL, __FILE__, __LINE__, "tokens_create");
	if (token_id)
		*token_id = t.id;
	return secret;
}

void fx_actor(struct fx *f, const char *tenant, const char *user_id, const char *role,
	      struct actor *out)
{
	struct rs_err err = {0};
	const char *secret = fx_token(f, tenant, user_id, role, NULL);

	fx_expect_at(auth_bearer(f->core, secret, out, &err), &err, RS_OK, NULL, __FILE__, __LINE__,
		     "auth_bearer");
}

const char *fx_user_actor(struct fx *f, const char *tenant, const char *username,
			  const char *system_role, const char *const *roles, struct actor *out)
{
	const char *id = fx_user(f, tenant, username, system_role, roles);

	fx_actor(f, tenant, id, NULL, out);
	return id;
}

static sqlite3 *fx_db(struct fx *f)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		print_error("sqlite3_open %s: %s\n", f->db, db ? sqlite3_errmsg(db) : "?");
		sqlite3_close(db);
		fail();
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

#ifdef FX_HAVE_LIBPQ
/* Runs sql on the fixture's PostgreSQL database and returns the result, or fails the test.
 * tamper: first switch the session to session_replication_role = replica, the superuser's way
 * past triggers, so a guard trigger cannot stop the edit (as dropping them would on SQLite). */
static PGresult *fx_pg_exec(struct fx *f, const char *sql, bool tamper, PGconn **conn)
{
	PGconn *c = PQconnectdb(f->db);
	PGresult *r;

	if (!c || PQstatus(c) != CONNECTION_OK) {
		print_error("connect %s: %s\n", f->db, c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		fail();
	}
	if (tamper) {
		r = PQexec(c, "SET session_replication_role = replica");
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			print_error("SET session_replication_role: %s\n", PQerrorMessage(c));
			PQclear(r);
			PQfinish(c);
			fail();
		}
		PQclear(r);
	}
	r = PQexec(c, sql);
	if (!r || (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)) {
		print_error("%s: %s\n", sql, PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		fail();
	}
	*conn = c;
	return r;
}
#endif

bool fx_is_pg(const struct fx *f)
{
	return fx_is_pg_uri(f->db);
}

static void fx_sql_run(struct fx *f, const char *sql, bool tamper)
{
	sqlite3 *db;
	char *msg = NULL;

	if (fx_is_pg_uri(f->db)) {
#ifdef FX_HAVE_LIBPQ
		PGconn *c = NULL;

		PQclear(fx_pg_exec(f, sql, tamper, &c));
		PQfinish(c);
		return;
#endif
	}
	db = fx_db(f);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		print_error("%s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		sqlite3_close(db);
		fail();
	}
	sqlite3_close(db);
}

void fx_sql(struct fx *f, const char *sql)
{
	fx_sql_run(f, sql, true);
}

void fx_sql_live(struct fx *f, const char *sql)
{
	fx_sql_run(f, sql, false);
}

int64_t fx_sql_int(struct fx *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int64_t v = 0;

	if (fx_is_pg_uri(f->db)) {
#ifdef FX_HAVE_LIBPQ
		PGconn *c = NULL;
		PGresult *r = fx_pg_exec(f, sql, false, &c);
		char *end = NULL;

		if (PQntuples(r) < 1 || PQnfields(r) < 1 || PQgetisnull(r, 0, 0)) {
			print_error("%s: no value\n", sql);
			PQclear(r);
			PQfinish(c);
			fail();
		}
		errno = 0;
		v = strtoll(PQgetvalue(r, 0, 0), &end, 10);
		if (errno || !end || *end) {
			print_error("%s: '%s' is not an integer\n", sql, PQgetvalue(r, 0, 0));
			PQclear(r);
			PQfinish(c);
			fail();
		}
		PQclear(r);
		PQfinish(c);
		return v;
#endif
	}
	db = fx_db(f);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		print_error("%s: %s\n", sql, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		sqlite3_close(db);
		fail();
	}
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

void fx_run_jobs(struct fx *f)
{
	struct rs_err err;
	bool ran = true;

	for (int i = 0; ran && i < 100; i++)
		fx_expect(jobs_run_next(f->core, "test-node", &ran, &err), &err, RS_OK, NULL);
}

enum rs_status fx_delete(struct fx *f, const struct actor *who, const char *tenant, const char *id,
			 int64_t if_match, struct rs_err *err)
{
	struct arena a;
	struct task t;
	enum rs_status st;

	arena_init(&a, 0);
	st = users_delete(f->core, who, tenant, id, if_match, NULL, &a, &t, err);
	arena_release(&a);
	if (st == RS_OK)
		fx_run_jobs(f);
	return st;
}
