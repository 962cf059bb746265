/* PATCH application: one operation at a time on a private deep copy, so that a failing
 * operation leaves the caller's resource as it was (DESIGN rule 5). Paths come from path.c,
 * value filters are evaluated by eval.c; this file decides what add, replace and remove mean
 * for each kind of target (RFC 7644 sections 3.5.2.1-3). */
#include "scim/patch.h"

#include <string.h>
#include <strings.h>

#include "scim/eval.h"
#include "scim/path.h"
#include "scim/scim_int.h"
#include "util/limits.h"

enum op_kind { OP_ADD, OP_REPLACE, OP_REMOVE };

struct ctx {
	struct arena *a;
	const struct scim_resource_type *rt;
	json_t *res;
	struct scim_err *err;
};

/* Fails the current operation with RS_E_INVALID and a scimType. */
#define invalid(c, type, ...) scim_fail((c)->err, RS_E_INVALID, type, 0, __VA_ARGS__)

static enum rs_status oom(struct ctx *c)
{
	return scim_fail(c->err, RS_E_INTERNAL, SCIM_INVALID_VALUE, 0, "out of memory");
}

/* Sets container[name] (replacing any key spelled differently) to v, a new reference. */
static enum rs_status set_key(struct ctx *c, json_t *container, const char *name, json_t *v)
{
	const char *old;

	if (!v)
		return oom(c);
	if (scim_json_get(container, name, &old) && strcmp(old, name) != 0)
		(void)json_object_del(container, old); /* found just now: cannot fail */
	if (json_object_set_new(container, name, v) != 0)
		return oom(c);
	return RS_OK;
}

static void del_key(json_t *container, const char *name)
{
	const char *old;

	if (scim_json_get(container, name, &old))
		(void)json_object_del(container, old); /* found just now: cannot fail */
}

/* Checks one (single) value against def and returns a new reference to it in canonical form:
 * booleans from "True"/"False", a string for a complex attribute with a "value" sub-attribute
 * wrapped as {"value": ...}, a list of one value for a singular complex attribute unwrapped,
 * sub-attribute keys spelled as the schema spells them, null
 * sub-attributes dropped. def NULL: a copy, unchecked. */
static json_t *check_value(struct ctx *c, const struct scim_attr *def, const json_t *v,
			   const char *what)
{
	const char *k;
	json_t *m, *o;

	if (!def)
		return json_deep_copy(v);
	/* Entra ID sends a singular manager as a list of one reference. */
	if (!def->multi_valued && def->type == SCIM_T_COMPLEX && json_is_array(v) &&
	    json_array_size(v) == 1)
		v = json_array_get(v, 0);
	switch (def->type) {
	case SCIM_T_STRING:
	case SCIM_T_DATETIME:
	case SCIM_T_BINARY:
	case SCIM_T_REFERENCE:
		if (json_is_string(v))
			return json_deep_copy(v);
		break;
	case SCIM_T_BOOLEAN:
		if (json_is_boolean(v))
			return json_deep_copy(v);
		/* Entra ID sends "active": "False". */
		if (json_is_string(v) && strcasecmp(json_string_value(v), "true") == 0)
			return json_true();
		if (json_is_string(v) && strcasecmp(json_string_value(v), "false") == 0)
			return json_false();
		break;
	case SCIM_T_INTEGER:
		if (json_is_integer(v))
			return json_deep_copy(v);
		break;
	case SCIM_T_DECIMAL:
		if (json_is_number(v))
			return json_deep_copy(v);
		break;
	case SCIM_T_COMPLEX:
		if (json_is_string(v) && scim_attr_find(def->subs, def->nsubs, "value")) {
			/* Entra ID sends the enterprise manager as the manager's id. */
			return json_pack("{sO}", "value", v);
		}
		if (!json_is_object(v))
			break;
		if (!(o = json_object()))
			return NULL;
		json_object_foreach((json_t *)v, k, m)
		{
			const struct scim_attr *sd = scim_attr_find(def->subs, def->nsubs, k);
			json_t *cv;
			if (!sd) {
				json_decref(o);
				scim_fail(c->err, RS_E_INVALID, SCIM_INVALID_VALUE, 0,
					  "\"%s\" is not a sub-attribute of \"%s\"", k, def->name);
				return NULL;
			}
			if (json_is_null(m))
				continue;
			if (!(cv = check_value(c, sd, m, k)) ||
			    json_object_set_new(o, sd->name, cv) != 0) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	scim_fail(c->err, RS_E_INVALID, SCIM_INVALID_VALUE, 0, "invalid value for \"%s\"", what);
	return NULL;
}

/* check_value with its error status: RS_E_INVALID if the check filled err, else out of
 * memory. */
static enum rs_status checked(struct ctx *c, const struct scim_attr *def, const json_t *v,
			      const char *what, json_t **out)
{
	c->err->scim_type = NULL;
	*out = check_value(c, def, v, what);
	if (*out)
		return RS_OK;
	return c->err->scim_type ? RS_E_INVALID : oom(c);
}

static const char *value_of(const json_t *v)
{
	const json_t *s = scim_json_get(v, "value", NULL);

	return json_is_string(s) ? json_string_value(s) : NULL;
}

/* The same value of a multi-valued attribute: identical JSON, or complex values with the same
 * "value" (case-insensitive unless caseExact) and "type". */
static bool same_value(const json_t *x, const json_t *y, const struct scim_attr *def)
{
	const struct scim_attr *vd =
	    def && def->subs ? scim_attr_find(def->subs, def->nsubs, "value") : NULL;
	const char *a = value_of(x), *b = value_of(y);
	const json_t *tx, *ty;

	if (json_equal((json_t *)x, (json_t *)y))
		return true;
	if (!a || !b || (vd && vd->case_exact ? strcmp(a, b) : strcasecmp(a, b)) != 0)
		return false;
	tx = scim_json_get(x, "type", NULL);
	ty = scim_json_get(y, "type", NULL);
	if (!tx || !ty)
		return !tx && !ty;
	return json_is_string(tx) && json_is_string(ty) &&
	       strcasecmp(json_string_value(tx), json_string_value(ty)) == 0;
}

/* Whether item, one value listed by a remove, names x. Unlike same_value, an item without
 * "type" selects on "value" alone: Entra ID removes members as [{"$ref": null, "value": id}]
 * while the group holds them as {"value": id, "type": "User", ...}. */
static bool remove_selects(const json_t *x, const json_t *item, const struct scim_attr *def)
{
	const json_t *ty = scim_json_get(item, "type", NULL);
	const char *a = value_of(x), *b = value_of(item);
	const struct scim_attr *vd =
	    def && def->subs ? scim_attr_find(def->subs, def->nsubs, "value") : NULL;

	if (ty && !json_is_null(ty))
		return same_value(x, item, def);
	if (json_equal((json_t *)x, (json_t *)item))
		return true;
	return a && b && (vd && vd->case_exact ? strcmp(a, b) : strcasecmp(a, b)) == 0;
}

/* RFC 7643 section 2.4: "primary" true at most once. The last touched value that is primary
 * wins; the others lose the flag. */
static void primary_unique(json_t *arr, json_t *const *touched, size_t ntouched)
{
	json_t *winner = NULL, *e;
	size_t i;

	for (size_t t = 0; t < ntouched; t++) {
		if (json_is_true(scim_json_get(touched[t], "primary", NULL)))
			winner = touched[t];
	}
	if (!winner)
		return;
	json_array_foreach(arr, i, e)
	{
		const char *k;
		if (e != winner && json_is_true(scim_json_get(e, "primary", &k)))
			(void)json_object_set_new(e, k,
						  json_false()); /* existing key: no alloc fail */
	}
}

/* Merges the members of obj (checked against def) into target, an object. */
static enum rs_status merge_into(struct ctx *c, json_t *target, const struct scim_attr *def,
				 const json_t *obj)
{
	json_t *cv, *m;
	const char *k;
	enum rs_status st;

	if ((st = checked(c, def, obj, def ? def->name : "value", &cv)) != RS_OK)
		return st;
	if (!json_is_object(cv)) {
		json_decref(cv);
		return invalid(c, SCIM_INVALID_VALUE, "a complex value must be an object%s", "");
	}
	json_object_foreach(cv, k, m)
	{
		if (json_is_null(m)) {
			del_key(target, k);
			continue;
		}
		if ((st = set_key(c, target, k, json_incref(m))) != RS_OK)
			break;
	}
	json_decref(cv);
	return st;
}

static bool mutable_or_fail(struct ctx *c, const struct scim_attr *def, bool has_value,
			    enum rs_status *st)
{
	if (def && def->mutability == SCIM_M_READ_ONLY) {
		*st = invalid(c, SCIM_MUTABILITY, "\"%s\" is readOnly", def->name);
		return false;
	}
	if (def && def->mutability == SCIM_M_IMMUTABLE && has_value) {
		*st = invalid(c, SCIM_MUTABILITY, "\"%s\" is immutable", def->name);
		return false;
	}
	return true;
}

/* Sets the sub-attribute sub of the complex value elem (add, replace) or removes it. */
static enum rs_status set_sub(struct ctx *c, enum op_kind kind, json_t *elem,
			      const struct scim_attr *sdef, const char *sub, const json_t *value)
{
	const char *name = sdef ? sdef->name : sub;
	json_t *old = scim_json_get(elem, name, NULL), *cv;
	enum rs_status st = RS_OK;

	if (!mutable_or_fail(c, sdef, old && !json_is_null(old), &st))
		return st;
	if (kind == OP_REMOVE || json_is_null(value)) {
		del_key(elem, name);
		return RS_OK;
	}
	if ((st = checked(c, sdef, value, name, &cv)) != RS_OK)
		return st;
	return set_key(c, elem, name, cv);
}

/* A value filter that is "eq" comparisons joined by "and": the value Entra ID means to create
 * when its "add" on emails[type eq "work"].value finds none. */
static bool eq_only(const struct scim_filter *f)
{
	if (f->kind == SCIM_F_AND)
		return eq_only(f->left) && eq_only(f->right);
	return f->kind == SCIM_F_COMPARE && f->cmp == SCIM_EQ && f->value.kind != SCIM_V_NULL;
}

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
	return NULL;
}

static bool build_from_eq(const struct scim_filter *f, json_t *obj)
{
	if (f->kind == SCIM_F_AND)
		return build_from_eq(f->left, obj) && build_from_eq(f->right, obj);
	return json_object_set_new(obj, f->attr.name, value_json(&f->value)) == 0;
}

/* attr[filter] and attr[filter].sub. */
static enum rs_status apply_filtered(struct ctx *c, enum op_kind kind, const struct scim_path *p,
				     const struct scim_resolved *r, json_t *container,
				     const char *name, const json_t *value)
{
	const struct scim_attr *def = r->def, *sdef = r->sub_def;
	json_t *arr = scim_json_get(container, name, NULL), *e, *touched[64];
	size_t i, ntouched = 0, nmatch = 0;
	enum rs_status st;

	if (def && !def->multi_valued)
		return invalid(c, SCIM_INVALID_PATH, "\"%s\" is not multi-valued", name);
	if (arr && !json_is_array(arr))
		return invalid(c, SCIM_INVALID_PATH, "\"%s\" is not multi-valued", name);
	if (kind == OP_REMOVE) {
		if (!arr)
			return RS_OK;
		for (i = 0; i < json_array_size(arr);) {
			e = json_array_get(arr, i);
			if (!json_is_object(e) || !scim_valfilter_match(p->filter, e, def)) {
				i++;
				continue;
			}
			if (p->attr.sub) {
				if ((st = set_sub(c, kind, e, sdef, p->attr.sub, NULL)) != RS_OK)
					return st;
				i++;
			} else {
				(void)json_array_remove(arr, i); /* in range: cannot fail */
			}
		}
		if (json_array_size(arr) == 0)
			del_key(container, name);
		return RS_OK;
	}
	json_array_foreach(arr, i, e)
	{
		if (!json_is_object(e) || !scim_valfilter_match(p->filter, e, def))
			continue;
		nmatch++;
		if (p->attr.sub) {
			st = set_sub(c, kind, e, sdef, p->attr.sub, value);
		} else if (kind == OP_REPLACE) {
			/* RFC 7644 section 3.5.2.3: the matching values "SHALL be replaced". */
			json_t *cv;
			if ((st = checked(c, def, value, name, &cv)) != RS_OK)
				return st;
			if (!json_is_object(cv)) {
				json_decref(cv);
				return invalid(c, SCIM_INVALID_VALUE, "\"%s\" needs an object",
					       name);
			}
			if (json_array_set_new(arr, i, cv) != 0)
				return oom(c);
			e = cv;
		} else {
			st = merge_into(c, e, def, value);
		}
		if (st != RS_OK)
			return st;
		if (ntouched < sizeof(touched) / sizeof(touched[0]))
			touched[ntouched++] = e;
	}
	if (nmatch == 0) {
		json_t *n;
		if (kind == OP_REPLACE || !eq_only(p->filter))
			return invalid(c, SCIM_NO_TARGET, "no value of \"%s\" matches the filter",
				       name);
		/* Entra ID: add on emails[type eq "work"].value creates the work e-mail. */
		if (!(n = json_object()) || !build_from_eq(p->filter, n)) {
			json_decref(n);
			return oom(c);
		}
		st = p->attr.sub ? set_sub(c, kind, n, sdef, p->attr.sub, value)
				 : merge_into(c, n, def, value);
		if (st == RS_OK && def) {
			/* the filter's own names and values must fit the schema too */
			json_t *cv;
			st = checked(c, def, n, name, &cv);
			json_decref(n);
			n = st == RS_OK ? cv : NULL;
		}
		if (st != RS_OK) {
			json_decref(n);
			return st;
		}
		if (!arr) {
			if ((st = set_key(c, container, def ? def->name : name, json_array())) !=
			    RS_OK) {
				json_decref(n);
				return st;
			}
			arr = scim_json_get(container, def ? def->name : name, NULL);
		}
		if (json_array_append_new(arr, n) != 0)
			return oom(c);
		touched[ntouched++] = n;
	}
	primary_unique(arr, touched, ntouched);
	return RS_OK;
}

/* A multi-valued attribute without filter: add appends, replace sets, remove deletes (all, or
 * the values listed in "value"). */
static enum rs_status apply_multi(struct ctx *c, enum op_kind kind, const struct scim_attr *def,
				  json_t *container, const char *name, const json_t *value)
{
	json_t *arr = scim_json_get(container, name, NULL), *items, *e, *touched[64];
	size_t i, ntouched = 0;
	enum rs_status st;

	if (arr && !json_is_array(arr))
		return invalid(c, SCIM_INVALID_VALUE, "\"%s\" is not multi-valued", name);
	if (kind == OP_REMOVE) {
		if (!value || json_is_null(value)) {
			del_key(container, name);
			return RS_OK;
		}
		/* Entra ID: {"op":"Remove","path":"members","value":[{"value":"id"}]}. */
		if (!(items = json_is_array(value) ? json_incref((json_t *)value)
						   : json_pack("[O]", value)))
			return oom(c);
		for (i = 0; arr && i < json_array_size(arr);) {
			size_t j;
			bool hit = false;
			json_array_foreach(items, j, e)
			{
				const json_t *x = e;
				json_t *w = NULL;
				if (json_is_string(e) && def && def->type == SCIM_T_COMPLEX)
					x = w = json_pack("{sO}", "value", e);
				hit = x && remove_selects(json_array_get(arr, i), x, def);
				json_decref(w);
				if (hit)
					break;
			}
			if (hit)
				(void)json_array_remove(arr, i); /* in range: cannot fail */
			else
				i++;
		}
		json_decref(items);
		if (arr && json_array_size(arr) == 0)
			del_key(container, name);
		return RS_OK;
	}
	if (json_is_null(value)) {
		del_key(container, name);
		return RS_OK;
	}
	if (!(items = json_array()))
		return oom(c);
	if (json_is_array(value)) {
		json_array_foreach(value, i, e)
		{
			json_t *cv;
			if ((st = checked(c, def, e, name, &cv)) != RS_OK) {
				json_decref(items);
				return st;
			}
			if (json_array_append_new(items, cv) != 0) {
				json_decref(items);
				return oom(c);
			}
		}
	} else {
		json_t *cv;
		if ((st = checked(c, def, value, name, &cv)) != RS_OK) {
			json_decref(items);
			return st;
		}
		if (json_array_append_new(items, cv) != 0) {
			json_decref(items);
			return oom(c);
		}
	}
	if (kind == OP_REPLACE || !arr) {
		if ((st = set_key(c, container, def ? def->name : name, json_array())) != RS_OK) {
			json_decref(items);
			return st;
		}
		arr = scim_json_get(container, def ? def->name : name, NULL);
	}
	json_array_foreach(items, i, e)
	{
		size_t j;
		json_t *x;
		bool dup = false;
		json_array_foreach(arr, j, x)
		{
			if (same_value(x, e, def)) {
				dup = true;
				break;
			}
		}
		if (dup)
			continue;
		if (json_array_append(arr, e) != 0) {
			json_decref(items);
			return oom(c);
		}
		if (ntouched < sizeof(touched) / sizeof(touched[0]))
			touched[ntouched++] = e;
	}
	primary_unique(arr, touched, ntouched);
	json_decref(items);
	if (json_array_size(arr) == 0)
		del_key(container, def ? def->name : name);
	return RS_OK;
}

static enum rs_status apply_key(struct ctx *c, enum op_kind kind, const char *key,
				const json_t *value, const char *urn);

/* RFC 7643 section 3: "schemas" names the extensions a resource carries. Only an existing list
 * is extended (a resource without one is the caller's business). */
static enum rs_status list_schema(struct ctx *c, const char *urn)
{
	json_t *schemas = scim_json_get(c->res, "schemas", NULL), *e;
	size_t i;

	if (!json_is_array(schemas))
		return RS_OK;
	json_array_foreach(schemas, i, e)
	{
		if (json_is_string(e) && strcasecmp(json_string_value(e), urn) == 0)
			return RS_OK;
	}
	if (json_array_append_new(schemas, json_string(urn)) != 0)
		return oom(c);
	return RS_OK;
}

static enum rs_status apply_path(struct ctx *c, enum op_kind kind, const struct scim_path *p,
				 const json_t *value, const char *text)
{
	struct scim_resolved r;
	const struct scim_attr *def;
	json_t *container, *cur;
	const char *name;
	enum rs_status st = RS_OK;

	if (!scim_resolve(c->rt, c->res, &p->attr, &r))
		return invalid(c, SCIM_INVALID_PATH, "unknown attribute in path \"%s\"", text);
	if (r.whole_ext) {
		const char *k;
		json_t *m;
		if (kind == OP_REMOVE) {
			del_key(c->res, r.ext_urn);
			return RS_OK;
		}
		if (p->filter || !json_is_object(value))
			return invalid(c, SCIM_INVALID_VALUE, "\"%s\" needs an object", r.ext_urn);
		json_object_foreach((json_t *)value, k, m)
		{
			if ((st = apply_key(c, kind, k, m, r.ext_urn)) != RS_OK)
				return st;
		}
		return RS_OK;
	}
	def = r.def;
	name = def ? def->name : p->attr.name;
	container = r.container;
	if (!container) {
		if (kind == OP_REMOVE)
			return RS_OK;
		/* The extension object is created with the first attribute written into it. */
		if ((st = set_key(c, c->res, r.ext_urn, json_object())) != RS_OK)
			return st;
		container = scim_json_get(c->res, r.ext_urn, NULL);
		if ((st = list_schema(c, r.ext_urn)) != RS_OK)
			return st;
	}
	if (!json_is_object(container))
		return invalid(c, SCIM_INVALID_VALUE, "\"%s\" is not an object", r.ext_urn);
	cur = scim_json_get(container, name, NULL);
	if (!mutable_or_fail(c, def, def && def->mutability == SCIM_M_IMMUTABLE && cur, &st))
		return st;
	if (kind != OP_REMOVE && !value)
		return invalid(c, SCIM_INVALID_VALUE, "operation on \"%s\" needs a value", text);
	if (p->filter)
		return apply_filtered(c, kind, p, &r, container, name, value);
	if (p->attr.sub) {
		if (def && def->type != SCIM_T_COMPLEX)
			return invalid(c, SCIM_INVALID_PATH, "\"%s\" has no sub-attributes", name);
		if (json_is_array(cur)) {
			size_t i;
			json_t *e;
			json_array_foreach(cur, i, e)
			{
				if (json_is_object(e) &&
				    (st = set_sub(c, kind, e, r.sub_def, p->attr.sub, value)) !=
					RS_OK)
					return st;
			}
			return RS_OK;
		}
		if (!cur) {
			if (kind == OP_REMOVE || json_is_null(value))
				return RS_OK;
			if ((st = set_key(c, container, name,
					  def && def->multi_valued ? json_pack("[{}]")
								   : json_object())) != RS_OK)
				return st;
			cur = scim_json_get(container, name, NULL);
			if (json_is_array(cur))
				return set_sub(c, kind, json_array_get(cur, 0), r.sub_def,
					       p->attr.sub, value);
		}
		if (!json_is_object(cur))
			return invalid(c, SCIM_INVALID_PATH, "\"%s\" has no sub-attributes", name);
		if ((st = set_sub(c, kind, cur, r.sub_def, p->attr.sub, value)) != RS_OK)
			return st;
		if (json_object_size(cur) == 0) /* RFC 7643 section 2.5: empty is unassigned */
			del_key(container, name);
		return RS_OK;
	}
	if ((def && def->multi_valued) || (!def && (json_is_array(cur) || json_is_array(value))))
		return apply_multi(c, kind, def, container, name, value);
	if (kind == OP_REMOVE || json_is_null(value)) {
		del_key(container, name);
		return RS_OK;
	}
	if ((def && def->type == SCIM_T_COMPLEX) || (!def && json_is_object(value))) {
		/* RFC 7644 sections 3.5.2.1 and 3.5.2.3: sub-attributes not given are left
		 * unchanged. */
		json_t *cv;
		if ((st = checked(c, def, value, name, &cv)) != RS_OK)
			return st;
		if (!json_is_object(cur)) {
			if ((st = set_key(c, container, name, json_object())) != RS_OK) {
				json_decref(cv);
				return st;
			}
			cur = scim_json_get(container, name, NULL);
		}
		st = merge_into(c, cur, NULL, cv);
		json_decref(cv);
		return st;
	}
	{
		json_t *cv;
		if ((st = checked(c, def, value, name, &cv)) != RS_OK)
			return st;
		return set_key(c, container, name, cv);
	}
}

static enum rs_status apply_text_path(struct ctx *c, enum op_kind kind, const char *text,
				      const json_t *value, const char *urn)
{
	struct scim_path p;
	enum rs_status st;

	if ((st = scim_path_parse(c->a, text, strlen(text), &p, c->err)) != RS_OK)
		return st;
	if (urn && !p.attr.urn) {
		p.attr.urn = urn;
		p.attr.urn_lc = urn; /* compared case-insensitively */
	}
	return apply_path(c, kind, &p, value, text);
}

/* One member of a path-less "value": an extension object, or a path of its own. */
static enum rs_status apply_key(struct ctx *c, enum op_kind kind, const char *key,
				const json_t *value, const char *urn)
{
	bool ext = false;

	if (!urn) {
		if (c->rt)
			ext = scim_ext_find(c->rt, key) != NULL;
		else /* without a schema a URN key holding an object is taken as an extension */
			ext = strncasecmp(key, "urn:", 4) == 0 && json_is_object(value);
	}
	if (ext) {
		const char *k;
		json_t *m;
		enum rs_status st;
		const struct scim_schema *s = c->rt ? scim_ext_find(c->rt, key) : NULL;
		if (!json_is_object(value))
			return invalid(c, SCIM_INVALID_VALUE, "\"%s\" needs an object", key);
		json_object_foreach((json_t *)value, k, m)
		{
			if ((st = apply_key(c, kind, k, m, s ? s->urn : key)) != RS_OK)
				return st;
		}
		return RS_OK;
	}
	return apply_text_path(c, kind, key, value, urn);
}

/* Whether a path-less value's key k is a readOnly core attribute given its current value:
 * Okta renames a group with {"op":"replace","value":{"id":<its id>,"displayName":...}}.
 * Restating a value changes nothing, so it is skipped; any other value stays a mutability
 * error. */
static bool restates_read_only(const struct ctx *c, const char *k, const json_t *v)
{
	const struct scim_attr *def =
	    c->rt ? scim_attr_find(c->rt->core->attrs, c->rt->core->nattrs, k) : NULL;
	const json_t *cur = scim_json_get(c->res, k, NULL);

	return def && def->mutability == SCIM_M_READ_ONLY && cur &&
	       json_equal((json_t *)cur, (json_t *)v);
}

static enum rs_status apply_op(struct ctx *c, const json_t *op)
{
	const json_t *jop = scim_json_get(op, "op", NULL), *jpath = scim_json_get(op, "path", NULL),
		     *value = scim_json_get(op, "value", NULL);
	const char *name;
	enum op_kind kind;

	if (!json_is_object(op) || !json_is_string(jop))
		return invalid(c, SCIM_INVALID_SYNTAX, "an operation needs an \"op\"%s", "");
	name = json_string_value(jop);
	/* RFC 7644 spells them in lower case; Entra ID sends "Replace", "Add", "Remove". */
	if (strcasecmp(name, "add") == 0)
		kind = OP_ADD;
	else if (strcasecmp(name, "replace") == 0)
		kind = OP_REPLACE;
	else if (strcasecmp(name, "remove") == 0)
		kind = OP_REMOVE;
	else
		return invalid(c, SCIM_INVALID_SYNTAX, "unknown op \"%.64s\"", name);
	if (jpath && !json_is_null(jpath)) {
		if (!json_is_string(jpath))
			return invalid(c, SCIM_INVALID_PATH, "\"path\" must be a string%s", "");
		if (strlen(json_string_value(jpath)) != json_string_length(jpath))
			return invalid(c, SCIM_INVALID_PATH, "NUL byte in \"path\"%s", "");
		if (kind != OP_REMOVE && !value)
			return invalid(c, SCIM_INVALID_VALUE, "\"%s\" needs a \"value\"", name);
		return apply_text_path(c, kind, json_string_value(jpath), value, NULL);
	}
	if (kind == OP_REMOVE) /* RFC 7644 section 3.5.2.2 */
		return invalid(c, SCIM_NO_TARGET, "\"remove\" needs a \"path\"%s", "");
	if (!json_is_object(value))
		return invalid(c, SCIM_INVALID_VALUE,
			       "without \"path\", \"value\" must be an object of attributes%s", "");
	{
		const char *k;
		json_t *m;
		enum rs_status st;
		json_object_foreach((json_t *)value, k, m)
		{
			if (restates_read_only(c, k, m))
				continue;
			if ((st = apply_key(c, kind, k, m, NULL)) != RS_OK)
				return st;
		}
	}
	return RS_OK;
}

enum rs_status scim_patch_apply(const json_t *resource, const json_t *ops,
				const struct scim_resource_type *rt, struct arena *a, json_t **out,
				struct scim_err *err)
{
	struct scim_err local;
	struct ctx c = {a, rt, NULL, err ? err : &local};
	json_t *op;
	size_t i;
	enum rs_status st;

	if (!json_is_object(resource))
		return scim_fail(err, RS_E_INVALID, SCIM_INVALID_VALUE, 0,
				 "the resource is not an object");
	if (!json_is_array(ops) || json_array_size(ops) == 0)
		return scim_fail(err, RS_E_INVALID, SCIM_INVALID_SYNTAX, 0,
				 "\"Operations\" must be a non-empty array");
	if (json_array_size(ops) > RS_SCIM_PATCH_OPS_MAX)
		return scim_fail(err, RS_E_INVALID, SCIM_INVALID_SYNTAX, 0,
				 "more than %d operations", RS_SCIM_PATCH_OPS_MAX);
	if (!(c.res = json_deep_copy(resource)))
		return scim_fail(err, RS_E_INTERNAL, SCIM_INVALID_VALUE, 0, "out of memory");
	json_array_foreach(ops, i, op)
	{
		if ((st = apply_op(&c, op)) != RS_OK) {
			c.err->op = (int)i;
			json_decref(c.res);
			return st;
		}
	}
	*out = c.res;
	return RS_OK;
}
