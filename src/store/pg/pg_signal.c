/* Signals between roster nodes sharing one PostgreSQL database (store.h, store_signal).
 *
 * Sending: the bits a write recorded are announced inside its transaction, just before
 * COMMIT: store_signals.seq is bumped and pg_notify() queued, both delivered only if the
 * transaction commits. This process's watcher is called directly after the COMMIT, so a
 * store_write() that returns has already invalidated the local cache.
 *
 * Receiving: one watch thread per store (started by the first store_watch()) holds its own
 * connection with LISTEN roster_signals and waits on its socket (250 ms poll). Independently
 * it reads store_signals.seq every 500 ms (one row per signal: 'auth', 'keys') and reports
 * the signal of each row whose value moved:
 * on its own connection while that is up, else on an idle pool connection, so a revocation
 * arrives within about a second even while the listener cannot reconnect (it retries with
 * backoff, re-LISTENs, then reads seq at once). */
#include "store/pg/pg_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/timeutil.h"

#define PG_WATCH_WAIT_MS 250
#define PG_WATCH_POLL_MS 500
#define PG_WATCH_BACKOFF_MIN_MS 100
#define PG_WATCH_BACKOFF_MAX_MS 5000
#define PG_SEQ_ROWS 2

enum rs_status pg_signal(struct store_tx *t, enum store_signal sig, struct rs_err *err)
{
	(void)err;
	((struct pg_tx *)t)->signals |= (unsigned)sig;
	return RS_OK;
}

enum rs_status pg_signal_send(struct pg_tx *tx, struct rs_err *err)
{
	char sql[300];

	if (!tx->signals)
		return RS_OK;
	/* Row lock on store_signals until COMMIT: signalling writers of all tenants queue here,
	 * always as their last statement, so it cannot take part in a deadlock (the rows are
	 * always taken in the same order: auth, then keys). The bits are our own unsigned, not
	 * client data. */
	snprintf(sql, sizeof(sql), "%s%sSELECT pg_notify('" PG_NOTIFY_CHANNEL "', '%u')",
		 tx->signals & STORE_SIG_AUTH
		     ? "UPDATE store_signals SET seq = seq + 1 WHERE name = 'auth'; "
		     : "",
		 tx->signals & STORE_SIG_KEYS
		     ? "UPDATE store_signals SET seq = seq + 1 WHERE name = 'keys'; "
		     : "",
		 tx->signals);
	return pg_simple(tx->conn, tx, sql, err);
}

void pg_signal_local(struct pg_store *s, unsigned sigs)
{
	if (!sigs)
		return;
	pthread_mutex_lock(&s->watch_lock);
	if (s->watch_fn)
		s->watch_fn(sigs, s->watch_ctx);
	pthread_mutex_unlock(&s->watch_lock);
}

static int64_t pg_mono_ms(void)
{
	return time_mono_ns() / 1000000;
}

/* Takes the queued notifications off pg; returns their bits. */
static unsigned pg_watch_drain(PGconn *pg)
{
	unsigned sigs = 0;
	PGnotify *n;

	while ((n = PQnotifies(pg)) != NULL) {
		unsigned long v = strtoul(n->extra, NULL, 10);

		/* An empty or foreign payload still means "something changed". */
		sigs |= v ? (unsigned)v : (unsigned)(STORE_SIG_AUTH | STORE_SIG_KEYS);
		PQfreemem(n);
	}
	return sigs;
}

/* The signal each row of store_signals counts, in the order of pg_watch_seq's array. */
static const struct {
	const char *name;
	enum store_signal sig;
} pg_seq_rows[PG_SEQ_ROWS] = {{"auth", STORE_SIG_AUTH}, {"keys", STORE_SIG_KEYS}};

/* Reads store_signals.seq of every row; false when the connection failed. A row missing (a
 * schema older than the signal) keeps its value, so it never reports a change. */
static bool pg_watch_seq(PGconn *pg, int64_t seq[PG_SEQ_ROWS])
{
	PGresult *res = PQexec(pg, "SELECT name, seq FROM store_signals");
	bool ok = res && PQresultStatus(res) == PGRES_TUPLES_OK;

	for (int r = 0; ok && r < PQntuples(res); r++) {
		for (int i = 0; i < PG_SEQ_ROWS; i++) {
			if (strcmp(PQgetvalue(res, r, 0), pg_seq_rows[i].name) == 0)
				seq[i] = strtoll(PQgetvalue(res, r, 1), NULL, 10);
		}
	}
	PQclear(res);
	return ok && PQstatus(pg) == CONNECTION_OK;
}

static PGconn *pg_watch_connect(struct pg_store *s)
{
	struct rs_err e;
	PGconn *pg = pg_connect(s, "roster-watch", &e);
	PGresult *res;

	if (!pg)
		return NULL;
	res = PQexec(pg, "LISTEN " PG_NOTIFY_CHANNEL);
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		PQfinish(pg);
		return NULL;
	}
	PQclear(res);
	return pg;
}

static void *pg_watch_main(void *arg)
{
	struct pg_store *s = arg;
	PGconn *pg = NULL;
	int64_t seq[PG_SEQ_ROWS] = {0}, now, next_connect = 0, next_poll = 0;
	bool have_seq = false, connected_once = false;
	int backoff = 0;

	while (!atomic_load(&s->watch_stop)) {
		struct pollfd fds[2] = {{.fd = s->wake[0], .events = POLLIN},
					{.fd = -1, .events = POLLIN}};
		unsigned sigs = 0;
		int64_t wait;

		now = pg_mono_ms();
		if (now >= next_poll) {
			int64_t v[PG_SEQ_ROWS];
			bool ok;

			memcpy(v, seq, sizeof(v));
			if (pg) {
				ok = pg_watch_seq(pg, v);
				if (!ok) {
					PQfinish(pg);
					pg = NULL;
					next_connect = now;
				}
			} else {
				/* No listener: poll through an idle pool connection, so a
				 * revocation still arrives while ours cannot reconnect (the
				 * server refusing new connections keeps the pool's). */
				struct pg_conn *c = pg_conn_try_idle(s);

				ok = c && pg_watch_seq(c->pg, v);
				if (c) {
					if (!ok)
						c->broken = true;
					pg_conn_release(s, c);
				}
			}
			if (ok) {
				for (int i = 0; have_seq && i < PG_SEQ_ROWS; i++) {
					if (v[i] != seq[i])
						sigs |= (unsigned)pg_seq_rows[i].sig;
				}
				memcpy(seq, v, sizeof(seq));
				have_seq = true;
			}
			next_poll = now + PG_WATCH_POLL_MS;
		}
		/* After the poll: a connect attempt may block up to connect_timeout. */
		if (!pg && now >= next_connect) {
			pg = pg_watch_connect(s);
			if (!pg) {
				backoff = backoff ? backoff * 2 : PG_WATCH_BACKOFF_MIN_MS;
				if (backoff > PG_WATCH_BACKOFF_MAX_MS)
					backoff = PG_WATCH_BACKOFF_MAX_MS;
				next_connect = now + backoff;
			} else {
				if (connected_once)
					pg_stats_add(s, &s->stats.watch_reconnects, 1);
				connected_once = true;
				backoff = 0;
				now = pg_mono_ms();
				next_poll = now; /* LISTEN is on: now catch what was missed */
			}
		}
		if (pg)
			sigs |= pg_watch_drain(pg);
		pg_signal_local(s, sigs);
		if (pg)
			fds[1].fd = PQsocket(pg);
		wait = PG_WATCH_WAIT_MS;
		if (next_poll - now < wait)
			wait = next_poll - now;
		if (!pg && next_connect - now < wait)
			wait = next_connect - now;
		if (wait < 0)
			wait = 0;
		if (poll(fds, 2, (int)wait) < 0 && errno != EINTR)
			usleep(PG_WATCH_WAIT_MS * 1000);
		if (fds[0].revents)
			break;
		if (pg && fds[1].revents) {
			/* Readable: notifications, or the server closing the connection. */
			if (!PQconsumeInput(pg) || PQstatus(pg) != CONNECTION_OK) {
				PQfinish(pg);
				pg = NULL;
				next_connect = pg_mono_ms();
			} else {
				pg_signal_local(s, pg_watch_drain(pg));
			}
		}
	}
	PQfinish(pg);
	return NULL;
}

enum rs_status pg_watch(struct store *st, store_watch_fn fn, void *ctx, struct rs_err *err)
{
	struct pg_store *s = (struct pg_store *)st;
	enum rs_status ret = RS_OK;
	int rc;

	pthread_mutex_lock(&s->watch_lock);
	s->watch_fn = fn;
	s->watch_ctx = ctx;
	/* Started on first use: a CLI opening the store for one command needs no listener. */
	if (fn && !s->watch_running) {
		atomic_store(&s->watch_stop, false);
		rc = pthread_create(&s->watch_thread, NULL, pg_watch_main, s);
		if (rc != 0)
			ret = rs_fail(err, RS_E_INTERNAL, "store.error", NULL,
				      "cannot start the watch thread: %s", strerror(rc));
		else
			s->watch_running = true;
	}
	pthread_mutex_unlock(&s->watch_lock);
	return ret;
}

void pg_watch_stop(struct pg_store *s)
{
	bool running;

	pthread_mutex_lock(&s->watch_lock);
	running = s->watch_running;
	s->watch_running = false;
	pthread_mutex_unlock(&s->watch_lock);
	if (!running)
		return;
	atomic_store(&s->watch_stop, true);
	/* A full pipe already holds a wake-up; nothing to do if the write fails. */
	(void)!write(s->wake[1], "x", 1);
	pthread_join(s->watch_thread, NULL);
}
