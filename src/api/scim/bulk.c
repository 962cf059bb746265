/* /scim/v2/Bulk (RFC 7644 section 3.7): runs a BulkRequest's operations, in bulk_plan.c's
 * order, through the very handlers a single POST, PUT, PATCH or DELETE of /Users or /Groups
 * reaches (an in-process request: same authentication, same core calls, same audit, same
 * errors), and gathers their answers into a BulkResponse. Not a transaction: each operation
 * commits or fails on its own, as the RFC has it. docs/scim.md, "/Bulk", has the rules. */
#include "api/scim/bulk_plan.h"
#include "api/scim/scim_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/limits.h"

/* What one operation answered; strings in the bulk request's arena. */
struct op_result {
	int status;
	const char *location; /* NULL: none */
	const char *version;  /* the ETag; NULL: none */
	const char *id;	      /* a POST's new resource id; NULL otherwise */
	json_t *error;	      /* the SCIM error body when status >= 400 (new reference) */
};

static const char *resp_header(const struct http_resp *r, const char *name)
{
	for (int i = 0; i < r->nheaders; i++) {
		if (strcasecmp(r->hnames[i], name) == 0)
			return r->hvalues[i];
	}
	return NULL;
}

static void result_error(struct arena *a, struct op_result *res, int status, const char *type,
			 const char *detail)
{
	res->status = status;
	res->error = scim_error_json(a, status, type, detail);
}

/* Runs op (references already resolved: id, data) as the single request it stands for. The
 * request gets an arena of its own, released here, so that a thousand operations do not pile
 * their renderings up in the bulk request's arena. */
static void run_op(struct http_req *outer, struct core *c, const struct bulk_op *op, const char *id,
		   const json_t *data, struct op_result *res)
{
	http_handler_fn fn = op->type == BULK_USERS ? scim_users_handler(op->method)
						    : scim_groups_handler(op->method);
	const char *kind = op->type == BULK_USERS ? "Users" : "Groups";
	struct http_param hdrs[3];
	struct http_req sub = {0};
	struct http_resp resp = {0};
	struct arena a;
	char *body = NULL;
	int nh = 0;

	if (!fn) {
		result_error(outer->arena, res, 500, NULL, "no handler for the operation");
		return;
	}
	arena_init(&a, 0);
	hdrs[nh++] = (struct http_param){"Content-Type", SCIM_CT};
	if (http_header(outer, "Authorization"))
		hdrs[nh++] =
		    (struct http_param){"Authorization", http_header(outer, "Authorization")};
	if (op->version && op->m != BULK_POST)
		hdrs[nh++] = (struct http_param){"If-Match", op->version};
	sub.arena = &a;
	sub.method = op->method;
	sub.path = id ? arena_printf(&a, SCIM_BASE "/%s/%s", kind, id)
		      : arena_printf(&a, SCIM_BASE "/%s", kind);
	sub.target = sub.path;
	sub.route = id ? arena_printf(&a, SCIM_BASE "/%s/{id}", kind)
		       : arena_printf(&a, SCIM_BASE "/%s", kind);
	if (id) {
		sub.params[0] = (struct http_param){"id", id};
		sub.nparams = 1;
	}
	if (data) {
		body = json_dumps(data, JSON_COMPACT);
		if (!body) {
			arena_release(&a);
			result_error(outer->arena, res, 500, NULL, "out of memory");
			return;
		}
		sub.body = body;
		sub.body_len = strlen(body);
	}
	sub.request_id = outer->request_id;
	sub.source_ip = outer->source_ip;
	sub.tls = outer->tls;
	sub.headers = hdrs;
	sub.nheaders = nh;

	fn(&sub, &resp, c);

	res->status = resp.status;
	if (resp_header(&resp, "ETag"))
		res->version = arena_strdup(outer->arena, resp_header(&resp, "ETag"));
	if (resp_header(&resp, "Location"))
		res->location = arena_strdup(outer->arena, resp_header(&resp, "Location"));
	else if (id)
		res->location = arena_strdup(outer->arena, sub.path);
	if (resp.status >= 400 || (op->m == BULK_POST && resp.status == 201)) {
		json_t *j = resp.body ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;

		if (resp.status >= 400) {
			res->error = j ? j
				       : scim_error_json(outer->arena, resp.status, NULL,
							 "the operation failed");
			j = NULL;
		} else if (json_is_string(json_object_get(j, "id"))) {
			res->id =
			    arena_strdup(outer->arena, json_string_value(json_object_get(j, "id")));
		}
		json_decref(j);
	}
	if (resp.status < 100 || resp.status > 599 ||
	    (op->m == BULK_POST && resp.status == 201 && !res->id)) {
		/* A handler that answered nothing usable is a bug, never a success. */
		json_decref(res->error);
		res->error = NULL;
		res->id = NULL;
		result_error(outer->arena, res, 500, NULL, "the operation produced no answer");
	}
	free(body);
	arena_release(&a);
}

static json_t *result_json(struct arena *a, const struct bulk_op *op, struct op_result *res)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (op->method)
		json_object_set_new(o, "method", json_string(op->method));
	if (op->bulk_id)
		json_object_set_new(o, "bulkId", json_string(op->bulk_id));
	if (res->version)
		json_object_set_new(o, "version", json_string(res->version));
	if (res->location)
		json_object_set_new(o, "location", json_string(res->location));
	json_object_set_new(o, "status", json_string(arena_printf(a, "%d", res->status)));
	if (res->error) {
		json_object_set_new(o, "response", res->error);
		res->error = NULL;
	}
	return o;
}

static void bulk(struct http_req *req, struct http_resp *resp, void *app)
{
	struct core *c = app;
	struct actor who;
	struct bulk_plan p;
	struct scim_err serr = {0};
	const char **ids;
	json_t *body, *out_ops, *out;
	int errors = 0;
	enum rs_status st;

	if (!scim_actor_or_reply(req, resp, c, &who))
		return;
	/* RFC 7644 section 3.7.4: 413 with an error body, no scimType. */
	if (req->body_too_large) {
		scim_error(req, resp, 413, NULL,
			   arena_printf(req->arena,
					"the size of the bulk request exceeds maxPayloadSize (%d "
					"bytes)",
					RS_SCIM_BULK_PAYLOAD_MAX));
		return;
	}
	if (!(body = scim_body_or_reply(req, resp)))
		return;
	st = bulk_plan_read(req->arena, body, RS_SCIM_BULK_OPS_MAX, &p, &serr);
	if (st != RS_OK) {
		json_decref(body);
		if (st == RS_E_TOO_LARGE)
			scim_error(req, resp, 413, NULL, serr.detail);
		else if (st == RS_E_INVALID)
			scim_error(req, resp, 400, serr.scim_type, serr.detail);
		else
			scim_error(req, resp, 500, NULL, serr.detail);
		return;
	}
	ids = arena_alloc(req->arena, (size_t)p.nops * sizeof(*ids) + 1);
	out_ops = json_array();
	if (!ids || !out_ops) {
		json_decref(body);
		json_decref(out_ops);
		scim_error(req, resp, 500, NULL, "out of memory");
		return;
	}
	for (int k = 0; k < p.nops; k++) {
		const struct bulk_op *op = &p.ops[p.order[k]];
		struct op_result res = {0};
		const char *id = op->id, *missing = NULL;
		json_t *data = NULL;

		/* Section 3.7.3: after failOnErrors errors the rest is neither performed nor
		 * reported. */
		if (p.fail_on_errors > 0 && errors >= p.fail_on_errors)
			break;
		if (op->fail_status) {
			result_error(req->arena, &res, op->fail_status, op->fail_type,
				     op->fail_detail);
			if (op->id)
				res.location = arena_printf(
				    req->arena, SCIM_BASE "/%s/%s",
				    op->type == BULK_USERS ? "Users" : "Groups", op->id);
		} else {
			data = op->data ? json_deep_copy(op->data) : NULL;
			if (op->data && !data) {
				result_error(req->arena, &res, 500, NULL, "out of memory");
			} else if (!bulk_resolve(&p, ids, data, &id, &missing)) {
				/* Its POST failed (or was not performed): the reference cannot be
				 * resolved, so the operation fails (section 3.7.2). */
				result_error(req->arena, &res, 409, SCIM_INVALID_VALUE,
					     arena_printf(req->arena,
							  "bulkId '%s' cannot be resolved: its "
							  "POST failed",
							  missing));
				if (id && op->m != BULK_POST)
					res.location = arena_printf(
					    req->arena, SCIM_BASE "/%s/%s",
					    op->type == BULK_USERS ? "Users" : "Groups", id);
			} else {
				run_op(req, c, op, id, data, &res);
			}
		}
		json_decref(data);
		if (res.status >= 400)
			errors++;
		else if (op->m == BULK_POST)
			ids[op->index] = res.id;
		json_array_append_new(out_ops, result_json(req->arena, op, &res));
		json_decref(res.error);
	}
	json_decref(body);
	out = json_pack("{s:[s],s:o}", "schemas", SCIM_URN_BULK_RESPONSE, "Operations", out_ops);
	scim_reply(req, resp, 200, out, 0);
}

void scim_bulk_register(struct http_router *r, struct core *c, struct rs_err *err,
			enum rs_status *st)
{
	/* Its own body limit, the advertised maxPayloadSize whatever the server's body_max,
	 * and a 413 in SCIM's error schema rather than problem+json. */
	*st = http_route_add_sized(r, "POST", SCIM_BASE "/Bulk", HTTP_ROUTE_OWN_413,
				   RS_SCIM_BULK_PAYLOAD_MAX, bulk, c, err);
}
