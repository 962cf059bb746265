/* store.h entry points: pick the engine at open, then dispatch every call through the ops
 * table of the object it is given. No engine logic lives here. */
#include "store/store_int.h"

#include "store/pg/pg.h"

#include <string.h>

struct store_engine {
	const char *name;
	const char *scheme; /* path prefix that selects it; NULL = the default engine */
	enum rs_status (*open)(const struct store_config *cfg, struct store **out,
			       struct rs_err *err);
};

/* NEEDSWORK: store_config has no engine field yet, so the path chooses: a postgres:// or
 * postgresql:// URI (libpq's own schemes) selects the pg engine; anything else is an SQLite
 * file. */
static const struct store_engine store_engines[] = {
    {"pg", "postgres://", pg_store_open},
    {"pg", "postgresql://", pg_store_open},
    {"sqlite", NULL, sqlite_store_open},
};

enum rs_status store_open(const struct store_config *cfg, struct store **out, struct rs_err *err)
{
	*out = NULL;
	if (!cfg || !cfg->path || !*cfg->path)
		return rs_fail(err, RS_E_INVALID, "store.bad_config", "path", "no store path");
	for (size_t i = 0; i < sizeof(store_engines) / sizeof(store_engines[0]); i++) {
		const struct store_engine *e = &store_engines[i];

		if (e->scheme && strncmp(cfg->path, e->scheme, strlen(e->scheme)) != 0)
			continue;
		if (!e->open)
			return rs_fail(err, RS_E_INVALID, "store.engine_unavailable", "path",
				       "store engine '%s' is not built in", e->name);
		return e->open(cfg, out, err);
	}
	return rs_fail(err, RS_E_INVALID, "store.bad_config", "path", "no engine for the path");
}

void store_free(struct store *s)
{
	if (s)
		s->ops->free(s);
}

int store_schema_version(struct store *s)
{
	return s->ops->schema_version(s);
}

const char *store_engine(const struct store *s)
{
	return s->ops->name;
}

enum rs_status store_backup(struct store *s, const char *path, struct rs_err *err)
{
	return s->ops->backup(s, path, err);
}

enum rs_status store_read(struct store *s, store_fn fn, void *ctx, struct rs_err *err)
{
	return s->ops->read(s, fn, ctx, err);
}

enum rs_status store_write(struct store *s, store_fn fn, void *ctx, struct rs_err *err)
{
	return s->ops->write(s, fn, ctx, err);
}

enum rs_status store_exec(struct store_tx *tx, enum store_q q, const struct store_val *args,
			  int nargs, int64_t *changes, struct rs_err *err)
{
	return tx->ops->exec(tx, q, args, nargs, changes, err);
}

enum rs_status store_query(struct store_tx *tx, enum store_q q, const struct store_val *args,
			   int nargs, struct store_rows **rows, struct rs_err *err)
{
	return tx->ops->query(tx, q, args, nargs, rows, err);
}

enum rs_status store_select(struct store_tx *tx, const struct store_select *sel,
			    struct store_rows **rows, struct rs_err *err)
{
	return tx->ops->select(tx, sel, rows, err);
}

enum rs_status store_rows_next(struct store_rows *r, bool *has_row, struct rs_err *err)
{
	return r->ops->rows_next(r, has_row, err);
}

bool store_col_null(struct store_rows *r, int col)
{
	return r->ops->col_null(r, col);
}

int64_t store_col_int(struct store_rows *r, int col)
{
	return r->ops->col_int(r, col);
}

const char *store_col_text(struct store_rows *r, int col)
{
	return r->ops->col_text(r, col);
}

void store_rows_close(struct store_rows *r)
{
	if (r)
		r->ops->rows_close(r);
}

enum rs_status store_signal(struct store_tx *tx, enum store_signal sig, struct rs_err *err)
{
	return tx->ops->signal(tx, sig, err);
}

enum rs_status store_watch(struct store *s, store_watch_fn fn, void *ctx, struct rs_err *err)
{
	return s->ops->watch(s, fn, ctx, err);
}
