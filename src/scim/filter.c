/* SCIM filter parser (RFC 7644 section 3.4.2.2, Figure 1, with errata 4690/7322 for the
 * valFilter and 7319 for "not" followed by a space) and printer. A hand-written recursive
 * descent over the text; string and number literals are decoded by jansson, never here. It must
 * not resolve names against a schema: that is eval.c's and patch.c's business. */
#include "scim/filter.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim/scim_int.h"
#include "util/limits.h"
#include "util/str.h"

struct parser {
	struct arena *a;
	const char *s;
	size_t len;
	size_t pos;
	int depth;
	bool in_vp; /* inside attr[...]: names are the parent's sub-attributes */
	const char *type;
	struct scim_err *err;
};

static const char *const cmp_names[] = {"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"};

const char *scim_cmp_name(enum scim_cmp c)
{
	return cmp_names[c];
}

static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_name_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '_';
}

static char at(const struct parser *p, size_t i)
{
	return i < p->len ? p->s[i] : '\0';
}

static enum rs_status fail(struct parser *p, size_t off, const char *msg)
{
	return scim_fail(p->err, RS_E_INVALID, p->type, off, "%s at offset %zu", msg, off);
}

static enum rs_status oom(struct parser *p)
{
	return scim_fail(p->err, RS_E_INTERNAL, p->type, p->pos, "out of memory");
}

/* RFC 7644 separates tokens with SP; runs of spaces are accepted (clients pad), other white
 * space is not. Returns how many were skipped. */
static size_t skip_sp(struct parser *p)
{
	size_t n = 0;

	while (at(p, p->pos) == ' ') {
		p->pos++;
		n++;
	}
	return n;
}

/* A keyword (case-insensitive, RFC 7644: "attribute operators ... are case insensitive") at
 * pos, not followed by a name character. */
static bool keyword_at(const struct parser *p, size_t pos, const char *kw)
{
	size_t n = strlen(kw);

	if (pos + n > p->len || strncasecmp(p->s + pos, kw, n) != 0)
		return false;
	return !is_name_char(at(p, pos + n)) && at(p, pos + n) != '.' && at(p, pos + n) != ':';
}

static struct scim_filter *node(struct parser *p, enum scim_filter_kind kind)
{
	struct scim_filter *f = arena_alloc(p->a, sizeof(*f));

	if (f)
		f->kind = kind;
	return f;
}

static bool valid_name(const char *s, size_t n)
{
	/* "$ref" is the one name RFC 7643 (section 2.4) gives that ATTRNAME cannot spell. */
	if (n == 4 && strncasecmp(s, "$ref", 4) == 0)
		return true;
	if (n == 0 || !is_alpha(s[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		if (!is_name_char(s[i]))
			return false;
	}
	return true;
}

static bool valid_urn(const char *s, size_t n)
{
	if (n == 0 || !is_alpha(s[0]) || s[n - 1] == ':')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_name_char(s[i]) && s[i] != ':' && s[i] != '.')
			return false;
	}
	return true;
}

static bool set_part(struct arena *a, const char *s, size_t n, const char **orig, const char **lc)
{
	*orig = arena_strndup(a, s, n);
	*lc = *orig ? str_lower(a, *orig) : NULL;
	return *lc != NULL;
}

static enum rs_status attr_path(struct parser *p, bool allow_urn, bool allow_sub,
				struct scim_attr_path *out)
{
	size_t start = p->pos, end = p->pos, colon = (size_t)-1, dot = (size_t)-1, name_at;

	memset(out, 0, sizeof(*out));
	while (end < p->len && (is_name_char(p->s[end]) || p->s[end] == ':' || p->s[end] == '.' ||
				p->s[end] == '$'))
		end++;
	if (end == start)
		return fail(p, start, "expected an attribute name");
	for (size_t i = start; i < end; i++) {
		if (p->s[i] == ':')
			colon = i;
	}
	name_at = colon == (size_t)-1 ? start : colon + 1;
	for (size_t i = name_at; i < end; i++) {
		if (p->s[i] == '.') {
			dot = i;
			break;
		}
	}
	if (colon != (size_t)-1) {
		if (!allow_urn)
			return fail(p, start, "a schema URN is not allowed here");
		if (!valid_urn(p->s + start, colon - start))
			return fail(p, start, "invalid schema URN");
		if (!set_part(p->a, p->s + start, colon - start, &out->urn, &out->urn_lc))
			return oom(p);
	}
	if (dot == (size_t)-1)
		dot = end;
	if (!valid_name(p->s + name_at, dot - name_at))
		return fail(p, name_at, "invalid attribute name");
	if (!set_part(p->a, p->s + name_at, dot - name_at, &out->name, &out->name_lc))
		return oom(p);
	if (dot < end) {
		if (!allow_sub)
			return fail(p, dot, "a sub-attribute is not allowed here");
		if (!valid_name(p->s + dot + 1, end - dot - 1))
			return fail(p, dot + 1, "invalid sub-attribute name");
		if (!set_part(p->a, p->s + dot + 1, end - dot - 1, &out->sub, &out->sub_lc))
			return oom(p);
	}
	p->pos = end;
	return RS_OK;
}

/* A token ends at the end of the text, a space, or a closing bracket. */
static bool token_end(const struct parser *p, size_t pos)
{
	char c = at(p, pos);

	return pos >= p->len || c == ' ' || c == ')' || c == ']';
}

static enum rs_status comp_value(struct parser *p, struct scim_value *v)
{
	size_t start = p->pos, i = p->pos;
	json_error_t jerr;
	json_t *j;
	char c = at(p, i);

	if (c == '"') {
		/* Find the closing quote; jansson then decodes the escapes (and refuses bad ones,
		 * control characters, invalid UTF-8 and \u0000). */
		for (i++; i < p->len && p->s[i] != '"'; i++) {
			if (p->s[i] == '\\')
				i++;
		}
		if (i >= p->len)
			return fail(p, start, "unterminated string");
		j = json_loadb(p->s + start, i + 1 - start, JSON_DECODE_ANY, &jerr);
		if (!j || !json_is_string(j)) {
			json_decref(j);
			return fail(p, start, "invalid string");
		}
		v->kind = SCIM_V_STRING;
		v->str = arena_strdup(p->a, json_string_value(j));
		json_decref(j);
		if (!v->str)
			return oom(p);
		p->pos = i + 1;
		return RS_OK;
	}
	if (c == '-' || is_digit(c)) {
		/* JSON number syntax (RFC 7159 section 6), checked here only to find its end. */
		if (c == '-')
			i++;
		if (at(p, i) == '0')
			i++;
		else if (is_digit(at(p, i)))
			while (is_digit(at(p, i)))
				i++;
		else
			return fail(p, start, "invalid number");
		if (at(p, i) == '.') {
			if (!is_digit(at(p, ++i)))
				return fail(p, start, "invalid number");
			while (is_digit(at(p, i)))
				i++;
		}
		if (at(p, i) == 'e' || at(p, i) == 'E') {
			i++;
			if (at(p, i) == '+' || at(p, i) == '-')
				i++;
			if (!is_digit(at(p, i)))
				return fail(p, start, "invalid number");
			while (is_digit(at(p, i)))
				i++;
		}
		if (!token_end(p, i))
			return fail(p, start, "invalid number");
		j = json_loadb(p->s + start, i - start, JSON_DECODE_ANY, &jerr);
		if (!j) /* an integer beyond 64 bits: keep it as a decimal */
			j = json_loadb(p->s + start, i - start,
				       JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &jerr);
		if (!j || !json_is_number(j)) {
			json_decref(j);
			return fail(p, start, "invalid number");
		}
		if (json_is_integer(j)) {
			v->kind = SCIM_V_INTEGER;
			v->i = json_integer_value(j);
			v->d = (double)v->i;
		} else {
			v->kind = SCIM_V_DECIMAL;
			v->d = json_real_value(j);
		}
		json_decref(j);
		v->text = arena_strndup(p->a, p->s + start, i - start);
		if (!v->text)
			return oom(p);
		p->pos = i;
		return RS_OK;
	}
	/* RFC 7644 takes false / null / true from RFC 7159: lower case only. */
	static const struct {
		const char *word;
		enum scim_value_kind kind;
	} lits[] = {{"true", SCIM_V_TRUE}, {"false", SCIM_V_FALSE}, {"null", SCIM_V_NULL}};
	for (size_t k = 0; k < sizeof(lits) / sizeof(lits[0]); k++) {
		size_t n = strlen(lits[k].word);
		if (i + n <= p->len && memcmp(p->s + i, lits[k].word, n) == 0 &&
		    token_end(p, i + n)) {
			v->kind = lits[k].kind;
			p->pos = i + n;
			return RS_OK;
		}
	}
	return fail(p, start, "expected a value (string, number, true, false or null)");
}

static enum rs_status parse_or(struct parser *p, struct scim_filter **out);

static enum rs_status enter(struct parser *p)
{
	if (++p->depth > RS_SCIM_FILTER_DEPTH_MAX)
		return fail(p, p->pos, "filter nested too deeply");
	return RS_OK;
}

/* "(" filter ")" with p->pos at "(". */
static enum rs_status group(struct parser *p, struct scim_filter **out)
{
	enum rs_status st;

	if (enter(p) != RS_OK)
		return RS_E_INVALID;
	p->pos++;
	skip_sp(p);
	if ((st = parse_or(p, out)) != RS_OK)
		return st;
	skip_sp(p);
	if (at(p, p->pos) != ')')
		return fail(p, p->pos, "expected ')'");
	p->pos++;
	p->depth--;
	return RS_OK;
}

/* The operator and value that follow attribute path ap. */
static enum rs_status attr_op(struct parser *p, const struct scim_attr_path *ap,
			      struct scim_filter **out)
{
	struct scim_filter *f;
	enum rs_status st;
	size_t op_at, n;

	if (skip_sp(p) == 0)
		return fail(p, p->pos, "expected a space and an operator");
	op_at = p->pos;
	for (n = 0; is_alpha(at(p, op_at + n));)
		n++;
	if (n == 2 && strncasecmp(p->s + op_at, "pr", 2) == 0 && token_end(p, op_at + 2)) {
		if (!(f = node(p, SCIM_F_PRESENT)))
			return oom(p);
		f->attr = *ap;
		p->pos = op_at + 2;
		*out = f;
		return RS_OK;
	}
	if (!(f = node(p, SCIM_F_COMPARE)))
		return oom(p);
	f->attr = *ap;
	for (size_t k = 0; k < sizeof(cmp_names) / sizeof(cmp_names[0]); k++) {
		if (n == 2 && strncasecmp(p->s + op_at, cmp_names[k], 2) == 0) {
			f->cmp = (enum scim_cmp)k;
			p->pos = op_at + 2;
			if (skip_sp(p) == 0)
				return fail(p, p->pos, "expected a space and a value");
			if ((st = comp_value(p, &f->value)) != RS_OK)
				return st;
			*out = f;
			return RS_OK;
		}
	}
	return fail(p, op_at, "unknown operator");
}

/* Entra ID filters on emails[type eq "work"].value eq "…", which RFC 7644's grammar lacks: it
 * means what emails[type eq "work" and value eq "…"] says (one element satisfies both), and
 * becomes that tree, so the rest of roster never sees the form. p->pos is at the ".". */
static enum rs_status vp_sub_compare(struct parser *p, struct scim_filter *vp)
{
	struct scim_attr_path sub;
	struct scim_filter *cmp, *both;
	enum rs_status st;

	p->pos++;
	st = attr_path(p, false, false, &sub);
	if (st == RS_OK)
		st = attr_op(p, &sub, &cmp);
	if (st != RS_OK)
		return st;
	if (!(both = node(p, SCIM_F_AND)))
		return oom(p);
	both->left = vp->left;
	both->right = cmp;
	vp->left = both;
	return RS_OK;
}

static enum rs_status attr_exp(struct parser *p, struct scim_filter **out)
{
	struct scim_attr_path ap;
	struct scim_filter *f;
	enum rs_status st;

	if ((st = attr_path(p, !p->in_vp, !p->in_vp, &ap)) != RS_OK)
		return st;
	if (at(p, p->pos) == '[') {
		size_t open = p->pos;
		if (p->in_vp)
			return fail(p, open, "a value path cannot be nested in another");
		if (ap.sub)
			return fail(p, open,
				    "a value path needs an attribute without sub-attribute");
		if (!(f = node(p, SCIM_F_VALUE_PATH)))
			return oom(p);
		f->attr = ap;
		p->pos++;
		if ((st = scim_valfilter_parse(p->a, p->s, p->len, &p->pos, p->depth, p->type,
					       &f->left, p->err)) != RS_OK)
			return st;
		if (at(p, p->pos) != ']')
			return fail(p, p->pos, "expected ']'");
		p->pos++;
		if (at(p, p->pos) == '.' && (st = vp_sub_compare(p, f)) != RS_OK)
			return st;
		*out = f;
		return RS_OK;
	}
	return attr_op(p, &ap, out);
}

/* not > and > or: a "not" binds to the parenthesised filter that follows it. */
static enum rs_status parse_unary(struct parser *p, struct scim_filter **out)
{
	if (keyword_at(p, p->pos, "not")) {
		size_t save = p->pos;
		struct scim_filter *f;
		enum rs_status st;

		p->pos += 3;
		skip_sp(p); /* erratum 7319: "not (" as in the RFC's own example, and "not(" */
		if (at(p, p->pos) == '(') {
			if (!(f = node(p, SCIM_F_NOT)))
				return oom(p);
			if ((st = group(p, &f->left)) != RS_OK)
				return st;
			*out = f;
			return RS_OK;
		}
		p->pos = save; /* an attribute that happens to be called "not" */
	}
	if (at(p, p->pos) == '(')
		return group(p, out);
	return attr_exp(p, out);
}

static enum rs_status parse_binary(struct parser *p, struct scim_filter **out, const char *kw,
				   enum scim_filter_kind kind)
{
	struct scim_filter *left, *right, *f;
	enum rs_status st;

	st = kind == SCIM_F_OR ? parse_binary(p, &left, "and", SCIM_F_AND) : parse_unary(p, &left);
	if (st != RS_OK)
		return st;
	for (;;) {
		size_t save = p->pos;
		if (skip_sp(p) == 0 || !keyword_at(p, p->pos, kw)) {
			p->pos = save;
			break;
		}
		p->pos += strlen(kw);
		if (skip_sp(p) == 0)
			return fail(p, p->pos, "expected a space after a logical operator");
		st = kind == SCIM_F_OR ? parse_binary(p, &right, "and", SCIM_F_AND)
				       : parse_unary(p, &right);
		if (st != RS_OK)
			return st;
		if (!(f = node(p, kind)))
			return oom(p);
		f->left = left;
		f->right = right;
		left = f;
	}
	*out = left;
	return RS_OK;
}

static enum rs_status parse_or(struct parser *p, struct scim_filter **out)
{
	return parse_binary(p, out, "or", SCIM_F_OR);
}

enum rs_status scim_attr_path_parse(struct arena *a, const char *s, size_t len, size_t *pos,
				    bool allow_urn, bool allow_sub, struct scim_attr_path *out,
				    struct scim_err *err)
{
	struct parser p = {a, s, len, *pos, 0, false, SCIM_INVALID_PATH, err};
	enum rs_status st = attr_path(&p, allow_urn, allow_sub, out);

	if (st == RS_OK)
		*pos = p.pos;
	return st;
}

enum rs_status scim_valfilter_parse(struct arena *a, const char *s, size_t len, size_t *pos,
				    int depth, const char *scim_type, struct scim_filter **out,
				    struct scim_err *err)
{
	struct parser p = {a, s, len, *pos, depth, true, scim_type, err};
	enum rs_status st;

	if (enter(&p) != RS_OK)
		return RS_E_INVALID;
	skip_sp(&p);
	if ((st = parse_or(&p, out)) != RS_OK)
		return st;
	skip_sp(&p);
	*pos = p.pos;
	return RS_OK;
}

enum rs_status scim_filter_parse(struct arena *a, const char *s, size_t len,
				 struct scim_filter **out, struct scim_err *err)
{
	struct parser p = {a, s, len, 0, 0, false, SCIM_INVALID_FILTER, err};
	enum rs_status st;

	if (len > RS_SCIM_FILTER_MAX)
		return scim_fail(err, RS_E_INVALID, SCIM_INVALID_FILTER, RS_SCIM_FILTER_MAX,
				 "filter longer than %d bytes", RS_SCIM_FILTER_MAX);
	if (memchr(s, '\0', len))
		return fail(&p, (size_t)((const char *)memchr(s, '\0', len) - s), "NUL byte");
	skip_sp(&p);
	if ((st = parse_or(&p, out)) != RS_OK)
		return st;
	skip_sp(&p);
	if (p.pos != len)
		return fail(&p, p.pos, "unexpected text");
	return RS_OK;
}

/* --- printer --- */

char *scim_attr_path_print(struct arena *a, const struct scim_attr_path *ap)
{
	return arena_printf(a, "%s%s%s%s%s", ap->urn ? ap->urn : "", ap->urn ? ":" : "", ap->name,
			    ap->sub ? "." : "", ap->sub ? ap->sub : "");
}

static char *value_print(struct arena *a, const struct scim_value *v)
{
	json_t *j;
	char *txt, *out;

	switch (v->kind) {
	case SCIM_V_STRING:
		j = json_string(v->str);
		txt = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
		json_decref(j);
		out = txt ? arena_strdup(a, txt) : NULL;
		free(txt);
		return out;
	case SCIM_V_INTEGER:
	case SCIM_V_DECIMAL:
		return arena_strdup(a, v->text);
	case SCIM_V_TRUE:
		return arena_strdup(a, "true");
	case SCIM_V_FALSE:
		return arena_strdup(a, "false");
	case SCIM_V_NULL:
		return arena_strdup(a, "null");
	}
	return NULL;
}

/* Operand of a binary node: parenthesised when it binds looser than its parent, or when it is
 * the right operand of the same operator (the parser associates to the left). */
static char *operand(struct arena *a, const struct scim_filter *parent,
		     const struct scim_filter *child, bool right)
{
	char *s = scim_filter_print(a, child);
	bool paren = (parent->kind == SCIM_F_AND && child->kind == SCIM_F_OR) ||
		     (right && child->kind == parent->kind);

	if (!s || !paren)
		return s;
	return arena_printf(a, "(%s)", s);
}

char *scim_filter_print(struct arena *a, const struct scim_filter *f)
{
	char *l, *r, *ap;

	switch (f->kind) {
	case SCIM_F_AND:
	case SCIM_F_OR:
		l = operand(a, f, f->left, false);
		r = operand(a, f, f->right, true);
		if (!l || !r)
			return NULL;
		return arena_printf(a, "%s %s %s", l, f->kind == SCIM_F_AND ? "and" : "or", r);
	case SCIM_F_NOT:
		l = scim_filter_print(a, f->left);
		return l ? arena_printf(a, "not (%s)", l) : NULL;
	case SCIM_F_PRESENT:
		ap = scim_attr_path_print(a, &f->attr);
		return ap ? arena_printf(a, "%s pr", ap) : NULL;
	case SCIM_F_COMPARE:
		ap = scim_attr_path_print(a, &f->attr);
		r = value_print(a, &f->value);
		return ap && r ? arena_printf(a, "%s %s %s", ap, scim_cmp_name(f->cmp), r) : NULL;
	case SCIM_F_VALUE_PATH:
		ap = scim_attr_path_print(a, &f->attr);
		l = scim_filter_print(a, f->left);
		return ap && l ? arena_printf(a, "%s[%s]", ap, l) : NULL;
	}
	return NULL;
}

json_t *scim_json_get(const json_t *o, const char *name, const char **key)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return NULL;
	json_object_foreach((json_t *)o, k, v)
	{
		if (strcasecmp(k, name) == 0) {
			if (key)
				*key = k;
			return v;
		}
	}
	return NULL;
}
