/* Schema migrations of the SQLite engine: the embedded migrations/sqlite/NNNN_name.sql files
 * are applied in order, each in its own transaction together with its row in
 * schema_migrations, so a crash leaves the schema at a known version. A database written by a
 * newer binary is refused rather than misread. */
#include "store/sqlite/sqlite_int.h"

#include "util/timeutil.h"

#define SQLITE_MIGRATIONS_DDL                                                                      \
	"CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "              \
	"name TEXT NOT NULL, applied_at INTEGER NOT NULL)"

static int sqlite_known_version(void)
{
	return sqlite_migrations_count > 0 ? sqlite_migrations[sqlite_migrations_count - 1].version
					   : 0;
}

/* Current version; 0 when schema_migrations does not exist (a new or foreign file). */
static enum rs_status sqlite_read_version(sqlite3 *db, int *version, struct rs_err *err)
{
	static const char sql[] =
	    "SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
	    "name = 'schema_migrations') THEN 1 ELSE 0 END";
	sqlite3_stmt *st = NULL;
	enum rs_status ret = RS_OK;
	int rc;

	*version = 0;
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlite_fail(db, rc, err);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		ret = sqlite_fail(db, rc, err);
		goto out;
	}
	if (sqlite3_column_int(st, 0) == 0)
		goto out;
	sqlite3_finalize(st);
	/* Prepared only now: it would not compile before the table exists. */
	rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
				&st, NULL);
	if (rc != SQLITE_OK) {
		st = NULL;
		ret = sqlite_fail(db, rc, err);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		ret = sqlite_fail(db, rc, err);
		goto out;
	}
	*version = sqlite3_column_int(st, 0);
out:
	sqlite3_finalize(st);
	return ret;
}

static enum rs_status sqlite_too_new(int version, struct rs_err *err)
{
	return rs_fail(err, RS_E_INTERNAL, "store.schema_too_new", NULL,
		       "database schema version %d is newer than this binary knows (%d)", version,
		       sqlite_known_version());
}

enum rs_status sqlite_schema_check(struct sqlite_conn *c, int *version, struct rs_err *err)
{
	enum rs_status st = sqlite_read_version(c->db, version, err);

	if (st)
		return st;
	if (*version > sqlite_known_version())
		return sqlite_too_new(*version, err);
	return RS_OK;
}

static enum rs_status sqlite_record(sqlite3 *db, const struct store_migration *m,
				    struct rs_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db,
				    "INSERT INTO schema_migrations (version, name, applied_at) "
				    "VALUES (?1, ?2, ?3)",
				    -1, &st, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_int(st, 1, m->version);
		sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, time_now_ms());
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? RS_OK : sqlite_fail(db, rc, err);
}

/* Applies m unless another process got there first; the version is re-read inside the write
 * transaction, which BEGIN IMMEDIATE makes exclusive among writers. */
static enum rs_status sqlite_apply(struct sqlite_conn *c, const struct store_migration *m,
				   int *version, struct rs_err *err)
{
	enum rs_status st = sqlite_ctl(c, SCTL_BEGIN_IMMEDIATE, err);
	int rc;

	if (st)
		return st;
	st = sqlite_read_version(c->db, version, err);
	if (st)
		goto out;
	if (*version > sqlite_known_version()) {
		st = sqlite_too_new(*version, err);
		goto out;
	}
	if (*version >= m->version)
		goto out;
	rc = sqlite3_exec(c->db, SQLITE_MIGRATIONS_DDL, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(c->db, m->sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		st = sqlite_fail(c->db, rc, err);
		goto out;
	}
	st = sqlite_record(c->db, m, err);
	if (st)
		goto out;
	st = sqlite_ctl(c, SCTL_COMMIT, err);
	if (!st)
		*version = m->version;
	return st;
out:
	if (st) {
		(void)sqlite_ctl(c, SCTL_ROLLBACK, NULL); /* the error already says what failed */
		return st;
	}
	return sqlite_ctl(c, SCTL_COMMIT, err);
}

enum rs_status sqlite_migrate(struct sqlite_conn *c, int *version, struct rs_err *err)
{
	enum rs_status st = sqlite_schema_check(c, version, err);

	for (int i = 0; !st && i < sqlite_migrations_count; i++) {
		if (sqlite_migrations[i].version > *version)
			st = sqlite_apply(c, &sqlite_migrations[i], version, err);
	}
	return st;
}
