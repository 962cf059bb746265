/* The schema's tables and columns, engine-neutral, for export and import: a deployment moves
 * from one engine to another (SQLite to PostgreSQL) row for row, ids and audit hashes intact.
 * The SQL here is plain enough to mean the same on every engine. */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#define COLS(...)                                                                                  \
	((const char *const[]){__VA_ARGS__}),                                                      \
	    (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)), 1
#define COLS2(...)                                                                                 \
	((const char *const[]){__VA_ARGS__}),                                                      \
	    (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)), 2
#define COLS5(...)                                                                                 \
	((const char *const[]){__VA_ARGS__}),                                                      \
	    (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)), 5
#define COLS6(...)                                                                                 \
	((const char *const[]){__VA_ARGS__}),                                                      \
	    (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)), 6
#define COLS7(...)                                                                                 \
	((const char *const[]){__VA_ARGS__}),                                                      \
	    (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)), 7
#define COLS3(...)                                                                                 \
	((const char *const[]){__VA_ARGS__}),                                                      \
	    (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)), 3

#define COLS10(...)                                                                                \
	((const char *const[]){__VA_ARGS__}),                                                      \
	    (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)), 10

/* Sessions, refresh tokens and seen signatures are not moved: a deployment that changes
 * engines signs everyone out, which is what an operator expects of a migration. */
#define COLS9(...)                                                                                 \
	((const char *const[]){__VA_ARGS__}),                                                      \
	    (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)), 9
#define COLS11(...)                                                                                \
	((const char *const[]){__VA_ARGS__}),                                                      \
	    (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)), 11

static const struct store_table tables[] = {
    {"tenants", COLS("id", "slug", "name", "template", "status", "settings", "audit_seq",
		     "audit_head", "created_at", "updated_at", "deleted_at", "version")},
    {"roles",
     COLS("tenant_id", "id", "name", "name_key", "scope", "rank", "permissions", "description",
	  "builtin", "is_default", "created_at", "updated_at", "version", "department_id")},
    {"users",
     COLS("tenant_id", "id", "username", "username_key", "email", "email_key", "first_name",
	  "first_name_key", "last_name", "last_name_key", "type", "status", "system_role_id",
	  "department_id", "locale", "timezone", "description", "external_id", "custom_attributes",
	  "required_actions", "locked", "idle_logout_minutes", "summary_mail_time",
	  "security_profile", "created_at", "updated_at", "last_login_at", "last_activity_at",
	  "deleted_at", "version", "status_reason", "suspended_until", "deletion_task_id",
	  "deleted_by", "username_hash", "failed_logins", "last_failed_login_at")},
    {"user_roles", COLS("tenant_id", "user_id", "role_id")},
    {"groups", COLS("tenant_id", "id", "name", "name_key", "description", "created_at",
		    "updated_at", "version", "external_id")},
    {"group_members", COLS("tenant_id", "group_id", "user_id", "added_at")},
    {"api_tokens", COLS("tenant_id", "id", "lookup", "secret_hash", "user_id", "name", "role_id",
			"created_by", "created_at", "expires_at", "last_used_at", "revoked_at")},
    {"audit_events",
     COLS("tenant_id", "seq", "id", "at", "actor_type", "actor_id", "actor_name", "action",
	  "target_type", "target_id", "changes", "request_id", "source_ip", "prev_hash", "hash")},
    {"jobs",
     COLS2("id", "tenant_id", "kind", "payload", "status", "run_at", "lease_owner", "lease_until",
	   "attempts", "progress", "last_error", "created_at", "updated_at")},
    {"timers", COLS2("name", "next_run")},
    {"seat_limits", COLS5("tenant_id", "type", "max_seats")},
    {"webhooks", COLS3("tenant_id", "id", "url", "events", "description", "secret_enc", "active",
		       "created_at", "updated_at", "version")},
    {"webhook_deliveries",
     COLS3("tenant_id", "webhook_id", "id", "job_id", "event_id", "event_type", "attempt",
	   "status_code", "duration_ms", "error", "at")},
    {"email_templates",
     COLS3("tenant_id", "name", "subject", "text_body", "html_body", "updated_at")},
    {"invitations", COLS6("tenant_id", "id", "user_id", "email", "status", "token_lookup",
			  "token_hash", "message", "created_by", "expires_at", "created_at",
			  "resent_at", "accepted_at", "revoked_at", "updated_at")},
    {"credentials",
     COLS6("tenant_id", "user_id", "kind", "secret_hash", "created_at", "updated_at")},
    {"owned_resources", COLS7("tenant_id", "id", "owner_id", "kind", "external_id", "name",
			      "created_at", "updated_at")},
    {"login_failures",
     COLS10("tenant_id", "user_id", "id", "at", "source_ip", "user_agent", "reason")},
    {"password_history", COLS10("tenant_id", "user_id", "at", "secret_hash")},
    {"api_credentials", COLS10("tenant_id", "id", "user_id", "salt", "secret_hash", "created_at",
			       "expires_at", "disabled", "last_used_at")},
    {"departments", COLS9("tenant_id", "id", "name", "name_key", "parent_id", "description",
			  "created_at", "updated_at", "version")},
    {"department_managers", COLS9("tenant_id", "department_id", "user_id", "added_at")},
    {"signing_keys",
     COLS11("kid", "alg", "status", "private_enc", "public_jwk", "created_at", "rotated_at")},
};

const struct store_table *store_tables(int *n)
{
	*n = (int)(sizeof(tables) / sizeof(tables[0]));
	return tables;
}

/* Joins the columns with sep, each wrapped as fmt ("%s" or "?%d"). */
static bool join(char *buf, size_t cap, const struct store_table *t, bool placeholders)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < t->ncolumns; i++) {
		int n = placeholders
			    ? snprintf(buf + len, cap - len, "%s?%d", i ? ", " : "", i + 1)
			    : snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", t->columns[i]);

		if (n < 0 || (size_t)n >= cap - len)
			return false;
		len += (size_t)n;
	}
	return true;
}

enum rs_status store_dump(struct store_tx *tx, const struct store_table *t,
			  struct store_rows **rows, struct rs_err *err)
{
	char cols[1024], sql[1400];

	if (!join(cols, sizeof(cols), t, false))
		return rs_fail(err, RS_E_INTERNAL, "store.bad_table", NULL, "table too wide");
	/* The first column(s) lead the primary key on every table: a stable order. */
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY %s, %s", cols, t->name,
		 t->columns[0], t->ncolumns > 1 ? t->columns[1] : t->columns[0]);
	return tx->ops->raw(tx, sql, NULL, 0, rows, err);
}

enum rs_status store_load(struct store_tx *tx, const struct store_table *t,
			  const struct store_val *vals, struct rs_err *err)
{
	char cols[1024], ph[512], sql[1700];

	if (!join(cols, sizeof(cols), t, false) || !join(ph, sizeof(ph), t, true))
		return rs_fail(err, RS_E_INTERNAL, "store.bad_table", NULL, "table too wide");
	snprintf(sql, sizeof(sql), "INSERT INTO %s (%s) VALUES (%s)", t->name, cols, ph);
	return tx->ops->raw(tx, sql, vals, t->ncolumns, NULL, err);
}
