/* roster task ...: asynchronous tasks (docs/api.md "Tasks"), e.g. the deletion of a user that
 * DELETE …/users/{id} queues. Also the real clock, sleep and fetch behind task_wait(), used by
 * "user delete --wait". */
#include <errno.h>
#include <time.h>

#include "cli_int.h"

/* Shown in this order without --json; the server's other members follow nowhere, --json has
 * them all. */
static const char *const task_keys[] = {
    "id", "kind", "status", "target_id", "reason", "created_at", "updated_at", "completed_at", NULL,
};

struct task_fetch_ctx {
	struct cli_ctx *ctx;
	const char *id;
	bool failed; /* a poll failed: with --json its problem is already on stdout */
};

static enum cli_status task_path(struct cli_ctx *ctx, const char *id, struct buf *path,
				 struct cli_err *err)
{
	return request_tenant_path(ctx, path, err, "tasks", id, NULL);
}

static enum cli_status task_fetch(void *ud, json_t **out, struct cli_err *err)
{
	struct task_fetch_ctx *f = ud;
	enum cli_status st;
	struct buf path;

	buf_init(&path, CLI_URL_MAX);
	st = task_path(f->ctx, f->id, &path, err);
	if (st == CLI_OK)
		st = request_call(f->ctx, "GET", buf_cstr(&path), NULL, NULL, out, err);
	if (st == CLI_OK && *out == NULL)
		st = cli_fail(err, CLI_E_INTERNAL, "the server answered without the task");
	f->failed = st != CLI_OK;
	buf_release(&path);
	return st;
}

static long long task_now_ms(void *ud)
{
	struct timespec ts;

	(void)ud;
	/* CLOCK_MONOTONIC cannot fail on Linux; a clock stepped by NTP must not end or
	 * stretch the wait. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void task_sleep_ms(void *ud, long long ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

	(void)ud;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static enum cli_status task_print(struct cli_ctx *ctx, const json_t *task, struct cli_err *err)
{
	if (ctx->json)
		return out_json(ctx->out, task, err);
	return out_object(ctx->out, task, task_keys, err);
}

enum cli_status task_report(struct cli_ctx *ctx, const json_t *task, bool wait, long timeout_s,
			    struct cli_err *err)
{
	struct task_fetch_ctx f = {ctx, json_string_value(json_object_get(task, "id")), false};
	struct task_poll p = {task_fetch, task_now_ms, task_sleep_ms, &f, TASK_POLL_INTERVAL_MS, 0};
	json_t *last = NULL;
	enum cli_status st, pst;

	if (!json_is_object(task) || f.id == NULL || f.id[0] == '\0')
		return cli_fail(err, CLI_E_INTERNAL, "the server's answer is not a task");
	if (!wait)
		return task_print(ctx, task, err);
	p.timeout_ms = (long long)timeout_s * 1000;
	st = task_wait(&p, task, &last, err);
	/* The task as last seen, so a script sees why and where; but one JSON document on
	 * stdout, and after a failed poll that is the problem. A failure to print only matters
	 * when there was no other failure to report. */
	if (last != NULL && !(ctx->json && f.failed)) {
		pst = task_print(ctx, last, st == CLI_OK ? err : NULL);
		if (st == CLI_OK)
			st = pst;
	}
	json_decref(last);
	return st;
}

static enum cli_status task_get(struct cli_ctx *ctx, struct cli_err *err)
{
	enum cli_status st;
	json_t *task = NULL;
	struct task_fetch_ctx f = {ctx, ctx->args->pos[0], false};

	st = task_fetch(&f, &task, err);
	if (st == CLI_OK)
		st = task_print(ctx, task, err);
	json_decref(task);
	return st;
}

static const struct cli_cmd task_cmds[] = {
    {"get", "ID", "Show a task (e.g. a user's deletion) and its status.", NULL, 1, 1,
     CLI_CMD_TENANT, task_get},
};

const struct cli_resource cmd_task_resource = {
    "task",
    "follow asynchronous tasks",
    task_cmds,
    sizeof(task_cmds) / sizeof(task_cmds[0]),
    "A task's status is QUEUED, PROCESSING, COMPLETED or FAILED (then with a reason).",
};
