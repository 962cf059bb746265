/* The client's front door: global options, finding the command, help texts, and reporting
 * the one error a command ends with. Commands live in cmd_*.c and see only struct cli_ctx. */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "cli_int.h"

static const struct args_opt cli_global_opts[] = {
    {"server", 0, ARGS_VALUE, "URL", "server URL (env ROSTER_URL; default " CLI_DEFAULT_SERVER ")"},
    {"token", 0, ARGS_VALUE, "TOKEN", "API token (env ROSTER_TOKEN, preferred: argv is visible)"},
    {"tenant", 0, ARGS_VALUE, "SLUG_OR_ID", "tenant of tenant-scoped commands (env ROSTER_TENANT)"},
    {"json", 0, 0, NULL, "print the JSON answer (pretty-printed) instead of tables"},
    {"help", 'h', 0, NULL, "show help"},
    {NULL, 0, 0, NULL, NULL},
};

static const struct cli_resource *const cli_resources[] = {
    &cmd_me_resource,	 &cmd_templates_resource,  &cmd_tenant_resource,     &cmd_user_resource,
    &cmd_role_resource,	 &cmd_group_resource,	   &cmd_department_resource, &cmd_token_resource,
    &cmd_audit_resource, &cmd_invitation_resource, &cmd_task_resource,
};
#define CLI_N_RESOURCES (sizeof(cli_resources) / sizeof(cli_resources[0]))

/* Commands of the same binary that src/main.c runs itself; listed for help only. */
static const struct {
	const char *name;
	const char *summary;
} cli_server_cmds[] = {
    {"serve", "run the server"},
    {"init", "create a data directory, keys and the maintenance account"},
    {"migrate", "bring the store's schema up to date"},
    {"audit verify", "check the hash chain of the audit log"},
    {"keys rotate", "make a new JWT signing key current (the old one stays valid as previous)"},
    {"keys list", "list the JWT signing keys: kid, status, created_at"},
};
#define CLI_N_SERVER_CMDS (sizeof(cli_server_cmds) / sizeof(cli_server_cmds[0]))

static void cli_opts_usage(FILE *out, const char *title, const struct args_opt *opts)
{
	if (opts == NULL || opts[0].name == NULL)
		return;
	fprintf(out, "\n%s:\n", title);
	for (const struct args_opt *o = opts; o->name != NULL; o++) {
		char left[64];

		if (o->short_name != 0)
			(void)snprintf(left, sizeof(left), "-%c, --%s", o->short_name, o->name);
		else if (o->flags & ARGS_VALUE)
			(void)snprintf(left, sizeof(left), "--%s %s", o->name, o->metavar);
		else
			(void)snprintf(left, sizeof(left), "--%s", o->name);
		fprintf(out, "  %-28s %s%s\n", left, o->help,
			(o->flags & ARGS_MULTI) ? " (repeatable)" : "");
	}
}

void cli_cmd_usage(FILE *out, const struct cli_resource *res, const struct cli_cmd *cmd)
{
	fprintf(out, "Usage: roster %s%s%s%s%s\n\n%s\n", res->name, cmd->name ? " " : "",
		cmd->name ? cmd->name : "", cmd->synopsis[0] ? " " : "", cmd->synopsis,
		cmd->summary);
	if (cmd->flags & CLI_CMD_TENANT)
		fprintf(out, "Needs --tenant (or ROSTER_TENANT).\n");
	cli_opts_usage(out, "Options", cmd->opts);
	cli_opts_usage(out, "Global options", cli_global_opts);
}

void cli_resource_usage(FILE *out, const struct cli_resource *res)
{
	bool has_default = false;

	if (res->n_cmds == 1 && res->cmds[0].name == NULL) {
		cli_cmd_usage(out, res, &res->cmds[0]);
		return;
	}
	/* A resource may run a command of its own as well ("roster me"): listed as (none). */
	for (size_t i = 0; i < res->n_cmds; i++)
		has_default = has_default || res->cmds[i].name == NULL;
	fprintf(out, "Usage: roster %s %s [options]\n\n%s\n\nCommands:\n", res->name,
		has_default ? "[<command>]" : "<command>", res->summary);
	for (size_t i = 0; i < res->n_cmds; i++)
		fprintf(out, "  %-16s %s\n", res->cmds[i].name ? res->cmds[i].name : "(none)",
			res->cmds[i].summary);
	if (res->note != NULL)
		fprintf(out, "\n%s\n", res->note);
	fprintf(out, "\nRun 'roster %s <command> --help' for the options of a command.\n",
		res->name);
}

void cli_usage(FILE *out)
{
	fprintf(out,
		"Usage: roster <command> [options]\n\nServer commands (on the server host):\n");
	for (size_t i = 0; i < CLI_N_SERVER_CMDS; i++)
		fprintf(out, "  %-16s %s\n", cli_server_cmds[i].name, cli_server_cmds[i].summary);
	fprintf(out, "\nClient commands (talk to a running server over its REST API):\n");
	for (size_t i = 0; i < CLI_N_RESOURCES; i++)
		fprintf(out, "  %-16s %s\n", cli_resources[i]->name, cli_resources[i]->summary);
	fprintf(out, "  %-16s %s\n", "help [COMMAND]", "show help for a command");
	cli_opts_usage(out, "Global options (before or after the command)", cli_global_opts);
	fprintf(out,
		"\nExit codes:\n"
		"  0 success          1 internal error       2 usage error\n"
		"  3 cannot connect   4 not authenticated    5 forbidden\n"
		"  6 not found        7 conflict or stale version (409, 412)\n"
		"  8 invalid input (400, 413, 415)           9 server error or unavailable (5xx)\n"
		"  10 task failed     11 gave up waiting for a task (it may still finish)\n"
		"\nRun 'roster help <command>' or 'roster <command> --help' for details.\n");
}

static const struct cli_resource *cli_find_resource(const char *name)
{
	for (size_t i = 0; i < CLI_N_RESOURCES; i++)
		if (strcmp(cli_resources[i]->name, name) == 0)
			return cli_resources[i];
	return NULL;
}

const struct cli_cmd *cli_cmd_match(const struct cli_resource *res, int argc, char *const *argv,
				    int *nwords)
{
	const struct cli_cmd *best = NULL;
	int best_n = 0;

	for (size_t i = 0; i < res->n_cmds; i++) {
		const char *name = res->cmds[i].name;
		int n = 0;

		if (name == NULL)
			continue;
		/* Compare the name word by word with argv: "sessions revoke" needs two words. */
		while (n < argc) {
			size_t len = strcspn(name, " ");

			if (strlen(argv[n]) != len || strncmp(argv[n], name, len) != 0)
				break;
			n++;
			name += len;
			if (*name == '\0')
				break;
			name++;
		}
		if (*name == '\0' && n > best_n) {
			best = &res->cmds[i];
			best_n = n;
		}
	}
	*nwords = best_n;
	return best;
}

const struct cli_cmd *cli_cmd_default(const struct cli_resource *res)
{
	for (size_t i = 0; i < res->n_cmds; i++)
		if (res->cmds[i].name == NULL)
			return &res->cmds[i];
	return NULL;
}

static bool cli_has_subcommands(const struct cli_resource *res)
{
	for (size_t i = 0; i < res->n_cmds; i++)
		if (res->cmds[i].name != NULL)
			return true;
	return false;
}

/* "roster help [COMMAND [SUBCOMMAND]]". */
static enum cli_status cli_help(int argc, char **argv, struct cli_err *err)
{
	const struct cli_resource *res;
	const struct cli_cmd *cmd;
	int words = 0;

	if (argc == 0) {
		cli_usage(stdout);
		return CLI_OK;
	}
	for (size_t i = 0; i < CLI_N_SERVER_CMDS; i++) {
		const char *n = cli_server_cmds[i].name;
		size_t len = strcspn(n, " ");

		/* "help serve" or "help audit verify": answered by the server side. */
		if ((argc == 1 && strcmp(argv[0], n) == 0) ||
		    (argc == 2 && n[len] == ' ' && strncmp(argv[0], n, len) == 0 &&
		     argv[0][len] == '\0' && strcmp(argv[1], n + len + 1) == 0)) {
			printf("roster %s: %s.\nRun 'roster %s --help' for its options.\n", n,
			       cli_server_cmds[i].summary, n);
			return CLI_OK;
		}
	}
	res = cli_find_resource(argv[0]);
	if (res == NULL)
		return cli_fail(err, CLI_E_USAGE, "no help for unknown command '%s'", argv[0]);
	if (argc == 1 || !cli_has_subcommands(res)) {
		cli_resource_usage(stdout, res);
		return CLI_OK;
	}
	cmd = cli_cmd_match(res, argc - 1, argv + 1, &words);
	if (cmd == NULL || words != argc - 1) {
		struct buf all;

		buf_init(&all, sizeof(err->msg));
		for (int i = 0; i < argc; i++)
			(void)buf_printf(&all, "%s%s", i > 0 ? " " : "", argv[i]);
		(void)cli_fail(err, CLI_E_USAGE, "no help for unknown command '%s'",
			       buf_cstr(&all));
		buf_release(&all);
		return CLI_E_USAGE;
	}
	cli_cmd_usage(stdout, res, cmd);
	return CLI_OK;
}

/* Option value, else the environment variable when set and not empty, else fallback. */
static const char *cli_setting(const struct args *a, const char *opt, const char *env,
			       const char *fallback)
{
	const char *v = args_get(a, opt);

	if (v != NULL)
		return v;
	v = getenv(env);
	return v != NULL && v[0] != '\0' ? v : fallback;
}

/* Parses the command line, runs the command. Which help to print on a usage error is left
 * in *res_out and *cmd_out. */
static enum cli_status cli_run(int argc, char **argv, struct args *a,
			       const struct cli_resource **res_out, const struct cli_cmd **cmd_out,
			       struct cli_err *err)
{
	const struct args_opt *const global_only[] = {cli_global_opts, NULL};
	const struct cli_resource *res;
	const struct cli_cmd *cmd;
	struct http_client http = {0};
	struct cli_ctx ctx;
	enum cli_status st;
	int used = 0, n = 0;
	bool curl_ready = false;

	/* Global options may come before the command: "roster --tenant acme user list". */
	st = args_parse(a, global_only, argc, argv, ARGS_STOP_AT_POSITIONAL, &used, err);
	if (st != CLI_OK)
		return st;
	if (used == argc) {
		if (args_has(a, "help")) {
			cli_usage(stdout);
			return CLI_OK;
		}
		return cli_fail(err, CLI_E_USAGE, "missing command");
	}
	if (strcmp(argv[used], "help") == 0)
		return cli_help(argc - used - 1, argv + used + 1, err);
	res = cli_find_resource(argv[used]);
	if (res == NULL)
		return cli_fail(err, CLI_E_USAGE, "unknown command '%s'", argv[used]);
	*res_out = res;
	used++;
	if (cli_has_subcommands(res)) {
		st = args_parse(a, global_only, argc - used, argv + used, ARGS_STOP_AT_POSITIONAL,
				&n, err);
		if (st != CLI_OK)
			return st;
		used += n;
		if (used == argc) {
			if (args_has(a, "help")) {
				cli_resource_usage(stdout, res);
				return CLI_OK;
			}
			cmd = cli_cmd_default(res);
			if (cmd == NULL)
				return cli_fail(err, CLI_E_USAGE, "missing %s command", res->name);
		} else {
			cmd = cli_cmd_match(res, argc - used, argv + used, &n);
			if (cmd == NULL) {
				cmd = cli_cmd_default(res);
				n = 0;
				/* "roster me frob" is a mistyped command, not an argument of
				 * "roster me", whose default command takes none. */
				if (cmd == NULL || cmd->pos_max == 0)
					return cli_fail(err, CLI_E_USAGE, "unknown command '%s %s'",
							res->name, argv[used]);
			}
			used += n;
		}
	} else {
		cmd = &res->cmds[0];
	}
	*cmd_out = cmd;

	const struct args_opt *const tables[] = {cli_global_opts, cmd->opts, NULL};

	st = args_parse(a, tables, argc - used, argv + used, 0, NULL, err);
	if (st != CLI_OK)
		return st;
	if (args_has(a, "help")) {
		cli_cmd_usage(stdout, res, cmd);
		return CLI_OK;
	}
	if (a->n_pos < cmd->pos_min)
		return cli_fail(err, CLI_E_USAGE, "missing argument (%s)", cmd->synopsis);
	if (a->n_pos > cmd->pos_max)
		return cli_fail(err, CLI_E_USAGE, "unexpected argument '%s'", a->pos[cmd->pos_max]);

	memset(&ctx, 0, sizeof(ctx));
	ctx.res = res;
	ctx.cmd = cmd;
	ctx.args = a;
	ctx.server = cli_setting(a, "server", "ROSTER_URL", CLI_DEFAULT_SERVER);
	ctx.token = cli_setting(a, "token", "ROSTER_TOKEN", NULL);
	ctx.tenant = cli_setting(a, "tenant", "ROSTER_TENANT", NULL);
	ctx.json = args_has(a, "json");
	ctx.out = stdout;
	ctx.http = &http;
	if ((cmd->flags & CLI_CMD_TENANT) && ctx.tenant == NULL)
		return cli_fail(err, CLI_E_USAGE, "this command needs --tenant (or ROSTER_TENANT)");

	/* The only process-wide state: libcurl's, set up here and torn down before return. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		st = cli_fail(err, CLI_E_INTERNAL, "cannot initialise libcurl");
		goto out;
	}
	curl_ready = true;
	/* The invitation link is the credential of view and accept: an administrator's
	 * ROSTER_TOKEN left in the environment has no business travelling with it. */
	st = http_client_init(&http, ctx.server, (cmd->flags & CLI_CMD_NO_AUTH) ? NULL : ctx.token,
			      err);
	if (st == CLI_OK)
		st = cmd->run(&ctx, err);
out:
	http_client_release(&http);
	if (curl_ready)
		curl_global_cleanup();
	return st;
}

int cli_main(int argc, char **argv)
{
	const struct cli_resource *res = NULL;
	const struct cli_cmd *cmd = NULL;
	struct cli_err err = {CLI_OK, ""};
	struct args a;
	enum cli_status st;

	secret_json_wipe_on_free();
	st = args_init(&a, argc, &err);
	if (st == CLI_OK)
		st = cli_run(argc, argv, &a, &res, &cmd, &err);
	/* A full disk or a closed pipe must not look like success to a script. */
	if (fflush(stdout) != 0 && st == CLI_OK)
		st = cli_fail(&err, CLI_E_INTERNAL, "cannot write output");
	if (st != CLI_OK) {
		struct buf m;

		/* Messages quote user input and server text: keep control characters out. */
		buf_init(&m, sizeof(err.msg));
		(void)buf_puts_safe(&m, err.msg);
		fprintf(stderr, "roster: %s\n", buf_cstr(&m));
		buf_release(&m);
		if (st == CLI_E_USAGE) {
			fputc('\n', stderr);
			if (cmd != NULL)
				cli_cmd_usage(stderr, res, cmd);
			else if (res != NULL)
				cli_resource_usage(stderr, res);
			else
				cli_usage(stderr);
		}
	}
	args_release(&a);
	return cli_exit_code(st);
}
