/* Commands that open the store directly: init, migrate, backup and audit verify. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/config.h"
#include "app/keyfile.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "store/store.h"

static int fail(const char *what, const struct rs_err *err)
{
	fprintf(stderr, "roster: %s: %s (%s)\n", what, err->msg, err->code);
	return 1;
}

int app_open(struct config *cfg, int argc, char **argv, bool create, struct app *out)
{
	return app_open_mode(cfg, argc, argv, create ? APP_CREATE : APP_READ, out);
}

int app_open_mode(struct config *cfg, int argc, char **argv, enum app_mode mode, struct app *out)
{
	bool create = mode == APP_CREATE;
	struct rs_err err = {0};
	struct store_config sc = {0};
	struct core_config cc = {0};
	enum rs_status st;

	memset(out, 0, sizeof(*out));
	if (config_load(cfg, argc, argv, NULL, &err) != RS_OK) {
		fprintf(stderr, "roster: configuration: %s\n", err.msg);
		return 2;
	}
	log_set_level(cfg->log_level);
	if (create && ((!config_db_is_url(cfg->db) && dir_ensure_for(cfg->db, &err) != RS_OK) ||
		       dir_ensure_for(cfg->key_file, &err) != RS_OK))
		return fail("data directory", &err);
	if (keyfile_load(cfg->key_file, create, cc.key, &err) != RS_OK) {
		/* Read-only commands (audit verify, backup) never use the key: an ephemeral one
		 * lets them run where only the database file was copied. */
		if (mode != APP_READ || strcmp(err.code, "key.open") != 0 ||
		    !crypto_random(cc.key, sizeof(cc.key)))
			return fail("server key", &err);
	}
	sc.path = cfg->db;
	sc.sync = (enum store_sync)cfg->sync;
	sc.read_only = mode == APP_READ;
	st = store_open(&sc, &out->store, &err);
	if (st != RS_OK) {
		crypto_wipe(cc.key, sizeof(cc.key));
		return fail("store", &err);
	}
	cc.store = out->store;
	cc.public_url = cfg->public_url;
	cc.login_per_minute = cfg->login_per_minute;
	cc.access_token_ttl_s = cfg->access_token_ttl_s;
	st = core_new(&cc, &out->core, &err);
	crypto_wipe(cc.key, sizeof(cc.key));
	if (st != RS_OK) {
		store_free(out->store);
		out->store = NULL;
		return fail("core", &err);
	}
	return 0;
}

void app_close(struct app *app)
{
	core_free(app->core);
	store_free(app->store);
	app->core = NULL;
	app->store = NULL;
}

/* Prints the one-time bootstrap credential, on stdout only, as a JSON line. */
static void print_bootstrap(const char *secret, const char *db)
{
	if (secret)
		printf("{\"msg\":\"bootstrap\",\"db\":\"%s\",\"maintenance_token\":\"%s\","
		       "\"note\":\"shown once: store it now\"}\n",
		       db, secret);
	else
		printf("{\"msg\":\"bootstrap\",\"db\":\"%s\",\"maintenance_token\":"
		       "\"from ROSTER_BOOTSTRAP_TOKEN\"}\n",
		       db);
	fflush(stdout);
}

int app_bootstrap(struct app *app, const char *db)
{
	struct arena a;
	struct rs_err err = {0};
	const char *secret = NULL;
	bool created = false;
	int rc = 0;

	arena_init(&a, 0);
	if (core_bootstrap(app->core, getenv("ROSTER_BOOTSTRAP_TOKEN"), &a, &created, &secret,
			   &err) != RS_OK)
		rc = fail("bootstrap", &err);
	else if (created)
		print_bootstrap(secret, db);
	/* A first JWT signing key: on the first start, and on the first start after an upgrade
	 * that brought the signing keys. Also proves the key file opens the existing keys. */
	if (rc == 0 && keys_ensure(app->core, &err) != RS_OK)
		rc = fail("signing keys", &err);
	if (secret)
		crypto_wipe((char *)secret, strlen(secret));
	arena_release(&a);
	return rc;
}

int app_init(int argc, char **argv)
{
	struct config cfg;
	struct app app;
	int rc = app_open(&cfg, argc, argv, true, &app);

	if (rc)
		return rc;
	rc = app_bootstrap(&app, cfg.db);
	if (rc == 0)
		printf("{\"msg\":\"initialised\",\"db\":\"%s\",\"schema_version\":%d}\n", cfg.db,
		       store_schema_version(app.store));
	app_close(&app);
	return rc;
}

int app_migrate(int argc, char **argv)
{
	struct config cfg;
	struct app app;
	int rc = app_open(&cfg, argc, argv, true, &app);

	if (rc)
		return rc;
	printf("{\"msg\":\"migrated\",\"db\":\"%s\",\"schema_version\":%d}\n", cfg.db,
	       store_schema_version(app.store));
	app_close(&app);
	return 0;
}

int app_backup(int argc, char **argv)
{
	struct config cfg;
	struct app app;
	struct rs_err err = {0};
	const char *out = NULL;
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	int n = 0, rc;

	if (!rest)
		return 1;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strncmp(argv[i], "--out=", 6) == 0)
			out = argv[i] + 6;
		else
			rest[n++] = argv[i];
	}
	if (!out) {
		free(rest);
		fprintf(stderr, "usage: roster backup --out PATH [--db PATH]\n");
		return 2;
	}
	rc = app_open(&cfg, n, rest, false, &app);
	free(rest);
	if (rc)
		return rc;
	if (store_backup(app.store, out, &err) != RS_OK)
		rc = fail("backup", &err);
	else
		printf("{\"msg\":\"backup written\",\"out\":\"%s\"}\n", out);
	app_close(&app);
	return rc;
}

static void verify_report(const struct audit_verify_report *r, void *ctx)
{
	(void)ctx;
	if (r->bad)
		printf("FAIL tenant %s (%s): seq %lld event %s: %s\n", r->tenant_slug, r->tenant_id,
		       (long long)r->seq, r->event_id && *r->event_id ? r->event_id : "-",
		       r->reason);
	else
		printf("ok   tenant %s (%s): %lld events\n", r->tenant_slug, r->tenant_id,
		       (long long)r->events);
}

int app_audit_verify(int argc, char **argv)
{
	struct config cfg;
	struct app app;
	struct arena a;
	struct rs_err err = {0};
	enum rs_status st;
	int rc = app_open(&cfg, argc, argv, false, &app);

	if (rc)
		return rc;
	arena_init(&a, 0);
	st = audit_verify(app.core, &a, verify_report, NULL, &err);
	arena_release(&a);
	app_close(&app);
	if (st == RS_E_CONFLICT) {
		printf("audit chain BROKEN\n");
		return 1;
	}
	if (st != RS_OK)
		return fail("audit verify", &err);
	printf("audit chains intact\n");
	return 0;
}
