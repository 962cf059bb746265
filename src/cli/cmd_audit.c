/* roster audit list: the audit trail of a tenant, newest first (docs/api.md "Audit").
 * "roster audit verify" opens the store and is run by src/main.c, not here. */
#include "cli_int.h"

static const struct args_opt audit_list_opts[] = {
    {"actor", 0, ARGS_VALUE, "ID", "only events by this user or token"},
    {"target", 0, ARGS_VALUE, "ID", "only events about this object"},
    {"action", 0, ARGS_VALUE, "ACTION", "exact action (user.create) or prefix ending in '.'"},
    {"since", 0, ARGS_VALUE, "TIME", "RFC 3339, e.g. 2026-11-22T14:00:00Z"},
    {"until", 0, ARGS_VALUE, "TIME", "RFC 3339"},
    CLI_OPTS_LIST,
    {NULL, 0, 0, NULL, NULL},
};

static const struct out_column audit_cols[] = {
    {"SEQ", "seq", NULL},     {"AT", "at", NULL},	  {"ACTION", "action", NULL},
    {"ACTOR", "actor", NULL}, {"TARGET", "target", NULL}, {"REQUEST", "request_id", NULL},
};

static enum cli_status audit_list(struct cli_ctx *ctx, struct cli_err *err)
{
	static const char *const filters[] = {"actor", "target", "action", "since", "until"};
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = request_tenant_path(ctx, &path, err, "audit", NULL);
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]) && st == CLI_OK; i++)
		st = url_query_add(&path, filters[i], args_get(ctx->args, filters[i]), err);
	if (st == CLI_OK)
		st = request_list(ctx, &path, audit_cols,
				  sizeof(audit_cols) / sizeof(audit_cols[0]), err);
	buf_release(&path);
	return st;
}

static const struct cli_cmd audit_cmds[] = {
    {"list", "[--actor ID] [--target ID] [--action ACTION] [--since T] [--until T]",
     "List audit events of the tenant, newest first.", audit_list_opts, 0, 0, CLI_CMD_TENANT,
     audit_list},
};

const struct cli_resource cmd_audit_resource = {
    "audit",
    "read the audit trail (audit verify runs on the server host)",
    audit_cmds,
    sizeof(audit_cmds) / sizeof(audit_cmds[0]),
    "Server-side:\n  verify           check the audit hash chain in the store (run on the "
    "server host:\n                   'roster audit verify --help')",
};
