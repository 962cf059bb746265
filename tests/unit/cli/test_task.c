/* Unit tests for src/cli/task.c: task states and the bounds of the polling loop, on a fake
 * clock and a scripted server. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli_int.h"

/* A scripted server: the statuses the task goes through, one per fetch (the last repeats). */
struct fake {
	long long now;
	int fetches;
	long long slept_max;
	const char *const *script;
	size_t n_script;
	int fail_at;	    /* fetch number that fails with CLI_E_UNAVAILABLE; 0: none */
	long long sleep_by; /* how far a sleep moves the clock; -1: as asked */
	const char *reason;
};

static json_t *task_json(const char *status, const char *reason)
{
	json_t *t = json_pack("{s:s,s:s,s:s,s:s}", "id", "T1", "kind", "user.delete", "status",
			      status, "target_id", "U1");

	assert_non_null(t);
	if (reason != NULL)
		assert_int_equal(json_object_set_new(t, "reason", json_string(reason)), 0);
	return t;
}

static enum cli_status fake_fetch(void *ud, json_t **out, struct cli_err *err)
{
	struct fake *f = ud;
	size_t i = (size_t)f->fetches < f->n_script ? (size_t)f->fetches : f->n_script - 1;

	f->fetches++;
	if (f->fail_at == f->fetches)
		return cli_fail(err, CLI_E_UNAVAILABLE, "busy");
	*out = task_json(f->script[i], f->reason);
	return CLI_OK;
}

static long long fake_now(void *ud)
{
	return ((struct fake *)ud)->now;
}

static void fake_sleep(void *ud, long long ms)
{
	struct fake *f = ud;

	assert_true(ms > 0);
	if (ms > f->slept_max)
		f->slept_max = ms;
	f->now += f->sleep_by >= 0 ? f->sleep_by : ms;
}

static enum cli_status run(struct fake *f, const char *first_status, long long timeout_ms,
			   json_t **last, struct cli_err *err)
{
	struct task_poll p = {fake_fetch, fake_now, fake_sleep, f, 200, timeout_ms};
	json_t *first = task_json(first_status, NULL);
	enum cli_status st = task_wait(&p, first, last, err);

	json_decref(first);
	return st;
}

static void test_states(void **state)
{
	static const struct {
		const char *status;
		enum task_state want;
	} cases[] = {
	    {"QUEUED", TASK_QUEUED}, {"PROCESSING", TASK_PROCESSING}, {"COMPLETED", TASK_COMPLETED},
	    {"FAILED", TASK_FAILED}, {"completed", TASK_UNKNOWN},     {"CANCELLED", TASK_UNKNOWN},
	    {"", TASK_UNKNOWN},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *t = task_json(cases[i].status, NULL);

		assert_int_equal(task_state_of(t), cases[i].want);
		json_decref(t);
	}
	assert_int_equal(task_state_of(NULL), TASK_UNKNOWN);
}

static void test_completes(void **state)
{
	static const char *const script[] = {"QUEUED", "PROCESSING", "COMPLETED"};
	struct fake f = {.script = script, .n_script = 3, .sleep_by = -1};
	struct cli_err err = {0};
	json_t *last = NULL;

	(void)state;
	assert_int_equal(run(&f, "QUEUED", 60000, &last, &err), CLI_OK);
	assert_int_equal(f.fetches, 3);
	assert_int_equal(f.now, 600);
	assert_string_equal(json_string_value(json_object_get(last, "status")), "COMPLETED");
	json_decref(last);
}

static void test_done_already_needs_no_poll(void **state)
{
	static const char *const script[] = {"QUEUED"};
	struct fake f = {.script = script, .n_script = 1, .sleep_by = -1};
	struct cli_err err = {0};
	json_t *last = NULL;

	(void)state;
	assert_int_equal(run(&f, "COMPLETED", 60000, &last, &err), CLI_OK);
	assert_int_equal(f.fetches, 0);
	json_decref(last);
}

static void test_failed_carries_the_reason(void **state)
{
	static const char *const script[] = {"PROCESSING", "FAILED"};
	struct fake f = {.script = script,
			 .n_script = 2,
			 .sleep_by = -1,
			 .reason = "user.owns_resources: job app 7"};
	struct cli_err err = {0};
	json_t *last = NULL;

	(void)state;
	assert_int_equal(run(&f, "QUEUED", 60000, &last, &err), CLI_E_TASK_FAILED);
	assert_int_equal(err.status, CLI_E_TASK_FAILED);
	assert_non_null(strstr(err.msg, "T1"));
	assert_non_null(strstr(err.msg, "user.owns_resources: job app 7"));
	assert_string_equal(json_string_value(json_object_get(last, "status")), "FAILED");
	json_decref(last);
}

static void test_timeout_is_bounded(void **state)
{
	static const char *const script[] = {"PROCESSING"};
	static const long long timeouts[] = {1000, 1100, 60000, 1};
	struct cli_err err = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++) {
		struct fake f = {.script = script, .n_script = 1, .sleep_by = -1, .now = 5000};
		json_t *last = NULL;
		long long polls = (timeouts[i] + 199) / 200;

		assert_int_equal(run(&f, "QUEUED", timeouts[i], &last, &err), CLI_E_TIMEOUT);
		/* Every interval one poll, and one more at the deadline itself; never later. */
		assert_int_equal(f.fetches, polls);
		assert_int_equal(f.now, 5000 + timeouts[i]);
		assert_true(f.slept_max <= 200);
		assert_string_equal(json_string_value(json_object_get(last, "status")),
				    "PROCESSING");
		assert_non_null(strstr(err.msg, "task T1"));
		json_decref(last);
	}
}

static void test_oversleeping_clock_still_ends(void **state)
{
	static const char *const script[] = {"QUEUED"};
	/* A loaded machine: each 200 ms sleep takes 5 s. The deadline, not the count of polls,
	 * bounds the wait. */
	struct fake f = {.script = script, .n_script = 1, .sleep_by = 5000};
	struct cli_err err = {0};
	json_t *last = NULL;

	(void)state;
	assert_int_equal(run(&f, "QUEUED", 10000, &last, &err), CLI_E_TIMEOUT);
	assert_int_equal(f.fetches, 2);
	json_decref(last);
}

static void test_fetch_error_ends_the_wait(void **state)
{
	static const char *const script[] = {"QUEUED"};
	struct fake f = {.script = script, .n_script = 1, .sleep_by = -1, .fail_at = 2};
	struct cli_err err = {0};
	json_t *last = NULL;

	(void)state;
	assert_int_equal(run(&f, "QUEUED", 60000, &last, &err), CLI_E_UNAVAILABLE);
	assert_int_equal(f.fetches, 2);
	assert_non_null(last); /* the task as last seen */
	json_decref(last);
}

static void test_unknown_status_stops(void **state)
{
	static const char *const script[] = {"PROCESSING", "CANCELLED"};
	struct fake f = {.script = script, .n_script = 2, .sleep_by = -1};
	struct cli_err err = {0};
	json_t *last = NULL;

	(void)state;
	assert_int_equal(run(&f, "QUEUED", 60000, &last, &err), CLI_E_INTERNAL);
	assert_int_equal(f.fetches, 2);
	assert_non_null(strstr(err.msg, "CANCELLED"));
	json_decref(last);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_states),
	    cmocka_unit_test(test_completes),
	    cmocka_unit_test(test_done_already_needs_no_poll),
	    cmocka_unit_test(test_failed_carries_the_reason),
	    cmocka_unit_test(test_timeout_is_bounded),
	    cmocka_unit_test(test_oversleeping_clock_still_ends),
	    cmocka_unit_test(test_fetch_error_ends_the_wait),
	    cmocka_unit_test(test_unknown_status_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
