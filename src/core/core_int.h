/* Shared internals of core/: the struct core, row mapping, access checks, audit append and
 * cursors. Adapters never include this header. */
#ifndef ROSTER_CORE_CORE_INT_H
#define ROSTER_CORE_CORE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/core.h"
#include "crypto/password.h"
#include "store/store.h"
#include "util/limits.h"
#include "util/str.h"

struct auth_cache;
struct session_cache;
struct throttle;
struct keys_cache;
struct api_cache;

#define JOB_KINDS_MAX 8
#define CORE_PUBLIC_URL_MAX 512

struct core {
	struct store *store;
	unsigned char key[CORE_KEY_LEN];
	int64_t (*now_ms)(void *);
	void *clock_ctx;
	/* Bumped by every committed write that can take access away (token revoke, user delete,
	 * role change, tenant delete). Cached actors remember the epoch they were built in and
	 * are discarded when it moved: revocation is effective on the very next request. */
	atomic_uint_fast64_t auth_epoch;
	atomic_uint_fast64_t store_errors;
	struct auth_cache *cache;
	struct session_cache *sessions; /* cookie sessions (core/sessions.c) */
	struct throttle *throttle;	/* login attempts per source address */
	struct jwt_cache *jwts;	  /* access tokens whose signature was checked (core/oauth.c) */
	struct jobs_runner *jobs; /* NULL unless jobs_start() ran */
	atomic_int_fast64_t ready_checked_ms; /* last readiness probe */
	atomic_bool ready;
	/* Job kinds registered by adapters (jobs_register), before the runner starts; read-only
	 * afterwards, so the runner reads them without a lock. */
	struct job_kind {
		char name[JOB_KIND_NAME_MAX];
		job_run_fn run;
		void *ctx;
		struct job_kind_opts opts;
	} kinds[JOB_KINDS_MAX];
	int nkinds;
	char public_url[CORE_PUBLIC_URL_MAX];
	struct keys_cache *keys; /* the JWT signing keys (core/keys.c) */
	int64_t access_token_ttl_ms;
	struct api_cache *api;	  /* API users' derived secrets and actors (core/api_users.c) */
	struct list_cache *lists; /* users_list's page positions and totals (core/list_cache.c) */
	atomic_int_fast64_t signed_purged_ms; /* when this node last forgot old signatures */
};

/* Runs a named query with an inline argument list:
 *   Q_EXEC(tx, Q_USER_DELETE, &changes, err, SV_S(tid), SV_S(id), SV_I(now)) */
#define Q_ARGS(...) ((const struct store_val[]){__VA_ARGS__})
#define Q_NARGS(...) ((int)(sizeof(Q_ARGS(__VA_ARGS__)) / sizeof(struct store_val)))
#define Q_EXEC(tx, q, changes, err, ...)                                                           \
	store_exec((tx), (q), Q_ARGS(__VA_ARGS__), Q_NARGS(__VA_ARGS__), (changes), (err))
#define Q_QUERY(tx, q, rows, err, ...)                                                             \
	store_query((tx), (q), Q_ARGS(__VA_ARGS__), Q_NARGS(__VA_ARGS__), (rows), (err))

/* Runs fn on a read or write transaction and counts store failures for /metrics. */
enum rs_status core_read(struct core *c, store_fn fn, void *ctx, struct rs_err *err);
enum rs_status core_write(struct core *c, store_fn fn, void *ctx, struct rs_err *err);
/* core_write() for a write whose results the caller keeps none of (a delete, a revoke): *slot,
 * the ctx's arena pointer, is set to a scratch arena that is released afterwards. */
enum rs_status core_write_scratch(struct core *c, store_fn fn, void *ctx, struct arena **slot,
				  struct rs_err *err);
void core_auth_changed(struct core *c);
bool core_new_id(char out[UUID_STR_LEN]);
enum rs_status core_oom(struct rs_err *err);
/* The store's twin of a caller's predicate tree, in a: attr_store maps the collection's
 * attribute enum (nattr values) to its store attribute. RS_E_INVALID for a tree the core does
 * not know (an unknown operator or attribute, a missing operand). */
enum rs_status core_pred_compile(const struct pred *p, const int *attr_store, size_t nattr,
				 struct arena *a, const struct store_pred **out,
				 struct rs_err *err);

/* Access. DESIGN rule 1: authorisation is decided here, never in an adapter. */
enum rs_status require_perm(const struct actor *who, enum perm p, struct rs_err *err);
/* DESIGN rule 2: nobody acts on a user who outranks them. */
enum rs_status rank_may_act_on(const struct actor *who, int target_rank, struct rs_err *err);
/* DESIGN rule 2: nobody grants a role above their own. */
enum rs_status rank_may_grant(const struct actor *who, int role_rank, struct rs_err *err);

/* Scoped permissions (docs/lifecycle.md, Departments; core/departments.c). An actor holds a
 * permission tenant-wide (who->perms) or over department subtrees (who->scopes). */
bool actor_holds_any(const struct actor *who, enum perm p);
/* require_perm() at the top of an operation on one user, whose target is checked once loaded
 * with require_user_perm(): p held tenant-wide or in at least one scope. */
enum rs_status require_perm_any(const struct actor *who, enum perm p, struct rs_err *err);
/* *ok tells whether who holds p over department dept_id of tenant_id (NULL: a user in no
 * department, reached by tenant-wide holders only): tenant-wide, or through a scope naming
 * dept_id or one of its ancestors. */
enum rs_status dept_reach(struct store_tx *tx, const struct actor *who, const char *tenant_id,
			  const char *dept_id, enum perm p, bool *ok, struct rs_err *err);
/* The check of every operation on a loaded user u: RS_OK when who holds p over u. A user
 * outside everything who may read answers exactly as a missing one (RS_E_NOT_FOUND
 * "user.not_found"), so nobody learns what lies outside their subtrees, even by id; one who
 * may read but not p gets RS_E_FORBIDDEN. */
enum rs_status require_user_perm(struct store_tx *tx, const struct actor *who, const struct user *u,
				 enum perm p, struct rs_err *err);
/* Validates a department id of the tenant (RS_E_INVALID, field) and gives its name. */
enum rs_status department_check(struct store_tx *tx, const char *tenant_id, const char *id,
				const char *field, struct arena *a, const char **name,
				struct rs_err *err);

/* Resolves a tenant ref (id or slug) for who. DESIGN rule 3: a tenant the actor may not reach
 * answers exactly like a missing one. */
enum rs_status tenant_resolve(struct store_tx *tx, const struct actor *who, const char *ref,
			      struct arena *a, struct tenant *out, struct rs_err *err);
enum rs_status tenant_load(struct store_tx *tx, const char *ref, struct arena *a,
			   struct tenant *out, struct rs_err *err);
/* tenant_resolve() for a write: also takes the tenant's write lock, so that on an engine with
 * concurrent writers (PostgreSQL) every check this transaction makes afterwards (versions,
 * ranks, uniqueness of the audit sequence) sees the tenant's latest committed state. */
enum rs_status tenant_resolve_write(struct store_tx *tx, const struct actor *who, const char *ref,
				    struct arena *a, struct tenant *out, struct rs_err *err);
enum rs_status tenant_lock(struct store_tx *tx, const char *tenant_id, struct rs_err *err);

/* Row mapping: strings are copied into a. */
void row_tenant(struct store_rows *r, struct arena *a, struct tenant *out);
void row_role(struct store_rows *r, struct arena *a, struct role *out);
void row_group(struct store_rows *r, struct arena *a, struct group *out);
void row_token(struct store_rows *r, struct arena *a, struct token *out);
void row_audit(struct store_rows *r, struct arena *a, struct audit_event *out);
const char *col_str(struct store_rows *r, int col, struct arena *a);

/* Loads one row of a single-row query into out via map; RS_E_NOT_FOUND (code) when none. */
enum rs_status role_find(struct store_tx *tx, const char *tenant_id, const char *ref,
			 struct arena *a, struct role *out, struct rs_err *err);
enum rs_status group_find(struct store_tx *tx, const char *tenant_id, const char *ref,
			  struct arena *a, struct group *out, struct rs_err *err);
/* Loads a live user with roles and groups and computes its rank; *perms (if not NULL) gets
 * its effective permissions: the union of its system role's and tenant roles'. */
enum rs_status user_load(struct store_tx *tx, const char *tenant_id, const char *id,
			 struct arena *a, struct user *out, uint64_t *perms, struct rs_err *err);

/* user_load() that also gives the user's scoped grants: *perms then holds only what its
 * unscoped roles give, scopes (ACTOR_SCOPES_MAX entries) what its scoped roles give, one
 * entry per department. */
enum rs_status user_load_grants(struct store_tx *tx, const char *tenant_id, const char *id,
				struct arena *a, struct user *out, uint64_t *perms,
				struct actor_scope *scopes, int *nscopes, struct rs_err *err);

/* One user row (UC_* layout) without its roles and groups. */
void row_user(struct store_rows *r, struct arena *a, struct user *u);
/* Reads up to limit user rows (UC_* layout) into items, completed with roles and groups;
 * *more tells whether a further row was there. */
enum rs_status user_rows_fill(struct store_tx *tx, struct store_rows *r, struct arena *a,
			      struct user *items, int limit, int *n, bool *more,
			      struct rs_err *err);
/* As user_rows_fill(), handing each chunk of completed users to on (see
 * user_list_query.on_users) as soon as it is read; on may be NULL. */
enum rs_status user_rows_fill_each(struct store_tx *tx, struct store_rows *r, struct arena *a,
				   struct user *items, int limit, int *n, bool *more,
				   void (*on)(void *, const struct user *, int, int), void *ctx,
				   struct rs_err *err);

/* Audit: builds the changes document and appends an event to the tenant's chain, inside the
 * caller's write transaction. changes is JSON object text or NULL for "{}". */
struct changes;
struct changes *changes_new(void);
void changes_free(struct changes *ch);
/* before/after NULL mean JSON null; a field whose values are equal is not recorded. */
void changes_str(struct changes *ch, const char *field, const char *before, const char *after);
void changes_int(struct changes *ch, const char *field, bool has_before, int64_t before,
		 bool has_after, int64_t after);
/* Adds a field whose before/after are JSON texts (arrays, objects). */
void changes_json(struct changes *ch, const char *field, const char *before, const char *after);
bool changes_empty(const struct changes *ch);
char *changes_dump(struct changes *ch, struct arena *a);

enum rs_status audit_append(struct store_tx *tx, struct core *c, const struct actor *who,
			    const char *tenant_id, const char *action, const char *target_type,
			    const char *target_id, const char *changes, struct rs_err *err);
/* The chain hash of an event (hex). */
void audit_hash(const struct audit_event *e, char out[65]);

/* Cursors: opaque, authenticated with the server key so a tampered one is refused. */
char *cursor_encode(struct core *c, struct arena *a, const char *sortval, const char *id);
enum rs_status cursor_decode(struct core *c, struct arena *a, const char *cursor,
			     const char **sortval, const char **id, struct rs_err *err);
int page_limit(const struct page *pg);

/* Templates. */
const struct role_template *templates_find(const char *name);
uint64_t template_role_perms(const struct template_role *r);
/* Writes the roles of template t into tenant tenant_id. */
enum rs_status template_apply(struct store_tx *tx, struct core *c, const char *tenant_id,
			      const struct role_template *t, struct arena *a, struct rs_err *err);
char *perms_to_text(uint64_t perms, struct arena *a);

/* RFC 7396: target (JSON text, NULL = {}) merged with patch; NULL when patch is not JSON. */
char *json_merge_patch_text(struct arena *a, const char *target, const char *patch);
/* True when text is a JSON object. */
bool json_text_is_object(const char *text);

/* Validation shared by every surface. */
enum rs_status check_text(const char *field, const char *v, size_t max, bool required,
			  struct rs_err *err);

/* The token format and its keyed hash. */
#define TOKEN_PREFIX "rst_"
#define TOKEN_LOOKUP_LEN 16 /* hex chars */
void token_split(const char *token, char lookup[TOKEN_LOOKUP_LEN + 1], const char **secret);
void token_hash(const struct core *c, const char *secret, char out[65]);
/* Makes a new token: *token = "rst_<lookup>_<secret>" (arena), lookup/hash for storage. */
enum rs_status token_mint(const struct core *c, struct arena *a, const char **token,
			  char lookup[TOKEN_LOOKUP_LEN + 1], char hash[65], struct rs_err *err);
/* The same shape for the other secrets (sessions "rss_", refresh tokens "rsr_"): secret_split
 * is strict, false for anything not "<prefix><16 hex>_<secret>". */
enum rs_status secret_mint(const struct core *c, struct arena *a, const char *prefix,
			   const char **token, char lookup[TOKEN_LOOKUP_LEN + 1], char hash[65],
			   struct rs_err *err);
bool secret_split(const char *token, const char *prefix, char lookup[TOKEN_LOOKUP_LEN + 1],
		  const char **secret);
enum rs_status token_find(struct store_tx *tx, const char *tenant_id, const char *id,
			  struct arena *a, struct token *out, struct rs_err *err);
/* Stores a token row; the caller has checked access. */
enum rs_status token_insert(struct store_tx *tx, struct core *c, const char *tenant_id,
			    const char *id, const char *lookup, const char *hash,
			    const char *user_id, const char *name, const char *role_id,
			    const char *created_by, int64_t expires_at, struct rs_err *err);

/* Refuses (RS_E_CONFLICT "seats.exhausted", with the figures) when the tenant has no free
 * seat of type; call inside the write, after the tenant's write lock. */
enum rs_status seats_check(struct store_tx *tx, const char *tenant_id, const char *type,
			   struct rs_err *err);
/* Fills t->seat_limits. */
enum rs_status seats_load_limits(struct store_tx *tx, struct tenant *t, struct rs_err *err);
int user_type_index(const char *type);

/* The create (id NULL) or update path of users_create/users_update inside the caller's write
 * transaction, for invitations: a new user is created in state 'invited'; users.create is the
 * permission (also for the pre-assigned roles, under the rank rule); seats are checked; the
 * user is audited (user.create / user.update) and announced (user.created / user.updated). */
enum rs_status user_write_invited(struct store_tx *tx, struct core *c, const struct actor *who,
				  const char *tenant, const char *id, const struct user_fields *f,
				  struct arena *a, struct user *out, struct rs_err *err);

/* The create path of users_create inside the caller's write transaction (API users): the
 * same validation, permission (users.create, department), rank rule on the roles, seat check,
 * audit (user.create) and announcement (user.created). */
enum rs_status user_write_new(struct store_tx *tx, struct core *c, const struct actor *who,
			      const char *tenant, const struct user_fields *f, struct arena *a,
			      struct user *out, struct rs_err *err);

/* Whether f changes anything at all. */
bool user_fields_any(const struct user_fields *f);

/* The update path of users_update inside the caller's write transaction (provisioning). */
enum rs_status user_write_update(struct store_tx *tx, struct core *c, const struct actor *who,
				 const char *tenant, const char *id, const struct user_fields *f,
				 int64_t if_match, struct arena *a, struct user *out,
				 struct rs_err *err);

/* users_transition inside the caller's write transaction: the same checks and effects. */
enum rs_status user_transition_in(struct store_tx *tx, struct core *c, const struct actor *who,
				  const char *tenant, const char *id,
				  const struct user_transition_req *req, struct arena *a,
				  struct user *out, struct rs_err *err);

/* A password an identity provider sends for user id (NULL: a user about to be created), whose
 * changes f also bring (the policy's context words are the user as it will be): checked against the
 * tenant's policy and history and hashed, outside any transaction. *hash stays NULL when the tenant
 * ignores provisioned passwords (setting provisioned_passwords) or the password already is the
 * user's: a provider that sends it again changes nothing. explicit: the request asks for this
 * change alone (a PATCH), which a tenant that ignores passwords refuses (RS_E_INVALID) instead.
 * Needs users.update and the rank rule over an existing user. */
enum rs_status password_prepare(struct core *c, const struct actor *who, const char *tenant,
				const char *id, const struct user_fields *f, const char *password,
				bool explicit, struct arena *a, const char **hash,
				struct rs_err *err);
/* Stores a hash from password_prepare inside the caller's write transaction, as
 * users_password_set does (permanent: completes a pending reset; ends sessions; audited
 * user.password_set). */
enum rs_status password_store_in(struct store_tx *tx, struct core *c, const struct actor *who,
				 const char *tenant_id, const char *user_id, const char *hash,
				 struct arena *a, struct rs_err *err);

/* Hands every owned resource of u (loaded, checked by the caller) to transfer_to, else to the
 * tenant's default target (core.h, owned resources), inside the caller's write transaction:
 * each move audited (resource.transfer) and announced (resource.transferred, with why:
 * "deactivation" or "deletion"). A transfer_to that is named is validated even when u owns
 * nothing. */
enum rs_status ownership_transfer(struct store_tx *tx, struct core *c, const struct actor *who,
				  const struct tenant *t, const struct user *u,
				  const char *transfer_to, const char *why, struct arena *a,
				  struct rs_err *err);
/* ownership_transfer's checks without the transfer: RS_OK when it would succeed now. A
 * transfer_to that who may not read (docs/lifecycle.md, Departments) is refused as one that
 * names nobody, here and in ownership_transfer. */
enum rs_status ownership_check(struct store_tx *tx, struct core *c, const struct actor *who,
			       const struct tenant *t, const struct user *u,
			       const char *transfer_to, struct arena *a, struct rs_err *err);
/* Leaves u's tombstone (docs/lifecycle.md "Deletion"): revokes its tokens, drops its
 * credentials, roles and group memberships, keeps only id, deleted_at, deleted_by and a keyed
 * hash of the username. The caller audits and announces. */
enum rs_status user_tombstone(struct store_tx *tx, struct core *c, const struct user *u,
			      const char *deleted_by, struct rs_err *err);
/* Passwords (core/credentials.c): verification with upgrade (*rehash: a new hash to store, in
 * a), and the cost of one verification for logins that have no hash to check. */
enum pw_verify password_verify(struct core *c, const struct tenant *t, const char *hash,
			       const char *pw, struct arena *a, const char **rehash);
void password_dummy(struct core *c, const struct tenant *t, const char *pw);
/* u's required actions, as stored (space-separated), with action added (on) or removed. */
const char *user_required_with(const struct user *u, const char *action, bool on, struct arena *a);
/* The tenant's password policy for a new password of u (email: an address it is about to
 * get); RS_E_INVALID password.policy naming the rule. */
enum rs_status password_acceptable(const struct tenant *t, const char *pw, const struct user *u,
				   const char *email, struct arena *a, struct rs_err *err);
/* Sessions (core/sessions.c). */
/* The actor of a user's own session: its permissions (tenant-wide and scoped), none at all
 * while required actions are pending (restricted). */
void actor_for_user(struct actor *out, const struct tenant *t, const struct user *u, uint64_t perms,
		    const struct actor_scope *scopes, int nscopes);
enum rs_status session_create(struct store_tx *tx, struct core *c, const struct tenant *t,
			      const struct user *u, const char *source_ip, const char *user_agent,
			      struct arena *a, struct login_result *out, struct rs_err *err);
void row_session(struct store_rows *r, struct arena *a, struct session *s);
/* Stores a new refresh token of the session (rsr_…, in *token). */
enum rs_status refresh_issue(struct store_tx *tx, struct core *c, const char *tenant_id,
			     const char *session_id, int64_t expires_at, struct arena *a,
			     const char **token, struct rs_err *err);
/* The JWT access token of u's session sid (core/oauth.c). */
enum rs_status session_access_token(struct core *c, const struct user *u, const char *sid,
				    struct arena *a, const char **jwt, int64_t *expires_in_s,
				    struct rs_err *err);
/* The actor of a live session named by a verified access token (its sid). */
enum rs_status auth_session_id(struct core *c, const char *tenant_id, const char *sid,
			       struct actor *out, struct rs_err *err);
enum rs_status sessions_revoke_user(struct store_tx *tx, const char *tenant_id, const char *user_id,
				    int64_t now, const char *reason, struct rs_err *err);
/* v as compact JSON text with sorted keys, in a; takes v (NULL in, NULL out). */
struct json_t;
char *core_json_dump(struct json_t *v, struct arena *a);
/* Tenant settings (core/settings.c). */
void tenant_settings_defaults(int64_t out[TS__COUNT]);
void tenant_settings_read(struct json_t *o, int64_t out[TS__COUNT]);
/* Validates p's settings and merges them into s; RS_E_INVALID names the field. */
enum rs_status tenant_settings_apply(const struct tenant_patch *p, int64_t s[TS__COUNT],
				     struct rs_err *err);
/* Runs a deletion task (core/deletion.c) for the job runner. */
enum rs_status deletion_run(struct core *c, const struct job *job, struct rs_err *err);
/* Wakes this node's job runner: work was just queued. */
void jobs_nudge(struct core *c);

/* The due end of a suspension (job "resume_user"): resumes the user if it is still in the
 * suspension that scheduled it (same version), else does nothing. */
enum rs_status users_resume_due(struct core *c, const char *tenant_id, const char *user_id,
				int64_t version, struct rs_err *err);

/* The outbox (core/outbox.c). Both run inside the caller's write transaction, so the message
 * leaves roster if and only if the change that caused it commits (DESIGN rule 4).
 *
 * outbox_email renders template_name (the tenant's override, else the built-in) with vars_json
 * (a JSON object of strings; tenant_name and public_url are filled in when absent) and queues
 * a job of kind "email" holding the final message: to, subject, text, html. A later template
 * edit never changes a queued message. RS_E_INVALID for an unknown template, a bad address or
 * vars that are not an object of strings.
 *
 * outbox_event assigns the event an id (UUIDv7) and queues one job of kind "webhook" per
 * active subscription of the tenant whose patterns match event_type. data_json: a JSON object
 * (NULL = {}). No subscription matching is not an error: nothing is queued. */
enum rs_status outbox_email(struct store_tx *tx, struct core *c, const char *tenant_id,
			    const char *template_name, const char *to, const char *vars_json,
			    struct rs_err *err);
enum rs_status outbox_event(struct store_tx *tx, struct core *c, const char *tenant_id,
			    const char *event_type, const char *data_json, struct rs_err *err);
/* outbox_email that also tells the queued job's id. */
enum rs_status outbox_email_id(struct store_tx *tx, struct core *c, const char *tenant_id,
			       const char *template_name, const char *to, const char *vars_json,
			       char job_id[UUID_STR_LEN], struct rs_err *err);
/* One event to one subscription, whatever its patterns (webhooks_ping). */
enum rs_status outbox_event_one(struct store_tx *tx, struct core *c, const char *tenant_id,
				const char *webhook_id, const char *event_type,
				const char *data_json, char job_id[UUID_STR_LEN],
				struct rs_err *err);
/* Loads one outbox job of tenant_id (RS_E_NOT_FOUND "outbox.not_found" otherwise). */
enum rs_status outbox_job_load(struct store_tx *tx, const char *tenant_id, const char *id,
			       struct arena *a, struct job *out, struct rs_err *err);
void row_job(struct store_rows *rows, struct arena *a, struct job *j);

/* E-mail rendering (core/email_templates.c), for outbox_email and the tests. Loads the
 * effective template of tenant_id (override or built-in). */
enum rs_status email_template_load(struct store_tx *tx, const char *tenant_id, const char *name,
				   struct arena *a, struct email_template *out, struct rs_err *err);
/* Renders one part: {{var}} replaced by its value in vars (a jansson object, borrowed; a
 * missing variable renders empty), HTML-escaped when html, CR/LF dropped when header. NULL
 * only when out of memory. */
struct json_t;
char *email_render(struct arena *a, const char *tmpl, const struct json_t *vars, bool html,
		   bool header);
/* Checks that tmpl uses only allowed variables, with well-formed {{…}}. */
enum rs_status email_template_check(const struct email_template *t, const char *field,
				    const char *tmpl, struct rs_err *err);
/* True when pattern ("*", "user.*", "user.created") matches event_type. */
bool webhook_pattern_match(const char *pattern, const char *event_type);
/* Encrypts / decrypts a webhook secret, bound to its tenant and id. */
enum rs_status webhook_secret_seal(const struct core *c, const char *tenant_id, const char *id,
				   const char *secret, struct arena *a, char **out,
				   struct rs_err *err);
enum rs_status webhook_secret_open(const struct core *c, const char *tenant_id, const char *id,
				   const char *sealed, struct arena *a, char **out,
				   struct rs_err *err);

/* Claims and runs at most one due job on the calling thread, as node node_id (*ran tells
 * whether there was one). The runner thread does the same in a loop; tests call it with a
 * pinned clock to step through retries. */
enum rs_status jobs_run_next(struct core *c, const char *node_id, bool *ran, struct rs_err *err);

/* ---- Passwords (core/password_policy.c, docs/passwords.md) ---------------------------------- */

/* Positions in the context array of password_policy_check(): the refusal names which one the
 * password contains. Entries from PW_CTX_N on are further words tied to the account; NULL or
 * empty entries are skipped. */
enum pw_ctx {
	PW_CTX_USERNAME,
	PW_CTX_EMAIL,
	PW_CTX_FIRST_NAME,
	PW_CTX_LAST_NAME,
	PW_CTX_TENANT,
	PW_CTX_N
};

/* Checks a new password against t's policy (t NULL or zeroed: the defaults): length in code
 * points, composition when the tenant asks for it, the shipped blocklist (case-insensitive),
 * and context: the password equals or contains, case-insensitively, a context entry or a word
 * of one (split on ASCII that is neither letter nor digit) of at least 4 characters.
 * RS_E_INVALID, code password.policy, field password, a message naming the broken rule.
 * The password is never copied outside this call's stack, which is wiped. */
enum rs_status password_policy_check(const struct tenant *t, const char *pw,
				     const char *const *context, int ncontext, struct rs_err *err);
/* Refuses (RS_E_INVALID, password.reused, field password) a password that verifies against one
 * of the first min(n, t's password_history) of old_hashes (newest first; any accepted format).
 * Each comparison is a full verification, on the hashing pool. */
enum rs_status password_history_check(const struct tenant *t, const char *pw,
				      const char *const *old_hashes, int n, struct rs_err *err);
/* The tenant's argon2id parameters for crypto_password_hash2/check/dummy. Cannot fail. */
void password_policy_params(const struct tenant *t, struct pw_params *out);
/* True when a password set at set_at_ms is older than the tenant's password_max_age_days
 * (never when that is 0, the default). */
bool password_expired(const struct tenant *t, int64_t set_at_ms, int64_t now_ms);
/* True when pw is on the shipped blocklist (case-insensitive). Thread-safe; the list is parsed
 * once, on first use. */
bool password_blocklisted(const char *pw);

/* Tenant settings: defaults, reading from and writing to the settings JSON object (borrowed),
 * applying a patch's password members to io (400 request.invalid_field naming the field), and
 * the audit changes. */
void password_settings_default(struct tenant_password *p);
void password_settings_read(struct json_t *settings, struct tenant_password *out);
bool password_settings_write(struct json_t *settings, const struct tenant_password *p);
enum rs_status password_settings_patch(const struct tenant_patch *p, struct tenant_password *io,
				       struct rs_err *err);
void password_settings_changes(struct changes *ch, const struct tenant_password *before,
			       const struct tenant_password *after);
/* The JWT signing keys' cache (core/keys.c). keys_changed() marks it stale (a rotation's
 * signal); keys_signer() and keys_verifier() copy out, under its lock, what one token needs:
 * the current key (a secret: the caller wipes priv) or the public key of kid. */
struct keys_cache;
struct keys_cache *keys_cache_new(void);
/* Names the set of live keys (it changes when one is added or retired); 0 when none could be
 * loaded. Tokens verified under one version needn't be verified again while it holds. */
uint64_t keys_version(struct core *c);
struct jwt_cache;
struct jwt_cache *jwt_cache_new(void);
void jwt_cache_free(struct jwt_cache *jc);
void keys_cache_free(struct keys_cache *kc);
void keys_changed(struct core *c);
enum rs_status keys_signer(struct core *c, char *kid, size_t kidcap, char *priv, size_t privcap,
			   struct rs_err *err);
/* RS_E_NOT_FOUND when kid is not a live key (after at most one reload a second). */
enum rs_status keys_verifier(struct core *c, const char *kid, char *pub, size_t pubcap,
			     struct rs_err *err);

void auth_cache_free(struct auth_cache *ac);
struct api_cache *api_cache_new(void);
void api_cache_free(struct api_cache *ac);
struct auth_cache *auth_cache_new(void);
struct session_cache *session_cache_new(void);
void session_cache_free(struct session_cache *sc);
/* per_minute: attempts an address may make at once, and then per minute; 0 = no limit. */
/* users_list's paging caches (core/list_cache.c, docs/scim.md "Paging"). Keyed by a selection
 * fingerprint (fp, the caller's text naming tenant, predicate tree and sort) and the tenant's
 * users generation (Q_TENANT_USERS_GEN) read in the same transaction as the page: an entry
 * only ever answers for the generation it was stored under. pos_put remembers that row pos - 1
 * of the selection's order has sort value val and id; pos_get gives them back (copies in a).
 * Thread-safe; bounded to LIST_CACHE_SLOTS positions and LIST_CACHE_TOTALS totals; a failed
 * allocation caches nothing. */
#define LIST_CACHE_SLOTS 1024
#define LIST_CACHE_TOTALS 256
#define LIST_CACHE_VAL_MAX 1024
#define LIST_CACHE_FP_MAX 2048
struct list_cache *list_cache_new(void);
void list_cache_free(struct list_cache *lc);
bool list_cache_pos_get(struct list_cache *lc, const char *fp, int64_t gen, int64_t pos,
			struct arena *a, const char **val, const char **id);
void list_cache_pos_put(struct list_cache *lc, const char *fp, int64_t gen, int64_t pos,
			const char *val, const char *id);
bool list_cache_total_get(struct list_cache *lc, const char *fp, int64_t gen, int64_t *total);
void list_cache_total_put(struct list_cache *lc, const char *fp, int64_t gen, int64_t total);

struct throttle *throttle_new(int64_t per_minute);
void throttle_free(struct throttle *t);
/* Takes one login attempt of addr from its bucket: 0, or the milliseconds until one is due. */
int64_t throttle_take(struct throttle *t, const char *addr, int64_t now);

#endif
