/* roster keys rotate|list: the JWT signing keys, through the store directly (like migrate and
 * audit verify), so an operator can rotate without an API token and with the servers
 * running. rotate acts as roster itself (the system actor) and is audited keys.rotate in the
 * system tenant's chain; every node picks the new key up (docs/tokens.md). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/config.h"
#include "core/core.h"
#include "store/store.h"
#include "util/timeutil.h"

static int keys_usage(FILE *out)
{
	fprintf(out, "usage: roster keys rotate [--db PATH|URI] [--key-file PATH] [--config FILE]\n"
		     "       roster keys list [--db PATH|URI] [--config FILE]\n");
	return 2;
}

static int keys_fail(const char *what, const struct rs_err *err)
{
	fprintf(stderr, "roster: %s: %s (%s)\n", what, err->msg, err->code);
	return 1;
}

static int keys_print(struct app *app, bool table)
{
	struct arena a;
	struct rs_err err = {0};
	struct signing_key_list l;
	const char *cur = NULL, *prev = NULL;
	int rc = 0;

	arena_init(&a, 0);
	if (keys_list(app->core, &a, &l, &err) != RS_OK) {
		rc = keys_fail("keys list", &err);
		goto out;
	}
	if (table)
		printf("%-43s  %-8s  %s\n", "KID", "STATUS", "CREATED_AT");
	for (int i = 0; i < l.n; i++) {
		char at[TIME_STR_LEN];

		time_format(l.items[i].created_at, at);
		if (table)
			printf("%-43s  %-8s  %s\n", l.items[i].kid, l.items[i].status, at);
		else if (strcmp(l.items[i].status, "current") == 0)
			cur = l.items[i].kid;
		else if (strcmp(l.items[i].status, "previous") == 0)
			prev = l.items[i].kid;
	}
	if (!table)
		printf("{\"msg\":\"keys rotated\",\"current\":\"%s\",\"previous\":\"%s\"}\n",
		       cur ? cur : "", prev ? prev : "");
out:
	arena_release(&a);
	return rc;
}

static int keys_rotate_cmd(int argc, char **argv)
{
	struct config cfg;
	struct app app;
	struct rs_err err = {0};
	/* Roster itself, like bootstrap: the operator holds the database and the key file. */
	struct actor sys = {
	    .kind = ACTOR_SYSTEM, .rank = 1000, .perms = PERM_ALL, .platform = true};
	int rc;

	rc = app_open_mode(&cfg, argc, argv, APP_WRITE, &app);
	if (rc)
		return rc;
	if (keys_rotate(app.core, &sys, &err) != RS_OK)
		rc = keys_fail("keys rotate", &err);
	else
		rc = keys_print(&app, false);
	app_close(&app);
	return rc;
}

int app_keys(int argc, char **argv)
{
	struct config cfg;
	struct app app;
	int rc;

	if (argc < 1)
		return keys_usage(stderr);
	if (strcmp(argv[0], "rotate") == 0) {
		/* An SQLite path that names no database would be created empty: refuse it. */
		if (config_load(&cfg, argc - 1, argv + 1, NULL, &(struct rs_err){0}) == RS_OK &&
		    !config_db_is_url(cfg.db) && access(cfg.db, F_OK) != 0) {
			fprintf(stderr,
				"roster: keys rotate: no database at %s (roster init makes one)\n",
				cfg.db);
			return 1;
		}
		return keys_rotate_cmd(argc - 1, argv + 1);
	}
	if (strcmp(argv[0], "list") == 0) {
		rc = app_open(&cfg, argc - 1, argv + 1, false, &app);
		if (rc)
			return rc;
		rc = keys_print(&app, true);
		app_close(&app);
		return rc;
	}
	if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "help") == 0) {
		keys_usage(stdout);
		return 0;
	}
	return keys_usage(stderr);
}
