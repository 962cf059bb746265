/* Command-line option parsing. Hand-written rather than getopt_long(): getopt keeps its state
 * in globals (optind), permutes argv, and cannot take global and per-command tables at once.
 * The parser only records what was given; commands decide what is required. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli_int.h"

enum cli_status args_init(struct args *a, int argc, struct cli_err *err)
{
	size_t cap = argc > 0 ? (size_t)argc : 1;

	a->n_items = 0;
	a->n_pos = 0;
	a->cap = cap;
	a->items = calloc(cap, sizeof(*a->items));
	a->pos = calloc(cap, sizeof(*a->pos));
	if (a->items == NULL || a->pos == NULL) {
		args_release(a);
		return cli_fail(err, CLI_E_INTERNAL, "out of memory");
	}
	return CLI_OK;
}

void args_release(struct args *a)
{
	if (a == NULL)
		return;
	free(a->items);
	free(a->pos);
	a->items = NULL;
	a->pos = NULL;
	a->n_items = a->n_pos = a->cap = 0;
}

/* Finds the option called name (length len, not NUL-terminated), or by short name when
 * short_name is not 0. */
static const struct args_opt *args_find(const struct args_opt *const *tables, const char *name,
					size_t len, char short_name)
{
	for (size_t t = 0; tables != NULL && tables[t] != NULL; t++) {
		for (const struct args_opt *o = tables[t]; o->name != NULL; o++) {
			if (short_name != 0) {
				if (o->short_name == short_name)
					return o;
			} else if (strlen(o->name) == len && memcmp(o->name, name, len) == 0) {
				return o;
			}
		}
	}
	return NULL;
}

static enum cli_status args_push(struct args *a, const struct args_opt *o, const char *value,
				 struct cli_err *err)
{
	/* Cannot happen when a was sized for this argv; checked so a misuse is not an overflow. */
	if (a->n_items >= a->cap)
		return cli_fail(err, CLI_E_INTERNAL, "too many options");
	a->items[a->n_items].opt = o;
	a->items[a->n_items].value = value;
	a->n_items++;
	return CLI_OK;
}

enum cli_status args_parse(struct args *a, const struct args_opt *const *tables, int argc,
			   char **argv, unsigned flags, int *consumed, struct cli_err *err)
{
	enum cli_status st = CLI_OK;
	bool only_pos = false;
	int i;

	for (i = 0; i < argc; i++) {
		const char *w = argv[i];
		const struct args_opt *o;
		const char *value = NULL;

		if (only_pos || w[0] != '-' || w[1] == '\0') {
			/* A positional word ("-" alone is one too, by convention stdin). */
			if (flags & ARGS_STOP_AT_POSITIONAL)
				break;
			if (a->n_pos >= a->cap) {
				st = cli_fail(err, CLI_E_INTERNAL, "too many arguments");
				goto out;
			}
			a->pos[a->n_pos++] = w;
			continue;
		}
		if (strcmp(w, "--") == 0) {
			if (flags & ARGS_STOP_AT_POSITIONAL) {
				i++;
				break;
			}
			only_pos = true;
			continue;
		}
		if (w[1] == '-') {
			const char *name = w + 2;
			const char *eq = strchr(name, '=');
			size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);

			o = args_find(tables, name, len, 0);
			if (o == NULL) {
				st = cli_fail(err, CLI_E_USAGE, "unknown option '--%.*s'", (int)len,
					      name);
				goto out;
			}
			if (eq != NULL) {
				if (!(o->flags & ARGS_VALUE)) {
					st = cli_fail(err, CLI_E_USAGE,
						      "option '--%s' takes no value", o->name);
					goto out;
				}
				value = eq + 1;
			}
		} else {
			/* Short options exist only for -h; no bundling. */
			if (w[2] != '\0' || (o = args_find(tables, NULL, 0, w[1])) == NULL) {
				st = cli_fail(err, CLI_E_USAGE, "unknown option '%s'", w);
				goto out;
			}
		}
		if ((o->flags & ARGS_VALUE) && value == NULL) {
			/* Like getopt: the next word is the value even when it starts with '-',
			 * so "--first-name -x-" works. */
			if (i + 1 >= argc) {
				st = cli_fail(err, CLI_E_USAGE, "option '--%s' needs a value",
					      o->name);
				goto out;
			}
			value = argv[++i];
		}
		st = args_push(a, o, value, err);
		if (st != CLI_OK)
			goto out;
	}
out:
	if (consumed != NULL)
		*consumed = i;
	return st;
}

const char *args_next(const struct args *a, const char *name, size_t *iter)
{
	for (size_t i = *iter; i < a->n_items; i++) {
		if (strcmp(a->items[i].opt->name, name) == 0) {
			*iter = i + 1;
			return a->items[i].value;
		}
	}
	*iter = a->n_items;
	return NULL;
}

const char *args_get(const struct args *a, const char *name)
{
	/* The last occurrence wins, so "roster --tenant a user list --tenant b" uses b. */
	for (size_t i = a->n_items; i-- > 0;) {
		if (strcmp(a->items[i].opt->name, name) == 0)
			return a->items[i].value;
	}
	return NULL;
}

bool args_has(const struct args *a, const char *name)
{
	for (size_t i = 0; i < a->n_items; i++) {
		if (strcmp(a->items[i].opt->name, name) == 0)
			return true;
	}
	return false;
}

bool args_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	/* strtol alone accepts leading blanks and "+"; a count on the command line should not. */
	if (s == NULL || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

enum cli_status args_get_long(const struct args *a, const char *name, long min, long max, long *out,
			      struct cli_err *err)
{
	const char *v = args_get(a, name);

	if (v == NULL)
		return CLI_OK;
	if (!args_parse_long(v, min, max, out))
		return cli_fail(err, CLI_E_USAGE,
				"option '--%s' needs an integer from %ld to %ld, not '%s'", name,
				min, max, v);
	return CLI_OK;
}
