/* DESIGN rule 2, the rank rule, through the core API with the threatconnect template (seed 001):
 * nobody acts on a user who outranks them, nobody grants a role above their own, an
 * organisation role raises a user's rank, and a token with a role is bounded by it. DESIGN
 * rule 3: another tenant's users, roles, groups and tokens answer exactly like missing ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

enum op {
	OP_UPDATE,     /* users_update of a plain field */
	OP_DELETE,     /* users_delete */
	OP_ASSIGN_SYS, /* users_update system_role = role */
	OP_ASSIGN_ORG, /* users_update roles = [role] */
	OP_CREATE,     /* users_create with system_role = role */
	OP_GROUP_ADD,  /* groups_member_add of the target */
	OP_TOKEN_FOR,  /* tokens_create for the target */
};

static const char *const op_names[] = {"update", "delete",    "assign",	  "assign org",
				       "create", "group add", "token for"};

#define ADM "Administrator"		 /* 900 */
#define OPS "Operations Administrator"	 /* 800 */
#define ACC "Accounts Administrator"	 /* 700 */
#define EXC "Exchange Admin"		 /* 600, no user permissions */
#define SUP "Super User"		 /* 500 */
#define USR "User"			 /* 300 */
#define ROU "Read Only User"		 /* 100 */
#define ORG "Organization Administrator" /* tenant role, 650, user admin */
#define ORO "Org Read Only User"	 /* tenant role, 100 */
#define HLP "Helper"			 /* custom system role, 400, users.read/update */

#define DENIED RS_E_FORBIDDEN, "auth.permission_denied"
#define OUTRANKED RS_E_FORBIDDEN, "rank.outranked"
#define ABOVE RS_E_FORBIDDEN, "rank.role_above_own"
#define OK RS_OK, NULL

static const struct rank_case {
	const char *actor, *actor_org;	 /* the actor's system role, optional tenant role */
	const char *target, *target_org; /* the target user's */
	enum op op;
	const char *role; /* for assign and create */
	enum rs_status st;
	const char *code;
} cases[] = {
    /* Seed 001: an Operations Administrator can't edit an Administrator... */
    {OPS, NULL, ADM, NULL, OP_UPDATE, NULL, OUTRANKED},
    {OPS, NULL, ADM, NULL, OP_DELETE, NULL, OUTRANKED},
    {OPS, NULL, ADM, NULL, OP_ASSIGN_SYS, USR, OUTRANKED}, /* demoting is acting on */
    {OPS, NULL, ADM, NULL, OP_GROUP_ADD, NULL, OUTRANKED},
    {OPS, NULL, ADM, NULL, OP_TOKEN_FOR, NULL, OUTRANKED},
    /* ...an Accounts Administrator can't touch either... */
    {ACC, NULL, ADM, NULL, OP_UPDATE, NULL, OUTRANKED},
    {ACC, NULL, ADM, NULL, OP_DELETE, NULL, OUTRANKED},
    {ACC, NULL, OPS, NULL, OP_UPDATE, NULL, OUTRANKED},
    {ACC, NULL, OPS, NULL, OP_DELETE, NULL, OUTRANKED},
    {ACC, NULL, OPS, NULL, OP_ASSIGN_ORG, ORO, OUTRANKED},
    /* ...and a User can't edit any of them (nor anybody: no users.update). */
    {USR, NULL, ADM, NULL, OP_UPDATE, NULL, DENIED},
    {USR, NULL, OPS, NULL, OP_UPDATE, NULL, DENIED},
    {USR, NULL, ACC, NULL, OP_UPDATE, NULL, DENIED},
    {USR, NULL, USR, NULL, OP_UPDATE, NULL, DENIED},
    {USR, NULL, ROU, NULL, OP_DELETE, NULL, DENIED},
    {USR, NULL, NULL, NULL, OP_CREATE, ROU, DENIED},
    {EXC, NULL, ROU, NULL, OP_UPDATE, NULL, DENIED},
    /* Downwards is allowed. */
    {ADM, NULL, OPS, NULL, OP_UPDATE, NULL, OK},
    {OPS, NULL, ACC, NULL, OP_UPDATE, NULL, OK},
    {OPS, NULL, ACC, NULL, OP_DELETE, NULL, OK},
    {ACC, NULL, USR, NULL, OP_UPDATE, NULL, OK},
    {ACC, NULL, USR, NULL, OP_DELETE, NULL, OK},
    {ACC, NULL, USR, NULL, OP_GROUP_ADD, NULL, OK},
    {ACC, NULL, USR, NULL, OP_TOKEN_FOR, NULL, OK},
    /* Equal ranks may act on each other. */
    {ADM, NULL, ADM, NULL, OP_UPDATE, NULL, OK},
    {ADM, NULL, ADM, NULL, OP_DELETE, NULL, OK},
    {OPS, NULL, OPS, NULL, OP_UPDATE, NULL, OK},
    {ACC, NULL, ACC, NULL, OP_DELETE, NULL, OK},
    {ACC, NULL, ACC, NULL, OP_GROUP_ADD, NULL, OK},
    /* Nobody grants a role above their own. */
    {OPS, NULL, USR, NULL, OP_ASSIGN_SYS, ADM, ABOVE},
    {ACC, NULL, USR, NULL, OP_ASSIGN_SYS, OPS, ABOVE},
    {ACC, NULL, USR, NULL, OP_ASSIGN_SYS, ADM, ABOVE},
    {ACC, NULL, NULL, NULL, OP_CREATE, ADM, ABOVE},
    {ACC, NULL, NULL, NULL, OP_CREATE, OPS, ABOVE},
    {USR, ORG, USR, NULL, OP_ASSIGN_SYS, ACC, ABOVE},
    {USR, ORG, NULL, NULL, OP_CREATE, ACC, ABOVE},
    /* ...but may grant their own rank or below. */
    {ACC, NULL, USR, NULL, OP_ASSIGN_SYS, ACC, OK},
    {OPS, NULL, USR, NULL, OP_ASSIGN_SYS, ACC, OK},
    {ACC, NULL, NULL, NULL, OP_CREATE, ACC, OK},
    {OPS, NULL, NULL, NULL, OP_CREATE, OPS, OK},
    {ACC, NULL, USR, NULL, OP_ASSIGN_ORG, ORG, OK},
    {USR, ORG, NULL, NULL, OP_CREATE, EXC, OK},
    {USR, ORG, USR, NULL, OP_ASSIGN_ORG, ORG, OK},
    /* An organisation role raises the actor's rank (User 300 + Organization Administrator
     * 650)... */
    {USR, ORG, SUP, NULL, OP_UPDATE, NULL, OK},
    {USR, ORG, EXC, NULL, OP_DELETE, NULL, OK},
    {USR, ORG, ACC, NULL, OP_UPDATE, NULL, OUTRANKED},
    {USR, ORG, USR, ORG, OP_UPDATE, NULL, OK},
    /* ...and the target's: a rank-400 Helper may edit a User, not a User who is also an
     * Organization Administrator. */
    {HLP, NULL, USR, NULL, OP_UPDATE, NULL, OK},
    {HLP, NULL, USR, ORG, OP_UPDATE, NULL, OUTRANKED},
    {HLP, NULL, ROU, ORO, OP_UPDATE, NULL, OK},
    {HLP, NULL, USR, NULL, OP_DELETE, NULL, DENIED}, /* no users.delete */
};

struct rank_env {
	struct fx *f;
	const char *tid;
	const char *group;
	int n; /* for unique usernames */
};

static const char *next_name(struct rank_env *e, const char *what)
{
	return arena_printf(&e->f->a, "%s-%d", what, ++e->n);
}

static const char *const *one(struct rank_env *e, const char *role)
{
	const char **l;

	if (!role)
		return NULL;
	l = arena_alloc(&e->f->a, 2 * sizeof(*l));
	l[0] = role;
	return l;
}

static enum rs_status run_op(struct rank_env *e, const struct actor *who, enum op op,
			     const char *target, const char *role, struct rs_err *err)
{
	struct fx *f = e->f;
	struct user_fields uf = {0};
	struct user u;

	switch (op) {
	case OP_UPDATE:
		uf.description = (struct opt_str){true, next_name(e, "edited")};
		return users_update(f->core, who, e->tid, target, &uf, 0, &f->a, &u, err);
	case OP_DELETE:
		return fx_delete(f, who, e->tid, target, 0, err);
	case OP_ASSIGN_SYS:
		uf.system_role = (struct opt_str){true, role};
		return users_update(f->core, who, e->tid, target, &uf, 0, &f->a, &u, err);
	case OP_ASSIGN_ORG:
		uf.roles_set = true;
		uf.roles = one(e, role);
		uf.nroles = 1;
		return users_update(f->core, who, e->tid, target, &uf, 0, &f->a, &u, err);
	case OP_CREATE:
		uf.username = (struct opt_str){true, next_name(e, "new")};
		uf.system_role = (struct opt_str){true, role};
		return users_create(f->core, who, e->tid, &uf, &f->a, &u, err);
	case OP_GROUP_ADD:
		return groups_member_add(f->core, who, e->tid, e->group, target, err);
	case OP_TOKEN_FOR: {
		struct token_create_req req = {.name = "for-target", .user_id = target};
		struct token t;
		const char *secret;

		return tokens_create(f->core, who, e->tid, &req, &f->a, &t, &secret, err);
	}
	}
	return RS_E_INTERNAL;
}

static void setup_tenant(struct rank_env *e)
{
	static const char *const helper_perms[] = {"tenant.read", "users.read", "users.update"};
	struct role_create_req rq = {.name = HLP,
				     .scope = "system",
				     .rank = 400,
				     .permissions = helper_perms,
				     .npermissions = 3};
	struct group_fields gf = {.name = {true, "analysts"}};
	struct role r;
	struct group g;
	struct rs_err err = {0};

	e->tid = fx_tenant(e->f, "tc", "threatconnect");
	fx_expect(roles_create(e->f->core, &e->f->platform, e->tid, &rq, &e->f->a, &r, &err), &err,
		  RS_OK, NULL);
	fx_expect(groups_create(e->f->core, &e->f->platform, e->tid, &gf, &e->f->a, &g, &err), &err,
		  RS_OK, NULL);
	e->group = g.id;
}

static void test_rank_table(void **state)
{
	struct rank_env e = {.f = *state};
	int failures = 0;

	setup_tenant(&e);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rank_case *c = &cases[i];
		struct actor who;
		const char *target = NULL;
		struct user before, after;
		struct rs_err err = {0};
		enum rs_status st;
		bool ok;

		fx_user_actor(e.f, e.tid, next_name(&e, "actor"), c->actor, one(&e, c->actor_org),
			      &who);
		if (c->target) {
			target = fx_user(e.f, e.tid, next_name(&e, "target"), c->target,
					 one(&e, c->target_org));
			fx_expect(users_get(e.f->core, &e.f->platform, e.tid, target, &e.f->a,
					    &before, &err),
				  &err, RS_OK, NULL);
		}
		st = run_op(&e, &who, c->op, target, c->role, &err);
		ok = st == c->st && (st == RS_OK || strcmp(err.code, c->code) == 0);
		if (!ok) {
			print_error(
			    "case %zu: %s%s%s %s %s%s%s%s%s: want %s %s, got %s %s (%s)\n", i,
			    c->actor, c->actor_org ? "+" : "", c->actor_org ? c->actor_org : "",
			    op_names[c->op], c->target ? c->target : "", c->target_org ? "+" : "",
			    c->target_org ? c->target_org : "", c->role ? " role " : "",
			    c->role ? c->role : "", rs_status_name(c->st), c->code ? c->code : "",
			    rs_status_name(st), st ? err.code : "", st ? err.msg : "");
			failures++;
		}
		/* A refused act changes nothing on the target. */
		if (st != RS_OK && target) {
			fx_expect(users_get(e.f->core, &e.f->platform, e.tid, target, &e.f->a,
					    &after, &err),
				  &err, RS_OK, NULL);
			assert_int_equal(after.version, before.version);
			assert_int_equal(after.rank, before.rank);
		}
	}
	if (failures)
		fail_msg("%d of %zu rank cases failed", failures, sizeof(cases) / sizeof(cases[0]));
}

/* A user's rank is the largest of its roles' (docs/api.md). */
static void test_rank_is_max_of_roles(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "tc", "threatconnect");
	const char *const orgs[] = {ORO, ORG, "Standard User", NULL};
	struct user u;
	struct actor who;
	struct rs_err err = {0};
	const char *id = fx_user(f, tid, "multi", ROU, orgs);

	fx_expect(users_get(f->core, &f->platform, tid, id, &f->a, &u, &err), &err, RS_OK, NULL);
	assert_int_equal(u.nroles, 3);
	assert_int_equal(u.system_role.rank, 100);
	assert_int_equal(u.rank, 650);
	fx_actor(f, tid, id, NULL, &who);
	assert_int_equal(who.rank, 650);
	/* Its permissions are the union: Read Only User alone has no users.update. */
	assert_true(who.perms & PERM_BIT(PERM_USERS_UPDATE));
}

/* A token with a role is bounded by that role, whatever its owner holds. */
static void test_token_role_bounds(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "tc", "threatconnect");
	const char *admin = fx_user(f, tid, "admin", ADM, NULL);
	const char *ops = fx_user(f, tid, "ops", OPS, NULL);
	const char *usr = fx_user(f, tid, "usr", USR, NULL);
	struct actor ro, acc, full;
	struct user_fields mk = {.username = {true, "newbie"}};
	struct user_fields ed = {.description = {true, "touched"}};
	struct user u;
	struct rs_err err = {0};

	fx_actor(f, tid, admin, ROU, &ro);
	fx_actor(f, tid, admin, ACC, &acc);
	fx_actor(f, tid, admin, NULL, &full);
	assert_int_equal(ro.rank, 100);
	assert_int_equal(acc.rank, 700);
	assert_int_equal(full.rank, 900);
	/* An Administrator's "Read Only User" token can't create users... */
	fx_expect(users_create(f->core, &ro, tid, &mk, &f->a, &u, &err), &err, DENIED);
	/* ...while the Administrator's own can. */
	fx_expect(users_create(f->core, &full, tid, &mk, &f->a, &u, &err), &err, OK);
	/* An Administrator's "Accounts Administrator" token acts at rank 700. */
	fx_expect(users_update(f->core, &acc, tid, ops, &ed, 0, &f->a, &u, &err), &err, OUTRANKED);
	fx_expect(users_update(f->core, &acc, tid, usr, &ed, 0, &f->a, &u, &err), &err, OK);
	fx_expect(users_update(f->core, &full, tid, ops, &ed, 0, &f->a, &u, &err), &err, OK);
	{
		struct user_fields up = {.system_role = {true, OPS}};

		fx_expect(users_update(f->core, &acc, tid, usr, &up, 0, &f->a, &u, &err), &err,
			  ABOVE);
	}
	/* Nor may such a token mint tokens for its owner: acting at rank 700, it is outranked
	 * by the owner itself (900), whatever role the new token would have. The owner's
	 * unscoped token may, up to the owner's rank. */
	{
		struct token_create_req req = {.name = "up", .role = OPS};
		struct token t;
		const char *secret;

		fx_expect(tokens_create(f->core, &acc, tid, &req, &f->a, &t, &secret, &err), &err,
			  OUTRANKED);
		req.role = ROU;
		fx_expect(tokens_create(f->core, &acc, tid, &req, &f->a, &t, &secret, &err), &err,
			  OUTRANKED);
		req.role = OPS;
		fx_expect(tokens_create(f->core, &full, tid, &req, &f->a, &t, &secret, &err), &err,
			  OK);
		req.role = "Maintenance Account"; /* the system tenant's, unknown here */
		fx_expect(tokens_create(f->core, &full, tid, &req, &f->a, &t, &secret, &err), &err,
			  RS_E_INVALID, "request.invalid_field");
	}
}

/* Roles are bounded by their author: rank and permissions. */
static void test_role_authoring(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "tc", "threatconnect");
	const char *id = fx_user(f, tid, "orgadm", USR, (const char *const[]){ORG, NULL});
	const char *adm = fx_user(f, tid, "adm", ADM, NULL);
	static const char *const ok_perms[] = {"users.read"};
	static const char *const more_perms[] = {"users.read", "roles.manage"};
	static const char *const platform_perms[] = {"platform.tenants"};
	struct actor a, boss;
	struct role r;
	struct rs_err err = {0};

	fx_actor(f, tid, adm, NULL, &boss);
	fx_actor(f, tid, id, NULL, &a);
	/* Organization Administrator has no roles.manage at all. */
	{
		struct role_create_req rq = {
		    .name = "x", .rank = 10, .permissions = ok_perms, .npermissions = 1};

		fx_expect(roles_create(f->core, &a, tid, &rq, &f->a, &r, &err), &err, DENIED);
	}
	{
		struct role_create_req rq = {
		    .name = "Too High", .rank = 901, .permissions = ok_perms, .npermissions = 1};

		fx_expect(roles_create(f->core, &boss, tid, &rq, &f->a, &r, &err), &err, ABOVE);
		rq.rank = 900;
		rq.name = "Equal";
		fx_expect(roles_create(f->core, &boss, tid, &rq, &f->a, &r, &err), &err, OK);
		rq.name = "Platformish";
		rq.rank = 10;
		rq.permissions = platform_perms;
		fx_expect(roles_create(f->core, &boss, tid, &rq, &f->a, &r, &err), &err, DENIED);
		rq.name = "Broader";
		rq.permissions = more_perms;
		fx_expect(roles_create(f->core, &boss, tid, &rq, &f->a, &r, &err), &err, OK);
	}
	/* A role ranked above the author can't be edited by it, even to lower it. */
	{
		static const char *const p[] = {"tenant.read"};
		struct role_create_req rq = {
		    .name = "High", .rank = 950, .permissions = p, .npermissions = 1};
		struct role_patch rp = {.rank = {.set = true, .v = 10}};

		fx_expect(roles_create(f->core, &f->platform, tid, &rq, &f->a, &r, &err), &err, OK);
		fx_expect(roles_update(f->core, &boss, tid, "High", &rp, &f->a, &r, &err), &err,
			  ABOVE);
		fx_expect(roles_delete(f->core, &boss, tid, "High", 0, &err), &err, ABOVE);
		/* Built-in roles are nobody's to edit. */
		fx_expect(roles_update(f->core, &f->platform, tid, ADM, &rp, &f->a, &r, &err), &err,
			  RS_E_CONFLICT, "role.builtin");
	}
}

/* DESIGN rule 3: an actor of tenant A learns nothing of tenant B: B's objects answer exactly
 * like ids that exist nowhere. */
static void expect_same(enum rs_status st_b, const struct rs_err *eb, enum rs_status st_r,
			const struct rs_err *er, const char *code, const char *what)
{
	if (st_b != RS_E_NOT_FOUND || st_r != RS_E_NOT_FOUND || strcmp(eb->code, er->code) != 0 ||
	    strcmp(eb->code, code) != 0 || strcmp(eb->field, er->field) != 0 ||
	    strcmp(eb->msg, er->msg) != 0)
		fail_msg("%s: B's gave %s %s '%s', a random id %s %s '%s' (want not_found %s)",
			 what, rs_status_name(st_b), eb->code, eb->msg, rs_status_name(st_r),
			 er->code, er->msg, code);
}

static void test_tenant_isolation(void **state)
{
	struct fx *f = *state;
	const char *ta = fx_tenant(f, "tenant-a", "threatconnect");
	const char *tb = fx_tenant(f, "tenant-b", "threatconnect");
	const char *rnd = "01936a4e-8c2b-7a3d-9f10-1234567890ab";
	const char *b_user = fx_user(f, tb, "bob", USR, NULL);
	const char *b_token = NULL;
	struct actor a;
	struct role b_role;
	struct group b_group, a_group;
	struct rs_err eb = {0}, er = {0};
	enum rs_status sb, sr;

	fx_user_actor(f, ta, "alice", ADM, NULL, &a);
	fx_token(f, tb, b_user, NULL, &b_token);
	{
		struct group_fields gf = {.name = {true, "b-group"}};
		struct rs_err err = {0};
		static const char *const p[] = {"users.read"};
		struct role_create_req rq = {
		    .name = "B Custom", .rank = 5, .permissions = p, .npermissions = 1};

		fx_expect(groups_create(f->core, &f->platform, tb, &gf, &f->a, &b_group, &err),
			  &err, OK);
		gf.name.v = "a-group";
		fx_expect(groups_create(f->core, &f->platform, ta, &gf, &f->a, &a_group, &err),
			  &err, OK);
		fx_expect(roles_create(f->core, &f->platform, tb, &rq, &f->a, &b_role, &err), &err,
			  OK);
	}

	/* Users, through A's own tenant path. */
	{
		struct user u;
		struct user_fields uf = {.description = {true, "pwned"}};

		sb = users_get(f->core, &a, ta, b_user, &f->a, &u, &eb);
		sr = users_get(f->core, &a, ta, rnd, &f->a, &u, &er);
		expect_same(sb, &eb, sr, &er, "user.not_found", "users_get");
		sb = users_update(f->core, &a, ta, b_user, &uf, 0, &f->a, &u, &eb);
		sr = users_update(f->core, &a, ta, rnd, &uf, 0, &f->a, &u, &er);
		expect_same(sb, &eb, sr, &er, "user.not_found", "users_update");
		sb = fx_delete(f, &a, ta, b_user, 0, &eb);
		sr = fx_delete(f, &a, ta, rnd, 0, &er);
		expect_same(sb, &eb, sr, &er, "user.not_found", "users_delete");
		sb = groups_member_add(f->core, &a, ta, a_group.id, b_user, &eb);
		sr = groups_member_add(f->core, &a, ta, a_group.id, rnd, &er);
		expect_same(sb, &eb, sr, &er, "user.not_found", "groups_member_add");
	}
	/* Roles: by id (names are per tenant, so B's role name is simply unknown in A). */
	{
		struct role r;
		struct role_patch rp = {.description = {true, "pwned"}};

		sb = roles_get(f->core, &a, ta, b_role.id, &f->a, &r, &eb);
		sr = roles_get(f->core, &a, ta, rnd, &f->a, &r, &er);
		expect_same(sb, &eb, sr, &er, "role.not_found", "roles_get");
		sb = roles_get(f->core, &a, ta, "B Custom", &f->a, &r, &eb);
		expect_same(sb, &eb, sr, &er, "role.not_found", "roles_get by name");
		sb = roles_update(f->core, &a, ta, b_role.id, &rp, &f->a, &r, &eb);
		sr = roles_update(f->core, &a, ta, rnd, &rp, &f->a, &r, &er);
		expect_same(sb, &eb, sr, &er, "role.not_found", "roles_update");
		sb = roles_delete(f->core, &a, ta, b_role.id, 0, &eb);
		sr = roles_delete(f->core, &a, ta, rnd, 0, &er);
		expect_same(sb, &eb, sr, &er, "role.not_found", "roles_delete");
	}
	/* Groups. */
	{
		struct group g;
		struct member_list ml;
		struct group_fields gf = {.description = {true, "pwned"}};

		sb = groups_get(f->core, &a, ta, b_group.id, &f->a, &g, &eb);
		sr = groups_get(f->core, &a, ta, rnd, &f->a, &g, &er);
		expect_same(sb, &eb, sr, &er, "group.not_found", "groups_get");
		sb = groups_update(f->core, &a, ta, b_group.id, &gf, 0, &f->a, &g, &eb);
		sr = groups_update(f->core, &a, ta, rnd, &gf, 0, &f->a, &g, &er);
		expect_same(sb, &eb, sr, &er, "group.not_found", "groups_update");
		sb = groups_members(f->core, &a, ta, b_group.id, NULL, &f->a, &ml, &eb);
		sr = groups_members(f->core, &a, ta, rnd, NULL, &f->a, &ml, &er);
		expect_same(sb, &eb, sr, &er, "group.not_found", "groups_members");
		sb = groups_delete(f->core, &a, ta, b_group.id, 0, &eb);
		sr = groups_delete(f->core, &a, ta, rnd, 0, &er);
		expect_same(sb, &eb, sr, &er, "group.not_found", "groups_delete");
	}
	/* Tokens. */
	{
		struct token t;

		sb = tokens_get(f->core, &a, ta, b_token, &f->a, &t, &eb);
		sr = tokens_get(f->core, &a, ta, rnd, &f->a, &t, &er);
		expect_same(sb, &eb, sr, &er, "token.not_found", "tokens_get");
		sb = tokens_revoke(f->core, &a, ta, b_token, &eb);
		sr = tokens_revoke(f->core, &a, ta, rnd, &er);
		expect_same(sb, &eb, sr, &er, "token.not_found", "tokens_revoke");
	}
	/* Through B's tenant path: B answers like a tenant that does not exist, by slug or id. */
	{
		struct user u;
		struct tenant t;
		struct role_list rl;
		struct group_list gl;
		struct token_list tl;
		struct user_list ul;
		struct audit_list al;
		struct user_list_query uq = {0};
		struct audit_query aq = {0};
		const char *refs[] = {"tenant-b", tb};
		const char *nowhere[] = {"tenant-z", rnd};

		for (int i = 0; i < 2; i++) {
			sb = tenants_get(f->core, &a, refs[i], &f->a, &t, &eb);
			sr = tenants_get(f->core, &a, nowhere[i], &f->a, &t, &er);
			expect_same(sb, &eb, sr, &er, "tenant.not_found", "tenants_get");
			sb = users_get(f->core, &a, refs[i], b_user, &f->a, &u, &eb);
			sr = users_get(f->core, &a, nowhere[i], b_user, &f->a, &u, &er);
			expect_same(sb, &eb, sr, &er, "tenant.not_found", "users_get in B");
			sb = users_list(f->core, &a, refs[i], &uq, &f->a, &ul, &eb);
			sr = users_list(f->core, &a, nowhere[i], &uq, &f->a, &ul, &er);
			expect_same(sb, &eb, sr, &er, "tenant.not_found", "users_list in B");
			sb = roles_list(f->core, &a, refs[i], &f->a, &rl, &eb);
			sr = roles_list(f->core, &a, nowhere[i], &f->a, &rl, &er);
			expect_same(sb, &eb, sr, &er, "tenant.not_found", "roles_list in B");
			sb = groups_list(f->core, &a, refs[i], NULL, &f->a, &gl, &eb);
			sr = groups_list(f->core, &a, nowhere[i], NULL, &f->a, &gl, &er);
			expect_same(sb, &eb, sr, &er, "tenant.not_found", "groups_list in B");
			sb = tokens_list(f->core, &a, refs[i], NULL, NULL, &f->a, &tl, &eb);
			sr = tokens_list(f->core, &a, nowhere[i], NULL, NULL, &f->a, &tl, &er);
			expect_same(sb, &eb, sr, &er, "tenant.not_found", "tokens_list in B");
			sb = audit_list(f->core, &a, refs[i], &aq, &f->a, &al, &eb);
			sr = audit_list(f->core, &a, nowhere[i], &aq, &f->a, &al, &er);
			expect_same(sb, &eb, sr, &er, "tenant.not_found", "audit_list in B");
			sb = fx_delete(f, &a, refs[i], b_user, 0, &eb);
			sr = fx_delete(f, &a, nowhere[i], b_user, 0, &er);
			expect_same(sb, &eb, sr, &er, "tenant.not_found", "users_delete in B");
		}
		/* tenants_list shows A alone. */
		{
			struct tenant_list tnl;
			struct rs_err err = {0};

			fx_expect(tenants_list(f->core, &a, NULL, &f->a, &tnl, &err), &err, OK);
			assert_int_equal(tnl.n, 1);
			assert_string_equal(tnl.items[0].id, ta);
		}
	}
	/* B's objects are all still there. */
	{
		struct user u;
		struct rs_err err = {0};

		fx_expect(users_get(f->core, &f->platform, tb, b_user, &f->a, &u, &err), &err, OK);
		assert_null(u.description);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rank_table, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_rank_is_max_of_roles, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_token_role_bounds, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_role_authoring, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_tenant_isolation, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("core/rank", tests, NULL, NULL);
}
