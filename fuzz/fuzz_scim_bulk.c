/* libFuzzer target: the reading and ordering of a SCIM BulkRequest and the resolution of its
 * bulkId references (src/api/scim/bulk_plan.c), without a server. The input is one JSON body.
 * A refused request must say why; an accepted one must give a plan whose order is a
 * permutation of the operations in which every runnable operation comes after the operations
 * it references, whose failed operations say why, and in which running the operations in that
 * order (every runnable POST creating "id-<n>") resolves exactly the references whose POST is
 * runnable and leaves no "bulkId:" string behind. Every refusal's detail must be UTF-8. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/scim/bulk_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 64

static bool has_ref(const json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_string(v))
		return strncmp(json_string_value(v), SCIM_BULK_REF, strlen(SCIM_BULK_REF)) == 0;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e)
		{
			if (has_ref(e))
				return true;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
		{
			if (has_ref(e))
				return true;
		}
	}
	return false;
}

/* A detail goes into a JSON error body: it must be UTF-8. */
static bool utf8(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

static void check_plan(struct arena *a, const struct bulk_plan *p)
{
	bool *placed = arena_alloc(a, (size_t)p->nops + 1);
	const char **ids = arena_alloc(a, ((size_t)p->nops + 1) * sizeof(*ids));

	if (!placed || !ids)
		abort();
	if (p->nops > MAX_OPS || p->fail_on_errors < 0 || p->fail_on_errors > MAX_OPS)
		abort();
	for (int k = 0; k < p->nops; k++) {
		int i = p->order[k];
		const struct bulk_op *op;
		const char *id, *missing = NULL;
		bool deps_ok = true, ok;
		json_t *copy;

		if (i < 0 || i >= p->nops || placed[i])
			abort();
		placed[i] = true;
		op = &p->ops[i];
		if (op->index != i)
			abort();
		if (op->fail_status) {
			if ((op->fail_status != 400 && op->fail_status != 409) || !op->fail_type ||
			    !op->fail_detail || !*op->fail_detail || op->ndeps != 0 ||
			    !utf8(op->fail_detail))
				abort();
			continue;
		}
		/* Runnable: a known method and type, POST exactly when there is no id, a
		 * POST's bulkId found again, data unless DELETE. */
		if (!op->method || !op->path || (op->m == BULK_POST) != (op->id == NULL) ||
		    (op->m == BULK_POST && bulk_plan_find(p, op->bulk_id) != i) ||
		    (op->m != BULK_DELETE && !json_is_object(op->data)))
			abort();
		for (int d = 0; d < op->ndeps; d++) {
			int j = op->deps[d];

			if (j < 0 || j >= p->nops || !placed[j] || p->ops[j].m != BULK_POST ||
			    !p->ops[j].method)
				abort();
			for (int e = 0; e < d; e++)
				if (op->deps[e] == j)
					abort();
			if (p->ops[j].fail_status)
				deps_ok = false;
		}
		copy = op->data ? json_deep_copy(op->data) : NULL;
		if (op->data && !copy)
			continue; /* out of memory: nothing to check */
		id = op->id;
		ok = bulk_resolve(p, ids, copy, &id, &missing);
		if (ok != deps_ok || (!ok && !missing))
			abort();
		if (ok && ((copy && has_ref(copy)) ||
			   (id && strncmp(id, SCIM_BULK_REF, strlen(SCIM_BULK_REF)) == 0)))
			abort();
		json_decref(copy);
		if (op->m == BULK_POST)
			ids[i] = arena_printf(a, "id-%d", i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bulk_plan p;
	struct scim_err err = {0};
	struct arena a;
	enum rs_status st;
	json_t *req = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);

	if (!req)
		return 0;
	arena_init(&a, 16 * 1024 * 1024);
	st = bulk_plan_read(&a, req, MAX_OPS, &p, &err);
	if (st == RS_OK)
		check_plan(&a, &p);
	else if ((st != RS_E_INVALID && st != RS_E_TOO_LARGE && st != RS_E_INTERNAL) ||
		 !err.detail[0] || !utf8(err.detail) || (st == RS_E_INVALID && !err.scim_type))
		abort();
	arena_release(&a);
	json_decref(req);
	return 0;
}
