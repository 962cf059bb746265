/* roster me and roster templates: the caller's identity and the tenant templates
 * (docs/api.md "Platform"); the caller's sessions and password are in cmd_account.c. Neither
 * needs --tenant. */
#include "cli_int.h"

static enum cli_status me_run(struct cli_ctx *ctx, struct cli_err *err)
{
	static const char *const keys[] = {"tenant", "user", "token", "rank", "permissions", NULL};
	enum cli_status st;
	json_t *ans = NULL;

	st = request_call(ctx, "GET", "/api/v1/me", NULL, NULL, &ans, err);
	if (st != CLI_OK)
		goto out;
	if (ctx->json)
		st = out_json(ctx->out, ans, err);
	else
		st = out_object(ctx->out, ans, keys, err);
out:
	json_decref(ans);
	return st;
}

static const struct out_column templates_cols[] = {
    {"TEMPLATE", "template", NULL},
    {"ROLE", "name", NULL},
    {"SCOPE", "scope", NULL},
    {"RANK", "rank", NULL},
    {"PERMISSIONS", "permissions", NULL},
};

static enum cli_status templates_run(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	json_t *ans = NULL, *rows = NULL, *tpl, *role;
	size_t i, j;

	st = request_call(ctx, "GET", "/api/v1/templates", NULL, NULL, &ans, err);
	if (st != CLI_OK)
		goto out;
	if (ctx->json) {
		st = out_json(ctx->out, ans, err);
		goto out;
	}
	/* One row per role of each template, the template named on every row. */
	rows = json_array();
	if (rows == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	json_array_foreach(json_object_get(ans, "items"), i, tpl)
	{
		json_array_foreach(json_object_get(tpl, "roles"), j, role)
		{
			json_t *row = json_deep_copy(role);

			if (row == NULL || !json_is_object(row) ||
			    json_object_set(row, "template", json_object_get(tpl, "name")) != 0 ||
			    json_array_append_new(rows, row) != 0) {
				st = cli_fail(err, CLI_E_INTERNAL,
					      "unexpected answer from the server");
				goto out;
			}
		}
	}
	st = out_table(ctx->out, rows, templates_cols,
		       sizeof(templates_cols) / sizeof(templates_cols[0]), err);
out:
	json_decref(rows);
	json_decref(ans);
	return st;
}

static const struct cli_cmd me_cmds[] = {
    {NULL, "", "Show the caller: tenant, user, token, rank and permissions.", NULL, 0, 0, 0,
     me_run},
    {"sessions", "", "List your live sessions.", NULL, 0, 0, 0, account_me_sessions},
    {"sessions revoke", "[--session SESSION_ID]", "End your sessions: all of them, or one.",
     account_sessions_revoke_opts, 0, 0, 0, account_me_sessions_revoke},
    {"password", "[--current-password-file FILE] [--password-file FILE]",
     "Change your password (your other sessions end).", account_me_password_opts, 0, 0, 0,
     account_me_password},
};

const struct cli_resource cmd_me_resource = {
    "me",
    "show who the token belongs to; your sessions and password",
    me_cmds,
    sizeof(me_cmds) / sizeof(me_cmds[0]),
    "password reads the current password, then the new one (twice), from prompts with echo\n"
    "off when stdin is a terminal; else from --current-password-file and --password-file,\n"
    "or the first and second lines of stdin. Never from the command line.\n"
    "Revoking every session also ends the one the token belongs to, if it is a session's.",
};

static const struct cli_cmd templates_cmds[] = {
    {NULL, "", "List the tenant templates and the roles each one creates.", NULL, 0, 0, 0,
     templates_run},
};

const struct cli_resource cmd_templates_resource = {
    "templates", "list tenant templates and their roles", templates_cmds, 1, NULL,
};
