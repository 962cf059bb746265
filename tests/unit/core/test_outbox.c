/* core/outbox.c, core/email_templates.c, core/webhooks.c and the job handler registry of
 * core/jobs.c: template rendering (escaping, unknown variables, overrides), the fan-out of an
 * event to the subscriptions whose patterns match, retries with doubling backoff and the dead
 * letter after the kind's max attempts (stepped with a pinned clock), and the sealed webhook
 * secret (round trip, tamper and transplant detection). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fixture.h"

/* ---- rendering ------------------------------------------------------------------------------ */

static void test_render(void **state)
{
	static const struct {
		const char *tmpl;
		bool html, header;
		const char *want;
	} t[] = {
	    {"Hi {{first_name}}!", false, false, "Hi Ada <b>&co</b>!"},
	    {"Hi {{first_name}}!", true, false, "Hi Ada &lt;b&gt;&amp;co&lt;/b&gt;!"},
	    {"<a href=\"{{link}}\">x</a>", true, false,
	     "<a href=\"https://r.example/a?x=1&amp;y=&quot;2&quot;\">x</a>"},
	    {"Re: {{reason}}", false, true, "Re: line one  line two"},
	    {"Re: {{reason}}", false, false, "Re: line one\r\nline two"},
	    {"{{ first_name }}/{{missing}}/", false, false, "Ada <b>&co</b>//"},
	    {"{{not closed", false, false, "{{not closed"},
	    {"{{}} {{Bad}}", false, false, "{{}} {{Bad}}"},
	    {"", false, false, ""},
	};
	struct arena a;
	json_t *vars =
	    json_pack("{s:s,s:s,s:s}", "first_name", "Ada <b>&co</b>", "link",
		      "https://r.example/a?x=1&y=\"2\"", "reason", "line one\r\nline two");

	(void)state;
	arena_init(&a, 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = email_render(&a, t[i].tmpl, vars, t[i].html, t[i].header);

		assert_non_null(got);
		if (strcmp(got, t[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, got, t[i].want);
	}
	json_decref(vars);
	arena_release(&a);
}

static void test_template_check(void **state)
{
	static const struct {
		const char *field, *tmpl, *code; /* code NULL: valid */
	} t[] = {
	    {"subject", "Welcome to {{tenant_name}}", NULL},
	    {"text", "{{first_name}}: {{link}} ({{expires}})\n{{message}}", NULL},
	    {"text", "{{ link }}", NULL},
	    {"text", "{{reason}}", "template.unknown_variable"},
	    {"html", "{{link}} {{linkk}}", "template.unknown_variable"},
	    {"text", "a {{ b", "template.syntax"},
	    {"text", "{{Link}}", "template.syntax"},
	    {"subject", "two\nlines", "request.invalid_field"},
	    {"text", "", "request.invalid_field"},
	    {"text", "bell \a", "request.invalid_field"},
	};
	struct fx *f = *state;
	struct email_template tmpl;
	struct rs_err err = {0};

	fx_expect(
	    email_templates_get(f->core, &f->platform, "system", "invitation", &f->a, &tmpl, &err),
	    &err, RS_OK, NULL);
	assert_false(tmpl.overridden);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum rs_status st = email_template_check(&tmpl, t[i].field, t[i].tmpl, &err);

		if (!t[i].code) {
			fx_expect_at(st, &err, RS_OK, NULL, __FILE__, __LINE__, t[i].tmpl);
			continue;
		}
		fx_expect_at(st, &err, RS_E_INVALID, t[i].code, __FILE__, __LINE__, t[i].tmpl);
		assert_string_equal(err.field, t[i].field);
	}
	fx_expect(email_templates_get(f->core, &f->platform, "system", "nope", &f->a, &tmpl, &err),
		  &err, RS_E_NOT_FOUND, "template.not_found");
}

struct email_ctx {
	struct core *c;
	const char *tenant, *name, *to, *vars;
};

static enum rs_status email_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct email_ctx *x = arg;

	return outbox_email(tx, x->c, x->tenant, x->name, x->to, x->vars, err);
}

/* The payload of the newest job of kind. */
static json_t *newest_payload(struct fx *f, const char *tenant, const char *kind)
{
	struct outbox_query q = {.kind = kind};
	struct job_list l;
	struct rs_err err = {0};

	fx_expect(outbox_list(f->core, &f->platform, tenant, &q, &f->a, &l, &err), &err, RS_OK,
		  NULL);
	assert_true(l.n > 0);
	return json_loads(l.items[0].payload, 0, NULL);
}

static void test_overrides_and_queued_message(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	struct email_template_req req = {"Join {{tenant_name}}, {{first_name}}", "Go: {{link}}",
					 "<a href=\"{{link}}\">{{first_name}}</a>"};
	struct email_template_req bad = {"Hi {{reason}}", "x", "y"};
	struct email_template t;
	struct email_ctx ec = {f->core, tid, "invitation", "ada@example.com",
			       "{\"first_name\":\"Ada & Co\",\"link\":\"https://x.test/i?t=1\"}"};
	struct rs_err err = {0};
	json_t *p;

	fx_expect(
	    email_templates_put(f->core, &f->platform, "acme", "invitation", &bad, &f->a, &t, &err),
	    &err, RS_E_INVALID, "template.unknown_variable");
	assert_string_equal(err.field, "subject");
	fx_expect(
	    email_templates_put(f->core, &f->platform, "acme", "invitation", &req, &f->a, &t, &err),
	    &err, RS_OK, NULL);
	assert_true(t.overridden);
	fx_expect(core_write(f->core, email_tx, &ec, &err), &err, RS_OK, NULL);
	p = newest_payload(f, "acme", "email");
	assert_string_equal(json_string_value(json_object_get(p, "to")), "ada@example.com");
	assert_string_equal(json_string_value(json_object_get(p, "subject")),
			    "Join acme, Ada & Co");
	assert_string_equal(json_string_value(json_object_get(p, "text")),
			    "Go: https://x.test/i?t=1");
	assert_string_equal(json_string_value(json_object_get(p, "html")),
			    "<a href=\"https://x.test/i?t=1\">Ada &amp; Co</a>");
	json_decref(p);

	/* A later edit never changes a queued message; dropping the override restores the
	 * built-in text. */
	fx_expect(email_templates_delete(f->core, &f->platform, "acme", "invitation", &err), &err,
		  RS_OK, NULL);
	fx_expect(email_templates_get(f->core, &f->platform, "acme", "invitation", &f->a, &t, &err),
		  &err, RS_OK, NULL);
	assert_false(t.overridden);
	p = newest_payload(f, "acme", "email");
	assert_string_equal(json_string_value(json_object_get(p, "subject")),
			    "Join acme, Ada & Co");
	json_decref(p);
	fx_expect(core_write(f->core, email_tx, &ec, &err), &err, RS_OK, NULL);
	p = newest_payload(f, "acme", "email");
	assert_string_equal(json_string_value(json_object_get(p, "subject")),
			    "You are invited to acme");
	json_decref(p);

	/* Refused input changes nothing. */
	ec.to = "not an address";
	fx_expect(core_write(f->core, email_tx, &ec, &err), &err, RS_E_INVALID,
		  "request.invalid_field");
	ec.to = "ada@example.com";
	ec.vars = "{\"first_name\": 1}";
	fx_expect(core_write(f->core, email_tx, &ec, &err), &err, RS_E_INVALID,
		  "request.invalid_field");
	ec.vars = NULL;
	ec.name = "nope";
	fx_expect(core_write(f->core, email_tx, &ec, &err), &err, RS_E_NOT_FOUND,
		  "template.not_found");
	assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM jobs WHERE kind = 'email'"), 2);
	(void)tid;
}

/* ---- events --------------------------------------------------------------------------------- */

struct event_ctx {
	struct core *c;
	const char *tenant, *type;
};

static enum rs_status event_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct event_ctx *x = arg;

	return outbox_event(tx, x->c, x->tenant, x->type, "{\"user_id\":\"u1\"}", err);
}

static const char *hook(struct fx *f, const char *tenant, const char *const *events, int n)
{
	struct webhook_fields wf = {.url = {true, "https://h.example/x"},
				    .events_set = true,
				    .events = events,
				    .nevents = n};
	struct webhook w;
	const char *secret = NULL;
	struct rs_err err = {0};

	fx_expect(webhooks_create(f->core, &f->platform, tenant, &wf, &f->a, &w, &secret, &err),
		  &err, RS_OK, NULL);
	assert_non_null(secret);
	assert_int_equal(strncmp(secret, "whsec_", 6), 0);
	return w.id;
}

static int64_t webhook_jobs(struct fx *f, const char *hook_id)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM jobs WHERE kind = 'webhook' AND payload LIKE '%%%s%%'",
		 hook_id);
	return fx_sql_int(f, sql);
}

static void test_event_fanout(void **state)
{
	static const char *const all[] = {"*"}, *const users[] = {"user.*"},
				 *const exact[] = {"group.created", "user.deleted"};
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL), *other = fx_tenant(f, "other", NULL);
	const char *h_all = hook(f, "acme", all, 1), *h_users = hook(f, "acme", users, 1);
	const char *h_exact = hook(f, "acme", exact, 2), *h_paused = hook(f, "acme", all, 1);
	const char *h_other = hook(f, "other", all, 1);
	struct webhook_fields pause = {.active_set = true, .active = false};
	struct webhook w;
	struct event_ctx ec = {f->core, tid, "user.suspended"};
	struct rs_err err = {0};
	json_t *p;

	fx_expect(webhooks_update(f->core, &f->platform, "acme", h_paused, &pause, &f->a, &w, &err),
		  &err, RS_OK, NULL);
	assert_false(w.active);
	fx_expect(core_write(f->core, event_tx, &ec, &err), &err, RS_OK, NULL);
	assert_int_equal(webhook_jobs(f, h_all), 1);
	assert_int_equal(webhook_jobs(f, h_users), 1);
	assert_int_equal(webhook_jobs(f, h_exact), 0);
	assert_int_equal(webhook_jobs(f, h_paused), 0);
	assert_int_equal(webhook_jobs(f, h_other), 0); /* tenants never see each other */
	ec.type = "group.created";
	fx_expect(core_write(f->core, event_tx, &ec, &err), &err, RS_OK, NULL);
	assert_int_equal(webhook_jobs(f, h_all), 2);
	assert_int_equal(webhook_jobs(f, h_users), 1);
	assert_int_equal(webhook_jobs(f, h_exact), 1);
	ec.type = "users.created"; /* "user.*" is a prefix of whole words only */
	fx_expect(core_write(f->core, event_tx, &ec, &err), &err, RS_OK, NULL);
	assert_int_equal(webhook_jobs(f, h_users), 1);
	assert_int_equal(webhook_jobs(f, h_all), 3);
	ec.type = "Bad Type";
	fx_expect(core_write(f->core, event_tx, &ec, &err), &err, RS_E_INVALID, NULL);

	/* One event, one id, the same payload for every subscriber. */
	p = newest_payload(f, "acme", "webhook");
	assert_string_equal(json_string_value(json_object_get(json_object_get(p, "event"), "type")),
			    "users.created");
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_object_get(p, "event"), "data"), "user_id")),
			    "u1");
	assert_true(
	    uuid_valid(json_string_value(json_object_get(json_object_get(p, "event"), "id"))));
	json_decref(p);

	assert_true(webhook_pattern_match("*", "a.b"));
	assert_true(webhook_pattern_match("user.*", "user.role.changed"));
	assert_false(webhook_pattern_match("user.*", "user"));
	assert_false(webhook_pattern_match("user.*", "user."));
	assert_false(webhook_pattern_match("user.created", "user.created2"));
	(void)other;
}

/* ---- the job handler registry ---------------------------------------------------------------- */

struct fake {
	int calls;
	int succeed_at;		/* the call that succeeds; 0 = never */
	enum rs_status failure; /* what the other calls return */
	char last_kind[32];
};

static enum rs_status fake_run(const struct job *job, void *ctx, char *msg, size_t cap)
{
	struct fake *k = ctx;

	str_copy(k->last_kind, sizeof(k->last_kind), job->kind);
	if (++k->calls == k->succeed_at)
		return RS_OK;
	snprintf(msg, cap, "fake failure %d", k->calls);
	return k->failure;
}

struct insert_ctx {
	struct core *c;
	const char *id, *kind;
};

static enum rs_status insert_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct insert_ctx *x = arg;
	int64_t now = core_now(x->c);

	return Q_EXEC(tx, Q_JOB_INSERT, NULL, err, SV_S(x->id), SV_NULLV, SV_S(x->kind), SV_S("{}"),
		      SV_I(now), SV_I(now));
}

static char *job_field(struct fx *f, const char *id, const char *col)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "SELECT %s FROM jobs WHERE id = '%s'", col, id);
	return arena_printf(&f->a, "%lld", (long long)fx_sql_int(f, sql));
}

static int64_t job_int(struct fx *f, const char *id, const char *col)
{
	return strtoll(job_field(f, id, col), NULL, 10);
}

static int64_t job_status_is(struct fx *f, const char *id, const char *status)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM jobs WHERE id = '%s' AND status = '%s'",
		 id, status);
	return fx_sql_int(f, sql);
}

static void run_next(struct fx *f, bool want)
{
	struct rs_err err = {0};
	bool ran = false;

	fx_expect(jobs_run_next(f->core, "test-node", &ran, &err), &err, RS_OK, NULL);
	assert_int_equal(ran, want);
}

static const char *queue(struct fx *f, const char *kind)
{
	char *id = arena_alloc(&f->a, UUID_STR_LEN);
	struct insert_ctx ic = {f->core, id, kind};
	struct rs_err err = {0};

	assert_true(core_new_id(id));
	fx_expect(core_write(f->core, insert_tx, &ic, &err), &err, RS_OK, NULL);
	return id;
}

static void test_registry_retries_and_dead_letter(void **state)
{
	struct fx *f = *state;
	struct fake k = {.failure = RS_E_UNAVAILABLE};
	struct job_kind_opts opts = {.max_attempts = 3, .first_backoff_ms = 1000};
	struct rs_err err = {0};
	const char *id;

	fx_expect(jobs_register(f->core, "fake", fake_run, &k, &opts, &err), &err, RS_OK, NULL);
	fx_expect(jobs_register(f->core, "purge_expired_tokens", fake_run, &k, NULL, &err), &err,
		  RS_E_INVALID, "job.bad_kind"); /* a built-in stays the core's */
	id = queue(f, "fake");
	run_next(f, true); /* attempt 1 fails: due again after 1 s */
	assert_int_equal(k.calls, 1);
	assert_string_equal(k.last_kind, "fake");
	assert_int_equal(job_status_is(f, id, "queued"), 1);
	assert_int_equal(job_int(f, id, "run_at"), f->now + 1000);
	run_next(f, false); /* not due yet */
	f->now += 999;
	run_next(f, false);
	f->now += 1;
	run_next(f, true); /* attempt 2 fails: the backoff doubles */
	assert_int_equal(job_int(f, id, "run_at"), f->now + 2000);
	f->now += 2000;
	run_next(f, true); /* attempt 3 fails: the dead letter */
	assert_int_equal(k.calls, 3);
	assert_int_equal(job_status_is(f, id, "failed"), 1);
	assert_int_equal(job_int(f, id, "attempts"), 3);
	assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM jobs WHERE last_error = "
				       "'fake failure 3'"),
			 1);
	f->now += 3600000;
	run_next(f, false); /* a dead letter stays dead */

	/* A handler that succeeds on its second call. */
	k = (struct fake){.failure = RS_E_UNAVAILABLE, .succeed_at = 2};
	id = queue(f, "fake");
	run_next(f, true);
	f->now += 1000;
	run_next(f, true);
	assert_int_equal(job_status_is(f, id, "done"), 1);

	/* Retrying can't fix bad input: failed at the first attempt. */
	k = (struct fake){.failure = RS_E_INVALID};
	id = queue(f, "fake");
	run_next(f, true);
	assert_int_equal(job_status_is(f, id, "failed"), 1);
	assert_int_equal(job_int(f, id, "attempts"), 1);

	/* A kind nobody registered fails at once, as before. */
	id = queue(f, "unheard_of");
	run_next(f, true);
	assert_int_equal(job_status_is(f, id, "failed"), 1);
}

static void test_outbox_retry(void **state)
{
	struct fx *f = *state;
	struct fake k = {.failure = RS_E_UNAVAILABLE};
	struct job_kind_opts opts = {.max_attempts = 1};
	struct email_ctx ec = {f->core, NULL, "suspension", "bob@example.com", NULL};
	struct job_list l;
	struct outbox_query q = {.status = "failed"};
	struct actor reader;
	struct job j;
	const char *id;
	struct rs_err err = {0};

	ec.tenant = fx_tenant(f, "acme", NULL);
	fx_expect(jobs_register(f->core, "email", fake_run, &k, &opts, &err), &err, RS_OK, NULL);
	fx_expect(core_write(f->core, email_tx, &ec, &err), &err, RS_OK, NULL);
	run_next(f, true);
	fx_expect(outbox_list(f->core, &f->platform, "acme", &q, &f->a, &l, &err), &err, RS_OK,
		  NULL);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].status, "failed");
	assert_string_equal(l.items[0].last_error, "fake failure 1");
	id = l.items[0].id;
	/* Another tenant's reader sees nothing; a reader without tenant.settings is refused. */
	fx_user_actor(f, "acme", "viewer", "Viewer", NULL, &reader);
	fx_expect(outbox_list(f->core, &reader, "acme", &q, &f->a, &l, &err), &err, RS_E_FORBIDDEN,
		  NULL);
	fx_expect(outbox_get(f->core, &f->platform, "system", id, &f->a, &j, &err), &err,
		  RS_E_NOT_FOUND, "outbox.not_found");
	fx_expect(outbox_retry(f->core, &f->platform, "acme", id, &f->a, &j, &err), &err, RS_OK,
		  NULL);
	assert_string_equal(j.status, "queued");
	assert_int_equal(j.attempts, 0);
	k.succeed_at = 2;
	run_next(f, true);
	fx_expect(outbox_get(f->core, &f->platform, "acme", j.id, &f->a, &j, &err), &err, RS_OK,
		  NULL);
	assert_string_equal(j.status, "done");
	fx_expect(outbox_retry(f->core, &f->platform, "acme", j.id, &f->a, &j, &err), &err,
		  RS_E_CONFLICT, "outbox.not_retryable");
	q.status = "bogus";
	fx_expect(outbox_list(f->core, &f->platform, "acme", &q, &f->a, &l, &err), &err,
		  RS_E_INVALID, "request.invalid_parameter");
}

/* ---- the sealed secret ---------------------------------------------------------------------- */

static void test_secret_seal(void **state)
{
	struct fx *f = *state;
	const char *secret = "whsec_the-secret", *tid = "t1", *id = "w1";
	char *sealed = NULL, *open = NULL, *bad;
	struct rs_err err = {0};

	fx_expect(webhook_secret_seal(f->core, tid, id, secret, &f->a, &sealed, &err), &err, RS_OK,
		  NULL);
	assert_null(strstr(sealed, "secret"));
	fx_expect(webhook_secret_open(f->core, tid, id, sealed, &f->a, &open, &err), &err, RS_OK,
		  NULL);
	assert_string_equal(open, secret);
	/* Every byte is authenticated: flip one anywhere (nonce, ciphertext, tag). */
	for (size_t i = 0; i < strlen(sealed); i += 7) {
		bad = arena_strdup(&f->a, sealed);
		bad[i] = bad[i] == '0' ? '1' : '0';
		fx_expect(webhook_secret_open(f->core, tid, id, bad, &f->a, &open, &err), &err,
			  RS_E_INTERNAL, "webhook.secret_unreadable");
	}
	/* Bound to its row: another tenant or subscription can't use it. */
	fx_expect(webhook_secret_open(f->core, "t2", id, sealed, &f->a, &open, &err), &err,
		  RS_E_INTERNAL, "webhook.secret_unreadable");
	fx_expect(webhook_secret_open(f->core, tid, "w2", sealed, &f->a, &open, &err), &err,
		  RS_E_INTERNAL, "webhook.secret_unreadable");
	fx_expect(webhook_secret_open(f->core, tid, id, "zz", &f->a, &open, &err), &err,
		  RS_E_INTERNAL, "webhook.secret_unreadable");
	/* Two seals of one secret differ (fresh nonce). */
	bad = sealed;
	fx_expect(webhook_secret_seal(f->core, tid, id, secret, &f->a, &sealed, &err), &err, RS_OK,
		  NULL);
	assert_string_not_equal(bad, sealed);
}

static void test_secret_stored_encrypted(void **state)
{
	static const char *const all[] = {"*"};
	struct fx *f = *state;
	struct webhook_fields wf = {
	    .url = {true, "http://127.0.0.1:9/x"}, .events_set = true, .events = all, .nevents = 1};
	struct webhook w;
	const char *secret = NULL, *url = NULL;
	char *back = NULL, sql[300];
	struct rs_err err = {0};
	struct arena a;

	fx_tenant(f, "acme", NULL);
	fx_expect(webhooks_create(f->core, &f->platform, "acme", &wf, &f->a, &w, &secret, &err),
		  &err, RS_OK, NULL);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM webhooks WHERE secret_enc LIKE '%%%s%%'",
		 secret + 6);
	assert_int_equal(fx_sql_int(f, sql), 0);
	arena_init(&a, 0);
	fx_expect(webhooks_target(f->core, w.tenant_id, w.id, &a, &url, &back, &err), &err, RS_OK,
		  NULL);
	assert_string_equal(back, secret);
	assert_string_equal(url, "http://127.0.0.1:9/x");
	arena_release(&a);
	/* Refused URLs name the field. */
	wf.url.v = "ftp://x.example/";
	fx_expect(webhooks_create(f->core, &f->platform, "acme", &wf, &f->a, &w, &secret, &err),
		  &err, RS_E_INVALID, "request.invalid_field");
	assert_string_equal(err.field, "url");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),
	    cmocka_unit_test_setup_teardown(test_template_check, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_overrides_and_queued_message, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_event_fanout, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_registry_retries_and_dead_letter, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_outbox_retry, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_secret_seal, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_secret_stored_encrypted, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
