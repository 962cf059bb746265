/* core/departments.c and the department scope of every user-targeted operation: the tree rules
 * (sibling names, cycles, depth, count), rename and If-Match, deletion with and without
 * move_to, roles that pin a department, managers, and an actor whose power over users comes
 * from a role scoped to one subtree. Every refusal is followed by a re-read of the tenant's
 * departments, users and trails, which must not have moved. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define S(x) ((struct opt_str){true, (x)})
#define NUL ((struct opt_str){true, NULL})
#define N(x) ((x) ? (x) : "-")

/* ---- helpers ---------------------------------------------------------------------------------
 */

static const char *dept(struct fx *f, const char *tid, const char *name, const char *parent)
{
	struct department_fields df = {.name = S(name)};
	struct department d;
	struct rs_err err = {0};

	if (parent)
		df.parent_id = S(parent);
	fx_expect_at(departments_create(f->core, &f->platform, tid, &df, &f->a, &d, &err), &err,
		     RS_OK, NULL, __FILE__, __LINE__, name);
	return d.id;
}

static struct department dget(struct fx *f, const char *tid, const char *id)
{
	struct department d;
	struct rs_err err = {0};

	fx_expect(departments_get(f->core, &f->platform, tid, id, &f->a, &d, &err), &err, RS_OK,
		  NULL);
	return d;
}

static enum rs_status create_in(struct fx *f, const char *tid, const char *name,
				const struct opt_str parent, struct rs_err *err)
{
	struct department_fields df = {.name = S(name), .parent_id = parent};
	struct department d;

	return departments_create(f->core, &f->platform, tid, &df, &f->a, &d, err);
}

static enum rs_status move(struct fx *f, const char *tid, const char *id,
			   const struct opt_str parent, struct rs_err *err)
{
	struct department_fields df = {.parent_id = parent};
	struct department d;

	return departments_update(f->core, &f->platform, tid, id, &df, 0, &f->a, &d, err);
}

static enum rs_status rename_to(struct fx *f, const char *tid, const char *id, const char *name,
				int64_t if_match, struct rs_err *err)
{
	struct department_fields df = {.name = S(name)};
	struct department d;

	return departments_update(f->core, &f->platform, tid, id, &df, if_match, &f->a, &d, err);
}

/* A user in department d (NULL: none), created by the platform. */
static const char *duser(struct fx *f, const char *tid, const char *name, const char *d)
{
	struct user_fields uf = {.username = S(name)};
	struct user u;
	struct rs_err err = {0};

	if (d)
		uf.department_id = S(d);
	fx_expect_at(users_create(f->core, &f->platform, tid, &uf, &f->a, &u, &err), &err, RS_OK,
		     NULL, __FILE__, __LINE__, name);
	return u.id;
}

static struct user uget(struct fx *f, const char *tid, const char *id)
{
	struct user u;
	struct rs_err err = {0};

	fx_expect(users_get(f->core, &f->platform, tid, id, &f->a, &u, &err), &err, RS_OK, NULL);
	return u;
}

static const char *role(struct fx *f, const char *tid, const char *name, const char *scope,
			int rank, const char *d, const char *const *perms)
{
	struct role_create_req q = {
	    .name = name, .scope = scope, .rank = rank, .department_id = d, .permissions = perms};
	struct role r;
	struct rs_err err = {0};

	while (perms[q.npermissions])
		q.npermissions++;
	fx_expect_at(roles_create(f->core, &f->platform, tid, &q, &f->a, &r, &err), &err, RS_OK,
		     NULL, __FILE__, __LINE__, name);
	return r.id;
}

/* Everything a department or user write could touch, as text: the tenant's departments (with
 * their managers and counts), its live users, and the trails (audit, jobs, role assignments,
 * managers) of the whole store. */
static const char *snapshot(struct fx *f, const char *tid)
{
	struct department_list_query dq = {.page.limit = 100};
	struct user_list_query uq = {.page.limit = 100};
	const char *s = "";

	for (;;) {
		struct department_list l;
		struct rs_err err = {0};

		fx_expect(departments_list(f->core, &f->platform, tid, &dq, &f->a, &l, &err), &err,
			  RS_OK, NULL);
		for (int i = 0; i < l.n; i++) {
			struct department d = dget(f, tid, l.items[i].id);

			s = arena_printf(&f->a, "%sD %s %s p=%s d=%s v=%lld u=%lld c=%lld m=", s,
					 d.id, d.name, N(d.parent_id), N(d.description),
					 (long long)d.version, (long long)d.user_count,
					 (long long)d.child_count);
			for (int j = 0; j < d.nmanagers; j++)
				s = arena_printf(&f->a, "%s%s,", s, d.managers[j].id);
			s = arena_printf(&f->a, "%s\n", s);
		}
		if (!l.next_cursor)
			break;
		dq.page.cursor = l.next_cursor;
	}
	for (;;) {
		struct user_list l;
		struct rs_err err = {0};

		fx_expect(users_list(f->core, &f->platform, tid, &uq, &f->a, &l, &err), &err, RS_OK,
			  NULL);
		for (int i = 0; i < l.n; i++) {
			const struct user *u = &l.items[i];

			s = arena_printf(&f->a, "%sU %s %s d=%s v=%lld %s %s r=%d\n", s, u->id,
					 u->username, N(u->department_id), (long long)u->version,
					 u->status, N(u->description), u->nroles);
		}
		if (!l.next_cursor)
			break;
		uq.page.cursor = l.next_cursor;
	}
	return arena_printf(
	    &f->a, "%saudit=%lld jobs=%lld user_roles=%lld managers=%lld roles=%lld inv=%lld\n", s,
	    (long long)fx_sql_int(f, "SELECT count(*) FROM audit_events"),
	    (long long)fx_sql_int(f, "SELECT count(*) FROM jobs"),
	    (long long)fx_sql_int(f, "SELECT count(*) FROM user_roles"),
	    (long long)fx_sql_int(f, "SELECT count(*) FROM department_managers"),
	    (long long)fx_sql_int(f, "SELECT count(*) FROM roles"),
	    (long long)fx_sql_int(f, "SELECT count(*) FROM invitations"));
}

#define expect_unchanged(f, tid, before) assert_string_equal(snapshot((f), (tid)), (before))

/* ---- the tree ----------------------------------------------------------------------------------
 */

static void test_create_root_and_child(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *other = fx_tenant(f, "other", NULL);
	const char *r = dept(f, tid, "Security", NULL);
	const char *c = dept(f, tid, "SOC", r);
	const char *g = dept(f, tid, "Tier 2", c);
	struct department d = dget(f, tid, g);
	struct department_list_query q = {.roots = true};
	struct department_list l;
	struct rs_err err = {0};
	const char *before;

	assert_string_equal(d.parent_id, c);
	assert_int_equal(d.npath, 3);
	assert_string_equal(d.path[0], "Security");
	assert_string_equal(d.path[1], "SOC");
	assert_string_equal(d.path[2], "Tier 2");
	assert_int_equal(d.version, 1);
	d = dget(f, tid, r);
	assert_null(d.parent_id);
	assert_int_equal(d.npath, 1);
	assert_int_equal(d.child_count, 1);
	fx_expect(departments_list(f->core, &f->platform, tid, &q, &f->a, &l, &err), &err, RS_OK,
		  NULL);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].id, r);
	q = (struct department_list_query){.parent_id = r};
	fx_expect(departments_list(f->core, &f->platform, tid, &q, &f->a, &l, &err), &err, RS_OK,
		  NULL);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].id, c);

	/* A parent that does not exist, is not an id, or is another tenant's. */
	before = snapshot(f, tid);
	fx_expect(create_in(f, tid, "x", S("01890000-0000-7000-8000-000000000000"), &err), &err,
		  RS_E_INVALID, "request.invalid_field");
	assert_string_equal(err.field, "parent_id");
	fx_expect(create_in(f, tid, "x", S("R&D"), &err), &err, RS_E_INVALID,
		  "request.invalid_field");
	fx_expect(create_in(f, other, "x", S(r), &err), &err, RS_E_INVALID,
		  "request.invalid_field");
	fx_expect(create_in(f, tid, "", NUL, &err), &err, RS_E_INVALID, "request.invalid_field");
	expect_unchanged(f, tid, before);
	fx_expect(departments_get(f->core, &f->platform, other, r, &f->a, &d, &err), &err,
		  RS_E_NOT_FOUND, "department.not_found");
}

static void test_sibling_names(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *other = fx_tenant(f, "other", NULL);
	const char *r = dept(f, tid, "Root", NULL);
	const char *r2 = dept(f, tid, "Root2", NULL);
	const char *sales = dept(f, tid, "Sales", r);
	const char *ops = dept(f, tid, "Ops", r);
	const char *sales2 = dept(f, tid, "sales", r2); /* another parent: fine */
	const char *stray = dept(f, tid, "Ops", r2);
	static const char *const dups[] = {"Sales", "sales", "SALES", "sAlEs"};
	struct rs_err err = {0};
	const char *before = snapshot(f, tid);

	(void)sales;
	(void)sales2;
	for (size_t i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
		fx_expect(create_in(f, tid, dups[i], S(r), &err), &err, RS_E_CONFLICT,
			  "department.name_taken");
		assert_string_equal(err.field, "name");
		fx_expect(rename_to(f, tid, ops, dups[i], 0, &err), &err, RS_E_CONFLICT,
			  "department.name_taken");
	}
	/* Roots are siblings of each other: a NULL parent must clash too. */
	fx_expect(create_in(f, tid, "ROOT", NUL, &err), &err, RS_E_CONFLICT,
		  "department.name_taken");
	fx_expect(create_in(f, tid, "root", (struct opt_str){0}, &err), &err, RS_E_CONFLICT,
		  "department.name_taken");
	fx_expect(rename_to(f, tid, r2, "root", 0, &err), &err, RS_E_CONFLICT,
		  "department.name_taken");
	/* A move into a parent (or to the roots) that already has the name. */
	fx_expect(move(f, tid, stray, S(r), &err), &err, RS_E_CONFLICT, "department.name_taken");
	{
		const char *nested = dept(f, tid, "root2", r);

		before = snapshot(f, tid);
		fx_expect(move(f, tid, nested, NUL, &err), &err, RS_E_CONFLICT,
			  "department.name_taken");
	}
	expect_unchanged(f, tid, before);
	/* Another tenant has its own namespace; a department may change its own name's case. */
	dept(f, other, "Root", NULL);
	fx_expect(rename_to(f, tid, r, "ROOT", 0, &err), &err, RS_OK, NULL);
	assert_string_equal(dget(f, tid, r).name, "ROOT");
}

static void test_cycle(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *a = dept(f, tid, "A", NULL);
	const char *b = dept(f, tid, "B", a);
	const char *c = dept(f, tid, "C", b);
	struct rs_err err = {0};
	const char *before = snapshot(f, tid);

	fx_expect(move(f, tid, a, S(a), &err), &err, RS_E_CONFLICT, "department.cycle");
	assert_string_equal(err.field, "parent_id");
	fx_expect(move(f, tid, a, S(b), &err), &err, RS_E_CONFLICT, "department.cycle");
	fx_expect(move(f, tid, a, S(c), &err), &err, RS_E_CONFLICT, "department.cycle");
	fx_expect(move(f, tid, b, S(c), &err), &err, RS_E_CONFLICT, "department.cycle");
	fx_expect(move(f, tid, b, S(b), &err), &err, RS_E_CONFLICT, "department.cycle");
	expect_unchanged(f, tid, before);
	/* Upwards and sideways are fine. */
	fx_expect(move(f, tid, c, S(a), &err), &err, RS_OK, NULL);
	fx_expect(move(f, tid, b, NUL, &err), &err, RS_OK, NULL);
	fx_expect(move(f, tid, a, S(b), &err), &err, RS_OK, NULL);
	assert_string_equal(dget(f, tid, c).path[0], "B");
}

static void test_depth(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *chain[RS_DEPT_DEPTH_MAX];
	const char *x, *y, *z, *before;
	struct rs_err err = {0};

	/* chain[i] is at level i + 1: the last one is as deep as a tree goes. */
	for (int i = 0; i < RS_DEPT_DEPTH_MAX; i++)
		chain[i] = dept(f, tid, arena_printf(&f->a, "L%d", i + 1), i ? chain[i - 1] : NULL);
	assert_int_equal(dget(f, tid, chain[RS_DEPT_DEPTH_MAX - 1]).npath, RS_DEPT_DEPTH_MAX);
	x = dept(f, tid, "X", NULL);
	y = dept(f, tid, "Y", x);
	z = dept(f, tid, "Z", NULL);
	before = snapshot(f, tid);
	fx_expect(create_in(f, tid, "deeper", S(chain[RS_DEPT_DEPTH_MAX - 1]), &err), &err,
		  RS_E_CONFLICT, "department.too_deep");
	/* A leaf under the last level; X's child would land one level too deep. */
	fx_expect(move(f, tid, z, S(chain[RS_DEPT_DEPTH_MAX - 1]), &err), &err, RS_E_CONFLICT,
		  "department.too_deep");
	fx_expect(move(f, tid, x, S(chain[RS_DEPT_DEPTH_MAX - 2]), &err), &err, RS_E_CONFLICT,
		  "department.too_deep");
	expect_unchanged(f, tid, before);
	/* Exactly at the limit is fine. */
	fx_expect(move(f, tid, z, S(chain[RS_DEPT_DEPTH_MAX - 2]), &err), &err, RS_OK, NULL);
	assert_int_equal(dget(f, tid, z).npath, RS_DEPT_DEPTH_MAX);
	fx_expect(move(f, tid, x, S(chain[RS_DEPT_DEPTH_MAX - 3]), &err), &err, RS_OK, NULL);
	assert_int_equal(dget(f, tid, y).npath, RS_DEPT_DEPTH_MAX);
	/* Deleting X with move_to: Y lands one level below the target. */
	before = snapshot(f, tid);
	fx_expect(departments_delete(f->core, &f->platform, tid, x, 0, chain[RS_DEPT_DEPTH_MAX - 1],
				     &err),
		  &err, RS_E_CONFLICT, "department.too_deep");
	expect_unchanged(f, tid, before);
	fx_expect(departments_delete(f->core, &f->platform, tid, x, 0, chain[RS_DEPT_DEPTH_MAX - 2],
				     &err),
		  &err, RS_OK, NULL);
	assert_int_equal(dget(f, tid, y).npath, RS_DEPT_DEPTH_MAX);
}

/* The per-tenant count: the rows up to one below the limit go in directly (creating ten
 * thousand through the core would take the test's whole budget). */
static void test_count_limit(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *other = fx_tenant(f, "other", NULL);
	struct rs_err err = {0};

	fx_sql(f, arena_printf(&f->a,
			       "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
			       "WHERE i < %d) INSERT INTO departments (tenant_id, id, name, "
			       "name_key, parent_id, description, created_at, updated_at) SELECT "
			       "'%s', 'bulk-' || i, 'bulk' || i, 'bulk' || i, NULL, NULL, 0, 0 "
			       "FROM s",
			       RS_DEPTS_PER_TENANT_MAX - 1, tid));
	fx_expect(create_in(f, tid, "last", NUL, &err), &err, RS_OK, NULL);
	fx_expect(create_in(f, tid, "one too many", NUL, &err), &err, RS_E_CONFLICT,
		  "department.limit_reached");
	assert_int_equal(fx_sql_int(f, arena_printf(&f->a,
						    "SELECT count(*) FROM departments WHERE "
						    "tenant_id = '%s'",
						    tid)),
			 RS_DEPTS_PER_TENANT_MAX);
	/* The limit is per tenant. */
	fx_expect(create_in(f, other, "one too many", NUL, &err), &err, RS_OK, NULL);
}

static void test_rename_if_match(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *a = dept(f, tid, "A", NULL);
	const char *b = dept(f, tid, "B", a);
	struct department_fields df = {.description = S("the A team")};
	struct department d;
	struct rs_err err = {0};
	const char *before;
	int64_t audit = fx_sql_int(f, "SELECT count(*) FROM audit_events");

	fx_expect(rename_to(f, tid, a, "Alpha", 1, &err), &err, RS_OK, NULL);
	d = dget(f, tid, a);
	assert_string_equal(d.name, "Alpha");
	assert_int_equal(d.version, 2);
	assert_string_equal(dget(f, tid, b).path[0], "Alpha"); /* the path follows */
	assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM audit_events"), audit + 1);
	before = snapshot(f, tid);
	fx_expect(rename_to(f, tid, a, "Beta", 1, &err), &err, RS_E_PRECONDITION,
		  "request.precondition_failed");
	fx_expect(rename_to(f, tid, a, "Beta", 3, &err), &err, RS_E_PRECONDITION,
		  "request.precondition_failed");
	fx_expect(departments_delete(f->core, &f->platform, tid, b, 7, NULL, &err), &err,
		  RS_E_PRECONDITION, "request.precondition_failed");
	expect_unchanged(f, tid, before);
	fx_expect(departments_update(f->core, &f->platform, tid, a, &df, 2, &f->a, &d, &err), &err,
		  RS_OK, NULL);
	assert_string_equal(d.description, "the A team");
	assert_string_equal(d.name, "Alpha");
	assert_int_equal(d.version, 3);
	fx_expect(departments_delete(f->core, &f->platform, tid, b, 1, NULL, &err), &err, RS_OK,
		  NULL);
}

/* ---- deletion ----------------------------------------------------------------------------------
 */

static void test_delete_not_empty(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *with_user = dept(f, tid, "WithUser", NULL);
	const char *with_child = dept(f, tid, "WithChild", NULL);
	const char *leaf = dept(f, tid, "Leaf", with_child);
	const char *u = duser(f, tid, "alice", with_user);
	const char *before = snapshot(f, tid);
	struct department d;
	struct rs_err err = {0};

	fx_expect(departments_delete(f->core, &f->platform, tid, with_user, 0, NULL, &err), &err,
		  RS_E_CONFLICT, "department.not_empty");
	fx_expect(departments_delete(f->core, &f->platform, tid, with_child, 0, NULL, &err), &err,
		  RS_E_CONFLICT, "department.not_empty");
	expect_unchanged(f, tid, before);
	fx_expect(departments_delete(f->core, &f->platform, tid, leaf, 0, NULL, &err), &err, RS_OK,
		  NULL);
	fx_expect(departments_get(f->core, &f->platform, tid, leaf, &f->a, &d, &err), &err,
		  RS_E_NOT_FOUND, "department.not_found");
	fx_expect(departments_delete(f->core, &f->platform, tid, with_child, 0, NULL, &err), &err,
		  RS_OK, NULL);
	/* A deleted user no longer keeps its department busy. */
	fx_expect(fx_delete(f, &f->platform, tid, u, 0, &err), &err, RS_OK, NULL);
	fx_expect(departments_delete(f->core, &f->platform, tid, with_user, 0, NULL, &err), &err,
		  RS_OK, NULL);
}

static void test_delete_move_to(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *d = dept(f, tid, "Doomed", NULL);
	const char *c1 = dept(f, tid, "Child", d);
	const char *g1 = dept(f, tid, "Grandchild", c1);
	const char *t = dept(f, tid, "Target", NULL);
	const char *clash = dept(f, tid, "Clash", NULL);
	const char *u1 = duser(f, tid, "u1", d);
	const char *u2 = duser(f, tid, "u2", d);
	const char *u3 = duser(f, tid, "u3", c1);
	const char *m = duser(f, tid, "boss", NULL);
	const char *before;
	struct department got;
	struct rs_err err = {0};

	dept(f, tid, "child", clash); /* a name one of Doomed's children has */
	fx_expect(departments_manager_add(f->core, &f->platform, tid, d, m, &err), &err, RS_OK,
		  NULL);
	before = snapshot(f, tid);
	/* Inside the deleted subtree, the department itself, unknown, not an id. */
	fx_expect(departments_delete(f->core, &f->platform, tid, d, 0, c1, &err), &err,
		  RS_E_CONFLICT, "department.move_into_subtree");
	assert_string_equal(err.field, "move_to");
	fx_expect(departments_delete(f->core, &f->platform, tid, d, 0, g1, &err), &err,
		  RS_E_CONFLICT, "department.move_into_subtree");
	fx_expect(departments_delete(f->core, &f->platform, tid, d, 0, d, &err), &err,
		  RS_E_CONFLICT, "department.move_into_subtree");
	fx_expect(departments_delete(f->core, &f->platform, tid, d, 0,
				     "01890000-0000-7000-8000-000000000000", &err),
		  &err, RS_E_INVALID, "request.invalid_parameter");
	assert_string_equal(err.field, "move_to");
	fx_expect(departments_delete(f->core, &f->platform, tid, d, 0, "nope", &err), &err,
		  RS_E_INVALID, "request.invalid_parameter");
	/* A child's name is taken under the target: nothing moves, users included. */
	fx_expect(departments_delete(f->core, &f->platform, tid, d, 0, clash, &err), &err,
		  RS_E_CONFLICT, "department.name_taken");
	expect_unchanged(f, tid, before);

	fx_expect(departments_delete(f->core, &f->platform, tid, d, 0, t, &err), &err, RS_OK, NULL);
	fx_expect(departments_get(f->core, &f->platform, tid, d, &f->a, &got, &err), &err,
		  RS_E_NOT_FOUND, "department.not_found");
	assert_string_equal(uget(f, tid, u1).department_id, t);
	assert_string_equal(uget(f, tid, u2).department_id, t);
	assert_string_equal(uget(f, tid, u3).department_id, c1); /* its subtree moved whole */
	assert_string_equal(dget(f, tid, c1).parent_id, t);
	assert_string_equal(dget(f, tid, g1).parent_id, c1);
	assert_int_equal(dget(f, tid, g1).npath, 3);
	got = dget(f, tid, t);
	assert_int_equal(got.user_count, 2);
	assert_int_equal(got.child_count, 1);
	assert_int_equal(got.nmanagers, 0);
	assert_int_equal(
	    fx_sql_int(f, arena_printf(&f->a,
				       "SELECT count(*) FROM department_managers WHERE "
				       "department_id = '%s'",
				       d)),
	    0);
}

static void test_delete_in_use(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *d = dept(f, tid, "Scoped", NULL);
	const char *t = dept(f, tid, "Target", NULL);
	static const char *const perms[] = {"users.read", NULL};
	const char *r = role(f, tid, "D readers", "tenant", 100, d, perms);
	const char *before = snapshot(f, tid);
	struct rs_err err = {0};

	fx_expect(departments_delete(f->core, &f->platform, tid, d, 0, NULL, &err), &err,
		  RS_E_CONFLICT, "department.in_use");
	fx_expect(departments_delete(f->core, &f->platform, tid, d, 0, t, &err), &err,
		  RS_E_CONFLICT, "department.in_use");
	expect_unchanged(f, tid, before);
	fx_expect(roles_delete(f->core, &f->platform, tid, r, 0, &err), &err, RS_OK, NULL);
	fx_expect(departments_delete(f->core, &f->platform, tid, d, 0, NULL, &err), &err, RS_OK,
		  NULL);
}

static void test_managers(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "acme", NULL);
	const char *other = fx_tenant(f, "other", NULL);
	const char *d = dept(f, tid, "D", NULL);
	const char *alice = duser(f, tid, "alice", NULL);
	const char *bob = duser(f, tid, "bob", NULL);
	const char *gone = duser(f, tid, "gone", NULL);
	const char *foreign = duser(f, other, "alice", NULL);
	const char *before;
	struct department got;
	struct rs_err err = {0};
	int64_t audit;

	fx_expect(departments_manager_add(f->core, &f->platform, tid, d, bob, &err), &err, RS_OK,
		  NULL);
	fx_expect(departments_manager_add(f->core, &f->platform, tid, d, alice, &err), &err, RS_OK,
		  NULL);
	audit = fx_sql_int(f, "SELECT count(*) FROM audit_events");
	fx_expect(departments_manager_add(f->core, &f->platform, tid, d, alice, &err), &err, RS_OK,
		  NULL); /* again: nothing to do, nothing audited */
	assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM audit_events"), audit);
	got = dget(f, tid, d);
	assert_int_equal(got.nmanagers, 2);
	assert_string_equal(got.managers[0].id, alice); /* by username */
	assert_string_equal(got.managers[1].id, bob);
	fx_expect(fx_delete(f, &f->platform, tid, gone, 0, &err), &err, RS_OK, NULL);

	before = snapshot(f, tid);
	fx_expect(departments_manager_add(f->core, &f->platform, tid, d,
					  "01890000-0000-7000-8000-000000000000", &err),
		  &err, RS_E_NOT_FOUND, "user.not_found");
	fx_expect(departments_manager_add(f->core, &f->platform, tid, d, foreign, &err), &err,
		  RS_E_NOT_FOUND, "user.not_found");
	fx_expect(departments_manager_add(f->core, &f->platform, tid, d, gone, &err), &err,
		  RS_E_NOT_FOUND, "user.not_found");
	fx_expect(departments_manager_add(f->core, &f->platform, other, d, foreign, &err), &err,
		  RS_E_NOT_FOUND, "department.not_found");
	fx_expect(departments_manager_remove(f->core, &f->platform, tid, d, gone, &err), &err,
		  RS_E_NOT_FOUND, "user.not_found");
	expect_unchanged(f, tid, before);

	fx_expect(departments_manager_remove(f->core, &f->platform, tid, d, alice, &err), &err,
		  RS_OK, NULL);
	got = dget(f, tid, d);
	assert_int_equal(got.nmanagers, 1);
	assert_string_equal(got.managers[0].id, bob);
	before = snapshot(f, tid);
	fx_expect(departments_manager_remove(f->core, &f->platform, tid, d, alice, &err), &err,
		  RS_E_NOT_FOUND, "department.not_manager");
	expect_unchanged(f, tid, before);
}

/* ---- scoped roles ------------------------------------------------------------------------------
 */

struct scoped {
	const char *tid, *a, *a1, *a2, *b;
	const char *ua, *ua2, *ub, *un, *me;
	struct actor who;
};

/* A tenant A > A1 > A2, B; an actor whose system role grants nothing on users and whose
 * "A admin" role does, within A's subtree; users in A, A2, B and in none. */
static void scoped_setup(struct fx *f, struct scoped *s)
{
	static const char *const nothing[] = {"tenant.read", NULL};
	static const char *const admin[] = {"users.read",
					    "users.create",
					    "users.update",
					    "users.suspend",
					    "users.delete",
					    "roles.assign",
					    NULL};
	static const char *const roles[] = {"A admin", NULL};

	s->tid = fx_tenant(f, "acme", NULL);
	s->a = dept(f, s->tid, "A", NULL);
	s->a1 = dept(f, s->tid, "A1", s->a);
	s->a2 = dept(f, s->tid, "A2", s->a1);
	s->b = dept(f, s->tid, "B", NULL);
	role(f, s->tid, "Nobody", "system", 50, NULL, nothing);
	role(f, s->tid, "A admin", "tenant", 600, s->a, admin);
	s->me = fx_user_actor(f, s->tid, "scoped", "Nobody", roles, &s->who);
	assert_false(s->who.perms & PERM_BIT(PERM_USERS_READ));
	assert_int_equal(s->who.nscopes, 1);
	s->ua = duser(f, s->tid, "ua", s->a);
	s->ua2 = duser(f, s->tid, "ua2", s->a2);
	s->ub = duser(f, s->tid, "ub", s->b);
	s->un = duser(f, s->tid, "un", NULL);
}

static void test_scope_reads(void **state)
{
	struct fx *f = *state;
	struct scoped s;
	const char *outside[3];
	struct user u;
	struct user_list l;
	struct user_list_query q = {0};
	struct department_list dl;
	struct department_list_query dq = {0};
	struct rs_err err = {0};

	scoped_setup(f, &s);
	outside[0] = s.ub;
	outside[1] = s.un;
	outside[2] = "01890000-0000-7000-8000-000000000000"; /* nobody at all: the same answer */
	fx_expect(users_get(f->core, &s.who, s.tid, s.ua, &f->a, &u, &err), &err, RS_OK, NULL);
	fx_expect(users_get(f->core, &s.who, s.tid, s.ua2, &f->a, &u, &err), &err, RS_OK, NULL);
	for (int i = 0; i < 3; i++) {
		fx_expect(users_get(f->core, &s.who, s.tid, outside[i], &f->a, &u, &err), &err,
			  RS_E_NOT_FOUND, "user.not_found");
		assert_string_equal(err.msg, "no such user");
	}
	/* The list is A's subtree, whatever the filters add. */
	fx_expect(users_list(f->core, &s.who, s.tid, &q, &f->a, &l, &err), &err, RS_OK, NULL);
	assert_int_equal(l.n, 2);
	assert_true((strcmp(l.items[0].id, s.ua) == 0 && strcmp(l.items[1].id, s.ua2) == 0) ||
		    (strcmp(l.items[0].id, s.ua2) == 0 && strcmp(l.items[1].id, s.ua) == 0));
	q.department_id = s.b;
	fx_expect(users_list(f->core, &s.who, s.tid, &q, &f->a, &l, &err), &err, RS_OK, NULL);
	assert_int_equal(l.n, 0);
	q.department_id = s.a1;
	fx_expect(users_list(f->core, &s.who, s.tid, &q, &f->a, &l, &err), &err, RS_OK, NULL);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].id, s.ua2);
	/* The tree itself is not secret from a scoped reader. */
	fx_expect(departments_list(f->core, &s.who, s.tid, &dq, &f->a, &dl, &err), &err, RS_OK,
		  NULL);
	assert_int_equal(dl.n, 4);
}

static void test_scope_writes(void **state)
{
	struct fx *f = *state;
	struct scoped s;
	struct user u;
	struct task task;
	struct user_fields edit = {.description = S("edited")};
	struct user_transition_req suspend = {.what = USER_SUSPEND, .reason = "r"};
	struct rs_err err = {0};
	const char *before;

	scoped_setup(f, &s);
	/* Inside A's subtree: read, edit, suspend, move within it, create in it. */
	fx_expect(users_update(f->core, &s.who, s.tid, s.ua, &edit, 0, &f->a, &u, &err), &err,
		  RS_OK, NULL);
	fx_expect(users_update(f->core, &s.who, s.tid, s.ua2, &edit, 0, &f->a, &u, &err), &err,
		  RS_OK, NULL);
	fx_expect(users_transition(f->core, &s.who, s.tid, s.ua2, &suspend, &f->a, &u, &err), &err,
		  RS_OK, NULL);
	{
		struct user_fields mv = {.department_id = S(s.a1)};
		struct user_fields mk = {.username = S("made"), .department_id = S(s.a2)};

		fx_expect(users_update(f->core, &s.who, s.tid, s.ua, &mv, 0, &f->a, &u, &err), &err,
			  RS_OK, NULL);
		fx_expect(users_create(f->core, &s.who, s.tid, &mk, &f->a, &u, &err), &err, RS_OK,
			  NULL);
	}

	/* Outside it: as missing as a user who never was, and nothing changes. */
	before = snapshot(f, s.tid);
	for (int i = 0; i < 2; i++) {
		const char *id = i ? s.un : s.ub;

		fx_expect(users_update(f->core, &s.who, s.tid, id, &edit, 0, &f->a, &u, &err), &err,
			  RS_E_NOT_FOUND, "user.not_found");
		fx_expect(users_update(f->core, &s.who, s.tid, id, &edit, 99, &f->a, &u, &err),
			  &err, RS_E_NOT_FOUND, "user.not_found"); /* before If-Match */
		fx_expect(users_transition(f->core, &s.who, s.tid, id, &suspend, &f->a, &u, &err),
			  &err, RS_E_NOT_FOUND, "user.not_found");
		fx_expect(users_delete(f->core, &s.who, s.tid, id, 0, NULL, &f->a, &task, &err),
			  &err, RS_E_NOT_FOUND, "user.not_found");
	}
	/* Moving one of its users out, or making one outside, needs the permission there. */
	{
		struct user_fields to_b = {.department_id = S(s.b)};
		struct user_fields to_none = {.department_id = NUL};
		struct user_fields mk_b = {.username = S("nb"), .department_id = S(s.b)};
		struct user_fields mk_none = {.username = S("nn")};

		fx_expect(users_update(f->core, &s.who, s.tid, s.ua, &to_b, 0, &f->a, &u, &err),
			  &err, RS_E_FORBIDDEN, "auth.permission_denied");
		assert_string_equal(err.field, "department_id");
		fx_expect(users_update(f->core, &s.who, s.tid, s.ua, &to_none, 0, &f->a, &u, &err),
			  &err, RS_E_FORBIDDEN, "auth.permission_denied");
		fx_expect(users_create(f->core, &s.who, s.tid, &mk_b, &f->a, &u, &err), &err,
			  RS_E_FORBIDDEN, "auth.permission_denied");
		fx_expect(users_create(f->core, &s.who, s.tid, &mk_none, &f->a, &u, &err), &err,
			  RS_E_FORBIDDEN, "auth.permission_denied");
	}
	expect_unchanged(f, s.tid, before);

	/* Read but not write in B: 403, not 404. */
	{
		static const char *const read[] = {"users.read", NULL};
		static const char *const both[] = {"A admin", "B reader", NULL};
		struct user_fields p = {.roles_set = true, .roles = both, .nroles = 2};
		struct actor who2;

		role(f, s.tid, "B reader", "tenant", 100, s.b, read);
		fx_expect(users_update(f->core, &f->platform, s.tid, s.me, &p, 0, &f->a, &u, &err),
			  &err, RS_OK, NULL);
		fx_actor(f, s.tid, s.me, NULL, &who2);
		before = snapshot(f, s.tid);
		fx_expect(users_get(f->core, &who2, s.tid, s.ub, &f->a, &u, &err), &err, RS_OK,
			  NULL);
		fx_expect(users_update(f->core, &who2, s.tid, s.ub, &edit, 0, &f->a, &u, &err),
			  &err, RS_E_FORBIDDEN, "auth.permission_denied");
		fx_expect(users_get(f->core, &who2, s.tid, s.un, &f->a, &u, &err), &err,
			  RS_E_NOT_FOUND, "user.not_found");
		expect_unchanged(f, s.tid, before);
	}
}

/* Every other operation on one user checks the scope the same way: a user in B is missing,
 * while the same call on a user in A works (so the 404 comes from the scope). */
static void test_scope_every_path(void **state)
{
	struct fx *f = *state;
	struct scoped s;
	struct user u;
	struct session_list sl;
	struct login_failure_list fl;
	struct page pg = {0};
	struct invitation inv_a, inv_b, out;
	struct opt_str no_message = {0};
	struct user_fields roles = {.system_role = S("Member")};
	const char *link, *before;
	struct rs_err err = {0};

	scoped_setup(f, &s);
	{
		struct user_fields ia = {.email = S("ia@example.org"), .department_id = S(s.a)};
		struct user_fields ib = {.email = S("ib@example.org"), .department_id = S(s.b)};

		fx_expect(invitations_create(f->core, &f->platform, s.tid, &ia, NULL, &f->a, &inv_a,
					     &link, &err),
			  &err, RS_OK, NULL);
		fx_expect(invitations_create(f->core, &f->platform, s.tid, &ib, NULL, &f->a, &inv_b,
					     &link, &err),
			  &err, RS_OK, NULL);
	}
	before = snapshot(f, s.tid);
	fx_expect(users_unlock(f->core, &s.who, s.tid, s.ub, &f->a, &u, &err), &err, RS_E_NOT_FOUND,
		  "user.not_found");
	fx_expect(login_failures_list(f->core, &s.who, s.tid, s.ub, &pg, &f->a, &fl, &err), &err,
		  RS_E_NOT_FOUND, "user.not_found");
	fx_expect(sessions_list(f->core, &s.who, s.tid, s.ub, &f->a, &sl, &err), &err,
		  RS_E_NOT_FOUND, "user.not_found");
	fx_expect(sessions_revoke(f->core, &s.who, s.tid, s.ub, NULL, &err), &err, RS_E_NOT_FOUND,
		  "user.not_found");
	fx_expect(users_password_set(f->core, &s.who, s.tid, s.ub, "a long enough passphrase 42",
				     false, &err),
		  &err, RS_E_NOT_FOUND, "user.not_found");
	fx_expect(users_update(f->core, &s.who, s.tid, s.ub, &roles, 0, &f->a, &u, &err), &err,
		  RS_E_NOT_FOUND, "user.not_found");
	fx_expect(invitations_resend(f->core, &s.who, s.tid, inv_b.id, &(struct user_fields){0},
				     &no_message, &f->a, &out, &link, &err),
		  &err, RS_E_NOT_FOUND, "invitation.not_found");
	fx_expect(invitations_revoke(f->core, &s.who, s.tid, inv_b.id, &err), &err, RS_E_NOT_FOUND,
		  "invitation.not_found");
	expect_unchanged(f, s.tid, before);

	fx_expect(users_unlock(f->core, &s.who, s.tid, s.ua, &f->a, &u, &err), &err, RS_OK, NULL);
	fx_expect(login_failures_list(f->core, &s.who, s.tid, s.ua, &pg, &f->a, &fl, &err), &err,
		  RS_OK, NULL);
	fx_expect(sessions_list(f->core, &s.who, s.tid, s.ua, &f->a, &sl, &err), &err, RS_OK, NULL);
	fx_expect(sessions_revoke(f->core, &s.who, s.tid, s.ua, NULL, &err), &err, RS_OK, NULL);
	fx_expect(users_password_set(f->core, &s.who, s.tid, s.ua, "a long enough passphrase 42",
				     false, &err),
		  &err, RS_OK, NULL);
	fx_expect(users_update(f->core, &s.who, s.tid, s.ua, &roles, 0, &f->a, &u, &err), &err,
		  RS_OK, NULL);
	fx_expect(invitations_resend(f->core, &s.who, s.tid, inv_a.id, &(struct user_fields){0},
				     &no_message, &f->a, &out, &link, &err),
		  &err, RS_OK, NULL);
	fx_expect(invitations_revoke(f->core, &s.who, s.tid, inv_a.id, &err), &err, RS_OK, NULL);
}

/* transfer_to names a user too: one outside the actor's subtrees is refused exactly as an id
 * that names nobody (deleting or deactivating a user of A must not tell whether a user exists
 * in B, nor hand A's resources to one). */
static void test_scope_transfer_to(void **state)
{
	struct fx *f = *state;
	struct scoped s;
	struct task task;
	struct user u;
	struct user_transition_req deact = {.what = USER_DEACTIVATE, .reason = "r"};
	char ghost_msg[sizeof(((struct rs_err *)0)->msg)];
	const char *ghost = "01890000-0000-7000-8000-000000000000", *before;
	struct rs_err err = {0};

	scoped_setup(f, &s);
	before = snapshot(f, s.tid);
	fx_expect(users_delete(f->core, &s.who, s.tid, s.ua, 0, ghost, &f->a, &task, &err), &err,
		  RS_E_INVALID, "request.invalid_field");
	assert_string_equal(err.field, "transfer_to");
	snprintf(ghost_msg, sizeof(ghost_msg), "%s", err.msg);
	for (int i = 0; i < 2; i++) {
		const char *to = i ? s.un : s.ub;

		fx_expect(users_delete(f->core, &s.who, s.tid, s.ua, 0, to, &f->a, &task, &err),
			  &err, RS_E_INVALID, "request.invalid_field");
		assert_string_equal(err.field, "transfer_to");
		assert_string_equal(err.msg, ghost_msg);
		deact.transfer_to = to;
		fx_expect(users_transition(f->core, &s.who, s.tid, s.ua, &deact, &f->a, &u, &err),
			  &err, RS_E_INVALID, "request.invalid_field");
		assert_string_equal(err.msg, ghost_msg);
	}
	expect_unchanged(f, s.tid, before);
	/* Inside the subtree it is a valid target; a tenant-wide actor may name anyone. */
	deact.transfer_to = s.ua2;
	fx_expect(users_transition(f->core, &s.who, s.tid, s.ua, &deact, &f->a, &u, &err), &err,
		  RS_OK, NULL);
	fx_expect(users_delete(f->core, &f->platform, s.tid, s.ua2, 0, s.ub, &f->a, &task, &err),
		  &err, RS_OK, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_root_and_child, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_sibling_names, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_cycle, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_depth, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_count_limit, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rename_if_match, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_delete_not_empty, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_delete_move_to, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_delete_in_use, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_managers, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_scope_reads, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_scope_writes, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_scope_every_path, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_scope_transfer_to, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("core/departments", tests, NULL, NULL);
}
