/* The SQLite engine's store object: open (writer connection, migrations, writer thread),
 * store_read on the calling thread's connection, online backup and teardown. The SQL of each
 * query lives in queries.c, selections in sqlite_select.c, the group commit in
 * sqlite_writer.c. */
#include "store/sqlite/sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int sqlite_schema_version_of(struct store *st)
{
	return ((struct sqlite_store *)st)->schema_version;
}

static void sqlite_store_free(struct store *st)
{
	struct sqlite_store *s = (struct sqlite_store *)st;

	if (!s)
		return;
	sqlite_writer_stop(s);
	sqlite_checkpointer_stop(s);
	if (s->wconn) {
		/* Leave the planner statistics fresh and the WAL folded into the database file. */
		(void)sqlite3_exec(s->wconn->db, "PRAGMA optimize", NULL, NULL, NULL);
		(void)sqlite3_wal_checkpoint_v2(s->wconn->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
						NULL, NULL);
	}
	sqlite_conn_close(s->wconn);
	if (s->key_ok) {
		/* After the delete, exiting threads no longer run the destructor; their
		 * connections are closed here instead. Threads must not be inside
		 * store_read() any more (store.h: store_free ends the store's life). */
		pthread_key_delete(s->key);
		pthread_mutex_lock(&s->readers_lock);
		while (s->readers) {
			struct sqlite_conn *c = s->readers;

			s->readers = c->next;
			sqlite_conn_close(c);
		}
		pthread_mutex_unlock(&s->readers_lock);
	}
	pthread_mutex_destroy(&s->readers_lock);
	pthread_mutex_destroy(&s->q_lock);
	pthread_cond_destroy(&s->q_cond);
	pthread_cond_destroy(&s->idle_cond);
	free(s->path);
	free(s);
}

static enum rs_status sqlite_read(struct store *st, store_fn fn, void *ctx, struct rs_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)st;
	struct sqlite_conn *c;
	struct sqlite_tx tx = {.base.ops = &sqlite_ops};
	enum rs_status ret;

	ret = sqlite_conn_reader(s, &c, err);
	if (ret)
		return ret;
	if (c->in_tx)
		return rs_fail(err, RS_E_INTERNAL, "store.nested", NULL,
			       "store_read called from inside a read");
	tx.conn = c;
	/* Deferred BEGIN: the snapshot starts at the first read and holds until COMMIT, so
	 * every statement of fn sees the same state. */
	ret = sqlite_ctl(c, SCTL_BEGIN, err);
	if (ret)
		return ret;
	c->in_tx = true;
	ret = fn(&tx.base, ctx, err);
	sqlite_conn_reset_stray(c);
	if (ret == RS_OK)
		ret = sqlite_ctl(c, SCTL_COMMIT, err);
	if (ret != RS_OK && !sqlite3_get_autocommit(c->db))
		(void)sqlite_ctl(c, SCTL_ROLLBACK, NULL); /* a read: nothing to lose */
	c->in_tx = false;
	return ret;
}

static enum rs_status sqlite_backup(struct store *st, const char *path, struct rs_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)st;
	struct sqlite_conn *c;
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	enum rs_status ret;
	bool created = false;
	int fd, rc, frc;

	ret = sqlite_conn_reader(s, &c, err);
	if (ret)
		return ret;
	if (c->in_tx)
		return rs_fail(err, RS_E_INTERNAL, "store.nested", NULL,
			       "store_backup called from inside a read");
	/* "A new file": never overwrite an existing database by mistake. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return rs_fail(err, errno == EEXIST ? RS_E_CONFLICT : RS_E_INTERNAL,
			       errno == EEXIST ? "store.backup_exists" : "store.error", "path",
			       "cannot create the backup file: %s", strerror(errno));
	close(fd);
	created = true;
	rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		ret = sqlite_fail(dst, rc, err);
		goto out;
	}
	b = sqlite3_backup_init(dst, "main", c->db, "main");
	if (!b) {
		ret = sqlite_fail(dst, sqlite3_errcode(dst), err);
		goto out;
	}
	/* One step over all pages: the copy is one consistent snapshot of the source (a read
	 * transaction in WAL mode, so writers are not blocked meanwhile). */
	rc = sqlite3_backup_step(b, -1);
	frc = sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE || frc != SQLITE_OK) {
		ret = sqlite_fail(dst, rc != SQLITE_DONE ? rc : frc, err);
		goto out;
	}
	ret = RS_OK;
out:
	if (sqlite3_close(dst) != SQLITE_OK && ret == RS_OK)
		ret = rs_fail(err, RS_E_INTERNAL, "store.error", NULL, "closing the backup failed");
	if (ret && created)
		(void)unlink(path); /* a partial backup is worse than none */
	return ret;
}

const struct store_engine_ops sqlite_ops = {
    .name = "sqlite",
    .free = sqlite_store_free,
    .schema_version = sqlite_schema_version_of,
    .backup = sqlite_backup,
    .read = sqlite_read,
    .write = sqlite_write,
    .exec = sqlite_exec,
    .query = sqlite_query,
    .select = sqlite_select,
    .rows_next = sqlite_rows_next,
    .col_null = sqlite_col_null,
    .col_int = sqlite_col_int,
    .col_text = sqlite_col_text,
    .rows_close = sqlite_rows_close,
    .signal = sqlite_signal,
    .watch = sqlite_watch,
    .raw = sqlite_raw,
};

/* SQLite's memory accounting takes a process-wide mutex on every allocation of every
 * connection; roster never reads those statistics, and with one connection per worker thread
 * that mutex was among the hottest locks of a read load. Must precede sqlite3_initialize(). */
static void sqlite_global_init(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); /* MISUSE if already initialised */
	(void)sqlite3_initialize();
}

enum rs_status sqlite_store_open(const struct store_config *cfg, struct store **out,
				 struct rs_err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct sqlite_store *s;
	struct sqlite_conn *c;
	enum rs_status ret;

	*out = NULL;
	pthread_once(&once, sqlite_global_init);
	if (strcmp(cfg->path, ":memory:") == 0 || strncmp(cfg->path, "file:", 5) == 0)
		return rs_fail(err, RS_E_INVALID, "store.bad_config", "path",
			       "the sqlite store needs a file path");
	if ((unsigned)cfg->sync > STORE_SYNC_OFF || cfg->busy_timeout_ms < 0 ||
	    cfg->group_commit_max < 0)
		return rs_fail(err, RS_E_INVALID, "store.bad_config", NULL,
			       "invalid store configuration");
	s = calloc(1, sizeof(*s));
	if (!s)
		return rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
	s->base.ops = &sqlite_ops;
	s->cfg = *cfg;
	if (!s->cfg.busy_timeout_ms)
		s->cfg.busy_timeout_ms = 5000;
	if (!s->cfg.group_commit_max)
		s->cfg.group_commit_max = 256;
	pthread_mutex_init(&s->readers_lock, NULL);
	pthread_mutex_init(&s->q_lock, NULL);
	pthread_cond_init(&s->q_cond, NULL);
	pthread_cond_init(&s->idle_cond, NULL);
	s->path = strdup(cfg->path);
	if (!s->path) {
		ret = rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
		goto out;
	}
	s->cfg.path = s->path;
	if (pthread_key_create(&s->key, sqlite_reader_destroy) != 0) {
		ret = rs_fail(err, RS_E_INTERNAL, "store.error", NULL, "pthread_key_create");
		goto out;
	}
	s->key_ok = true;
	if (cfg->read_only) {
		ret = sqlite_conn_reader(s, &c, err);
		if (!ret)
			ret = sqlite_schema_check(c, &s->schema_version, err);
		goto out;
	}
	ret = sqlite_conn_open(s, true, &s->wconn, err);
	if (!ret)
		ret = sqlite_migrate(s->wconn, &s->schema_version, err);
	if (!ret)
		ret = sqlite_trgm_catch_up(s->wconn, err);
	if (!ret)
		ret = sqlite_checkpointer_start(s, err);
	if (!ret)
		ret = sqlite_writer_start(s, err);
out:
	if (ret) {
		sqlite_store_free(&s->base);
		return ret;
	}
	*out = &s->base;
	return RS_OK;
}
