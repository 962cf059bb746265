/* SQLite connections: opening with the engine's pragmas, the per-thread reader connection,
 * transaction-control statements and the translation of SQLite errors into rs_err. Must not
 * know about named queries or selections beyond finalizing their statements. */
#include "store/sqlite/sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/str.h"

static const char *const sqlite_ctl_sql[SCTL__COUNT] = {
    [SCTL_BEGIN] = "BEGIN",
    [SCTL_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [SCTL_COMMIT] = "COMMIT",
    [SCTL_ROLLBACK] = "ROLLBACK",
    [SCTL_SAVEPOINT] = "SAVEPOINT w",
    [SCTL_RELEASE] = "RELEASE w",
    [SCTL_ROLLBACK_TO] = "ROLLBACK TO w",
    [SCTL_TRGM_PENDING] = "SELECT 1 FROM users_trgm_pending LIMIT 1",
    [SCTL_TRGM_APPLY] = "INSERT INTO users_trgm (users_trgm, rowid, username_key, email_key, "
			"first_name_key, last_name_key) SELECT op, rid, username_key, email_key, "
			"first_name_key, last_name_key FROM users_trgm_pending ORDER BY seq",
    [SCTL_TRGM_CLEAR] = "DELETE FROM users_trgm_pending",
};

/* The column of a unique violation that is not tenant_id: "UNIQUE constraint failed:
 * users.tenant_id, users.username_key" -> "username_key"; "… index 'x'" -> "x". The core
 * tells "username taken" from other conflicts by it. */
static void sqlite_unique_field(const char *msg, char *field, size_t cap)
{
	const char *p = strstr(msg, "failed: ");
	const char *best = NULL;
	size_t best_len = 0;

	field[0] = '\0';
	if (!p)
		return;
	p += strlen("failed: ");
	if (strncmp(p, "index '", 7) == 0) {
		const char *q = strchr(p + 7, '\'');

		best = p + 7;
		best_len = q ? (size_t)(q - best) : strlen(best);
	} else {
		while (*p) {
			const char *end = strstr(p, ", ");
			size_t len = end ? (size_t)(end - p) : strlen(p);
			const char *dot = memchr(p, '.', len);
			const char *col = dot ? dot + 1 : p;
			size_t col_len = len - (size_t)(col - p);

			if (!(col_len == 9 && memcmp(col, "tenant_id", 9) == 0)) {
				best = col;
				best_len = col_len;
			}
			if (!end)
				break;
			p = end + 2;
		}
	}
	if (best) {
		if (best_len >= cap)
			best_len = cap - 1;
		memcpy(field, best, best_len);
		field[best_len] = '\0';
	}
}

enum rs_status sqlite_fail(sqlite3 *db, int rc, struct rs_err *err)
{
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

	/* SQLite's messages name tables, columns and indexes, never bound values. */
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
			char field[64];

			sqlite_unique_field(msg, field, sizeof(field));
			return rs_fail(err, RS_E_CONFLICT, "store.unique", field,
				       "a row with this %s already exists",
				       field[0] ? field : "key");
		}
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return rs_fail(err, RS_E_UNAVAILABLE, "store.busy", NULL, "database is busy: %s",
			       msg);
	default:
		break;
	}
	return rs_fail(err, RS_E_INTERNAL, "store.error", NULL, "sqlite: %s (%d)", msg, rc);
}

static enum rs_status sqlite_pragma(sqlite3 *db, const char *sql, const char *want,
				    struct rs_err *err)
{
	sqlite3_stmt *st = NULL;
	enum rs_status ret = RS_OK;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return sqlite_fail(db, rc, err);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		if (want && (!v || strcmp(v, want) != 0)) {
			ret = rs_fail(err, RS_E_INTERNAL, "store.error", NULL,
				      "sqlite: '%s' returned '%s'", sql, v ? v : "");
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		ret = sqlite_fail(db, rc, err);
out:
	sqlite3_finalize(st);
	return ret;
}

enum rs_status sqlite_conn_open(struct sqlite_store *s, bool writer, struct sqlite_conn **out,
				struct rs_err *err)
{
	static const char *const sync_sql[] = {
	    [STORE_SYNC_FULL] = "PRAGMA synchronous=FULL",
	    [STORE_SYNC_NORMAL] = "PRAGMA synchronous=NORMAL",
	    [STORE_SYNC_OFF] = "PRAGMA synchronous=OFF",
	};
	/* Readers open read-only: a write slipped into store_read() fails loudly instead of
	 * bypassing the group commit. NOMUTEX: each connection is used by one thread. SQLite
	 * opens its files with O_CLOEXEC. */
	int flags = SQLITE_OPEN_NOMUTEX |
		    (writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY);
	struct sqlite_conn *c = calloc(1, sizeof(*c));
	enum rs_status st;
	int rc;

	*out = NULL;
	if (!c)
		return rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
	c->store = s;
	rc = sqlite3_open_v2(s->path, &c->db, flags, NULL);
	if (rc != SQLITE_OK) {
		st = sqlite_fail(c->db, rc, err);
		goto out;
	}
	sqlite3_extended_result_codes(c->db, 1);
	rc = sqlite3_busy_timeout(c->db, s->cfg.busy_timeout_ms);
	if (rc != SQLITE_OK) {
		st = sqlite_fail(c->db, rc, err);
		goto out;
	}
	if (writer) {
		st = sqlite_pragma(c->db, "PRAGMA journal_mode=WAL", "wal", err);
		if (st)
			goto out;
	}
	st = sqlite_pragma(c->db, sync_sql[s->cfg.sync], NULL, err);
	if (!st)
		/* LIKE is ASCII case-insensitive by default; _CI attributes are lower-cased by
		 * us, so every other attribute must compare exactly. */
		st = sqlite_pragma(c->db, "PRAGMA case_sensitive_like=ON", NULL, err);
	if (!st)
		st = sqlite_pragma(c->db, "PRAGMA trusted_schema=OFF", NULL, err);
	/* Page caches: the writer touches every index of a write and keeps a large one; the
	 * readers (one per HTTP worker thread, 32 by default) keep small ones and let the
	 * kernel's page cache, which is shared and not in our RSS, hold the rest. */
	if (!st)
		st = sqlite_pragma(c->db,
				   writer ? "PRAGMA cache_size=-4096" : "PRAGMA cache_size=-256",
				   NULL, err);
out:
	if (st) {
		sqlite_conn_close(c);
		return st;
	}
	*out = c;
	return RS_OK;
}

void sqlite_conn_close(struct sqlite_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < SCTL__COUNT; i++)
		sqlite3_finalize(c->ctl[i]);
	for (int i = 0; i < Q__COUNT; i++)
		sqlite3_finalize(c->named[i].stmt);
	sqlite_select_cache_clear(c);
	/* close_v2: a statement a caller leaked must not keep the handle (and its fds) alive
	 * past the store; it becomes a zombie closed with that statement. */
	(void)sqlite3_close_v2(c->db);
	free(c);
}

void sqlite_reader_destroy(void *v)
{
	struct sqlite_conn *c = v;
	struct sqlite_store *s = c->store;

	pthread_mutex_lock(&s->readers_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->readers = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&s->readers_lock);
	sqlite_conn_close(c);
}

enum rs_status sqlite_conn_reader(struct sqlite_store *s, struct sqlite_conn **out,
				  struct rs_err *err)
{
	struct sqlite_conn *c = pthread_getspecific(s->key);
	enum rs_status st;

	if (c) {
		*out = c;
		return RS_OK;
	}
	st = sqlite_conn_open(s, false, &c, err);
	if (st)
		return st;
	if (pthread_setspecific(s->key, c) != 0) {
		sqlite_conn_close(c);
		return rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "pthread_setspecific");
	}
	pthread_mutex_lock(&s->readers_lock);
	c->next = s->readers;
	if (s->readers)
		s->readers->prev = c;
	s->readers = c;
	pthread_mutex_unlock(&s->readers_lock);
	*out = c;
	return RS_OK;
}

enum rs_status sqlite_ctl(struct sqlite_conn *c, enum sqlite_ctl which, struct rs_err *err)
{
	int rc;

	if (!c->ctl[which]) {
		rc = sqlite3_prepare_v3(c->db, sqlite_ctl_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
					&c->ctl[which], NULL);
		if (rc != SQLITE_OK)
			return sqlite_fail(c->db, rc, err);
	}
	rc = sqlite3_step(c->ctl[which]);
	if (rc != SQLITE_DONE) {
		enum rs_status st = sqlite_fail(c->db, rc, err);

		sqlite3_reset(c->ctl[which]);
		return st;
	}
	sqlite3_reset(c->ctl[which]);
	return RS_OK;
}

enum rs_status sqlite_trgm_flush(struct sqlite_conn *c, struct rs_err *err)
{
	sqlite3_stmt **p = &c->ctl[SCTL_TRGM_PENDING];
	enum rs_status st;
	int rc;

	if (!*p) {
		rc = sqlite3_prepare_v3(c->db, sqlite_ctl_sql[SCTL_TRGM_PENDING], -1,
					SQLITE_PREPARE_PERSISTENT, p, NULL);
		if (rc != SQLITE_OK)
			return sqlite_fail(c->db, rc, err);
	}
	rc = sqlite3_step(*p);
	sqlite3_reset(*p);
	if (rc == SQLITE_DONE)
		return RS_OK; /* nothing queued */
	if (rc != SQLITE_ROW)
		return sqlite_fail(c->db, rc, err);
	/* In queue order: an update is the old values' delete, then the new values' insert. */
	st = sqlite_ctl(c, SCTL_TRGM_APPLY, err);
	if (st == RS_OK)
		st = sqlite_ctl(c, SCTL_TRGM_CLEAR, err);
	return st;
}

enum rs_status sqlite_trgm_catch_up(struct sqlite_conn *c, struct rs_err *err)
{
	enum rs_status st = sqlite_ctl(c, SCTL_BEGIN_IMMEDIATE, err);

	if (st != RS_OK)
		return st;
	st = sqlite_trgm_flush(c, err);
	if (st == RS_OK)
		st = sqlite_ctl(c, SCTL_COMMIT, err);
	if (st != RS_OK && !sqlite3_get_autocommit(c->db))
		(void)sqlite_ctl(c, SCTL_ROLLBACK, NULL); /* the open fails anyway */
	return st;
}

void sqlite_conn_reset_stray(struct sqlite_conn *c)
{
	sqlite3_stmt *st = NULL;

	if (c->open_rows == 0)
		return;
	/* A store_fn returned with rows still open: reset them so COMMIT/ROLLBACK TO can run.
	 * Their struct stays valid; a later store_rows_close() is harmless. Transient rows
	 * leak until that close, which is the caller's bug. */
	while ((st = sqlite3_next_stmt(c->db, st)) != NULL) {
		if (sqlite3_stmt_busy(st))
			sqlite3_reset(st);
	}
	for (int i = 0; i < Q__COUNT; i++)
		c->named[i].open = false;
	for (int i = 0; i < SQLITE_SEL_CACHE; i++)
		c->sel[i].rows.open = false;
	c->open_rows = 0;
}
