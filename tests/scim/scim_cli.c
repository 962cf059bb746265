/* The C side of the differential tests (tests/scim/diff.py): reads one case per line on stdin
 * and prints roster's answer as one JSON line.
 *   scim_cli filter   each line a filter; {"ok":true,"ast":…,"text":"canonical"} or
 *                     {"ok":false,"scimType":…,"offset":N,"detail":…}. The AST is printed in
 *                     the shape of the npm package scim2-parse-filter so the driver can compare
 *                     them: {"op":"eq","attrPath":"a.b","compValue":v}, {"op":"pr",…},
 *                     {"op":"[]","attrPath":…,"valFilter":…}, {"op":"not","filter":…},
 *                     {"op":"and","filters":[l,r]}.
 *   scim_cli path     each line a PATCH path; {"ok":true,"text":"canonical"} or an error.
 *   scim_cli patch    each line {"resource":{…},"ops":[…],"schema":"user"|"group"|null};
 *                     {"ok":true,"result":{…}} or {"ok":false,"scimType":…,"op":N,…}.
 *   scim_cli match    each line {"filter":"…","resource":{…},"schema":…}; {"ok":true,
 *                     "match":bool}. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scim/eval.h"
#include "scim/filter.h"
#include "scim/patch.h"
#include "scim/path.h"

static json_t *value_json(const struct scim_value *v)
{
	switch (v->kind) {
	case SCIM_V_STRING:
		return json_string(v->str);
	case SCIM_V_INTEGER:
		return json_integer(v->i);
	case SCIM_V_DECIMAL:
		return json_real(v->d);
	case SCIM_V_TRUE:
		return json_true();
	case SCIM_V_FALSE:
		return json_false();
	case SCIM_V_NULL:
		return json_null();
	}
	return json_null();
}

static json_t *ast(struct arena *a, const struct scim_filter *f)
{
	switch (f->kind) {
	case SCIM_F_AND:
	case SCIM_F_OR:
		return json_pack("{s:s,s:[o,o]}", "op", f->kind == SCIM_F_AND ? "and" : "or",
				 "filters", ast(a, f->left), ast(a, f->right));
	case SCIM_F_NOT:
		return json_pack("{s:s,s:o}", "op", "not", "filter", ast(a, f->left));
	case SCIM_F_PRESENT:
		return json_pack("{s:s,s:s}", "op", "pr", "attrPath",
				 scim_attr_path_print(a, &f->attr));
	case SCIM_F_COMPARE:
		return json_pack("{s:s,s:s,s:o}", "op", scim_cmp_name(f->cmp), "attrPath",
				 scim_attr_path_print(a, &f->attr), "compValue",
				 value_json(&f->value));
	case SCIM_F_VALUE_PATH:
		return json_pack("{s:s,s:s,s:o}", "op", "[]", "attrPath",
				 scim_attr_path_print(a, &f->attr), "valFilter", ast(a, f->left));
	}
	return json_null();
}

static json_t *error_json(const struct scim_err *e)
{
	return json_pack("{s:b,s:s,s:I,s:i,s:s}", "ok", 0, "scimType",
			 e->scim_type ? e->scim_type : "", "offset", (json_int_t)e->offset, "op",
			 e->op, "detail", e->detail);
}

static const struct scim_resource_type *schema_of(const json_t *case_)
{
	const char *s = json_string_value(json_object_get(case_, "schema"));

	if (s && strcmp(s, "user") == 0)
		return scim_user_type();
	if (s && strcmp(s, "group") == 0)
		return scim_group_type();
	return NULL;
}

static json_t *one(const char *mode, struct arena *a, const char *line, size_t len)
{
	struct scim_err err = {0};
	struct scim_filter *f;
	struct scim_path p;
	json_t *c, *out = NULL, *res;

	if (strcmp(mode, "filter") == 0) {
		if (scim_filter_parse(a, line, len, &f, &err) != RS_OK)
			return error_json(&err);
		return json_pack("{s:b,s:o,s:s}", "ok", 1, "ast", ast(a, f), "text",
				 scim_filter_print(a, f));
	}
	if (strcmp(mode, "path") == 0) {
		if (scim_path_parse(a, line, len, &p, &err) != RS_OK)
			return error_json(&err);
		return json_pack("{s:b,s:s}", "ok", 1, "text", scim_path_print(a, &p));
	}
	if (!(c = json_loadb(line, len, 0, NULL)))
		return json_pack("{s:b,s:s}", "ok", 0, "scimType", "notJson");
	if (strcmp(mode, "patch") == 0) {
		if (scim_patch_apply(json_object_get(c, "resource"), json_object_get(c, "ops"),
				     schema_of(c), a, &res, &err) != RS_OK)
			out = error_json(&err);
		else
			out = json_pack("{s:b,s:o}", "ok", 1, "result", res);
	} else {
		const char *ftxt = json_string_value(json_object_get(c, "filter"));
		if (!ftxt || scim_filter_parse(a, ftxt, strlen(ftxt), &f, &err) != RS_OK)
			out = error_json(&err);
		else
			out = json_pack(
			    "{s:b,s:b}", "ok", 1, "match",
			    scim_filter_match(f, json_object_get(c, "resource"), schema_of(c)));
	}
	json_decref(c);
	return out;
}

int main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (argc != 2 || (strcmp(argv[1], "filter") && strcmp(argv[1], "path") &&
			  strcmp(argv[1], "patch") && strcmp(argv[1], "match"))) {
		fprintf(stderr, "usage: scim_cli filter|path|patch|match < cases\n");
		return 2;
	}
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		struct arena a;
		json_t *out;
		char *txt;

		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		arena_init(&a, 0);
		out = one(argv[1], &a, line, (size_t)n);
		txt = out ? json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		if (!txt) {
			fprintf(stderr, "scim_cli: out of memory\n");
			return 1;
		}
		puts(txt);
		free(txt);
		json_decref(out);
		arena_release(&a);
	}
	free(line);
	return 0;
}
