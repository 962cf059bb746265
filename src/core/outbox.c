/* The transactional outbox: everything that must leave roster (e-mail, webhook calls) is a
 * job row (core/jobs.c) inserted in the transaction of the change that caused it, so it
 * leaves if and only if that change commits. The job holds the final message: delivery
 * (src/delivery/, registered with jobs_register) needs nothing else, and retries, backoff and
 * the dead letter ("failed") are the work queue's. Delivery is at least once: a node killed
 * after the receiver accepted a message but before the job was marked done sends it again,
 * with the same Message-ID / Roster-Event-Id, so receivers can drop the duplicate. */
#include "core/core_int.h"

#include <jansson.h>
#include <stdlib.h>

#include "util/timeutil.h"

const char *core_public_url(const struct core *c)
{
	return c->public_url;
}

/* An address we can put in an SMTP envelope as is: name@domain, no blanks, no brackets. */
static bool address_ok(const char *to)
{
	const char *at;

	if (!to || !*to || strlen(to) > RS_EMAIL_MAX || !str_valid_text(to))
		return false;
	at = strchr(to, '@');
	return at && at != to && at[1] && !strchr(at + 1, '@') && !strpbrk(to, " \t<>,;\"()\\");
}

static char *dump_new(struct arena *a, json_t *v)
{
	char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
	char *out = text ? arena_strdup(a, text) : NULL;

	free(text);
	return out;
}

static enum rs_status job_insert(struct store_tx *tx, struct core *c, const char *tenant_id,
				 const char *kind, const char *payload, char id[UUID_STR_LEN],
				 struct rs_err *err)
{
	int64_t now = core_now(c);

	if (!payload)
		return core_oom(err);
	if (!core_new_id(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	return Q_EXEC(tx, Q_JOB_INSERT, NULL, err, SV_S(id), SV_S(tenant_id), SV_S(kind),
		      SV_S(payload), SV_I(now), SV_I(now));
}

static enum rs_status email_tx(struct store_tx *tx, struct core *c, const char *tenant_id,
			       const char *template_name, const char *to, const char *vars_json,
			       char job_id[UUID_STR_LEN], struct arena *a, struct rs_err *err)
{
	struct tenant t;
	struct email_template tmpl;
	json_t *vars = NULL, *msg = NULL, *v;
	const char *key;
	char *subject, *text, *html;
	enum rs_status st;

	if (!address_ok(to))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "to",
			       "'to' must be one address like name@domain");
	st = tenant_load(tx, tenant_id, a, &t, err);
	if (st == RS_OK)
		st = email_template_load(tx, t.id, template_name, a, &tmpl, err);
	if (st != RS_OK)
		return st;
	vars = vars_json ? json_loads(vars_json, 0, NULL) : json_object();
	if (!json_is_object(vars)) {
		json_decref(vars);
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "vars",
			       "template variables must be a JSON object of strings");
	}
	json_object_foreach(vars, key, v)
	{
		if (!json_is_string(v)) {
			/* key belongs to vars: the message is written before vars goes. */
			st = rs_fail(err, RS_E_INVALID, "request.invalid_field", "vars",
				     "template variable '%.40s' must be a string", key);
			json_decref(vars);
			return st;
		}
	}
	/* What every message knows without the caller saying it. */
	if (!json_object_get(vars, "tenant_name"))
		json_object_set_new(vars, "tenant_name", json_string(t.name));
	if (!json_object_get(vars, "tenant_slug"))
		json_object_set_new(vars, "tenant_slug", json_string(t.slug));
	if (!json_object_get(vars, "public_url"))
		json_object_set_new(vars, "public_url", json_string(c->public_url));
	if (!json_object_get(vars, "email"))
		json_object_set_new(vars, "email", json_string(to));
	subject = email_render(a, tmpl.subject, vars, false, true);
	text = email_render(a, tmpl.text, vars, false, false);
	html = email_render(a, tmpl.html, vars, true, false);
	json_decref(vars);
	if (!subject || !text || !html)
		return core_oom(err);
	msg = json_pack("{s:s,s:s,s:s,s:s,s:s}", "template", tmpl.name, "to", to, "subject",
			subject, "text", text, "html", html);
	st = job_insert(tx, c, t.id, "email", dump_new(a, msg), job_id, err);
	json_decref(msg);
	return st;
}

enum rs_status outbox_email_id(struct store_tx *tx, struct core *c, const char *tenant_id,
			       const char *template_name, const char *to, const char *vars_json,
			       char job_id[UUID_STR_LEN], struct rs_err *err)
{
	struct arena a;
	enum rs_status st;

	arena_init(&a, 0);
	st = email_tx(tx, c, tenant_id, template_name, to, vars_json, job_id, &a, err);
	arena_release(&a);
	return st;
}

enum rs_status outbox_email(struct store_tx *tx, struct core *c, const char *tenant_id,
			    const char *template_name, const char *to, const char *vars_json,
			    struct rs_err *err)
{
	char id[UUID_STR_LEN];

	return outbox_email_id(tx, c, tenant_id, template_name, to, vars_json, id, err);
}

/* ---- events and webhooks ------------------------------------------------------------------------
 */

bool webhook_pattern_match(const char *pattern, const char *event_type)
{
	size_t n = strlen(pattern);

	if (strcmp(pattern, "*") == 0)
		return true;
	/* "user.*" matches "user.created" and "user.role.changed", not "user" nor "users.x". */
	if (n >= 2 && pattern[n - 1] == '*' && pattern[n - 2] == '.')
		return strncmp(pattern, event_type, n - 1) == 0 && event_type[n - 1] != '\0';
	return strcmp(pattern, event_type) == 0;
}

/* events: the stored space-separated list of patterns. */
static bool events_match(const char *events, const char *event_type)
{
	const char *p = events;

	while (p && *p) {
		const char *end = strchr(p, ' ');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char pattern[RS_EVENT_TYPE_MAX + 1];

		if (n > 0 && n < sizeof(pattern)) {
			memcpy(pattern, p, n);
			pattern[n] = '\0';
			if (webhook_pattern_match(pattern, event_type))
				return true;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

static bool event_type_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > RS_EVENT_TYPE_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (const char *p = s; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      (*p == '.' && p[1] != '.')))
			return false;
	}
	return true;
}

static enum rs_status event_insert(struct store_tx *tx, struct core *c, const struct tenant *tp,
				   const char *const *hooks, int nhooks, const char *event_type,
				   const char *data_json, char *job_id, struct arena *a,
				   struct rs_err *err);

static enum rs_status event_tx(struct store_tx *tx, struct core *c, const char *tenant_id,
			       const char *event_type, const char *data_json, struct arena *a,
			       struct rs_err *err)
{
	struct store_rows *r = NULL;
	struct tenant t;
	const char **hooks = NULL;
	int nhooks = 0, cap = 0;
	enum rs_status st;
	bool has;

	if (!event_type_ok(event_type))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "event_type",
			       "an event type is lower-case words joined by dots");
	if (data_json && !json_text_is_object(data_json))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "data",
			       "event data must be a JSON object");
	st = tenant_load(tx, tenant_id, a, &t, err);
	if (st == RS_OK)
		st = Q_QUERY(tx, Q_WEBHOOK_ACTIVE, &r, err, SV_S(t.id));
	if (st != RS_OK)
		return st;
	/* Collect first: the inserts below must not run while this query's rows are open. */
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if (!events_match(store_col_text(r, WC_EVENTS), event_type))
			continue;
		if (nhooks == cap) {
			const char **grown =
			    arena_alloc(a, sizeof(*grown) * (size_t)(cap ? cap * 2 : 8));

			if (!grown) {
				st = core_oom(err);
				break;
			}
			if (nhooks)
				memcpy(grown, hooks, sizeof(*grown) * (size_t)nhooks);
			hooks = grown;
			cap = cap ? cap * 2 : 8;
		}
		hooks[nhooks++] = col_str(r, WC_ID, a);
	}
	store_rows_close(r);
	if (st != RS_OK || nhooks == 0)
		return st;
	return event_insert(tx, c, &t, hooks, nhooks, event_type, data_json, NULL, a, err);
}

/* Queues one job of kind "webhook" per subscription in hooks, all for one new event.
 * job_id (optional) gets the last job's id. */
static enum rs_status event_insert(struct store_tx *tx, struct core *c, const struct tenant *tp,
				   const char *const *hooks, int nhooks, const char *event_type,
				   const char *data_json, char *job_id, struct arena *a,
				   struct rs_err *err)
{
	const struct tenant t = *tp;
	char event_id[UUID_STR_LEN], at[TIME_STR_LEN];
	enum rs_status st = RS_OK;
	json_t *data;

	data = data_json ? json_loads(data_json, 0, NULL) : json_object();
	if (!json_is_object(data)) {
		json_decref(data);
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "data",
			       "event data must be a JSON object");
	}
	if (!core_new_id(event_id)) {
		json_decref(data);
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	}
	time_format(core_now(c), at);
	for (int i = 0; st == RS_OK && i < nhooks; i++) {
		char id[UUID_STR_LEN];
		json_t *payload =
		    json_pack("{s:s,s:{s:s,s:s,s:s,s:{s:s,s:s},s:O}}", "webhook_id", hooks[i],
			      "event", "id", event_id, "type", event_type, "occurred_at", at,
			      "tenant", "id", t.id, "slug", t.slug, "data", data);

		st = job_insert(tx, c, t.id, "webhook", dump_new(a, payload), id, err);
		json_decref(payload);
		if (st == RS_OK && job_id)
			memcpy(job_id, id, UUID_STR_LEN);
	}
	json_decref(data);
	return st;
}

enum rs_status outbox_event_one(struct store_tx *tx, struct core *c, const char *tenant_id,
				const char *webhook_id, const char *event_type,
				const char *data_json, char job_id[UUID_STR_LEN],
				struct rs_err *err)
{
	struct arena a;
	struct tenant t;
	enum rs_status st;

	arena_init(&a, 0);
	st = tenant_load(tx, tenant_id, &a, &t, err);
	if (st == RS_OK)
		st =
		    event_insert(tx, c, &t, &webhook_id, 1, event_type, data_json, job_id, &a, err);
	arena_release(&a);
	return st;
}

enum rs_status outbox_event(struct store_tx *tx, struct core *c, const char *tenant_id,
			    const char *event_type, const char *data_json, struct rs_err *err)
{
	struct arena a;
	enum rs_status st;

	arena_init(&a, 0);
	st = event_tx(tx, c, tenant_id, event_type, data_json, &a, err);
	arena_release(&a);
	return st;
}

/* ---- the outbox API
 * ------------------------------------------------------------------------------ */

enum rs_status outbox_job_load(struct store_tx *tx, const char *tenant_id, const char *id,
			       struct arena *a, struct job *out, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has = false;

	if (!id || !uuid_valid(id))
		goto missing;
	st = Q_QUERY(tx, Q_OUTBOX_GET, &r, err, SV_S(tenant_id), SV_S(id));
	if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has)
		row_job(r, a, out);
	store_rows_close(r);
	if (st != RS_OK || has)
		return st;
missing:
	return rs_fail(err, RS_E_NOT_FOUND, "outbox.not_found", NULL, "no such outbox message");
}

struct ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *id;
	const struct outbox_query *q;
	struct arena *a;
	struct job *out;
	struct job_list *list;
};

static bool one_of(const char *v, const char *const *set)
{
	for (; *set; set++) {
		if (strcmp(v, *set) == 0)
			return true;
	}
	return false;
}

static enum rs_status read_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	static const char *const statuses[] = {"queued", "running", "done", "failed", NULL};
	static const char *const kinds[] = {"email", "webhook", NULL};
	struct ctx *x = arg;
	struct store_rows *r = NULL;
	struct tenant t;
	const char *before = NULL;
	int limit;
	enum rs_status st;
	bool has;

	st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_TENANT_SETTINGS, err);
	if (st != RS_OK)
		return st;
	if (x->out)
		return outbox_job_load(tx, t.id, x->id, x->a, x->out, err);
	if (x->q->status && !one_of(x->q->status, statuses))
		return rs_fail(err, RS_E_INVALID, "request.invalid_parameter", "status",
			       "status must be queued, running, done or failed");
	if (x->q->kind && !one_of(x->q->kind, kinds))
		return rs_fail(err, RS_E_INVALID, "request.invalid_parameter", "kind",
			       "kind must be email or webhook");
	if (x->q->page.cursor) {
		const char *sv;

		st = cursor_decode(x->c, x->a, x->q->page.cursor, &sv, &before, err);
		if (st != RS_OK)
			return st;
	}
	limit = page_limit(&x->q->page);
	x->list->n = 0;
	x->list->next_cursor = NULL;
	x->list->items = arena_alloc(x->a, sizeof(*x->list->items) * (size_t)(limit + 1));
	if (!x->list->items)
		return core_oom(err);
	st = Q_QUERY(tx, Q_OUTBOX_LIST, &r, err, SV_S(t.id), SV_S(x->q->status), SV_S(x->q->kind),
		     SV_S(before), SV_I(limit + 1));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if (x->list->n == limit) {
			x->list->next_cursor =
			    cursor_encode(x->c, x->a, "", x->list->items[limit - 1].id);
			break;
		}
		row_job(r, x->a, &x->list->items[x->list->n++]);
	}
	store_rows_close(r);
	return st;
}

enum rs_status outbox_list(struct core *c, const struct actor *who, const char *tenant,
			   const struct outbox_query *q, struct arena *a, struct job_list *out,
			   struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .q = q, .a = a, .list = out};

	memset(out, 0, sizeof(*out));
	return core_read(c, read_tx, &x, err);
}

enum rs_status outbox_get(struct core *c, const struct actor *who, const char *tenant,
			  const char *id, struct arena *a, struct job *out, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .id = id, .a = a, .out = out};

	return core_read(c, read_tx, &x, err);
}

static enum rs_status retry_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	struct job before;
	int64_t changed = 0;
	enum rs_status st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK)
		st = require_perm(x->who, PERM_TENANT_SETTINGS, err);
	if (st == RS_OK)
		st = outbox_job_load(tx, t.id, x->id, x->a, &before, err);
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_OUTBOX_RETRY, &changed, err, SV_S(t.id), SV_S(before.id),
			    SV_I(core_now(x->c)));
	if (st != RS_OK)
		return st;
	if (changed == 0)
		return rs_fail(err, RS_E_CONFLICT, "outbox.not_retryable", NULL,
			       "only a failed or waiting message can be retried; this one is %s",
			       before.status);
	st =
	    audit_append(tx, x->c, x->who, t.id, "outbox.retry", "job", before.id,
			 arena_printf(x->a, "{\"status\":{\"before\":\"%s\",\"after\":\"queued\"}}",
				      before.status),
			 err);
	return st == RS_OK ? outbox_job_load(tx, t.id, before.id, x->a, x->out, err) : st;
}

enum rs_status outbox_retry(struct core *c, const struct actor *who, const char *tenant,
			    const char *id, struct arena *a, struct job *out, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .id = id, .a = a, .out = out};

	return core_write(c, retry_tx, &x, err);
}
