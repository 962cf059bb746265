/* Aligned text tables for humans. Cells are copied and sanitised when added, so the printer
 * only measures and pads. Scripts should use --json; this layout is not a stable format. */
#include <stdlib.h>
#include <string.h>

#include "cli_int.h"

void table_init(struct table *t, size_t ncols, const char *const *headers)
{
	t->ncols = ncols;
	t->headers = headers;
	t->cells = NULL;
	t->nrows = 0;
	t->cap_rows = 0;
	t->failed = false;
}

void table_release(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap_rows = 0;
}

size_t table_width(const char *s)
{
	size_t w = 0;

	/* Count bytes that start a UTF-8 sequence; continuation bytes are 10xxxxxx. */
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		w += (*p & 0xc0) != 0x80;
	return w;
}

bool table_add_row(struct table *t, const char *const *cells)
{
	size_t i = 0;
	struct buf b;

	if (t->failed)
		return false;
	if (t->nrows == t->cap_rows) {
		size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
		char **c = reallocarray(t->cells, cap, t->ncols * sizeof(*c));

		if (c == NULL)
			goto out;
		t->cells = c;
		t->cap_rows = cap;
	}
	for (i = 0; i < t->ncols; i++) {
		char **slot = &t->cells[t->nrows * t->ncols + i];

		buf_init(&b, CLI_CELL_MAX);
		/* Over CLI_CELL_MAX the cell is cut, which is fine for a table. */
		(void)buf_puts_safe(&b, cells[i] != NULL ? cells[i] : "-");
		*slot = strdup(buf_cstr(&b));
		buf_release(&b);
		if (*slot == NULL)
			goto out;
	}
	t->nrows++;
	return true;
out:
	/* Only reached on failure: drop the cells of the half-built row. */
	while (i-- > 0)
		free(t->cells[t->nrows * t->ncols + i]);
	t->failed = true;
	return false;
}

enum cli_status table_print(const struct table *t, FILE *out, struct cli_err *err)
{
	enum cli_status st = CLI_OK;
	size_t *width = NULL;

	if (t->failed)
		return cli_fail(err, CLI_E_INTERNAL, "out of memory");
	width = calloc(t->ncols ? t->ncols : 1, sizeof(*width));
	if (width == NULL)
		return cli_fail(err, CLI_E_INTERNAL, "out of memory");
	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = table_width(t->headers[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = table_width(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			/* Row 0 is the header; data row r is cells[r - 1]. */
			const char *s = r == 0 ? t->headers[c] : t->cells[(r - 1) * t->ncols + c];
			size_t pad = c + 1 < t->ncols ? width[c] - table_width(s) + 2 : 0;

			if (fputs(s, out) == EOF || fprintf(out, "%*s", (int)pad, "") < 0) {
				st = cli_fail(err, CLI_E_INTERNAL, "cannot write output");
				goto out;
			}
		}
		if (fputc('\n', out) == EOF) {
			st = cli_fail(err, CLI_E_INTERNAL, "cannot write output");
			goto out;
		}
	}
out:
	free(width);
	return st;
}
