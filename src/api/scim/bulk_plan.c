/* Reading a SCIM BulkRequest (RFC 7644 section 3.7) into a plan: each operation checked on
 * its own, bulkId references found, the operations ordered so that a POST runs before the
 * operations that reference its bulkId (the service provider may reorder, section 3.7.2), and
 * circular references (section 3.7.1) failed instead of looped on. Runs nothing: bulk.c does.
 * docs/scim.md, "/Bulk", has the rules. */
#include "api/scim/bulk_plan.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/scim/scim_int.h"
#include "util/limits.h"

static const struct {
	const char *name;
	enum bulk_method m;
} methods[] = {
    {"POST", BULK_POST},
    {"PUT", BULK_PUT},
    {"PATCH", BULK_PATCH},
    {"DELETE", BULK_DELETE},
};

static bool op_fail(struct arena *a, struct bulk_op *op, const char *type, const char *detail)
{
	op->fail_status = 400;
	op->fail_type = type;
	op->fail_detail = arena_strdup(a, detail);
	return false;
}

/* "/Users", "/Groups", "/Users/{id}", "/Groups/{id}" (one segment, not empty). */
static bool read_path(struct arena *a, struct bulk_op *op, const char *path)
{
	static const struct {
		const char *prefix;
		enum bulk_type type;
	} types[] = {{"/Users", BULK_USERS}, {"/Groups", BULK_GROUPS}};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t n = strlen(types[i].prefix);

		if (strncmp(path, types[i].prefix, n) != 0)
			continue;
		op->type = types[i].type;
		if (path[n] == '\0') {
			op->id = NULL;
			return true;
		}
		if (path[n] == '/' && path[n + 1] && !strchr(path + n + 1, '/') &&
		    !strchr(path + n + 1, '?')) {
			op->id = arena_strdup(a, path + n + 1);
			return op->id != NULL;
		}
	}
	return op_fail(a, op, SCIM_INVALID_VALUE,
		       "\"path\" must be /Users or /Groups (POST), or /Users/{id} or "
		       "/Groups/{id} (PUT, PATCH, DELETE)");
}

/* Checks one operation; false (with op's fail_* set) when it cannot run. */
static bool read_op(struct arena *a, const json_t *o, struct bulk_op *op)
{
	json_t *method = scim_get(o, "method"), *path = scim_get(o, "path");
	json_t *bulk_id = scim_get(o, "bulkId"), *version = scim_get(o, "version");
	json_t *data = scim_get(o, "data");

	if (!json_is_object(o))
		return op_fail(a, op, SCIM_INVALID_SYNTAX, "an operation must be a JSON object");
	if (json_is_string(bulk_id) && *json_string_value(bulk_id))
		op->bulk_id = json_string_value(bulk_id);
	if (json_is_string(method)) {
		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
			if (strcasecmp(json_string_value(method), methods[i].name) == 0) {
				op->method = methods[i].name;
				op->m = methods[i].m;
			}
		}
	}
	if (json_is_string(path))
		op->path = json_string_value(path);
	if (!method)
		return op_fail(a, op, SCIM_INVALID_VALUE, "\"method\" is required");
	if (!op->method)
		return op_fail(a, op, SCIM_INVALID_VALUE,
			       "\"method\" must be POST, PUT, PATCH or DELETE");
	if (bulk_id && !op->bulk_id)
		return op_fail(a, op, SCIM_INVALID_SYNTAX, "\"bulkId\" must be a non-empty string");
	if (op->m == BULK_POST && !op->bulk_id)
		return op_fail(a, op, SCIM_INVALID_VALUE,
			       "\"bulkId\" is required when \"method\" is POST");
	if (version && !json_is_null(version)) {
		if (!json_is_string(version))
			return op_fail(a, op, SCIM_INVALID_SYNTAX, "\"version\" must be a string");
		op->version = json_string_value(version);
	}
	if (!path)
		return op_fail(a, op, SCIM_INVALID_VALUE, "\"path\" is required");
	if (!op->path)
		return op_fail(a, op, SCIM_INVALID_SYNTAX, "\"path\" must be a string");
	if (!read_path(a, op, op->path))
		return false;
	if ((op->m == BULK_POST) != (op->id == NULL))
		return op_fail(a, op, SCIM_INVALID_VALUE,
			       op->m == BULK_POST
				   ? "POST goes to a collection: \"path\" is /Users or /Groups"
				   : "PUT, PATCH and DELETE go to a resource: \"path\" is "
				     "/Users/{id} or /Groups/{id}");
	if (op->m == BULK_DELETE)
		return true;
	if (!data || json_is_null(data))
		return op_fail(a, op, SCIM_INVALID_VALUE,
			       "\"data\" is required when \"method\" is POST, PUT or PATCH");
	if (!json_is_object(data))
		return op_fail(a, op, SCIM_INVALID_SYNTAX, "\"data\" must be a JSON object");
	op->data = data;
	return true;
}

/* ---- bulkId references ----------------------------------------------------------------- */

/* The length of s cut to at most max bytes without splitting a UTF-8 sequence: err's detail
 * is a fixed buffer, and a detail that is not UTF-8 could not be put in a JSON error. */
static int utf8_prefix(const char *s, int max)
{
	int n = (int)strnlen(s, (size_t)max + 1);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

static int cmp_ref(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

int bulk_plan_find(const struct bulk_plan *p, const char *bulk_id)
{
	const char **hit;

	if (!bulk_id || p->nrefs == 0)
		return -1;
	hit = bsearch(&bulk_id, p->ref_ids, (size_t)p->nrefs, sizeof(*p->ref_ids), cmp_ref);
	return hit ? p->ref_ops[hit - p->ref_ids] : -1;
}

/* The bulkId a string value references, or NULL when it is no reference. */
static const char *ref_of(const char *s)
{
	return s && strncmp(s, SCIM_BULK_REF, strlen(SCIM_BULK_REF)) == 0
		   ? s + strlen(SCIM_BULK_REF)
		   : NULL;
}

struct dep_walk {
	const struct bulk_plan *p;
	struct bulk_op *op;
	int *seen; /* seen[j] == op->index + 1: j is already among op's deps */
	const char *unknown;
};

static void add_ref(struct dep_walk *w, const char *ref)
{
	int j = bulk_plan_find(w->p, ref);

	if (j < 0) {
		if (!w->unknown)
			w->unknown = ref;
		return;
	}
	if (w->seen[j] == w->op->index + 1)
		return;
	w->seen[j] = w->op->index + 1;
	w->op->deps[w->op->ndeps++] = j;
}

/* Every reference in v, to depth RS_SCIM_JSON_DEPTH_MAX (deeper data fails the operation
 * before this is called, so resolution and planning see the same references). */
static void walk_refs(struct dep_walk *w, const json_t *v, int depth)
{
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_string(v)) {
		const char *ref = ref_of(json_string_value(v));

		if (ref)
			add_ref(w, ref);
	} else if (json_is_object(v) && depth < RS_SCIM_JSON_DEPTH_MAX) {
		json_object_foreach((json_t *)v, k, e) walk_refs(w, e, depth + 1);
	} else if (json_is_array(v) && depth < RS_SCIM_JSON_DEPTH_MAX) {
		json_array_foreach(v, i, e) walk_refs(w, e, depth + 1);
	}
}

static int depth_of(const json_t *v, int depth)
{
	int max = depth;
	const char *k;
	json_t *e;
	size_t i;

	if (depth > RS_SCIM_JSON_DEPTH_MAX)
		return depth;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e)
		{
			int d = depth_of(e, depth + 1);

			max = d > max ? d : max;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
		{
			int d = depth_of(e, depth + 1);

			max = d > max ? d : max;
		}
	}
	return max;
}

static size_t count_strings(const json_t *v)
{
	const char *k;
	json_t *e;
	size_t i, n = 0;

	if (json_is_string(v))
		return 1;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e) n += count_strings(e);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) n += count_strings(e);
	}
	return n;
}

/* Fills op->deps; an unknown bulkId fails the operation (409, as an unresolvable reference
 * found later would). */
static bool find_deps(struct arena *a, const struct bulk_plan *p, struct bulk_op *op, int *seen)
{
	struct dep_walk w = {.p = p, .op = op, .seen = seen};
	size_t cap = (op->data ? count_strings(op->data) : 0) + 1;

	if (op->data && depth_of(op->data, 1) > RS_SCIM_JSON_DEPTH_MAX)
		return op_fail(a, op, SCIM_INVALID_VALUE,
			       "\"data\" is nested deeper than the limit");
	if (cap > (size_t)p->nops)
		cap = (size_t)p->nops;
	op->deps = arena_alloc(a, cap * sizeof(*op->deps));
	if (!op->deps)
		return op_fail(a, op, SCIM_INVALID_VALUE, "out of memory");
	if (op->id && ref_of(op->id))
		add_ref(&w, ref_of(op->id));
	if (op->data)
		walk_refs(&w, op->data, 1);
	if (w.unknown) {
		op->ndeps = 0;
		op->fail_status = 409;
		op->fail_type = SCIM_INVALID_VALUE;
		op->fail_detail = arena_printf(
		    a, "bulkId '%s' is not the bulkId of a POST in this request", w.unknown);
		return false;
	}
	return true;
}

/* Kahn's algorithm, the lowest ready index first so that a request without references runs
 * in its own order. What is left over is on a cycle or waits for one. */
static enum rs_status order_ops(struct arena *a, struct bulk_plan *p, struct scim_err *err)
{
	int n = p->nops, placed = 0, next = 0;
	int *waiting = arena_alloc(a, (size_t)n * sizeof(int) + 1);
	int *nusers = arena_alloc(a, ((size_t)n + 1) * sizeof(int));
	int *users, *at;
	bool *done = arena_alloc(a, (size_t)n + 1);
	int total = 0;

	p->order = arena_alloc(a, (size_t)n * sizeof(int) + 1);
	if (!waiting || !nusers || !done || !p->order)
		return scim_fail(err, RS_E_INTERNAL, NULL, 0, "out of memory");
	/* users of j (the operations referencing j), as one array sliced by nusers. */
	for (int i = 0; i < n; i++) {
		waiting[i] = p->ops[i].ndeps;
		total += p->ops[i].ndeps;
		for (int d = 0; d < p->ops[i].ndeps; d++)
			nusers[p->ops[i].deps[d] + 1]++;
	}
	for (int j = 0; j < n; j++)
		nusers[j + 1] += nusers[j];
	users = arena_alloc(a, (size_t)total * sizeof(int) + 1);
	at = arena_alloc(a, (size_t)n * sizeof(int) + 1);
	if (!users || !at)
		return scim_fail(err, RS_E_INTERNAL, NULL, 0, "out of memory");
	memcpy(at, nusers, (size_t)n * sizeof(int));
	for (int i = 0; i < n; i++)
		for (int d = 0; d < p->ops[i].ndeps; d++)
			users[at[p->ops[i].deps[d]]++] = i;
	while (placed < n) {
		int i;

		/* The lowest ready index: at or after next, or lower when placing an operation
		 * made an earlier one ready (then next was moved back). */
		for (i = next; i < n && (done[i] || waiting[i] > 0); i++)
			;
		if (i == n)
			break;
		done[i] = true;
		p->order[placed++] = i;
		next = i + 1;
		for (int u = nusers[i]; u < nusers[i + 1]; u++) {
			int k = users[u];

			if (--waiting[k] == 0 && k < next)
				next = k;
		}
	}
	for (int i = 0; i < n && placed < n; i++) {
		if (done[i])
			continue;
		p->ops[i].fail_status = 409;
		p->ops[i].ndeps = 0;
		p->ops[i].fail_type = SCIM_INVALID_VALUE;
		p->ops[i].fail_detail =
		    "its bulkId references are circular (RFC 7644 section 3.7.1): it is on, or "
		    "waits for, a cycle of operations that each need another's bulkId first";
		p->order[placed++] = i;
	}
	return RS_OK;
}

enum rs_status bulk_plan_read(struct arena *a, const json_t *req, int max_ops,
			      struct bulk_plan *out, struct scim_err *err)
{
	json_t *schemas = scim_get(req, "schemas"), *ops = scim_get(req, "Operations");
	json_t *foe = scim_get(req, "failOnErrors"), *e;
	bool is_bulk = false;
	const char **all;
	int *seen, nall = 0;
	size_t i;
	int n;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(req))
		return scim_fail(err, RS_E_INVALID, SCIM_INVALID_SYNTAX, 0,
				 "the body must be a BulkRequest object");
	json_array_foreach(schemas, i, e)
	{
		if (json_is_string(e) && strcmp(json_string_value(e), SCIM_URN_BULK_REQUEST) == 0)
			is_bulk = true;
	}
	if (!is_bulk)
		return scim_fail(err, RS_E_INVALID, SCIM_INVALID_SYNTAX, 0,
				 "\"schemas\" must list " SCIM_URN_BULK_REQUEST);
	if (!json_is_array(ops))
		return scim_fail(err, RS_E_INVALID, SCIM_INVALID_SYNTAX, 0,
				 "\"Operations\" must be an array of operations");
	if (json_array_size(ops) > (size_t)max_ops)
		return scim_fail(err, RS_E_TOO_LARGE, NULL, 0,
				 "the request has %zu operations; maxOperations is %d",
				 json_array_size(ops), max_ops);
	if (foe && !json_is_null(foe)) {
		if (!json_is_integer(foe) || json_integer_value(foe) < 1)
			return scim_fail(err, RS_E_INVALID, SCIM_INVALID_VALUE, 0,
					 "\"failOnErrors\" must be a positive integer");
		out->fail_on_errors =
		    json_integer_value(foe) > max_ops ? max_ops : (int)json_integer_value(foe);
	}
	n = (int)json_array_size(ops);
	out->nops = n;
	out->ops = arena_alloc(a, (size_t)n * sizeof(*out->ops) + 1);
	out->ref_ids = arena_alloc(a, (size_t)n * sizeof(*out->ref_ids) + 1);
	out->ref_ops = arena_alloc(a, (size_t)n * sizeof(*out->ref_ops) + 1);
	seen = arena_alloc(a, (size_t)n * sizeof(*seen) + 1);
	all = arena_alloc(a, (size_t)n * sizeof(*all) + 1);
	if (!out->ops || !out->ref_ids || !out->ref_ops || !seen || !all)
		return scim_fail(err, RS_E_INTERNAL, NULL, 0, "out of memory");
	json_array_foreach(ops, i, e)
	{
		struct bulk_op *op = &out->ops[i];

		op->index = (int)i;
		(void)read_op(a, e, op); /* a malformed operation fails alone, in the plan */
		if (op->bulk_id)
			all[nall++] = op->bulk_id;
		/* A malformed POST still owns its bulkId: references to it then fail as
		 * references to a failed POST, not as unknown ones. */
		if (op->method && op->m == BULK_POST && op->bulk_id) {
			out->ref_ids[out->nrefs] = op->bulk_id;
			out->ref_ops[out->nrefs++] = (int)i;
		}
	}
	/* bulkIds are unique in a request (section 3.7), whatever the method. */
	qsort(all, (size_t)nall, sizeof(*all), cmp_ref);
	for (int k = 1; k < nall; k++) {
		if (strcmp(all[k], all[k - 1]) == 0)
			return scim_fail(err, RS_E_INVALID, SCIM_INVALID_VALUE, 0,
					 "bulkId '%.*s' is used by more than one operation",
					 utf8_prefix(all[k], 128), all[k]);
	}
	/* The POSTs' bulkIds sorted, for bulk_plan_find(). */
	{
		struct ref {
			const char *id;
			int op;
		} *r = arena_alloc(a, (size_t)out->nrefs * sizeof(*r) + 1);

		if (!r)
			return scim_fail(err, RS_E_INTERNAL, NULL, 0, "out of memory");
		for (int k = 0; k < out->nrefs; k++)
			r[k] = (struct ref){out->ref_ids[k], out->ref_ops[k]};
		qsort(r, (size_t)out->nrefs, sizeof(*r), cmp_ref);
		for (int k = 0; k < out->nrefs; k++) {
			out->ref_ids[k] = r[k].id;
			out->ref_ops[k] = r[k].op;
		}
	}
	for (int k = 0; k < n; k++) {
		if (out->ops[k].fail_status == 0)
			(void)find_deps(a, out, &out->ops[k], seen); /* failure is in the op */
	}
	return order_ops(a, out, err);
}

/* ---- Resolution ---------------------------------------------------------------------------- */

struct resolve {
	const struct bulk_plan *p;
	const char *const *ids;
	const char *missing;
};

static const char *resolved(struct resolve *r, const char *ref)
{
	int j = bulk_plan_find(r->p, ref);
	const char *id = j >= 0 ? r->ids[j] : NULL;

	if (!id && !r->missing)
		r->missing = ref;
	return id;
}

static void replace_refs(struct resolve *r, json_t *v, int depth);

/* Member e of an object or array: a reference is replaced in place, anything else walked. */
static void replace_member(struct resolve *r, json_t *e, int depth)
{
	const char *ref = json_is_string(e) ? ref_of(json_string_value(e)) : NULL;
	const char *id = ref ? resolved(r, ref) : NULL;

	if (id)
		json_string_set(e, id);
	else if (!ref)
		replace_refs(r, e, depth + 1);
}

static void replace_refs(struct resolve *r, json_t *v, int depth)
{
	const char *k;
	json_t *e;
	size_t i;

	if (depth >= RS_SCIM_JSON_DEPTH_MAX)
		return;
	if (json_is_object(v)) {
		json_object_foreach(v, k, e) replace_member(r, e, depth);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) replace_member(r, e, depth);
	}
}

bool bulk_resolve(const struct bulk_plan *p, const char *const *ids, json_t *data, const char **id,
		  const char **missing)
{
	struct resolve r = {.p = p, .ids = ids};

	*missing = NULL;
	if (id && *id && ref_of(*id)) {
		const char *to = resolved(&r, ref_of(*id));

		if (to)
			*id = to;
	}
	if (data)
		replace_refs(&r, data, 1);
	*missing = r.missing;
	return r.missing == NULL;
}
