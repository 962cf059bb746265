/* Filter evaluation over jansson values. Recursion follows the filter tree, whose depth the
 * parser bounds (limits.h); nothing is allocated. */
#include "scim/eval.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scim/scim_int.h"

/* Where names are looked up: the resource (rt set) or one element of a multi-valued attribute
 * (defs = the parent's sub-attributes). */
struct scope {
	const json_t *obj;
	const struct scim_resource_type *rt;
	const struct scim_attr *defs;
	size_t ndefs;
};

static bool match(const struct scim_filter *f, const struct scope *sc);

bool scim_resolve(const struct scim_resource_type *rt, const json_t *resource,
		  const struct scim_attr_path *ap, struct scim_resolved *out)
{
	const struct scim_schema *ext = NULL;

	memset(out, 0, sizeof(*out));
	out->container = (json_t *)resource;
	if (ap->urn) {
		/* The path may name an extension object itself: "urn:...:enterprise:2.0:User". */
		char full[512];
		int n = snprintf(full, sizeof(full), "%s:%s", ap->urn, ap->name);
		if (n > 0 && (size_t)n < sizeof(full)) {
			if (rt && (ext = scim_ext_find(rt, full))) {
				out->ext = ext;
				out->ext_urn = ext->urn;
				out->whole_ext = true;
				return true;
			}
		}
		if (rt && strcasecmp(ap->urn, rt->core->urn) == 0) {
			out->schema = rt->core;
		} else if (rt && (ext = scim_ext_find(rt, ap->urn))) {
			out->schema = ext;
			out->ext = ext;
			out->ext_urn = ext->urn;
		} else if (rt) {
			return false;
		} else if (strncasecmp(ap->urn, "urn:ietf:params:scim:schemas:core:", 34) != 0) {
			out->ext_urn = ap->urn;
		}
	} else if (rt) {
		/* Unqualified names: the core schema first, then the extensions (clients do
		 * send "employeeNumber" unqualified). */
		out->schema = rt->core;
		if (!scim_attr_find(rt->core->attrs, rt->core->nattrs, ap->name)) {
			for (size_t i = 0; i < rt->nexts; i++) {
				if (scim_attr_find(rt->exts[i]->attrs, rt->exts[i]->nattrs,
						   ap->name)) {
					out->schema = rt->exts[i];
					out->ext = rt->exts[i];
					out->ext_urn = rt->exts[i]->urn;
					break;
				}
			}
		}
	}
	if (out->ext_urn)
		out->container = scim_json_get(resource, out->ext_urn, NULL);
	if (out->schema) {
		out->def = scim_attr_find(out->schema->attrs, out->schema->nattrs, ap->name);
		if (!out->def)
			return false;
		if (ap->sub) {
			if (out->def->type != SCIM_T_COMPLEX)
				return false;
			out->sub_def = scim_attr_find(out->def->subs, out->def->nsubs, ap->sub);
			if (!out->sub_def)
				return false;
		}
	}
	return true;
}

static bool present(const json_t *v)
{
	const char *k;
	json_t *m;
	size_t i;

	if (!v || json_is_null(v))
		return false;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, m)
		{
			if (present(m))
				return true;
		}
		return false;
	}
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, m)
		{
			if (present(m))
				return true;
		}
		return false;
	}
	return true;
}

static bool ends_with(const char *s, size_t n, const char *t, size_t m, bool exact)
{
	if (m > n)
		return false;
	return exact ? memcmp(s + n - m, t, m) == 0 : strncasecmp(s + n - m, t, m) == 0;
}

static bool contains(const char *s, const char *t, bool exact)
{
	size_t n = strlen(s), m = strlen(t);

	for (size_t i = 0; i + m <= n; i++) {
		if (exact ? memcmp(s + i, t, m) == 0 : strncasecmp(s + i, t, m) == 0)
			return true;
	}
	return false;
}

static bool order(int c, enum scim_cmp cmp)
{
	switch (cmp) {
	case SCIM_GT:
		return c > 0;
	case SCIM_GE:
		return c >= 0;
	case SCIM_LT:
		return c < 0;
	case SCIM_LE:
		return c <= 0;
	case SCIM_EQ:
		return c == 0;
	case SCIM_NE:
	case SCIM_CO:
	case SCIM_SW:
	case SCIM_EW:
		return false;
	}
	return false;
}

/* One scalar against the filter's value, for every operator but ne (not eq) and pr. */
static bool compare_one(const json_t *v, const struct scim_filter *f, bool exact)
{
	const struct scim_value *fv = &f->value;

	if (json_is_string(v) && fv->kind == SCIM_V_STRING) {
		const char *s = json_string_value(v), *t = fv->str;
		size_t n = json_string_length(v), m = strlen(t);
		switch (f->cmp) {
		case SCIM_CO:
			return contains(s, t, exact);
		case SCIM_SW:
			return m <= n && (exact ? memcmp(s, t, m) == 0 : strncasecmp(s, t, m) == 0);
		case SCIM_EW:
			return ends_with(s, n, t, m, exact);
		case SCIM_EQ:
		case SCIM_NE:
		case SCIM_GT:
		case SCIM_GE:
		case SCIM_LT:
		case SCIM_LE:
			return order(exact ? strcmp(s, t) : strcasecmp(s, t), f->cmp);
		}
		return false;
	}
	if (json_is_number(v) && (fv->kind == SCIM_V_INTEGER || fv->kind == SCIM_V_DECIMAL)) {
		int c;
		if (json_is_integer(v) && fv->kind == SCIM_V_INTEGER) {
			long long a = json_integer_value(v), b = fv->i;
			c = a < b ? -1 : a > b;
		} else {
			double a = json_number_value(v), b = fv->d;
			c = a < b ? -1 : a > b;
		}
		return order(c, f->cmp);
	}
	if (json_is_boolean(v) && (fv->kind == SCIM_V_TRUE || fv->kind == SCIM_V_FALSE))
		return f->cmp == SCIM_EQ && json_is_true(v) == (fv->kind == SCIM_V_TRUE);
	return false;
}

/* Any value of v (v itself, or each element of an array; for complex values their "value"
 * sub-attribute) satisfies the comparison. */
static bool compare_any(const json_t *v, const struct scim_filter *f, const struct scim_attr *def)
{
	size_t i;
	json_t *e;

	if (!v)
		return false;
	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
		{
			if (compare_any(e, f, def))
				return true;
		}
		return false;
	}
	if (json_is_object(v)) {
		const struct scim_attr *vd =
		    def && def->subs ? scim_attr_find(def->subs, def->nsubs, "value") : NULL;
		return compare_any(scim_json_get(v, "value", NULL), f, vd);
	}
	return compare_one(v, f, def && def->case_exact);
}

/* The values an attribute path selects in a scope, with the leaf's definition. Multi-valued
 * complex attributes with a sub-attribute give an array of containers: the caller iterates. */
static const json_t *lookup(const struct scope *sc, const struct scim_attr_path *ap,
			    const struct scim_attr **def, bool *ok)
{
	struct scim_resolved r;

	*def = NULL;
	*ok = true;
	if (sc->defs) {
		*def = sc->ndefs ? scim_attr_find(sc->defs, sc->ndefs, ap->name) : NULL;
		return scim_json_get(sc->obj, ap->name, NULL);
	}
	if (!scim_resolve(sc->rt, sc->obj, ap, &r) || r.whole_ext) {
		*ok = false;
		return NULL;
	}
	*def = r.def;
	return scim_json_get(r.container, ap->name, NULL);
}

/* Applies test to every value the path (with its sub-attribute) selects. */
static bool any_value(const struct scope *sc, const struct scim_filter *f, bool pr)
{
	const struct scim_attr *def, *sdef = NULL;
	const json_t *v;
	bool ok;

	v = lookup(sc, &f->attr, &def, &ok);
	if (!ok || !v)
		return false;
	if (f->attr.sub) {
		size_t i;
		json_t *e;
		if (def && def->subs)
			sdef = scim_attr_find(def->subs, def->nsubs, f->attr.sub);
		if (json_is_object(v)) {
			const json_t *sv = scim_json_get(v, f->attr.sub, NULL);
			return pr ? present(sv) : compare_any(sv, f, sdef);
		}
		if (!json_is_array(v))
			return false;
		json_array_foreach(v, i, e)
		{
			const json_t *sv = scim_json_get(e, f->attr.sub, NULL);
			if (pr ? present(sv) : compare_any(sv, f, sdef))
				return true;
		}
		return false;
	}
	return pr ? present(v) : compare_any(v, f, def);
}

static bool value_path(const struct scim_filter *f, const struct scope *sc)
{
	const struct scim_attr *def;
	const json_t *v;
	json_t *e;
	size_t i;
	bool ok;

	v = lookup(sc, &f->attr, &def, &ok);
	if (!ok || !v)
		return false;
	if (json_is_object(v))
		return scim_valfilter_match(f->left, v, def);
	json_array_foreach(v, i, e)
	{
		if (json_is_object(e) && scim_valfilter_match(f->left, e, def))
			return true;
	}
	return false;
}

static bool match(const struct scim_filter *f, const struct scope *sc)
{
	switch (f->kind) {
	case SCIM_F_AND:
		return match(f->left, sc) && match(f->right, sc);
	case SCIM_F_OR:
		return match(f->left, sc) || match(f->right, sc);
	case SCIM_F_NOT:
		return !match(f->left, sc);
	case SCIM_F_PRESENT:
		return any_value(sc, f, true);
	case SCIM_F_VALUE_PATH:
		return value_path(f, sc);
	case SCIM_F_COMPARE:
		if (f->value.kind == SCIM_V_NULL) {
			bool has = any_value(sc, f, true);
			return f->cmp == SCIM_EQ ? !has : f->cmp == SCIM_NE ? has : false;
		}
		if (f->cmp == SCIM_NE) {
			struct scim_filter eq = *f;
			eq.cmp = SCIM_EQ;
			return !any_value(sc, &eq, false);
		}
		return any_value(sc, f, false);
	}
	return false;
}

bool scim_filter_match(const struct scim_filter *f, const json_t *resource,
		       const struct scim_resource_type *rt)
{
	struct scope sc = {resource, rt, NULL, 0};

	if (!json_is_object(resource))
		return false;
	return match(f, &sc);
}

bool scim_valfilter_match(const struct scim_filter *f, const json_t *elem,
			  const struct scim_attr *parent)
{
	/* An empty definition list (not NULL) marks "inside a value filter" for lookup(). */
	static const struct scim_attr none[1];
	struct scope sc = {elem, NULL, parent && parent->subs ? parent->subs : none,
			   parent && parent->subs ? parent->nsubs : 0};

	if (!json_is_object(elem))
		return false;
	return match(f, &sc);
}
