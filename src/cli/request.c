/* One API call as the commands see it: JSON in, JSON out, HTTP errors turned into
 * "code: detail (request id)" in err. Also the collection walk behind every "list". */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli_int.h"

/* Fills err from an error answer (parsed problem+json in problem, or NULL when the body was
 * not JSON). */
static enum cli_status request_problem(struct cli_ctx *ctx, const struct http_response *r,
				       const json_t *problem, enum cli_status st,
				       struct cli_err *err)
{
	const char *code = json_string_value(json_object_get(problem, "code"));
	const char *detail = json_string_value(json_object_get(problem, "detail"));
	const char *rid = json_string_value(json_object_get(problem, "instance"));
	const char *hint = "";
	struct buf m;

	if (rid == NULL || rid[0] == '\0')
		rid = r->request_id;
	if (st == CLI_E_UNAUTHENTICATED && (ctx->token == NULL || ctx->token[0] == '\0'))
		hint = " [no token given: use --token or ROSTER_TOKEN]";
	buf_init(&m, sizeof(err->msg));
	if (code != NULL)
		(void)buf_printf(&m, "%s: %s", code, detail != NULL ? detail : "(no detail)");
	else
		(void)buf_printf(&m, "HTTP %ld from the server%s%s", r->status,
				 detail != NULL ? ": " : "", detail != NULL ? detail : "");
	if (rid[0] != '\0')
		(void)buf_printf(&m, " (request %s)", rid);
	(void)buf_puts(&m, hint);
	/* On overflow the message is just cut: buf keeps what fitted. */
	(void)cli_fail(err, st, "%s", buf_cstr(&m));
	buf_release(&m);
	return st;
}

enum cli_status request_call(struct cli_ctx *ctx, const char *method, const char *path,
			     const json_t *body, const char *if_match, json_t **out,
			     struct cli_err *err)
{
	enum cli_status st;
	struct http_response r;
	json_t *ans = NULL;
	char *text = NULL;

	if (out != NULL)
		*out = NULL;
	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		if (text == NULL)
			return cli_fail(err, CLI_E_INTERNAL, "out of memory");
	}
	st = http_request(ctx->http, method, path, text, if_match, &r, err);
	if (st != CLI_OK)
		goto out;
	if (r.body.len > 0)
		ans = json_loadb(r.body.s, r.body.len, 0, NULL);
	st = cli_status_from_http(r.status);
	if (st != CLI_OK) {
		/* Scripts with --json get the problem document on stdout as well. */
		if (ctx->json && ans != NULL)
			(void)out_json(ctx->out, ans, NULL);
		st = request_problem(ctx, &r, ans, st, err);
		goto out;
	}
	if (r.body.len > 0 && !json_is_object(ans)) {
		st = cli_fail(err, CLI_E_INTERNAL,
			      "the server answered HTTP %ld with a body that is not a JSON object "
			      "(request %s)",
			      r.status, r.request_id[0] != '\0' ? r.request_id : "unknown");
		goto out;
	}
	if (out != NULL) {
		*out = ans;
		ans = NULL;
	}
out:
	json_decref(ans);
	/* A body may carry a password (invitation accept). */
	if (text != NULL)
		explicit_bzero(text, strlen(text));
	free(text);
	http_response_release(&r);
	return st;
}

enum cli_status request_tenant_path(struct cli_ctx *ctx, struct buf *b, struct cli_err *err, ...)
{
	enum cli_status st;
	const char *seg;
	va_list ap;

	st = url_path_build(b, err, "api", "v1", "tenants", ctx->tenant, NULL);
	va_start(ap, err);
	while (st == CLI_OK && (seg = va_arg(ap, const char *)) != NULL)
		st = url_path_add(b, seg, err);
	va_end(ap);
	return st;
}

enum cli_status request_show(struct cli_ctx *ctx, const json_t *obj, struct cli_err *err)
{
	if (obj == NULL)
		return CLI_OK;
	if (ctx->json)
		return out_json(ctx->out, obj, err);
	return out_object(ctx->out, obj, NULL, err);
}

enum cli_status request_list(struct cli_ctx *ctx, struct buf *path, const struct out_column *cols,
			     size_t ncols, struct cli_err *err)
{
	enum cli_status st;
	bool all = args_has(ctx->args, "all");
	const char *cursor_opt = args_get(ctx->args, "cursor");
	char *cursor = NULL;
	char limit_s[24] = "";
	long limit = 0;
	json_t *acc = NULL, *ans = NULL, *page_items;
	const char *next = NULL;
	struct buf url;
	size_t pages = 0;

	buf_init(&url, CLI_URL_MAX);
	/* The server clamps above 200; the client only refuses what it would refuse anyway. */
	st = args_get_long(ctx->args, "limit", 1, 1000000, &limit, err);
	if (st != CLI_OK)
		goto out;
	if (all && limit == 0)
		limit = CLI_PAGE_LIMIT_ALL;
	if (limit > 0)
		(void)snprintf(limit_s, sizeof(limit_s), "%ld", limit);
	if (cursor_opt != NULL && (cursor = strdup(cursor_opt)) == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	acc = json_array();
	if (acc == NULL) {
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
	for (;;) {
		buf_reset(&url);
		if (!buf_puts(&url, buf_cstr(path))) {
			st = cli_fail(err, CLI_E_INTERNAL, "request URL too long");
			goto out;
		}
		st = url_query_add(&url, "limit", limit > 0 ? limit_s : NULL, err);
		if (st == CLI_OK)
			st = url_query_add(&url, "cursor", cursor, err);
		if (st == CLI_OK)
			st = request_call(ctx, "GET", buf_cstr(&url), NULL, NULL, &ans, err);
		if (st != CLI_OK)
			goto out;
		page_items = json_object_get(ans, "items");
		if (!json_is_array(page_items)) {
			st = cli_fail(err, CLI_E_INTERNAL,
				      "the server's answer has no \"items\" list");
			goto out;
		}
		if (json_array_extend(acc, page_items) != 0) {
			st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
			goto out;
		}
		next = json_string_value(json_object_get(ans, "next_cursor"));
		if (!all || next == NULL || next[0] == '\0')
			break;
		/* A server that hands back the cursor it was given would page forever. */
		if ((cursor != NULL && strcmp(cursor, next) == 0) || ++pages >= CLI_PAGES_MAX) {
			st = cli_fail(err, CLI_E_INTERNAL, "the server keeps paging; stopped");
			goto out;
		}
		free(cursor);
		cursor = strdup(next);
		if (cursor == NULL) {
			st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
			goto out;
		}
		json_decref(ans);
		ans = NULL;
	}
	/* ans is the last page; next (borrowed from it) is its cursor, if any. */
	if (ctx->json) {
		if (!all) {
			st = out_json(ctx->out, ans, err);
		} else {
			json_t *whole = json_pack("{s:O,s:n}", "items", acc, "next_cursor");

			st = whole != NULL ? out_json(ctx->out, whole, err)
					   : cli_fail(err, CLI_E_INTERNAL, "out of memory");
			json_decref(whole);
		}
		goto out;
	}
	st = out_table(ctx->out, acc, cols, ncols, err);
	if (st == CLI_OK && !all && next != NULL && next[0] != '\0') {
		struct buf m;

		buf_init(&m, 1024);
		(void)buf_puts_safe(&m, next);
		fprintf(stderr, "roster: more results: add --cursor %s, or --all\n", buf_cstr(&m));
		buf_release(&m);
	}
out:
	json_decref(ans);
	json_decref(acc);
	free(cursor);
	buf_release(&url);
	return st;
}

enum cli_status request_need(struct cli_ctx *ctx, const char *name, const char **out,
			     struct cli_err *err)
{
	*out = args_get(ctx->args, name);
	if (*out == NULL)
		return cli_fail(err, CLI_E_USAGE, "option '--%s' is required", name);
	return CLI_OK;
}

enum cli_status request_if_match(struct cli_ctx *ctx, char *out, size_t n, struct cli_err *err)
{
	const char *v = args_get(ctx->args, "if-match");

	out[0] = '\0';
	if (v == NULL)
		return CLI_OK;
	return patch_if_match(v, out, n, err);
}

enum cli_status request_need_changes(const json_t *patch, struct cli_err *err)
{
	if (json_object_size(patch) == 0)
		return cli_fail(err, CLI_E_USAGE, "nothing to change: give at least one option");
	return CLI_OK;
}

enum cli_status request_show_call(struct cli_ctx *ctx, const char *method, const char *path,
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
		st = request_show(ctx, ans, err);
	json_decref(ans);
	return st;
}

enum cli_status request_delete(struct cli_ctx *ctx, const char *path, const char *done,
			       struct cli_err *err)
{
	char if_match[80];
	json_t *ans = NULL;
	enum cli_status st;

	st = request_if_match(ctx, if_match, sizeof(if_match), err);
	if (st == CLI_OK)
		st = request_call(ctx, "DELETE", path, NULL, if_match[0] ? if_match : NULL, &ans,
				  err);
	if (st != CLI_OK)
		goto out;
	/* 204 has no body; should a server send one, --json shows it. */
	if (ctx->json && ans != NULL) {
		st = out_json(ctx->out, ans, err);
	} else if (!ctx->json) {
		struct buf m;

		buf_init(&m, 1024);
		(void)buf_puts_safe(&m, done);
		fprintf(ctx->out, "%s\n", buf_cstr(&m));
		buf_release(&m);
	}
out:
	json_decref(ans);
	return st;
}
