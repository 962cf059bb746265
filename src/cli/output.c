/* Rendering API answers for people: tables for collections, "key: value" blocks for single
 * resources, and indented JSON for --json. Text that came from the server is sanitised before
 * it reaches the terminal (buf_puts_safe). */
#include <stdlib.h>
#include <string.h>

#include "cli_int.h"

#define OUT_COLS_MAX 16

const json_t *out_lookup(const json_t *obj, const char *path)
{
	const json_t *v = obj;
	char key[128];

	while (v != NULL && *path != '\0') {
		size_t len = strcspn(path, ".");

		if (!json_is_object(v) || len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		v = json_object_get(v, key);
		path += len + (path[len] == '.');
	}
	return v;
}

static void out_dump(const json_t *v, struct buf *b)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	/* Out of memory here only loses a cell; the buffer records the failure. */
	if (s == NULL)
		b->failed = true;
	else
		(void)buf_puts(b, s);
	free(s);
}

/* References to other resources ({"id","name","rank"}, {"id","username"}, {"type","id"}) read
 * better as their name; anything else is shown as compact JSON. */
static void out_ref(const json_t *v, enum out_mode mode, struct buf *b)
{
	const char *name = json_string_value(json_object_get(v, "name"));
	const char *id = json_string_value(json_object_get(v, "id"));
	const char *type = json_string_value(json_object_get(v, "type"));
	const json_t *rank = json_object_get(v, "rank");

	if (name == NULL)
		name = json_string_value(json_object_get(v, "username"));
	if (name == NULL && type != NULL) {
		/* An audit actor or target: "user 0190..." */
		(void)buf_puts(b, type);
		if (id != NULL)
			(void)buf_printf(b, mode == OUT_BRIEF ? ":%s" : " %s", id);
		return;
	}
	if (name == NULL) {
		out_dump(v, b);
		return;
	}
	(void)buf_puts(b, name);
	if (mode == OUT_BRIEF || (id == NULL && !json_is_integer(rank)))
		return;
	(void)buf_puts(b, " (");
	if (json_is_integer(rank))
		(void)buf_printf(b, "rank %" JSON_INTEGER_FORMAT "%s", json_integer_value(rank),
				 id != NULL ? ", " : "");
	if (id != NULL)
		(void)buf_puts(b, id);
	(void)buf_putc(b, ')');
}

void out_value(const json_t *v, enum out_mode mode, struct buf *b)
{
	size_t i;
	const json_t *e;

	switch (v != NULL ? json_typeof(v) : JSON_NULL) {
	case JSON_NULL:
		(void)buf_putc(b, '-');
		break;
	case JSON_STRING:
		(void)buf_append(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		(void)buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		(void)buf_printf(b, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		(void)buf_puts(b, "true");
		break;
	case JSON_FALSE:
		(void)buf_puts(b, "false");
		break;
	case JSON_OBJECT:
		if (json_object_size(v) == 0)
			(void)buf_puts(b, "{}");
		else
			out_ref(v, mode, b);
		break;
	case JSON_ARRAY:
		if (json_array_size(v) == 0)
			(void)buf_putc(b, '-');
		json_array_foreach(v, i, e)
		{
			if (i > 0)
				(void)buf_puts(b, mode == OUT_BRIEF ? "," : ", ");
			out_value(e, mode, b);
		}
		break;
	}
}

enum cli_status out_json(FILE *out, const json_t *v, struct cli_err *err)
{
	if (json_dumpf(v, out, JSON_INDENT(2) | JSON_ENCODE_ANY) != 0 || fputc('\n', out) == EOF)
		return cli_fail(err, CLI_E_INTERNAL, "cannot write output");
	return CLI_OK;
}

static enum cli_status out_line(FILE *out, const char *key, const json_t *v, size_t width,
				struct cli_err *err)
{
	enum cli_status st = CLI_OK;
	struct buf val, line;

	buf_init(&val, CLI_CELL_MAX);
	buf_init(&line, CLI_CELL_MAX + 256);
	out_value(v, OUT_FULL, &val);
	(void)buf_puts_safe(&line, key);
	(void)buf_printf(&line, ":%*s", (int)(width - strlen(key) + 1), "");
	(void)buf_puts_safe(&line, buf_cstr(&val));
	if (fprintf(out, "%s\n", buf_cstr(&line)) < 0)
		st = cli_fail(err, CLI_E_INTERNAL, "cannot write output");
	buf_release(&val);
	buf_release(&line);
	return st;
}

enum cli_status out_object(FILE *out, const json_t *obj, const char *const *keys,
			   struct cli_err *err)
{
	enum cli_status st = CLI_OK;
	size_t width = 0;
	const char *key;
	json_t *v;

	if (keys != NULL) {
		for (size_t i = 0; keys[i] != NULL; i++)
			if (strlen(keys[i]) > width)
				width = strlen(keys[i]);
		for (size_t i = 0; keys[i] != NULL && st == CLI_OK; i++)
			st = out_line(out, keys[i], json_object_get(obj, keys[i]), width, err);
		return st;
	}
	/* jansson (>= 2.8) iterates in insertion order, i.e. the server's order. The casts
	 * drop const only because the foreach macro is not const-correct; nothing is changed. */
	json_object_foreach((json_t *)obj, key, v)
	{
		if (strlen(key) > width)
			width = strlen(key);
	}
	json_object_foreach((json_t *)obj, key, v)
	{
		st = out_line(out, key, v, width, err);
		if (st != CLI_OK)
			break;
	}
	return st;
}

enum cli_status out_table(FILE *out, const json_t *items, const struct out_column *cols,
			  size_t ncols, struct cli_err *err)
{
	enum cli_status st = CLI_OK;
	const char *headers[OUT_COLS_MAX];
	const char *cells[OUT_COLS_MAX];
	struct buf vals[OUT_COLS_MAX];
	struct table t;
	const json_t *item;
	size_t i;

	if (ncols > OUT_COLS_MAX)
		return cli_fail(err, CLI_E_INTERNAL, "too many columns");
	for (size_t c = 0; c < ncols; c++) {
		headers[c] = cols[c].header;
		buf_init(&vals[c], CLI_CELL_MAX);
	}
	table_init(&t, ncols, headers);
	json_array_foreach(items, i, item)
	{
		for (size_t c = 0; c < ncols; c++) {
			buf_reset(&vals[c]);
			if (cols[c].fmt != NULL)
				cols[c].fmt(item, &vals[c]);
			else
				out_value(out_lookup(item, cols[c].path), OUT_BRIEF, &vals[c]);
			cells[c] = buf_cstr(&vals[c]);
		}
		if (!table_add_row(&t, cells))
			break; /* table_print reports it */
	}
	st = table_print(&t, out, err);
	table_release(&t);
	for (size_t c = 0; c < ncols; c++)
		buf_release(&vals[c]);
	return st;
}
