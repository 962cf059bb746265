/* core/templates.c and core/perms.c: the built-in role templates are well formed, and the
 * permission catalogue round-trips through names, parsing and the stored text form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "fixture.h"

/* Every template a tenant can be made from, plus the system tenant's own. */
static int all_templates(const struct role_template **out, int cap)
{
	int n = 0;
	const struct role_template *ts = templates_all(&n);

	assert_true(n + 1 <= cap);
	for (int i = 0; i < n; i++)
		out[i] = &ts[i];
	out[n] = templates_find("system");
	assert_non_null(out[n]);
	return n + 1;
}

static void test_catalogue_listed(void **state)
{
	static const char *const want[] = {"default", "threatconnect", "qradar", "threatq",
					   "thought_industries"};
	int n = 0;
	const struct role_template *ts = templates_all(&n);

	(void)state;
	/* docs/api.md names these five; "system" is not offered to tenants. */
	assert_int_equal(n, (int)(sizeof(want) / sizeof(want[0])));
	for (int i = 0; i < n; i++) {
		assert_string_equal(ts[i].name, want[i]);
		assert_ptr_equal(templates_find(want[i]), &ts[i]);
		assert_non_null(ts[i].description);
		assert_true(ts[i].nroles > 0);
	}
	assert_null(templates_find("nope"));
	assert_null(templates_find(""));
	assert_null(templates_find("Default")); /* names are exact */
}

static void test_one_default_system_role(void **state)
{
	const struct role_template *ts[16];
	int n = all_templates(ts, 16);

	(void)state;
	for (int i = 0; i < n; i++) {
		int defaults = 0;

		for (int j = 0; j < ts[i]->nroles; j++) {
			const struct template_role *r = &ts[i]->roles[j];

			if (!r->is_default)
				continue;
			defaults++;
			if (strcmp(r->scope, "system") != 0)
				fail_msg("%s: default role '%s' has scope %s", ts[i]->name, r->name,
					 r->scope);
		}
		if (defaults != 1)
			fail_msg("%s: %d default roles", ts[i]->name, defaults);
	}
}

static void test_names_scopes_ranks(void **state)
{
	const struct role_template *ts[16];
	int n = all_templates(ts, 16);

	(void)state;
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < ts[i]->nroles; j++) {
			const struct template_role *r = &ts[i]->roles[j];

			assert_non_null(r->name);
			assert_true(r->name[0] != '\0');
			assert_true(strlen(r->name) <= RS_NAME_MAX);
			if (r->rank < 0 || r->rank > 1000)
				fail_msg("%s/%s: rank %d", ts[i]->name, r->name, r->rank);
			if (strcmp(r->scope, "system") != 0 && strcmp(r->scope, "tenant") != 0)
				fail_msg("%s/%s: scope %s", ts[i]->name, r->name, r->scope);
			/* Role names are unique per tenant case-insensitively (roles_name). */
			for (int k = 0; k < j; k++) {
				if (strcasecmp(r->name, ts[i]->roles[k].name) == 0)
					fail_msg("%s: duplicate role '%s'", ts[i]->name, r->name);
			}
		}
	}
}

static void test_platform_perm_only_in_system(void **state)
{
	const struct role_template *ts[16];
	int n = all_templates(ts, 16);

	(void)state;
	for (int i = 0; i < n; i++) {
		bool is_system = strcmp(ts[i]->name, "system") == 0;
		bool any = false;

		for (int j = 0; j < ts[i]->nroles; j++) {
			uint64_t p = template_role_perms(&ts[i]->roles[j]);

			assert_int_equal(p & ~PERM_ALL, 0);
			if (p & PERM_BIT(PERM_PLATFORM_TENANTS)) {
				any = true;
				if (!is_system)
					fail_msg("%s/%s holds platform.tenants", ts[i]->name,
						 ts[i]->roles[j].name);
			}
		}
		if (is_system)
			assert_true(any); /* the maintenance account must hold it */
	}
	/* The maintenance account holds everything. */
	assert_int_equal(template_role_perms(&templates_find("system")->roles[0]), PERM_ALL);
}

static void test_perm_names_roundtrip(void **state)
{
	struct arena a;

	(void)state;
	arena_init(&a, 0);
	for (int i = 0; i < PERM__COUNT; i++) {
		const char *name = perm_name((enum perm)i);
		enum perm p = PERM__COUNT;

		assert_true(name[0] != '\0');
		assert_non_null(strchr(name, '.')); /* verbs on nouns */
		assert_null(strchr(name, ' '));	    /* the stored form is space-separated */
		assert_true(perm_parse(name, &p));
		assert_int_equal(p, i);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(name, perm_name((enum perm)j));
		/* One permission as stored, and parsed back. */
		assert_string_equal(perms_to_text(PERM_BIT(i), &a), name);
		assert_int_equal(perm_set_parse(name), PERM_BIT(i));
	}
	assert_string_equal(perm_name(PERM__COUNT), "");
	assert_string_equal(perm_name((enum perm) - 1), "");
	{
		enum perm p = PERM_USERS_READ;

		assert_false(perm_parse("users.Read", &p));
		assert_false(perm_parse("users.read ", &p));
		assert_false(perm_parse("", &p));
		assert_int_equal(p, PERM_USERS_READ); /* untouched on failure */
	}
	arena_release(&a);
}

static void test_perm_set_roundtrip(void **state)
{
	struct arena a;
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	arena_init(&a, 0);
	assert_string_equal(perms_to_text(0, &a), "");
	assert_int_equal(perm_set_parse(""), 0);
	assert_int_equal(perm_set_parse(NULL), 0);
	assert_int_equal(perm_set_parse(perms_to_text(PERM_ALL, &a)), PERM_ALL);
	/* Bits beyond the catalogue are not names: they vanish in the text form. */
	assert_int_equal(perm_set_parse(perms_to_text(~(uint64_t)0, &a)), PERM_ALL);
	for (int i = 0; i < 2000; i++) {
		uint64_t set;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		set = x & PERM_ALL;
		assert_int_equal(perm_set_parse(perms_to_text(set, &a)), set);
	}
	/* Unknown names (a newer binary's) and stray spaces are skipped. */
	assert_int_equal(perm_set_parse("users.read future.thing  groups.read "),
			 PERM_BIT(PERM_USERS_READ) | PERM_BIT(PERM_GROUPS_READ));
	assert_int_equal(perm_set_parse("users.rea users.readx"), 0);
	arena_release(&a);
}

/* A tenant made from each template holds exactly the template's roles, as stored. */
static void test_template_apply(void **state)
{
	struct fx *f = *state;
	int n = 0;
	const struct role_template *ts = templates_all(&n);

	for (int i = 0; i < n; i++) {
		char slug[64];
		const char *tid;
		struct role_list rl;
		struct rs_err err = {0};
		struct user_fields uf = {.username = {true, "first"}};
		struct user u;
		const char *def = NULL;

		snprintf(slug, sizeof(slug), "t-%d", i);
		tid = fx_tenant(f, slug, ts[i].name);
		fx_expect(roles_list(f->core, &f->platform, tid, &f->a, &rl, &err), &err, RS_OK,
			  NULL);
		assert_int_equal(rl.n, ts[i].nroles);
		for (int j = 0; j < ts[i].nroles; j++) {
			const struct template_role *tr = &ts[i].roles[j];
			bool found = false;

			if (tr->is_default)
				def = tr->name;
			for (int k = 0; k < rl.n; k++) {
				if (strcmp(rl.items[k].name, tr->name) != 0)
					continue;
				found = true;
				assert_string_equal(rl.items[k].scope, tr->scope);
				assert_int_equal(rl.items[k].rank, tr->rank);
				assert_int_equal(rl.items[k].perms, template_role_perms(tr));
				assert_true(rl.items[k].builtin);
				assert_int_equal(rl.items[k].is_default, tr->is_default);
				assert_string_equal(rl.items[k].tenant_id, tid);
			}
			if (!found)
				fail_msg("%s: role '%s' missing", ts[i].name, tr->name);
		}
		/* Sorted by rank, descending (docs/api.md). */
		for (int k = 1; k < rl.n; k++)
			assert_true(rl.items[k - 1].rank >= rl.items[k].rank);
		/* A user created without a system role gets the template's default. */
		fx_expect(users_create(f->core, &f->platform, tid, &uf, &f->a, &u, &err), &err,
			  RS_OK, NULL);
		assert_non_null(def);
		assert_string_equal(u.system_role.name, def);
	}
	/* The system template is the system tenant's alone. */
	{
		struct tenant_create_req req = {"sneaky", "Sneaky", "system"};
		struct tenant t;
		struct rs_err err = {0};

		fx_expect(tenants_create(f->core, &f->platform, &req, &f->a, &t, &err), &err,
			  RS_E_INVALID, "request.invalid_field");
		assert_string_equal(err.field, "template");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_catalogue_listed),
	    cmocka_unit_test(test_one_default_system_role),
	    cmocka_unit_test(test_names_scopes_ranks),
	    cmocka_unit_test(test_platform_perm_only_in_system),
	    cmocka_unit_test(test_perm_names_roundtrip),
	    cmocka_unit_test(test_perm_set_roundtrip),
	    cmocka_unit_test_setup_teardown(test_template_apply, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("core/templates", tests, NULL, NULL);
}
