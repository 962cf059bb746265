/* The pure half of queries (scim_int.h): a filter rewritten for one resource type, and a filter
 * as a core predicate tree (the walk users and groups share, their leaves their own). No HTTP, no
 * core calls, so that fuzz/fuzz_scim_query can check it against the evaluator (src/scim/eval.c)
 * without a server. */
#include "api/scim/scim_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/timeutil.h"

bool scim_leaf_read(const struct scim_filter *f, const char *full, bool is_time,
		    struct scim_leaf *out, char *why, size_t cap)
{
	memset(out, 0, sizeof(*out));
	out->op = PRED_PR;
	if (f->kind == SCIM_F_PRESENT)
		return true;
	if (f->value.kind == SCIM_V_NULL) {
		if (f->cmp != SCIM_EQ && f->cmp != SCIM_NE) {
			snprintf(why, cap, "null is compared with eq or ne only");
			return false;
		}
		out->negate = f->cmp == SCIM_EQ;
		return true;
	}
	if (f->value.kind != SCIM_V_STRING) {
		snprintf(why, cap, "'%s' is compared with a string", full);
		return false;
	}
	out->op = scim_pred_op(f->cmp);
	if (!is_time) {
		out->s = f->value.str;
		return true;
	}
	if (out->op == PRED_CO || out->op == PRED_SW || out->op == PRED_EW) {
		snprintf(why, cap, "'%s' is compared with eq, ne, gt, ge, lt or le", full);
		return false;
	}
	if (!time_parse(f->value.str, &out->i)) {
		snprintf(why, cap, "'%s' needs an RFC 3339 time such as 2026-11-22T14:00:00Z",
			 full);
		return false;
	}
	out->is_int = true;
	return true;
}

enum pred_op scim_pred_op(enum scim_cmp cmp)
{
	switch (cmp) {
	case SCIM_EQ:
		return PRED_EQ;
	case SCIM_NE:
		return PRED_NE;
	case SCIM_CO:
		return PRED_CO;
	case SCIM_SW:
		return PRED_SW;
	case SCIM_EW:
		return PRED_EW;
	case SCIM_GT:
		return PRED_GT;
	case SCIM_GE:
		return PRED_GE;
	case SCIM_LT:
		return PRED_LT;
	case SCIM_LE:
		return PRED_LE;
	}
	return PRED_EQ;
}

/* ---- Filters as core predicates ---------------------------------------------------------- */

struct pred *scim_pred_new(struct arena *a, enum pred_op op)
{
	struct pred *p = arena_alloc(a, sizeof(*p));

	if (p) {
		memset(p, 0, sizeof(*p));
		p->op = op;
	}
	return p;
}

struct pred *scim_pred_not(struct arena *a, struct pred *x)
{
	struct pred *p = x ? scim_pred_new(a, PRED_NOT) : NULL;

	if (p)
		p->a = x;
	return p;
}

struct pred *scim_pred_leaf(struct arena *a, const struct scim_leaf *lf, int attr)
{
	struct pred *p = scim_pred_new(a, lf->op);

	if (!p)
		return NULL;
	p->attr = attr;
	p->is_int = lf->is_int;
	p->i = lf->i;
	p->s = lf->s;
	return lf->negate ? scim_pred_not(a, p) : p;
}

bool scim_pred_compile(struct arena *a, const struct scim_filter *f, const char *parent,
		       const struct scim_pred_spec *spec, struct pred **out, char *why, size_t cap)
{
	struct pred *p, *l = NULL, *r = NULL;
	const char *name, *sub;

	*out = NULL;
	switch (f->kind) {
	case SCIM_F_AND:
	case SCIM_F_OR:
		if (!scim_pred_compile(a, f->left, parent, spec, &l, why, cap) ||
		    !scim_pred_compile(a, f->right, parent, spec, &r, why, cap))
			return false;
		if (!(p = scim_pred_new(a, f->kind == SCIM_F_AND ? PRED_AND : PRED_OR)))
			return false;
		p->a = l;
		p->b = r;
		*out = p;
		return true;
	case SCIM_F_NOT:
		if (!scim_pred_compile(a, f->left, parent, spec, &l, why, cap))
			return false;
		*out = scim_pred_not(a, l);
		return *out != NULL;
	case SCIM_F_VALUE_PATH:
		if (parent || f->attr.sub) {
			snprintf(why, cap, "nested value paths are not supported");
			return false;
		}
		if (f->attr.urn_lc && strcasecmp(f->attr.urn_lc, spec->urn) != 0)
			break;
		if (spec->value_path && !spec->value_path(f, why, cap))
			return false;
		return scim_pred_compile(a, f->left, f->attr.name_lc, spec, out, why, cap);
	case SCIM_F_COMPARE:
	case SCIM_F_PRESENT:
		if (f->attr.urn_lc && strcasecmp(f->attr.urn_lc, spec->urn) != 0)
			break;
		name = parent ? parent : f->attr.name_lc;
		sub = parent ? f->attr.name_lc : f->attr.sub_lc;
		return spec->leaf(a, f, name, sub, out, why, cap);
	}
	snprintf(why, cap, "%s", spec->other_schema);
	return false;
}

/* ---- Filters across resource types ------------------------------------------------------- */

static struct scim_filter *f_node(struct arena *a, enum scim_filter_kind kind)
{
	struct scim_filter *p = arena_alloc(a, sizeof(*p));

	if (p) {
		memset(p, 0, sizeof(*p));
		p->kind = kind;
	}
	return p;
}

/* "id pr" (every resource has an id) or "not (id pr)". */
static struct scim_filter *f_const(struct arena *a, bool v)
{
	struct scim_filter *p = f_node(a, SCIM_F_PRESENT), *n;

	if (!p)
		return NULL;
	p->attr.name = p->attr.name_lc = "id";
	if (v)
		return p;
	if ((n = f_node(a, SCIM_F_NOT)))
		n->left = p;
	return n;
}

/* 1 for "id pr", 0 for "not (id pr)", -1 for anything else. */
static int const_of(const struct scim_filter *f)
{
	bool neg = false;

	if (f->kind == SCIM_F_NOT) {
		neg = true;
		f = f->left;
	}
	if (f->kind != SCIM_F_PRESENT || f->attr.urn || f->attr.sub ||
	    strcmp(f->attr.name_lc, "id") != 0)
		return -1;
	return neg ? 0 : 1;
}

/* Whether resource type rt defines the attribute path p names (its sub-attribute included).
 * Unqualified names are looked up in the core schema, then in the extensions. */
static bool defined(const struct scim_resource_type *rt, const struct scim_attr_path *p)
{
	const struct scim_attr *at = NULL;

	if (p->urn && strcasecmp(p->urn, rt->core->urn) != 0) {
		const struct scim_schema *s = scim_ext_find(rt, p->urn);

		if (s)
			at = scim_attr_find(s->attrs, s->nattrs, p->name);
	} else {
		at = scim_attr_find(rt->core->attrs, rt->core->nattrs, p->name);
		for (size_t i = 0; !at && !p->urn && i < rt->nexts; i++)
			at = scim_attr_find(rt->exts[i]->attrs, rt->exts[i]->nattrs, p->name);
	}
	if (!at)
		return false;
	return !p->sub || (at->subs && scim_attr_find(at->subs, at->nsubs, p->sub));
}

/* meta.resourceType, unqualified or qualified by rt's own core URN (another type's URN names
 * an attribute rt does not define). */
static bool is_resource_type(const struct scim_resource_type *rt, const struct scim_attr_path *p)
{
	return strcmp(p->name_lc, "meta") == 0 && p->sub_lc &&
	       strcmp(p->sub_lc, "resourcetype") == 0 &&
	       (!p->urn || strcasecmp(p->urn, rt->core->urn) == 0);
}

/* The truth of a comparison (or presence test) on an attribute without a value: the rules of
 * docs/scim.md "Evaluation" (ne is "not eq", eq null holds for an absent attribute). */
static bool absent_holds(const struct scim_filter *f)
{
	if (f->kind != SCIM_F_COMPARE)
		return false; /* pr, value paths */
	if (f->value.kind == SCIM_V_NULL)
		return f->cmp == SCIM_EQ;
	return f->cmp == SCIM_NE;
}

struct scim_filter *scim_filter_for_type(struct arena *a, const struct scim_filter *f,
					 const char *rt_name, const struct scim_resource_type *rt,
					 bool across_types, char *why, size_t cap)
{
	struct scim_filter *p;

	why[0] = '\0';
	if ((f->kind == SCIM_F_COMPARE || f->kind == SCIM_F_PRESENT) &&
	    is_resource_type(rt, &f->attr)) {
		bool same;

		if (f->kind == SCIM_F_PRESENT)
			return f_const(a, true);
		if ((f->cmp != SCIM_EQ && f->cmp != SCIM_NE) || f->value.kind != SCIM_V_STRING) {
			snprintf(why, cap,
				 "'meta.resourceType' is compared with eq or ne and a "
				 "string");
			return NULL;
		}
		/* caseExact (RFC 7643 section 3.1) */
		same = strcmp(f->value.str, rt_name) == 0;
		return f_const(a, same == (f->cmp == SCIM_EQ));
	}
	switch (f->kind) {
	case SCIM_F_AND:
	case SCIM_F_OR:
	case SCIM_F_NOT: {
		int l, r = -1;

		if (!(p = f_node(a, f->kind)))
			return NULL;
		if (!(p->left =
			  scim_filter_for_type(a, f->left, rt_name, rt, across_types, why, cap)))
			return NULL;
		if (f->kind != SCIM_F_NOT &&
		    !(p->right =
			  scim_filter_for_type(a, f->right, rt_name, rt, across_types, why, cap)))
			return NULL;
		/* Constants fold away, so that "meta.resourceType eq \"Group\" and displayName
		 * eq x" asks Users nothing it cannot filter on. */
		l = const_of(p->left);
		if (f->kind == SCIM_F_NOT)
			return l < 0 ? p : f_const(a, !l);
		r = const_of(p->right);
		if (f->kind == SCIM_F_AND) {
			if (l == 0 || r == 0)
				return f_const(a, false);
			return l == 1 ? p->right : r == 1 ? p->left : p;
		}
		if (l == 1 || r == 1)
			return f_const(a, true);
		return l == 0 ? p->right : r == 0 ? p->left : p;
	}
	case SCIM_F_COMPARE:
	case SCIM_F_PRESENT:
	case SCIM_F_VALUE_PATH:
		if (across_types && !defined(rt, &f->attr))
			return f_const(a, absent_holds(f));
		/* Kept as it is: a value path's filter is over sub-attributes, which the type's
		 * own compiler checks. */
		return (struct scim_filter *)f;
	}
	snprintf(why, cap, "unknown filter node");
	return NULL;
}
