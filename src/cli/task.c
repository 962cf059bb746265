/* Waiting for an asynchronous task (docs/api.md "Tasks"): poll its status at a fixed interval
 * until it is done or a deadline passes. The loop takes its clock, sleep and fetch as hooks so
 * its bounds are unit-tested (tests/unit/cli/test_task.c) without a server. */
#include <string.h>

#include "cli_int.h"

enum task_state task_state_of(const json_t *task)
{
	static const struct {
		const char *name;
		enum task_state state;
	} names[] = {
	    {"QUEUED", TASK_QUEUED},
	    {"PROCESSING", TASK_PROCESSING},
	    {"COMPLETED", TASK_COMPLETED},
	    {"FAILED", TASK_FAILED},
	};
	const char *s = json_string_value(json_object_get(task, "status"));

	for (size_t i = 0; s != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].state;
	return TASK_UNKNOWN;
}

/* The end of the wait for a task in state s: CLI_OK when it is over, or the error. *done
 * tells whether polling stops. */
static enum cli_status task_settle(const json_t *task, bool *done, struct cli_err *err)
{
	const char *id = json_string_value(json_object_get(task, "id"));
	const char *reason = json_string_value(json_object_get(task, "reason"));
	const char *status = json_string_value(json_object_get(task, "status"));

	*done = true;
	if (id == NULL)
		id = "?";
	switch (task_state_of(task)) {
	case TASK_QUEUED:
	case TASK_PROCESSING:
		*done = false;
		return CLI_OK;
	case TASK_COMPLETED:
		return CLI_OK;
	case TASK_FAILED:
		return cli_fail(err, CLI_E_TASK_FAILED, "task %s failed: %s", id,
				reason != NULL ? reason : "(no reason given)");
	case TASK_UNKNOWN:
		break;
	}
	/* A status added to the server after this client was built: waiting on could only
	 * end in a timeout that says nothing. */
	return cli_fail(err, CLI_E_INTERNAL,
			"task %s has status '%s', which this client does not know", id,
			status != NULL ? status : "(none)");
}

enum cli_status task_wait(const struct task_poll *p, const json_t *first, json_t **last,
			  struct cli_err *err)
{
	long long deadline = p->now_ms(p->ud) + p->timeout_ms;
	json_t *cur = json_deep_copy(first);
	enum cli_status st;
	bool done;

	*last = NULL;
	if (cur == NULL)
		return cli_fail(err, CLI_E_INTERNAL, "out of memory");
	for (;;) {
		long long left;
		json_t *next = NULL;

		st = task_settle(cur, &done, err);
		if (done)
			break;
		left = deadline - p->now_ms(p->ud);
		if (left <= 0) {
			const char *id = json_string_value(json_object_get(cur, "id"));

			st = cli_fail(err, CLI_E_TIMEOUT,
				      "task %s is still %s after %lld s; it may yet finish: "
				      "'roster task get %s' shows it",
				      id != NULL ? id : "?",
				      json_string_value(json_object_get(cur, "status")),
				      p->timeout_ms / 1000, id != NULL ? id : "ID");
			break;
		}
		/* The last sleep is cut to the deadline, so the final poll happens at it rather
		 * than up to one interval after. */
		p->sleep_ms(p->ud, left < p->interval_ms ? left : p->interval_ms);
		st = p->fetch(p->ud, &next, err);
		if (st != CLI_OK)
			break;
		json_decref(cur);
		cur = next;
	}
	*last = cur;
	return st;
}
