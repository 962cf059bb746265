/* The group-commit writer: one thread owns the only writing connection. store_write() queues a
 * job and sleeps; the writer takes every queued job (up to group_commit_max), runs them in one
 * BEGIN IMMEDIATE … COMMIT with a savepoint each, and wakes the batch only after COMMIT
 * returned, so a returned RS_OK means durable (per the configured synchronous level).
 *
 * Batching comes for free: while one batch waits for its fsync, the next queues up. There is
 * no timer and no polling; an idle writer sleeps on q_cond.
 *
 * COMMIT failure: jobs of the batch whose fn succeeded get RS_E_UNAVAILABLE
 * "store.commit_failed" (retryable: the client gets 503); jobs whose fn failed keep their own
 * error. They are not retried one by one because store.h does not promise that a store_fn may
 * run twice (fn may fill its ctx as it goes), and in WAL mode with the write lock held, COMMIT
 * only fails on I/O errors or a full disk, which a retry would meet again. */
#include "store/sqlite/sqlite_int.h"

#include <string.h>

static enum rs_status sqlite_job_fail(struct sqlite_job *j, const char *why)
{
	return rs_fail(j->err, RS_E_UNAVAILABLE, "store.commit_failed", NULL,
		       "the write was rolled back (%s); retry", why);
}

/* Runs one batch on the writer connection. Sets every job's st; touches no lock. */
static void sqlite_run_batch(struct sqlite_store *s, struct sqlite_job *batch)
{
	struct sqlite_conn *c = s->wconn;
	struct sqlite_tx tx = {.base.ops = &sqlite_ops, .conn = c};
	struct rs_err e = {0};
	bool broken = false;
	unsigned signals = 0;
	store_watch_fn watch;
	void *watch_ctx;
	enum rs_status st;

	st = sqlite_ctl(c, SCTL_BEGIN_IMMEDIATE, &e);
	if (st) {
		for (struct sqlite_job *j = batch; j; j = j->next) {
			if (j->err)
				*j->err = e;
			j->st = st;
		}
		return;
	}
	c->in_tx = true;
	for (struct sqlite_job *j = batch; j; j = j->next) {
		if (broken || sqlite_ctl(c, SCTL_SAVEPOINT, &e) != RS_OK) {
			broken = true;
			j->st = sqlite_job_fail(j, "transaction aborted");
			continue;
		}
		tx.signals = 0;
		j->st = j->fn(&tx.base, j->ctx, j->err);
		sqlite_conn_reset_stray(c);
		if (j->st == RS_OK) {
			if (sqlite_ctl(c, SCTL_RELEASE, &e) != RS_OK) {
				broken = true;
				j->st = sqlite_job_fail(j, "savepoint release failed");
			}
			signals |= tx.signals;
		} else if (sqlite_ctl(c, SCTL_ROLLBACK_TO, &e) != RS_OK ||
			   sqlite_ctl(c, SCTL_RELEASE, &e) != RS_OK) {
			/* An I/O error or a full disk inside fn can make SQLite roll the whole
			 * transaction back; the savepoint is gone and so are the other jobs'
			 * writes. */
			broken = true;
		}
	}
	/* The substring index follows the batch's user changes before anyone can see them. */
	if (!broken && sqlite_trgm_flush(c, &e) != RS_OK)
		broken = true;
	if (!broken && sqlite_ctl(c, SCTL_COMMIT, &e) != RS_OK)
		broken = true;
	if (broken) {
		if (!sqlite3_get_autocommit(c->db))
			(void)sqlite_ctl(c, SCTL_ROLLBACK,
					 NULL); /* nothing more to do if it fails */
		for (struct sqlite_job *j = batch; j; j = j->next) {
			if (j->st == RS_OK)
				j->st = sqlite_job_fail(j, e.msg);
		}
	}
	c->in_tx = false;
	pthread_mutex_lock(&s->q_lock);
	s->stats.commit_failures += broken;
	watch = s->watch_fn;
	watch_ctx = s->watch_ctx;
	pthread_mutex_unlock(&s->q_lock);
	/* Before the batch is woken: when store_write() returns, the watcher has seen it. */
	if (!broken && signals && watch)
		watch(signals, watch_ctx);
}

enum rs_status sqlite_signal(struct store_tx *tx, enum store_signal sig, struct rs_err *err)
{
	(void)err;
	((struct sqlite_tx *)tx)->signals |= (unsigned)sig;
	return RS_OK;
}

enum rs_status sqlite_watch(struct store *st, store_watch_fn fn, void *ctx, struct rs_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)st;

	(void)err;
	pthread_mutex_lock(&s->q_lock);
	s->watch_fn = fn;
	s->watch_ctx = ctx;
	pthread_mutex_unlock(&s->q_lock);
	return RS_OK;
}

static void *sqlite_writer_main(void *arg)
{
	struct sqlite_store *s = arg;
	int max = s->cfg.group_commit_max;

	pthread_mutex_lock(&s->q_lock);
	for (;;) {
		struct sqlite_job *batch, *last;
		int n = 1;

		while (!s->q_head && !s->stopping)
			pthread_cond_wait(&s->q_cond, &s->q_lock);
		if (!s->q_head)
			break; /* stopping, and every queued job is done */
		batch = last = s->q_head;
		while (last->next && n < max) {
			last = last->next;
			n++;
		}
		s->q_head = last->next;
		if (!s->q_head)
			s->q_tail = NULL;
		last->next = NULL;
		s->stats.batches++;
		s->stats.jobs += (uint64_t)n;
		if (n > s->stats.max_batch)
			s->stats.max_batch = n;
		pthread_mutex_unlock(&s->q_lock);

		sqlite_run_batch(s, batch);

		pthread_mutex_lock(&s->q_lock);
		for (struct sqlite_job *j = batch, *next; j; j = next) {
			/* Read next first: once done is set the waiter may return and its
			 * stack frame (the job) is gone as soon as we drop the lock. */
			next = j->next;
			j->done = true;
			pthread_cond_signal(&j->done_cond);
		}
	}
	pthread_mutex_unlock(&s->q_lock);
	return NULL;
}

enum rs_status sqlite_writer_start(struct sqlite_store *s, struct rs_err *err)
{
	int rc = pthread_create(&s->writer, NULL, sqlite_writer_main, s);

	if (rc != 0)
		return rs_fail(err, RS_E_INTERNAL, "store.error", NULL,
			       "cannot start the writer thread: %s", strerror(rc));
	s->writer_running = true;
	return RS_OK;
}

void sqlite_writer_stop(struct sqlite_store *s)
{
	if (!s->writer_running)
		return;
	pthread_mutex_lock(&s->q_lock);
	s->stopping = true;
	pthread_cond_signal(&s->q_cond);
	pthread_mutex_unlock(&s->q_lock);
	pthread_join(s->writer, NULL);
	s->writer_running = false;
	/* The writer has woken every job; wait until their threads have left store_write(),
	 * which still touches q_lock, before the caller destroys it. */
	pthread_mutex_lock(&s->q_lock);
	while (s->waiters > 0)
		pthread_cond_wait(&s->idle_cond, &s->q_lock);
	pthread_mutex_unlock(&s->q_lock);
}

enum rs_status sqlite_write(struct store *st, store_fn fn, void *ctx, struct rs_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)st;
	struct sqlite_job job = {.fn = fn, .ctx = ctx, .err = err};

	if (!s->writer_running)
		return rs_fail(err, RS_E_INTERNAL, "store.read_only", NULL,
			       "the store was opened read-only");
	/* fn runs on the writer: a store_write() from inside it would wait for itself. */
	if (pthread_equal(pthread_self(), s->writer))
		return rs_fail(err, RS_E_INTERNAL, "store.nested", NULL,
			       "store_write called from inside a write");
	pthread_cond_init(&job.done_cond, NULL);
	pthread_mutex_lock(&s->q_lock);
	if (s->stopping) {
		pthread_mutex_unlock(&s->q_lock);
		pthread_cond_destroy(&job.done_cond);
		return rs_fail(err, RS_E_UNAVAILABLE, "store.closing", NULL,
			       "the store is closing");
	}
	if (s->q_tail)
		s->q_tail->next = &job;
	else
		s->q_head = &job;
	s->q_tail = &job;
	s->waiters++;
	pthread_cond_signal(&s->q_cond);
	while (!job.done)
		pthread_cond_wait(&job.done_cond, &s->q_lock);
	if (--s->waiters == 0 && s->stopping)
		pthread_cond_signal(&s->idle_cond);
	pthread_mutex_unlock(&s->q_lock);
	pthread_cond_destroy(&job.done_cond);
	return job.st;
}

void sqlite_store_stats(struct store *st, struct sqlite_stats *out)
{
	struct sqlite_store *s = (struct sqlite_store *)st;

	pthread_mutex_lock(&s->q_lock);
	*out = s->stats;
	pthread_mutex_unlock(&s->q_lock);
}
