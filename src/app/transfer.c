/* roster export / roster import: move a deployment between stores (SQLite to PostgreSQL) row
 * for row. Ids, token hashes and the audit chain are copied as they are, so `roster audit
 * verify` passes on the target and every API token keeps working there, provided the target
 * uses the same server key file (token hashes are keyed with it).
 *
 * Format: JSON lines. {"roster_export":1,"schema_version":N}, then per table
 * {"table":NAME,"columns":[…]} followed by {"r":[…]} rows (values as text or null), and
 * {"end":true,"rows":TOTAL}. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/config.h"
#include "store/store.h"

#define IMPORT_BATCH 500

static int usage(const char *cmd)
{
	fprintf(stderr, "usage: roster %s [--db PATH_OR_URL] [--%s FILE]   (default: %s)\n", cmd,
		strcmp(cmd, "export") == 0 ? "out" : "in",
		strcmp(cmd, "export") == 0 ? "stdout" : "stdin");
	return 2;
}

/* Takes "--out FILE" / "--in FILE" out of argv; the rest goes to config_load. */
static char **split_file_flag(int argc, char **argv, const char *flag, const char **file, int *n)
{
	char **rest = calloc((size_t)argc + 1, sizeof(*rest));
	size_t fl = strlen(flag);

	if (!rest)
		return NULL;
	*n = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], flag) == 0 && i + 1 < argc)
			*file = argv[++i];
		else if (strncmp(argv[i], flag, fl) == 0 && argv[i][fl] == '=')
			*file = argv[i] + fl + 1;
		else
			rest[(*n)++] = argv[i];
	}
	return rest;
}

static int fail(const char *what, const struct rs_err *err)
{
	fprintf(stderr, "roster: %s: %s (%s)\n", what, err->msg, err->code);
	return 1;
}

/* ---- export ------------------------------------------------------------------------------- */

struct dump_ctx {
	const struct store_table *t;
	FILE *out;
	long long rows;
	bool write_failed;
};

static void put_line(struct dump_ctx *x, json_t *v)
{
	if (json_dumpf(v, x->out, JSON_COMPACT) != 0 || fputc('\n', x->out) == EOF)
		x->write_failed = true;
	json_decref(v);
}

static enum rs_status dump_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct dump_ctx *x = arg;
	struct store_rows *r = NULL;
	json_t *cols = json_array();
	enum rs_status st;
	bool has;

	x->rows = 0;
	for (int i = 0; i < x->t->ncolumns; i++)
		json_array_append_new(cols, json_string(x->t->columns[i]));
	put_line(x, json_pack("{s:s,s:o}", "table", x->t->name, "columns", cols));
	st = store_dump(tx, x->t, &r, err);
	if (st != RS_OK)
		return st;
	while (!x->write_failed && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		json_t *row = json_array();

		for (int i = 0; i < x->t->ncolumns; i++) {
			const char *v = store_col_null(r, i) ? NULL : store_col_text(r, i);

			json_array_append_new(row, v ? json_string(v) : json_null());
		}
		put_line(x, json_pack("{s:o}", "r", row));
		x->rows++;
	}
	store_rows_close(r);
	return st;
}

int app_export(int argc, char **argv)
{
	struct config cfg;
	struct app app;
	struct rs_err err = {0};
	const char *file = NULL;
	const struct store_table *tables;
	int n = 0, ntables, rc;
	long long total = 0;
	char **rest = split_file_flag(argc, argv, "--out", &file, &n);
	FILE *out = stdout;

	if (!rest)
		return 1;
	/* Opened for writing so that an older store is migrated first: the export then always
	 * has every table and column this binary knows. But never create one to export. */
	if (config_load(&cfg, n, rest, NULL, &err) == RS_OK && !config_db_is_url(cfg.db) &&
	    access(cfg.db, F_OK) != 0) {
		fprintf(stderr, "roster: export: no database at '%s'\n", cfg.db);
		free(rest);
		return 1;
	}
	rc = app_open(&cfg, n, rest, true, &app);
	free(rest);
	if (rc)
		return rc == 2 ? usage("export") : rc;
	if (file && strcmp(file, "-") != 0 && !(out = fopen(file, "we"))) {
		fprintf(stderr, "roster: export: can't write '%s': %s\n", file, strerror(errno));
		app_close(&app);
		return 1;
	}
	{
		struct dump_ctx hx = {.out = out};

		put_line(&hx, json_pack("{s:i,s:i,s:s}", "roster_export", 1, "schema_version",
					store_schema_version(app.store), "engine",
					store_engine(app.store)));
	}
	tables = store_tables(&ntables);
	for (int i = 0; i < ntables && rc == 0; i++) {
		if (tables[i].since > store_schema_version(app.store))
			continue; /* an older store that doesn't have it yet */
		/* One snapshot per table; a live server may write meanwhile, so export a stopped
		 * one (or a backup) when every table must be of the same instant. */
		struct dump_ctx x = {.t = &tables[i], .out = out};

		if (store_read(app.store, dump_tx, &x, &err) != RS_OK)
			rc = fail("export", &err);
		else if (x.write_failed)
			rc = 1;
		total += x.rows;
		if (rc == 0)
			fprintf(stderr, "exported %-14s %lld rows\n", tables[i].name, x.rows);
	}
	if (rc == 0) {
		struct dump_ctx ex = {.out = out};

		put_line(&ex, json_pack("{s:b,s:I}", "end", 1, "rows", (json_int_t)total));
		rc = ex.write_failed ? 1 : 0;
	}
	if (out != stdout && fclose(out) != 0)
		rc = 1;
	else if (out == stdout && fflush(stdout) != 0)
		rc = 1;
	if (rc == 1 && !err.code[0])
		fprintf(stderr, "roster: export: write failed: %s\n", strerror(errno));
	app_close(&app);
	return rc;
}

/* ---- import ------------------------------------------------------------------------------- */

struct load_ctx {
	const struct store_table *t;
	json_t *rows[IMPORT_BATCH]; /* borrowed */
	int n;
};

static enum rs_status load_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct load_ctx *x = arg;
	struct store_val vals[64];

	for (int i = 0; i < x->n; i++) {
		for (int c = 0; c < x->t->ncolumns; c++) {
			json_t *v = json_array_get(x->rows[i], (size_t)c);

			vals[c] = json_is_string(v) ? SV_S(json_string_value(v)) : SV_NULLV;
		}
		enum rs_status st = store_load(tx, x->t, vals, err);

		if (st != RS_OK)
			return st;
	}
	return RS_OK;
}

static enum rs_status flush(struct store *s, struct load_ctx *x, struct rs_err *err)
{
	enum rs_status st = x->n ? store_write(s, load_tx, x, err) : RS_OK;

	for (int i = 0; i < x->n; i++)
		json_decref(x->rows[i]);
	x->n = 0;
	return st;
}

struct empty_ctx {
	bool empty;
};

static enum rs_status empty_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct empty_ctx *x = arg;
	struct store_rows *r = NULL;
	int n;
	enum rs_status st = store_dump(tx, &store_tables(&n)[0], &r, err);
	bool has = false;

	if (st == RS_OK)
		st = store_rows_next(r, &has, err);
	store_rows_close(r);
	x->empty = !has;
	return st;
}

static const struct store_table *table_named(const char *name)
{
	int n;
	const struct store_table *t = store_tables(&n);

	for (int i = 0; i < n; i++) {
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	}
	return NULL;
}

static bool columns_match(const struct store_table *t, json_t *cols)
{
	if (!json_is_array(cols) || json_array_size(cols) != (size_t)t->ncolumns)
		return false;
	for (int i = 0; i < t->ncolumns; i++) {
		json_t *c = json_array_get(cols, (size_t)i);

		if (!json_is_string(c) || strcmp(json_string_value(c), t->columns[i]) != 0)
			return false;
	}
	return true;
}

int app_import(int argc, char **argv)
{
	struct config cfg;
	struct app app;
	struct rs_err err = {0};
	struct empty_ctx ec = {false};
	struct load_ctx *x = calloc(1, sizeof(*x));
	const char *file = NULL;
	char *line = NULL;
	size_t cap = 0;
	long long lineno = 0, rows = 0, table_rows = 0;
	int n = 0, rc;
	bool ended = false, headed = false;
	const char *prev = NULL;
	char **rest = split_file_flag(argc, argv, "--in", &file, &n);
	FILE *in = stdin;

	if (!rest || !x) {
		free(rest);
		free(x);
		return 1;
	}
	rc = app_open(&cfg, n, rest, true, &app);
	free(rest);
	if (rc) {
		free(x);
		return rc == 2 ? usage("import") : rc;
	}
	if (file && strcmp(file, "-") != 0 && !(in = fopen(file, "re"))) {
		fprintf(stderr, "roster: import: can't read '%s': %s\n", file, strerror(errno));
		rc = 1;
		goto out;
	}
	if (store_read(app.store, empty_tx, &ec, &err) != RS_OK) {
		rc = fail("import", &err);
		goto out;
	}
	if (!ec.empty) {
		fprintf(stderr, "roster: import: the target store already holds tenants; import "
				"into a fresh one (don't start a server on it first)\n");
		rc = 1;
		goto out;
	}
	while (rc == 0 && getline(&line, &cap, in) > 0) {
		json_error_t jerr;
		json_t *v = json_loads(line, 0, &jerr);
		json_t *r;

		lineno++;
		if (!json_is_object(v)) {
			fprintf(stderr, "roster: import: line %lld: not a JSON object\n", lineno);
			json_decref(v);
			rc = 1;
			break;
		}
		if (!headed) {
			json_t *ver = json_object_get(v, "schema_version");

			headed = true;
			if (!json_is_integer(json_object_get(v, "roster_export")) ||
			    !json_is_integer(ver) ||
			    json_integer_value(ver) > store_schema_version(app.store)) {
				fprintf(stderr, "roster: import: line 1: not a roster export this "
						"binary can read\n");
				rc = 1;
			}
		} else if (json_is_string(json_object_get(v, "table"))) {
			const char *name = json_string_value(json_object_get(v, "table"));

			if (flush(app.store, x, &err) != RS_OK) {
				rc = fail("import", &err);
			} else if (!(x->t = table_named(name)) ||
				   !columns_match(x->t, json_object_get(v, "columns"))) {
				fprintf(stderr,
					"roster: import: line %lld: unknown table or columns "
					"'%s'\n",
					lineno, name);
				rc = 1;
			} else {
				if (prev)
					fprintf(stderr, "imported %-14s %lld rows\n", prev,
						table_rows);
				prev = x->t->name;
				table_rows = 0;
			}
		} else if ((r = json_object_get(v, "r"))) {
			if (!x->t || !json_is_array(r) ||
			    json_array_size(r) != (size_t)x->t->ncolumns) {
				fprintf(stderr,
					"roster: import: line %lld: a row without its table\n",
					lineno);
				rc = 1;
			} else {
				x->rows[x->n++] = json_incref(r);
				rows++;
				table_rows++;
				if (x->n == IMPORT_BATCH && flush(app.store, x, &err) != RS_OK)
					rc = fail("import", &err);
			}
		} else if (json_is_true(json_object_get(v, "end"))) {
			json_t *total = json_object_get(v, "rows");

			ended = true;
			if (!json_is_integer(total) || json_integer_value(total) != rows) {
				fprintf(stderr,
					"roster: import: the export says %lld rows, read %lld\n",
					(long long)json_integer_value(total), rows);
				rc = 1;
			}
		}
		json_decref(v);
	}
	if (rc == 0 && flush(app.store, x, &err) != RS_OK)
		rc = fail("import", &err);
	if (rc == 0 && !ended) {
		fprintf(stderr, "roster: import: the export is truncated (no end line)\n");
		rc = 1;
	}
	if (rc == 0 && prev)
		fprintf(stderr, "imported %-14s %lld rows\n", prev, table_rows);
	if (rc == 0)
		printf("{\"msg\":\"imported\",\"rows\":%lld}\n", rows);
out:
	for (int i = 0; i < x->n; i++)
		json_decref(x->rows[i]);
	free(x);
	free(line);
	if (in && in != stdin)
		fclose(in);
	app_close(&app);
	return rc;
}
