/* The server-side commands: the one place that wires config, store, core and HTTP together.
 * Each returns the process exit code. argv holds the flags after the command. */
#ifndef ROSTER_APP_APP_H
#define ROSTER_APP_APP_H

#include <stdbool.h>

int app_serve(int argc, char **argv);
int app_init(int argc, char **argv);
int app_migrate(int argc, char **argv);
int app_backup(int argc, char **argv);
int app_audit_verify(int argc, char **argv);
int app_export(int argc, char **argv);
int app_import(int argc, char **argv);
/* roster keys rotate|list [--db …]: the JWT signing keys (app/keys.c). */
int app_keys(int argc, char **argv);

struct app;
/* First-start bootstrap; prints the one-time credential; makes the first JWT signing key if
 * there is none (keys_ensure). Returns an exit code. */
int app_bootstrap(struct app *app, const char *db);

/* Shared by the commands: loads config, key and store, and builds the core. */
struct config;
struct store;
struct core;
struct app {
	struct store *store;
	struct core *core;
};
int app_open(struct config *cfg, int argc, char **argv, bool create, struct app *out);
/* APP_READ: the store read-only, the key file optional (app_open, create false); APP_WRITE:
 * an existing key file and store, writable (a command that must never make a new server key,
 * which would seal with a key no node has); APP_CREATE: app_open, create true. */
enum app_mode { APP_READ, APP_WRITE, APP_CREATE };
int app_open_mode(struct config *cfg, int argc, char **argv, enum app_mode mode, struct app *out);
void app_close(struct app *app);

#endif
