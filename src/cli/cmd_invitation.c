/* roster invitation ...: invitations (docs/lifecycle.md "Invitations"). create, list, get,
 * resend and revoke are an administrator's, with a bearer token; view and accept are the
 * invitee's, and there the link's token is the only credential: no bearer token is sent, and
 * the new password never comes from argv. */
#include <string.h>

#include "cli_int.h"

static const struct args_opt inv_list_opts[] = {
    {"status", 0, ARGS_VALUE, "STATUS", "only pending, accepted, revoked or expired ones"},
    CLI_OPTS_LIST,
    {NULL, 0, 0, NULL, NULL},
};

/* Exactly the members POST …/invitations takes (api/rest/invitations.c): the invitee sets
 * its own names when it accepts. */
static const struct args_opt inv_create_opts[] = {
    {"email", 0, ARGS_VALUE, "EMAIL", "where the link is sent (required)"},
    {"username", 0, ARGS_VALUE, "NAME", "username (default: the e-mail address)"},
    {"type", 0, ARGS_VALUE, "TYPE", "standard, api, taxii or read_only"},
    {"system-role", 0, ARGS_VALUE, "ROLE", "system role (id or name; default: the tenant's)"},
    {"role", 0, ARGS_VALUE | ARGS_MULTI, "ROLE", "tenant role (id or name)"},
    {"department", 0, ARGS_VALUE, "ID", "department id"},
    {"message", 0, ARGS_VALUE, "TEXT", "personal text for the e-mail"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt inv_resend_opts[] = {
    {"system-role", 0, ARGS_VALUE, "ROLE", "new system role (id or name)"},
    {"role", 0, ARGS_VALUE | ARGS_MULTI, "ROLE", "tenant role (id or name); replaces all"},
    {"no-roles", 0, 0, NULL, "remove every tenant role"},
    {"department", 0, ARGS_VALUE, "ID", "new department id"},
    {"message", 0, ARGS_VALUE, "TEXT", "new text for the e-mail (default: the previous one)"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt inv_accept_opts[] = {
    {"first-name", 0, ARGS_VALUE, "NAME", "your first name (required)"},
    {"last-name", 0, ARGS_VALUE, "NAME", "your last name (required)"},
    {"timezone", 0, ARGS_VALUE, "TZ", "your time zone, e.g. Europe/London"},
    {"password-file", 0, ARGS_VALUE, "FILE",
     "read the new password from the first line of FILE ('-': stdin) instead of a prompt"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct out_column inv_cols[] = {
    {"ID", "id", NULL},
    {"EMAIL", "email", NULL},
    {"STATUS", "status", NULL},
    {"USER ID", "user_id", NULL},
    {"EXPIRES", "expires_at", NULL},
    {"CREATED", "created_at", NULL},
    {"RESENT", "resent_at", NULL},
};

enum cli_status invitation_token_arg(const char *arg, const char **token, struct cli_err *err)
{
	static const char marker[] = "/invitations/";
	const char *p = arg, *m;

	/* The last "/invitations/" wins: a public URL may itself contain the word. */
	while ((m = strstr(p, marker)) != NULL)
		p = m + strlen(marker);
	if (p[0] == '\0')
		return cli_fail(err, CLI_E_USAGE, "no invitation token in '%s'", arg);
	*token = p;
	return CLI_OK;
}

static enum cli_status inv_list(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "invitations", NULL);
	if (st == CLI_OK)
		st = url_query_add(&path, "status", args_get(ctx->args, "status"), err);
	if (st == CLI_OK)
		st =
		    request_list(ctx, &path, inv_cols, sizeof(inv_cols) / sizeof(inv_cols[0]), err);
	buf_release(&path);
	return st;
}

static enum cli_status inv_get(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "invitations", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "GET", buf_cstr(&path), NULL, err);
	buf_release(&path);
	return st;
}

/* Sends create or resend and prints the invitation and its link. The link is the invitee's
 * credential, shown by the API only in this answer and in the e-mail: printed once, for an
 * administrator who has to hand it over some other way. */
static enum cli_status inv_send(struct cli_ctx *ctx, const char *path, const json_t *body,
				struct cli_err *err)
{
	enum cli_status st;
	json_t *ans = NULL;
	const char *link;
	struct buf s;

	buf_init(&s, CLI_CELL_MAX);
	st = request_call(ctx, "POST", path, body, NULL, &ans, err);
	if (st != CLI_OK)
		goto out;
	if (ctx->json) {
		st = out_json(ctx->out, ans, err);
		goto out;
	}
	link = json_string_value(json_object_get(ans, "link"));
	if (link == NULL || !json_is_object(json_object_get(ans, "invitation"))) {
		st = cli_fail(err, CLI_E_INTERNAL, "the server's answer has no invitation or link");
		goto out;
	}
	st = out_object(ctx->out, json_object_get(ans, "invitation"), NULL, err);
	if (st != CLI_OK)
		goto out;
	(void)buf_puts_safe(&s, link);
	if (fprintf(ctx->out,
		    "\nLink (e-mailed to the invitee; whoever holds it can accept, and earlier "
		    "links no longer work):\n\n    %s\n\n",
		    buf_cstr(&s)) < 0)
		st = cli_fail(err, CLI_E_INTERNAL, "cannot write output");
out:
	if (s.s != NULL)
		explicit_bzero(s.s, s.cap);
	json_decref(ans);
	buf_release(&s);
	return st;
}

static enum cli_status inv_create(struct cli_ctx *ctx, struct cli_err *err)
{
	static const struct {
		const char *opt;
		const char *field;
	} fields[] = {
	    {"email", "email"},
	    {"username", "username"},
	    {"type", "type"},
	    {"system-role", "system_role"},
	    {"department", "department_id"},
	    {"message", "message"},
	};
	enum cli_status st;
	const char *email;
	json_t *body = json_object();
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	if (body == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	st = request_need(ctx, "email", &email, err);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]) && st == CLI_OK; i++)
		st = patch_set_string(body, fields[i].field, args_get(ctx->args, fields[i].opt),
				      err);
	if (st == CLI_OK)
		st = patch_set_list(body, "roles", ctx->args, "role", false, err);
	if (st == CLI_OK)
		st = request_tenant_path(ctx, &path, err, "invitations", NULL);
	if (st == CLI_OK)
		st = inv_send(ctx, buf_cstr(&path), body, err);
out:
	json_decref(body);
	buf_release(&path);
	return st;
}

static enum cli_status inv_resend(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	bool no_roles = args_has(ctx->args, "no-roles");
	json_t *body = json_object();
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
	st = patch_set_string(body, "system_role", args_get(ctx->args, "system-role"), err);
	if (st == CLI_OK)
		st = patch_set_list(body, "roles", ctx->args, "role", no_roles, err);
	if (st == CLI_OK)
		st =
		    patch_set_string(body, "department_id", args_get(ctx->args, "department"), err);
	if (st == CLI_OK)
		st = patch_set_string(body, "message", args_get(ctx->args, "message"), err);
	if (st == CLI_OK)
		st = request_tenant_path(ctx, &path, err, "invitations", ctx->args->pos[0],
					 "resend", NULL);
	/* The body is optional: without options, a new link and nothing else changes. */
	if (st == CLI_OK)
		st = inv_send(ctx, buf_cstr(&path), json_object_size(body) > 0 ? body : NULL, err);
out:
	json_decref(body);
	buf_release(&path);
	return st;
}

static enum cli_status inv_revoke(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path, done;

	buf_init(&path, CLI_URL_MAX);
	buf_init(&done, 1024);
	(void)buf_printf(&done, "invitation %s revoked", ctx->args->pos[0]);
	st = request_tenant_path(ctx, &path, err, "invitations", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = request_delete(ctx, buf_cstr(&path), buf_cstr(&done), err);
	buf_release(&path);
	buf_release(&done);
	return st;
}

static enum cli_status inv_view(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	const char *token = NULL;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = invitation_token_arg(ctx->args->pos[0], &token, err);
	if (st == CLI_OK)
		st = url_path_build(&path, err, "api", "v1", "invitations", token, NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "GET", buf_cstr(&path), NULL, err);
	buf_release(&path);
	return st;
}

static enum cli_status inv_accept(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	const char *token = NULL, *first, *last;
	char password[CLI_SECRET_MAX];
	bool have_password = false;
	json_t *body = json_object();
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	if (body == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	/* Everything that can be refused without the server first, so nobody types a
	 * password for a command line that was wrong anyway. */
	st = invitation_token_arg(ctx->args->pos[0], &token, err);
	if (st == CLI_OK)
		st = request_need(ctx, "first-name", &first, err);
	if (st == CLI_OK)
		st = request_need(ctx, "last-name", &last, err);
	if (st == CLI_OK)
		st = url_path_build(&path, err, "api", "v1", "invitations", token, "accept", NULL);
	if (st == CLI_OK)
		st = secret_read_password(args_get(ctx->args, "password-file"), password,
					  sizeof(password), err);
	if (st != CLI_OK)
		goto out;
	have_password = true;
	st = patch_set_string(body, "password", password, err);
	if (st == CLI_OK)
		st = patch_set_string(body, "first_name", first, err);
	if (st == CLI_OK)
		st = patch_set_string(body, "last_name", last, err);
	if (st == CLI_OK)
		st = patch_set_string(body, "timezone", args_get(ctx->args, "timezone"), err);
	if (st == CLI_OK)
		st = request_show_call(ctx, "POST", buf_cstr(&path), body, err);
out:
	/* jansson's copies of the password in body are wiped as they are freed
	 * (secret_json_wipe_on_free); request_call wipes the serialised body. */
	if (have_password)
		explicit_bzero(password, sizeof(password));
	json_decref(body);
	buf_release(&path);
	return st;
}

static const struct cli_cmd inv_cmds[] = {
    {"list", "[--status STATUS] [--limit N] [--cursor CURSOR] [--all]",
     "List the invitations of the tenant, oldest first.", inv_list_opts, 0, 0, CLI_CMD_TENANT,
     inv_list},
    {"get", "ID", "Show one invitation.", NULL, 1, 1, CLI_CMD_TENANT, inv_get},
    {"create", "--email EMAIL [options]",
     "Invite someone by e-mail: creates the user (status invited) and mails a link.",
     inv_create_opts, 0, 0, CLI_CMD_TENANT, inv_create},
    {"resend",
     "ID [--system-role ROLE] [--role ROLE]... [--no-roles] [--department TEXT] "
     "[--message TEXT]",
     "Send a new link (the old one stops working), optionally changing the invitation.",
     inv_resend_opts, 1, 1, CLI_CMD_TENANT, inv_resend},
    {"revoke", "ID", "Revoke a pending or expired invitation; the invited user is removed.", NULL,
     1, 1, CLI_CMD_TENANT, inv_revoke},
    {"view", "TOKEN", "Show what an invitation link invites to (no API token needed).", NULL, 1, 1,
     CLI_CMD_NO_AUTH, inv_view},
    {"accept", "TOKEN --first-name NAME --last-name NAME [--timezone TZ] [--password-file FILE]",
     "Accept an invitation and set your password (no API token needed).", inv_accept_opts, 1, 1,
     CLI_CMD_NO_AUTH, inv_accept},
};

const struct cli_resource cmd_invitation_resource = {
    "invitation",
    "invite users by e-mail; accept an invitation",
    inv_cmds,
    sizeof(inv_cmds) / sizeof(inv_cmds[0]),
    "TOKEN is the token of an invitation link, or the whole link as e-mailed.\n"
    "accept reads the new password from a prompt (echo off) when stdin is a terminal, else\n"
    "from the first line of stdin or of --password-file; never from the command line.",
};
