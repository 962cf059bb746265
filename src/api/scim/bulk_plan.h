/* The pure half of /scim/v2/Bulk (RFC 7644 section 3.7): a BulkRequest read and checked, its
 * operations put in an order where every bulkId is created before it is referenced, and the
 * references of one operation replaced by the ids created so far. No core calls and no HTTP,
 * so fuzz/fuzz_scim_bulk.c can drive it without a server; api/scim/bulk.c runs the plan. */
#ifndef ROSTER_API_SCIM_BULK_PLAN_H
#define ROSTER_API_SCIM_BULK_PLAN_H

#include <jansson.h>
#include <stdbool.h>

#include "scim/scim.h"
#include "util/arena.h"
#include "util/err.h"

#define SCIM_URN_BULK_REQUEST "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
#define SCIM_URN_BULK_RESPONSE "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
/* The prefix of a reference to a resource created earlier in the same request. */
#define SCIM_BULK_REF "bulkId:"

enum bulk_method { BULK_POST, BULK_PUT, BULK_PATCH, BULK_DELETE };
enum bulk_type { BULK_USERS, BULK_GROUPS };

struct bulk_op {
	int index;	     /* position in the request's Operations */
	const char *method;  /* "POST", "PUT", "PATCH" or "DELETE"; NULL when unreadable */
	enum bulk_method m;  /* valid when method is set */
	enum bulk_type type; /* valid when fail_status is 0 */
	const char *bulk_id; /* NULL when absent */
	const char *path;    /* as sent; NULL when absent */
	const char *id; /* the {id} of a resource path ("bulkId:x" possible); NULL: collection */
	const char *version; /* the If-Match of the operation; NULL when absent */
	const json_t *data;  /* borrowed from the request; NULL for DELETE */
	int *deps;	     /* the operations whose bulkIds this one references, each once */
	int ndeps;
	/* Set when the operation fails without being run (then it has no deps): */
	int fail_status;	 /* 0: runnable; 400 malformed; 409 circular reference */
	const char *fail_type;	 /* scimType, static storage */
	const char *fail_detail; /* in the arena */
};

struct bulk_plan {
	struct bulk_op *ops;
	int nops;
	int *order;	    /* indexes into ops: the order to run (and report) them in */
	int fail_on_errors; /* stop once this many operations failed; 0: never */
	/* POST operations by bulkId, sorted by bulkId, for bulk_plan_find(). */
	const char **ref_ids;
	int *ref_ops;
	int nrefs;
};

/* Reads BulkRequest req into out (allocations in a; out borrows from req, which must outlive
 * it). A request that cannot be run at all fails: RS_E_TOO_LARGE for more than max_ops
 * operations (413), RS_E_INVALID with err's scimType and detail for the rest (400: not a
 * BulkRequest, Operations not an array, failOnErrors not a positive integer, a bulkId used
 * twice). A single malformed operation does not fail the request: it gets fail_status 400,
 * and operations whose references are circular (section 3.7.1) get 409, in the plan. */
enum rs_status bulk_plan_read(struct arena *a, const json_t *req, int max_ops,
			      struct bulk_plan *out, struct scim_err *err);

/* The POST operation whose bulkId is bulk_id, or -1. */
int bulk_plan_find(const struct bulk_plan *p, const char *bulk_id);

/* Replaces every "bulkId:x" string of data (a copy the caller owns; NULL is fine) and *id (may
 * point to NULL) by ids[op of x], the id that operation created (ids has p->nops entries; NULL
 * while that operation has not created anything). false when a reference cannot be resolved:
 * *missing is then its bulkId and data may be partly replaced. The new strings are ids'. */
bool bulk_resolve(const struct bulk_plan *p, const char *const *ids, json_t *data, const char **id,
		  const char **missing);

#endif
