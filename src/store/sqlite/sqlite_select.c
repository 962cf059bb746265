/* Selections: compiles a struct store_select into one SQLite statement (tenant always bound,
 * deleted users never returned, keyset paging, LIMIT), binds it and keeps the prepared
 * statement in a per-connection LRU keyed by the SQL text, so each filter shape is prepared
 * once. Values are always bound, never spliced into the text.
 *
 * Every leaf predicate is two-valued (0/1, never NULL), so NOT means "does not match": a
 * user without an e-mail matches "not (email co x)" and "email ne x". */
#include "store/sqlite/sqlite_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

enum sel_kind { SK_TEXT, SK_INT, SK_ROLE, SK_GROUP };

struct sel_attr {
	const char *col; /* NULL: not an attribute of this collection */
	enum sel_kind kind;
	bool ci;       /* column holds the lower-cased value; lower the operand too */
	bool nullable; /* comparisons guard against NULL; sorts use coalesce(col, '') */
	bool sortable;
};

struct sel_coll {
	const char *from_where; /* FROM and the conditions every selection carries */
	const struct sel_attr *attrs;
	int nattrs;
	const char *tie; /* unique column that breaks sort ties; NULL when the sort key is unique */
};

static const struct sel_attr sel_user_attrs[UA__COUNT] = {
	[UA_ID] = {"id", SK_TEXT, false, false, true},
	[UA_USERNAME_CI] = {"username_key", SK_TEXT, true, false, true},
	[UA_EMAIL_CI] = {"email_key", SK_TEXT, true, true, true},
	[UA_FIRST_NAME_CI] = {"first_name_key", SK_TEXT, true, true, true},
	[UA_LAST_NAME_CI] = {"last_name_key", SK_TEXT, true, true, true},
	[UA_TYPE] = {"type", SK_TEXT, false, false, true},
	[UA_STATUS] = {"status", SK_TEXT, false, false, true},
	[UA_EXTERNAL_ID] = {"external_id", SK_TEXT, false, true, true},
	[UA_CREATED_AT] = {"created_at", SK_INT, false, false, true},
	[UA_UPDATED_AT] = {"updated_at", SK_INT, false, false, true},
	[UA_ROLE] = {"system_role_id", SK_ROLE, false, false, false},
	[UA_GROUP] = {"id", SK_GROUP, false, false, false},
};

static const struct sel_attr sel_audit_attrs[AA__COUNT] = {
	[AA_SEQ] = {"seq", SK_INT, false, false, true},
	[AA_ACTOR_ID] = {"actor_id", SK_TEXT, false, true, false},
	[AA_TARGET_ID] = {"target_id", SK_TEXT, false, true, false},
	[AA_ACTION] = {"action", SK_TEXT, false, false, false},
	[AA_AT] = {"at", SK_INT, false, false, false},
};

/* The partial index users_username is only usable when the query carries its WHERE term
 * literally: keep "status <> 'deleted'" exactly as in 0001_init.sql. */
static const struct sel_coll sel_colls[] = {
	[SC_USERS] = {"users WHERE tenant_id = ?1 AND status <> 'deleted'", sel_user_attrs,
		      UA__COUNT, "id"},
	[SC_AUDIT] = {"audit_events WHERE tenant_id = ?1", sel_audit_attrs, AA__COUNT, NULL},
};

struct sel_ctx {
	char *sql;
	size_t len, cap;
	bool overflow;
	struct store_val binds[SQLITE_SEL_BINDS_MAX];
	int nbinds;
	struct arena a; /* lowered values, LIKE patterns, range bounds */
	const struct sel_coll *coll;
	struct rs_err *err;
};

static void sel_emit(struct sel_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sel_emit(struct sel_ctx *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(x->sql + x->len, x->cap - x->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= x->cap - x->len) {
		x->overflow = true;
		return;
	}
	x->len += (size_t)n;
}

static enum rs_status sel_bad(struct sel_ctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum rs_status sel_bad(struct sel_ctx *x, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return rs_fail(x->err, RS_E_INVALID, "store.bad_select", NULL, "%s", msg);
}

/* Adds a bind and returns its ?N number, or 0 when there are too many. */
static int sel_bind(struct sel_ctx *x, struct store_val v)
{
	if (x->nbinds >= SQLITE_SEL_BINDS_MAX)
		return 0;
	x->binds[x->nbinds++] = v;
	return x->nbinds;
}

static int sel_bind_text(struct sel_ctx *x, const char *s)
{
	return s ? sel_bind(x, SV_S(s)) : 0;
}

/* "%" value "%" with LIKE's metacharacters escaped by '\'. */
static char *sel_like(struct sel_ctx *x, const char *v, bool lead, bool trail)
{
	size_t n = strlen(v);
	char *p = arena_alloc(&x->a, 2 * n + 3);
	size_t k = 0;

	if (!p)
		return NULL;
	if (lead)
		p[k++] = '%';
	for (size_t i = 0; i < n; i++) {
		if (v[i] == '%' || v[i] == '_' || v[i] == '\\')
			p[k++] = '\\';
		p[k++] = v[i];
	}
	if (trail)
		p[k++] = '%';
	p[k] = '\0';
	return p;
}

/* The smallest string greater than every string starting with prefix: drop trailing 0xff
 * bytes, increment the last remaining one. NULL when there is none (empty or all 0xff);
 * then "col >= prefix" alone is exact, since only strings starting with prefix are >= it. */
static char *sel_prefix_upper(struct sel_ctx *x, const char *prefix)
{
	size_t n = strlen(prefix);
	char *up;

	while (n > 0 && (unsigned char)prefix[n - 1] == 0xff)
		n--;
	if (n == 0)
		return NULL;
	up = arena_strndup(&x->a, prefix, n);
	if (up)
		up[n - 1] = (char)((unsigned char)up[n - 1] + 1);
	return up;
}

static const char *sel_cmp_op(enum store_op op)
{
	switch (op) {
	case SO_EQ:
		return "=";
	case SO_NE:
		return "<>";
	case SO_GT:
		return ">";
	case SO_GE:
		return ">=";
	case SO_LT:
		return "<";
	case SO_LE:
		return "<=";
	default:
		return NULL;
	}
}

static enum rs_status sel_nomem(struct sel_ctx *x)
{
	return rs_fail(x->err, RS_E_TOO_LARGE, "store.bad_select", NULL,
		       "selection values too large");
}

static enum rs_status sel_leaf(struct sel_ctx *x, const struct store_pred *p)
{
	const struct sel_attr *at;
	const char *cmp = sel_cmp_op(p->op);
	const char *col, *v;
	const char *guard;
	int n, m;

	if (p->attr < 0 || p->attr >= x->coll->nattrs || !x->coll->attrs[p->attr].col)
		return sel_bad(x, "unknown attribute %d", p->attr);
	at = &x->coll->attrs[p->attr];
	col = at->col;
	guard = at->nullable ? " IS NOT NULL AND " : NULL;

	if (at->kind == SK_ROLE || at->kind == SK_GROUP) {
		if (p->op != SO_EQ || p->val.type != SV_TEXT || !p->val.s)
			return sel_bad(x, "role and group take eq and an id");
		if (!(n = sel_bind_text(x, p->val.s)))
			goto too_many;
		if (at->kind == SK_ROLE)
			sel_emit(x,
				 "(system_role_id = ?%d OR EXISTS (SELECT 1 FROM user_roles r WHERE "
				 "r.tenant_id = users.tenant_id AND r.user_id = users.id AND "
				 "r.role_id = ?%d))",
				 n, n);
		else
			sel_emit(x,
				 "EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = "
				 "users.tenant_id AND m.user_id = users.id AND m.group_id = ?%d)",
				 n);
		return RS_OK;
	}
	if (p->op == SO_PR) {
		if (at->kind == SK_INT)
			sel_emit(x, "%s IS NOT NULL", col);
		else
			sel_emit(x, "(%s IS NOT NULL AND %s <> '')", col, col);
		return RS_OK;
	}
	if (at->kind == SK_INT) {
		if (!cmp)
			return sel_bad(x, "operator %d does not apply to a number", (int)p->op);
		if (p->val.type != SV_INT)
			return sel_bad(x, "attribute %d compares with a number", p->attr);
		if (!(n = sel_bind(x, p->val)))
			goto too_many;
		sel_emit(x, "%s %s ?%d", col, cmp, n);
		return RS_OK;
	}
	if (p->val.type != SV_TEXT || !p->val.s)
		return sel_bad(x, "attribute %d compares with text", p->attr);
	v = at->ci ? str_lower(&x->a, p->val.s) : p->val.s;
	if (!v)
		return sel_nomem(x);
	switch (p->op) {
	case SO_EQ:
	case SO_GT:
	case SO_GE:
	case SO_LT:
	case SO_LE:
		if (!(n = sel_bind_text(x, v)))
			goto too_many;
		if (guard)
			sel_emit(x, "(%s%s%s %s ?%d)", col, guard, col, cmp, n);
		else
			sel_emit(x, "%s %s ?%d", col, cmp, n);
		return RS_OK;
	case SO_NE:
		if (!(n = sel_bind_text(x, v)))
			goto too_many;
		if (guard)
			sel_emit(x, "(%s IS NULL OR %s <> ?%d)", col, col, n);
		else
			sel_emit(x, "%s <> ?%d", col, n);
		return RS_OK;
	case SO_SW: {
		/* A range, not LIKE, so the (tenant_id, col) index serves prefix lookups. */
		const char *up = sel_prefix_upper(x, v);

		if (!(n = sel_bind_text(x, v)))
			goto too_many;
		if (!up) {
			if (guard)
				sel_emit(x, "(%s%s%s >= ?%d)", col, guard, col, n);
			else
				sel_emit(x, "%s >= ?%d", col, n);
			return RS_OK;
		}
		if (!(m = sel_bind_text(x, up)))
			goto too_many;
		if (guard)
			sel_emit(x, "(%s%s%s >= ?%d AND %s < ?%d)", col, guard, col, n, col, m);
		else
			sel_emit(x, "(%s >= ?%d AND %s < ?%d)", col, n, col, m);
		return RS_OK;
	}
	case SO_EW:
	case SO_CO: {
		const char *pat = sel_like(x, v, true, p->op == SO_CO);

		if (!pat)
			return sel_nomem(x);
		if (!(n = sel_bind_text(x, pat)))
			goto too_many;
		if (guard)
			sel_emit(x, "(%s%s%s LIKE ?%d ESCAPE '\\')", col, guard, col, n);
		else
			sel_emit(x, "%s LIKE ?%d ESCAPE '\\'", col, n);
		return RS_OK;
	}
	default:
		return sel_bad(x, "unknown operator %d", (int)p->op);
	}
too_many:
	return sel_bad(x, "too many values in the selection");
}

/* Writes p in the context of its parent operator. Parentheses only where precedence needs
 * them (OR under AND, anything compound under NOT), and NOT NOT collapses: SQLite's parser
 * stack overflows near 25 nested parentheses, and a SCIM filter "a and b and c" must not
 * cost one level per term. */
static enum rs_status sel_pred(struct sel_ctx *x, const struct store_pred *p, int depth,
			       int parens, enum store_op parent)
{
	enum rs_status st;
	bool wrap;

	while (p && p->op == SO_NOT && p->a && p->a->op == SO_NOT) {
		p = p->a->a;
		depth += 2;
	}
	if (!p)
		return sel_bad(x, "missing operand");
	if (depth > SQLITE_SEL_DEPTH_MAX)
		return sel_bad(x, "selection nested too deeply");
	switch (p->op) {
	case SO_AND:
	case SO_OR:
		wrap = parent == SO_NOT || (parent == SO_AND && p->op == SO_OR);
		if (wrap) {
			if (++parens > SQLITE_SEL_PARENS_MAX)
				return sel_bad(x, "selection nested too deeply");
			sel_emit(x, "(");
		}
		st = sel_pred(x, p->a, depth + 1, parens, p->op);
		if (st)
			return st;
		sel_emit(x, p->op == SO_AND ? " AND " : " OR ");
		st = sel_pred(x, p->b, depth + 1, parens, p->op);
		if (st)
			return st;
		if (wrap)
			sel_emit(x, ")");
		return RS_OK;
	case SO_NOT:
		/* NOT binds looser than comparisons, LIKE and EXISTS in SQLite, and every
		 * compound leaf is parenthesized already. */
		sel_emit(x, "NOT ");
		return sel_pred(x, p->a, depth + 1, parens, SO_NOT);
	case SO_EQ:
	case SO_NE:
	case SO_CO:
	case SO_SW:
	case SO_EW:
	case SO_PR:
	case SO_GT:
	case SO_GE:
	case SO_LT:
	case SO_LE:
		return sel_leaf(x, p);
	}
	return sel_bad(x, "unknown operator %d", (int)p->op);
}

/* ORDER BY key and keyset condition. Nullable text sorts as '' so the order is total and the
 * keyset comparison never meets NULL. */
static enum rs_status sel_order(struct sel_ctx *x, const struct store_select *sel)
{
	const struct sel_coll *co = x->coll;
	const struct sel_attr *at;
	char expr[64];
	const char *dir = sel->desc ? " DESC" : "";
	const char *cmp = sel->desc ? "<" : ">";
	bool tie;

	if (sel->sort_attr < 0 || sel->sort_attr >= co->nattrs || !co->attrs[sel->sort_attr].col ||
	    !co->attrs[sel->sort_attr].sortable)
		return sel_bad(x, "attribute %d is not sortable", sel->sort_attr);
	at = &co->attrs[sel->sort_attr];
	snprintf(expr, sizeof(expr), at->nullable ? "coalesce(%s, '')" : "%s", at->col);
	/* Sorting by the tie column itself needs no second key. */
	tie = co->tie && strcmp(at->col, co->tie) != 0;
	if (sel->has_after) {
		struct store_val v = sel->after_val;
		int n, m;

		if (at->kind == SK_INT) {
			if (v.type != SV_INT)
				return sel_bad(x, "the cursor's sort value must be a number");
		} else if (v.type == SV_NULL && at->nullable) {
			v = SV_S("");
		} else if (v.type != SV_TEXT || !v.s) {
			return sel_bad(x, "the cursor's sort value must be text");
		} else if (at->ci) {
			/* Rows carry the original spelling; the key column the lowered one. */
			v.s = str_lower(&x->a, v.s);
			if (!v.s)
				return sel_nomem(x);
		}
		if (!(n = sel_bind(x, v)))
			return sel_bad(x, "too many values in the selection");
		if (tie) {
			if (!sel->after_id)
				return sel_bad(x, "the cursor needs the row id");
			if (!(m = sel_bind_text(x, sel->after_id)))
				return sel_bad(x, "too many values in the selection");
			sel_emit(x, " AND (%s, %s) %s (?%d, ?%d)", expr, co->tie, cmp, n, m);
		} else {
			sel_emit(x, " AND %s %s ?%d", expr, cmp, n);
		}
	}
	sel_emit(x, " ORDER BY %s%s", expr, dir);
	if (tie)
		sel_emit(x, ", %s%s", co->tie, dir);
	return RS_OK;
}

static enum rs_status sel_compile(struct sel_ctx *x, const struct store_select *sel)
{
	const char *cols;
	enum rs_status st;
	int n;

	if ((unsigned)sel->coll >= sizeof(sel_colls) / sizeof(sel_colls[0]) ||
	    !(cols = sqlite_select_cols(sel->coll)))
		return sel_bad(x, "unknown collection %d", (int)sel->coll);
	x->coll = &sel_colls[sel->coll];
	if (!sel->tenant_id)
		return sel_bad(x, "a selection needs a tenant");
	if (sel->limit < 1 || sel->limit > SQLITE_SEL_LIMIT_MAX)
		return sel_bad(x, "limit must be within 1..%d", SQLITE_SEL_LIMIT_MAX);
	sel_bind_text(x, sel->tenant_id); /* ?1, named in from_where */
	sel_emit(x, "SELECT %s FROM %s", cols, x->coll->from_where);
	if (sel->where) {
		sel_emit(x, " AND ");
		st = sel_pred(x, sel->where, 0, 0, SO_AND);
		if (st)
			return st;
	}
	st = sel_order(x, sel);
	if (st)
		return st;
	if (!(n = sel_bind(x, SV_I(sel->limit))))
		return sel_bad(x, "too many values in the selection");
	sel_emit(x, " LIMIT ?%d", n);
	if (x->overflow)
		return rs_fail(x->err, RS_E_TOO_LARGE, "store.bad_select", NULL,
			       "selection too complex");
	return RS_OK;
}

static void sel_ctx_init(struct sel_ctx *x, char *buf, size_t cap, struct rs_err *err)
{
	x->sql = buf;
	x->len = 0;
	x->cap = cap;
	x->overflow = false;
	x->nbinds = 0;
	x->coll = NULL;
	x->err = err;
	buf[0] = '\0';
	arena_init(&x->a, 1024 * 1024);
}

enum rs_status sqlite_select_sql(const struct store_select *sel, char *buf, size_t cap,
				 struct rs_err *err)
{
	struct sel_ctx *x = malloc(sizeof(*x));
	enum rs_status st;

	if (!x)
		return rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
	sel_ctx_init(x, buf, cap, err);
	st = sel_compile(x, sel);
	arena_release(&x->a);
	free(x);
	return st;
}

void sqlite_select_cache_clear(struct sqlite_conn *c)
{
	for (int i = 0; i < SQLITE_SEL_CACHE; i++) {
		sqlite3_finalize(c->sel[i].rows.stmt);
		free(c->sel[i].sql);
		memset(&c->sel[i], 0, sizeof(c->sel[i]));
	}
}

/* The cache slot for sql: a hit, else a free or the least recently used idle slot (its
 * statement finalized). NULL when every slot is in use by open rows. */
static struct sqlite_sel_entry *sel_slot(struct sqlite_conn *c, const char *sql)
{
	struct sqlite_sel_entry *victim = NULL;

	for (int i = 0; i < SQLITE_SEL_CACHE; i++) {
		struct sqlite_sel_entry *e = &c->sel[i];

		if (e->sql && strcmp(e->sql, sql) == 0) {
			e->used = ++c->sel_tick;
			return e;
		}
		if (e->rows.open || (victim && !victim->sql))
			continue; /* busy, or a free slot was already found */
		if (!victim || !e->sql || e->used < victim->used)
			victim = e;
	}
	if (!victim)
		return NULL;
	sqlite3_finalize(victim->rows.stmt);
	free(victim->sql);
	memset(victim, 0, sizeof(*victim));
	victim->sql = strdup(sql);
	if (!victim->sql)
		return NULL;
	victim->used = ++c->sel_tick;
	return victim;
}

enum rs_status sqlite_select(struct store_tx *tx, const struct store_select *sel,
			     struct store_rows **rows, struct rs_err *err)
{
	struct sqlite_conn *c = ((struct sqlite_tx *)tx)->conn;
	struct sel_ctx *x = malloc(sizeof(*x));
	char *buf = malloc(SQLITE_SEL_SQL_MAX);
	struct sqlite_sel_entry *e;
	struct sqlite_rows *r = NULL;
	struct sqlite_rows busy = {.open = true};
	enum rs_status st;

	if (!x || !buf) {
		free(x);
		free(buf);
		return rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
	}
	sel_ctx_init(x, buf, SQLITE_SEL_SQL_MAX, err);
	st = sel_compile(x, sel);
	if (st)
		goto out;
	e = sel_slot(c, buf);
	/* No idle slot: a one-off statement, as for a nested run of the same shape. */
	st = sqlite_rows_begin(c, e ? &e->rows : &busy, buf, &r, err);
	if (st)
		goto out;
	for (int i = 0; i < x->nbinds; i++) {
		const struct store_val *v = &x->binds[i];
		int rc = v->type == SV_INT
				 ? sqlite3_bind_int64(r->stmt, i + 1, v->i)
				 : sqlite3_bind_text(r->stmt, i + 1, v->s, -1, SQLITE_TRANSIENT);

		if (rc != SQLITE_OK) {
			st = sqlite_fail(c->db, rc, err);
			goto out;
		}
	}
	*rows = &r->base;
out:
	if (st && r)
		sqlite_rows_close(&r->base);
	arena_release(&x->a);
	free(x);
	free(buf);
	return st;
}

enum rs_status sqlite_raw(struct store_tx *tx, const char *sql, const struct store_val *args,
			  int nargs, struct store_rows **rows, struct rs_err *err)
{
	struct sqlite_conn *c = ((struct sqlite_tx *)tx)->conn;
	struct sqlite_sel_entry *e = sel_slot(c, sql);
	struct sqlite_rows busy = {.open = true};
	struct sqlite_rows *r = NULL;
	enum rs_status st;
	int rc;

	st = sqlite_rows_begin(c, e ? &e->rows : &busy, sql, &r, err);
	if (st)
		return st;
	st = sqlite_bind_args(r->stmt, args, nargs, err);
	if (!st && rows) {
		*rows = &r->base;
		return RS_OK;
	}
	if (!st) {
		while ((rc = sqlite3_step(r->stmt)) == SQLITE_ROW)
			;
		if (rc != SQLITE_DONE)
			st = sqlite_fail(c->db, rc, err);
	}
	sqlite_rows_close(&r->base);
	return st;
}
