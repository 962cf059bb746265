/* core/groups.c: groups_apply() (fields and members in one transaction: a refused member, a
 * stale If-Match, a taken name or an outranked member leave the group, its members and the
 * audit trail as they were; success is one audit event per change and a new version), and
 * groups_select() (predicates over name, external id, times and membership, sort, offset,
 * total). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#define S(x) ((struct opt_str){true, (x)})

struct env {
	struct fx *f;
	const char *tid, *u1, *u2, *u3, *adm, *foreign;
	struct actor acc; /* Accounts Administrator (700): manages groups, outranked by adm */
};

static void env_init(struct env *e, void **state)
{
	struct fx *f = *state;
	const char *other;

	e->f = f;
	e->tid = fx_tenant(f, "tc", "threatconnect");
	e->u1 = fx_user(f, e->tid, "u1", "User", NULL);
	e->u2 = fx_user(f, e->tid, "u2", "User", NULL);
	e->u3 = fx_user(f, e->tid, "u3", "User", NULL);
	e->adm = fx_user(f, e->tid, "adm", "Administrator", NULL);
	fx_user_actor(f, e->tid, "acc", "Accounts Administrator", NULL, &e->acc);
	other = fx_tenant(f, "other", "threatconnect");
	e->foreign = fx_user(f, other, "u9", "User", NULL);
}

static int64_t audit_count(struct env *e)
{
	return fx_sql_int(e->f, arena_printf(&e->f->a,
					     "SELECT count(*) FROM audit_events WHERE "
					     "tenant_id = '%s'",
					     e->tid));
}

/* The sorted member ids of group id, joined by ",". */
static const char *members(struct env *e, const char *id)
{
	struct page pg = {.limit = 200};
	struct member_list ml;
	struct rs_err err = {0};
	const char *s = "";

	fx_expect(groups_members(e->f->core, &e->f->platform, e->tid, id, &pg, &e->f->a, &ml, &err),
		  &err, RS_OK, NULL);
	for (int i = 0; i < ml.n; i++)
		s = arena_printf(&e->f->a, "%s%s%s", s, i ? "," : "", ml.items[i].id);
	return s;
}

static const char *join2(struct env *e, const char *a, const char *b)
{
	return strcmp(a, b) < 0 ? arena_printf(&e->f->a, "%s,%s", a, b)
				: arena_printf(&e->f->a, "%s,%s", b, a);
}

static struct group make(struct env *e, const char *name, const char *ext, const char *const *mem,
			 int n)
{
	struct group_change ch = {.create = true,
				  .f = {.name = S(name), .external_id = S(ext)},
				  .replace_members = true,
				  .members = mem,
				  .nmembers = n};
	struct group g;
	struct rs_err err = {0};

	fx_expect(groups_apply(e->f->core, &e->f->platform, e->tid, &ch, &e->f->a, &g, &err), &err,
		  RS_OK, NULL);
	return g;
}

static struct group get(struct env *e, const char *id)
{
	struct group g;
	struct rs_err err = {0};

	fx_expect(groups_get(e->f->core, &e->f->platform, e->tid, id, &e->f->a, &g, &err), &err,
		  RS_OK, NULL);
	return g;
}

static void test_create_with_members(void **state)
{
	struct env e;
	const char *mem[] = {NULL, NULL};
	struct group g;

	env_init(&e, state);
	mem[0] = e.u1;
	mem[1] = e.u2;
	g = make(&e, "Ops", "ext-1", mem, 2);
	assert_string_equal(g.external_id, "ext-1");
	assert_int_equal(g.member_count, 2);
	assert_string_equal(members(&e, g.id), join2(&e, e.u1, e.u2));
	/* A refused member: no group, no audit event. */
	{
		int64_t before = audit_count(&e);
		const char *bad[] = {e.u3, e.foreign};
		struct group_change ch = {.create = true,
					  .f = {.name = S("Half")},
					  .replace_members = true,
					  .members = bad,
					  .nmembers = 2};
		struct group out;
		struct rs_err err = {0};

		fx_expect(groups_apply(e.f->core, &e.f->platform, e.tid, &ch, &e.f->a, &out, &err),
			  &err, RS_E_INVALID, "group.member_unknown");
		assert_non_null(strstr(err.msg, e.foreign));
		assert_int_equal(audit_count(&e), before);
		fx_expect(groups_get(e.f->core, &e.f->platform, e.tid, "Half", &e.f->a, &out, &err),
			  &err, RS_E_NOT_FOUND, "group.not_found");
	}
}

static void test_apply_is_atomic(void **state)
{
	struct env e;
	const char *mem[1];
	struct group g, out, now;
	struct rs_err err = {0};
	int64_t before;

	env_init(&e, state);
	mem[0] = e.u1;
	g = make(&e, "Ops", "ext-1", mem, 1);
	before = audit_count(&e);
	{
		const char *add[] = {e.u2, "0190a1b2-0000-7000-8000-000000000000", e.u3};
		const char *rm[] = {e.u1};
		struct group_change ch = {.ref = g.id,
					  .if_match = g.version,
					  .f = {.name = S("Renamed"), .external_id = S("ext-2")},
					  .add = add,
					  .nadd = 3,
					  .remove = rm,
					  .nremove = 1};

		fx_expect(groups_apply(e.f->core, &e.f->platform, e.tid, &ch, &e.f->a, &out, &err),
			  &err, RS_E_INVALID, "group.member_unknown");
	}
	/* Another tenant's user reads as a missing one (DESIGN rule 3). */
	{
		const char *add[] = {e.u2, e.foreign};
		struct group_change ch = {.ref = g.id, .add = add, .nadd = 2};

		fx_expect(groups_apply(e.f->core, &e.f->platform, e.tid, &ch, &e.f->a, &out, &err),
			  &err, RS_E_INVALID, "group.member_unknown");
	}
	/* DESIGN rule 2: an outranked member refuses the whole change. */
	{
		const char *add[] = {e.u2, e.adm};
		struct group_change ch = {
		    .ref = g.id, .f = {.name = S("X")}, .add = add, .nadd = 2};

		fx_expect(groups_apply(e.f->core, &e.acc, e.tid, &ch, &e.f->a, &out, &err), &err,
			  RS_E_FORBIDDEN, "rank.outranked");
	}
	/* A stale If-Match. */
	{
		const char *add[] = {e.u2};
		struct group_change ch = {
		    .ref = g.id, .if_match = g.version + 1, .add = add, .nadd = 1};

		fx_expect(groups_apply(e.f->core, &e.f->platform, e.tid, &ch, &e.f->a, &out, &err),
			  &err, RS_E_PRECONDITION, "request.precondition_failed");
	}
	/* A taken name, after member changes in the same call. */
	{
		const char *add[] = {e.u2};
		struct group_change ch = {
		    .ref = g.id, .f = {.name = S("TAKEN")}, .add = add, .nadd = 1};

		(void)make(&e, "taken", NULL, NULL, 0);
		before = audit_count(&e);
		fx_expect(groups_apply(e.f->core, &e.f->platform, e.tid, &ch, &e.f->a, &out, &err),
			  &err, RS_E_CONFLICT, "group.name_taken");
	}
	now = get(&e, g.id);
	assert_string_equal(now.name, "Ops");
	assert_string_equal(now.external_id, "ext-1");
	assert_int_equal(now.version, g.version);
	assert_string_equal(members(&e, g.id), e.u1);
	assert_int_equal(audit_count(&e), before);
}

static void test_apply_success(void **state)
{
	struct env e;
	const char *mem[1];
	struct group g, out;
	struct rs_err err = {0};
	int64_t before;

	env_init(&e, state);
	mem[0] = e.u1;
	g = make(&e, "Ops", NULL, mem, 1);
	before = audit_count(&e);
	{
		const char *add[] = {e.u2, e.u3, e.u2, e.u1}; /* duplicates, one already there */
		const char *rm[] = {e.u1, "0190a1b2-0000-7000-8000-000000000000"};
		struct group_change ch = {.ref = g.id,
					  .if_match = g.version,
					  .f = {.external_id = S("ext-9")},
					  .add = add,
					  .nadd = 4,
					  .remove = rm,
					  .nremove = 2};

		/* Adding and removing u1 at once: the add wins (it is there already). */
		fx_expect(groups_apply(e.f->core, &e.f->platform, e.tid, &ch, &e.f->a, &out, &err),
			  &err, RS_OK, NULL);
	}
	assert_string_equal(out.external_id, "ext-9");
	assert_string_equal(out.name, "Ops");
	assert_int_equal(out.member_count, 3);
	assert_int_equal(out.version, g.version + 2); /* the update, then the member change */
	/* group.update, member_add x2 */
	assert_int_equal(audit_count(&e), before + 3);
	/* replace_members: the set as given. */
	{
		const char *set[] = {e.u3};
		struct group_change ch = {
		    .ref = g.id, .replace_members = true, .members = set, .nmembers = 1};

		fx_expect(groups_apply(e.f->core, &e.f->platform, e.tid, &ch, &e.f->a, &out, &err),
			  &err, RS_OK, NULL);
		assert_string_equal(members(&e, g.id), e.u3);
		assert_int_equal(audit_count(&e), before + 5);
	}
	/* Nothing to change: no audit event, same version. */
	{
		struct group_change ch = {.ref = g.id};
		struct group same;

		fx_expect(groups_apply(e.f->core, &e.f->platform, e.tid, &ch, &e.f->a, &same, &err),
			  &err, RS_OK, NULL);
		assert_int_equal(same.version, out.version);
		assert_int_equal(audit_count(&e), before + 5);
	}
}

/* DESIGN rule 2 on what changes only: restating an outranking member is no change. */
static void test_rank_only_on_change(void **state)
{
	struct env e;
	const char *mem[1];
	struct group g, out;
	struct rs_err err = {0};
	int64_t before;

	env_init(&e, state);
	mem[0] = e.adm;
	g = make(&e, "Admins", NULL, mem, 1);
	{
		const char *set[] = {e.adm, e.u1};
		struct group_change ch = {
		    .ref = g.id, .replace_members = true, .members = set, .nmembers = 2};

		fx_expect(groups_apply(e.f->core, &e.acc, e.tid, &ch, &e.f->a, &out, &err), &err,
			  RS_OK, NULL);
		assert_string_equal(members(&e, g.id), join2(&e, e.adm, e.u1));
	}
	before = audit_count(&e);
	{
		const char *set[] = {e.u2};
		struct group_change ch = {
		    .ref = g.id, .replace_members = true, .members = set, .nmembers = 1};

		fx_expect(groups_apply(e.f->core, &e.acc, e.tid, &ch, &e.f->a, &out, &err), &err,
			  RS_E_FORBIDDEN, "rank.outranked");
	}
	{
		const char *rm[] = {e.adm};
		struct group_change ch = {.ref = g.id, .remove = rm, .nremove = 1};

		fx_expect(groups_apply(e.f->core, &e.acc, e.tid, &ch, &e.f->a, &out, &err), &err,
			  RS_E_FORBIDDEN, "rank.outranked");
	}
	assert_string_equal(members(&e, g.id), join2(&e, e.adm, e.u1));
	assert_int_equal(audit_count(&e), before);
}

static int select_n(struct env *e, const struct pred *where, const char *sort, int offset,
		    int limit, struct group_list *gl)
{
	struct group_query q = {
	    .where = where, .sort = sort, .offset = offset, .limit = limit, .with_total = true};
	struct rs_err err = {0};

	fx_expect(groups_select(e->f->core, &e->f->platform, e->tid, &q, &e->f->a, gl, &err), &err,
		  RS_OK, NULL);
	return gl->n;
}

static void test_select(void **state)
{
	struct env e;
	struct group a, b, c;
	struct group_list gl;
	const char *m1[1], *m2[2];

	env_init(&e, state);
	m1[0] = e.u1;
	m2[0] = e.u1;
	m2[1] = e.u2;
	a = make(&e, "Alpha", "A", m1, 1);
	e.f->now += 1000;
	b = make(&e, "beta", "b", m2, 2);
	e.f->now += 1000;
	c = make(&e, "Gamma", NULL, NULL, 0);

	assert_int_equal(select_n(&e, NULL, NULL, 0, 10, &gl), 3);
	assert_int_equal(gl.total, 3);
	assert_string_equal(gl.items[0].id, a.id);
	assert_int_equal(select_n(&e, NULL, "-name", 1, 1, &gl), 1);
	assert_int_equal(gl.total, 3);
	assert_string_equal(gl.items[0].id, b.id);
	assert_int_equal(select_n(&e, NULL, "created_at", 0, 0, &gl), 0);
	assert_int_equal(gl.total, 3);
	{
		struct pred p = {.op = PRED_EQ, .attr = GROUP_A_MEMBER, .s = e.u2};

		assert_int_equal(select_n(&e, &p, NULL, 0, 10, &gl), 1);
		assert_string_equal(gl.items[0].id, b.id);
	}
	{
		struct pred m = {.op = PRED_EQ, .attr = GROUP_A_MEMBER, .s = e.u1};
		struct pred n = {.op = PRED_NOT, .a = &m};

		assert_int_equal(select_n(&e, &n, NULL, 0, 10, &gl), 1);
		assert_string_equal(gl.items[0].id, c.id);
	}
	{
		struct pred p = {.op = PRED_SW, .attr = GROUP_A_NAME, .s = "BE"};

		assert_int_equal(select_n(&e, &p, NULL, 0, 10, &gl), 1);
		assert_string_equal(gl.items[0].id, b.id);
	}
	{
		struct pred p = {.op = PRED_EQ, .attr = GROUP_A_EXTERNAL_ID, .s = "a"};

		assert_int_equal(select_n(&e, &p, NULL, 0, 10, &gl), 0); /* case-exact */
	}
	{
		struct pred p = {
		    .op = PRED_GE, .attr = GROUP_A_CREATED_AT, .is_int = true, .i = b.created_at};

		assert_int_equal(select_n(&e, &p, "-created_at", 0, 10, &gl), 2);
		assert_string_equal(gl.items[0].id, c.id);
		assert_string_equal(gl.items[1].id, b.id);
	}
	{
		struct pred p = {.op = PRED_CO, .attr = GROUP_A_MEMBER, .s = e.u1};
		struct group_query q = {.where = &p, .limit = 10};
		struct rs_err err = {0};

		fx_expect(groups_select(e.f->core, &e.f->platform, e.tid, &q, &e.f->a, &gl, &err),
			  &err, RS_E_INVALID, "store.bad_select");
	}
	{
		struct group_query q = {.sort = "members", .limit = 10};
		struct rs_err err = {0};

		fx_expect(groups_select(e.f->core, &e.f->platform, e.tid, &q, &e.f->a, &gl, &err),
			  &err, RS_E_INVALID, "request.invalid_parameter");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_with_members, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_apply_is_atomic, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_apply_success, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rank_only_on_change, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_select, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("core/groups", tests, NULL, NULL);
}
