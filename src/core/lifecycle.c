/* The user lifecycle (DESIGN.md): suspend, resume, deactivate, reactivate. Each transition
 * checks permission and rank, refuses moves the state doesn't allow, and writes the change, its
 * audit event and — where access is lost — the revocation signal in one transaction. A
 * suspension with an end date schedules its own end as a job, so it ends once, on one node,
 * even if no node was up at that moment. */
#include "core/core_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>

#include "util/timeutil.h"

#define REASON_MAX 500

static const struct {
	const char *name, *action, *to;
	const char *from[3]; /* states the transition may start from */
	const char *email;   /* the template that tells the user */
	const char *event;   /* the webhook event that tells the host platform */
} transitions[] = {
    [USER_SUSPEND] =
	{"suspend", "user.suspend", "suspended", {"active"}, "suspension", "user.suspended"},
    [USER_RESUME] =
	{"resume", "user.resume", "active", {"suspended"}, "resumption", "user.resumed"},
    [USER_DEACTIVATE] = {"deactivate",
			 "user.deactivate",
			 "deactivated",
			 {"active", "suspended"},
			 "deactivation",
			 "user.deactivated"},
    [USER_REACTIVATE] = {"reactivate",
			 "user.reactivate",
			 "active",
			 {"deactivated"},
			 "reactivation",
			 "user.reactivated"},
};

#define NZ(s) ((s) ? (s) : "")

/* What leaves roster about a transition, queued in its transaction (DESIGN rule 4): an e-mail
 * to the user when it has an address, and the webhook event for the host platform. */
static enum rs_status announce(struct store_tx *tx, struct core *c, const struct actor *who,
			       const struct user *u, enum user_transition t, const char *reason,
			       int64_t until, struct arena *a, struct rs_err *err)
{
	char when[TIME_STR_LEN] = "";
	char *vars, *data;
	enum rs_status st = RS_OK;

	if (until)
		time_format(until, when);
	/* Template variables are strings: an absent value renders as nothing. */
	vars = core_json_dump(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "username", NZ(u->username),
					"first_name", NZ(u->first_name), "last_name",
					NZ(u->last_name), "reason", NZ(reason), "until", when,
					"link", core_public_url(c)),
			      a);
	data = core_json_dump(json_pack("{s:{s:s,s:s?,s:s?},s:s,s:s?,s:s?,s:{s:s,s:s?}}", "user",
					"id", u->id, "username", u->username, "email", u->email,
					"status", transitions[t].to, "reason", reason, "until",
					until ? when : NULL, "actor", "type",
					who->kind == ACTOR_SYSTEM ? "system" : "user", "id",
					who->user_id[0] ? who->user_id : NULL),
			      a);
	if (!vars || !data)
		return core_oom(err);
	if (u->email)
		st = outbox_email(tx, c, u->tenant_id, transitions[t].email, u->email, vars, err);
	if (st == RS_OK)
		st = outbox_event(tx, c, u->tenant_id, transitions[t].event, data, err);
	return st;
}

static bool allowed_from(enum user_transition t, const char *status)
{
	for (int i = 0; i < 3 && transitions[t].from[i]; i++) {
		if (strcmp(transitions[t].from[i], status) == 0)
			return true;
	}
	return false;
}

struct ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *id;
	const struct user_transition_req *req;
	struct arena *a;
	struct user *out;
};

/* Writes the new state of u (loaded, checked) with its audit event, signal and timer. */
static enum rs_status apply(struct store_tx *tx, struct core *c, const struct actor *who,
			    const struct user *u, enum user_transition t, const char *reason,
			    int64_t until, struct arena *a, struct rs_err *err)
{
	const char *to = transitions[t].to;
	int64_t now = core_now(c), changed = 0;
	struct changes *ch;
	enum rs_status st;

	st = Q_EXEC(tx, Q_USER_SET_STATUS, &changed, err, SV_S(u->tenant_id), SV_S(u->id), SV_S(to),
		    SV_S(reason), until ? SV_I(until) : SV_NULLV, SV_I(now), SV_I(u->version));
	if (st == RS_OK && changed == 0)
		st = rs_fail(err, RS_E_PRECONDITION, "request.precondition_failed", NULL,
			     "the user changed concurrently");
	/* Deactivation ends the user's tokens for good; a suspension only refuses them while it
	 * lasts (auth_bearer accepts active owners only). Either way every node drops them now. */
	if (st == RS_OK && t == USER_DEACTIVATE)
		st = Q_EXEC(tx, Q_TOKEN_REVOKE_USER, NULL, err, SV_S(u->tenant_id), SV_S(u->id),
			    SV_I(now));
	/* Sessions end for good either way: after a resume the user logs in again. */
	if (st == RS_OK && (t == USER_SUSPEND || t == USER_DEACTIVATE))
		st = sessions_revoke_user(tx, u->tenant_id, u->id, now, transitions[t].action, err);
	if (st == RS_OK && (t == USER_SUSPEND || t == USER_DEACTIVATE))
		st = store_signal(tx, STORE_SIG_AUTH, err);
	if (st == RS_OK && t == USER_SUSPEND && until) {
		char id[UUID_STR_LEN];
		char *payload = arena_printf(a,
					     "{\"tenant_id\":\"%s\",\"user_id\":\"%s\","
					     "\"version\":%" PRId64 "}",
					     u->tenant_id, u->id, u->version + 1);

		if (!core_new_id(id) || !payload)
			return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no id");
		st = Q_EXEC(tx, Q_JOB_INSERT, NULL, err, SV_S(id), SV_S(u->tenant_id),
			    SV_S("resume_user"), SV_S(payload), SV_I(until), SV_I(now));
	}
	if (st == RS_OK)
		st = announce(tx, c, who, u, t, reason, until, a, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "status", u->status, to);
	changes_str(ch, "status_reason", u->status_reason, reason);
	changes_int(ch, "suspended_until", u->suspended_until != 0, u->suspended_until, until != 0,
		    until);
	st = audit_append(tx, c, who, u->tenant_id, transitions[t].action, "user", u->id,
			  changes_dump(ch, a), err);
	changes_free(ch);
	return st;
}

static enum rs_status transition_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	const struct user_transition_req *q = x->req;
	struct tenant t;
	struct user u;
	enum rs_status st;

	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm_any(x->who, PERM_USERS_SUSPEND, err);
	if (st == RS_OK)
		st = user_load(tx, t.id, x->id, x->a, &u, NULL, err);
	if (st == RS_OK) /* first: a user outside the actor's subtrees must look missing */
		st = require_user_perm(tx, x->who, &u, PERM_USERS_SUSPEND, err);
	if (st != RS_OK)
		return st;
	if (q->if_match && q->if_match != u.version)
		return rs_fail(err, RS_E_PRECONDITION, "request.precondition_failed", NULL,
			       "the user changed since version %lld", (long long)q->if_match);
	st = rank_may_act_on(x->who, u.rank, err); /* DESIGN rule 2 */
	if (st != RS_OK)
		return st;
	if (strcmp(u.id, x->who->user_id) == 0)
		return rs_fail(err, RS_E_CONFLICT, "user.self_transition", NULL,
			       "you can't %s your own account", transitions[q->what].name);
	if (!allowed_from(q->what, u.status))
		return rs_fail(err, RS_E_CONFLICT, "user.invalid_transition", NULL,
			       "can't %s a user who is %s", transitions[q->what].name, u.status);
	if (q->what == USER_DEACTIVATE) { /* its owned resources go to someone first */
		st = ownership_transfer(tx, x->c, x->who, &t, &u, q->transfer_to, "deactivation",
					x->a, err);
		if (st != RS_OK)
			return st;
	}
	if (q->what == USER_REACTIVATE) { /* takes a seat again */
		st = seats_check(tx, t.id, u.type, err);
		if (st != RS_OK)
			return st;
	}
	st = apply(tx, x->c, x->who, &u, q->what,
		   q->what == USER_SUSPEND || q->what == USER_DEACTIVATE ? q->reason : NULL,
		   q->has_until ? q->until : 0, x->a, err);
	if (st != RS_OK)
		return st;
	return user_load(tx, t.id, u.id, x->a, x->out, NULL, err);
}

/* The request's own rules, before any store work. */
static enum rs_status transition_check(struct core *c, const struct user_transition_req *req,
				       struct rs_err *err)
{
	bool needs_reason = req->what == USER_SUSPEND || req->what == USER_DEACTIVATE;
	enum rs_status st;

	if ((unsigned)req->what > USER_REACTIVATE)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", NULL,
			       "no such transition");
	if (needs_reason) {
		st = check_text("reason", req->reason, REASON_MAX, true, err);
		if (st != RS_OK)
			return st;
	} else if (req->reason) {
		st = check_text("reason", req->reason, REASON_MAX, false, err);
		if (st != RS_OK)
			return st;
	}
	if (req->transfer_to && req->what != USER_DEACTIVATE)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "transfer_to",
			       "only a deactivation transfers owned resources");
	if (req->has_until && req->what != USER_SUSPEND)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "until",
			       "only a suspension has an end date");
	if (req->has_until && req->until <= core_now(c))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "until",
			       "'until' must be in the future");
	return RS_OK;
}

/* (core_int.h) */
enum rs_status user_transition_in(struct store_tx *tx, struct core *c, const struct actor *who,
				  const char *tenant, const char *id,
				  const struct user_transition_req *req, struct arena *a,
				  struct user *out, struct rs_err *err)
{
	struct ctx x = {c, who, tenant, id, req, a, out};
	enum rs_status st = transition_check(c, req, err);

	return st == RS_OK ? transition_tx(tx, &x, err) : st;
}

enum rs_status users_transition(struct core *c, const struct actor *who, const char *tenant,
				const char *id, const struct user_transition_req *req,
				struct arena *a, struct user *out, struct rs_err *err)
{
	struct ctx x = {c, who, tenant, id, req, a, out};
	enum rs_status st = transition_check(c, req, err);

	return st == RS_OK ? core_write(c, transition_tx, &x, err) : st;
}

/* ---- the end of a suspension -------------------------------------------------------------------
 */

struct due_ctx {
	struct core *c;
	const char *tenant_id, *user_id;
	int64_t version;
};

static enum rs_status resume_due_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct due_ctx *x = arg;
	struct actor sys = {
	    .kind = ACTOR_SYSTEM, .rank = 1000, .perms = PERM_ALL, .platform = true};
	struct arena a;
	struct user u;
	enum rs_status st;

	arena_init(&a, 0);
	st = tenant_lock(tx, x->tenant_id, err);
	if (st == RS_OK)
		st = user_load(tx, x->tenant_id, x->user_id, &a, &u, NULL, err);
	if (st == RS_E_NOT_FOUND) {
		st = RS_OK; /* deleted meanwhile: nothing to resume */
		goto out;
	}
	/* Resumed early, re-suspended or deactivated meanwhile: that later decision stands. */
	if (st != RS_OK || strcmp(u.status, "suspended") != 0 || u.version != x->version)
		goto out;
	st = apply(tx, x->c, &sys, &u, USER_RESUME, NULL, 0, &a, err);
out:
	arena_release(&a);
	return st;
}

enum rs_status users_resume_due(struct core *c, const char *tenant_id, const char *user_id,
				int64_t version, struct rs_err *err)
{
	struct due_ctx x = {c, tenant_id, user_id, version};

	return core_write(c, resume_due_tx, &x, err);
}
