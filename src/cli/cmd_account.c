/* Account security (docs/authentication.md): a user's lockout, sessions, failed logins and
 * password for an administrator (roster user ...), and the caller's own sessions and password
 * (roster me ...). The command tables live in cmd_user.c and cmd_me.c; the commands are here
 * because both sides share sessions and the way passwords are read: never from argv. */
#include <string.h>

#include "cli_int.h"

const struct args_opt account_sessions_revoke_opts[] = {
    {"session", 0, ARGS_VALUE, "SESSION_ID", "end only this session (default: all of them)"},
    {NULL, 0, 0, NULL, NULL},
};

const struct args_opt account_failures_opts[] = {
    CLI_OPTS_LIST,
    {NULL, 0, 0, NULL, NULL},
};

const struct args_opt account_user_password_opts[] = {
    {"temporary", 0, 0, NULL, "the user must change it at the next login"},
    {"password-file", 0, ARGS_VALUE, "FILE",
     "read the new password from the first line of FILE ('-': stdin) instead of a prompt"},
    {NULL, 0, 0, NULL, NULL},
};

const struct args_opt account_me_password_opts[] = {
    {"current-password-file", 0, ARGS_VALUE, "FILE",
     "read the current password from the first line of FILE ('-': stdin)"},
    {"password-file", 0, ARGS_VALUE, "FILE",
     "read the new password from the first line of FILE ('-': stdin)"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct out_column session_cols[] = {
    {"ID", "id", NULL},
    {"CURRENT", "current", NULL},
    {"SOURCE IP", "source_ip", NULL},
    {"USER AGENT", "user_agent", NULL},
    {"CREATED", "created_at", NULL},
    {"LAST SEEN", "last_seen_at", NULL},
    {"EXPIRES", "expires_at", NULL},
};

static const struct out_column failure_cols[] = {
    {"AT", "at", NULL},
    {"REASON", "reason", NULL},
    {"SOURCE IP", "source_ip", NULL},
    {"USER AGENT", "user_agent", NULL},
};

/* Prints done (it quotes ids the user typed: through the sanitiser) unless --json. */
static enum cli_status account_done(struct cli_ctx *ctx, const char *done, struct cli_err *err)
{
	enum cli_status st = CLI_OK;
	struct buf m;

	if (ctx->json)
		return CLI_OK;
	buf_init(&m, 1024);
	(void)buf_puts_safe(&m, done);
	if (fprintf(ctx->out, "%s\n", buf_cstr(&m)) < 0)
		st = cli_fail(err, CLI_E_INTERNAL, "cannot write output");
	buf_release(&m);
	return st;
}

/* POST path with body (which may hold a password: request_call wipes its serialised copy and
 * jansson wipes its own as they are freed), then done. Both answers are 204. */
static enum cli_status account_post(struct cli_ctx *ctx, const char *path, const json_t *body,
				    const char *done, struct cli_err *err)
{
	enum cli_status st;
	json_t *ans = NULL;

	st = request_call(ctx, "POST", path, body, NULL, &ans, err);
	if (st == CLI_OK && ctx->json && ans != NULL)
		st = out_json(ctx->out, ans, err);
	else if (st == CLI_OK)
		st = account_done(ctx, done, err);
	json_decref(ans);
	return st;
}

enum cli_status account_user_unlock(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "users", ctx->args->pos[0], "unlock", NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "POST", buf_cstr(&path), NULL, err);
	buf_release(&path);
	return st;
}

enum cli_status account_user_sessions(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "users", ctx->args->pos[0], "sessions", NULL);
	if (st == CLI_OK)
		st = request_list(ctx, &path, session_cols,
				  sizeof(session_cols) / sizeof(session_cols[0]), err);
	buf_release(&path);
	return st;
}

enum cli_status account_user_sessions_revoke(struct cli_ctx *ctx, struct cli_err *err)
{
	const char *user = ctx->args->pos[0], *session = args_get(ctx->args, "session");
	enum cli_status st;
	struct buf path, done;

	buf_init(&path, CLI_URL_MAX);
	buf_init(&done, 1024);
	if (session != NULL)
		(void)buf_printf(&done, "session %s of user %s ended", session, user);
	else
		(void)buf_printf(&done, "every session of user %s ended", user);
	st = request_tenant_path(ctx, &path, err, "users", user, "sessions", NULL);
	if (st == CLI_OK && session != NULL)
		st = url_path_add(&path, session, err);
	if (st == CLI_OK)
		st = request_delete(ctx, buf_cstr(&path), buf_cstr(&done), err);
	buf_release(&path);
	buf_release(&done);
	return st;
}

enum cli_status account_user_login_failures(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "users", ctx->args->pos[0], "login-failures",
				 NULL);
	if (st == CLI_OK)
		st = request_list(ctx, &path, failure_cols,
				  sizeof(failure_cols) / sizeof(failure_cols[0]), err);
	buf_release(&path);
	return st;
}

enum cli_status account_user_password(struct cli_ctx *ctx, struct cli_err *err)
{
	const char *user = ctx->args->pos[0];
	bool temporary = args_has(ctx->args, "temporary");
	char password[CLI_SECRET_MAX];
	bool have_password = false;
	json_t *body = json_object();
	struct buf path, done;
	enum cli_status st;

	buf_init(&path, CLI_URL_MAX);
	buf_init(&done, 1024);
	if (body == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	/* The path first: nobody should type a password for a command that fails anyway. */
	st = request_tenant_path(ctx, &path, err, "users", user, "password", NULL);
	if (st == CLI_OK)
		st = secret_read_password(args_get(ctx->args, "password-file"), password,
					  sizeof(password), err);
	if (st != CLI_OK)
		goto out;
	have_password = true;
	st = patch_set_string(body, "password", password, err);
	if (st == CLI_OK && temporary && json_object_set_new(body, "temporary", json_true()) != 0)
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
	if (st != CLI_OK)
		goto out;
	(void)buf_printf(&done, "password of user %s set%s; the user's sessions have ended", user,
			 temporary ? " (temporary: to be changed at the next login)" : "");
	st = account_post(ctx, buf_cstr(&path), body, buf_cstr(&done), err);
out:
	if (have_password)
		explicit_bzero(password, sizeof(password));
	json_decref(body);
	buf_release(&path);
	buf_release(&done);
	return st;
}

enum cli_status account_me_sessions(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = url_path_build(&path, err, "api", "v1", "me", "sessions", NULL);
	if (st == CLI_OK)
		st = request_list(ctx, &path, session_cols,
				  sizeof(session_cols) / sizeof(session_cols[0]), err);
	buf_release(&path);
	return st;
}

enum cli_status account_me_sessions_revoke(struct cli_ctx *ctx, struct cli_err *err)
{
	const char *session = args_get(ctx->args, "session");
	enum cli_status st;
	struct buf path, done;

	buf_init(&path, CLI_URL_MAX);
	buf_init(&done, 1024);
	if (session != NULL)
		(void)buf_printf(&done, "session %s ended", session);
	else
		(void)buf_puts(&done, "every session of yours ended");
	/* Without --session, session is NULL and ends the list early: DELETE all of them. */
	st = url_path_build(&path, err, "api", "v1", "me", "sessions", session, NULL);
	if (st == CLI_OK)
		st = request_delete(ctx, buf_cstr(&path), buf_cstr(&done), err);
	buf_release(&path);
	buf_release(&done);
	return st;
}

enum cli_status account_me_password(struct cli_ctx *ctx, struct cli_err *err)
{
	char current[CLI_SECRET_MAX], password[CLI_SECRET_MAX];
	bool have_current = false, have_password = false;
	json_t *body = json_object();
	enum cli_status st;

	if (body == NULL)
		return cli_fail(err, CLI_E_INTERNAL, "out of memory");
	/* The current password first: on a pipe it is the first line, the new one the second. */
	st = secret_read(args_get(ctx->args, "current-password-file"), "Current password: ", false,
			 current, sizeof(current), err);
	if (st != CLI_OK)
		goto out;
	have_current = true;
	st = secret_read_password(args_get(ctx->args, "password-file"), password, sizeof(password),
				  err);
	if (st != CLI_OK)
		goto out;
	have_password = true;
	st = patch_set_string(body, "current_password", current, err);
	if (st == CLI_OK)
		st = patch_set_string(body, "password", password, err);
	if (st == CLI_OK)
		st = account_post(ctx, "/api/v1/me/password", body,
				  "password changed; your other sessions have ended", err);
out:
	if (have_current)
		explicit_bzero(current, sizeof(current));
	if (have_password)
		explicit_bzero(password, sizeof(password));
	json_decref(body);
	return st;
}
