/* Schema migrations of the PostgreSQL engine: the embedded migrations/pg/NNNN_name.sql files
 * are applied in order, each in its own transaction together with its row in
 * schema_migrations (PostgreSQL's DDL is transactional, so a crash leaves the schema at a
 * known version). Each transaction first takes a transaction-scoped advisory lock, so two
 * nodes starting together queue up and the second finds the work done. A database written by
 * a newer binary is refused rather than misread. */
#include "store/pg/pg_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/timeutil.h"

/* Any constant shared by every roster binary: "roster" in ASCII. */
#define PG_MIGRATE_LOCK "SELECT pg_advisory_xact_lock(125779354592626)"

#define PG_MIGRATIONS_DDL                                                                          \
	"CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, "               \
	"name text NOT NULL, applied_at bigint NOT NULL)"

static int pg_known_version(void)
{
	return pg_migrations_count > 0 ? pg_migrations[pg_migrations_count - 1].version : 0;
}

/* Current version; 0 when schema_migrations does not exist (a new or foreign database). */
static enum rs_status pg_read_version(struct pg_conn *c, int *version, struct rs_err *err)
{
	PGresult *res;
	enum rs_status st = RS_OK;

	*version = 0;
	/* Two steps: a query naming a missing table fails at parse time, CASE or not. pg_class
	 * is read with this statement's snapshot; to_regclass() would consult the backend's
	 * catalog cache, which may still hold "no such table" from before another node's
	 * migration committed while we waited for the lock. */
	res = PQexec(c->pg, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE "
			    "schemaname = current_schema() AND tablename = 'schema_migrations')");
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		st = pg_fail(c, NULL, res, err);
		goto out;
	}
	if (PQgetvalue(res, 0, 0)[0] != 't')
		goto out;
	PQclear(res);
	res = PQexec(c->pg, "SELECT coalesce(max(version), 0) FROM schema_migrations");
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		st = pg_fail(c, NULL, res, err);
		goto out;
	}
	*version = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
out:
	PQclear(res);
	return st;
}

static enum rs_status pg_too_new(int version, struct rs_err *err)
{
	return rs_fail(err, RS_E_INTERNAL, "store.schema_too_new", NULL,
		       "database schema version %d is newer than this binary knows (%d)", version,
		       pg_known_version());
}

enum rs_status pg_schema_check(struct pg_conn *c, int *version, struct rs_err *err)
{
	enum rs_status st = pg_read_version(c, version, err);

	if (st)
		return st;
	if (*version > pg_known_version())
		return pg_too_new(*version, err);
	return RS_OK;
}

static enum rs_status pg_record(struct pg_conn *c, const struct store_migration *m,
				struct rs_err *err)
{
	char ver[16], at[24];
	const char *vals[] = {ver, m->name, at};
	PGresult *res;
	enum rs_status st = RS_OK;

	snprintf(ver, sizeof(ver), "%d", m->version);
	snprintf(at, sizeof(at), "%lld", (long long)time_now_ms());
	res = PQexecParams(c->pg,
			   "INSERT INTO schema_migrations (version, name, applied_at) "
			   "VALUES ($1, $2, $3)",
			   3, NULL, vals, NULL, NULL, 0);
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
		st = pg_fail(c, NULL, res, err);
	PQclear(res);
	return st;
}

/* Applies m unless another node got there first; the version is re-read under the lock. */
static enum rs_status pg_apply(struct pg_conn *c, const struct store_migration *m, int *version,
			       struct rs_err *err)
{
	enum rs_status st = pg_simple(c, NULL, "BEGIN", err);

	if (st)
		return st;
	st = pg_simple(c, NULL, PG_MIGRATE_LOCK, err);
	if (!st)
		st = pg_read_version(c, version, err);
	if (st)
		goto out;
	if (*version > pg_known_version()) {
		st = pg_too_new(*version, err);
		goto out;
	}
	if (*version >= m->version)
		goto out;
	st = pg_simple(c, NULL, PG_MIGRATIONS_DDL, err);
	if (!st)
		st = pg_simple(c, NULL, m->sql, err); /* several statements: simple protocol */
	if (!st)
		st = pg_record(c, m, err);
	if (!st)
		*version = m->version;
out:
	if (st) {
		if (c->pg && PQstatus(c->pg) == CONNECTION_OK)
			(void)pg_simple(c, NULL, "ROLLBACK", NULL); /* the error says what failed */
		return st;
	}
	return pg_simple(c, NULL, "COMMIT", err);
}

enum rs_status pg_migrate(struct pg_conn *c, int *version, struct rs_err *err)
{
	enum rs_status st = pg_schema_check(c, version, err);

	for (int i = 0; !st && i < pg_migrations_count; i++) {
		if (pg_migrations[i].version > *version)
			st = pg_apply(c, &pg_migrations[i], version, err);
	}
	return st;
}
