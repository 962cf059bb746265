/* Jobs: work that must be done once, not once per node. A job is claimed with a lease
 * (Q_JOB_CLAIM: the engine guarantees two claimers never get the same job), renewed in the
 * same transaction as each step of the work, and finished by its owner. A node that dies
 * stops renewing; when the lease expires another node claims the job and carries on from the
 * progress the last committed step recorded. Steps are idempotent, so a step that was under
 * way when its node died is simply done again.
 *
 * Timers make periodic work: firing one is an UPDATE that only one node can win for a given
 * due time, and it enqueues a job. The outbox, bulk jobs and lifecycle timers of later issues
 * are built on the same two primitives. */
#include "core/core_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "util/log.h"
#include "util/timeutil.h"

#define JOB_MAX_ATTEMPTS 5
#define JOB_BACKOFF_MS 2000	/* the first retry's delay, doubled per attempt */
#define JOB_BACKOFF_MAX 3600000 /* and never more than an hour */
#define PURGE_KIND "purge_expired_tokens"
#define PURGE_CHUNK_DEFAULT 500
#define PURGE_CHUNK_MAX 10000
#define PURGE_PAUSE_MAX 60000
#define TENANT_PAGE 50

struct jobs_runner {
	struct core *c;
	char node_id[UUID_STR_LEN + 32];
	int64_t lease_ms, poll_ms, purge_every_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
};

/* One job being run: what its steps need to renew the lease and record progress. */
struct job_run {
	struct jobs_runner *r;
	struct job *job;
	char after_tenant[UUID_STR_LEN];
	int64_t done; /* units of work finished so far (tokens purged) */
};

static bool runner_stopping(struct jobs_runner *r)
{
	bool s;

	pthread_mutex_lock(&r->lock);
	s = r->stopping;
	pthread_mutex_unlock(&r->lock);
	return s;
}

/* Sleeps up to ms, waking early when the runner stops. */
static void runner_sleep(struct jobs_runner *r, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->lock);
	if (!r->stopping)
		(void)pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	pthread_mutex_unlock(&r->lock);
}

void row_job(struct store_rows *rows, struct arena *a, struct job *j)
{
	j->id = col_str(rows, JC_ID, a);
	j->tenant_id = col_str(rows, JC_TENANT, a);
	j->kind = col_str(rows, JC_KIND, a);
	j->payload = col_str(rows, JC_PAYLOAD, a);
	j->status = col_str(rows, JC_STATUS, a);
	j->run_at = store_col_int(rows, JC_RUN_AT);
	j->lease_owner = col_str(rows, JC_OWNER, a);
	j->lease_until = store_col_null(rows, JC_LEASE) ? 0 : store_col_int(rows, JC_LEASE);
	j->attempts = store_col_int(rows, JC_ATTEMPTS);
	j->progress = col_str(rows, JC_PROGRESS, a);
	j->last_error = col_str(rows, JC_ERROR, a);
	j->created_at = store_col_int(rows, JC_CREATED);
	j->updated_at = store_col_int(rows, JC_UPDATED);
}

/* Reads an integer member of a JSON object text, clamped to [0, max]. */
static int64_t json_int_member(const char *text, const char *key, int64_t def, int64_t max)
{
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;
	json_t *v = json_object_get(o, key);
	int64_t out = def;

	if (json_is_integer(v)) {
		out = json_integer_value(v);
		out = out < 0 ? 0 : (out > max ? max : out);
	}
	json_decref(o);
	return out;
}

static void json_str_member(const char *text, const char *key, char *out, size_t cap)
{
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;
	json_t *v = json_object_get(o, key);

	out[0] = '\0';
	if (json_is_string(v))
		str_copy(out, cap, json_string_value(v));
	json_decref(o);
}

/* The progress a step records: its own work (step_done) counted in. */
static char *progress_text(const struct job_run *run, int64_t step_done, struct arena *a)
{
	return arena_printf(a, "{\"after_tenant\":\"%s\",\"done\":%lld}", run->after_tenant,
			    (long long)(run->done + step_done));
}

/* ---- the steps --------------------------------------------------------------------------------
 */

/* Renews the lease and records progress inside the step's own transaction: the step's effects
 * and the progress that says they happened commit together, or not at all. */
static enum rs_status job_heartbeat(struct store_tx *tx, struct job_run *run, int64_t step_done,
				    struct arena *a, struct rs_err *err)
{
	struct core *c = run->r->c;
	int64_t now = core_now(c), changed = 0;
	enum rs_status st;

	st =
	    Q_EXEC(tx, Q_JOB_HEARTBEAT, &changed, err, SV_S(run->job->id), SV_S(run->r->node_id),
		   SV_I(now + run->r->lease_ms), SV_S(progress_text(run, step_done, a)), SV_I(now));
	if (st == RS_OK && changed == 0)
		return rs_fail(err, RS_E_CONFLICT, "job.lease_lost", NULL,
			       "another node owns this job now");
	return st;
}

struct purge_ctx {
	struct job_run *run;
	const char *tenant_id;
	int64_t chunk, purged;
	struct arena *a;
};

static enum rs_status purge_step_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct purge_ctx *x = arg;
	struct core *c = x->run->r->c;
	struct actor sys = {
	    .kind = ACTOR_SYSTEM, .rank = 1000, .perms = PERM_ALL, .platform = true};
	struct store_rows *r = NULL;
	const char **ids;
	int64_t n = 0, now = core_now(c);
	enum rs_status st;
	bool has;

	x->purged = 0; /* fn may run more than once: outputs are overwritten */
	ids = arena_alloc(x->a, (size_t)x->chunk * sizeof(*ids));
	if (!ids)
		return core_oom(err);
	st = tenant_lock(tx, x->tenant_id, err);
	if (st == RS_OK)
		st = Q_QUERY(tx, Q_TOKEN_EXPIRED, &r, err, SV_S(x->tenant_id), SV_I(now),
			     SV_I(x->chunk));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has && n < x->chunk)
		ids[n++] = col_str(r, 0, x->a);
	store_rows_close(r);
	for (int64_t i = 0; st == RS_OK && i < n; i++)
		st = Q_EXEC(tx, Q_TOKEN_DELETE, NULL, err, SV_S(x->tenant_id), SV_S(ids[i]));
	if (st == RS_OK && n > 0) {
		char *doc = arena_printf(x->a, "{\"purged\":{\"after\":%lld,\"before\":null}}",
					 (long long)n);

		st = audit_append(tx, c, &sys, x->tenant_id, "token.purge", "tenant", x->tenant_id,
				  doc, err);
	}
	if (st != RS_OK)
		return st;
	x->purged = n; /* the caller counts it once the commit succeeded */
	return job_heartbeat(tx, x->run, n, x->a, err);
}

struct tenants_ctx {
	const char *after;
	struct arena *a;
	const char *ids[TENANT_PAGE];
	int n;
};

static enum rs_status tenants_page_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct tenants_ctx *x = arg;
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has;

	x->n = 0;
	st = Q_QUERY(tx, Q_TENANT_LIST, &r, err, SV_S(x->after), SV_I(TENANT_PAGE));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has && x->n < TENANT_PAGE)
		x->ids[x->n++] = col_str(r, TC_ID, x->a);
	store_rows_close(r);
	return st;
}

/* Deletes expired API tokens, tenant by tenant, a chunk per transaction. */
static enum rs_status run_purge(struct job_run *run, struct rs_err *err)
{
	struct core *c = run->r->c;
	int64_t chunk =
	    json_int_member(run->job->payload, "chunk", PURGE_CHUNK_DEFAULT, PURGE_CHUNK_MAX);
	int64_t pause = json_int_member(run->job->payload, "pause_ms", 0, PURGE_PAUSE_MAX);
	enum rs_status st = RS_OK;

	if (chunk < 1)
		chunk = 1;
	for (;;) {
		struct arena a;
		struct tenants_ctx tc;

		arena_init(&a, 0);
		tc = (struct tenants_ctx){.after = run->after_tenant[0] ? run->after_tenant : NULL,
					  .a = &a};
		st = core_read(c, tenants_page_tx, &tc, err);
		for (int i = 0; st == RS_OK && i < tc.n; i++) {
			struct purge_ctx pc = {run, tc.ids[i], chunk, 0, &a};

			do {
				if (runner_stopping(run->r)) {
					st = rs_fail(err, RS_E_UNAVAILABLE, "job.interrupted", NULL,
						     "the node is stopping");
					break;
				}
				st = core_write(c, purge_step_tx, &pc, err);
				if (st == RS_OK)
					run->done += pc.purged;
				if (st == RS_OK && pc.purged == chunk && pause > 0)
					runner_sleep(run->r, pause);
			} while (st == RS_OK && pc.purged == chunk);
			if (st == RS_OK)
				str_copy(run->after_tenant, sizeof(run->after_tenant), tc.ids[i]);
		}
		arena_release(&a);
		if (st != RS_OK || tc.n < TENANT_PAGE)
			return st;
	}
}

/* The end of a timed suspension (core/lifecycle.c scheduled it). */
static enum rs_status run_resume(struct job_run *run, struct rs_err *err)
{
	char tenant[UUID_STR_LEN], user[UUID_STR_LEN];

	json_str_member(run->job->payload, "tenant_id", tenant, sizeof(tenant));
	json_str_member(run->job->payload, "user_id", user, sizeof(user));
	return users_resume_due(run->r->c, tenant, user,
				json_int_member(run->job->payload, "version", 0, INT64_MAX), err);
}

/* A deletion task (core/deletion.c). */
static enum rs_status run_delete(struct job_run *run, struct rs_err *err)
{
	return deletion_run(run->r->c, run->job, err);
}

static const struct {
	const char *kind;
	enum rs_status (*run)(struct job_run *run, struct rs_err *err);
	bool by_hand; /* may be queued through the API */
} job_kinds[] = {
    {PURGE_KIND, run_purge, true},
    {"resume_user", run_resume, false},
    {"delete_user", run_delete, false},
};

static enum rs_status (*job_handler(const char *kind))(struct job_run *, struct rs_err *)
{
	for (size_t i = 0; i < sizeof(job_kinds) / sizeof(job_kinds[0]); i++) {
		if (kind && strcmp(job_kinds[i].kind, kind) == 0)
			return job_kinds[i].run;
	}
	return NULL;
}

/* ---- claiming, finishing, timers
 * ----------------------------------------------------------------- */

struct claim_ctx {
	struct jobs_runner *r;
	struct arena *a;
	struct job *out;
	bool got;
};

static enum rs_status claim_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct claim_ctx *x = arg;
	struct store_rows *r = NULL;
	int64_t now = core_now(x->r->c);
	enum rs_status st;
	bool has = false;

	x->got = false;
	st = Q_QUERY(tx, Q_JOB_CLAIM, &r, err, SV_S(x->r->node_id), SV_I(now),
		     SV_I(now + x->r->lease_ms));
	if (st != RS_OK)
		return st;
	st = store_rows_next(r, &has, err);
	if (st == RS_OK && has) {
		row_job(r, x->a, x->out);
		x->got = true;
	}
	store_rows_close(r);
	return st;
}

struct finish_ctx {
	struct job_run *run;
	const char *status, *error;
	int64_t run_at;
	struct arena *a;
};

static enum rs_status finish_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct finish_ctx *x = arg;
	struct core *c = x->run->r->c;
	enum rs_status st = RS_OK;

	if (strcmp(x->status, "done") == 0)
		st = job_heartbeat(tx, x->run, 0, x->a, err); /* the final progress */
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_JOB_FINISH, NULL, err, SV_S(x->run->job->id),
			    SV_S(x->run->r->node_id), SV_S(x->status), SV_S(x->error),
			    SV_I(x->run_at), SV_I(core_now(c)));
	return st;
}

/* ---- kinds registered by adapters -------------------------------------------------------------
 */

static const struct job_kind *registered_kind(const struct core *c, const char *kind)
{
	for (int i = 0; kind && i < c->nkinds; i++) {
		if (strcmp(c->kinds[i].name, kind) == 0)
			return &c->kinds[i];
	}
	return NULL;
}

enum rs_status jobs_register(struct core *c, const char *kind, job_run_fn run, void *ctx,
			     const struct job_kind_opts *opts, struct rs_err *err)
{
	struct job_kind *k = (struct job_kind *)registered_kind(c, kind);

	if (!kind || !*kind || strlen(kind) >= JOB_KIND_NAME_MAX || !run || job_handler(kind))
		return rs_fail(err, RS_E_INVALID, "job.bad_kind", NULL,
			       "a job kind needs a new name of 1-%d bytes and a handler",
			       JOB_KIND_NAME_MAX - 1);
	if (c->jobs)
		return rs_fail(err, RS_E_INTERNAL, "job.running", NULL,
			       "register job kinds before the runner starts");
	if (!k) {
		if (c->nkinds == JOB_KINDS_MAX)
			return rs_fail(err, RS_E_LIMIT, "job.too_many_kinds", NULL,
				       "at most %d job kinds can be registered", JOB_KINDS_MAX);
		k = &c->kinds[c->nkinds++];
	}
	str_copy(k->name, sizeof(k->name), kind);
	k->run = run;
	k->ctx = ctx;
	k->opts = opts ? *opts : (struct job_kind_opts){0};
	if (k->opts.max_attempts <= 0)
		k->opts.max_attempts = JOB_MAX_ATTEMPTS;
	if (k->opts.first_backoff_ms <= 0)
		k->opts.first_backoff_ms = JOB_BACKOFF_MS;
	return RS_OK;
}

struct extend_ctx {
	struct job_run *run;
	int64_t until;
};

static enum rs_status extend_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct extend_ctx *x = arg;
	int64_t changed = 0;
	enum rs_status st;

	st = Q_EXEC(tx, Q_JOB_HEARTBEAT, &changed, err, SV_S(x->run->job->id),
		    SV_S(x->run->r->node_id), SV_I(x->until), SV_S(x->run->job->progress),
		    SV_I(core_now(x->run->r->c)));
	if (st == RS_OK && changed == 0)
		return rs_fail(err, RS_E_CONFLICT, "job.lease_lost", NULL,
			       "another node owns this job now");
	return st;
}

/* A registered kind runs as one step. Its lease is first stretched over the handler's
 * timeout, so that no other node claims the job while this one still talks to the outside
 * world (a mail relay, a webhook receiver). */
static enum rs_status run_registered(struct job_run *run, const struct job_kind *k,
				     struct rs_err *err)
{
	char msg[sizeof(err->msg)] = "";
	enum rs_status st;

	if (k->opts.timeout_ms > 0) {
		struct extend_ctx ec = {run, core_now(run->r->c) + run->r->lease_ms +
						 k->opts.timeout_ms};

		st = core_write(run->r->c, extend_tx, &ec, err);
		if (st != RS_OK)
			return st;
	}
	st = k->run(run->job, k->ctx, msg, sizeof(msg));
	if (st == RS_OK)
		return RS_OK;
	return rs_fail(err, st, "job.attempt_failed", NULL, "%s",
		       msg[0] ? msg : "the attempt failed");
}

void jobs_nudge(struct core *c)
{
	struct jobs_runner *r = c->jobs;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void run_one(struct jobs_runner *r, struct job *job, struct arena *a)
{
	struct job_run run = {.r = r, .job = job};
	enum rs_status (*handler)(struct job_run *, struct rs_err *) = job_handler(job->kind);
	const struct job_kind *kind = handler ? NULL : registered_kind(r->c, job->kind);
	int max_attempts = kind ? kind->opts.max_attempts : JOB_MAX_ATTEMPTS;
	int64_t backoff = kind ? kind->opts.first_backoff_ms : JOB_BACKOFF_MS;
	bool permanent;
	struct finish_ctx fc = {.run = &run, .a = a};
	struct rs_err err = {0}, ferr;
	int64_t now;
	enum rs_status st;

	json_str_member(job->progress, "after_tenant", run.after_tenant, sizeof(run.after_tenant));
	run.done = json_int_member(job->progress, "done", 0, INT64_MAX);
	if (handler)
		st = handler(&run, &err);
	else if (kind)
		st = run_registered(&run, kind, &err);
	else
		st = rs_fail(&err, RS_E_INVALID, "job.unknown_kind", NULL, "no such job kind");
	/* Retrying can't fix bad input or a refusal (a deletion whose transfer target is gone),
	 * nor bring back what a registered kind found missing. */
	permanent =
	    st == RS_E_INVALID || (st == RS_E_CONFLICT && !kind) || (kind && st == RS_E_NOT_FOUND);
	if (st == RS_E_CONFLICT && strcmp(err.code, "job.lease_lost") == 0) {
		log_kv(LOG_WARN, "job lease lost", "job", job->id, "kind", job->kind, NULL);
		return; /* another node carries on */
	}
	now = core_now(r->c);
	if (st == RS_OK) {
		fc.status = "done";
		fc.run_at = job->run_at;
	} else if (strcmp(err.code, "job.interrupted") == 0) {
		fc.status = "queued"; /* handed back: anybody may continue at once */
		fc.run_at = now;
	} else if (job->attempts < max_attempts && !permanent) {
		int64_t shift = job->attempts > 1 ? job->attempts - 1 : 0;

		fc.status = "queued";
		fc.error = err.msg;
		backoff = shift > 20 ? JOB_BACKOFF_MAX : backoff << shift;
		fc.run_at = now + (backoff > JOB_BACKOFF_MAX ? JOB_BACKOFF_MAX : backoff);
	} else {
		fc.status = "failed";
		fc.error = err.msg;
		fc.run_at = job->run_at;
	}
	if (core_write(r->c, finish_tx, &fc, &ferr) != RS_OK)
		log_kv(LOG_WARN, "job finish failed", "job", job->id, "error", ferr.code, NULL);
	log_kv(st == RS_OK ? LOG_INFO : LOG_WARN, "job finished", "job", job->id, "kind", job->kind,
	       "status", fc.status, "error", st == RS_OK ? NULL : err.code, NULL);
}

struct timer_ctx {
	struct jobs_runner *r;
	const char *name, *kind;
	int64_t every;
	bool fired;
};

static enum rs_status timer_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct timer_ctx *x = arg;
	struct store_rows *rows = NULL;
	int64_t now = core_now(x->r->c), changed = 0, active = 0;
	char id[UUID_STR_LEN];
	enum rs_status st;
	bool has;

	x->fired = false;
	st = Q_EXEC(tx, Q_TIMER_ENSURE, NULL, err, SV_S(x->name), SV_I(now + x->every));
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_TIMER_FIRE, &changed, err, SV_S(x->name), SV_I(now),
			    SV_I(now + x->every));
	if (st != RS_OK || changed == 0)
		return st;
	/* This node won this firing. One job of a kind at a time is enough. */
	st = Q_QUERY(tx, Q_JOB_ACTIVE, &rows, err, SV_S(x->kind));
	if (st == RS_OK && (st = store_rows_next(rows, &has, err)) == RS_OK && has)
		active = store_col_int(rows, 0);
	store_rows_close(rows);
	if (st != RS_OK || active > 0)
		return st;
	if (!core_new_id(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	x->fired = true;
	return Q_EXEC(tx, Q_JOB_INSERT, NULL, err, SV_S(id), SV_NULLV, SV_S(x->kind), SV_S("{}"),
		      SV_I(now), SV_I(now));
}

/* Claims one due job and runs it; true when there was one. */
static bool runner_step(struct jobs_runner *r)
{
	struct arena a;
	struct job job;
	struct claim_ctx cc;
	struct rs_err err = {0};
	bool got;

	arena_init(&a, 0);
	cc = (struct claim_ctx){r, &a, &job, false};
	got = core_write(r->c, claim_tx, &cc, &err) == RS_OK && cc.got;
	if (got) {
		log_kv(LOG_INFO, "job claimed", "job", job.id, "kind", job.kind, "node", r->node_id,
		       NULL);
		run_one(r, &job, &a);
	}
	arena_release(&a);
	return got;
}

static void *runner_main(void *arg)
{
	struct jobs_runner *r = arg;

	while (!runner_stopping(r)) {
		struct timer_ctx tc = {r, "purge_expired_tokens", PURGE_KIND, r->purge_every_ms,
				       false};
		struct rs_err err = {0};

		(void)core_write(r->c, timer_tx, &tc, &err); /* retried at the next tick */
		if (runner_step(r))
			continue; /* there may be more work queued */
		runner_sleep(r, r->poll_ms);
	}
	return NULL;
}

enum rs_status jobs_run_next(struct core *c, const char *node_id, bool *ran, struct rs_err *err)
{
	struct jobs_runner r = {.c = c, .lease_ms = 10000, .poll_ms = 1000};

	(void)err; /* failures of the job itself are recorded on the job, not returned */
	str_copy(r.node_id, sizeof(r.node_id), node_id ? node_id : "node");
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	*ran = runner_step(&r);
	pthread_mutex_destroy(&r.lock);
	pthread_cond_destroy(&r.cond);
	return RS_OK;
}

enum rs_status jobs_start(struct core *c, const struct jobs_config *cfg, struct rs_err *err)
{
	struct jobs_runner *r;

	if (c->jobs)
		return rs_fail(err, RS_E_INTERNAL, "job.running", NULL, "the runner already runs");
	r = calloc(1, sizeof(*r));
	if (!r)
		return core_oom(err);
	r->c = c;
	str_copy(r->node_id, sizeof(r->node_id), cfg->node_id ? cfg->node_id : "node");
	r->lease_ms = cfg->lease_ms > 0 ? cfg->lease_ms : 10000;
	r->poll_ms = cfg->poll_ms > 0 ? cfg->poll_ms : 1000;
	r->purge_every_ms = cfg->purge_every_ms > 0 ? cfg->purge_every_ms : 3600000;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	if (pthread_create(&r->thread, NULL, runner_main, r) != 0) {
		pthread_mutex_destroy(&r->lock);
		pthread_cond_destroy(&r->cond);
		free(r);
		return rs_fail(err, RS_E_INTERNAL, "job.thread", NULL,
			       "cannot start the job runner");
	}
	c->jobs = r;
	return RS_OK;
}

void jobs_stop(struct core *c)
{
	struct jobs_runner *r = c ? c->jobs : NULL;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
	c->jobs = NULL;
}

/* ---- the API ----------------------------------------------------------------------------------
 */

struct api_ctx {
	struct core *c;
	const char *id, *kind, *payload;
	struct arena *a;
	struct job *out;
};

static enum rs_status get_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct api_ctx *x = arg;
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has = false;

	if (!x->id || !uuid_valid(x->id))
		return rs_fail(err, RS_E_NOT_FOUND, "job.not_found", NULL, "no such job");
	st = Q_QUERY(tx, Q_JOB_GET, &r, err, SV_S(x->id));
	if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has)
		row_job(r, x->a, x->out);
	store_rows_close(r);
	if (st == RS_OK && !has)
		st = rs_fail(err, RS_E_NOT_FOUND, "job.not_found", NULL, "no such job");
	return st;
}

static enum rs_status enqueue_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct api_ctx *x = arg;
	int64_t now = core_now(x->c);
	enum rs_status st;

	st = Q_EXEC(tx, Q_JOB_INSERT, NULL, err, SV_S(x->id), SV_NULLV, SV_S(x->kind),
		    SV_S(x->payload), SV_I(now), SV_I(now));
	return st == RS_OK ? get_tx(tx, x, err) : st;
}

enum rs_status jobs_enqueue(struct core *c, const struct actor *who, const char *kind,
			    const char *payload, struct arena *a, struct job *out,
			    struct rs_err *err)
{
	char id[UUID_STR_LEN];
	struct api_ctx x = {c, id, kind, payload ? payload : "{}", a, out};
	enum rs_status st = require_perm(who, PERM_PLATFORM_TENANTS, err);

	if (st != RS_OK)
		return st;
	if (!kind || strcmp(kind, PURGE_KIND) != 0) /* the one kind queued by hand */
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "kind",
			       "unknown job kind; known: " PURGE_KIND);
	if (!json_text_is_object(x.payload))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "payload",
			       "'payload' must be a JSON object");
	if (!core_new_id(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	return core_write(c, enqueue_tx, &x, err);
}

enum rs_status jobs_get(struct core *c, const struct actor *who, const char *id, struct arena *a,
			struct job *out, struct rs_err *err)
{
	struct api_ctx x = {c, id, NULL, NULL, a, out};
	enum rs_status st = require_perm(who, PERM_PLATFORM_TENANTS, err);

	return st != RS_OK ? st : core_read(c, get_tx, &x, err);
}
