/* Asynchronous deletion (docs/lifecycle.md "Deletion"). The request and the work are split so
 * that a request never waits on a large transfer, and so that a node dying half-way loses
 * nothing: the request commits the user's new state ('deleting', tokens revoked) together
 * with a task on the job queue; the task does the rest in one transaction of its own and is
 * retried by another node if this one dies. The user row keeps the task's id, which is how a
 * second DELETE finds the task already under way. */
#include "core/core_int.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto/aead.h"
#include "crypto/crypto.h"
#include "util/log.h"

#define DELETE_KIND "delete_user"
/* The tombstone's username hash is keyed: a bare SHA-256 of a username is reversed by trying
 * the likely names. Whoever holds the server key can still answer "was 'jdoe' deleted?". */
#define HASH_INFO "roster tombstone username v1"
#define HASH_PREFIX "hmac-sha256:"

static const char *json_text(json_t *o, const char *key, struct arena *a)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? arena_strdup(a, json_string_value(v)) : NULL;
}

/* ---- the tombstone ---------------------------------------------------------------------------
 */

static void username_hash(const struct core *c, const struct user *u,
			  char out[sizeof(HASH_PREFIX) + 2 * CRYPTO_SHA256_LEN])
{
	unsigned char key[CRYPTO_SHA256_LEN], mac[CRYPTO_SHA256_LEN];
	char msg[UUID_STR_LEN + RS_USERNAME_MAX + 2];
	int n = snprintf(msg, sizeof(msg), "%s:%s", u->tenant_id, u->username ? u->username : "");

	if (n < 0 || (size_t)n >= sizeof(msg))
		n = (int)sizeof(msg) - 1;
	/* Usernames are unique case-insensitively, so the hash is of the lower-cased name. */
	for (int i = UUID_STR_LEN; i < n; i++)
		msg[i] = (char)tolower((unsigned char)msg[i]);
	if (!crypto_hkdf_sha256(c->key, CORE_KEY_LEN, HASH_INFO, key, sizeof(key)))
		memset(key, 0, sizeof(key)); /* never: HKDF only fails on bad lengths */
	crypto_hmac_sha256(key, sizeof(key), msg, (size_t)n, mac);
	crypto_wipe(key, sizeof(key));
	memcpy(out, HASH_PREFIX, sizeof(HASH_PREFIX) - 1);
	crypto_hex(mac, sizeof(mac), out + sizeof(HASH_PREFIX) - 1);
}

enum rs_status user_tombstone(struct store_tx *tx, struct core *c, const struct user *u,
			      const char *deleted_by, struct rs_err *err)
{
	char hash[sizeof(HASH_PREFIX) + 2 * CRYPTO_SHA256_LEN];
	int64_t now = core_now(c);
	enum rs_status st;

	username_hash(c, u, hash);
	st = Q_EXEC(tx, Q_USER_DELETE, NULL, err, SV_S(u->tenant_id), SV_S(u->id), SV_I(now),
		    SV_S(deleted_by), SV_S(hash));
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_TOKEN_REVOKE_USER, NULL, err, SV_S(u->tenant_id), SV_S(u->id),
			    SV_I(now));
	if (st == RS_OK)
		st = sessions_revoke_user(tx, u->tenant_id, u->id, now, "user.delete", err);
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_CREDENTIALS_CLEAR, NULL, err, SV_S(u->tenant_id), SV_S(u->id));
	if (st == RS_OK) /* an API user's access ids die with it, never to be signed with again */
		st = Q_EXEC(tx, Q_API_CRED_DELETE_USER, NULL, err, SV_S(u->tenant_id), SV_S(u->id));
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_USER_ROLES_CLEAR, NULL, err, SV_S(u->tenant_id), SV_S(u->id));
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_USER_GROUPS_CLEAR, NULL, err, SV_S(u->tenant_id), SV_S(u->id));
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_DEPT_MANAGER_CLEAR_USER, NULL, err, SV_S(u->tenant_id),
			    SV_S(u->id));
	/* Its reports keep no reference to a tombstone (their versions move, so a provider's
	 * next If-Match sees the change). */
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_USER_REPORTS_UNLINK, NULL, err, SV_S(u->tenant_id), SV_S(u->id),
			    SV_I(now));
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_INVITATIONS_REVOKE_USER, NULL, err, SV_S(u->tenant_id),
			    SV_S(u->id), SV_I(now));
	if (st == RS_OK) /* DESIGN: its tokens are refused at once, on every node */
		st = store_signal(tx, STORE_SIG_AUTH, err);
	return st;
}

/* ---- tasks ------------------------------------------------------------------------------------
 */

static void task_from_job(const struct job *j, struct arena *a, struct task *t)
{
	static const struct {
		const char *job, *task;
	} states[] = {{"queued", "QUEUED"},
		      {"running", "PROCESSING"},
		      {"done", "COMPLETED"},
		      {"failed", "FAILED"}};
	json_t *p = json_loads(j->payload ? j->payload : "{}", 0, NULL);

	*t = (struct task){.id = j->id,
			   .tenant_id = j->tenant_id,
			   .kind = "user.delete",
			   .target_id = json_text(p, "user_id", a),
			   .status = "QUEUED",
			   .created_at = j->created_at,
			   .updated_at = j->updated_at};
	json_decref(p);
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		if (strcmp(j->status, states[i].job) == 0)
			t->status = states[i].task;
	}
	if (strcmp(j->status, "done") == 0 || strcmp(j->status, "failed") == 0)
		t->completed_at = j->updated_at;
	/* A queued task may carry the error of an attempt that will be retried. */
	if (strcmp(j->status, "done") != 0)
		t->reason = j->last_error;
}

static enum rs_status task_load(struct store_tx *tx, const char *tenant_id, const char *id,
				struct arena *a, struct job *out, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has = false;

	if (!id || !uuid_valid(id))
		goto missing;
	st = Q_QUERY(tx, Q_TASK_GET, &r, err, SV_S(tenant_id), SV_S(id));
	if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has)
		row_job(r, a, out);
	store_rows_close(r);
	if (st != RS_OK || has)
		return st;
missing:
	return rs_fail(err, RS_E_NOT_FOUND, "task.not_found", NULL, "no such task");
}

struct tctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *id;
	struct arena *a;
	struct task *out;
};

static enum rs_status task_get_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct tctx *x = arg;
	struct tenant t;
	struct job j;
	enum rs_status st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK)
		st = require_perm_any(x->who, PERM_USERS_READ, err);
	if (st == RS_OK)
		st = task_load(tx, t.id, x->id, x->a, &j, err);
	if (st == RS_OK)
		task_from_job(&j, x->a, x->out);
	/* A task is as visible as its user: a scoped reader sees those of its departments' users
	 * while they exist; a finished deletion, whose tombstone has no department any more, only
	 * a tenant-wide reader. Anything else answers like a missing task. */
	if (st == RS_OK && !(x->who->perms & PERM_BIT(PERM_USERS_READ))) {
		struct user u;

		st = x->out->target_id ? user_load(tx, t.id, x->out->target_id, x->a, &u, NULL, err)
				       : RS_E_NOT_FOUND;
		if (st == RS_OK)
			st = require_user_perm(tx, x->who, &u, PERM_USERS_READ, err);
		if (st == RS_E_NOT_FOUND || st == RS_E_FORBIDDEN)
			st = rs_fail(err, RS_E_NOT_FOUND, "task.not_found", NULL, "no such task");
	}
	return st;
}

enum rs_status tasks_get(struct core *c, const struct actor *who, const char *tenant,
			 const char *id, struct arena *a, struct task *out, struct rs_err *err)
{
	struct tctx x = {c, who, tenant, id, a, out};

	return core_read(c, task_get_tx, &x, err);
}

/* ---- the request ------------------------------------------------------------------------------
 */

struct dctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *id, *transfer_to;
	int64_t if_match;
	struct arena *a;
	struct task *out;
	bool queued; /* a new task: wake the runner after the commit */
};

/* Who asked, kept in the task so that its audit events name them, not "roster". */
static json_t *actor_json(const struct actor *who)
{
	return json_pack("{s:s,s:s?,s:s?,s:s?,s:s?,s:s?}", "kind",
			 who->kind == ACTOR_SYSTEM ? "system" : "user", "user_id",
			 who->user_id[0] ? who->user_id : NULL, "username",
			 who->username[0] ? who->username : NULL, "token_id",
			 who->token_id[0] ? who->token_id : NULL, "request_id", who->request_id,
			 "source_ip", who->source_ip);
}

static enum rs_status queue_task(struct store_tx *tx, struct dctx *x, const struct tenant *t,
				 const struct user *u, struct rs_err *err)
{
	char id[UUID_STR_LEN];
	int64_t now = core_now(x->c), changed = 0;
	struct changes *ch;
	struct job j;
	char *payload;
	enum rs_status st;

	if (!core_new_id(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	payload =
	    core_json_dump(json_pack("{s:s,s:s,s:s?,s:o}", "tenant_id", t->id, "user_id", u->id,
				     "transfer_to", x->transfer_to, "actor", actor_json(x->who)),
			   x->a);
	if (!payload)
		return core_oom(err);
	st = Q_EXEC(tx, Q_JOB_INSERT, NULL, err, SV_S(id), SV_S(t->id), SV_S(DELETE_KIND),
		    SV_S(payload), SV_I(now), SV_I(now));
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_USER_MARK_DELETING, &changed, err, SV_S(t->id), SV_S(u->id),
			    SV_S(id), SV_I(now), SV_I(u->version));
	if (st == RS_OK && changed == 0)
		st = rs_fail(err, RS_E_PRECONDITION, "request.precondition_failed", NULL,
			     "the user changed concurrently");
	/* Access ends with the request, not with the task: nothing the user holds works while
	 * the task waits its turn. */
	if (st == RS_OK)
		st =
		    Q_EXEC(tx, Q_TOKEN_REVOKE_USER, NULL, err, SV_S(t->id), SV_S(u->id), SV_I(now));
	if (st == RS_OK)
		st = sessions_revoke_user(tx, t->id, u->id, now, "user.delete_request", err);
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_INVITATIONS_REVOKE_USER, NULL, err, SV_S(t->id), SV_S(u->id),
			    SV_I(now));
	if (st == RS_OK)
		st = store_signal(tx, STORE_SIG_AUTH, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "status", u->status, "deleting");
	changes_str(ch, "deletion_task", u->deletion_task, id);
	changes_str(ch, "transfer_to", NULL, x->transfer_to);
	st = audit_append(tx, x->c, x->who, t->id, "user.delete_request", "user", u->id,
			  changes_dump(ch, x->a), err);
	changes_free(ch);
	if (st == RS_OK)
		st = task_load(tx, t->id, id, x->a, &j, err);
	if (st == RS_OK) {
		task_from_job(&j, x->a, x->out);
		x->queued = true;
	}
	return st;
}

static enum rs_status delete_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct dctx *x = arg;
	struct tenant t;
	struct user u;
	struct job j;
	enum rs_status st;

	x->queued = false;
	st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm_any(x->who, PERM_USERS_DELETE, err);
	if (st == RS_OK)
		st = user_load(tx, t.id, x->id, x->a, &u, NULL, err);
	/* A user outside the actor's departments is not there, even by id. */
	if (st == RS_OK)
		st = require_user_perm(tx, x->who, &u, PERM_USERS_DELETE, err);
	/* DESIGN rule 2: nobody deletes a user who outranks them. */
	if (st == RS_OK)
		st = rank_may_act_on(x->who, u.rank, err);
	if (st != RS_OK)
		return st;
	if (strcmp(u.id, x->who->user_id) == 0)
		return rs_fail(err, RS_E_CONFLICT, "user.self_delete", NULL,
			       "you can't delete your own account");
	/* A repeated request (a client's retry, a second admin) joins the task under way. A
	 * failed task is history: this request queues a new one. */
	if (strcmp(u.status, "deleting") == 0 && u.deletion_task) {
		st = task_load(tx, t.id, u.deletion_task, x->a, &j, err);
		if (st != RS_OK)
			return st;
		if (strcmp(j.status, "failed") != 0) {
			task_from_job(&j, x->a, x->out);
			return RS_OK;
		}
	}
	if (x->if_match && x->if_match != u.version)
		return rs_fail(err, RS_E_PRECONDITION, "request.precondition_failed", NULL,
			       "the user changed since version %lld", (long long)x->if_match);
	/* Refuse now what the task would refuse: the caller hears about it while it can act. */
	st = ownership_check(tx, x->c, x->who, &t, &u, x->transfer_to, x->a, err);
	return st != RS_OK ? st : queue_task(tx, x, &t, &u, err);
}

enum rs_status users_delete(struct core *c, const struct actor *who, const char *tenant,
			    const char *id, int64_t if_match, const char *transfer_to,
			    struct arena *a, struct task *out, struct rs_err *err)
{
	struct dctx x = {.c = c,
			 .who = who,
			 .tenant = tenant,
			 .id = id,
			 .transfer_to = transfer_to,
			 .if_match = if_match,
			 .a = a,
			 .out = out};
	enum rs_status st = core_write(c, delete_tx, &x, err);

	if (st == RS_OK && x.queued)
		jobs_nudge(c);
	return st;
}

/* ---- the task ---------------------------------------------------------------------------------
 */

struct rctx {
	struct core *c;
	const struct job *job;
	struct actor who;
	const char *tenant_id, *user_id, *transfer_to;
	const struct rs_err *why; /* failed_tx: the refusal */
	struct arena *a;
};

/* The e-mail to the deleted user and the user.deleted event, written before the tombstone
 * clears the address. */
static enum rs_status announce(struct store_tx *tx, struct rctx *x, const struct user *u,
			       const char *changes, struct rs_err *err)
{
	const char *roles = u->system_role.name ? u->system_role.name : "";
	char *vars, *data;
	enum rs_status st = RS_OK;

	for (int i = 0; i < u->nroles && roles; i++)
		roles = arena_printf(x->a, "%s, %s", roles, u->roles[i].name);
	vars = core_json_dump(json_pack("{s:s,s:s,s:s,s:s,s:s}", "username",
					u->username ? u->username : "", "first_name",
					u->first_name ? u->first_name : "", "last_name",
					u->last_name ? u->last_name : "", "roles",
					roles ? roles : "", "link", core_public_url(x->c)),
			      x->a);
	data = core_json_dump(
	    json_pack("{s:{s:s,s:s?,s:s?,s:s},s:o,s:s}", "user", "id", u->id, "username",
		      u->username, "email", u->email, "status", "deleted", "changes",
		      json_loads(changes ? changes : "{}", 0, NULL), "task_id", x->job->id),
	    x->a);
	if (!vars || !data)
		return core_oom(err);
	if (u->email)
		st = outbox_email(tx, x->c, u->tenant_id, "deletion", u->email, vars, err);
	if (st == RS_OK)
		st = outbox_event(tx, x->c, u->tenant_id, "user.deleted", data, err);
	return st;
}

static enum rs_status run_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct rctx *x = arg;
	struct tenant t;
	struct user u;
	struct changes *ch;
	const char *doc;
	enum rs_status st;

	st = tenant_load(tx, x->tenant_id, x->a, &t, err);
	if (st == RS_OK)
		st = tenant_lock(tx, t.id, err);
	if (st == RS_OK)
		st = user_load(tx, t.id, x->user_id, x->a, &u, NULL, err);
	/* Done already (a node died between the commit and the job's finish), or superseded by
	 * a newer task: nothing left to do. */
	if (st == RS_E_NOT_FOUND ||
	    (st == RS_OK && (strcmp(u.status, "deleting") != 0 || !u.deletion_task ||
			     strcmp(u.deletion_task, x->job->id) != 0)))
		return RS_OK;
	if (st == RS_OK)
		st = ownership_transfer(tx, x->c, &x->who, &t, &u, x->transfer_to, "deletion", x->a,
					err);
	if (st == RS_OK)
		st = user_tombstone(tx, x->c, &u, x->who.user_id[0] ? x->who.user_id : NULL, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	changes_str(ch, "status", u.status, "deleted");
	changes_str(ch, "username", u.username, NULL);
	changes_str(ch, "email", u.email, NULL);
	changes_str(ch, "deletion_task", NULL, x->job->id);
	doc = changes_dump(ch, x->a);
	changes_free(ch);
	st = audit_append(tx, x->c, &x->who, t.id, "user.delete", "user", u.id, doc, err);
	return st == RS_OK ? announce(tx, x, &u, doc, err) : st;
}

/* The audit of a task that can't succeed, so the trail shows why the user is still there. */
static enum rs_status failed_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct rctx *x = arg;
	const struct rs_err *why = x->why;
	char *doc =
	    core_json_dump(json_pack("{s:{s:n,s:s},s:{s:n,s:s}}", "task_error", "before", "after",
				     why->msg, "task_id", "before", "after", x->job->id),
			   x->a);

	if (!doc)
		return core_oom(err);
	return audit_append(tx, x->c, &x->who, x->tenant_id, "user.delete_failed", "user",
			    x->user_id, doc, err);
}

static void actor_from_json(json_t *o, struct rctx *x)
{
	const char *s;

	/* The task acts with the platform's reach but in the requester's name. */
	x->who =
	    (struct actor){.kind = ACTOR_SYSTEM, .rank = 1000, .perms = PERM_ALL, .platform = true};
	if ((s = json_text(o, "user_id", x->a)) && uuid_valid(s)) {
		x->who.kind = ACTOR_TOKEN;
		str_copy(x->who.user_id, sizeof(x->who.user_id), s);
	}
	if ((s = json_text(o, "username", x->a)))
		str_copy(x->who.username, sizeof(x->who.username), s);
	if ((s = json_text(o, "token_id", x->a)) && uuid_valid(s)) {
		x->who.kind = ACTOR_TOKEN;
		str_copy(x->who.token_id, sizeof(x->who.token_id), s);
	}
	x->who.request_id = json_text(o, "request_id", x->a);
	x->who.source_ip = json_text(o, "source_ip", x->a);
}

enum rs_status deletion_run(struct core *c, const struct job *job, struct rs_err *err)
{
	struct arena a;
	struct rctx x = {.c = c, .job = job, .a = &a};
	json_t *p;
	enum rs_status st;

	arena_init(&a, 0);
	p = json_loads(job->payload ? job->payload : "{}", 0, NULL);
	x.tenant_id = json_text(p, "tenant_id", &a);
	x.user_id = json_text(p, "user_id", &a);
	x.transfer_to = json_text(p, "transfer_to", &a);
	actor_from_json(json_object_get(p, "actor"), &x);
	json_decref(p);
	if (!x.tenant_id || !x.user_id) {
		arena_release(&a);
		return rs_fail(err, RS_E_INVALID, "task.bad_payload", NULL,
			       "the task names no tenant or user");
	}
	st = core_write(c, run_tx, &x, err);
	/* Retrying can't fix a refused transfer; record why the user is still there. */
	if (st == RS_E_CONFLICT || st == RS_E_INVALID) {
		struct rs_err ferr;

		x.why = err;
		if (core_write(c, failed_tx, &x, &ferr) != RS_OK)
			log_kv(LOG_WARN, "deletion failure not audited", "task", job->id, "error",
			       ferr.code, NULL);
	}
	arena_release(&a);
	return st;
}
