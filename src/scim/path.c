/* PATCH path parser: an attrPath, optionally "[" valFilter "]" and "." subAttr, reusing the
 * filter parser's pieces (scim_int.h) so that a path and a filter can never disagree on what a
 * name or a value filter is. */
#include "scim/path.h"

#include <string.h>

#include "scim/scim_int.h"
#include "util/limits.h"
#include "util/str.h"

static enum rs_status bad(struct scim_err *err, size_t off, const char *msg)
{
	return scim_fail(err, RS_E_INVALID, SCIM_INVALID_PATH, off, "%s at offset %zu", msg, off);
}

enum rs_status scim_path_parse(struct arena *a, const char *s, size_t len, struct scim_path *out,
			       struct scim_err *err)
{
	size_t pos = 0;
	enum rs_status st;

	memset(out, 0, sizeof(*out));
	if (len > RS_SCIM_FILTER_MAX)
		return scim_fail(err, RS_E_INVALID, SCIM_INVALID_PATH, RS_SCIM_FILTER_MAX,
				 "path longer than %d bytes", RS_SCIM_FILTER_MAX);
	if (len == 0)
		return bad(err, 0, "empty path");
	if (memchr(s, '\0', len))
		return bad(err, (size_t)((const char *)memchr(s, '\0', len) - s), "NUL byte");
	if ((st = scim_attr_path_parse(a, s, len, &pos, true, true, &out->attr, err)) != RS_OK)
		return st;
	if (pos < len && s[pos] == '[') {
		if (out->attr.sub)
			return bad(err, pos,
				   "a value path needs an attribute without sub-attribute");
		pos++;
		if ((st = scim_valfilter_parse(a, s, len, &pos, 0, SCIM_INVALID_PATH, &out->filter,
					       err)) != RS_OK)
			return st;
		if (pos >= len || s[pos] != ']')
			return bad(err, pos, "expected ']'");
		pos++;
		if (pos < len && s[pos] == '.') {
			size_t start = ++pos;
			while (pos < len && s[pos] != ' ' && s[pos] != '.' && s[pos] != '[')
				pos++;
			/* The sub-attribute is an ATTRNAME: parse it as a path without URN or sub.
			 */
			size_t p2 = start;
			struct scim_attr_path sub;
			if ((st = scim_attr_path_parse(a, s, pos, &p2, false, false, &sub, err)) !=
			    RS_OK)
				return st;
			if (p2 != pos)
				return bad(err, p2, "invalid sub-attribute");
			out->attr.sub = sub.name;
			out->attr.sub_lc = sub.name_lc;
		}
	}
	if (pos != len)
		return bad(err, pos, "unexpected text");
	return RS_OK;
}

char *scim_path_print(struct arena *a, const struct scim_path *p)
{
	struct scim_attr_path base = p->attr;
	char *ap, *f;

	if (!p->filter)
		return scim_attr_path_print(a, &p->attr);
	base.sub = NULL;
	ap = scim_attr_path_print(a, &base);
	f = scim_filter_print(a, p->filter);
	if (!ap || !f)
		return NULL;
	return arena_printf(a, "%s[%s]%s%s", ap, f, p->attr.sub ? "." : "",
			    p->attr.sub ? p->attr.sub : "");
}
