/* The audit trail: one append-only hash chain per tenant. Each event carries the hash of the
 * previous one, so editing, deleting or reordering an event breaks every later link, and the
 * tenant row remembers the head so truncating the tail is caught too. The changes document is
 * built with jansson here (serialisation only; no json_t leaves this file). */
#include "core/core_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto/crypto.h"
#include "util/timeutil.h"

struct changes {
	json_t *obj; /* new reference, owned */
};

struct changes *changes_new(void)
{
	struct changes *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->obj = json_object();
	if (!ch->obj) {
		free(ch);
		return NULL;
	}
	return ch;
}

void changes_free(struct changes *ch)
{
	if (!ch)
		return;
	json_decref(ch->obj);
	free(ch);
}

static void changes_put(struct changes *ch, const char *field, json_t *before, json_t *after)
{
	json_t *pair = json_object();

	if (!pair || !before || !after) {
		json_decref(pair);
		json_decref(before);
		json_decref(after);
		return;
	}
	json_object_set_new(pair, "before", before);
	json_object_set_new(pair, "after", after);
	json_object_set_new(ch->obj, field, pair);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

void changes_str(struct changes *ch, const char *field, const char *before, const char *after)
{
	if (!ch)
		return;
	if ((!before && !after) || (before && after && strcmp(before, after) == 0))
		return;
	changes_put(ch, field, str_or_null(before), str_or_null(after));
}

void changes_int(struct changes *ch, const char *field, bool has_before, int64_t before,
		 bool has_after, int64_t after)
{
	if (!ch || (has_before == has_after && (!has_before || before == after)))
		return;
	changes_put(ch, field, has_before ? json_integer(before) : json_null(),
		    has_after ? json_integer(after) : json_null());
}

static json_t *json_or_null(const char *text)
{
	json_t *v;

	if (!text)
		return json_null();
	v = json_loads(text, JSON_DECODE_ANY, NULL);
	return v ? v : json_string(text);
}

void changes_json(struct changes *ch, const char *field, const char *before, const char *after)
{
	if (!ch)
		return;
	if ((!before && !after) || (before && after && strcmp(before, after) == 0))
		return;
	changes_put(ch, field, json_or_null(before), json_or_null(after));
}

bool changes_empty(const struct changes *ch)
{
	return !ch || json_object_size(ch->obj) == 0;
}

char *changes_dump(struct changes *ch, struct arena *a)
{
	char *s, *out;

	if (!ch)
		return arena_strdup(a, "{}");
	s = json_dumps(ch->obj, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		return NULL;
	out = arena_strdup(a, s);
	free(s);
	return out;
}

/* ---- the chain ---------------------------------------------------------------------------- */

static void hash_field(struct crypto_sha256_ctx *h, const char *s)
{
	char len[24];
	size_t n = s ? strlen(s) : 0;

	/* Length-prefixed, with NULL distinct from "": no two events share a serialisation. */
	if (!s) {
		crypto_sha256_update(h, "-\n", 2);
		return;
	}
	snprintf(len, sizeof(len), "%zu:", n);
	crypto_sha256_update(h, len, strlen(len));
	crypto_sha256_update(h, s, n);
	crypto_sha256_update(h, "\n", 1);
}

void audit_hash(const struct audit_event *e, char out[65])
{
	struct crypto_sha256_ctx h;
	unsigned char md[CRYPTO_SHA256_LEN];
	char num[2][24];

	snprintf(num[0], sizeof(num[0]), "%" PRId64, e->seq);
	snprintf(num[1], sizeof(num[1]), "%" PRId64, e->at);
	if (!crypto_sha256_begin(&h)) {
		out[0] = '\0';
		return;
	}
	hash_field(&h, "roster-audit-v1");
	hash_field(&h, e->tenant_id);
	hash_field(&h, num[0]);
	hash_field(&h, e->id);
	hash_field(&h, num[1]);
	hash_field(&h, e->actor_type);
	hash_field(&h, e->actor_id);
	hash_field(&h, e->actor_name);
	hash_field(&h, e->action);
	hash_field(&h, e->target_type);
	hash_field(&h, e->target_id);
	hash_field(&h, e->changes);
	hash_field(&h, e->request_id);
	hash_field(&h, e->source_ip);
	hash_field(&h, e->prev_hash);
	crypto_sha256_end(&h, md);
	crypto_hex(md, sizeof(md), out);
}

enum rs_status audit_append(struct store_tx *tx, struct core *c, const struct actor *who,
			    const char *tenant_id, const char *action, const char *target_type,
			    const char *target_id, const char *changes, struct rs_err *err)
{
	struct store_rows *r = NULL;
	struct audit_event e = {0};
	char id[UUID_STR_LEN], prev[65] = "", hash[65];
	bool has = false;
	int64_t seq = 0;
	enum rs_status st;

	st = Q_QUERY(tx, Q_TENANT_AUDIT_HEAD, &r, err, SV_S(tenant_id));
	if (st != RS_OK)
		return st;
	st = store_rows_next(r, &has, err);
	if (st == RS_OK && has) {
		seq = store_col_int(r, 0);
		str_copy(prev, sizeof(prev), store_col_text(r, 1) ? store_col_text(r, 1) : "");
	}
	store_rows_close(r);
	if (st != RS_OK)
		return st;
	if (!has)
		return rs_fail(err, RS_E_INTERNAL, "audit.no_tenant", NULL, "audit chain missing");
	if (!core_new_id(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	e.tenant_id = tenant_id;
	e.seq = seq + 1;
	e.id = id;
	e.at = core_now(c);
	e.actor_type = who->kind == ACTOR_SYSTEM ? "system" : (who->user_id[0] ? "user" : "token");
	e.actor_id = who->user_id[0] ? who->user_id : (who->token_id[0] ? who->token_id : NULL);
	e.actor_name =
	    who->username[0] ? who->username : (who->kind == ACTOR_SYSTEM ? "roster" : NULL);
	e.action = action;
	e.target_type = target_type;
	e.target_id = target_id;
	e.changes = changes ? changes : "{}";
	e.request_id = who->request_id;
	e.source_ip = who->source_ip;
	e.prev_hash = prev;
	audit_hash(&e, hash);
	st = Q_EXEC(tx, Q_AUDIT_INSERT, NULL, err, SV_S(e.tenant_id), SV_I(e.seq), SV_S(e.id),
		    SV_I(e.at), SV_S(e.actor_type), SV_S(e.actor_id), SV_S(e.actor_name),
		    SV_S(e.action), SV_S(e.target_type), SV_S(e.target_id), SV_S(e.changes),
		    SV_S(e.request_id), SV_S(e.source_ip), SV_S(e.prev_hash), SV_S(hash));
	if (st != RS_OK)
		return st;
	return Q_EXEC(tx, Q_TENANT_AUDIT_SET, NULL, err, SV_S(tenant_id), SV_I(e.seq), SV_S(hash));
}

/* ---- reading -------------------------------------------------------------------------------- */

struct list_ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant;
	const struct audit_query *q;
	struct arena *a;
	struct audit_list *out;
};

static enum rs_status list_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct list_ctx *x = arg;
	struct tenant t;
	struct store_pred preds[6], *where = NULL;
	struct store_pred ands[6];
	struct store_select sel = {.coll = SC_AUDIT, .sort_attr = AA_SEQ, .desc = true};
	struct store_rows *r = NULL;
	int np = 0, limit = page_limit(&x->q->page);
	enum rs_status st;
	bool has;

	st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);
	if (st != RS_OK)
		return st;
	st = require_perm(x->who, PERM_AUDIT_READ, err);
	if (st != RS_OK)
		return st;
	if (x->q->actor)
		preds[np++] =
		    (struct store_pred){.op = SO_EQ, .attr = AA_ACTOR_ID, .val = SV_S(x->q->actor)};
	if (x->q->target)
		preds[np++] = (struct store_pred){
		    .op = SO_EQ, .attr = AA_TARGET_ID, .val = SV_S(x->q->target)};
	if (x->q->action) {
		size_t n = strlen(x->q->action);
		bool prefix = n > 0 && x->q->action[n - 1] == '.';

		preds[np++] = (struct store_pred){
		    .op = prefix ? SO_SW : SO_EQ, .attr = AA_ACTION, .val = SV_S(x->q->action)};
	}
	if (x->q->has_since)
		preds[np++] =
		    (struct store_pred){.op = SO_GE, .attr = AA_AT, .val = SV_I(x->q->since)};
	if (x->q->has_until)
		preds[np++] =
		    (struct store_pred){.op = SO_LE, .attr = AA_AT, .val = SV_I(x->q->until)};
	for (int i = 0; i < np; i++) {
		if (!where) {
			where = &preds[i];
			continue;
		}
		ands[i] = (struct store_pred){.op = SO_AND, .a = where, .b = &preds[i]};
		where = &ands[i];
	}
	sel.tenant_id = t.id;
	sel.where = where;
	sel.limit = limit + 1;
	if (x->q->page.cursor) {
		const char *sv, *id;
		long long seq;

		st = cursor_decode(x->c, x->a, x->q->page.cursor, &sv, &id, err);
		if (st != RS_OK)
			return st;
		if (!str_to_ll(sv, 0, INT64_MAX, &seq))
			return rs_fail(err, RS_E_INVALID, "request.invalid_cursor", "cursor",
				       "the cursor is not one this server issued");
		sel.has_after = true;
		sel.after_val = SV_I(seq);
	}
	x->out->items = arena_alloc(x->a, sizeof(*x->out->items) * (size_t)(limit + 1));
	if (!x->out->items)
		return core_oom(err);
	st = store_select(tx, &sel, &r, err);
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if (x->out->n == limit) {
			char seqs[24];

			snprintf(seqs, sizeof(seqs), "%" PRId64, x->out->items[limit - 1].seq);
			x->out->next_cursor = cursor_encode(x->c, x->a, seqs, "");
			break;
		}
		row_audit(r, x->a, &x->out->items[x->out->n++]);
	}
	store_rows_close(r);
	return st;
}

enum rs_status audit_list(struct core *c, const struct actor *who, const char *tenant,
			  const struct audit_query *q, struct arena *a, struct audit_list *out,
			  struct rs_err *err)
{
	struct list_ctx x = {c, who, tenant, q, a, out};

	memset(out, 0, sizeof(*out));
	return core_read(c, list_tx, &x, err);
}

/* ---- verification -----------------------------------------------------------------------------
 */

struct verify_ctx {
	struct core *c;
	struct arena *a;
	void (*report)(const struct audit_verify_report *r, void *ctx);
	void *rctx;
	bool broken;
};

static enum rs_status verify_chain(struct store_tx *tx, struct verify_ctx *v, const char *tid,
				   const char *slug, struct rs_err *err)
{
	struct audit_verify_report rep = {.tenant_id = tid, .tenant_slug = slug};
	struct store_rows *r = NULL;
	char prev[65] = "", want[65];
	int64_t expect = 1, head_seq = 0;
	const char *head_hash = "";
	enum rs_status st;
	bool has;

	st = Q_QUERY(tx, Q_TENANT_AUDIT_HEAD, &r, err, SV_S(tid));
	if (st != RS_OK)
		return st;
	if (store_rows_next(r, &has, err) == RS_OK && has) {
		head_seq = store_col_int(r, 0);
		head_hash = col_str(r, 1, v->a);
	}
	store_rows_close(r);
	st = Q_QUERY(tx, Q_AUDIT_CHAIN, &r, err, SV_S(tid));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		struct audit_event e;

		row_audit(r, v->a, &e);
		rep.events++;
		if (e.seq != expect) {
			rep.reason = e.seq > expect ? "event missing before this one (sequence gap)"
						    : "sequence out of order";
		} else if (strcmp(e.prev_hash ? e.prev_hash : "", prev) != 0) {
			rep.reason = "previous-hash link broken (event deleted or reordered)";
		} else {
			audit_hash(&e, want);
			if (strcmp(want, e.hash ? e.hash : "") != 0)
				rep.reason = "hash mismatch (event edited)";
		}
		if (rep.reason) {
			rep.bad = true;
			rep.seq = e.seq;
			rep.event_id = e.id;
			break;
		}
		str_copy(prev, sizeof(prev), e.hash);
		expect++;
	}
	store_rows_close(r);
	if (st != RS_OK)
		return st;
	if (!rep.bad && (expect - 1 != head_seq || strcmp(prev, head_hash) != 0)) {
		rep.bad = true;
		rep.seq = expect;
		rep.event_id = "";
		rep.reason = "chain shorter than its recorded head (events deleted at the end)";
	}
	if (rep.bad)
		v->broken = true;
	v->report(&rep, v->rctx);
	return RS_OK;
}

static enum rs_status verify_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct verify_ctx *v = arg;
	struct store_rows *r = NULL;
	struct {
		const char *id, *slug;
	} *ts = NULL;
	size_t n = 0, cap = 0;
	enum rs_status st;
	bool has;

	st = Q_QUERY(tx, Q_TENANT_LIST_ALL, &r, err);
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			void *nts = arena_alloc(v->a, ncap * sizeof(*ts));

			if (!nts) {
				store_rows_close(r);
				return core_oom(err);
			}
			if (n)
				memcpy(nts, ts, n * sizeof(*ts));
			ts = nts;
			cap = ncap;
		}
		ts[n].id = col_str(r, 0, v->a);
		ts[n].slug = col_str(r, 1, v->a);
		n++;
	}
	store_rows_close(r);
	if (st != RS_OK)
		return st;
	for (size_t i = 0; i < n; i++) {
		st = verify_chain(tx, v, ts[i].id, ts[i].slug, err);
		if (st != RS_OK)
			return st;
	}
	return RS_OK;
}

enum rs_status audit_verify(struct core *c, struct arena *a,
			    void (*report)(const struct audit_verify_report *r, void *ctx),
			    void *ctx, struct rs_err *err)
{
	struct verify_ctx v = {c, a, report, ctx, false};
	enum rs_status st = core_read(c, verify_tx, &v, err);

	if (st != RS_OK)
		return st;
	if (v.broken)
		return rs_fail(err, RS_E_CONFLICT, "audit.chain_broken", NULL,
			       "an audit chain is broken");
	return RS_OK;
}
