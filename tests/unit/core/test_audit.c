/* core/audit.c: the per-tenant hash chain. audit_hash is a pinned, injective serialisation;
 * every write links to the previous event; audit_verify finds the first bad event after any
 * edit, deletion or reordering made directly in the database file; and refused operations
 * leave no trace in the chain. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "fixture.h"

static const struct audit_event base_event = {
    .id = "01936a4e-8c2b-7a3d-9f10-1234567890ab",
    .tenant_id = "01936a4e-0000-7000-8000-000000000001",
    .actor_type = "user",
    .actor_id = "01936a4e-0000-7000-8000-000000000002",
    .actor_name = "alice",
    .action = "user.update",
    .target_type = "user",
    .target_id = "01936a4e-0000-7000-8000-000000000003",
    .changes = "{\"email\":{\"after\":\"b@x\",\"before\":\"a@x\"}}",
    .request_id = "req-1",
    .source_ip = "127.0.0.1",
    .prev_hash = "0000000000000000000000000000000000000000000000000000000000000000",
    .hash = "ignored",
    .seq = 7,
    .at = 1767225600000,
};

/* The serialisation, written out independently: changing it breaks every stored chain. */
static void reference_hash(const struct audit_event *e, char out[65])
{
	char buf[4096];
	size_t n = 0;
	char seq[24], at[24];
	const char *f[15];
	unsigned char md[CRYPTO_SHA256_LEN];

	snprintf(seq, sizeof(seq), "%" PRId64, e->seq);
	snprintf(at, sizeof(at), "%" PRId64, e->at);
	f[0] = "roster-audit-v1";
	f[1] = e->tenant_id;
	f[2] = seq;
	f[3] = e->id;
	f[4] = at;
	f[5] = e->actor_type;
	f[6] = e->actor_id;
	f[7] = e->actor_name;
	f[8] = e->action;
	f[9] = e->target_type;
	f[10] = e->target_id;
	f[11] = e->changes;
	f[12] = e->request_id;
	f[13] = e->source_ip;
	f[14] = e->prev_hash;
	for (int i = 0; i < 15; i++) {
		if (!f[i])
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "-\n");
		else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%zu:%s\n", strlen(f[i]),
					      f[i]);
	}
	crypto_sha256(buf, n, md);
	crypto_hex(md, sizeof(md), out);
}

#define STR_FIELD(name)                                                                            \
	{                                                                                          \
#name, offsetof(struct audit_event, name)                                          \
	}

static const struct {
	const char *name;
	size_t off;
} str_fields[] = {
    STR_FIELD(id),	   STR_FIELD(tenant_id),  STR_FIELD(actor_type),  STR_FIELD(actor_id),
    STR_FIELD(actor_name), STR_FIELD(action),	  STR_FIELD(target_type), STR_FIELD(target_id),
    STR_FIELD(changes),	   STR_FIELD(request_id), STR_FIELD(source_ip),	  STR_FIELD(prev_hash),
};

static const char **field(struct audit_event *e, size_t off)
{
	return (const char **)((char *)e + off);
}

static void test_hash_pinned(void **state)
{
	char h1[65], h2[65], want[65];
	struct audit_event e = base_event;

	(void)state;
	audit_hash(&e, h1);
	audit_hash(&e, h2);
	assert_int_equal(strlen(h1), 64);
	assert_string_equal(h1, h2); /* deterministic */
	reference_hash(&e, want);
	assert_string_equal(h1, want);
	/* With NULLs too. */
	e.request_id = NULL;
	e.source_ip = NULL;
	e.actor_id = NULL;
	audit_hash(&e, h1);
	reference_hash(&e, want);
	assert_string_equal(h1, want);
}

/* Every field is covered: changing any one changes the hash, and no two variants collide. */
static void test_hash_every_field(void **state)
{
	enum { MAXV = 64 };
	char seen[MAXV][65];
	int nseen = 0;
	char h[65];
	struct audit_event e;

	(void)state;
	audit_hash(&base_event, seen[nseen++]);
	for (size_t i = 0; i < sizeof(str_fields) / sizeof(str_fields[0]); i++) {
		const char *orig = *field((struct audit_event *)&base_event, str_fields[i].off);
		char edited[512], spaced[512];
		const char *variants[4];

		snprintf(edited, sizeof(edited), "%s", orig);
		edited[0] ^= 1; /* one bit */
		variants[0] = edited;
		variants[1] = NULL; /* NULL and "" are different values */
		variants[2] = "";
		snprintf(spaced, sizeof(spaced), "%s ", orig);
		variants[3] = spaced;
		for (int v = 0; v < 4; v++) {
			e = base_event;
			*field(&e, str_fields[i].off) = variants[v];
			audit_hash(&e, h);
			for (int k = 0; k < nseen; k++) {
				if (strcmp(h, seen[k]) == 0)
					fail_msg("%s variant %d hashes like an earlier event",
						 str_fields[i].name, v);
			}
			assert_true(nseen < MAXV);
			memcpy(seen[nseen++], h, 65);
		}
	}
	e = base_event;
	e.seq++;
	audit_hash(&e, h);
	assert_string_not_equal(h, seen[0]);
	e = base_event;
	e.at++;
	audit_hash(&e, h);
	assert_string_not_equal(h, seen[0]);
	/* seq and at are not interchangeable. */
	{
		struct audit_event a = base_event, b = base_event;
		char ha[65], hb[65];

		a.seq = 1, a.at = 2;
		b.seq = 2, b.at = 1;
		audit_hash(&a, ha);
		audit_hash(&b, hb);
		assert_string_not_equal(ha, hb);
	}
	/* The stored hash itself is not part of the input. */
	e = base_event;
	e.hash = "something else";
	audit_hash(&e, h);
	assert_string_equal(h, seen[0]);
	/* Field boundaries can't be moved: ("ab","c") differs from ("a","bc"). */
	{
		struct audit_event a = base_event, b = base_event;
		char ha[65], hb[65];

		a.actor_type = "ab", a.actor_id = "c";
		b.actor_type = "a", b.actor_id = "bc";
		audit_hash(&a, ha);
		audit_hash(&b, hb);
		assert_string_not_equal(ha, hb);
		/* nor a length prefix smuggled into a value */
		a.actor_type = "1:a\n1:b", a.actor_id = NULL;
		b.actor_type = "a", b.actor_id = "b";
		a.actor_name = b.actor_name = NULL;
		audit_hash(&a, ha);
		audit_hash(&b, hb);
		assert_string_not_equal(ha, hb);
	}
}

/* ---- chains in a real store ----------------------------------------------------------------- */

struct chain {
	struct audit_event ev[256]; /* by seq - 1 */
	int n;
};

static void load_chain(struct fx *f, const char *tenant, struct chain *ch)
{
	struct audit_query q = {.page.limit = 7};
	struct rs_err err = {0};

	ch->n = 0;
	for (;;) {
		struct audit_list al;

		fx_expect(audit_list(f->core, &f->platform, tenant, &q, &f->a, &al, &err), &err,
			  RS_OK, NULL);
		for (int i = 0; i < al.n; i++) {
			assert_true(al.items[i].seq >= 1 && al.items[i].seq <= 256);
			/* Newest first, each seq once. */
			if (ch->n)
				assert_int_equal(al.items[i].seq, ch->ev[ch->n - 1].seq - 1);
			ch->ev[ch->n++] = al.items[i];
		}
		if (!al.next_cursor)
			break;
		q.page.cursor = al.next_cursor;
	}
	/* Reverse into seq order. */
	for (int i = 0; i < ch->n / 2; i++) {
		struct audit_event t = ch->ev[i];

		ch->ev[i] = ch->ev[ch->n - 1 - i];
		ch->ev[ch->n - 1 - i] = t;
	}
}

static void check_links(const struct chain *ch)
{
	for (int i = 0; i < ch->n; i++) {
		const struct audit_event *e = &ch->ev[i];
		char want[65];

		assert_int_equal(e->seq, i + 1);
		assert_string_equal(e->prev_hash, i ? ch->ev[i - 1].hash : "");
		audit_hash(e, want);
		assert_string_equal(e->hash, want);
	}
}

/* A tenant with a few events of every kind; returns its id. */
static const char *busy_tenant(struct fx *f, const char *slug)
{
	const char *tid = fx_tenant(f, slug, "threatconnect");
	const char *u1 = fx_user(f, tid, "alice", "Administrator", NULL);
	const char *u2 = fx_user(f, tid, "bob", "User", NULL);
	struct user_fields uf = {.email = {true, "bob@example.org"}};
	struct group_fields gf = {.name = {true, "ops"}};
	struct group g;
	struct user u;
	struct actor alice;
	const char *kid;
	struct rs_err err = {0};

	f->now += 1000;
	fx_actor(f, tid, u1, NULL, &alice);
	alice.request_id = "req-42";
	alice.source_ip = "192.0.2.7";
	fx_expect(users_update(f->core, &alice, tid, u2, &uf, 0, &f->a, &u, &err), &err, RS_OK,
		  NULL);
	fx_expect(groups_create(f->core, &alice, tid, &gf, &f->a, &g, &err), &err, RS_OK, NULL);
	fx_expect(groups_member_add(f->core, &alice, tid, g.id, u2, &err), &err, RS_OK, NULL);
	f->now += 1000;
	fx_token(f, tid, u2, NULL, &kid);
	fx_expect(tokens_revoke(f->core, &alice, tid, kid, &err), &err, RS_OK, NULL);
	fx_expect(fx_delete(f, &alice, tid, u2, 0, &err), &err, RS_OK, NULL);
	return tid;
}

static void test_chain_links(void **state)
{
	struct fx *f = *state;
	static const char *const want_actions[] = {
	    "user.create",	   "user.create",      "token.create", "user.update",
	    "group.create",	   "group.member_add", "token.create", "token.revoke",
	    "user.delete_request", "user.delete",
	};
	struct chain *ch = calloc(1, sizeof(*ch));
	const char *tid = busy_tenant(f, "acme");

	load_chain(f, tid, ch);
	assert_int_equal(ch->n, (int)(sizeof(want_actions) / sizeof(want_actions[0])));
	for (int i = 0; i < ch->n; i++) {
		assert_string_equal(ch->ev[i].action, want_actions[i]);
		assert_string_equal(ch->ev[i].tenant_id, tid);
	}
	check_links(ch);
	/* The actor and request context are recorded. */
	assert_string_equal(ch->ev[3].actor_type, "user");
	assert_string_equal(ch->ev[3].actor_name, "alice");
	assert_string_equal(ch->ev[3].request_id, "req-42");
	assert_string_equal(ch->ev[3].source_ip, "192.0.2.7");
	assert_int_equal(ch->ev[3].at, FX_T0 + 1000);
	assert_non_null(strstr(ch->ev[3].changes, "bob@example.org"));
	/* The system chain: bootstrap's three events, then the tenant's creation. */
	load_chain(f, f->sys_tenant, ch);
	assert_int_equal(ch->n, 4);
	assert_string_equal(ch->ev[0].action, "tenant.create");
	assert_string_equal(ch->ev[0].actor_type, "system");
	assert_string_equal(ch->ev[1].action, "user.create");
	assert_string_equal(ch->ev[2].action, "token.create");
	assert_string_equal(ch->ev[3].action, "tenant.create");
	assert_string_equal(ch->ev[3].target_id, tid);
	check_links(ch);
	free(ch);
}

struct reports {
	struct audit_verify_report r[16];
	char event_id[16][UUID_STR_LEN];
	char slug[16][64];
	int n;
};

static void collect(const struct audit_verify_report *r, void *ctx)
{
	struct reports *rs = ctx;

	assert_true(rs->n < 16);
	rs->r[rs->n] = *r;
	str_copy(rs->event_id[rs->n], UUID_STR_LEN, r->event_id ? r->event_id : "");
	str_copy(rs->slug[rs->n], 64, r->tenant_slug);
	rs->n++;
}

static const struct audit_verify_report *report_of(struct reports *rs, const char *slug)
{
	for (int i = 0; i < rs->n; i++) {
		if (strcmp(rs->slug[i], slug) == 0)
			return &rs->r[i];
	}
	fail_msg("no report for %s", slug);
	abort(); /* not reached: fail_msg does not return */
}

static void test_verify_fresh(void **state)
{
	struct fx *f = *state;
	struct reports rs = {0};
	struct rs_err err = {0};

	busy_tenant(f, "acme");
	fx_tenant(f, "empty", NULL);
	fx_expect(audit_verify(f->core, &f->a, collect, &rs, &err), &err, RS_OK, NULL);
	assert_int_equal(rs.n, 3);
	assert_false(report_of(&rs, "acme")->bad);
	assert_int_equal(report_of(&rs, "acme")->events, 10);
	assert_false(report_of(&rs, "system")->bad);
	assert_int_equal(report_of(&rs, "system")->events, 5);
	assert_false(report_of(&rs, "empty")->bad); /* no events is a valid chain */
	assert_int_equal(report_of(&rs, "empty")->events, 0);
}

enum tamper {
	T_EDIT_CHANGES,
	T_EDIT_ACTION,
	T_EDIT_ACTOR,
	T_EDIT_AT,
	T_EDIT_FIRST_PREV,
	T_EDIT_AND_REHASH,
	T_DELETE_MIDDLE,
	T_DELETE_FIRST,
	T_DELETE_LAST,
	T_DELETE_ALL,
	T_SWAP,
	T_SWAP_LAST_TWO,
};

static const struct {
	enum tamper t;
	const char *name;
	int64_t bad_seq;
	int id_of;	    /* the seq whose original event id is reported; 0 = none ("") */
	const char *reason; /* a word of the reason */
} tampers[] = {
    {T_EDIT_CHANGES, "edit changes of 4", 4, 4, "hash mismatch"},
    {T_EDIT_ACTION, "edit action of 2", 2, 2, "hash mismatch"},
    {T_EDIT_ACTOR, "edit actor_id of 5", 5, 5, "hash mismatch"},
    {T_EDIT_AT, "edit at of 1", 1, 1, "hash mismatch"},
    {T_EDIT_FIRST_PREV, "edit prev_hash of 1", 1, 1, "link"},
    {T_EDIT_AND_REHASH, "edit and rehash 3", 4, 4, "link"},
    {T_DELETE_MIDDLE, "delete 5", 6, 6, "gap"},
    {T_DELETE_FIRST, "delete 1", 2, 2, "gap"},
    {T_DELETE_LAST, "delete 10 (last)", 10, 0, "shorter"},
    {T_DELETE_ALL, "delete all", 1, 0, "shorter"},
    {T_SWAP, "swap 3 and 4", 3, 4, "link"},
    {T_SWAP_LAST_TWO, "swap 9 and 10", 9, 10, "link"},
};

static void apply_tamper(struct fx *f, const char *tid, const struct chain *ch, enum tamper t)
{
	char *sql = NULL;
	struct arena *a = &f->a;

#define W(cond) arena_printf(a, "tenant_id = '%s' AND %s", tid, cond)
	switch (t) {
	case T_EDIT_CHANGES:
		sql = arena_printf(a, "UPDATE audit_events SET changes = '{}' WHERE %s",
				   W("seq = 4"));
		break;
	case T_EDIT_ACTION:
		sql = arena_printf(a, "UPDATE audit_events SET action = 'user.delete' WHERE %s",
				   W("seq = 2"));
		break;
	case T_EDIT_ACTOR:
		sql = arena_printf(a,
				   "UPDATE audit_events SET actor_id = "
				   "'01936a4e-0000-7000-8000-00000000beef' WHERE %s",
				   W("seq = 5"));
		break;
	case T_EDIT_AT:
		sql = arena_printf(a, "UPDATE audit_events SET at = at - 1 WHERE %s", W("seq = 1"));
		break;
	case T_EDIT_FIRST_PREV:
		sql = arena_printf(a, "UPDATE audit_events SET prev_hash = '%064d' WHERE %s", 0,
				   W("seq = 1"));
		break;
	case T_EDIT_AND_REHASH: {
		/* A tamperer who knows the hash function recomputes the edited event's own hash:
		 * the next link gives it away. */
		struct audit_event e = ch->ev[2];
		char h[65];

		e.changes = "{}";
		audit_hash(&e, h);
		sql =
		    arena_printf(a, "UPDATE audit_events SET changes = '{}', hash = '%s' WHERE %s",
				 h, W("seq = 3"));
		break;
	}
	case T_DELETE_MIDDLE:
		sql = arena_printf(a, "DELETE FROM audit_events WHERE %s", W("seq = 5"));
		break;
	case T_DELETE_FIRST:
		sql = arena_printf(a, "DELETE FROM audit_events WHERE %s", W("seq = 1"));
		break;
	case T_DELETE_LAST:
		sql = arena_printf(a, "DELETE FROM audit_events WHERE %s", W("seq = 10"));
		break;
	case T_DELETE_ALL:
		sql = arena_printf(a, "DELETE FROM audit_events WHERE tenant_id = '%s'", tid);
		break;
	case T_SWAP:
	case T_SWAP_LAST_TWO: {
		int s1 = t == T_SWAP ? 3 : 9, s2 = s1 + 1;

		sql = arena_printf(a,
				   "BEGIN; UPDATE audit_events SET seq = -1 WHERE %s;"
				   "UPDATE audit_events SET seq = %d WHERE %s;"
				   "UPDATE audit_events SET seq = %d WHERE %s; COMMIT;",
				   W(arena_printf(a, "seq = %d", s1)), s1,
				   W(arena_printf(a, "seq = %d", s2)), s2, W("seq = -1"));
		break;
	}
	}
#undef W
	fx_sql(f, sql);
	(void)ch;
}

static void test_verify_tampered(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(tampers) / sizeof(tampers[0]); i++) {
		struct fx *f = fx_open();
		struct chain *ch = calloc(1, sizeof(*ch));
		struct reports rs = {0};
		struct rs_err err = {0};
		const struct audit_verify_report *r;
		const char *tid;
		const char *want_id;

		assert_non_null(f);
		tid = busy_tenant(f, "acme");
		fx_tenant(f, "bystander", NULL);
		load_chain(f, tid, ch);
		assert_int_equal(ch->n, 10);
		apply_tamper(f, tid, ch, tampers[i].t);
		fx_expect_at(audit_verify(f->core, &f->a, collect, &rs, &err), &err, RS_E_CONFLICT,
			     "audit.chain_broken", __FILE__, __LINE__, tampers[i].name);
		r = report_of(&rs, "acme");
		want_id = tampers[i].id_of ? ch->ev[tampers[i].id_of - 1].id : "";
		if (!r->bad || r->seq != tampers[i].bad_seq ||
		    strcmp(rs.event_id[r - rs.r], want_id) != 0 || !r->reason ||
		    !strstr(r->reason, tampers[i].reason))
			fail_msg("%s: bad=%d seq=%" PRId64 " id='%s' reason='%s'; want seq %" PRId64
				 " id '%s' reason ~'%s'",
				 tampers[i].name, r->bad, r->seq, rs.event_id[r - rs.r],
				 r->reason ? r->reason : "", tampers[i].bad_seq, want_id,
				 tampers[i].reason);
		/* The other chains still hold, and are still reported. */
		assert_false(report_of(&rs, "system")->bad);
		assert_false(report_of(&rs, "bystander")->bad);
		free(ch);
		fx_close(f);
	}
}

/* A refused operation writes nothing to any chain. */
static void test_refused_writes_nothing(void **state)
{
	struct fx *f = *state;
	const char *tid = fx_tenant(f, "tc", "threatconnect");
	const char *adm = fx_user(f, tid, "adm", "Administrator", NULL);
	const char *acc = fx_user(f, tid, "acc", "Accounts Administrator", NULL);
	const char *usr = fx_user(f, tid, "usr", "User", NULL);
	struct actor a_acc, a_usr;
	struct user u;
	struct rs_err err = {0};
	int64_t before, seq_before;
	char *seq_sql = arena_printf(&f->a, "SELECT audit_seq FROM tenants WHERE id = '%s'", tid);

	fx_actor(f, tid, acc, NULL, &a_acc);
	fx_actor(f, tid, usr, NULL, &a_usr);
	fx_expect(users_get(f->core, &f->platform, tid, usr, &f->a, &u, &err), &err, RS_OK, NULL);
	before = fx_sql_int(f, "SELECT count(*) FROM audit_events");
	seq_before = fx_sql_int(f, seq_sql);
	{
		struct user_fields ed = {.description = {true, "nope"}};
		struct user_fields up = {.system_role = {true, "Administrator"}};
		struct user_fields dup = {.username = {true, "ADM"}};
		struct user_fields bad = {.email = {true, "not-an-email"}};
		struct user_fields noop = {.username = {true, "usr"}};
		struct user_fields mk = {.username = {true, "x"},
					 .system_role = {true, "Administrator"}};
		struct group_fields gf = {.name = {true, "g"}};
		struct group g;

		fx_expect(users_update(f->core, &a_acc, tid, adm, &ed, 0, &f->a, &u, &err), &err,
			  RS_E_FORBIDDEN, "rank.outranked");
		fx_expect(fx_delete(f, &a_acc, tid, adm, 0, &err), &err, RS_E_FORBIDDEN,
			  "rank.outranked");
		fx_expect(users_update(f->core, &a_usr, tid, usr, &ed, 0, &f->a, &u, &err), &err,
			  RS_E_FORBIDDEN, "auth.permission_denied");
		fx_expect(users_update(f->core, &a_acc, tid, usr, &up, 0, &f->a, &u, &err), &err,
			  RS_E_FORBIDDEN, "rank.role_above_own");
		fx_expect(users_create(f->core, &a_acc, tid, &mk, &f->a, &u, &err), &err,
			  RS_E_FORBIDDEN, "rank.role_above_own");
		fx_expect(users_update(f->core, &a_acc, tid, usr, &dup, 0, &f->a, &u, &err), &err,
			  RS_E_CONFLICT, "user.username_taken");
		fx_expect(users_update(f->core, &a_acc, tid, usr, &bad, 0, &f->a, &u, &err), &err,
			  RS_E_INVALID, "request.invalid_field");
		fx_expect(
		    users_update(f->core, &a_acc, tid, usr, &ed, u.version + 1, &f->a, &u, &err),
		    &err, RS_E_PRECONDITION, "request.precondition_failed");
		fx_expect(users_update(f->core, &a_acc, tid, "01936a4e-0000-7000-8000-000000000009",
				       &ed, 0, &f->a, &u, &err),
			  &err, RS_E_NOT_FOUND, "user.not_found");
		fx_expect(groups_create(f->core, &a_usr, tid, &gf, &f->a, &g, &err), &err,
			  RS_E_FORBIDDEN, "auth.permission_denied");
		fx_expect(fx_delete(f, &a_acc, tid, acc, 0, &err), &err, RS_E_CONFLICT,
			  "user.self_delete");
		/* A write that changes nothing is not an event either. */
		fx_expect(users_update(f->core, &a_acc, tid, usr, &noop, 0, &f->a, &u, &err), &err,
			  RS_OK, NULL);
	}
	{
		struct tenant_create_req req = {"tc", "Dup", NULL};
		struct tenant t;

		fx_expect(tenants_create(f->core, &f->platform, &req, &f->a, &t, &err), &err,
			  RS_E_CONFLICT, "tenant.slug_taken");
		fx_expect(tenants_delete(f->core, &f->platform, "system", 0, &err), &err,
			  RS_E_CONFLICT, "tenant.system");
	}
	assert_int_equal(fx_sql_int(f, "SELECT count(*) FROM audit_events"), before);
	assert_int_equal(fx_sql_int(f, seq_sql), seq_before);
	/* And the chains still verify. */
	{
		struct reports rs = {0};

		fx_expect(audit_verify(f->core, &f->a, collect, &rs, &err), &err, RS_OK, NULL);
	}
}

static void test_audit_list_filters(void **state)
{
	struct fx *f = *state;
	const char *tid = busy_tenant(f, "acme");
	struct audit_list al;
	struct audit_query q = {0};
	struct actor usr;
	struct rs_err err = {0};
	const char *bob_like = fx_user(f, tid, "carl", "User", NULL);

	fx_actor(f, tid, bob_like, NULL, &usr);
	/* audit.read is needed. */
	fx_expect(audit_list(f->core, &usr, tid, &q, &f->a, &al, &err), &err, RS_E_FORBIDDEN,
		  "auth.permission_denied");
	q.action = "user.";
	fx_expect(audit_list(f->core, &f->platform, tid, &q, &f->a, &al, &err), &err, RS_OK, NULL);
	assert_int_equal(al.n, 6); /* create x3, update, delete request, delete */
	for (int i = 0; i < al.n; i++)
		assert_memory_equal(al.items[i].action, "user.", 5);
	q.action = "user.create";
	fx_expect(audit_list(f->core, &f->platform, tid, &q, &f->a, &al, &err), &err, RS_OK, NULL);
	assert_int_equal(al.n, 3);
	q.action = "user";
	fx_expect(audit_list(f->core, &f->platform, tid, &q, &f->a, &al, &err), &err, RS_OK, NULL);
	assert_int_equal(al.n, 0); /* exact unless it ends in '.' */
	q.action = NULL;
	q.target = bob_like;
	fx_expect(audit_list(f->core, &f->platform, tid, &q, &f->a, &al, &err), &err, RS_OK, NULL);
	assert_int_equal(al.n, 1); /* its creation (its token's event targets the token) */
	assert_string_equal(al.items[0].action, "user.create");
	q.target = NULL;
	q.has_since = true;
	q.since = FX_T0 + 2000;
	fx_expect(audit_list(f->core, &f->platform, tid, &q, &f->a, &al, &err), &err, RS_OK, NULL);
	assert_int_equal(al.n, 6); /* token create, revoke, delete request, delete, carl, token */
	q.has_until = true;
	q.until = FX_T0 + 2000;
	fx_expect(audit_list(f->core, &f->platform, tid, &q, &f->a, &al, &err), &err, RS_OK, NULL);
	for (int i = 0; i < al.n; i++)
		assert_int_equal(al.items[i].at, FX_T0 + 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_pinned),
	    cmocka_unit_test(test_hash_every_field),
	    cmocka_unit_test_setup_teardown(test_chain_links, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_verify_fresh, fx_setup, fx_teardown),
	    cmocka_unit_test(test_verify_tampered),
	    cmocka_unit_test_setup_teardown(test_refused_writes_nothing, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_audit_list_filters, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("core/audit", tests, NULL, NULL);
}
