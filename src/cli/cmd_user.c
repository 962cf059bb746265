/* roster user ...: the users of a tenant (docs/api.md "Users"); unlock, sessions,
 * login-failures and password are in cmd_account.c. Builds requests from options; permission
 * and rank checks are the server's. */
#include <string.h>

#include "cli_int.h"

/* Options that map one-to-one to a string member of the user object. */
static const struct {
	const char *opt;
	const char *field;
} user_string_fields[] = {
    {"username", "username"},
    {"email", "email"},
    {"first-name", "first_name"},
    {"last-name", "last_name"},
    {"type", "type"},
    {"system-role", "system_role"},
    {"department", "department_id"},
    {"manager", "manager_id"},
    {"locale", "locale"},
    {"timezone", "timezone"},
    {"description", "description"},
    {"external-id", "external_id"},
    {"security-profile", "security_profile"},
};
#define USER_N_STRING_FIELDS (sizeof(user_string_fields) / sizeof(user_string_fields[0]))

#define USER_FIELD_OPTS                                                                            \
	{"email", 0, ARGS_VALUE, "EMAIL", "e-mail address"},                                       \
	    {"first-name", 0, ARGS_VALUE, "NAME", "first name"},                                   \
	    {"last-name", 0, ARGS_VALUE, "NAME", "last name"},                                     \
	    {"type", 0, ARGS_VALUE, "TYPE", "standard, api, taxii or read_only"},                  \
	    {"system-role", 0, ARGS_VALUE, "ROLE", "system role (id or name)"},                    \
	    {"role", 0, ARGS_VALUE | ARGS_MULTI, "ROLE", "tenant role (id or name)"},              \
	    {"department", 0, ARGS_VALUE, "ID", "department id"},                                  \
	    {"manager", 0, ARGS_VALUE, "ID", "the user's manager (another user's id)"},            \
	    {"locale", 0, ARGS_VALUE, "LOCALE", "locale"},                                         \
	    {"timezone", 0, ARGS_VALUE, "TZ", "time zone"},                                        \
	    {"description", 0, ARGS_VALUE, "TEXT", "description"},                                 \
	    {"external-id", 0, ARGS_VALUE, "ID", "id in an external system"},                      \
	    {"security-profile", 0, ARGS_VALUE, "NAME", "security profile"}, CLI_OPT_SET

/* List filters: option name -> query parameter. */
static const struct {
	const char *opt;
	const char *param;
} user_filters[] = {
    {"status", "status"},
    {"type", "type"},
    {"role", "role"},
    {"group", "group"},
    {"department", "department_id"},
    {"q", "q"},
    {"username", "username"},
    {"username-prefix", "username_prefix"},
    {"email", "email"},
    {"email-prefix", "email_prefix"},
    {"name", "name"},
    {"name-prefix", "name_prefix"},
    {"sort", "sort"},
};
#define USER_N_FILTERS (sizeof(user_filters) / sizeof(user_filters[0]))

static const struct args_opt user_list_opts[] = {
    {"status", 0, ARGS_VALUE, "STATUS", "only users with this status"},
    {"type", 0, ARGS_VALUE, "TYPE", "only users of this type"},
    {"role", 0, ARGS_VALUE, "ROLE", "only users with this role (id or name)"},
    {"group", 0, ARGS_VALUE, "GROUP", "only members of this group (id or name)"},
    {"department", 0, ARGS_VALUE, "ID", "only users of this department and its descendants"},
    {"direct", 0, 0, NULL, "with --department: only its direct members"},
    {"q", 0, ARGS_VALUE, "TEXT", "substring of username, e-mail, first or last name"},
    {"username", 0, ARGS_VALUE, "NAME", "exact username (case-insensitive)"},
    {"username-prefix", 0, ARGS_VALUE, "PREFIX", "username prefix"},
    {"email", 0, ARGS_VALUE, "EMAIL", "exact e-mail (case-insensitive)"},
    {"email-prefix", 0, ARGS_VALUE, "PREFIX", "e-mail prefix"},
    {"name", 0, ARGS_VALUE, "NAME", "exact first or last name"},
    {"name-prefix", 0, ARGS_VALUE, "PREFIX", "first or last name prefix"},
    {"sort", 0, ARGS_VALUE, "FIELD",
     "created_at, username, email, last_name, updated_at; '-' first: descending"},
    CLI_OPTS_LIST,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt user_create_opts[] = {
    {"username", 0, ARGS_VALUE, "NAME", "username (required)"},
    USER_FIELD_OPTS,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt user_update_opts[] = {
    {"username", 0, ARGS_VALUE, "NAME", "new username"},
    USER_FIELD_OPTS,
    CLI_OPT_IF_MATCH,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt user_delete_opts[] = {
    {"transfer-to", 0, ARGS_VALUE, "USER_ID",
     "who gets the user's owned resources (default: the tenant's default transfer user)"},
    {"wait", 0, 0, NULL, "wait until the deletion is done (exit 10 if it fails)"},
    {"timeout", 0, ARGS_VALUE, "SECONDS",
     "with --wait: give up after this long (default 60; exit 11)"},
    CLI_OPT_IF_MATCH,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt user_if_match_opts[] = {
    CLI_OPT_IF_MATCH,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt user_suspend_opts[] = {
    {"reason", 0, ARGS_VALUE, "TEXT", "why (required)"},
    {"until", 0, ARGS_VALUE, "TIME", "RFC 3339 time at which the suspension ends by itself"},
    CLI_OPT_IF_MATCH,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt user_deactivate_opts[] = {
    {"reason", 0, ARGS_VALUE, "TEXT", "why (required)"},
    CLI_OPT_IF_MATCH,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt user_roles_opts[] = {
    {"system-role", 0, ARGS_VALUE, "ROLE", "system role (id or name)"},
    {"role", 0, ARGS_VALUE | ARGS_MULTI, "ROLE", "tenant role (id or name); replaces all"},
    {"no-roles", 0, 0, NULL, "remove every tenant role"},
    CLI_OPT_IF_MATCH,
    {NULL, 0, 0, NULL, NULL},
};

static void user_fmt_name(const json_t *u, struct buf *b)
{
	const char *first = json_string_value(json_object_get(u, "first_name"));
	const char *last = json_string_value(json_object_get(u, "last_name"));

	if (first == NULL && last == NULL) {
		(void)buf_putc(b, '-');
		return;
	}
	(void)buf_printf(b, "%s%s%s", first ? first : "", first && last ? " " : "",
			 last ? last : "");
}

static const struct out_column user_cols[] = {
    {"ID", "id", NULL},
    {"USERNAME", "username", NULL},
    {"EMAIL", "email", NULL},
    {"NAME", NULL, user_fmt_name},
    {"TYPE", "type", NULL},
    {"STATUS", "status", NULL},
    {"SYSTEM ROLE", "system_role", NULL},
    {"ROLES", "roles", NULL},
};

/* Body of create and update: typed options first, then every --set, so --set wins. */
static enum cli_status user_body(struct cli_ctx *ctx, json_t *body, struct cli_err *err)
{
	enum cli_status st = CLI_OK;
	const char *v;
	size_t it = 0;

	for (size_t i = 0; i < USER_N_STRING_FIELDS && st == CLI_OK; i++)
		st = patch_set_string(body, user_string_fields[i].field,
				      args_get(ctx->args, user_string_fields[i].opt), err);
	if (st == CLI_OK)
		st = patch_set_list(body, "roles", ctx->args, "role", false, err);
	while (st == CLI_OK && (v = args_next(ctx->args, "set", &it)) != NULL)
		st = patch_set_apply(body, v, err);
	return st;
}

static enum cli_status user_list(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	/* The server ignores descendants without department_id: --direct alone would list
	 * everyone, which is not what anyone typing it means. */
	if (args_has(ctx->args, "direct") && !args_has(ctx->args, "department")) {
		st = cli_fail(err, CLI_E_USAGE, "--direct needs --department");
		goto out;
	}
	st = request_tenant_path(ctx, &path, err, "users", NULL);
	for (size_t i = 0; i < USER_N_FILTERS && st == CLI_OK; i++)
		st = url_query_add(&path, user_filters[i].param,
				   args_get(ctx->args, user_filters[i].opt), err);
	if (st == CLI_OK && args_has(ctx->args, "direct"))
		st = url_query_add(&path, "descendants", "false", err);
	if (st == CLI_OK)
		st = request_list(ctx, &path, user_cols, sizeof(user_cols) / sizeof(user_cols[0]),
				  err);
out:
	buf_release(&path);
	return st;
}

static enum cli_status user_get(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "users", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "GET", buf_cstr(&path), NULL, err);
	buf_release(&path);
	return st;
}

static enum cli_status user_create(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	const char *username;
	json_t *body = json_object();
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	if (body == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	st = request_need(ctx, "username", &username, err);
	if (st == CLI_OK)
		st = user_body(ctx, body, err);
	if (st == CLI_OK)
		st = request_tenant_path(ctx, &path, err, "users", NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "POST", buf_cstr(&path), body, err);
out:
	json_decref(body);
	buf_release(&path);
	return st;
}

static enum cli_status user_update(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	json_t *patch = json_object();
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	if (patch == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	st = user_body(ctx, patch, err);
	if (st == CLI_OK)
		st = request_need_changes(patch, err);
	if (st == CLI_OK)
		st = request_tenant_path(ctx, &path, err, "users", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "PATCH", buf_cstr(&path), patch, err);
out:
	json_decref(patch);
	buf_release(&path);
	return st;
}

/* DELETE answers 202 with the task that deletes the user (docs/api.md "Tasks"); a server
 * from before tasks answers 204, and then the user is already gone. */
static enum cli_status user_delete(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	bool wait = args_has(ctx->args, "wait");
	long timeout_s = TASK_WAIT_DEFAULT_S;
	char if_match[80];
	json_t *task = NULL;
	struct buf path, done;

	buf_init(&path, CLI_URL_MAX);
	buf_init(&done, 1024);
	st = args_get_long(ctx->args, "timeout", 1, TASK_WAIT_MAX_S, &timeout_s, err);
	if (st == CLI_OK && args_has(ctx->args, "timeout") && !wait)
		st = cli_fail(err, CLI_E_USAGE, "--timeout only makes sense with --wait");
	if (st == CLI_OK)
		st = request_if_match(ctx, if_match, sizeof(if_match), err);
	if (st == CLI_OK)
		st = request_tenant_path(ctx, &path, err, "users", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = url_query_add(&path, "transfer_to", args_get(ctx->args, "transfer-to"), err);
	if (st == CLI_OK)
		st = request_call(ctx, "DELETE", buf_cstr(&path), NULL,
				  if_match[0] ? if_match : NULL, &task, err);
	if (st != CLI_OK)
		goto out;
	if (task != NULL) {
		st = task_report(ctx, task, wait, timeout_s, err);
	} else if (!ctx->json) {
		(void)buf_puts(&done, "user ");
		(void)buf_puts_safe(&done, ctx->args->pos[0]);
		if (fprintf(ctx->out, "%s deleted\n", buf_cstr(&done)) < 0)
			st = cli_fail(err, CLI_E_INTERNAL, "cannot write output");
	}
out:
	json_decref(task);
	buf_release(&path);
	buf_release(&done);
	return st;
}

static enum cli_status user_roles(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	json_t *body = json_object();
	bool no_roles = args_has(ctx->args, "no-roles");
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	if (body == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	if (no_roles && args_has(ctx->args, "role")) {
		st = cli_fail(err, CLI_E_USAGE, "--no-roles and --role exclude each other");
		goto out;
	}
	/* NEEDSWORK: docs/api.md does not say whether a member missing from this PUT keeps
	 * its value; we send only what was asked for and let --no-roles clear explicitly. */
	st = patch_set_string(body, "system_role", args_get(ctx->args, "system-role"), err);
	if (st == CLI_OK)
		st = patch_set_list(body, "roles", ctx->args, "role", no_roles, err);
	if (st == CLI_OK)
		st = request_need_changes(body, err);
	if (st == CLI_OK)
		st =
		    request_tenant_path(ctx, &path, err, "users", ctx->args->pos[0], "roles", NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "PUT", buf_cstr(&path), body, err);
out:
	json_decref(body);
	buf_release(&path);
	return st;
}

/* POST …/users/ID/<action> with the optional reason and until: a lifecycle transition. */
static enum cli_status user_transition(struct cli_ctx *ctx, const char *action, struct cli_err *err)
{
	enum cli_status st;
	json_t *body = json_object();
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	if (body == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	st = patch_set_string(body, "reason", args_get(ctx->args, "reason"), err);
	if (st == CLI_OK)
		st = patch_set_string(body, "until", args_get(ctx->args, "until"), err);
	if (st == CLI_OK)
		st = request_tenant_path(ctx, &path, err, "users", ctx->args->pos[0], action, NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "POST", buf_cstr(&path), body, err);
out:
	json_decref(body);
	buf_release(&path);
	return st;
}

static enum cli_status user_suspend(struct cli_ctx *ctx, struct cli_err *err)
{
	return user_transition(ctx, "suspend", err);
}

static enum cli_status user_resume(struct cli_ctx *ctx, struct cli_err *err)
{
	return user_transition(ctx, "resume", err);
}

static enum cli_status user_deactivate(struct cli_ctx *ctx, struct cli_err *err)
{
	return user_transition(ctx, "deactivate", err);
}

static enum cli_status user_reactivate(struct cli_ctx *ctx, struct cli_err *err)
{
	return user_transition(ctx, "reactivate", err);
}

static const struct cli_cmd user_cmds[] = {
    {"list", "[filters] [--limit N] [--all]", "List the users of the tenant.", user_list_opts, 0, 0,
     CLI_CMD_TENANT, user_list},
    {"get", "ID", "Show one user.", NULL, 1, 1, CLI_CMD_TENANT, user_get},
    {"create", "--username NAME [options]", "Create a user.", user_create_opts, 0, 0,
     CLI_CMD_TENANT, user_create},
    {"update", "ID [options] [--set FIELD=VALUE]...",
     "Change a user (a JSON merge patch of the given fields).", user_update_opts, 1, 1,
     CLI_CMD_TENANT, user_update},
    {"delete", "ID [--transfer-to USER_ID] [--wait [--timeout SECONDS]] [--if-match VERSION]",
     "Delete a user (its tokens stop working at once); prints the deletion task.", user_delete_opts,
     1, 1, CLI_CMD_TENANT, user_delete},
    {"roles", "ID [--system-role ROLE] [--role ROLE]... [--no-roles]",
     "Assign a user's system role and tenant roles.", user_roles_opts, 1, 1, CLI_CMD_TENANT,
     user_roles},
    {"suspend", "ID --reason TEXT [--until TIME]",
     "Suspend a user (its tokens are refused until it is resumed).", user_suspend_opts, 1, 1,
     CLI_CMD_TENANT, user_suspend},
    {"resume", "ID", "End a user's suspension.", user_if_match_opts, 1, 1, CLI_CMD_TENANT,
     user_resume},
    {"deactivate", "ID --reason TEXT", "Deactivate a user (its tokens are revoked for good).",
     user_deactivate_opts, 1, 1, CLI_CMD_TENANT, user_deactivate},
    {"reactivate", "ID", "Reactivate a deactivated user.", user_if_match_opts, 1, 1, CLI_CMD_TENANT,
     user_reactivate},
    {"unlock", "ID", "Lift a user's lockout after failed logins.", NULL, 1, 1, CLI_CMD_TENANT,
     account_user_unlock},
    {"sessions", "ID", "List a user's live sessions.", NULL, 1, 1, CLI_CMD_TENANT,
     account_user_sessions},
    {"sessions revoke", "ID [--session SESSION_ID]", "End a user's sessions: all of them, or one.",
     account_sessions_revoke_opts, 1, 1, CLI_CMD_TENANT, account_user_sessions_revoke},
    {"login-failures", "ID [--limit N] [--cursor CURSOR] [--all]",
     "List a user's failed logins, newest first.", account_failures_opts, 1, 1, CLI_CMD_TENANT,
     account_user_login_failures},
    {"password", "ID [--temporary] [--password-file FILE]",
     "Set a user's password (the user's sessions end).", account_user_password_opts, 1, 1,
     CLI_CMD_TENANT, account_user_password},
};

const struct cli_resource cmd_user_resource = {
    "user",
    "manage the users of a tenant",
    user_cmds,
    sizeof(user_cmds) / sizeof(user_cmds[0]),
    "password reads the new password from a prompt (echo off, asked twice) when stdin is a\n"
    "terminal, else from the first line of stdin or of --password-file; never from the\n"
    "command line.",
};
