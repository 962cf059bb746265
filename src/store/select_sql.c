/* The selection compiler shared by the engines (select_sql.h); each engine passes its
 * dialect. */
#include "store/select_sql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

enum sel_kind { SK_TEXT, SK_INT, SK_ROLE, SK_GROUP, SK_DEPT_TREE, SK_MEMBER };

struct sel_attr {
	const char *col; /* NULL: not an attribute of this collection */
	enum sel_kind kind;
	bool ci;       /* column holds the lower-cased value; lower the operand too */
	bool nullable; /* comparisons guard against NULL; sorts use coalesce(col, '') */
	bool sortable;
	bool substr; /* the dialect's substring index covers it (d->substr_in) */
};

struct sel_coll {
	const char *table;  /* as FROM names it */
	const char *alias;  /* what qualifies its columns */
	const char *filter; /* the conditions every selection carries besides the tenant */
	const struct sel_attr *attrs;
	int nattrs;
	const char *tie; /* unique column that breaks sort ties; NULL when the sort key is unique */
};

static const struct sel_attr sel_user_attrs[UA__COUNT] = {
    [UA_ID] = {"id", SK_TEXT, false, false, true, false},
    [UA_USERNAME_CI] = {"username_key", SK_TEXT, true, false, true, true},
    [UA_EMAIL_CI] = {"email_key", SK_TEXT, true, true, true, true},
    [UA_FIRST_NAME_CI] = {"first_name_key", SK_TEXT, true, true, true, true},
    [UA_LAST_NAME_CI] = {"last_name_key", SK_TEXT, true, true, true, true},
    [UA_TYPE] = {"type", SK_TEXT, false, false, true, false},
    [UA_STATUS] = {"status", SK_TEXT, false, false, true, false},
    [UA_EXTERNAL_ID] = {"external_id", SK_TEXT, false, true, true, false},
    [UA_CREATED_AT] = {"created_at", SK_INT, false, false, true, false},
    [UA_UPDATED_AT] = {"updated_at", SK_INT, false, false, true, false},
    [UA_ROLE] = {"system_role_id", SK_ROLE, false, false, false, false},
    [UA_GROUP] = {"id", SK_GROUP, false, false, false, false},
    [UA_DEPARTMENT] = {"department_id", SK_TEXT, false, true, false, false},
    [UA_DEPARTMENT_TREE] = {"department_id", SK_DEPT_TREE, false, false, false, false},
};

/* Groups are read as "groups g" (GROUP_COLS of both engines name the table g). */
static const struct sel_attr sel_group_attrs[GA__COUNT] = {
    [GA_ID] = {"g.id", SK_TEXT, false, false, true, false},
    [GA_NAME_CI] = {"g.name_key", SK_TEXT, true, false, true, false},
    [GA_EXTERNAL_ID] = {"g.external_id", SK_TEXT, false, true, true, false},
    [GA_CREATED_AT] = {"g.created_at", SK_INT, false, false, true, false},
    [GA_UPDATED_AT] = {"g.updated_at", SK_INT, false, false, true, false},
    [GA_MEMBER] = {"g.id", SK_MEMBER, false, false, false, false},
};

static const struct sel_attr sel_audit_attrs[AA__COUNT] = {
    [AA_SEQ] = {"seq", SK_INT, false, false, true, false},
    [AA_ACTOR_ID] = {"actor_id", SK_TEXT, false, true, false, false},
    [AA_TARGET_ID] = {"target_id", SK_TEXT, false, true, false, false},
    [AA_ACTION] = {"action", SK_TEXT, false, false, false, false},
    [AA_AT] = {"at", SK_INT, false, false, false, false},
};

/* The partial index users_username is only usable when the query carries its WHERE term
 * literally (SQLite) or implies it (PostgreSQL): keep "status <> 'deleted'" exactly as in
 * the 0001_init.sql migrations. */
static const struct sel_coll sel_colls[] = {
    [SC_USERS] = {"users", "users", " AND status <> 'deleted'", sel_user_attrs, UA__COUNT, "id"},
    [SC_AUDIT] = {"audit_events", "audit_events", "", sel_audit_attrs, AA__COUNT, NULL},
    [SC_GROUPS] = {"groups g", "g", "", sel_group_attrs, GA__COUNT, "g.id"},
};

struct sel_ctx {
	const struct select_dialect *d;
	char ph; /* d->placeholder */
	char *sql;
	size_t len, cap;
	bool overflow;
	struct select_sql *q; /* binds and the arena for lowered values, patterns, bounds */
	const struct sel_coll *coll;
	struct rs_err *err;
	const struct store_pred *drive; /* the substring leaf whose candidates drive the query */
	bool pk_walk;			/* see sel_pk_walk() */
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

/* Adds a bind and returns its placeholder number, or 0 when there are too many. */
static int sel_bind(struct sel_ctx *x, struct store_val v)
{
	if (x->q->nbinds >= SELECT_SQL_BINDS_MAX)
		return 0;
	x->q->binds[x->q->nbinds++] = v;
	return x->q->nbinds;
}

static int sel_bind_text(struct sel_ctx *x, const char *s)
{
	return s ? sel_bind(x, SV_S(s)) : 0;
}

/* "%" value "%" with LIKE's metacharacters escaped by '\'. */
static char *sel_like(struct sel_ctx *x, const char *v, bool lead, bool trail)
{
	size_t n = strlen(v);
	char *p = arena_alloc(&x->q->a, 2 * n + 3);
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

/* col LIKE pat, pat built by sel_like(). */
static enum rs_status sel_leaf_like(struct sel_ctx *x, const char *col, const char *guard,
				    const char *pat)
{
	int n;

	if (!pat)
		return sel_nomem(x);
	if (!(n = sel_bind_text(x, pat)))
		return sel_bad(x, "too many values in the selection");
	if (guard)
		sel_emit(x, "(%s%s%s LIKE %c%d%s)", col, guard, col, x->ph, n, x->d->like_escape);
	else
		sel_emit(x, "%s LIKE %c%d%s", col, x->ph, n, x->d->like_escape);
	return RS_OK;
}

/* Characters (not bytes) of UTF-8 text: the trigram index counts characters. */
static size_t sel_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Whether leaf p can use the dialect's substring index: "co" or "ew" with 3 characters or
 * more on a column the index covers. */
static bool sel_substr_ok(const struct sel_ctx *x, const struct store_pred *p)
{
	const struct sel_attr *at;

	if ((p->op != SO_CO && p->op != SO_EW) || !x->d->substr_cands || p->attr < 0 ||
	    p->attr >= x->coll->nattrs || p->val.type != SV_TEXT || !p->val.s)
		return false;
	at = &x->coll->attrs[p->attr];
	return at->col && at->substr && sel_chars(p->val.s) >= SELECT_SQL_SUBSTR_MIN;
}

/* The index's candidates for "column col contains v" (v lowered already), as a subquery text
 * in out (cap bytes), its MATCH query bound. */
static enum rs_status sel_cands(struct sel_ctx *x, const char *col, const char *v, char *out,
				size_t cap)
{
	size_t len = strlen(v), k = 0;
	char *mq = arena_alloc(&x->q->a, 2 * len + 3);
	int m, w;

	if (!mq)
		return sel_nomem(x);
	/* One FTS5 phrase: the text in double quotes, a quote doubled, anything else literal. */
	mq[k++] = '"';
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '"')
			mq[k++] = '"';
		mq[k++] = v[i];
	}
	mq[k++] = '"';
	mq[k] = '\0';
	if (!(m = sel_bind_text(x, mq)))
		return sel_bad(x, "too many values in the selection");
	w = x->d->substr_cands(out, cap, x->ph, col, m);
	if (w < 0 || (size_t)w >= cap)
		return sel_nomem(x);
	return RS_OK;
}

/* col LIKE pat, narrowed by the dialect's substring index: the index yields a superset of the
 * rows holding v, the LIKE keeps exactly those LIKE alone would, so the answer is the same
 * with or without the index, also under NOT and OR. The leaf that drives the query (x->drive)
 * has its candidates in FROM already. */
static enum rs_status sel_leaf_substr(struct sel_ctx *x, const struct store_pred *p,
				      const char *col, const char *guard, const char *pat,
				      const char *v)
{
	char in[512];
	enum rs_status st;
	int n;

	if (!pat)
		return sel_nomem(x);
	if (p == x->drive)
		return sel_leaf_like(x, col, guard, pat);
	if (!(n = sel_bind_text(x, pat)))
		return sel_bad(x, "too many values in the selection");
	st = sel_cands(x, col, v, in, sizeof(in));
	if (st)
		return st;
	sel_emit(x, "(%s%s%s LIKE %c%d%s AND %s IN (%s))", guard ? col : "", guard ? guard : "",
		 col, x->ph, n, x->d->like_escape, x->coll->tie, in);
	return RS_OK;
}

static enum rs_status sel_leaf(struct sel_ctx *x, const struct store_pred *p)
{
	const struct sel_attr *at;
	const char *cmp = sel_cmp_op(p->op);
	const char *col, *v;
	const char *guard;
	const char ph = x->ph;
	int n, m;

	if (p->attr < 0 || p->attr >= x->coll->nattrs || !x->coll->attrs[p->attr].col)
		return sel_bad(x, "unknown attribute %d", p->attr);
	at = &x->coll->attrs[p->attr];
	col = at->col;
	guard = at->nullable ? " IS NOT NULL AND " : NULL;

	if (at->kind == SK_ROLE || at->kind == SK_GROUP || at->kind == SK_DEPT_TREE ||
	    at->kind == SK_MEMBER) {
		if (p->op != SO_EQ || p->val.type != SV_TEXT || !p->val.s)
			return sel_bad(x, "role, group, member and department tree take eq and an "
					  "id");
		if (!(n = sel_bind_text(x, p->val.s)))
			goto too_many;
		if (at->kind == SK_ROLE)
			sel_emit(
			    x,
			    "(system_role_id = %c%d OR EXISTS (SELECT 1 FROM user_roles r WHERE "
			    "r.tenant_id = users.tenant_id AND r.user_id = users.id AND "
			    "r.role_id = %c%d))",
			    ph, n, ph, n);
		else if (at->kind == SK_MEMBER) /* driven by the group_members_user index: the
						   user's groups, then each by primary key; the
						   tenant is always bind 1 */
			sel_emit(x,
				 "g.id IN (SELECT m.group_id FROM group_members m WHERE "
				 "m.tenant_id = %c1 AND m.user_id = %c%d)",
				 ph, ph, n);
		else if (at->kind == SK_GROUP)
			sel_emit(x,
				 "EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = "
				 "users.tenant_id AND m.user_id = users.id AND m.group_id = %c%d)",
				 ph, n);
		else /* anchored on the table, so both engines type the CTE's columns alike; the
			tenant is always bind 1; 64 levels bound the walk whatever the data */
			sel_emit(x,
				 "department_id IN (WITH RECURSIVE sub(id, depth) AS (SELECT id, 0 "
				 "FROM departments WHERE tenant_id = %c1 AND id = %c%d UNION ALL "
				 "SELECT d.id, sub.depth + 1 FROM departments d JOIN sub ON "
				 "d.parent_id = sub.id WHERE d.tenant_id = %c1 AND sub.depth < 64) "
				 "SELECT id FROM sub)",
				 ph, ph, n, ph);
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
		sel_emit(x, "%s %s %c%d", col, cmp, ph, n);
		return RS_OK;
	}
	if (p->val.type != SV_TEXT || !p->val.s)
		return sel_bad(x, "attribute %d compares with text", p->attr);
	v = at->ci ? str_lower(&x->q->a, p->val.s) : p->val.s;
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
			sel_emit(x, "(%s%s%s %s %c%d)", col, guard, col, cmp, ph, n);
		else
			sel_emit(x, "%s %s %c%d", col, cmp, ph, n);
		return RS_OK;
	case SO_NE:
		if (!(n = sel_bind_text(x, v)))
			goto too_many;
		if (guard)
			sel_emit(x, "(%s IS NULL OR %s <> %c%d)", col, col, ph, n);
		else
			sel_emit(x, "%s <> %c%d", col, ph, n);
		return RS_OK;
	case SO_SW: {
		/* A range, not LIKE, so the (tenant_id, col) index serves prefix lookups. */
		bool none;
		const char *up = x->d->prefix_upper(&x->q->a, v, &none);

		if (!up && !none)
			return sel_leaf_like(x, col, guard, sel_like(x, v, false, true));
		if (!(n = sel_bind_text(x, v)))
			goto too_many;
		if (!up) {
			if (guard)
				sel_emit(x, "(%s%s%s >= %c%d)", col, guard, col, ph, n);
			else
				sel_emit(x, "%s >= %c%d", col, ph, n);
			return RS_OK;
		}
		if (!(m = sel_bind_text(x, up)))
			goto too_many;
		if (guard)
			sel_emit(x, "(%s%s%s >= %c%d AND %s < %c%d)", col, guard, col, ph, n, col,
				 ph, m);
		else
			sel_emit(x, "(%s >= %c%d AND %s < %c%d)", col, ph, n, col, ph, m);
		return RS_OK;
	}
	case SO_EW:
	case SO_CO:
		if (sel_substr_ok(x, p))
			return sel_leaf_substr(x, p, col, guard,
					       sel_like(x, v, true, p->op == SO_CO), v);
		return sel_leaf_like(x, col, guard, sel_like(x, v, true, p->op == SO_CO));
	default:
		return sel_bad(x, "unknown operator %d", (int)p->op);
	}
too_many:
	return sel_bad(x, "too many values in the selection");
}

/* Writes p in the context of its parent operator. Parentheses only where precedence needs
 * them (OR under AND, anything compound under NOT), and NOT NOT collapses: SQLite's parser
 * stack overflows near 25 nested parentheses, and a SCIM filter "a and b and c" must not
 * cost one level per term. PostgreSQL has no such limit, but the bounds are one for every
 * engine so that all accept and refuse exactly the same selections. */
static enum rs_status sel_pred(struct sel_ctx *x, const struct store_pred *p, int depth, int parens,
			       enum store_op parent)
{
	enum rs_status st;
	bool wrap;

	while (p && p->op == SO_NOT && p->a && p->a->op == SO_NOT) {
		p = p->a->a;
		depth += 2;
	}
	if (!p)
		return sel_bad(x, "missing operand");
	if (depth > SELECT_SQL_DEPTH_MAX)
		return sel_bad(x, "selection nested too deeply");
	switch (p->op) {
	case SO_AND:
	case SO_OR:
		wrap = parent == SO_NOT || (parent == SO_AND && p->op == SO_OR);
		if (wrap) {
			if (++parens > SELECT_SQL_PARENS_MAX)
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
		/* NOT binds looser than comparisons, IS, LIKE and EXISTS in SQLite and in
		 * PostgreSQL, and every compound leaf is parenthesized already. */
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

/* " ORDER BY key[, tie]" of a selection whose sort attribute sel_order() checked. */
static void sel_order_by(struct sel_ctx *x, const struct store_select *sel)
{
	const struct sel_attr *at = &x->coll->attrs[sel->sort_attr];
	const char *dir = sel->desc ? " DESC" : "";

	if (at->nullable)
		sel_emit(x, " ORDER BY coalesce(%s, '')%s", at->col, dir);
	else
		sel_emit(x, " ORDER BY %s%s", at->col, dir);
	if (x->coll->tie && strcmp(at->col, x->coll->tie) != 0)
		sel_emit(x, ", %s%s", x->coll->tie, dir);
}

/* ORDER BY key and keyset condition. Nullable text sorts as '' so the order is total and the
 * keyset comparison never meets NULL. */
static enum rs_status sel_order(struct sel_ctx *x, const struct store_select *sel)
{
	const struct sel_coll *co = x->coll;
	const struct sel_attr *at;
	char expr[64];
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
			v.s = str_lower(&x->q->a, v.s);
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
			sel_emit(x, " AND (%s, %s) %s (%c%d, %c%d)", expr, co->tie, cmp, x->ph, n,
				 x->ph, m);
		} else {
			sel_emit(x, " AND %s %s %c%d", expr, cmp, x->ph, n);
		}
	} else if (x->pk_walk) {
		/* True of every key, but a range on it: without one, SQLite's planner prefers
		 * checking the filter in a smaller covering index and sorting the whole tenant. */
		sel_emit(x, " AND %s >= ''", expr);
	}
	sel_order_by(x, sel);
	return RS_OK;
}

/* Whether a leaf could be answered by an index other than the primary key: every operator but
 * "not equal" can. */
static bool sel_indexable(const struct store_pred *p)
{
	if (!p)
		return false;
	if (p->op == SO_AND || p->op == SO_OR || p->op == SO_NOT)
		return sel_indexable(p->a) || sel_indexable(p->b);
	return p->op != SO_NE;
}

/* A page in primary-key order with nothing in the filter another index could answer is read
 * in one walk of the primary key (which holds the rows on SQLite: WITHOUT ROWID): no
 * key-then-row join and no second sort of whole rows. */
static bool sel_pk_walk(const struct sel_ctx *x, const struct store_select *sel)
{
	return !x->drive && x->coll->tie && sel->sort_attr >= 0 &&
	       sel->sort_attr < x->coll->nattrs && x->coll->attrs[sel->sort_attr].col &&
	       x->coll->attrs[sel->sort_attr].kind == SK_TEXT &&
	       strcmp(x->coll->attrs[sel->sort_attr].col, x->coll->tie) == 0 &&
	       !sel_indexable(sel->where);
}

static enum rs_status sel_compile(struct sel_ctx *x, const struct store_select *sel)
{
	const char *cols;
	enum rs_status st;
	const char *tie_col;
	char from[768];
	bool late;
	int n;

	if ((unsigned)sel->coll >= sizeof(sel_colls) / sizeof(sel_colls[0]) ||
	    !(cols = x->d->cols(sel->coll)))
		return sel_bad(x, "unknown collection %d", (int)sel->coll);
	x->coll = &sel_colls[sel->coll];
	/* The tie column unqualified, for "alias.column" (groups name it g.id already). */
	tie_col = x->coll->tie && strchr(x->coll->tie, '.') ? strchr(x->coll->tie, '.') + 1
							    : x->coll->tie;
	if (!sel->tenant_id)
		return sel_bad(x, "a selection needs a tenant");
	if (sel->limit < 1 || sel->limit > SELECT_SQL_LIMIT_MAX)
		return sel_bad(x, "limit must be within 1..%d", SELECT_SQL_LIMIT_MAX);
	if (sel->offset < 0 || (sel->offset > 0 && sel->has_after))
		return sel_bad(x, "offset must be positive and not combined with a cursor");
	n = sel_bind_text(x, sel->tenant_id); /* always the first */
	/* A substring leaf every row must satisfy (under the root's ANDs) drives the query: its
	 * few candidates come first, each user is then read by primary key. Without statistics
	 * (a young database) the planner would rather walk a whole tenant in index order. */
	for (const struct store_pred *p = sel->where; p && !x->drive; p = p->b) {
		const struct store_pred *leaf = p->op == SO_AND ? p->a : p;

		if (sel_substr_ok(x, leaf))
			x->drive = leaf;
		if (p->op != SO_AND)
			break;
	}
	if (x->drive) {
		const char *v = str_lower(&x->q->a, x->drive->val.s);
		char in[512];

		if (!v)
			return sel_nomem(x);
		st = sel_cands(x, x->coll->attrs[x->drive->attr].col, v, in, sizeof(in));
		if (st)
			return st;
		if (snprintf(from, sizeof(from), "(%s) cand CROSS JOIN %s ON %s.%s = cand.cand_id",
			     in, x->coll->table, x->coll->alias, tie_col) >= (int)sizeof(from))
			return sel_nomem(x);
	} else {
		snprintf(from, sizeof(from), "%s", x->coll->table);
	}
	/* Rows are read after the page is chosen: the inner query picks the page's keys (from
	 * an index alone when one covers the filter and the sort, migration 0013), the outer one
	 * reads just those rows. Otherwise a filter matching many users would read every
	 * matching row to sort them and keep a hundred. */
	x->pk_walk = !sel->count_only && sel_pk_walk(x, sel);
	late = !sel->count_only && x->coll->tie && x->d->join && !x->pk_walk;
	if (late)
		sel_emit(x,
			 "SELECT %s FROM (SELECT %s.%s AS page_key FROM %s WHERE %s.tenant_id = "
			 "%c%d%s",
			 cols, x->coll->alias, tie_col, from, x->coll->alias, x->ph, n,
			 x->coll->filter);
	else
		sel_emit(x, "SELECT %s FROM %s WHERE %s.tenant_id = %c%d%s",
			 sel->count_only ? "count(*)" : cols, from, x->coll->alias, x->ph, n,
			 x->coll->filter);
	if (sel->where) {
		sel_emit(x, " AND ");
		st = sel_pred(x, sel->where, 0, 0, SO_AND);
		if (st)
			return st;
	}
	if (sel->count_only)
		goto done;
	st = sel_order(x, sel);
	if (st)
		return st;
	if (!(n = sel_bind(x, SV_I(sel->limit))))
		return sel_bad(x, "too many values in the selection");
	sel_emit(x, " LIMIT %c%d", x->ph, n);
	if (sel->offset > 0) {
		if (!(n = sel_bind(x, SV_I(sel->offset))))
			return sel_bad(x, "too many values in the selection");
		sel_emit(x, " OFFSET %c%d", x->ph, n);
	}
	if (late) {
		sel_emit(x, ") page%s%s ON %s.tenant_id = %c1 AND %s.%s = page.page_key",
			 x->d->join, x->coll->table, x->coll->alias, x->ph, x->coll->alias,
			 tie_col);
		sel_order_by(x, sel);
	}
done:
	if (x->overflow)
		return rs_fail(x->err, RS_E_TOO_LARGE, "store.bad_select", NULL,
			       "selection too complex");
	return RS_OK;
}

enum rs_status select_sql_compile(const struct select_dialect *d, const struct store_select *sel,
				  char *buf, size_t cap, struct select_sql **out,
				  struct rs_err *err)
{
	struct sel_ctx x = {.d = d, .ph = d->placeholder, .sql = buf, .cap = cap, .err = err};
	enum rs_status st;

	if (out)
		*out = NULL;
	x.q = malloc(sizeof(*x.q));
	if (!x.q)
		return rs_fail(err, RS_E_INTERNAL, "store.nomem", NULL, "out of memory");
	x.q->nbinds = 0;
	arena_init(&x.q->a, 1024 * 1024);
	buf[0] = '\0';
	st = sel_compile(&x, sel);
	if (st || !out)
		select_sql_free(x.q);
	else
		*out = x.q;
	return st;
}

void select_sql_free(struct select_sql *q)
{
	if (!q)
		return;
	arena_release(&q->a);
	free(q);
}
