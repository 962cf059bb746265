/* Internals shared by the files of src/cli/ (callers outside the CLI include cli.h only).
 * Everything here is pure and unit-tested except http_*, request_* and the command tables.
 * Convention: fallible functions return enum cli_status and take struct cli_err *err last;
 * err is untouched on success and the top level (cli_main) reports it once. */
#ifndef ROSTER_CLI_CLI_INT_H
#define ROSTER_CLI_CLI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "exit.h"

/* Limits of the client. The response cap protects the CLI from a hostile or broken server. */
#define CLI_RESPONSE_MAX (16u * 1024 * 1024)
#define CLI_URL_MAX 8192       /* base URL + path + query */
#define CLI_CELL_MAX 4096      /* one formatted value in a table or key: value block */
#define CLI_PAGE_LIMIT_ALL 200 /* page size used by --all (the server's maximum) */
#define CLI_PAGES_MAX 100000   /* --all stops here even if the server keeps paging */
#define CLI_DEFAULT_SERVER "http://127.0.0.1:7070"

/* ---- errors ---- */

struct cli_err {
	enum cli_status status;
	char msg[512]; /* one line, printed as "roster: <msg>"; never contains the token */
};

/* Fills err (if not NULL) and returns status. */
enum cli_status cli_fail(struct cli_err *err, enum cli_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- buf.c: a growable, NUL-terminated string with a hard maximum ---- */

struct buf {
	char *s;     /* NULL until the first append; always NUL-terminated after */
	size_t len;  /* without the NUL */
	size_t cap;  /* allocated bytes */
	size_t max;  /* len never exceeds this */
	bool failed; /* sticky: an append ran out of memory or hit max; contents then truncated */
};

/* Empty buffer that may grow to max bytes. Cannot fail. */
void buf_init(struct buf *b, size_t max);
/* Frees the contents; the buffer is empty and usable again. NULL-safe. */
void buf_release(struct buf *b);
/* Empties without freeing. */
void buf_reset(struct buf *b);
/* Appends; false (and b->failed) when out of memory or over max: nothing is appended then. */
bool buf_append(struct buf *b, const void *p, size_t n);
bool buf_puts(struct buf *b, const char *s);
bool buf_putc(struct buf *b, char c);
bool buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The contents, "" when empty. Borrowed: valid until the next change. */
const char *buf_cstr(const struct buf *b);
/* Appends s with control characters (C0, DEL, C1) replaced by '?', so text from the server
 * cannot move the cursor or recolour the terminal. */
bool buf_puts_safe(struct buf *b, const char *s);

/* ---- args.c: option parsing (no getopt: it keeps global state) ---- */

enum args_opt_flags {
	ARGS_VALUE = 1 << 0, /* takes a value: --name VALUE or --name=VALUE */
	ARGS_MULTI = 1 << 1, /* may repeat; every value is kept (otherwise the last one wins) */
};

struct args_opt {
	const char *name;    /* long name without "--"; NULL ends a table */
	char short_name;     /* e.g. 'h'; 0 if none */
	unsigned flags;	     /* enum args_opt_flags */
	const char *metavar; /* shown in help for options with a value: "N", "TEXT" */
	const char *help;
};

struct args_item {
	const struct args_opt *opt; /* borrowed from the tables given to args_parse */
	const char *value;	    /* borrowed from argv; NULL for a flag */
};

/* The parsed command line. Items and positionals point into argv, which must outlive it. */
struct args {
	struct args_item *items;
	size_t n_items;
	const char **pos;
	size_t n_pos;
	size_t cap; /* room in items and pos */
};

/* Room for every word of a command line of argc words. CLI_E_INTERNAL when out of memory. */
enum cli_status args_init(struct args *a, int argc, struct cli_err *err);
/* NULL-safe. */
void args_release(struct args *a);

enum args_parse_flags {
	ARGS_STOP_AT_POSITIONAL = 1 << 0, /* stop before the first positional word */
};

/* Parses argv[0..argc) against tables (an array of option tables, ended by NULL; each table
 * ends with an entry whose name is NULL), appending to a. Accepts "--name value",
 * "--name=value", "-h", and "--" (everything after it is positional). Stores in *consumed the
 * number of words used (with ARGS_STOP_AT_POSITIONAL the index of the first positional).
 * CLI_E_USAGE for an unknown option, a missing value or a value given to a flag. */
enum cli_status args_parse(struct args *a, const struct args_opt *const *tables, int argc,
			   char **argv, unsigned flags, int *consumed, struct cli_err *err);

/* Last value of option name ("status"), or NULL when absent or a flag. */
const char *args_get(const struct args *a, const char *name);
/* Whether the option was given at all. */
bool args_has(const struct args *a, const char *name);
/* Iterates over every value of a (repeatable) option, in command-line order: start with
 * *iter = 0; returns NULL when done. */
const char *args_next(const struct args *a, const char *name, size_t *iter);
/* Parses a decimal integer in [min, max] for option name into *out; absent leaves *out
 * untouched and returns CLI_OK. CLI_E_USAGE for anything else (trailing text, overflow). */
enum cli_status args_get_long(const struct args *a, const char *name, long min, long max, long *out,
			      struct cli_err *err);
/* Strict decimal parse of s into [min, max]; false on any junk. */
bool args_parse_long(const char *s, long min, long max, long *out);

/* ---- url.c: request paths and query strings, every piece percent-encoded ---- */

/* Appends "/" and the percent-encoded segment (RFC 3986 unreserved characters stay as they
 * are). CLI_E_USAGE for "", "." or "..", which would change the meaning of the path;
 * CLI_E_INTERNAL when out of memory or over the URL limit. */
enum cli_status url_path_add(struct buf *b, const char *segment, struct cli_err *err);
/* Appends each segment of the NULL-terminated list with url_path_add. */
enum cli_status url_path_build(struct buf *b, struct cli_err *err, ...) __attribute__((sentinel));
/* Appends "?key=value" or "&key=value", both percent-encoded; does nothing for value NULL. */
enum cli_status url_query_add(struct buf *b, const char *key, const char *value,
			      struct cli_err *err);
/* Percent-encodes s onto b. */
bool url_escape(struct buf *b, const char *s);

/* ---- patch.c: JSON bodies from options ---- */

/* The value of "--set field=VALUE": VALUE as JSON when it parses as JSON (null, true, 42,
 * "x", [..], {..}), otherwise the text as a string. Returns a new reference, NULL when out of
 * memory. */
json_t *patch_value_parse(const char *text);
/* Applies "field=VALUE" (field may be a dotted path into nested objects, e.g.
 * custom_attributes.team=red) to obj. CLI_E_USAGE when there is no '=', the field is empty,
 * or the path crosses a member that is not an object. */
enum cli_status patch_set_apply(json_t *obj, const char *assignment, struct cli_err *err);
/* Sets obj[key] = string value when value is not NULL. */
enum cli_status patch_set_string(json_t *obj, const char *key, const char *value,
				 struct cli_err *err);
/* Sets obj[key] = [values of repeatable option name], each also split at ',', when the option
 * was given (or always, with an empty array, when always is true). */
enum cli_status patch_set_list(json_t *obj, const char *key, const struct args *a, const char *name,
			       bool always, struct cli_err *err);
/* The If-Match header value for "--if-match V": digits become "\"V\"", anything else
 * ("*", W/"3", "3" with quotes) is passed as is. Writes into out (size n). CLI_E_USAGE for an
 * empty value or characters not allowed in a header. */
enum cli_status patch_if_match(const char *v, char *out, size_t n, struct cli_err *err);

/* ---- table.c: aligned text tables ---- */

struct table {
	size_t ncols;
	const char *const *headers; /* borrowed */
	char **cells;		    /* owned, nrows * ncols, already sanitised */
	size_t nrows;
	size_t cap_rows;
	bool failed; /* out of memory: table_print then fails */
};

/* A table with ncols columns; headers (borrowed) must outlive it. Cannot fail. */
void table_init(struct table *t, size_t ncols, const char *const *headers);
/* Copies one row of ncols cells (NULL cells print as "-"), with control characters replaced.
 * false when out of memory. */
bool table_add_row(struct table *t, const char *const *cells);
/* Writes the header and the rows, columns separated by two spaces and padded to the widest
 * cell (counting UTF-8 characters, not bytes); the last column is not padded. */
enum cli_status table_print(const struct table *t, FILE *out, struct cli_err *err);
/* NULL-safe. */
void table_release(struct table *t);
/* Display width of a UTF-8 string: code points, not bytes (wide characters count as one). */
size_t table_width(const char *s);

/* ---- output.c: rendering answers ---- */

enum out_mode {
	OUT_BRIEF, /* table cells: references shown by name, lists joined with "," */
	OUT_FULL,  /* key: value blocks: references as "name (id)", lists joined with ", " */
};

/* A table column: either path (member name, or "a.b" into a nested object) or fmt. */
struct out_column {
	const char *header;
	const char *path;
	void (*fmt)(const json_t *item, struct buf *b);
};

/* Appends a readable rendering of v (borrowed; NULL or null gives "-"). */
void out_value(const json_t *v, enum out_mode mode, struct buf *b);
/* Member at a dotted path in obj, NULL when absent. Borrowed. */
const json_t *out_lookup(const json_t *obj, const char *path);
/* Writes v as indented JSON followed by a newline. */
enum cli_status out_json(FILE *out, const json_t *v, struct cli_err *err);
/* Writes obj as a "key: value" block, keys padded to align; keys NULL means every member
 * in the server's order. */
enum cli_status out_object(FILE *out, const json_t *obj, const char *const *keys,
			   struct cli_err *err);
/* Writes items (an array of objects) as a table with the given columns. */
enum cli_status out_table(FILE *out, const json_t *items, const struct out_column *cols,
			  size_t ncols, struct cli_err *err);

/* ---- http.c: libcurl wrapper ---- */

struct http_client {
	void *curl;	   /* CURL *; opaque so this header needs no curl.h */
	char *base;	   /* server URL without a trailing '/' */
	char *auth_header; /* "Authorization: Bearer ..."; wiped before it is freed */
	char errbuf[256];  /* CURL_ERROR_SIZE */
};

struct http_response {
	long status;
	struct buf body; /* capped at CLI_RESPONSE_MAX */
	char request_id[72];
	char content_type[128];
	char etag[72];
};

/* Prepares a client for server (http:// or https:// URL; CLI_E_USAGE otherwise) with an
 * optional bearer token (copied; NULL or "" sends no Authorization header). */
enum cli_status http_client_init(struct http_client *c, const char *server, const char *token,
				 struct cli_err *err);
/* Frees and wipes the token copy. NULL-safe, accepts a half-built client. */
void http_client_release(struct http_client *c);
/* Sends method path (which starts with "/" and is already encoded) with an optional JSON body
 * and If-Match value. Any HTTP answer is CLI_OK with resp filled (resp must be released by the
 * caller either way); CLI_E_CONNECT when no answer came; CLI_E_INTERNAL when the answer is
 * over CLI_RESPONSE_MAX or libcurl fails otherwise. Redirects are not followed. */
enum cli_status http_request(struct http_client *c, const char *method, const char *path,
			     const char *body, const char *if_match, struct http_response *resp,
			     struct cli_err *err);
void http_response_release(struct http_response *r);

/* ---- commands ---- */

struct cli_ctx;

enum cli_cmd_flags {
	CLI_CMD_TENANT = 1 << 0,  /* needs --tenant */
	CLI_CMD_NO_AUTH = 1 << 1, /* sends no bearer token even when one is configured */
};

struct cli_cmd {
	const char *name;	     /* "list", "manager add" (words separated by one space); NULL
				      * for what the resource runs without a command (roster me) */
	const char *synopsis;	     /* positional and key options: "ID [--if-match V]" */
	const char *summary;	     /* one line */
	const struct args_opt *opts; /* command options, ended by {NULL}; NULL if none */
	unsigned pos_min, pos_max;   /* positional words allowed */
	unsigned flags;		     /* enum cli_cmd_flags */
	enum cli_status (*run)(struct cli_ctx *ctx, struct cli_err *err);
};

struct cli_resource {
	const char *name;    /* "user" */
	const char *summary; /* one line */
	const struct cli_cmd *cmds;
	size_t n_cmds;
	const char *note; /* extra help text, NULL if none */
};

/* What a running command sees. Built by cli_main for one invocation; nothing is global. */
struct cli_ctx {
	const struct cli_resource *res;
	const struct cli_cmd *cmd;
	const struct args *args; /* command-line options, including global ones */
	const char *server;
	const char *token; /* never printed */
	const char *tenant;
	bool json;
	FILE *out;
	struct http_client *http;
};

extern const struct cli_resource cmd_me_resource;
extern const struct cli_resource cmd_templates_resource;
extern const struct cli_resource cmd_tenant_resource;
extern const struct cli_resource cmd_user_resource;
extern const struct cli_resource cmd_role_resource;
extern const struct cli_resource cmd_group_resource;
extern const struct cli_resource cmd_token_resource;
extern const struct cli_resource cmd_audit_resource;
extern const struct cli_resource cmd_invitation_resource;
extern const struct cli_resource cmd_task_resource;
extern const struct cli_resource cmd_department_resource;

/* The command of res that the words argv[0..argc) name: the longest name that matches word
 * for word ("sessions revoke" wins over "sessions"), with its number of words in *nwords;
 * NULL (and *nwords 0) when none does. Commands without a name never match. */
const struct cli_cmd *cli_cmd_match(const struct cli_resource *res, int argc, char *const *argv,
				    int *nwords);
/* The command run when res is given no command name ("roster me"); NULL if it has none. */
const struct cli_cmd *cli_cmd_default(const struct cli_resource *res);
/* Prints the help of one command ("roster user list ...") to out. */
void cli_cmd_usage(FILE *out, const struct cli_resource *res, const struct cli_cmd *cmd);
/* Prints the help of a resource (its subcommands) to out. */
void cli_resource_usage(FILE *out, const struct cli_resource *res);

/* ---- request.c: one API call, and lists ---- */

/* Sends a request with body (borrowed, may be NULL) and returns the parsed JSON answer in *out
 * (new reference; NULL for an empty answer such as 204). On an HTTP error, fills err with the
 * problem's code and detail (and with --json prints the problem body to stdout). */
enum cli_status request_call(struct cli_ctx *ctx, const char *method, const char *path,
			     const json_t *body, const char *if_match, json_t **out,
			     struct cli_err *err);
/* Builds "/api/v1/tenants/{ctx->tenant}" followed by the given segments (NULL-terminated). */
enum cli_status request_tenant_path(struct cli_ctx *ctx, struct buf *b, struct cli_err *err, ...)
    __attribute__((sentinel));
/* GETs a collection at path (with query already in it, or not), honouring --limit, --cursor
 * and --all, and prints it (--json: the answer; otherwise a table with cols). */
enum cli_status request_list(struct cli_ctx *ctx, struct buf *path, const struct out_column *cols,
			     size_t ncols, struct cli_err *err);
/* Prints a single resource: --json as is, otherwise as a key: value block. NULL prints
 * nothing. */
enum cli_status request_show(struct cli_ctx *ctx, const json_t *obj, struct cli_err *err);
/* Sends the request and prints the resource it answers with (request_show). */
enum cli_status request_show_call(struct cli_ctx *ctx, const char *method, const char *path,
				  const json_t *body, struct cli_err *err);
/* DELETE path (honouring --if-match when the command has it); without --json prints
 * "<done>" on success, e.g. "user 0190... deleted". */
enum cli_status request_delete(struct cli_ctx *ctx, const char *path, const char *done,
			       struct cli_err *err);
/* The value of a required option in *out; CLI_E_USAGE when it is missing. */
enum cli_status request_need(struct cli_ctx *ctx, const char *name, const char **out,
			     struct cli_err *err);
/* The If-Match value for --if-match into out (size n), "" when not given. */
enum cli_status request_if_match(struct cli_ctx *ctx, char *out, size_t n, struct cli_err *err);
/* Fails with CLI_E_USAGE when a PATCH body has no member: nothing to change. */
enum cli_status request_need_changes(const json_t *patch, struct cli_err *err);
/* Option table entries shared by commands: --set and --if-match (updates), and
 * --limit, --cursor, --all (lists, read by request_list). */
#define CLI_OPT_SET                                                                                \
	{                                                                                          \
		"set", 0, ARGS_VALUE | ARGS_MULTI, "FIELD=VALUE",                                  \
		    "set any field (VALUE is JSON when it parses, else a string; null clears)"     \
	}
#define CLI_OPT_IF_MATCH                                                                           \
	{                                                                                          \
		"if-match", 0, ARGS_VALUE, "VERSION", "fail with 412 unless the version matches"   \
	}
#define CLI_OPTS_LIST                                                                              \
	{"limit", 0, ARGS_VALUE, "N", "page size (1-200; default 50)"},                            \
	    {"cursor", 0, ARGS_VALUE, "CURSOR", "continue from a previous page"},                  \
	{                                                                                          \
		"all", 0, 0, NULL, "follow next_cursor to the end"                                 \
	}

/* ---- secret.c: passwords read without argv ---- */

#define CLI_SECRET_MAX 1024 /* bytes of a password line; the server allows 256 characters */

/* Reads one line (up to "\n", or "\r\n", or end of file) from fd into out (size cap),
 * NUL-terminated, without the line end. Reads byte by byte so nothing past the line is taken
 * from a shared stdin, and no stdio buffer keeps a copy. CLI_E_USAGE for an empty line or one
 * that does not fit; CLI_E_INTERNAL for a read error. out is wiped on failure. */
enum cli_status secret_read_line(int fd, char *out, size_t cap, struct cli_err *err);
/* Reads a new password into out (size cap): from file (path, "-" for stdin) when not NULL;
 * otherwise prompts twice on the terminal with echo off when stdin is a TTY, or reads a
 * line from stdin when it is not. The prompt and any complaint go to stderr. A signal while
 * echo is off restores the terminal before the process ends. out is wiped on failure. */
enum cli_status secret_read_password(const char *file, char *out, size_t cap, struct cli_err *err);
/* secret_read_password with another prompt, asked twice only when confirm is true: "Current
 * password: " once, for a password that is proven rather than set. Two calls that both read
 * stdin (no terminal, or file "-") take its first and its second line. */
enum cli_status secret_read(const char *file, const char *prompt, bool confirm, char *out,
			    size_t cap, struct cli_err *err);
/* Makes jansson wipe every block it frees (process-wide; cli_main calls it before anything
 * else touches jansson). Cannot fail. */
void secret_json_wipe_on_free(void);

/* ---- task.c: waiting for an asynchronous task ---- */

enum task_state {
	TASK_QUEUED,
	TASK_PROCESSING,
	TASK_COMPLETED,
	TASK_FAILED,
	TASK_UNKNOWN, /* a status this client does not know (or none) */
};

/* The state named by a task's "status" member. Cannot fail. */
enum task_state task_state_of(const json_t *task);

/* How task_wait polls; the hooks make it testable without a server or a clock. */
struct task_poll {
	/* GETs the task again into *out (new reference) or fails with err filled. */
	enum cli_status (*fetch)(void *ud, json_t **out, struct cli_err *err);
	long long (*now_ms)(void *ud); /* a monotonic clock */
	void (*sleep_ms)(void *ud, long long ms);
	void *ud;
	long long interval_ms; /* between polls */
	long long timeout_ms;  /* from the call to task_wait */
};

#define TASK_POLL_INTERVAL_MS 200
#define TASK_WAIT_DEFAULT_S 60
#define TASK_WAIT_MAX_S 86400

/* Polls until the task is COMPLETED (CLI_OK), FAILED (CLI_E_TASK_FAILED, with the task's
 * reason in err), or timeout_ms has passed (CLI_E_TIMEOUT), sleeping interval_ms between
 * polls and never past the deadline. first (borrowed) is the task as last seen; *last gets the
 * task as last seen in every case (new reference; NULL only when out of memory), so callers
 * can print it. A fetch error ends the wait with that error; an unknown status is
 * CLI_E_INTERNAL. */
enum cli_status task_wait(const struct task_poll *p, const json_t *first, json_t **last,
			  struct cli_err *err);

/* Prints task (borrowed; the answer that queued it) or, with wait, polls it for at most
 * timeout_s seconds (task_wait) and prints it as last seen (except with --json after a failed
 * poll, whose problem document is stdout's one document then). CLI_E_INTERNAL when task is
 * not a task. (cmd_task.c) */
enum cli_status task_report(struct cli_ctx *ctx, const json_t *task, bool wait, long timeout_s,
			    struct cli_err *err);

/* ---- cmd_account.c: account security, in the tables of roster user and roster me ---- */

/* Options of "sessions revoke" (--session), "login-failures" (list options), "user password"
 * (--temporary, --password-file) and "me password" (--current-password-file,
 * --password-file). */
extern const struct args_opt account_sessions_revoke_opts[];
extern const struct args_opt account_failures_opts[];
extern const struct args_opt account_user_password_opts[];
extern const struct args_opt account_me_password_opts[];
/* roster user unlock|sessions|sessions revoke|login-failures|password ID. */
enum cli_status account_user_unlock(struct cli_ctx *ctx, struct cli_err *err);
enum cli_status account_user_sessions(struct cli_ctx *ctx, struct cli_err *err);
enum cli_status account_user_sessions_revoke(struct cli_ctx *ctx, struct cli_err *err);
enum cli_status account_user_login_failures(struct cli_ctx *ctx, struct cli_err *err);
enum cli_status account_user_password(struct cli_ctx *ctx, struct cli_err *err);
/* roster me sessions|sessions revoke|password. */
enum cli_status account_me_sessions(struct cli_ctx *ctx, struct cli_err *err);
enum cli_status account_me_sessions_revoke(struct cli_ctx *ctx, struct cli_err *err);
enum cli_status account_me_password(struct cli_ctx *ctx, struct cli_err *err);

/* ---- cmd_invitation.c ---- */

/* The invitation token in arg, which is the token itself or the link that carries it
 * ("<public_url>/invitations/<token>", as e-mailed). Borrowed from arg. CLI_E_USAGE for an
 * empty token. */
enum cli_status invitation_token_arg(const char *arg, const char **token, struct cli_err *err);

#endif
