/* roster group ...: groups of a tenant and their members (docs/api.md "Groups"). */
#include "cli_int.h"

static const struct args_opt group_list_opts[] = {
    CLI_OPTS_LIST,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt group_create_opts[] = {
    {"name", 0, ARGS_VALUE, "NAME", "group name (required)"},
    {"description", 0, ARGS_VALUE, "TEXT", "description"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt group_update_opts[] = {
    {"name", 0, ARGS_VALUE, "NAME", "new name"},
    {"description", 0, ARGS_VALUE, "TEXT", "new description"},
    CLI_OPT_SET,
    CLI_OPT_IF_MATCH,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt group_delete_opts[] = {
    CLI_OPT_IF_MATCH,
    {NULL, 0, 0, NULL, NULL},
};

static const struct out_column group_cols[] = {
    {"ID", "id", NULL},
    {"NAME", "name", NULL},
    {"MEMBERS", "member_count", NULL},
    {"DESCRIPTION", "description", NULL},
};

static const struct out_column member_cols[] = {
    {"ID", "id", NULL},
    {"USERNAME", "username", NULL},
};

static enum cli_status group_body(struct cli_ctx *ctx, json_t *body, struct cli_err *err)
{
	enum cli_status st;
	const char *v;
	size_t it = 0;

	st = patch_set_string(body, "name", args_get(ctx->args, "name"), err);
	if (st == CLI_OK)
		st = patch_set_string(body, "description", args_get(ctx->args, "description"), err);
	while (st == CLI_OK && (v = args_next(ctx->args, "set", &it)) != NULL)
		st = patch_set_apply(body, v, err);
	return st;
}

static enum cli_status group_list(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "groups", NULL);
	if (st == CLI_OK)
		st = request_list(ctx, &path, group_cols,
				  sizeof(group_cols) / sizeof(group_cols[0]), err);
	buf_release(&path);
	return st;
}

static enum cli_status group_members(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "groups", ctx->args->pos[0], "members", NULL);
	if (st == CLI_OK)
		st = request_list(ctx, &path, member_cols,
				  sizeof(member_cols) / sizeof(member_cols[0]), err);
	buf_release(&path);
	return st;
}

static enum cli_status group_get(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "groups", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "GET", buf_cstr(&path), NULL, err);
	buf_release(&path);
	return st;
}

static enum cli_status group_create(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	const char *name;
	json_t *body = json_object();
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	if (body == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	st = request_need(ctx, "name", &name, err);
	if (st == CLI_OK)
		st = group_body(ctx, body, err);
	if (st == CLI_OK)
		st = request_tenant_path(ctx, &path, err, "groups", NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "POST", buf_cstr(&path), body, err);
out:
	json_decref(body);
	buf_release(&path);
	return st;
}

static enum cli_status group_update(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	json_t *patch = json_object();
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	if (patch == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	st = group_body(ctx, patch, err);
	if (st == CLI_OK)
		st = request_need_changes(patch, err);
	if (st == CLI_OK)
		st = request_tenant_path(ctx, &path, err, "groups", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "PATCH", buf_cstr(&path), patch, err);
out:
	json_decref(patch);
	buf_release(&path);
	return st;
}

static enum cli_status group_delete(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path, done;

	buf_init(&path, CLI_URL_MAX);
	buf_init(&done, 1024);
	(void)buf_printf(&done, "group %s deleted", ctx->args->pos[0]);
	st = request_tenant_path(ctx, &path, err, "groups", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = request_delete(ctx, buf_cstr(&path), buf_cstr(&done), err);
	buf_release(&path);
	buf_release(&done);
	return st;
}

/* add-member (PUT) and remove-member (DELETE) differ only in method and wording. */
static enum cli_status group_member_change(struct cli_ctx *ctx, bool add, struct cli_err *err)
{
	const char *group = ctx->args->pos[0], *user = ctx->args->pos[1];
	enum cli_status st;
	json_t *ans = NULL;
	struct buf path, done;

	buf_init(&path, CLI_URL_MAX);
	buf_init(&done, 1024);
	st = request_tenant_path(ctx, &path, err, "groups", group, "members", user, NULL);
	if (st != CLI_OK)
		goto out;
	if (!add) {
		(void)buf_printf(&done, "user %s removed from group %s", user, group);
		st = request_delete(ctx, buf_cstr(&path), buf_cstr(&done), err);
		goto out;
	}
	st = request_call(ctx, "PUT", buf_cstr(&path), NULL, NULL, &ans, err);
	if (st != CLI_OK)
		goto out;
	if (ctx->json) {
		if (ans != NULL)
			st = out_json(ctx->out, ans, err);
	} else {
		/* Ids typed by the user: printed through the sanitiser like everything else. */
		struct buf m;

		buf_init(&m, 1024);
		(void)buf_printf(&done, "user %s added to group %s", user, group);
		(void)buf_puts_safe(&m, buf_cstr(&done));
		fprintf(ctx->out, "%s\n", buf_cstr(&m));
		buf_release(&m);
	}
out:
	json_decref(ans);
	buf_release(&path);
	buf_release(&done);
	return st;
}

static enum cli_status group_add_member(struct cli_ctx *ctx, struct cli_err *err)
{
	return group_member_change(ctx, true, err);
}

static enum cli_status group_remove_member(struct cli_ctx *ctx, struct cli_err *err)
{
	return group_member_change(ctx, false, err);
}

static const struct cli_cmd group_cmds[] = {
    {"list", "[--limit N] [--all]", "List the groups of the tenant.", group_list_opts, 0, 0,
     CLI_CMD_TENANT, group_list},
    {"get", "ID", "Show one group.", NULL, 1, 1, CLI_CMD_TENANT, group_get},
    {"create", "--name NAME [--description TEXT]", "Create a group.", group_create_opts, 0, 0,
     CLI_CMD_TENANT, group_create},
    {"update", "ID [--name NAME] [--description TEXT]", "Change a group.", group_update_opts, 1, 1,
     CLI_CMD_TENANT, group_update},
    {"delete", "ID [--if-match VERSION]", "Delete a group.", group_delete_opts, 1, 1,
     CLI_CMD_TENANT, group_delete},
    {"members", "ID [--limit N] [--all]", "List the members of a group.", group_list_opts, 1, 1,
     CLI_CMD_TENANT, group_members},
    {"add-member", "ID USER_ID", "Add a user to a group (nothing happens if already in it).", NULL,
     2, 2, CLI_CMD_TENANT, group_add_member},
    {"remove-member", "ID USER_ID", "Remove a user from a group.", NULL, 2, 2, CLI_CMD_TENANT,
     group_remove_member},
};

const struct cli_resource cmd_group_resource = {
    "group",	"manage the groups of a tenant and their members",
    group_cmds, sizeof(group_cmds) / sizeof(group_cmds[0]),
    NULL,
};
