/* The checkpointer: copies the WAL back into the database file on its own thread and
 * connection, so the writer never stops committing to do it. SQLite's automatic checkpoint
 * would run inside the COMMIT of whichever write crossed the threshold, adding the database
 * file's writes and fsync to that batch's latency and stalling every write queued behind it.
 *
 * The writer's WAL hook counts frames after each commit and wakes this thread past
 * CKPT_FRAMES; it runs a PASSIVE checkpoint, which never blocks readers or the writer. Once a
 * checkpoint has caught up, the writer restarts the WAL from its beginning by itself. */
#include "store/sqlite/sqlite_int.h"

#include <string.h>

#define CKPT_FRAMES 1000 /* pages, as SQLite's own default wal_autocheckpoint */

static int sqlite_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct sqlite_store *s = arg;

	(void)db;
	(void)name;
	if (frames >= CKPT_FRAMES) {
		pthread_mutex_lock(&s->ck_lock);
		s->ck_wanted = true;
		pthread_cond_signal(&s->ck_cond);
		pthread_mutex_unlock(&s->ck_lock);
	}
	return SQLITE_OK;
}

static void *sqlite_checkpoint_main(void *arg)
{
	struct sqlite_store *s = arg;

	pthread_mutex_lock(&s->ck_lock);
	for (;;) {
		while (!s->ck_wanted && !s->ck_stopping)
			pthread_cond_wait(&s->ck_cond, &s->ck_lock);
		if (s->ck_stopping)
			break;
		s->ck_wanted = false;
		pthread_mutex_unlock(&s->ck_lock);
		/* A busy or failed passive checkpoint is harmless: the next commit asks again. */
		(void)sqlite3_wal_checkpoint_v2(s->ck_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
						NULL);
		pthread_mutex_lock(&s->ck_lock);
		s->stats.checkpoints++;
	}
	pthread_mutex_unlock(&s->ck_lock);
	return NULL;
}

enum rs_status sqlite_checkpointer_start(struct sqlite_store *s, struct rs_err *err)
{
	int rc =
	    sqlite3_open_v2(s->path, &s->ck_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(s->ck_db, s->cfg.busy_timeout_ms);
	/* A connection that has never read the database doesn't know it is in WAL mode, and
	 * its checkpoints silently do nothing: make it look once. */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->ck_db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	/* It copies pages from the WAL to the file and needs no cache of its own. */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->ck_db, "PRAGMA cache_size=-128", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		enum rs_status st =
		    rs_fail(err, RS_E_INTERNAL, "store.error", NULL,
			    "cannot open the checkpoint connection: %s", sqlite3_errstr(rc));

		sqlite3_close_v2(s->ck_db);
		s->ck_db = NULL;
		return st;
	}
	pthread_mutex_init(&s->ck_lock, NULL);
	pthread_cond_init(&s->ck_cond, NULL);
	rc = pthread_create(&s->ck_thread, NULL, sqlite_checkpoint_main, s);
	if (rc != 0) {
		sqlite3_close_v2(s->ck_db);
		s->ck_db = NULL;
		return rs_fail(err, RS_E_INTERNAL, "store.error", NULL,
			       "cannot start the checkpoint thread: %s", strerror(rc));
	}
	s->ck_running = true;
	/* From here on the writer's commits never checkpoint by themselves. */
	sqlite3_wal_autocheckpoint(s->wconn->db, 0);
	sqlite3_wal_hook(s->wconn->db, sqlite_wal_hook, s);
	return RS_OK;
}

void sqlite_checkpointer_stop(struct sqlite_store *s)
{
	if (!s->ck_running)
		return;
	sqlite3_wal_hook(s->wconn->db, NULL, NULL);
	pthread_mutex_lock(&s->ck_lock);
	s->ck_stopping = true;
	pthread_cond_signal(&s->ck_cond);
	pthread_mutex_unlock(&s->ck_lock);
	pthread_join(s->ck_thread, NULL);
	sqlite3_close_v2(s->ck_db);
	s->ck_db = NULL;
	pthread_mutex_destroy(&s->ck_lock);
	pthread_cond_destroy(&s->ck_cond);
	s->ck_running = false;
}
