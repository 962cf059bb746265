/* roster tenant ...: tenants (docs/api.md "Tenants"). SLUG may be a slug or an id; get and
 * update fall back to --tenant when it is left out. */
#include "cli_int.h"

static const struct args_opt tenant_list_opts[] = {
    CLI_OPTS_LIST,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt tenant_create_opts[] = {
    {"slug", 0, ARGS_VALUE, "SLUG", "2-63 of [a-z0-9-] (required)"},
    {"name", 0, ARGS_VALUE, "NAME", "display name (required)"},
    {"template", 0, ARGS_VALUE, "TEMPLATE", "roles to start with (see 'roster templates')"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt tenant_update_opts[] = {
    {"name", 0, ARGS_VALUE, "NAME", "new display name"},
    CLI_OPT_SET,
    CLI_OPT_IF_MATCH,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt tenant_delete_opts[] = {
    CLI_OPT_IF_MATCH,
    {NULL, 0, 0, NULL, NULL},
};

static const struct out_column tenant_cols[] = {
    {"ID", "id", NULL},		{"SLUG", "slug", NULL},
    {"NAME", "name", NULL},	{"TEMPLATE", "template", NULL},
    {"STATUS", "status", NULL}, {"CREATED", "created_at", NULL},
};

/* Path of the tenant named by the positional argument, else by --tenant. */
static enum cli_status tenant_path(struct cli_ctx *ctx, struct buf *path, struct cli_err *err)
{
	const char *t = ctx->args->n_pos > 0 ? ctx->args->pos[0] : ctx->tenant;

	if (t == NULL)
		return cli_fail(err, CLI_E_USAGE, "which tenant? give SLUG or --tenant");
	return url_path_build(path, err, "api", "v1", "tenants", t, NULL);
}

static enum cli_status tenant_list(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = url_path_build(&path, err, "api", "v1", "tenants", NULL);
	if (st == CLI_OK)
		st = request_list(ctx, &path, tenant_cols,
				  sizeof(tenant_cols) / sizeof(tenant_cols[0]), err);
	buf_release(&path);
	return st;
}

static enum cli_status tenant_get(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = tenant_path(ctx, &path, err);
	if (st == CLI_OK)
		st = request_show_call(ctx, "GET", buf_cstr(&path), NULL, err);
	buf_release(&path);
	return st;
}

static enum cli_status tenant_create(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	const char *slug, *name;
	json_t *body = json_object();
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	if (body == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	st = request_need(ctx, "slug", &slug, err);
	if (st == CLI_OK)
		st = request_need(ctx, "name", &name, err);
	if (st == CLI_OK)
		st = patch_set_string(body, "slug", slug, err);
	if (st == CLI_OK)
		st = patch_set_string(body, "name", name, err);
	if (st == CLI_OK)
		st = patch_set_string(body, "template", args_get(ctx->args, "template"), err);
	if (st == CLI_OK)
		st = url_path_build(&path, err, "api", "v1", "tenants", NULL);
	if (st == CLI_OK)
		st = request_show_call(ctx, "POST", buf_cstr(&path), body, err);
out:
	json_decref(body);
	buf_release(&path);
	return st;
}

static enum cli_status tenant_update(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	json_t *patch = json_object();
	const char *v;
	size_t it = 0;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	if (patch == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	st = patch_set_string(patch, "name", args_get(ctx->args, "name"), err);
	while (st == CLI_OK && (v = args_next(ctx->args, "set", &it)) != NULL)
		st = patch_set_apply(patch, v, err);
	if (st == CLI_OK)
		st = request_need_changes(patch, err);
	if (st == CLI_OK)
		st = tenant_path(ctx, &path, err);
	if (st == CLI_OK)
		st = request_show_call(ctx, "PATCH", buf_cstr(&path), patch, err);
out:
	json_decref(patch);
	buf_release(&path);
	return st;
}

static enum cli_status tenant_delete(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path, done;

	buf_init(&path, CLI_URL_MAX);
	buf_init(&done, 1024);
	(void)buf_printf(&done, "tenant %s deleted", ctx->args->pos[0]);
	/* Deliberately no fallback to --tenant: deleting needs the name typed out. */
	st = url_path_build(&path, err, "api", "v1", "tenants", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = request_delete(ctx, buf_cstr(&path), buf_cstr(&done), err);
	buf_release(&path);
	buf_release(&done);
	return st;
}

static const struct cli_cmd tenant_cmds[] = {
    {"list", "[--limit N] [--all]", "List tenants (all of them for the maintenance account).",
     tenant_list_opts, 0, 0, 0, tenant_list},
    {"get", "[SLUG]", "Show a tenant (default: --tenant).", NULL, 0, 1, 0, tenant_get},
    {"create", "--slug SLUG --name NAME [--template TEMPLATE]", "Create a tenant.",
     tenant_create_opts, 0, 0, 0, tenant_create},
    {"update", "[SLUG] --name NAME", "Rename a tenant (default: --tenant).", tenant_update_opts, 0,
     1, 0, tenant_update},
    {"delete", "SLUG [--if-match VERSION]",
     "Delete a tenant; its users' tokens stop working at once.", tenant_delete_opts, 1, 1, 0,
     tenant_delete},
};

const struct cli_resource cmd_tenant_resource = {
    "tenant",	 "manage tenants (create and delete need the maintenance account)",
    tenant_cmds, sizeof(tenant_cmds) / sizeof(tenant_cmds[0]),
    NULL,
};
