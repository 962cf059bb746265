/* roster role ...: roles of a tenant (docs/api.md "Roles"). Ranks and permission names are
 * checked by the server; the client only makes sure a rank is a number. */
#include "cli_int.h"

static const struct args_opt role_list_opts[] = {
    CLI_OPTS_LIST,
    {NULL, 0, 0, NULL, NULL},
};

#define ROLE_FIELD_OPTS                                                                            \
	{"rank", 0, ARGS_VALUE, "RANK", "0-1000; a larger rank outranks a smaller one"},           \
	    {"permission", 0, ARGS_VALUE | ARGS_MULTI, "PERM",                                     \
	     "permission, e.g. users.read (also comma-separated)"},                                \
	{                                                                                          \
		"description", 0, ARGS_VALUE, "TEXT", "description"                                \
	}

static const struct args_opt role_create_opts[] = {
    {"name", 0, ARGS_VALUE, "NAME", "role name (required)"},
    ROLE_FIELD_OPTS,
    {"scope", 0, ARGS_VALUE, "SCOPE", "tenant (default) or system"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt role_update_opts[] = {
    {"name", 0, ARGS_VALUE, "NAME", "new name"},
    ROLE_FIELD_OPTS,
    CLI_OPT_SET,
    CLI_OPT_IF_MATCH,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt role_delete_opts[] = {
    CLI_OPT_IF_MATCH,
    {NULL, 0, 0, NULL, NULL},
};

static const struct out_column role_cols[] = {
    {"ID", "id", NULL},	    {"NAME", "name", NULL},	  {"SCOPE", "scope", NULL},
    {"RANK", "rank", NULL}, {"BUILTIN", "builtin", NULL}, {"PERMISSIONS", "permissions", NULL},
};

/* Members shared by create and update. */
static enum cli_status role_body(struct cli_ctx *ctx, json_t *body, struct cli_err *err)
{
	enum cli_status st;
	long rank = -1;
	const char *v;
	size_t it = 0;

	st = patch_set_string(body, "name", args_get(ctx->args, "name"), err);
	if (st == CLI_OK)
		st = args_get_long(ctx->args, "rank", 0, 1000, &rank, err);
	if (st == CLI_OK && rank >= 0 && json_object_set_new(body, "rank", json_integer(rank)) != 0)
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
	if (st == CLI_OK)
		st = patch_set_list(body, "permissions", ctx->args, "permission", false, err);
	if (st == CLI_OK)
		st = patch_set_string(body, "description", args_get(ctx->args, "description"), err);
	if (st == CLI_OK)
		st = patch_set_string(body, "scope", args_get(ctx->args, "scope"), err);
	while (st == CLI_OK && (v = args_next(ctx->args, "set", &it)) != NULL)
		st = patch_set_apply(body, v, err);
	return st;
}

static enum cli_status role_list(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "roles", NULL);
	if (st == CLI_OK)
		st = request_list(ctx, &path, role_cols, sizeof(role_cols) / sizeof(role_cols[0]),
				  err);
	buf_release(&path);
	return st;
}

static enum cli_status role_get(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "roles", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "GET", buf_cstr(&path), NULL, err);
	buf_release(&path);
	return st;
}

static enum cli_status role_create(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	const char *v;
	json_t *body = json_object();
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	if (body == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	st = request_need(ctx, "name", &v, err);
	if (st == CLI_OK)
		st = request_need(ctx, "rank", &v, err);
	if (st == CLI_OK)
		st = role_body(ctx, body, err);
	if (st == CLI_OK && !args_has(ctx->args, "permission"))
		st = cli_fail(err, CLI_E_USAGE, "option '--permission' is required");
	if (st == CLI_OK)
		st = request_tenant_path(ctx, &path, err, "roles", NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "POST", buf_cstr(&path), body, err);
out:
	json_decref(body);
	buf_release(&path);
	return st;
}

static enum cli_status role_update(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	json_t *patch = json_object();
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	if (patch == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	st = role_body(ctx, patch, err);
	if (st == CLI_OK)
		st = request_need_changes(patch, err);
	if (st == CLI_OK)
		st = request_tenant_path(ctx, &path, err, "roles", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "PATCH", buf_cstr(&path), patch, err);
out:
	json_decref(patch);
	buf_release(&path);
	return st;
}

static enum cli_status role_delete(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path, done;

	buf_init(&path, CLI_URL_MAX);
	buf_init(&done, 1024);
	(void)buf_printf(&done, "role %s deleted", ctx->args->pos[0]);
	st = request_tenant_path(ctx, &path, err, "roles", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = request_delete(ctx, buf_cstr(&path), buf_cstr(&done), err);
	buf_release(&path);
	buf_release(&done);
	return st;
}

static const struct cli_cmd role_cmds[] = {
    {"list", "", "List the roles of the tenant, highest rank first.", role_list_opts, 0, 0,
     CLI_CMD_TENANT, role_list},
    {"get", "ID", "Show one role.", NULL, 1, 1, CLI_CMD_TENANT, role_get},
    {"create", "--name NAME --rank RANK --permission PERM... [--scope SCOPE]",
     "Create a role (not above your own rank or permissions).", role_create_opts, 0, 0,
     CLI_CMD_TENANT, role_create},
    {"update", "ID [--name NAME] [--rank RANK] [--permission PERM]...",
     "Change a role; --permission replaces the whole set. Built-in roles cannot change.",
     role_update_opts, 1, 1, CLI_CMD_TENANT, role_update},
    {"delete", "ID [--if-match VERSION]", "Delete a role that nobody holds.", role_delete_opts, 1,
     1, CLI_CMD_TENANT, role_delete},
};

const struct cli_resource cmd_role_resource = {
    "role", "manage the roles of a tenant", role_cmds, sizeof(role_cmds) / sizeof(role_cmds[0]),
    NULL,
};
