/* roster token ...: API tokens (docs/api.md "API tokens"). The secret of a new token is the
 * one thing the CLI ever prints that grants access, and only from "token create". */
#include <string.h>

#include "cli_int.h"

static const struct args_opt token_list_opts[] = {
    {"user-id", 0, ARGS_VALUE, "USER_ID", "only tokens of this user"},
    CLI_OPTS_LIST,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt token_create_opts[] = {
    {"name", 0, ARGS_VALUE, "NAME", "what the token is for (required)"},
    {"role", 0, ARGS_VALUE, "ROLE", "role of the token (default: the owner's system role)"},
    {"expires-in-days", 0, ARGS_VALUE, "DAYS", "1-3650 (default: never expires)"},
    {"user-id", 0, ARGS_VALUE, "USER_ID", "owner (default: you)"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct out_column token_cols[] = {
    {"ID", "id", NULL},
    {"NAME", "name", NULL},
    {"USER ID", "user_id", NULL},
    {"ROLE", "role", NULL},
    {"EXPIRES", "expires_at", NULL},
    {"LAST USED", "last_used_at", NULL},
    {"REVOKED", "revoked_at", NULL},
};

static enum cli_status token_list(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "tokens", NULL);
	if (st == CLI_OK)
		st = url_query_add(&path, "user_id", args_get(ctx->args, "user-id"), err);
	if (st == CLI_OK)
		st = request_list(ctx, &path, token_cols,
				  sizeof(token_cols) / sizeof(token_cols[0]), err);
	buf_release(&path);
	return st;
}

static enum cli_status token_get(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "tokens", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "GET", buf_cstr(&path), NULL, err);
	buf_release(&path);
	return st;
}

static enum cli_status token_create(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	const char *name, *secret;
	long days = 0;
	json_t *body = json_object(), *ans = NULL;
	struct buf path, s;

	buf_init(&path, CLI_URL_MAX);
	buf_init(&s, 1024);
	if (body == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	st = request_need(ctx, "name", &name, err);
	if (st == CLI_OK)
		st = args_get_long(ctx->args, "expires-in-days", 1, 3650, &days, err);
	if (st == CLI_OK)
		st = patch_set_string(body, "name", name, err);
	if (st == CLI_OK)
		st = patch_set_string(body, "role", args_get(ctx->args, "role"), err);
	if (st == CLI_OK)
		st = patch_set_string(body, "user_id", args_get(ctx->args, "user-id"), err);
	if (st == CLI_OK && days > 0 &&
	    json_object_set_new(body, "expires_in_days", json_integer(days)) != 0)
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
	if (st == CLI_OK)
		st = request_tenant_path(ctx, &path, err, "tokens", NULL);
	if (st == CLI_OK)
		st = request_call(ctx, "POST", buf_cstr(&path), body, NULL, &ans, err);
	if (st != CLI_OK)
		goto out;
	if (ctx->json) {
		st = out_json(ctx->out, ans, err);
		goto out;
	}
	secret = json_string_value(json_object_get(ans, "secret"));
	if (secret == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "the server's answer has no secret");
		goto out;
	}
	st = out_object(ctx->out, json_object_get(ans, "token"), NULL, err);
	if (st != CLI_OK)
		goto out;
	(void)buf_puts_safe(&s, secret);
	if (fprintf(ctx->out,
		    "\nSecret (shown only this once: store it now, it cannot be retrieved again):\n"
		    "\n    %s\n\n",
		    buf_cstr(&s)) < 0)
		st = cli_fail(err, CLI_E_INTERNAL, "cannot write output");
out:
	/* Wipe our copy of the secret; jansson's are wiped as they are freed
	 * (secret_json_wipe_on_free). NEEDSWORK: the raw response body is freed unwiped; the
	 * process exits right after. */
	if (s.s != NULL)
		explicit_bzero(s.s, s.cap);
	json_decref(ans);
	json_decref(body);
	buf_release(&path);
	buf_release(&s);
	return st;
}

static enum cli_status token_revoke(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path, done;

	buf_init(&path, CLI_URL_MAX);
	buf_init(&done, 1024);
	(void)buf_printf(&done, "token %s revoked", ctx->args->pos[0]);
	st = request_tenant_path(ctx, &path, err, "tokens", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = request_delete(ctx, buf_cstr(&path), buf_cstr(&done), err);
	buf_release(&path);
	buf_release(&done);
	return st;
}

static const struct cli_cmd token_cmds[] = {
    {"list", "[--user-id USER_ID] [--limit N] [--all]",
     "List API tokens (all with tokens.read, otherwise your own).", token_list_opts, 0, 0,
     CLI_CMD_TENANT, token_list},
    {"get", "ID", "Show one token (never its secret).", NULL, 1, 1, CLI_CMD_TENANT, token_get},
    {"create", "--name NAME [--role ROLE] [--expires-in-days DAYS] [--user-id USER_ID]",
     "Create a token and print its secret once.", token_create_opts, 0, 0, CLI_CMD_TENANT,
     token_create},
    {"revoke", "ID", "Revoke a token; it stops working at once.", NULL, 1, 1, CLI_CMD_TENANT,
     token_revoke},
};

const struct cli_resource cmd_token_resource = {
    "token", "manage API tokens", token_cmds, sizeof(token_cmds) / sizeof(token_cmds[0]), NULL,
};
