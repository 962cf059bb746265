/* Request bodies built from options: typed options (--email) and the generic
 * "--set field=value", which produce a JSON merge patch (RFC 7396) for PATCH requests. */
#include <string.h>

#include "cli_int.h"

json_t *patch_value_parse(const char *text)
{
	json_t *v;

	/* JSON_DECODE_ANY: scalars (null, 42, true, "x") are values too. Anything that is not
	 * JSON, e.g. "Sales" or "007", is the string as typed. */
	v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	if (v != NULL)
		return v;
	return json_string(text);
}

enum cli_status patch_set_apply(json_t *obj, const char *assignment, struct cli_err *err)
{
	enum cli_status st = CLI_OK;
	const char *eq = strchr(assignment, '=');
	char key[256];
	json_t *node = obj;
	json_t *value = NULL;
	const char *p;

	if (eq == NULL || eq == assignment)
		return cli_fail(err, CLI_E_USAGE, "--set needs FIELD=VALUE, not '%s'", assignment);
	/* Walk "a.b.c": create or enter objects for a and b, then set c. */
	for (p = assignment;;) {
		const char *dot = memchr(p, '.', (size_t)(eq - p));
		const char *end = dot != NULL ? dot : eq;
		size_t len = (size_t)(end - p);
		json_t *child;

		if (len == 0 || len >= sizeof(key)) {
			st = cli_fail(err, CLI_E_USAGE, "--set: invalid field name in '%.*s'",
				      (int)(eq - assignment), assignment);
			goto out;
		}
		memcpy(key, p, len);
		key[len] = '\0';
		if (dot == NULL)
			break;
		child = json_object_get(node, key);
		if (child == NULL) {
			child = json_object();
			if (child == NULL || json_object_set_new(node, key, child) != 0) {
				st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
				goto out;
			}
		} else if (!json_is_object(child)) {
			st = cli_fail(err, CLI_E_USAGE,
				      "--set: '%s' is already set to a non-object", key);
			goto out;
		}
		node = child;
		p = dot + 1;
	}
	value = patch_value_parse(eq + 1);
	if (value == NULL) {
		/* Out of memory is far less likely than bytes that are not UTF-8. */
		st = cli_fail(err, CLI_E_USAGE, "--set: value of '%s' is not valid UTF-8", key);
		goto out;
	}
	if (json_object_set_new(node, key, value) != 0) {
		/* json_object_set_new consumed value even on failure. */
		st = cli_fail(err, CLI_E_INTERNAL, "out of memory");
		goto out;
	}
out:
	return st;
}

enum cli_status patch_set_string(json_t *obj, const char *key, const char *value,
				 struct cli_err *err)
{
	json_t *s;

	if (value == NULL)
		return CLI_OK;
	/* json_string refuses invalid UTF-8: tell the user rather than send nothing. */
	s = json_string(value);
	if (s == NULL)
		return cli_fail(err, CLI_E_USAGE, "value of '%s' is not valid UTF-8", key);
	if (json_object_set_new(obj, key, s) != 0)
		return cli_fail(err, CLI_E_INTERNAL, "out of memory");
	return CLI_OK;
}

enum cli_status patch_set_list(json_t *obj, const char *key, const struct args *a, const char *name,
			       bool always, struct cli_err *err)
{
	json_t *arr;
	const char *v;
	size_t it = 0;

	if (!always && !args_has(a, name))
		return CLI_OK;
	arr = json_array();
	if (arr == NULL || json_object_set_new(obj, key, arr) != 0)
		return cli_fail(err, CLI_E_INTERNAL, "out of memory");
	/* arr is now borrowed from obj. Names of roles and permissions have no commas, so
	 * "--permission a,b" is the same as "--permission a --permission b". */
	while ((v = args_next(a, name, &it)) != NULL) {
		const char *p = v;

		for (;;) {
			size_t len = strcspn(p, ",");

			if (len > 0) {
				json_t *s = json_stringn(p, len);

				if (s == NULL)
					return cli_fail(err, CLI_E_USAGE,
							"value of '--%s' is not valid UTF-8", name);
				if (json_array_append_new(arr, s) != 0)
					return cli_fail(err, CLI_E_INTERNAL, "out of memory");
			}
			if (p[len] == '\0')
				break;
			p += len + 1;
		}
	}
	return CLI_OK;
}

enum cli_status patch_if_match(const char *v, char *out, size_t n, struct cli_err *err)
{
	bool digits = v[0] != '\0';
	int w;

	for (const char *p = v; *p != '\0'; p++) {
		/* Visible ASCII only: anything else could smuggle a header line. */
		if (*p < 0x21 || *p > 0x7e)
			return cli_fail(err, CLI_E_USAGE, "invalid --if-match value");
		if (*p < '0' || *p > '9')
			digits = false;
	}
	if (v[0] == '\0')
		return cli_fail(err, CLI_E_USAGE, "invalid --if-match value");
	/* The version number as shown by "get" is what users have; the server wants an
	 * entity tag. */
	w = digits ? snprintf(out, n, "\"%s\"", v) : snprintf(out, n, "%s", v);
	if (w < 0 || (size_t)w >= n)
		return cli_fail(err, CLI_E_USAGE, "--if-match value too long");
	return CLI_OK;
}
