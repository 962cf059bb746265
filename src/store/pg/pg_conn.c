/* PostgreSQL connections: the fixed-size pool of one store, opening a libpq connection with
 * the store's conninfo, and the translation of libpq/server errors into rs_err. Must not know
 * about named queries or selections beyond forgetting their prepared statements.
 *
 * Pool: pool_size slots, connected lazily by the thread that takes a slot (outside the pool
 * lock: a slow connect must not stall the others). A slot whose connection broke is closed
 * when released and reconnected by its next user, with the same conninfo, so a multi-host
 * URI with target_session_attrs=read-write finds the new primary after a failover. */
#include "store/pg/pg_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void pg_stats_add(struct pg_store *s, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&s->stats_lock);
	*field += n;
	pthread_mutex_unlock(&s->stats_lock);
}

void pg_store_stats(struct store *st, struct pg_stats *out)
{
	struct pg_store *s = (struct pg_store *)st;

	pthread_mutex_lock(&s->stats_lock);
	*out = s->stats;
	pthread_mutex_unlock(&s->stats_lock);
}

/* The server's NOTICEs ("relation already exists, skipping") would go to stderr: the store
 * never logs above debug (STYLE.md, "Report once"). */
static void pg_notice_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

PGconn *pg_connect(struct pg_store *s, const char *app, struct rs_err *err)
{
	/* Entries before dbname are defaults the URI may override (libpq processes the arrays
	 * in order and expands dbname in place). */
	const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
	const char *const vals[] = {"5", app, s->conninfo, NULL};
	PGconn *pg = PQconnectdbParams(keys, vals, 1);

	if (!pg) {
		rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
		return NULL;
	}
	if (PQstatus(pg) != CONNECTION_OK) {
		/* libpq's message names hosts and the reason, never a password. */
		char msg[200];
		size_t n;

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(pg));
		n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		rs_fail(err, RS_E_UNAVAILABLE, "store.unavailable", NULL,
			"cannot connect to postgresql: %s", msg);
		PQfinish(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg, pg_notice_quiet, NULL);
	return pg;
}

static void pg_conn_reset(struct pg_conn *c)
{
	PQfinish(c->pg);
	c->pg = NULL;
	c->broken = false;
	memset(c->prepared, 0, sizeof(c->prepared));
}

enum rs_status pg_conn_acquire(struct pg_store *s, struct pg_conn **out, struct rs_err *err)
{
	struct pg_conn *c = NULL;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += s->wait_ms / 1000;
	until.tv_nsec += (long)(s->wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->pool_lock);
	for (;;) {
		/* Prefer a connected slot: connecting costs a round trip or three. */
		for (int i = 0; i < s->pool_size; i++) {
			struct pg_conn *k = &s->conns[i];

			if (k->in_use)
				continue;
			if (k->pg) {
				c = k;
				break;
			}
			if (!c)
				c = k;
		}
		if (c)
			break;
		if (pthread_cond_timedwait(&s->pool_cond, &s->pool_lock, &until) == ETIMEDOUT) {
			pthread_mutex_unlock(&s->pool_lock);
			return rs_fail(err, RS_E_UNAVAILABLE, "store.busy", NULL,
				       "no free database connection within %d ms", s->wait_ms);
		}
	}
	c->in_use = true;
	pthread_mutex_unlock(&s->pool_lock);

	c->fresh = false;
	if (c->pg && PQstatus(c->pg) != CONNECTION_OK)
		pg_conn_reset(c);
	if (!c->pg) {
		c->pg = pg_connect(s, "roster", err);
		if (!c->pg) {
			pg_conn_release(s, c);
			return RS_E_UNAVAILABLE;
		}
		c->fresh = true;
		pg_stats_add(s, &s->stats.connects, 1);
	}
	*out = c;
	return RS_OK;
}

struct pg_conn *pg_conn_try_idle(struct pg_store *s)
{
	struct pg_conn *c = NULL;

	pthread_mutex_lock(&s->pool_lock);
	for (int i = 0; i < s->pool_size && !c; i++) {
		struct pg_conn *k = &s->conns[i];

		if (!k->in_use && k->pg && !k->broken && PQstatus(k->pg) == CONNECTION_OK)
			c = k;
	}
	if (c)
		c->in_use = true;
	pthread_mutex_unlock(&s->pool_lock);
	return c;
}

enum rs_status pg_conn_reconnect(struct pg_store *s, struct pg_conn *c, struct rs_err *err)
{
	pg_conn_reset(c);
	c->pg = pg_connect(s, "roster", err);
	if (!c->pg)
		return RS_E_UNAVAILABLE;
	c->fresh = true;
	pg_stats_add(s, &s->stats.connects, 1);
	return RS_OK;
}

void pg_conn_release(struct pg_store *s, struct pg_conn *c)
{
	if (c->broken || (c->pg && PQstatus(c->pg) != CONNECTION_OK) ||
	    (c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE))
		pg_conn_reset(c); /* never hand out a connection in an unknown state */
	pthread_mutex_lock(&s->pool_lock);
	c->in_use = false;
	pthread_cond_signal(&s->pool_cond);
	pthread_mutex_unlock(&s->pool_lock);
}

/* The column a unique index guards, other than tenant_id (store.h: err->field). Index names
 * are those of migrations/pg/0001_init.sql; a primary key reports its row key. */
static const char *pg_unique_field(const char *constraint)
{
	static const struct {
		const char *name, *field;
	} map[] = {
	    {"users_username", "username_key"}, {"tenants_slug", "slug"},
	    {"roles_name", "name_key"},		{"groups_name", "name_key"},
	    {"departments_name", "name_key"},	{"api_tokens_lookup", "lookup"},
	    {"audit_events_pkey", "seq"},	{"user_roles_pkey", "role_id"},
	    {"group_members_pkey", "user_id"},	{"schema_migrations_pkey", "version"},
	    {"store_signals_pkey", "name"},
	};
	size_t n;

	if (!constraint)
		return "";
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(constraint, map[i].name) == 0)
			return map[i].field;
	n = strlen(constraint);
	if (n > 5 && strcmp(constraint + n - 5, "_pkey") == 0)
		return "id";
	return constraint;
}

static bool pg_sqlstate_is(const char *state, const char *want)
{
	return state && strncmp(state, want, strlen(want)) == 0;
}

enum rs_status pg_fail(struct pg_conn *c, struct pg_tx *tx, const PGresult *res, struct rs_err *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	bool bad_conn = !c->pg || PQstatus(c->pg) != CONNECTION_OK;

	if (pg_sqlstate_is(state, "23505")) {
		const char *field =
		    pg_unique_field(PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME));

		return rs_fail(err, RS_E_CONFLICT, "store.unique", field,
			       "a row with this %s already exists", field[0] ? field : "key");
	}
	if (pg_sqlstate_is(state, "40001") || pg_sqlstate_is(state, "40P01")) {
		if (tx)
			tx->retry = true;
		return rs_fail(err, RS_E_UNAVAILABLE, "store.busy", NULL,
			       "transaction conflict (%s); retry", state);
	}
	/* 25006 outside our own READ ONLY transactions: the server is a standby now (a
	 * failover happened under us); 57P0x: the server is shutting down or the backend was
	 * terminated; 08xxx: connection errors. All mean "this connection is no good": drop
	 * it, answer retryable, and let the next call reconnect (to the new primary). */
	if (bad_conn || !res || pg_sqlstate_is(state, "08") || pg_sqlstate_is(state, "57P") ||
	    (pg_sqlstate_is(state, "25006") && !(tx && tx->read))) {
		c->broken = true;
		if (tx)
			tx->lost = true;
		return rs_fail(err, RS_E_UNAVAILABLE, "store.unavailable", NULL,
			       "the database is unavailable (%s); retry",
			       state && *state ? state : "connection lost");
	}
	if (pg_sqlstate_is(state, "22021") || pg_sqlstate_is(state, "22P05"))
		return rs_fail(err, RS_E_INVALID, "store.bad_text", NULL,
			       "text is not valid in the database encoding");
	/* Data exceptions (class 22) quote the offending value in their message: keep only the
	 * state for them. Other primary messages name objects, never bound values. */
	if (pg_sqlstate_is(state, "22") || !primary)
		return rs_fail(err, RS_E_INTERNAL, "store.error", NULL, "postgresql error %s",
			       state ? state : "(none)");
	return rs_fail(err, RS_E_INTERNAL, "store.error", NULL, "postgresql: %s (%s)", primary,
		       state ? state : "");
}

enum rs_status pg_simple(struct pg_conn *c, struct pg_tx *tx, const char *sql, struct rs_err *err)
{
	PGresult *res = PQexec(c->pg, sql);
	ExecStatusType es = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	enum rs_status st = RS_OK;

	if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK)
		st = pg_fail(c, tx, res, err);
	PQclear(res);
	return st;
}
