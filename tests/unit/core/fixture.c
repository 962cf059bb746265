/* Test fixture for the core unit tests; see fixture.h. */
#include "fixture.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

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
	snprintf(f->db, sizeof(f->db), "%s/roster.db", f->dir);
	scfg.path = f->db;
	if (store_open(&scfg, &f->store, &err) != RS_OK) {
		fprintf(stderr, "store_open: %s %s\n", err.code, err.msg);
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

const char *fx_user(struct fx *f, const char *tenant, const char *username,
		    const char *system_role, const char *const *roles)
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
	fx_expect_at(users_create(f->core, &f->platform, tenant, &uf, &f->a, &u, &err), &err,
		     RS_OK, NULL, __FILE__, __LINE__, username);
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

	fx_expect_at(auth_bearer(f->core, secret, out, &err), &err, RS_OK, NULL, __FILE__,
		     __LINE__, "auth_bearer");
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

void fx_sql(struct fx *f, const char *sql)
{
	sqlite3 *db = fx_db(f);
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		print_error("%s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		sqlite3_close(db);
		fail();
	}
	sqlite3_close(db);
}

int64_t fx_sql_int(struct fx *f, const char *sql)
{
	sqlite3 *db = fx_db(f);
	sqlite3_stmt *st = NULL;
	int64_t v = 0;

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
