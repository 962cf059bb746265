/* Seats: the operator limits how many users of each type a tenant may hold (seed 001's
 * "how many more users of each type can be added"). A user holds a seat while active, invited
 * or suspended; deactivation and deletion free it. Read-only users hold read-only seats only.
 * The unused-seat report lists seat holders who neither logged in nor used the API lately —
 * the report none of the seed systems has. */
#include "core/core_int.h"

#include <stdio.h>

const char *const user_type_names[USER_TYPES] = {"standard", "api", "taxii", "read_only"};

#define INACTIVE_DAYS_MAX 3650

int user_type_index(const char *type)
{
	for (int i = 0; type && i < USER_TYPES; i++) {
		if (strcmp(type, user_type_names[i]) == 0)
			return i;
	}
	return -1;
}

enum rs_status seats_load_limits(struct store_tx *tx, struct tenant *t, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has;

	memset(t->seat_limits, 0, sizeof(t->seat_limits));
	st = Q_QUERY(tx, Q_SEAT_LIMITS, &r, err, SV_S(t->id));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		int i = user_type_index(store_col_text(r, 0));

		if (i >= 0)
			t->seat_limits[i] = (struct seat_limit){true, store_col_int(r, 1)};
	}
	store_rows_close(r);
	return st;
}

/* Seats in use per type. */
static enum rs_status seats_used(struct store_tx *tx, const char *tenant_id,
				 int64_t used[USER_TYPES], struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has;

	memset(used, 0, sizeof(int64_t) * USER_TYPES);
	st = Q_QUERY(tx, Q_SEATS_USED, &r, err, SV_S(tenant_id));
	if (st != RS_OK)
		return st;
	while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
		int i = user_type_index(store_col_text(r, 0));

		if (i >= 0)
			used[i] = store_col_int(r, 1);
	}
	store_rows_close(r);
	return st;
}

enum rs_status seats_check(struct store_tx *tx, const char *tenant_id, const char *type,
			   struct rs_err *err)
{
	struct tenant t = {.id = tenant_id};
	int64_t used[USER_TYPES];
	int i = user_type_index(type);
	enum rs_status st;

	if (i < 0)
		return RS_OK; /* validated elsewhere */
	st = seats_load_limits(tx, &t, err);
	if (st != RS_OK || !t.seat_limits[i].set)
		return st;
	st = seats_used(tx, tenant_id, used, err);
	if (st != RS_OK)
		return st;
	if (used[i] >= t.seat_limits[i].max)
		return rs_fail(err, RS_E_CONFLICT, "seats.exhausted", "type",
			       "no free %s seat: %lld of %lld in use", type, (long long)used[i],
			       (long long)t.seat_limits[i].max);
	return RS_OK;
}

struct report_ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant;
	int64_t days;
	const struct page *pg;
	struct arena *a;
	struct seats_report *out;
};

static enum rs_status report_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct report_ctx *x = arg;
	struct tenant t;
	struct store_rows *r = NULL;
	int64_t used[USER_TYPES];
	int limit = page_limit(x->pg);
	const char *after = NULL;
	bool more = false;
	enum rs_status st;

	st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_REPORTS_READ, err);
	if (st == RS_OK)
		st = seats_load_limits(tx, &t, err);
	if (st == RS_OK)
		st = seats_used(tx, t.id, used, err);
	if (st != RS_OK)
		return st;
	for (int i = 0; i < USER_TYPES; i++)
		x->out->types[i] = (struct seat_use){user_type_names[i], used[i], t.seat_limits[i]};
	if (x->pg && x->pg->cursor) {
		const char *sv;

		st = cursor_decode(x->c, x->a, x->pg->cursor, &sv, &after, err);
		if (st != RS_OK)
			return st;
	}
	x->out->unused = arena_alloc(x->a, sizeof(*x->out->unused) * (size_t)(limit + 1));
	if (!x->out->unused)
		return core_oom(err);
	st = Q_QUERY(tx, Q_USERS_UNUSED, &r, err, SV_S(t.id),
		     SV_I(core_now(x->c) - x->days * 86400000LL), SV_S(after), SV_I(limit + 1));
	if (st != RS_OK)
		return st;
	st = user_rows_fill(tx, r, x->a, x->out->unused, limit, &x->out->nunused, &more, err);
	store_rows_close(r);
	if (st == RS_OK && more)
		x->out->next_cursor =
		    cursor_encode(x->c, x->a, "", x->out->unused[x->out->nunused - 1].id);
	return st;
}

enum rs_status seats_report(struct core *c, const struct actor *who, const char *tenant,
			    int64_t inactive_days, const struct page *pg, struct arena *a,
			    struct seats_report *out, struct rs_err *err)
{
	struct report_ctx x = {c, who, tenant, inactive_days, pg, a, out};

	memset(out, 0, sizeof(*out));
	out->inactive_days = inactive_days;
	if (inactive_days < 1 || inactive_days > INACTIVE_DAYS_MAX)
		return rs_fail(err, RS_E_INVALID, "request.invalid_parameter", "inactive_days",
			       "'inactive_days' must be between 1 and %d", INACTIVE_DAYS_MAX);
	return core_read(c, report_tx, &x, err);
}
