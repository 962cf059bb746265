/* Test fixture for the core unit tests: a fresh SQLite store in a private temp directory, a
 * struct core with a pinned clock and a fixed key, bootstrapped, plus the platform actor
 * resolved from the bootstrap token. Helpers create tenants, users and token actors through
 * the public core API (so every helper also exercises it), and reach the database file
 * directly with sqlite3 for the tamper tests.
 *
 * Every helper fails the running cmocka test on error: callers need no error handling. */
#ifndef ROSTER_TESTS_UNIT_CORE_FIXTURE_H
#define ROSTER_TESTS_UNIT_CORE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core_int.h"

/* A ROSTER-format bootstrap token: "rst_" + 16 hex + "_" + 43 base64url chars. */
#define FX_BOOT_TOKEN                                                                              \
	"rst_0123456789abcdef_"                                                                    \
	"AAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjj-_0"
#define FX_T0 1767225600000LL /* 2026-01-01T00:00:00Z, the clock's start */

struct fx {
	char dir[256];
	char db[320];
	struct store *store;
	struct core *core;
	int64_t now; /* the pinned clock, in ms; change it freely */
	unsigned char key[CORE_KEY_LEN];
	struct actor platform; /* the maintenance account's bootstrap token */
	char sys_tenant[UUID_STR_LEN];
	struct arena a; /* for everything the helpers return; released by fx_close */
};

/* Opens a fresh fixture, or NULL (after printing why). */
struct fx *fx_open(void);
void fx_close(struct fx *f);

/* cmocka setup/teardown that put a fresh fixture in *state. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* Makes a core that has no store (cursor and token-hash functions need only the key). */
struct core *fx_core_nostore(const unsigned char key[CORE_KEY_LEN]);

/* Creates a tenant from a template (NULL = default) as the platform actor; returns its id. */
const char *fx_tenant(struct fx *f, const char *slug, const char *template_name);

/* Creates a user as the platform actor with the given system role (NULL = the template's
 * default) and tenant roles (NULL-terminated list, or NULL); returns its id. */
const char *fx_user(struct fx *f, const char *tenant, const char *username, const char *system_role,
		    const char *const *roles);

/* Creates an API token for user_id (as the platform actor) with role (NULL = acts as its
 * owner); returns the secret, and the token id in *token_id when not NULL. */
const char *fx_token(struct fx *f, const char *tenant, const char *user_id, const char *role,
		     const char **token_id);

/* An actor for user_id: a fresh token (role as in fx_token) resolved with auth_bearer. */
void fx_actor(struct fx *f, const char *tenant, const char *user_id, const char *role,
	      struct actor *out);

/* Shorthand: a user with system_role and tenant roles, and an actor for it. */
const char *fx_user_actor(struct fx *f, const char *tenant, const char *username,
			  const char *system_role, const char *const *roles, struct actor *out);

/* users_delete, then the job runner's work until none is left: the deletion task is done (or
 * failed) when this returns. The request's own outcome is returned. */
enum rs_status fx_delete(struct fx *f, const struct actor *who, const char *tenant, const char *id,
			 int64_t if_match, struct rs_err *err);
/* Runs every due job, as one node's runner would. */
void fx_run_jobs(struct fx *f);

/* Whether the fixture's store is PostgreSQL (ROSTER_TEST_PG), not SQLite. */
bool fx_is_pg(const struct fx *f);
/* Runs SQL on the database directly (another connection), as a tamperer would: on
 * PostgreSQL with the triggers off (session_replication_role = replica). */
void fx_sql(struct fx *f, const char *sql);
/* As fx_sql(), with the database's triggers on, as a writer of the schema's own would run it.
 * One statement is one transaction (on PostgreSQL, so is one call). */
void fx_sql_live(struct fx *f, const char *sql);
/* The first column of the first row of a query, as an integer. */
int64_t fx_sql_int(struct fx *f, const char *sql);

/* Asserts an outcome: fx_expect(call, &err, want_status, want_code); the code is checked
 * when the status is not RS_OK. Variadic so that "status, code" can come from one macro. */
#define fx_expect(st, err, ...) fx_expect_at((st), (err), __VA_ARGS__, __FILE__, __LINE__, NULL)
void fx_expect_at(enum rs_status st, const struct rs_err *err, enum rs_status want_st,
		  const char *want_code, const char *file, int line, const char *what);

#endif
