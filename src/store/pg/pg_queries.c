/* PostgreSQL text of every named query in store/queries.h: the SQLite text with $n
 * parameters, ON CONFLICT DO NOTHING for INSERT OR IGNORE, explicit ::text where a parameter
 * is only tested for NULL (its type could not be inferred), and FOR UPDATE on the two queries
 * that take the tenant's row lock. Column lists must follow the row layouts of queries.h. */
#include "store/pg/pg_int.h"

#include <stdlib.h>
#include <string.h>

#define TENANT_COLS "id, slug, name, template, status, settings, created_at, updated_at, version"
#define ROLE_COLS                                                                                  \
	"tenant_id, id, name, scope, rank, permissions, description, builtin, is_default, "        \
	"created_at, updated_at, version, department_id"
#define USER_COLS                                                                                  \
	"tenant_id, id, username, email, first_name, last_name, type, status, system_role_id, "    \
	"department_id, locale, timezone, description, external_id, custom_attributes, "           \
	"required_actions, locked, idle_logout_minutes, summary_mail_time, security_profile, "     \
	"created_at, updated_at, last_login_at, last_activity_at, version, status_reason, "        \
	"suspended_until, CASE WHEN users.department_id IS NOT NULL THEN (SELECT d.name FROM "     \
	"departments d WHERE d.tenant_id = users.tenant_id AND d.id = users.department_id) END, "  \
	"deletion_task_id, failed_logins, last_failed_login_at, manager_id, CASE WHEN "            \
	"users.manager_id IS NOT NULL THEN (SELECT m.username FROM users m WHERE m.tenant_id = "   \
	"users.tenant_id AND m.id = users.manager_id AND m.status <> 'deleted') END"
#define SESSION_COLS                                                                               \
	"tenant_id, id, user_id, lookup, secret_hash, csrf_hash, source_ip, user_agent, "          \
	"created_at, "                                                                             \
	"last_seen_at, idle_timeout_ms, expires_at, revoked_at, revoked_reason"
#define DEPT_COLS                                                                                  \
	"d.tenant_id, d.id, d.name, d.parent_id, d.description, d.created_at, d.updated_at, "      \
	"d.version, (SELECT count(*) FROM users u WHERE u.tenant_id = d.tenant_id AND "            \
	"u.department_id = d.id AND u.status <> 'deleted'), (SELECT count(*) FROM departments c "  \
	"WHERE c.tenant_id = d.tenant_id AND c.parent_id = d.id)"
#define GROUP_COLS                                                                                 \
	"g.tenant_id, g.id, g.name, g.description, g.created_at, g.updated_at, g.version, "        \
	"(SELECT count(*) FROM group_members m WHERE m.tenant_id = g.tenant_id AND "               \
	"m.group_id = g.id), g.external_id"
#define API_CRED_COLS                                                                              \
	"tenant_id, id, user_id, salt, secret_hash, created_at, expires_at, disabled, "            \
	"last_used_at"
#define TOKEN_COLS                                                                                 \
	"tenant_id, id, lookup, secret_hash, user_id, name, role_id, created_by, created_at, "     \
	"expires_at, last_used_at, revoked_at"
#define JOB_COLS                                                                                   \
	"id, tenant_id, kind, payload, status, run_at, lease_owner, lease_until, attempts, "       \
	"progress, last_error, created_at, updated_at"
#define WEBHOOK_COLS                                                                               \
	"tenant_id, id, url, events, description, secret_enc, active, created_at, updated_at, "    \
	"version"
#define DELIVERY_COLS                                                                              \
	"tenant_id, webhook_id, id, job_id, event_id, event_type, attempt, status_code, "          \
	"duration_ms, error, at"
#define INVITATION_COLS                                                                            \
	"tenant_id, id, user_id, email, status, token_lookup, token_hash, message, created_by, "   \
	"expires_at, created_at, resent_at, accepted_at, revoked_at, updated_at"
#define RESOURCE_COLS "tenant_id, id, owner_id, kind, external_id, name, created_at, updated_at"
#define SIGNING_KEY_COLS "kid, alg, status, private_enc, public_jwk, created_at, rotated_at"
#define AUDIT_COLS                                                                                 \
	"tenant_id, seq, id, at, actor_type, actor_id, actor_name, action, target_type, "          \
	"target_id, changes, request_id, source_ip, prev_hash, hash"

static const char *const pg_sql[Q__COUNT] = {
    [Q_TENANT_INSERT] = "INSERT INTO tenants (id, slug, name, template, created_at, updated_at) "
			"VALUES ($1, $2, $3, $4, $5, $5)",
    [Q_TENANT_GET_ID] = "SELECT " TENANT_COLS " FROM tenants WHERE id = $1 AND status <> 'deleted'",
    [Q_TENANT_GET_SLUG] =
	"SELECT " TENANT_COLS " FROM tenants WHERE slug = $1 AND status <> 'deleted'",
    [Q_TENANT_LIST] = "SELECT " TENANT_COLS " FROM tenants WHERE status <> 'deleted' AND "
		      "($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2",
    [Q_TENANT_UPDATE] = "UPDATE tenants SET name = $2, settings = $3, updated_at = $4, "
			"version = version + 1 WHERE id = $1 AND version = $5 AND "
			"status <> 'deleted'",
    [Q_TENANT_DELETE] = "UPDATE tenants SET status = 'deleted', deleted_at = $2, "
			"updated_at = $2, version = version + 1 WHERE id = $1",
    /* FOR UPDATE: the chain head is read to be extended; the row lock orders appends. */
    [Q_TENANT_AUDIT_HEAD] = "SELECT audit_seq, audit_head FROM tenants WHERE id = $1 FOR UPDATE",
    [Q_TENANT_USERS_GEN] = "SELECT users_gen FROM tenants WHERE id = $1",
    [Q_TENANT_AUDIT_SET] = "UPDATE tenants SET audit_seq = $2, audit_head = $3 WHERE id = $1",
    [Q_TENANT_LIST_ALL] = "SELECT id, slug, status FROM tenants ORDER BY id",
    /* The tenant row lock serialises that tenant's writers until COMMIT (READ COMMITTED:
     * every statement after it sees what the previous writer committed). */
    [Q_TENANT_LOCK] = "SELECT id FROM tenants WHERE id = $1 FOR UPDATE",

    [Q_ROLE_INSERT] =
	"INSERT INTO roles (tenant_id, id, name, name_key, scope, rank, "
	"permissions, description, builtin, is_default, created_at, updated_at, "
	"department_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)",
    [Q_ROLE_GET] = "SELECT " ROLE_COLS " FROM roles WHERE tenant_id = $1 AND id = $2",
    [Q_ROLE_GET_NAME] = "SELECT " ROLE_COLS " FROM roles WHERE tenant_id = $1 AND name_key = $2",
    [Q_ROLE_LIST] = "SELECT " ROLE_COLS " FROM roles WHERE tenant_id = $1 "
		    "ORDER BY rank DESC, name_key",
    [Q_ROLE_UPDATE] =
	"UPDATE roles SET name = $3, name_key = $4, rank = $5, permissions = $6, "
	"description = $7, updated_at = $8, department_id = $9, version = version + 1 "
	"WHERE tenant_id = $1 AND id = $2",
    [Q_ROLE_DELETE] = "DELETE FROM roles WHERE tenant_id = $1 AND id = $2",
    [Q_ROLE_USES] =
	"SELECT (SELECT count(*) FROM users WHERE tenant_id = $1 AND system_role_id = $2 "
	"AND status <> 'deleted') + (SELECT count(*) FROM user_roles ur JOIN users u ON "
	"u.tenant_id = ur.tenant_id AND u.id = ur.user_id WHERE ur.tenant_id = $1 AND "
	"ur.role_id = $2 AND u.status <> 'deleted') + (SELECT count(*) FROM api_tokens "
	"WHERE tenant_id = $1 AND role_id = $2 AND revoked_at IS NULL)",
    [Q_ROLE_DEFAULT] = "SELECT " ROLE_COLS " FROM roles WHERE tenant_id = $1 AND "
		       "is_default = 1 LIMIT 1",

    [Q_USER_INSERT] =
	"INSERT INTO users (tenant_id, id, username, username_key, email, email_key, "
	"first_name, first_name_key, last_name, last_name_key, type, status, "
	"system_role_id, department_id, locale, timezone, description, external_id, "
	"custom_attributes, required_actions, idle_logout_minutes, summary_mail_time, "
	"security_profile, created_at, updated_at, manager_id) VALUES ($1, $2, $3, $4, $5, $6, $7, "
	"$8, "
	"$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $24, $25)",
    [Q_USER_GET] = "SELECT " USER_COLS " FROM users WHERE tenant_id = $1 AND id = $2 AND "
		   "status <> 'deleted'",
    [Q_USER_UPDATE] =
	"UPDATE users SET username = $3, username_key = $4, email = $5, email_key = $6, "
	"first_name = $7, first_name_key = $8, last_name = $9, last_name_key = $10, "
	"type = $11, status = $12, system_role_id = $13, department_id = $14, locale = $15, "
	"timezone = $16, description = $17, external_id = $18, custom_attributes = $19, "
	"required_actions = $20, idle_logout_minutes = $21, summary_mail_time = $22, "
	"security_profile = $23, updated_at = $24, manager_id = $25, version = version + 1 "
	"WHERE tenant_id = $1 AND id = $2 AND status <> 'deleted'",
    [Q_USER_DELETE] =
	"UPDATE users SET status = 'deleted', deleted_at = $3, updated_at = $3, "
	"deleted_by = $4, username_hash = $5, username = '', username_key = '', department_id = "
	"NULL, email = "
	"NULL, email_key = NULL, first_name = NULL, first_name_key = NULL, last_name = "
	"NULL, last_name_key = NULL, description = NULL, external_id = NULL, "
	"custom_attributes = '{}', locale = NULL, timezone = NULL, summary_mail_time = "
	"NULL, security_profile = NULL, status_reason = NULL, required_actions = '', "
	"suspended_until = NULL, manager_id = NULL, version = version + 1 WHERE tenant_id = $1 AND "
	"id = $2 "
	"AND status <> 'deleted'",
    [Q_USER_REPORTS_UNLINK] =
	"UPDATE users SET manager_id = NULL, updated_at = $3, version = version + 1 "
	"WHERE tenant_id = $1 AND manager_id = $2 AND status <> 'deleted'",
    [Q_USER_MARK_DELETING] =
	"UPDATE users SET status = 'deleting', deletion_task_id = $3, updated_at = $4, "
	"version = version + 1 WHERE tenant_id = $1 AND id = $2 AND version = $5 AND "
	"status <> 'deleted'",
    [Q_CREDENTIALS_CLEAR] = "DELETE FROM credentials WHERE tenant_id = $1 AND user_id = $2",
    [Q_INVITATIONS_REVOKE_USER] =
	"UPDATE invitations SET status = 'revoked', token_lookup = NULL, token_hash = NULL, "
	"revoked_at = $3, updated_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND "
	"status = 'pending'",
    [Q_USER_ROLES] =
	"SELECT r.tenant_id, r.id, r.name, r.scope, r.rank, r.permissions, "
	"r.description, r.builtin, r.is_default, r.created_at, r.updated_at, "
	"r.version, r.department_id FROM user_roles ur JOIN roles r ON r.tenant_id = ur.tenant_id "
	"AND r.id = ur.role_id WHERE ur.tenant_id = $1 AND ur.user_id = $2 "
	"ORDER BY r.rank DESC, r.name_key",
    [Q_USER_ROLES_CLEAR] = "DELETE FROM user_roles WHERE tenant_id = $1 AND user_id = $2",
    [Q_USER_ROLE_ADD] = "INSERT INTO user_roles (tenant_id, user_id, role_id) "
			"VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    /* One query per page of users instead of two per user (users_list renders 1000). */
    [Q_USERS_ROLES_PAGE] =
	"SELECT r.tenant_id, r.id, r.name, r.scope, r.rank, r.permissions, "
	"r.description, r.builtin, r.is_default, r.created_at, r.updated_at, "
	"r.version, r.department_id, ur.user_id FROM user_roles ur JOIN roles r ON r.tenant_id = "
	"ur.tenant_id AND r.id = ur.role_id WHERE ur.tenant_id = $1 AND ur.user_id IN (SELECT "
	"json_array_elements_text($2::json)) ORDER BY ur.user_id, r.rank DESC, r.name_key",
    [Q_USERS_GROUPS_PAGE] =
	"SELECT g.id, g.name, m.user_id FROM group_members m JOIN groups g ON g.tenant_id = "
	"m.tenant_id AND g.id = m.group_id WHERE m.tenant_id = $1 AND m.user_id IN (SELECT "
	"json_array_elements_text($2::json)) ORDER BY m.user_id, g.name_key",
    /* A page in id order is one range of the (tenant, user) indexes, read in order. */
    [Q_USERS_ROLES_RANGE] =
	"SELECT r.tenant_id, r.id, r.name, r.scope, r.rank, r.permissions, "
	"r.description, r.builtin, r.is_default, r.created_at, r.updated_at, "
	"r.version, r.department_id, ur.user_id FROM user_roles ur JOIN roles r ON r.tenant_id = "
	"ur.tenant_id AND r.id = ur.role_id WHERE ur.tenant_id = $1 AND ur.user_id >= $2 AND "
	"ur.user_id <= $3 ORDER BY ur.user_id, r.rank DESC, r.name_key",
    [Q_USERS_GROUPS_RANGE] =
	"SELECT g.id, g.name, m.user_id FROM group_members m JOIN groups g ON g.tenant_id = "
	"m.tenant_id AND g.id = m.group_id WHERE m.tenant_id = $1 AND m.user_id >= $2 AND "
	"m.user_id <= $3 ORDER BY m.user_id, g.name_key",
    [Q_USER_GROUPS] = "SELECT g.id, g.name FROM group_members m JOIN groups g ON "
		      "g.tenant_id = m.tenant_id AND g.id = m.group_id WHERE m.tenant_id = $1 "
		      "AND m.user_id = $2 ORDER BY g.name_key",
    [Q_USER_GROUPS_CLEAR] = "DELETE FROM group_members WHERE tenant_id = $1 AND user_id = $2",
    [Q_USER_TOUCH] = "UPDATE users SET last_activity_at = $3 WHERE tenant_id = $1 AND id = $2",
    [Q_USERS_UNUSED] = "SELECT " USER_COLS " FROM users WHERE tenant_id = $1 AND "
		       "status = 'active' AND created_at < $2 AND coalesce(last_login_at, 0) < $2 "
		       "AND coalesce(last_activity_at, 0) < $2 AND ($3::text IS NULL OR id > $3) "
		       "ORDER BY id LIMIT $4",
    [Q_SEAT_LIMITS] = "SELECT type, max_seats FROM seat_limits WHERE tenant_id = $1 ORDER BY type",
    [Q_SEAT_LIMIT_SET] =
	"INSERT INTO seat_limits (tenant_id, type, max_seats) VALUES ($1, $2, $3) "
	"ON CONFLICT (tenant_id, type) DO UPDATE SET max_seats = excluded.max_seats",
    [Q_SEAT_LIMIT_DELETE] = "DELETE FROM seat_limits WHERE tenant_id = $1 AND type = $2",
    [Q_SEATS_USED] = "SELECT type, count(*) FROM users WHERE tenant_id = $1 AND status IN "
		     "('active', 'invited', 'suspended', 'deleting') GROUP BY type ORDER BY type",
    [Q_USER_SET_STATUS] = "UPDATE users SET status = $3, status_reason = $4, suspended_until = $5, "
			  "updated_at = $6, version = version + 1 WHERE tenant_id = $1 AND "
			  "id = $2 AND version = $7 AND status <> 'deleted'",
    [Q_USER_BY_USERNAME] = "SELECT " USER_COLS " FROM users WHERE tenant_id = $1 AND "
			   "username_key = $2 AND status <> 'deleted'",

    [Q_GROUP_INSERT] = "INSERT INTO groups (tenant_id, id, name, name_key, description, "
		       "created_at, updated_at, external_id) VALUES ($1, $2, $3, $4, $5, "
		       "$6, $6, $7)",
    [Q_GROUP_GET] = "SELECT " GROUP_COLS " FROM groups g WHERE g.tenant_id = $1 AND g.id = $2",
    [Q_GROUP_GET_NAME] =
	"SELECT " GROUP_COLS " FROM groups g WHERE g.tenant_id = $1 AND g.name_key = $2",
    [Q_GROUP_LIST] = "SELECT " GROUP_COLS " FROM groups g WHERE g.tenant_id = $1 AND "
		     "($2::text IS NULL OR g.id > $2) ORDER BY g.id LIMIT $3",
    [Q_GROUP_UPDATE] = "UPDATE groups SET name = $3, name_key = $4, description = $5, "
		       "updated_at = $6, external_id = $7, version = version + 1 WHERE "
		       "tenant_id = $1 AND id = $2",
    [Q_GROUP_TOUCH] = "UPDATE groups SET updated_at = $3, version = version + 1 WHERE "
		      "tenant_id = $1 AND id = $2",
    [Q_GROUP_DELETE] = "DELETE FROM groups WHERE tenant_id = $1 AND id = $2",
    [Q_GROUP_MEMBERS_CLEAR] = "DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2",
    [Q_GROUP_MEMBER_ADD] = "INSERT INTO group_members (tenant_id, group_id, user_id, "
			   "added_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    [Q_GROUP_MEMBER_REMOVE] =
	"DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND user_id = $3",
    [Q_GROUP_MEMBERS] = "SELECT u.id, u.username FROM group_members m JOIN users u ON "
			"u.tenant_id = m.tenant_id AND u.id = m.user_id WHERE m.tenant_id = $1 "
			"AND m.group_id = $2 AND u.status <> 'deleted' AND ($3::text IS NULL OR "
			"m.user_id > $3) ORDER BY m.user_id LIMIT $4",

    [Q_TOKEN_INSERT] = "INSERT INTO api_tokens (tenant_id, id, lookup, secret_hash, user_id, "
		       "name, role_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, "
		       "$4, $5, $6, $7, $8, $9, $10)",
    [Q_TOKEN_BY_LOOKUP] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE lookup = $1",
    [Q_TOKEN_GET] = "SELECT " TOKEN_COLS " FROM api_tokens WHERE tenant_id = $1 AND id = $2",
    [Q_TOKEN_LIST] =
	"SELECT " TOKEN_COLS " FROM api_tokens WHERE tenant_id = $1 AND "
	"($2::text IS NULL OR user_id = $2) AND ($3::text IS NULL OR id > $3) ORDER BY id "
	"LIMIT $4",
    [Q_TOKEN_REVOKE] = "UPDATE api_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 "
		       "AND revoked_at IS NULL",
    [Q_TOKEN_REVOKE_USER] = "UPDATE api_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND "
			    "user_id = $2 AND revoked_at IS NULL",
    [Q_TOKEN_REVOKE_TENANT] =
	"UPDATE api_tokens SET revoked_at = $2 WHERE tenant_id = $1 AND revoked_at IS NULL",
    [Q_TOKEN_TOUCH] = "UPDATE api_tokens SET last_used_at = $3 WHERE tenant_id = $1 AND id = $2",

    [Q_AUDIT_INSERT] = "INSERT INTO audit_events (" AUDIT_COLS ") VALUES ($1, $2, $3, $4, $5, "
		       "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    [Q_AUDIT_CHAIN] = "SELECT " AUDIT_COLS " FROM audit_events WHERE tenant_id = $1 ORDER BY seq",

    [Q_JOB_INSERT] = "INSERT INTO jobs (id, tenant_id, kind, payload, status, run_at, "
		     "created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $6, $6)",
    /* Many writers at once: FOR UPDATE SKIP LOCKED hands each claimer a different due
     * job, or none, without waiting on the others' picks; under READ COMMITTED a row
     * changed meanwhile is re-checked against the WHERE before it is locked. */
    [Q_JOB_CLAIM] = "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $3, "
		    "attempts = attempts + 1, updated_at = $2 WHERE id = (SELECT id FROM jobs "
		    "WHERE (status = 'queued' AND run_at <= $2) OR (status = 'running' AND "
		    "lease_until < $2) ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
		    "RETURNING " JOB_COLS,
    [Q_JOB_HEARTBEAT] = "UPDATE jobs SET lease_until = $3, progress = $4, updated_at = $5 "
			"WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
    [Q_JOB_FINISH] = "UPDATE jobs SET status = $3, last_error = $4, run_at = $5, "
		     "lease_owner = NULL, lease_until = NULL, updated_at = $6 WHERE id = $1 AND "
		     "lease_owner = $2 AND status = 'running'",
    [Q_JOB_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = $1",
    [Q_JOB_ACTIVE] = "SELECT count(*) FROM jobs WHERE kind = $1 AND status IN ('queued', "
		     "'running')",
    [Q_TIMER_ENSURE] = "INSERT INTO timers (name, next_run) VALUES ($1, $2) "
		       "ON CONFLICT DO NOTHING",
    /* Concurrent nodes: the second UPDATE waits for the first's row lock, then re-checks
     * next_run <= $2 against the committed row and changes nothing. */
    [Q_TIMER_FIRE] = "UPDATE timers SET next_run = $3 WHERE name = $1 AND next_run <= $2",
    [Q_TOKEN_EXPIRED] = "SELECT id FROM api_tokens WHERE tenant_id = $1 AND expires_at IS NOT "
			"NULL AND expires_at <= $2 ORDER BY expires_at LIMIT $3",
    [Q_TOKEN_DELETE] = "DELETE FROM api_tokens WHERE tenant_id = $1 AND id = $2",
    [Q_OUTBOX_LIST] =
	"SELECT " JOB_COLS " FROM jobs WHERE tenant_id = $1 AND kind IN ('email', "
	"'webhook') AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind "
	"= $3) AND ($4::text IS NULL OR id < $4) ORDER BY id DESC LIMIT $5",
    [Q_TASK_GET] = "SELECT " JOB_COLS " FROM jobs WHERE tenant_id = $1 AND id = $2 AND kind = "
		   "'delete_user'",
    [Q_OUTBOX_GET] = "SELECT " JOB_COLS " FROM jobs WHERE tenant_id = $1 AND id = $2 AND kind IN "
		     "('email', 'webhook')",
    [Q_OUTBOX_RETRY] =
	"UPDATE jobs SET status = 'queued', attempts = 0, run_at = $3, lease_owner = "
	"NULL, lease_until = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2 AND "
	"kind IN ('email', 'webhook') AND status IN ('failed', 'queued')",
    [Q_WEBHOOK_INSERT] =
	"INSERT INTO webhooks (tenant_id, id, url, events, description, secret_enc, "
	"active, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, 1, "
	"$7, $7, 1)",
    [Q_WEBHOOK_GET] = "SELECT " WEBHOOK_COLS " FROM webhooks WHERE tenant_id = $1 AND id = $2",
    [Q_WEBHOOK_LIST] =
	"SELECT " WEBHOOK_COLS " FROM webhooks WHERE tenant_id = $1 AND ($2::text IS "
	"NULL OR id > $2) ORDER BY id LIMIT $3",
    [Q_WEBHOOK_ACTIVE] =
	"SELECT " WEBHOOK_COLS " FROM webhooks WHERE tenant_id = $1 AND active = 1 "
	"ORDER BY id",
    [Q_WEBHOOK_UPDATE] =
	"UPDATE webhooks SET url = $3, events = $4, description = $5, active = $6, "
	"updated_at = $7, version = version + 1 WHERE tenant_id = $1 AND id = $2",
    [Q_WEBHOOK_DELETE] = "DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2",
    [Q_WEBHOOK_DELIVERIES_CLEAR] =
	"DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND webhook_id = $2",
    [Q_DELIVERY_INSERT] =
	"INSERT INTO webhook_deliveries (tenant_id, webhook_id, id, job_id, event_id, "
	"event_type, attempt, status_code, duration_ms, error, at) VALUES ($1, $2, $3, "
	"$4, $5, $6, $7, $8, $9, $10, $11)",
    [Q_DELIVERY_LIST] =
	"SELECT " DELIVERY_COLS " FROM webhook_deliveries WHERE tenant_id = $1 AND "
	"webhook_id = $2 AND ($3::text IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
    [Q_EMAIL_TEMPLATE_GET] =
	"SELECT subject, text_body, html_body, updated_at FROM email_templates WHERE "
	"tenant_id = $1 AND name = $2",
    [Q_EMAIL_TEMPLATE_PUT] =
	"INSERT INTO email_templates (tenant_id, name, subject, text_body, html_body, "
	"updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, name) DO "
	"UPDATE SET subject = excluded.subject, text_body = excluded.text_body, "
	"html_body = excluded.html_body, updated_at = excluded.updated_at",
    [Q_EMAIL_TEMPLATE_DELETE] = "DELETE FROM email_templates WHERE tenant_id = $1 AND name = $2",

    [Q_INVITATION_INSERT] = "INSERT INTO invitations (tenant_id, id, user_id, email, status, "
			    "token_lookup, token_hash, message, created_by, expires_at, "
			    "created_at, updated_at) VALUES ($1, $2, $3, $4, 'pending', $5, $6, "
			    "$7, $8, $9, $10, $10)",
    [Q_INVITATION_GET] = "SELECT " INVITATION_COLS " FROM invitations WHERE tenant_id = $1 "
			 "AND id = $2",
    [Q_INVITATION_BY_LOOKUP] = "SELECT " INVITATION_COLS " FROM invitations WHERE "
			       "token_lookup = $1",
    [Q_INVITATION_LIST] =
	"SELECT " INVITATION_COLS " FROM invitations WHERE tenant_id = $1 AND ($2::text IS NULL "
	"OR ($2 = 'pending' AND status = 'pending' AND expires_at > $3) OR ($2 = 'expired' "
	"AND status = 'pending' AND expires_at <= $3) OR ($2 IN ('accepted', 'revoked') AND "
	"status = $2)) AND ($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5",
    [Q_INVITATION_RESEND] = "UPDATE invitations SET token_lookup = $3, token_hash = $4, "
			    "message = $5, expires_at = $6, resent_at = $7, updated_at = $7 "
			    "WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
    [Q_INVITATION_CLOSE] =
	"UPDATE invitations SET status = $3, token_lookup = NULL, token_hash = NULL, "
	"accepted_at = CASE WHEN $3::text = 'accepted' THEN $4 ELSE accepted_at END, "
	"revoked_at = CASE WHEN $3::text = 'revoked' THEN $4 ELSE revoked_at END, updated_at = $4 "
	"WHERE tenant_id = $1 AND id = $2 AND status = 'pending'",
    [Q_CREDENTIAL_PUT] = "INSERT INTO credentials (tenant_id, user_id, kind, secret_hash, "
			 "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT "
			 "(tenant_id, user_id, kind) DO UPDATE SET secret_hash = "
			 "excluded.secret_hash, updated_at = excluded.updated_at",
    [Q_USER_ACCEPT] = "UPDATE users SET status = 'active', status_reason = NULL, "
		      "first_name = $3, first_name_key = $4, last_name = $5, last_name_key = $6, "
		      "timezone = $7, updated_at = $8, version = version + 1 WHERE tenant_id = $1 "
		      "AND id = $2 AND version = $9 AND status = 'invited'",
    [Q_RESOURCE_INSERT] = "INSERT INTO owned_resources (tenant_id, id, owner_id, kind, "
			  "external_id, name, created_at, updated_at) VALUES ($1, $2, $3, "
			  "$4, $5, $6, $7, $7)",
    [Q_RESOURCE_GET] = "SELECT " RESOURCE_COLS " FROM owned_resources WHERE tenant_id = $1 "
		       "AND id = $2",
    [Q_RESOURCE_LIST] =
	"SELECT " RESOURCE_COLS " FROM owned_resources WHERE tenant_id = $1 "
	"AND ($2::text IS NULL OR owner_id = $2) AND ($3::text IS NULL OR kind = $3) AND "
	"($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5",
    [Q_RESOURCE_BY_OWNER] = "SELECT " RESOURCE_COLS " FROM owned_resources WHERE tenant_id = "
			    "$1 AND owner_id = $2 ORDER BY id",
    [Q_RESOURCE_UPDATE] = "UPDATE owned_resources SET owner_id = $3, name = $4, "
			  "updated_at = $5 WHERE tenant_id = $1 AND id = $2",
    [Q_RESOURCE_DELETE] = "DELETE FROM owned_resources WHERE tenant_id = $1 AND id = $2",
    [Q_SESSION_INSERT] =
	"INSERT INTO sessions (tenant_id, id, user_id, lookup, secret_hash, "
	"csrf_hash, source_ip, user_agent, created_at, last_seen_at, idle_timeout_ms, "
	"expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)",
    [Q_SESSION_BY_LOOKUP] = "SELECT " SESSION_COLS " FROM sessions WHERE lookup = $1",
    [Q_SESSION_GET] = "SELECT " SESSION_COLS " FROM sessions WHERE tenant_id = $1 AND id = $2",
    [Q_SESSION_LIST_USER] =
	"SELECT " SESSION_COLS " FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND "
	"revoked_at IS NULL AND expires_at > $3 ORDER BY created_at, id",
    [Q_SESSION_REVOKE] =
	"UPDATE sessions SET revoked_at = $3, revoked_reason = $4 WHERE tenant_id = "
	"$1 AND id = $2 AND revoked_at IS NULL",
    [Q_SESSION_REVOKE_USER] =
	"UPDATE sessions SET revoked_at = $3, revoked_reason = $4 WHERE tenant_id = "
	"$1 AND user_id = $2 AND revoked_at IS NULL AND ($5::text IS NULL OR id <> $5)",
    [Q_SESSION_TOUCH] =
	"UPDATE sessions SET last_seen_at = $3 WHERE tenant_id = $1 AND id = $2 AND "
	"revoked_at IS NULL",
    [Q_REFRESH_INSERT] = "INSERT INTO refresh_tokens (lookup, tenant_id, session_id, secret_hash, "
			 "created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    [Q_REFRESH_BY_LOOKUP] =
	"SELECT lookup, tenant_id, session_id, secret_hash, created_at, expires_at, "
	"used_at FROM refresh_tokens WHERE lookup = $1",
    [Q_REFRESH_USE] =
	"UPDATE refresh_tokens SET used_at = $2 WHERE lookup = $1 AND used_at IS NULL",
    [Q_LOGIN_FAILURE_INSERT] = "INSERT INTO login_failures (tenant_id, user_id, id, at, source_ip, "
			       "user_agent, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [Q_LOGIN_FAILURE_LIST] =
	"SELECT id, at, source_ip, user_agent, reason FROM login_failures WHERE "
	"tenant_id = $1 AND user_id = $2 AND ($3::text IS NULL OR id < $3) ORDER BY id DESC "
	"LIMIT $4",
    [Q_USER_LOGIN_FAILED] =
	"UPDATE users SET failed_logins = failed_logins + 1, last_failed_login_at = "
	"$3, locked = CASE WHEN $4 = 1 THEN 1 ELSE locked END WHERE tenant_id = $1 "
	"AND id = $2 AND status <> 'deleted'",
    [Q_USER_LOGIN_OK] =
	"UPDATE users SET failed_logins = 0, last_failed_login_at = NULL, "
	"last_login_at = $3, last_activity_at = $3 WHERE tenant_id = $1 AND id = $2",
    [Q_USER_UNLOCK] =
	"UPDATE users SET locked = 0, failed_logins = 0, last_failed_login_at = NULL, "
	"updated_at = $3, version = version + 1 WHERE tenant_id = $1 AND id = $2 AND "
	"status <> 'deleted'",
    [Q_USER_BY_EMAIL] =
	"SELECT " USER_COLS " FROM users WHERE tenant_id = $1 AND email_key = $2 AND "
	"status <> 'deleted' LIMIT 2",
    [Q_CREDENTIAL_GET] = "SELECT secret_hash, updated_at FROM credentials WHERE tenant_id = $1 AND "
			 "user_id = $2 AND kind = $3",
    [Q_PASSWORD_HISTORY_ADD] =
	"INSERT INTO password_history (tenant_id, user_id, at, secret_hash) VALUES "
	"($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    [Q_PASSWORD_HISTORY_LIST] =
	"SELECT secret_hash FROM password_history WHERE tenant_id = $1 AND user_id = "
	"$2 ORDER BY at DESC LIMIT $3",
    [Q_USER_SET_REQUIRED] =
	"UPDATE users SET required_actions = $3, updated_at = $4, version = version + "
	"1 WHERE tenant_id = $1 AND id = $2 AND status <> 'deleted'",

    [Q_DEPT_INSERT] = "INSERT INTO departments (tenant_id, id, name, name_key, parent_id, "
		      "description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
		      "$7)",
    [Q_DEPT_GET] = "SELECT " DEPT_COLS " FROM departments d WHERE d.tenant_id = $1 AND d.id = $2",
    [Q_DEPT_LIST] = "SELECT " DEPT_COLS " FROM departments d WHERE d.tenant_id = $1 AND "
		    "($2::text IS NULL OR d.parent_id = $2) AND ($3 = 0 OR d.parent_id IS NULL) "
		    "AND ($4::text IS NULL OR d.id > $4) ORDER BY d.id LIMIT $5",
    [Q_DEPT_UPDATE] = "UPDATE departments SET name = $3, name_key = $4, parent_id = $5, "
		      "description = $6, updated_at = $7, version = version + 1 WHERE "
		      "tenant_id = $1 AND id = $2 AND version = $8",
    [Q_DEPT_DELETE] = "DELETE FROM departments WHERE tenant_id = $1 AND id = $2",
    [Q_DEPT_COUNT] = "SELECT count(*) FROM departments WHERE tenant_id = $1",
    [Q_DEPT_BY_NAME] = "SELECT id FROM departments WHERE tenant_id = $1 AND name_key = $2 "
		       "ORDER BY id LIMIT 2",
    [Q_DEPT_ANCESTORS] =
	"WITH RECURSIVE up(id, name, parent_id, depth) AS (SELECT id, name, parent_id, 0 FROM "
	"departments WHERE tenant_id = $1 AND id = $2 UNION ALL SELECT d.id, d.name, "
	"d.parent_id, up.depth + 1 FROM departments d JOIN up ON d.id = up.parent_id WHERE "
	"d.tenant_id = $1 AND up.depth < 64) SELECT id, name, depth FROM up ORDER BY depth",
    [Q_DEPT_HEIGHT] =
	"WITH RECURSIVE down(id, depth) AS (SELECT id, 0 FROM departments WHERE tenant_id = $1 "
	"AND id = $2 UNION ALL SELECT d.id, down.depth + 1 FROM departments d JOIN down ON "
	"d.parent_id = down.id WHERE d.tenant_id = $1 AND down.depth < 64) SELECT "
	"coalesce(max(depth), 0), count(*) FROM down",
    [Q_DEPT_MOVE_USERS] = "UPDATE users SET department_id = $3, updated_at = $4, version = "
			  "version + 1 WHERE tenant_id = $1 AND department_id = $2",
    [Q_DEPT_MOVE_CHILDREN] = "UPDATE departments SET parent_id = $3, updated_at = $4, version = "
			     "version + 1 WHERE tenant_id = $1 AND parent_id = $2",
    [Q_DEPT_ROLE_USES] = "SELECT count(*) FROM roles WHERE tenant_id = $1 AND department_id = $2",
    [Q_DEPT_MANAGERS] =
	"SELECT u.id, u.username FROM department_managers m JOIN users u ON "
	"u.tenant_id = m.tenant_id AND u.id = m.user_id WHERE m.tenant_id = $1 "
	"AND m.department_id = $2 AND u.status <> 'deleted' ORDER BY u.username_key",
    [Q_DEPT_MANAGER_ADD] = "INSERT INTO department_managers (tenant_id, department_id, user_id, "
			   "added_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    [Q_DEPT_MANAGER_REMOVE] = "DELETE FROM department_managers WHERE tenant_id = $1 AND "
			      "department_id = $2 AND user_id = $3",
    [Q_DEPT_MANAGERS_CLEAR] =
	"DELETE FROM department_managers WHERE tenant_id = $1 AND department_id = $2",
    [Q_SIGNING_KEY_INSERT] = "INSERT INTO signing_keys (kid, alg, status, private_enc, "
			     "public_jwk, created_at) VALUES ($1, $2, 'current', $3, $4, $5)",
    [Q_SIGNING_KEYS_LIVE] = "SELECT " SIGNING_KEY_COLS " FROM signing_keys WHERE status IN "
			    "('current', 'previous') ORDER BY status = 'current' DESC",
    [Q_SIGNING_KEY_LIST] =
	"SELECT kid, alg, status, NULL::text, public_jwk, created_at, "
	"rotated_at FROM signing_keys ORDER BY CASE status WHEN 'current' THEN 0 "
	"WHEN 'previous' THEN 1 ELSE 2 END, created_at DESC, kid",
    [Q_SIGNING_KEY_RETIRE] = "UPDATE signing_keys SET status = 'retired', private_enc = NULL, "
			     "rotated_at = $1 WHERE status = 'previous'",
    [Q_SIGNING_KEY_DEMOTE] = "UPDATE signing_keys SET status = 'previous', rotated_at = $1 "
			     "WHERE status = 'current'",
    [Q_USER_LOGIN_STATE] = "SELECT locked, failed_logins, last_failed_login_at FROM users WHERE "
			   "tenant_id = $1 AND id = $2 AND status <> 'deleted'",
    [Q_API_CRED_INSERT] = "INSERT INTO api_credentials (tenant_id, id, user_id, salt, "
			  "secret_hash, created_at, expires_at, disabled) VALUES ($1, $2, $3, "
			  "$4, $5, $6, $7, $8)",
    [Q_API_CRED_GET] = "SELECT " API_CRED_COLS " FROM api_credentials WHERE tenant_id = $1 "
		       "AND id = $2",
    [Q_API_CRED_BY_ID] = "SELECT " API_CRED_COLS " FROM api_credentials WHERE id = $1",
    [Q_API_CRED_LIST_USER] = "SELECT " API_CRED_COLS " FROM api_credentials WHERE tenant_id = "
			     "$1 AND user_id = $2 ORDER BY created_at, id",
    [Q_API_CRED_ROTATE] = "UPDATE api_credentials SET salt = $3, secret_hash = $4, "
			  "expires_at = $5 WHERE tenant_id = $1 AND id = $2",
    [Q_API_CRED_SET_DISABLED] = "UPDATE api_credentials SET disabled = $3 WHERE tenant_id = "
				"$1 AND id = $2",
    [Q_API_CRED_DELETE] = "DELETE FROM api_credentials WHERE tenant_id = $1 AND id = $2",
    [Q_API_CRED_DELETE_USER] = "DELETE FROM api_credentials WHERE tenant_id = $1 AND user_id = $2",
    [Q_API_CRED_TOUCH] = "UPDATE api_credentials SET last_used_at = $3 WHERE tenant_id = $1 "
			 "AND id = $2",
    [Q_SIGNED_REQUEST_INSERT] = "INSERT INTO signed_requests (signature, at) VALUES ($1, $2)",
    [Q_SIGNED_REQUEST_PURGE] = "DELETE FROM signed_requests WHERE at < $1",
    [Q_DEPT_MANAGER_CLEAR_USER] =
	"DELETE FROM department_managers WHERE tenant_id = $1 AND user_id = $2",
};

/* Read transactions are READ ONLY, which refuses FOR UPDATE; audit verify reads the chain
 * head there. The read text is the same query without the lock. */
static const char *const pg_sql_read[Q__COUNT] = {
    [Q_TENANT_AUDIT_HEAD] = "SELECT audit_seq, audit_head FROM tenants WHERE id = $1",
    [Q_TENANT_LOCK] = "SELECT id FROM tenants WHERE id = $1",
};

const char *pg_query_sql(enum store_q q, bool locking)
{
	if ((unsigned)q >= Q__COUNT)
		return NULL;
	if (!locking && pg_sql_read[q])
		return pg_sql_read[q];
	return pg_sql[q];
}

/* The highest $n of a text; every query uses each of $1..$n. */
static int pg_count_params(const char *sql)
{
	int max = 0;

	for (const char *p = sql; (p = strchr(p, '$')) != NULL;) {
		char *end;
		long n = strtol(p + 1, &end, 10);

		if (end != p + 1 && n > max)
			max = (int)n;
		p = end != p + 1 ? end : p + 1;
	}
	return max;
}

static int pg_nparams[Q__COUNT];
static pthread_once_t pg_nparams_once = PTHREAD_ONCE_INIT;

static void pg_nparams_init(void)
{
	for (int q = 0; q < Q__COUNT; q++)
		pg_nparams[q] = pg_sql[q] ? pg_count_params(pg_sql[q]) : 0;
}

int pg_query_nparams(enum store_q q)
{
	pthread_once(&pg_nparams_once, pg_nparams_init);
	return (unsigned)q < Q__COUNT ? pg_nparams[q] : -1;
}

const char *pg_select_cols(enum store_coll c)
{
	switch (c) {
	case SC_USERS:
		return USER_COLS;
	case SC_AUDIT:
		return AUDIT_COLS;
	case SC_GROUPS:
		return GROUP_COLS;
	}
	return NULL;
}
