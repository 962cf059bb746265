/* roster department ...: the department tree of a tenant and its managers (docs/lifecycle.md
 * "Departments"). The tree rules (cycles, depth, sibling names, non-empty deletes) are the
 * server's; the client only refuses option combinations that cannot mean anything. */
#include <string.h>

#include "cli_int.h"

static const struct args_opt dept_list_opts[] = {
    {"parent", 0, ARGS_VALUE, "ID", "only the children of this department"},
    {"roots", 0, 0, NULL, "only the roots of the tree"},
    CLI_OPTS_LIST,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt dept_create_opts[] = {
    {"name", 0, ARGS_VALUE, "NAME", "name, unique among its siblings (required)"},
    {"parent", 0, ARGS_VALUE, "ID", "parent department (default: a new root)"},
    {"description", 0, ARGS_VALUE, "TEXT", "description"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt dept_update_opts[] = {
    {"name", 0, ARGS_VALUE, "NAME", "new name"},
    {"parent", 0, ARGS_VALUE, "ID", "move under this department"},
    {"root", 0, 0, NULL, "move to the top of the tree"},
    {"description", 0, ARGS_VALUE, "TEXT", "new description"},
    CLI_OPT_IF_MATCH,
    {NULL, 0, 0, NULL, NULL},
};

static const struct args_opt dept_delete_opts[] = {
    {"move-to", 0, ARGS_VALUE, "ID",
     "move its users and child departments there (else it must be empty)"},
    CLI_OPT_IF_MATCH,
    {NULL, 0, 0, NULL, NULL},
};

/* "Security / SOC / Tier 1": a path reads as one, where the generic rendering of a list
 * ("Security,SOC") would not. */
static void dept_path_join(const json_t *path, struct buf *b)
{
	size_t i;
	const json_t *name;

	if (!json_is_array(path) || json_array_size(path) == 0) {
		(void)buf_putc(b, '-');
		return;
	}
	json_array_foreach(path, i, name)
	{
		if (i > 0)
			(void)buf_puts(b, " / ");
		out_value(name, OUT_BRIEF, b);
	}
}

static void dept_fmt_path(const json_t *d, struct buf *b)
{
	dept_path_join(json_object_get(d, "path"), b);
}

static const struct out_column dept_cols[] = {
    {"ID", "id", NULL},
    {"NAME", "name", NULL},
    {"PATH", NULL, dept_fmt_path},
    {"USERS", "user_count", NULL},
    {"CHILDREN", "child_count", NULL},
    {"MANAGERS", "managers", NULL},
};

/* Prints a department: --json as the server sent it; otherwise a key: value block in the
 * server's order, with the path joined. */
static enum cli_status dept_show(struct cli_ctx *ctx, const json_t *d, struct cli_err *err)
{
	enum cli_status st;
	json_t *shown;
	struct buf path;

	if (ctx->json || !json_is_object(d))
		return request_show(ctx, d, err);
	buf_init(&path, CLI_CELL_MAX);
	dept_path_join(json_object_get(d, "path"), &path);
	shown = json_copy((json_t *)d); /* shallow; d is not changed */
	if (shown == NULL || path.failed ||
	    json_object_set_new(shown, "path", json_string(buf_cstr(&path))) != 0)
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
	else
		st = out_object(ctx->out, shown, NULL, err);
	json_decref(shown);
	buf_release(&path);
	return st;
}

/* Sends a request that answers with a department, and prints it. */
static enum cli_status dept_call(struct cli_ctx *ctx, const char *method, const char *path,
				 const json_t *body, struct cli_err *err)
{
	char if_match[80];
	json_t *ans = NULL;
	enum cli_status st;

	st = request_if_match(ctx, if_match, sizeof(if_match), err);
	if (st == CLI_OK)
		st =
		    request_call(ctx, method, path, body, if_match[0] ? if_match : NULL, &ans, err);
	if (st == CLI_OK)
		st = dept_show(ctx, ans, err);
	json_decref(ans);
	return st;
}

/* Prints "<what>" (typed ids included, so through the sanitiser) unless --json. */
static enum cli_status dept_done(struct cli_ctx *ctx, const char *what, struct cli_err *err)
{
	enum cli_status st = CLI_OK;
	struct buf m;

	if (ctx->json)
		return CLI_OK;
	buf_init(&m, 1024);
	(void)buf_puts_safe(&m, what);
	if (fprintf(ctx->out, "%s\n", buf_cstr(&m)) < 0)
		st = cli_fail(err, CLI_E_INTERNAL, "cannot write output");
	buf_release(&m);
	return st;
}

static enum cli_status dept_list(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	const char *parent = args_get(ctx->args, "parent");
	bool roots = args_has(ctx->args, "roots");
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	if (parent != NULL && roots) {
		st = cli_fail(err, CLI_E_USAGE, "--parent and --roots exclude each other");
		goto out;
	}
	st = request_tenant_path(ctx, &path, err, "departments", NULL);
	if (st == CLI_OK)
		st = url_query_add(&path, "parent_id", parent, err);
	if (st == CLI_OK)
		st = url_query_add(&path, "root", roots ? "true" : NULL, err);
	if (st == CLI_OK)
		st = request_list(ctx, &path, dept_cols, sizeof(dept_cols) / sizeof(dept_cols[0]),
				  err);
out:
	buf_release(&path);
	return st;
}

static enum cli_status dept_get(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "departments", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = dept_call(ctx, "GET", buf_cstr(&path), NULL, err);
	buf_release(&path);
	return st;
}

static enum cli_status dept_create(struct cli_ctx *ctx, struct cli_err *err)
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
		st = patch_set_string(body, "name", name, err);
	if (st == CLI_OK)
		st = patch_set_string(body, "parent_id", args_get(ctx->args, "parent"), err);
	if (st == CLI_OK)
		st = patch_set_string(body, "description", args_get(ctx->args, "description"), err);
	if (st == CLI_OK)
		st = request_tenant_path(ctx, &path, err, "departments", NULL);
	if (st == CLI_OK)
		st = dept_call(ctx, "POST", buf_cstr(&path), body, err);
out:
	json_decref(body);
	buf_release(&path);
	return st;
}

/* A move is a PATCH of parent_id: --parent ID under another department, --root (null) to the
 * top. */
static enum cli_status dept_update(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	const char *parent = args_get(ctx->args, "parent");
	bool root = args_has(ctx->args, "root");
	json_t *patch = json_object();
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	if (patch == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	if (parent != NULL && root) {
		st = cli_fail(err, CLI_E_USAGE, "--parent and --root exclude each other");
		goto out;
	}
	st = patch_set_string(patch, "name", args_get(ctx->args, "name"), err);
	if (st == CLI_OK)
		st = patch_set_string(patch, "parent_id", parent, err);
	if (st == CLI_OK && root && json_object_set_new(patch, "parent_id", json_null()) != 0)
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
	if (st == CLI_OK)
		st =
		    patch_set_string(patch, "description", args_get(ctx->args, "description"), err);
	if (st == CLI_OK)
		st = request_need_changes(patch, err);
	if (st == CLI_OK)
		st = request_tenant_path(ctx, &path, err, "departments", ctx->args->pos[0], NULL);
	if (st == CLI_OK)
		st = dept_call(ctx, "PATCH", buf_cstr(&path), patch, err);
out:
	json_decref(patch);
	buf_release(&path);
	return st;
}

static enum cli_status dept_delete(struct cli_ctx *ctx, struct cli_err *err)
{
	const char *id = ctx->args->pos[0], *move_to = args_get(ctx->args, "move-to");
	enum cli_status st;
	struct buf path, done;

	buf_init(&path, CLI_URL_MAX);
	buf_init(&done, 1024);
	if (move_to != NULL)
		(void)buf_printf(&done, "department %s deleted; its users and children moved to %s",
				 id, move_to);
	else
		(void)buf_printf(&done, "department %s deleted", id);
	st = request_tenant_path(ctx, &path, err, "departments", id, NULL);
	if (st == CLI_OK)
		st = url_query_add(&path, "move_to", move_to, err);
	if (st == CLI_OK)
		st = request_delete(ctx, buf_cstr(&path), buf_cstr(&done), err);
	buf_release(&path);
	buf_release(&done);
	return st;
}

/* manager add (PUT, idempotent) and manager remove (DELETE): both answer 204. */
static enum cli_status dept_manager_change(struct cli_ctx *ctx, bool add, struct cli_err *err)
{
	const char *dept = ctx->args->pos[0], *user = ctx->args->pos[1];
	enum cli_status st;
	json_t *ans = NULL;
	struct buf path, done;

	buf_init(&path, CLI_URL_MAX);
	buf_init(&done, 1024);
	st = request_tenant_path(ctx, &path, err, "departments", dept, "managers", user, NULL);
	if (st == CLI_OK)
		st = request_call(ctx, add ? "PUT" : "DELETE", buf_cstr(&path), NULL, NULL, &ans,
				  err);
	if (st != CLI_OK)
		goto out;
	if (ctx->json && ans != NULL) {
		st = out_json(ctx->out, ans, err);
		goto out;
	}
	(void)buf_printf(&done, "user %s %s department %s", user,
			 add ? "is a manager of" : "is no longer a manager of", dept);
	st = dept_done(ctx, buf_cstr(&done), err);
out:
	json_decref(ans);
	buf_release(&path);
	buf_release(&done);
	return st;
}

static enum cli_status dept_manager_add(struct cli_ctx *ctx, struct cli_err *err)
{
	return dept_manager_change(ctx, true, err);
}

static enum cli_status dept_manager_remove(struct cli_ctx *ctx, struct cli_err *err)
{
	return dept_manager_change(ctx, false, err);
}

static const struct cli_cmd dept_cmds[] = {
    {"list", "[--parent ID | --roots] [--limit N] [--cursor CURSOR] [--all]",
     "List the departments of the tenant (all, the roots, or one's children).", dept_list_opts, 0,
     0, CLI_CMD_TENANT, dept_list},
    {"get", "ID", "Show one department: its path, managers and counts.", NULL, 1, 1, CLI_CMD_TENANT,
     dept_get},
    {"create", "--name NAME [--parent ID] [--description TEXT]", "Create a department.",
     dept_create_opts, 0, 0, CLI_CMD_TENANT, dept_create},
    {"update", "ID [--name NAME] [--parent ID | --root] [--description TEXT] [--if-match VERSION]",
     "Rename, describe or move a department (a move changes its parent).", dept_update_opts, 1, 1,
     CLI_CMD_TENANT, dept_update},
    {"delete", "ID [--move-to ID] [--if-match VERSION]",
     "Delete a department (empty, or moving its users and children with --move-to).",
     dept_delete_opts, 1, 1, CLI_CMD_TENANT, dept_delete},
    {"manager add", "ID USER_ID",
     "Record a user as a manager of a department (nothing happens if already one).", NULL, 2, 2,
     CLI_CMD_TENANT, dept_manager_add},
    {"manager remove", "ID USER_ID", "Remove a manager from a department.", NULL, 2, 2,
     CLI_CMD_TENANT, dept_manager_remove},
};

const struct cli_resource cmd_department_resource = {
    "department",
    "manage the department tree of a tenant and its managers",
    dept_cmds,
    sizeof(dept_cmds) / sizeof(dept_cmds[0]),
    "Managers are recorded for the host platform; they grant nothing by themselves.\n"
    "A move under the department itself or one of its descendants is refused (exit 7,\n"
    "department.cycle); so is deleting a department with users or children without\n"
    "--move-to (exit 7, department.not_empty).",
};
