/* The domain core of roster: tenants, users, roles and the rank rule, groups, API tokens and
 * the audit chain. This is the one header adapters include. Every operation takes an explicit
 * actor and decides permission, tenant isolation and rank here, so every surface (REST, SCIM,
 * GraphQL, QRadar-compatible API, CLI through REST) gets the same rules.
 *
 * Conventions: results are written to caller storage (out); their strings point into the arena
 * passed along and die with it. Errors follow util/err.h. Thread-safe: a struct core is shared
 * by all HTTP worker threads. */
#ifndef ROSTER_CORE_CORE_H
#define ROSTER_CORE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/perms.h"
#include "util/arena.h"
#include "util/err.h"
#include "util/limits.h"
#include "util/uuid.h"

struct core;
struct store;

#define CORE_KEY_LEN 32

struct core_config {
	struct store *store;		    /* borrowed */
	unsigned char key[CORE_KEY_LEN];    /* server secret for keyed token hashes */
	int64_t (*now_ms)(void *clock_ctx); /* NULL = wall clock; tests pin it */
	void *clock_ctx;
	const char
	    *public_url; /* base of the links in e-mails ("https://roster.example"); copied */
	int64_t login_per_minute; /* login attempts per source address; 0 = no limit */
	/* Lifetime of the JWT access tokens access_token_mint() makes, in seconds,
	 * ACCESS_TOKEN_TTL_MIN_S-ACCESS_TOKEN_TTL_MAX_S; 0 = ACCESS_TOKEN_TTL_DEFAULT_S. */
	int64_t access_token_ttl_s;
};

enum rs_status core_new(const struct core_config *cfg, struct core **out, struct rs_err *err);
/* NULL is a no-op. Wipes the key. */
void core_free(struct core *c);
int64_t core_now(const struct core *c);

/* ---- Actors ----------------------------------------------------------------------------- */

enum actor_kind {
	ACTOR_TOKEN,  /* an API token acting with its role's permissions, within its owner's */
	ACTOR_SYSTEM, /* roster itself: bootstrap, migrations (never reachable from a surface) */
};

/* Permissions held over one department subtree only (a role scoped to a department). */
#define ACTOR_SCOPES_MAX RS_SCOPES_PER_USER_MAX
struct actor_scope {
	char department_id[UUID_STR_LEN];
	uint64_t perms;
};

struct actor {
	enum actor_kind kind;
	char tenant_id[UUID_STR_LEN];
	char tenant_slug[64];
	char user_id[UUID_STR_LEN];
	char username[129];
	char token_id[UUID_STR_LEN];
	uint64_t perms; /* PERM_BIT(p) set: held tenant-wide */
	/* Held only over users whose department lies in a subtree (docs/lifecycle.md,
	 * Departments); the core checks them per target user. */
	struct actor_scope scopes[ACTOR_SCOPES_MAX];
	int nscopes;
	int rank;		/* the actor's place in the hierarchy; larger outranks smaller */
	bool platform;		/* holds platform.tenants: may reach every tenant */
	const char *request_id; /* borrowed, for the audit trail */
	const char *source_ip;
	char session_id[UUID_STR_LEN]; /* an interactive session's; "" for API tokens */
	/* The session's user has required actions pending: it may do nothing but complete
	 * them (every permission check answers 403 session.restricted). */
	bool restricted;
};

/* Resolves an "Authorization: Bearer" credential into an actor. Unknown, malformed, expired and
 * revoked tokens, deleted owners and deleted tenants all give RS_E_UNAUTHENTICATED with the one
 * code "auth.invalid_token": a caller learns nothing about which. Served from an in-memory
 * cache that every revocation invalidates at once. */
enum rs_status auth_bearer(struct core *c, const char *token, struct actor *out,
			   struct rs_err *err);

/* For a surface reserved to holders of one permission (SCIM: scim.provision), on top of the
 * permissions each operation checks: held tenant-wide, by a session without pending required
 * actions. RS_E_FORBIDDEN "auth.permission_denied" otherwise. */
enum rs_status actor_require(const struct actor *who, enum perm p, struct rs_err *err);

/* ---- Shared shapes ------------------------------------------------------------------------- */

/* A field of a merge patch: absent (set false), cleared (set, value NULL) or a value. */
struct opt_str {
	bool set;
	const char *v;
};
struct opt_int {
	bool set;
	bool null;
	int64_t v;
};

struct page {
	const char *cursor; /* opaque, from a previous answer; NULL = first page */
	int limit;	    /* 0 = default */
};

struct role_ref {
	const char *id;
	const char *name;
	int rank;
};

/* ---- Tenants ------------------------------------------------------------------------------ */

/* User types (seed 001), in this order wherever they are listed. */
#define USER_TYPES 4
extern const char *const user_type_names[USER_TYPES]; /* standard, api, taxii, read_only */

struct seat_limit {
	bool set;    /* false: no limit */
	int64_t max; /* seats of this type the tenant may fill */
};

/* The tenant's numeric settings (tenant.settings), one table so that every surface validates,
 * renders and documents them alike. An enum setting stores the index of its name. */
enum tenant_setting {
	TS_INVITATION_DAYS,	  /* how long an invitation link lives */
	TS_SESSION_IDLE_MINUTES,  /* a session unused this long ends (a user's own
				     idle_logout_minutes wins) */
	TS_SESSION_MAX_HOURS,	  /* a session ends this long after the login, used or not */
	TS_MAX_SESSIONS,	  /* live sessions per user; 0 = no limit */
	TS_SESSION_LIMIT_ACTION,  /* at the limit: evict_oldest or refuse */
	TS_LOCKOUT_THRESHOLD,	  /* failed logins in a row that lock the account; 0 = never */
	TS_LOCKOUT_MINUTES,	  /* a lock ends by itself after this; 0 = an admin unlocks */
	TS_REFRESH_TOKEN_DAYS,	  /* a refresh token's lifetime (never beyond the session's) */
	TS_PROVISIONED_PASSWORDS, /* ignore | set: passwords an identity provider sends */
	TS__COUNT
};
struct tenant_setting_def {
	const char *name;
	int64_t min, max, def;
	const char *const *names; /* an enum setting's value names; NULL for numbers */
};
extern const struct tenant_setting_def tenant_settings[TS__COUNT];
/* An enum setting's value as its name; NULL for a number setting. */
const char *tenant_setting_name(enum tenant_setting i, int64_t v);
/* The tenant's password policy and argon2id cost (settings; docs/passwords.md). A zeroed
 * struct means the defaults below: core/password_policy.c reads it that way. */
struct tenant_password {
	int64_t min_length;	 /* code points, PASSWORD_MIN_LENGTH_MIN..MAX, default 12 */
	int64_t max_length;	 /* code points, PASSWORD_MAX_LENGTH_MIN..MAX, default 128 */
	int64_t require_classes; /* 0-4 of lower, upper, digit, other; default 0: none */
	int64_t max_age_days;	 /* 0 = never expires (the default) */
	int64_t history;	 /* how many previous passwords may not be reused; default 0 */
	int64_t hash_m_kib, hash_t, hash_p; /* argon2id, default 19456, 2, 1 */
};

#define PASSWORD_MIN_LENGTH_DEFAULT 12
#define PASSWORD_MIN_LENGTH_MIN 8
#define PASSWORD_MIN_LENGTH_MAX 64
#define PASSWORD_MAX_LENGTH_DEFAULT 128
#define PASSWORD_MAX_LENGTH_MIN 64
#define PASSWORD_MAX_LENGTH_MAX RS_PASSWORD_MAX
#define PASSWORD_CLASSES_MAX 4
#define PASSWORD_MAX_AGE_DAYS_MAX 3650
#define PASSWORD_HISTORY_MAX 24

struct tenant {
	const char *id, *slug, *name, *template_name, *status;
	int64_t created_at, updated_at, version;
	struct seat_limit seat_limits[USER_TYPES]; /* filled by the tenants_* calls only */
	int64_t settings[TS__COUNT];
	/* Who gets a deactivated or deleted user's owned resources when the request names no
	 * target (settings; NULL = nobody). */
	const char *default_transfer_user_id;
	struct tenant_password password;
};

#define INVITATION_DAYS_DEFAULT 7
#define INVITATION_DAYS_MAX 90

struct tenant_create_req {
	const char *slug, *name, *template_name; /* template NULL = "default" */
};

struct tenant_patch {
	struct opt_str name;
	/* Seat limits per user type (platform.tenants only): set=false leaves a type alone, a
	 * null (clear) removes its limit. */
	struct {
		bool set, clear;
		int64_t max;
	} seat_limits[USER_TYPES];
	/* tenant.settings (tenant_settings[]): a number, or for an enum setting its name in
	 * settings_name; null restores the default. */
	struct opt_int settings[TS__COUNT];
	struct opt_str settings_name[TS__COUNT];
	/* tenant.settings: a live user of the tenant; null clears it. */
	struct opt_str default_transfer_user_id;
	/* tenant.settings, the password policy (docs/passwords.md); null restores a default. */
	struct opt_int password_min_length, password_max_length, password_require_classes,
	    password_max_age_days, password_history;
	/* argon2id cost: null restores the default; members left out take their defaults. */
	struct {
		bool set, null;
		struct opt_int m_kib, t, p;
	} password_hash;
	int64_t if_match; /* 0 = unconditional */
};

struct tenant_list {
	struct tenant *items;
	int n;
	const char *next_cursor;
};

/* ref: tenant id or slug. */
enum rs_status tenants_create(struct core *c, const struct actor *who,
			      const struct tenant_create_req *req, struct arena *a,
			      struct tenant *out, struct rs_err *err);
enum rs_status tenants_get(struct core *c, const struct actor *who, const char *ref,
			   struct arena *a, struct tenant *out, struct rs_err *err);
enum rs_status tenants_list(struct core *c, const struct actor *who, const struct page *pg,
			    struct arena *a, struct tenant_list *out, struct rs_err *err);
enum rs_status tenants_update(struct core *c, const struct actor *who, const char *ref,
			      const struct tenant_patch *p, struct arena *a, struct tenant *out,
			      struct rs_err *err);
enum rs_status tenants_delete(struct core *c, const struct actor *who, const char *ref,
			      int64_t if_match, struct rs_err *err);

/* ---- Roles --------------------------------------------------------------------------------- */

struct role {
	const char *id, *tenant_id, *name, *scope, *description;
	const char *department_id; /* a scoped tenant role: it applies within this subtree */
	int rank;
	uint64_t perms;
	bool builtin, is_default;
	int64_t created_at, updated_at, version;
};

struct role_create_req {
	const char *name, *scope, *description; /* scope NULL = "tenant" */
	const char *department_id;		/* NULL = tenant-wide; tenant scope only */
	int rank;
	const char *const *permissions;
	int npermissions;
};

struct role_patch {
	struct opt_str name, description, department_id;
	struct opt_int rank;
	bool permissions_set;
	const char *const *permissions;
	int npermissions;
	int64_t if_match;
};

struct role_list {
	struct role *items;
	int n;
};

/* role ref: id or name (case-insensitive). */
enum rs_status roles_list(struct core *c, const struct actor *who, const char *tenant,
			  struct arena *a, struct role_list *out, struct rs_err *err);
enum rs_status roles_get(struct core *c, const struct actor *who, const char *tenant,
			 const char *ref, struct arena *a, struct role *out, struct rs_err *err);
enum rs_status roles_create(struct core *c, const struct actor *who, const char *tenant,
			    const struct role_create_req *req, struct arena *a, struct role *out,
			    struct rs_err *err);
enum rs_status roles_update(struct core *c, const struct actor *who, const char *tenant,
			    const char *ref, const struct role_patch *p, struct arena *a,
			    struct role *out, struct rs_err *err);
enum rs_status roles_delete(struct core *c, const struct actor *who, const char *tenant,
			    const char *ref, int64_t if_match, struct rs_err *err);

/* Templates: the role sets a tenant can start from. */
struct template_role {
	const char *name, *scope;
	int rank;
	const enum perm *perms; /* terminated by PERM__COUNT */
	bool is_default;
};
struct role_template {
	const char *name, *description;
	const struct template_role *roles;
	int nroles;
};
/* The built-in templates, for listing. Cannot fail. */
const struct role_template *templates_all(int *n);

/* ---- Users --------------------------------------------------------------------------------- */

#define USER_REQUIRED_ACTIONS_MAX 3

struct group_ref {
	const char *id, *name;
};

struct user {
	const char *id, *tenant_id, *username, *email, *first_name, *last_name, *type, *status;
	struct role_ref system_role;
	struct role_ref *roles;
	int nroles;
	struct group_ref *groups;
	int ngroups;
	const char *department_id, *department_name; /* NULL: in no department */
	const char *manager_id, *manager_name; /* another live user of the tenant; name: username */
	const char *locale, *timezone, *description, *external_id;
	const char *custom_attributes; /* JSON object text, "{}" when empty */
	const char *required_actions[USER_REQUIRED_ACTIONS_MAX];
	int nrequired_actions;
	bool locked;
	bool has_idle_logout;
	int64_t idle_logout_minutes;
	const char *summary_mail_time, *security_profile;
	int64_t created_at, updated_at, last_login_at, last_activity_at, version; /* 0 = never */
	int rank;		   /* the largest rank among its roles */
	const char *status_reason; /* why it is suspended or deactivated; NULL otherwise */
	int64_t suspended_until;   /* a suspension ends by itself then; 0 = until resumed */
	const char *deletion_task; /* status 'deleting': the task that deletes it */
	int64_t failed_logins;	   /* in a row, since the last successful login or unlock */
	int64_t last_failed_login_at;
};

/* Everything a user create or update may carry. On create, set=false means "default". */
struct user_fields {
	struct opt_str username, email, first_name, last_name, type, department_id, locale,
	    timezone, description, external_id, summary_mail_time, security_profile;
	/* A JSON merge patch (RFC 7396) of the user's custom_attributes object, as text; null
	 * clears them all. */
	struct opt_str custom_attributes;
	bool required_actions_set;
	const char *const *required_actions;
	int nrequired_actions;
	struct opt_int idle_logout_minutes;
	struct opt_str system_role; /* role id or name */
	bool roles_set;
	const char *const *roles; /* tenant-scope role ids or names */
	int nroles;
	/* roles may also name a system-scope role (at most one, and system_role not set): it
	 * becomes the system role; without one the system role stays (the default on create).
	 * For surfaces that know roles only as one list (SCIM). */
	bool roles_any_scope;
	/* Another live user of the tenant, not the user itself; null: none. */
	struct opt_str manager_id;
};

/* A predicate tree over users' indexed attributes, compiled by the store into one indexed
 * query: the SCIM adapter turns a filter into this so that no surface ever lists a tenant to
 * filter it in memory. Text comparisons on username, email and the names ignore case;
 * CREATED_AT and UPDATED_AT take is_int values (ms since the epoch). AND, OR take a and b; NOT
 * takes a; PR takes nothing. */
enum user_attr {
	USER_A_ID,
	USER_A_USERNAME,
	USER_A_EMAIL,
	USER_A_FIRST_NAME,
	USER_A_LAST_NAME,
	USER_A_TYPE,
	USER_A_STATUS,
	USER_A_EXTERNAL_ID,
	USER_A_CREATED_AT,
	USER_A_UPDATED_AT,
};
enum pred_op {
	PRED_EQ,
	PRED_NE,
	PRED_CO,
	PRED_SW,
	PRED_EW,
	PRED_PR,
	PRED_GT,
	PRED_GE,
	PRED_LT,
	PRED_LE,
	PRED_AND,
	PRED_OR,
	PRED_NOT,
};
/* One predicate tree for users and groups alike: attr holds the collection's enum (user_attr,
 * group_attr), so that the SCIM adapter and the core each walk trees with one function. */
struct pred {
	enum pred_op op;
	int attr;
	bool is_int;
	int64_t i;
	const char *s;
	const struct pred *a, *b;
};

struct user_list_query {
	const char *username, *email, *name;			  /* exact, case-insensitive */
	const char *username_prefix, *email_prefix, *name_prefix; /* prefix */
	const char *q;						  /* substring of any name */
	const char *status, *type, *role, *group;		  /* role/group: id or name */
	const char *department_id; /* members of it and, unless direct_only, of its descendants */
	bool direct_only;
	const char *sort; /* "username", "-created_at" */
	struct page page;
	const struct pred *where; /* ANDed with the fields above; NULL = none */
	/* Positional paging (SCIM startIndex - 1): skips offset rows; page.cursor must be NULL.
	 * with_total: user_list.total gets the number of matching users. */
	int offset;
	bool with_total;
	/* Up to this many rows per page instead of RS_LIST_LIMIT_MAX (at most
	 * RS_LIST_LIMIT_BULK_MAX): SCIM clients page through whole tenants. 0: the default. */
	int limit_max;
	/* When set, called in order with users [from, to) of items as soon as they are read and
	 * complete, while the rest are read (an adapter may write them meanwhile); users_list
	 * then returns the same users. A transaction the store runs again calls it again from
	 * 0, with another items array. */
	void (*on_users)(void *ctx, const struct user *items, int from, int to);
	void *on_users_ctx;
};

struct user_list {
	struct user *items;
	int n;
	const char *next_cursor;
	int64_t total; /* with_total only */
};

enum rs_status users_create(struct core *c, const struct actor *who, const char *tenant,
			    const struct user_fields *f, struct arena *a, struct user *out,
			    struct rs_err *err);
enum rs_status users_get(struct core *c, const struct actor *who, const char *tenant,
			 const char *id, struct arena *a, struct user *out, struct rs_err *err);
enum rs_status users_list(struct core *c, const struct actor *who, const char *tenant,
			  const struct user_list_query *q, struct arena *a, struct user_list *out,
			  struct rs_err *err);
/* A merge patch. if_match 0 = unconditional. Changing roles needs roles.assign as well. */
enum rs_status users_update(struct core *c, const struct actor *who, const char *tenant,
			    const char *id, const struct user_fields *f, int64_t if_match,
			    struct arena *a, struct user *out, struct rs_err *err);
/* Deletion is asynchronous (docs/lifecycle.md "Deletion"). users_delete checks the request
 * (users.delete, the rank rule, not oneself, If-Match, and that the user's owned resources can
 * go to transfer_to or the tenant default: 409 user.owns_resources otherwise), then in one
 * transaction marks the user 'deleting', revokes its tokens, audits user.delete_requested and
 * queues a task, which *out describes. A second request while the task is queued or running
 * answers with the same task; after a failed task it queues a new one. The task (run by the
 * job runner) transfers the resources, removes the user from its groups and roles, revokes
 * whatever is left, frees the seat and leaves a tombstone; the user is then not found. */
struct task {
	const char *id, *tenant_id, *kind, *target_id;
	const char *status; /* QUEUED, PROCESSING, COMPLETED, FAILED */
	const char *reason; /* why it failed, or why the last attempt did; NULL otherwise */
	int64_t created_at, updated_at, completed_at; /* completed_at 0 = not finished */
};

enum rs_status users_delete(struct core *c, const struct actor *who, const char *tenant,
			    const char *id, int64_t if_match, const char *transfer_to,
			    struct arena *a, struct task *out, struct rs_err *err);
/* A task of the tenant (users.read): the deletion tasks above. */
enum rs_status tasks_get(struct core *c, const struct actor *who, const char *tenant,
			 const char *id, struct arena *a, struct task *out, struct rs_err *err);

/* ---- Departments (docs/lifecycle.md, Departments) ------------------------------------------- */

/* A tree per tenant. Sibling names are unique (case-insensitive; roots are siblings); a tree is
 * at most RS_DEPT_DEPTH_MAX levels deep; a tenant has at most RS_DEPTS_PER_TENANT_MAX. Writes
 * need departments.manage; reads users.read or departments.manage (tenant-wide or in some
 * scope). Every write is audited (department.create, .update, .move, .delete, .manager_add,
 * .manager_remove) and announced in its transaction by a webhook event (department.created,
 * .updated, .moved, .deleted, .manager_added, .manager_removed).
 * Managers are recorded for the host platform: they grant nothing by themselves. */
struct department {
	const char *id, *tenant_id, *name, *parent_id, *description;
	const char **path; /* names from the root down to this one, itself included */
	int npath;
	struct group_member *managers; /* get only */
	int nmanagers;
	int64_t user_count;  /* live users directly in it */
	int64_t child_count; /* its child departments */
	int64_t created_at, updated_at, version;
};
struct department_list {
	struct department *items;
	int n;
	const char *next_cursor;
};
struct department_fields {
	struct opt_str name, description;
	struct opt_str parent_id; /* a move; null makes it a root */
};
struct department_list_query {
	const char *parent_id; /* children of this one; NULL = any */
	bool roots;	       /* roots only */
	struct page page;
};

enum rs_status departments_create(struct core *c, const struct actor *who, const char *tenant,
				  const struct department_fields *f, struct arena *a,
				  struct department *out, struct rs_err *err);
enum rs_status departments_get(struct core *c, const struct actor *who, const char *tenant,
			       const char *id, struct arena *a, struct department *out,
			       struct rs_err *err);
/* The one department of the tenant named name, case-insensitively, for surfaces that name a
 * department without its path (SCIM's enterprise "department"). Names are unique among
 * siblings only: a name two departments share is RS_E_INVALID "department.name_ambiguous",
 * one none has "department.name_unknown" (field "department"). Needs what reading does. */
enum rs_status departments_find_name(struct core *c, const struct actor *who, const char *tenant,
				     const char *name, struct arena *a, const char **id,
				     struct rs_err *err);
enum rs_status departments_list(struct core *c, const struct actor *who, const char *tenant,
				const struct department_list_query *q, struct arena *a,
				struct department_list *out, struct rs_err *err);
/* A merge patch; moving (parent_id) under itself or a descendant is RS_E_CONFLICT
 * "department.cycle", beyond the depth limit "department.too_deep", a sibling's name
 * "department.name_taken". if_match 0 = unconditional. */
enum rs_status departments_update(struct core *c, const struct actor *who, const char *tenant,
				  const char *id, const struct department_fields *f,
				  int64_t if_match, struct arena *a, struct department *out,
				  struct rs_err *err);
/* Without move_to, a department with users or children is RS_E_CONFLICT "department.not_empty"
 * (the message counts them). With move_to, its users and children move there first; move_to
 * inside the deleted subtree is RS_E_CONFLICT "department.move_into_subtree". A department a
 * role is scoped to is RS_E_CONFLICT "department.in_use" either way. */
enum rs_status departments_delete(struct core *c, const struct actor *who, const char *tenant,
				  const char *id, int64_t if_match, const char *move_to,
				  struct rs_err *err);
/* A manager is a live user of the tenant. Adding one twice is not an error (nothing is audited
 * then); removing a user who is not a manager is RS_E_NOT_FOUND "department.not_manager". */
enum rs_status departments_manager_add(struct core *c, const struct actor *who, const char *tenant,
				       const char *id, const char *user_id, struct rs_err *err);
enum rs_status departments_manager_remove(struct core *c, const struct actor *who,
					  const char *tenant, const char *id, const char *user_id,
					  struct rs_err *err);

/* ---- Seats
 * ---------------------------------------------------------------------------------------- */

struct seat_use {
	const char *type;
	int64_t used; /* users of this type that are active, invited or suspended */
	struct seat_limit limit;
};

struct seats_report {
	struct seat_use types[USER_TYPES];
	int64_t inactive_days;
	struct user *unused; /* active seat holders with no login nor API use in inactive_days */
	int nunused;
	const char *next_cursor;
};

/* Seat use per type and the unused-seat report (reports.read). inactive_days 1-3650. */
enum rs_status seats_report(struct core *c, const struct actor *who, const char *tenant,
			    int64_t inactive_days, const struct page *pg, struct arena *a,
			    struct seats_report *out, struct rs_err *err);

/* ---- Lifecycle (docs/lifecycle.md) -------------------------------------------------------------
 */

enum user_transition {
	USER_SUSPEND,	 /* active -> suspended: its tokens are refused until it is resumed */
	USER_RESUME,	 /* suspended -> active */
	USER_DEACTIVATE, /* active|suspended -> deactivated: its tokens are revoked for good */
	USER_REACTIVATE, /* deactivated -> active */
};

struct user_transition_req {
	enum user_transition what;
	const char *reason; /* required for suspend and deactivate (1-500 chars) */
	bool has_until;	    /* suspend only: the suspension ends by itself at until */
	int64_t until;
	int64_t if_match;
	const char *transfer_to; /* deactivate: who gets the user's owned resources (NULL: the
				    tenant's default transfer target) */
};

/* Moves a user through the lifecycle. users.suspend and the rank rule are required; nobody
 * changes their own state; a transition the user's state doesn't allow is RS_E_CONFLICT
 * "user.invalid_transition" and changes nothing. */
enum rs_status users_transition(struct core *c, const struct actor *who, const char *tenant,
				const char *id, const struct user_transition_req *req,
				struct arena *a, struct user *out, struct rs_err *err);

/* A user written as a whole, as an identity provider writes one (SCIM): the fields, the
 * lifecycle state active asks for and a password, in one transaction that either all happens
 * or changes nothing. Each part keeps its own permission, rank rule, seat check, audit event
 * and announcement. active: -1 leaves the state; 0 deactivates an active or suspended user
 * (with reason); 1 reactivates a deactivated one (seat permitting) or resumes a suspended
 * one; an invited user stays invited. password: set as users_password_set would (permanent)
 * unless it already is the user's, when the tenant's provisioned_passwords is set; ignored
 * when it is ignore (refused when password_explicit). */
struct user_provision {
	const char *id; /* NULL: create */
	const struct user_fields *f;
	int active;
	const char *reason; /* of a deactivation */
	const char *password;
	bool password_explicit; /* asked for by itself (a PATCH), not part of a whole user */
	int64_t if_match;	/* 0: unconditional */
};
enum rs_status users_provision(struct core *c, const struct actor *who, const char *tenant,
			       const struct user_provision *p, struct arena *a, struct user *out,
			       struct rs_err *err);

/* ---- Owned resources (docs/lifecycle.md)
 * ---------------------------------------------------------- */

/* What a user owns on the host platform (a playbook, a job app, a dashboard…), recorded so that
 * deactivating or deleting the user hands it to another user instead of orphaning it. Writes
 * need users.update, reads users.read; audited resource.register, resource.update,
 * resource.delete. On deactivation and deletion every resource of the user goes to the named
 * target, else to the tenant's default target; with neither, RS_E_CONFLICT
 * "user.owns_resources" and nothing changes. The target is a live, active user of the tenant,
 * not the user itself (RS_E_INVALID, field transfer_to); a job_app goes to an api user only
 * (RS_E_CONFLICT "transfer.job_app_needs_api_user"). Each move is audited resource.transfer and
 * announced by the webhook event resource.transferred, in the transition's transaction. */
#define RESOURCE_KIND_MAX 64
#define RESOURCE_EXTERNAL_ID_MAX 256

struct owned_resource {
	const char *id, *tenant_id, *owner_id, *kind, *external_id, *name;
	int64_t created_at, updated_at;
};
struct resource_create_req {
	const char *kind;	 /* 1-64 of [a-z0-9_.-] */
	const char *external_id; /* the host platform's id, unique per kind in the tenant */
	const char *name;
	const char *owner_id; /* a live user of the tenant */
};
struct resource_patch {
	struct opt_str name, owner_id;
};
struct resource_list_query {
	const char *owner_id, *kind; /* NULL = any */
	struct page page;
};
struct resource_list {
	struct owned_resource *items;
	int n;
	const char *next_cursor;
};

enum rs_status resources_create(struct core *c, const struct actor *who, const char *tenant,
				const struct resource_create_req *req, struct arena *a,
				struct owned_resource *out, struct rs_err *err);
enum rs_status resources_get(struct core *c, const struct actor *who, const char *tenant,
			     const char *id, struct arena *a, struct owned_resource *out,
			     struct rs_err *err);
enum rs_status resources_list(struct core *c, const struct actor *who, const char *tenant,
			      const struct resource_list_query *q, struct arena *a,
			      struct resource_list *out, struct rs_err *err);
enum rs_status resources_update(struct core *c, const struct actor *who, const char *tenant,
				const char *id, const struct resource_patch *p, struct arena *a,
				struct owned_resource *out, struct rs_err *err);
enum rs_status resources_delete(struct core *c, const struct actor *who, const char *tenant,
				const char *id, int64_t if_match, struct rs_err *err);

/* ---- Invitations (docs/lifecycle.md) ------------------------------------------------------------
 */

/* status: pending, accepted, revoked, or expired (a pending one whose expires_at has passed). */
struct invitation {
	const char *id, *tenant_id, *user_id, *email, *status, *message;
	int64_t expires_at, created_at, resent_at, accepted_at, revoked_at; /* 0 = not (yet) */
};
struct invitation_list {
	struct invitation *items;
	int n;
	const char *next_cursor;
};
#define INVITATION_MESSAGE_MAX 2000

/* Creates the user in state 'invited' (f: email required, username defaulting to it,
 * system_role, roles, department, type; users.create, the rank rule on the roles, a seat) and
 * its invitation, and queues the e-mail (template "invitation") with the link, all in one
 * transaction. message: optional custom text (at most INVITATION_MESSAGE_MAX). On success
 * *link (arena) holds the only copy of the link: "<public_url>/invitations/<token>". */
enum rs_status invitations_create(struct core *c, const struct actor *who, const char *tenant,
				  const struct user_fields *f, const char *message, struct arena *a,
				  struct invitation *out, const char **link, struct rs_err *err);
/* A new link (the old one stops working at once), a new expiry, e-mail "invitation_resent";
 * f may change system_role, roles and department, message.set the custom text. A pending or
 * expired invitation only (RS_E_CONFLICT "invitation.not_pending" otherwise). */
enum rs_status invitations_resend(struct core *c, const struct actor *who, const char *tenant,
				  const char *id, const struct user_fields *f,
				  const struct opt_str *message, struct arena *a,
				  struct invitation *out, const char **link, struct rs_err *err);
/* Revokes a pending or expired invitation: the link stops working and the invited user is
 * removed (a deleted tombstone; its seat is free). */
enum rs_status invitations_revoke(struct core *c, const struct actor *who, const char *tenant,
				  const char *id, struct rs_err *err);
enum rs_status invitations_get(struct core *c, const struct actor *who, const char *tenant,
			       const char *id, struct arena *a, struct invitation *out,
			       struct rs_err *err);
/* status: NULL or one of pending, accepted, revoked, expired. */
enum rs_status invitations_list(struct core *c, const struct actor *who, const char *tenant,
				const char *status, const struct page *pg, struct arena *a,
				struct invitation_list *out, struct rs_err *err);

/* The link's side: no actor, the token is the credential. An unknown, used or revoked token
 * (or a malformed one) is RS_E_NOT_FOUND "invitation.not_found" and tells nothing about any
 * tenant; an expired one RS_E_CONFLICT "invitation.expired". */
struct invitation_view {
	const char *tenant_name, *email, *username;
	int64_t expires_at;
};
enum rs_status invitations_view(struct core *c, const char *token, struct arena *a,
				struct invitation_view *out, struct rs_err *err);
struct invitation_accept_req {
	const char *password;		    /* 12-256 characters, not the username nor e-mail */
	const char *first_name, *last_name; /* required */
	const char *timezone;		    /* optional */
	const char *request_id, *source_ip; /* for the audit trail */
};
/* The user becomes active with these fields and the password (argon2id); the token is used
 * up. Audited as user.accept by the user; webhook event user.activated. */
enum rs_status invitations_accept(struct core *c, const char *token,
				  const struct invitation_accept_req *req, struct arena *a,
				  struct user *out, struct rs_err *err);

/* ---- Groups -------------------------------------------------------------------------------- */

struct group {
	const char *id, *tenant_id, *name, *description;
	const char *external_id; /* the identity provider's key (SCIM externalId); NULL if none */
	int64_t member_count, created_at, updated_at, version;
};
struct group_list {
	struct group *items;
	int n;
	const char *next_cursor;
	int64_t total; /* groups_select with with_total only */
};
struct group_member {
	const char *id, *username;
};
struct member_list {
	struct group_member *items;
	int n;
	const char *next_cursor;
};
struct group_fields {
	struct opt_str name, description, external_id; /* external_id: case-exact, not unique */
};

/* A predicate tree over groups' indexed attributes, compiled by the store into one indexed
 * query (a struct pred with attr an enum group_attr). NAME compares without case;
 * EXTERNAL_ID and ID case-exactly; CREATED_AT and UPDATED_AT take is_int values (ms since the
 * epoch); MEMBER takes a user id and PRED_EQ only: the groups the user is a direct member of. */
enum group_attr {
	GROUP_A_ID,
	GROUP_A_NAME,
	GROUP_A_EXTERNAL_ID,
	GROUP_A_CREATED_AT,
	GROUP_A_UPDATED_AT,
	GROUP_A_MEMBER,
};
struct group_query {
	const struct pred *where; /* NULL = every group of the tenant */
	/* "name", "created_at", "updated_at", "external_id", "id"; "-" first: descending;
	 * NULL = creation order (ids are time-ordered) */
	const char *sort;
	int offset; /* rows skipped (SCIM startIndex - 1) */
	int limit;  /* 0..RS_LIST_LIMIT_MAX; 0 with with_total: the count only */
	bool with_total;
};

enum rs_status groups_list(struct core *c, const struct actor *who, const char *tenant,
			   const struct page *pg, struct arena *a, struct group_list *out,
			   struct rs_err *err);
enum rs_status groups_get(struct core *c, const struct actor *who, const char *tenant,
			  const char *ref, struct arena *a, struct group *out, struct rs_err *err);
/* Positional selection of groups (SCIM /Groups): filter, sort, offset, limit and the total,
 * in one read transaction. A predicate the store cannot compile is RS_E_INVALID with code
 * "store.bad_select"; nothing is ever filtered in memory. */
enum rs_status groups_select(struct core *c, const struct actor *who, const char *tenant,
			     const struct group_query *q, struct arena *a, struct group_list *out,
			     struct rs_err *err);
enum rs_status groups_create(struct core *c, const struct actor *who, const char *tenant,
			     const struct group_fields *f, struct arena *a, struct group *out,
			     struct rs_err *err);
enum rs_status groups_update(struct core *c, const struct actor *who, const char *tenant,
			     const char *ref, const struct group_fields *f, int64_t if_match,
			     struct arena *a, struct group *out, struct rs_err *err);
enum rs_status groups_delete(struct core *c, const struct actor *who, const char *tenant,
			     const char *ref, int64_t if_match, struct rs_err *err);
enum rs_status groups_members(struct core *c, const struct actor *who, const char *tenant,
			      const char *ref, const struct page *pg, struct arena *a,
			      struct member_list *out, struct rs_err *err);
enum rs_status groups_member_add(struct core *c, const struct actor *who, const char *tenant,
				 const char *ref, const char *user_id, struct rs_err *err);
enum rs_status groups_member_remove(struct core *c, const struct actor *who, const char *tenant,
				    const char *ref, const char *user_id, struct rs_err *err);

/* Several changes to one group as one: fields (name, description, external_id; each only if
 * set) and members to add and to remove, or with replace_members the whole member set
 * (members then lists it; add/remove are ignored). Everything is checked first (groups.manage,
 * If-Match, every member a live user of the tenant the actor may act on: DESIGN rule 2), then
 * applied in one transaction with one audit event per change (group.update,
 * group.member_add, group.member_remove), so the group either ends as asked or does not
 * change at all. A member that is no user of the tenant is RS_E_INVALID with code
 * "group.member_unknown" and field "members" (the message names it). Adding a member already
 * there or removing one that is not is no change. Any member change bumps the group's version
 * and updated_at. create: a new group (ref ignored, name required), created with its members
 * in the same transaction. */
struct group_change {
	bool create;
	const char *ref;  /* id or name; ignored with create */
	int64_t if_match; /* 0: unconditional */
	struct group_fields f;
	const char *const *add, *const *remove;
	int nadd, nremove;
	bool replace_members;
	const char *const *members;
	int nmembers;
};
enum rs_status groups_apply(struct core *c, const struct actor *who, const char *tenant,
			    const struct group_change *ch, struct arena *a, struct group *out,
			    struct rs_err *err);

/* ---- API tokens ----------------------------------------------------------------------------- */

struct token {
	const char *id, *tenant_id, *user_id, *name;
	struct role_ref role;
	int64_t created_at, expires_at, last_used_at, revoked_at; /* 0 = none */
};
struct token_list {
	struct token *items;
	int n;
	const char *next_cursor;
};
struct token_create_req {
	const char *name;
	const char *role;    /* id or name; NULL = the owner's system role */
	const char *user_id; /* NULL = the caller */
	bool has_expiry;
	int64_t expires_in_days;
};

/* On success *secret (arena) holds the only copy of the token's secret: show it once. */
enum rs_status tokens_create(struct core *c, const struct actor *who, const char *tenant,
			     const struct token_create_req *req, struct arena *a, struct token *out,
			     const char **secret, struct rs_err *err);
enum rs_status tokens_list(struct core *c, const struct actor *who, const char *tenant,
			   const char *user_id, const struct page *pg, struct arena *a,
			   struct token_list *out, struct rs_err *err);
enum rs_status tokens_get(struct core *c, const struct actor *who, const char *tenant,
			  const char *id, struct arena *a, struct token *out, struct rs_err *err);
enum rs_status tokens_revoke(struct core *c, const struct actor *who, const char *tenant,
			     const char *id, struct rs_err *err);

/* ---- Audit --------------------------------------------------------------------------------- */

struct audit_event {
	const char *id, *tenant_id, *actor_type, *actor_id, *actor_name, *action, *target_type,
	    *target_id, *changes, *request_id, *source_ip, *prev_hash, *hash;
	int64_t seq, at;
};
struct audit_list {
	struct audit_event *items;
	int n;
	const char *next_cursor;
};
struct audit_query {
	const char *actor, *target, *action; /* action ending in '.' is a prefix */
	bool has_since, has_until;
	int64_t since, until;
	struct page page;
};

enum rs_status audit_list(struct core *c, const struct actor *who, const char *tenant,
			  const struct audit_query *q, struct arena *a, struct audit_list *out,
			  struct rs_err *err);

/* Walks every tenant's chain. Calls report() once per tenant; on the first bad event of a
 * chain, bad is true and seq/event_id/reason name it. Returns RS_OK when every chain holds,
 * RS_E_CONFLICT (code "audit.chain_broken") when one does not. */
struct audit_verify_report {
	const char *tenant_id, *tenant_slug;
	int64_t events;
	bool bad;
	int64_t seq;
	const char *event_id;
	const char *reason;
};
enum rs_status audit_verify(struct core *c, struct arena *a,
			    void (*report)(const struct audit_verify_report *r, void *ctx),
			    void *ctx, struct rs_err *err);

/* ---- The caller itself ------------------------------------------------------------------- */

struct me {
	struct tenant tenant;
	struct user user;
	struct token token;
	bool has_token;
};
/* The actor's own tenant, user and token: readable by every authenticated actor. */
enum rs_status me_get(struct core *c, const struct actor *who, struct arena *a, struct me *out,
		      struct rs_err *err);

/* The public base URL (config public_url) without a trailing slash; "" when not configured:
 * links in e-mails, cookies' Secure flag. */
const char *core_public_url(const struct core *c);

/* ---- Login and sessions (core/login.c, core/sessions.c) ------------------------------------- */

struct session {
	const char *id, *tenant_id, *user_id, *source_ip, *user_agent, *revoked_reason;
	int64_t created_at, last_seen_at, expires_at, idle_timeout_ms, revoked_at; /* 0 = none */
	bool current; /* the caller's own session */
};

struct session_list {
	struct session *items;
	int n;
};

struct login_req {
	const char *tenant;   /* slug or id */
	const char *login;    /* username, or an e-mail address that only one user has */
	const char *password; /* never logged, wiped by the caller */
	const char *source_ip, *user_agent, *request_id;
};

/* A session's secrets, shown once: the cookie value (rss_…), the CSRF token a cookie-borne
 * write must echo in X-CSRF-Token, and the refresh token (rsr_…). */
struct login_result {
	struct session session;
	const char *session_token, *csrf_token, *refresh_token;
	int64_t refresh_expires_at;
	const char *access_token; /* a JWT for API clients (Authorization: Bearer) */
	int64_t access_expires_in_s;
	struct user user;
	struct tenant tenant;
};

/* Password login. Every failure that could tell whether the account exists — unknown tenant or
 * user, wrong password, locked account, backoff — is the one 401 auth.invalid_credentials and
 * costs one password verification. Too many attempts from one address: 429 auth.throttled
 * (err->msg names the wait; retry_after_s set). After the right password: 403
 * auth.account_suspended / auth.account_deactivated / auth.account_invited, or a session —
 * restricted when required actions are pending. */
enum rs_status auth_login(struct core *c, const struct login_req *q, struct arena *a,
			  struct login_result *out, int64_t *retry_after_s, struct rs_err *err);
/* A cookie session: rss_… value; safe = the request can't change anything (GET, HEAD), else
 * csrf must match the session's CSRF token (403 auth.csrf otherwise). */
enum rs_status auth_session(struct core *c, const char *cookie, bool safe, const char *csrf,
			    struct actor *out, struct rs_err *err);
/* Ends the caller's own session. */
enum rs_status auth_logout(struct core *c, const struct actor *who, struct rs_err *err);
/* The live sessions of a user: user_id NULL = the caller's own (no permission needed), else
 * users.read and the rank rule. */
enum rs_status sessions_list(struct core *c, const struct actor *who, const char *tenant,
			     const char *user_id, struct arena *a, struct session_list *out,
			     struct rs_err *err);
/* Revokes one session (id) or all (id NULL) of a user (user_id NULL = the caller; else
 * users.suspend and the rank rule). 404 session.not_found for a session not of that user. */
enum rs_status sessions_revoke(struct core *c, const struct actor *who, const char *tenant,
			       const char *user_id, const char *id, struct rs_err *err);
/* An administrator sets a user's password (users.update, rank rule); temporary: the user must
 * change it at the next login (required action password_reset). Ends the user's sessions. */
enum rs_status users_password_set(struct core *c, const struct actor *who, const char *tenant,
				  const char *id, const char *password, bool temporary,
				  struct rs_err *err);
/* The caller changes its own password, proving the current one (403
 * password.wrong_current); completes password_reset; ends its other sessions. */
enum rs_status me_password_change(struct core *c, const struct actor *who, const char *current,
				  const char *password, struct rs_err *err);
/* The caller completes a required action that needs nothing but its consent
 * (terms_of_service). 409 user.action_not_required when it isn't pending. */
enum rs_status me_required_done(struct core *c, const struct actor *who, const char *action,
				struct rs_err *err);
/* ---- OAuth 2.0 (core/oauth.c) ---- */

struct oauth_tokens {
	const char *access_token, *refresh_token, *session_id;
	int64_t expires_in_s, refresh_expires_at;
};
/* grant_type=refresh_token: the token is exchanged for a new one and an access token. A token
 * already exchanged ends its whole session (reuse means a copy exists). Every refusal is
 * RS_E_INVALID "oauth.invalid_grant". */
enum rs_status oauth_refresh(struct core *c, const char *refresh, const char *source_ip,
			     struct arena *a, struct oauth_tokens *out, struct rs_err *err);
/* grant_type=client_credentials: an API user's access id and secret key for an access token
 * (no refresh token: the client holds its credentials). RS_E_UNAUTHENTICATED
 * auth.invalid_client for every refusal. */
enum rs_status oauth_client_credentials(struct core *c, const char *client_id, const char *secret,
					struct arena *a, struct oauth_tokens *out,
					struct rs_err *err);
/* A bearer JWT to an actor: signature, lifetime, and its session (or API credential) alive
 * right now. */
enum rs_status auth_access_token(struct core *c, const char *jwt, struct actor *out,
				 struct rs_err *err);

struct introspection { /* RFC 7662 */
	bool active;
	const char *sub, *tenant_id, *sid, *client_id, *username, *scope, *token_type;
	int64_t iat, exp;
};
/* Introspects an access or refresh token for who (a user's or the platform's credential):
 * inactive when unknown, expired, revoked or of another tenant than who's. */
enum rs_status oauth_introspect(struct core *c, const struct actor *who, const char *token,
				struct arena *a, struct introspection *out, struct rs_err *err);
/* RFC 7009: ends the session of a refresh or access token; an unknown token is no error. */
enum rs_status oauth_revoke(struct core *c, const char *token, struct rs_err *err);

/* Lifts a lockout (seed 001's "Locked"): users.update and the rank rule. */
enum rs_status users_unlock(struct core *c, const struct actor *who, const char *tenant,
			    const char *id, struct arena *a, struct user *out, struct rs_err *err);

struct login_failure {
	const char *id, *source_ip, *user_agent, *reason;
	int64_t at;
};
struct login_failure_list {
	struct login_failure *items;
	int n;
	const char *next_cursor;
};
/* A user's failed logins, newest first (users.read, rank rule). */
enum rs_status login_failures_list(struct core *c, const struct actor *who, const char *tenant,
				   const char *user_id, const struct page *pg, struct arena *a,
				   struct login_failure_list *out, struct rs_err *err);

/* ---- Jobs: work done once across nodes ------------------------------------------------------ */

struct job {
	const char *id, *tenant_id, *kind, *payload, *status, *lease_owner, *progress, *last_error;
	int64_t run_at, lease_until, attempts, created_at, updated_at;
};

struct jobs_config {
	const char *node_id;	/* this process; written as the lease owner */
	int64_t lease_ms;	/* a claimed job is another node's after this (default 10 s) */
	int64_t poll_ms;	/* idle runner wakes this often (default 1 s) */
	int64_t purge_every_ms; /* expired API tokens are purged this often (default 1 h) */
};

/* Starts this node's job runner thread: it fires due timers (each firing happens on one node
 * only) and runs claimed jobs, renewing their lease as they progress. */
enum rs_status jobs_start(struct core *c, const struct jobs_config *cfg, struct rs_err *err);
/* Stops the runner; a job in progress is handed back (queued again) at its next step. */
void jobs_stop(struct core *c);

/* Platform operators can queue housekeeping by hand and watch it (platform.tenants). Kinds:
 * "purge_expired_tokens" (payload {"chunk": N, "pause_ms": M}: N tokens per transaction, a
 * pause between transactions to bound the load). */
enum rs_status jobs_enqueue(struct core *c, const struct actor *who, const char *kind,
			    const char *payload, struct arena *a, struct job *out,
			    struct rs_err *err);
enum rs_status jobs_get(struct core *c, const struct actor *who, const char *id, struct arena *a,
			struct job *out, struct rs_err *err);

/* Job kinds run outside the core: adapters (src/delivery/) register a handler for a kind
 * before jobs_start(). run is called on the runner thread with the claimed job; it returns
 * RS_OK when the work is done, RS_E_INVALID or RS_E_NOT_FOUND when retrying can't help (the job
 * fails at once), any other status to be retried after a backoff (first_backoff_ms, doubled per
 * attempt) until max_attempts, after which the job is "failed" (the dead letter, visible and
 * retryable through the outbox API). err_msg (cap bytes) gets a message for last_error: never
 * a secret. */
typedef enum rs_status (*job_run_fn)(const struct job *job, void *ctx, char *err_msg, size_t cap);
struct job_kind_opts {
	int max_attempts;	  /* 0 = 5 */
	int64_t first_backoff_ms; /* 0 = 2000 */
	int64_t timeout_ms;	  /* the longest one run may take: the lease covers it; 0 = none */
};
#define JOB_KIND_NAME_MAX 32
/* Registers (or replaces) the handler of kind; opts NULL = defaults. Not thread-safe: call
 * before jobs_start(). RS_E_LIMIT when the table is full, RS_E_INVALID for a bad name. */
enum rs_status jobs_register(struct core *c, const char *kind, job_run_fn run, void *ctx,
			     const struct job_kind_opts *opts, struct rs_err *err);

/* ---- Outbox: what must leave roster (e-mail, webhooks) ------------------------------------ */

/* The outbox of a tenant: its jobs of kinds "email" and "webhook", newest first. Reading needs
 * tenant.settings; so does retrying a dead letter. */
struct outbox_query {
	const char *status; /* queued|running|done|failed, NULL = all */
	const char *kind;   /* email|webhook, NULL = both */
	struct page page;
};
struct job_list {
	struct job *items;
	int n;
	const char *next_cursor;
};
enum rs_status outbox_list(struct core *c, const struct actor *who, const char *tenant,
			   const struct outbox_query *q, struct arena *a, struct job_list *out,
			   struct rs_err *err);
enum rs_status outbox_get(struct core *c, const struct actor *who, const char *tenant,
			  const char *id, struct arena *a, struct job *out, struct rs_err *err);
/* Queues a failed (or waiting) message again, due now, with a fresh set of attempts; a message
 * in flight or delivered is RS_E_CONFLICT ("outbox.not_retryable"). Audited (outbox.retry). */
enum rs_status outbox_retry(struct core *c, const struct actor *who, const char *tenant,
			    const char *id, struct arena *a, struct job *out, struct rs_err *err);

/* E-mail templates: built-in ones (invitation, invitation_resent, suspension, resumption,
 * deactivation, reactivation, deletion, role_change), each overridable per tenant. {{name}}
 * inserts a variable (HTML-escaped in the HTML part); a template may use only the variables
 * its name allows, listed in vars. */
#define EMAIL_TEMPLATE_VARS_MAX 16
struct email_template {
	const char *name, *subject, *text, *html;
	bool overridden;    /* the tenant's own, not the built-in */
	int64_t updated_at; /* of the override; 0 for the built-in */
	const char *vars[EMAIL_TEMPLATE_VARS_MAX];
	int nvars;
};
struct email_template_req {
	const char *subject, *text, *html; /* all three required */
};
enum rs_status email_templates_get(struct core *c, const struct actor *who, const char *tenant,
				   const char *name, struct arena *a, struct email_template *out,
				   struct rs_err *err);
/* Validates (RS_E_INVALID "template.unknown_variable" / "template.syntax", field = the part)
 * and stores the tenant's override. Audited (email_template.update). */
enum rs_status email_templates_put(struct core *c, const struct actor *who, const char *tenant,
				   const char *name, const struct email_template_req *req,
				   struct arena *a, struct email_template *out, struct rs_err *err);
/* Drops the override (the built-in applies again); no override is not an error. */
enum rs_status email_templates_delete(struct core *c, const struct actor *who, const char *tenant,
				      const char *name, struct rs_err *err);
/* Sends the template, with sample values, to one address through the outbox (an operator's
 * check of the relay and of an override). *out is the queued job. */
enum rs_status email_templates_test(struct core *c, const struct actor *who, const char *tenant,
				    const char *name, const char *to, struct arena *a,
				    struct job *out, struct rs_err *err);

/* Webhook subscriptions (webhooks.manage). events: patterns, each an event type
 * ("user.suspended"), a prefix ("user.*") or "*". The signing secret is shown once, at
 * creation; roster keeps it encrypted under a key derived from the server key. */
#define WEBHOOK_EVENTS_MAX 32
struct webhook {
	const char *id, *tenant_id, *url, *description;
	const char *events[WEBHOOK_EVENTS_MAX];
	int nevents;
	bool active;
	int64_t created_at, updated_at, version;
};
struct webhook_fields {
	struct opt_str url, description;
	bool events_set;
	const char *const *events;
	int nevents;
	bool active_set, active;
};
struct webhook_list {
	struct webhook *items;
	int n;
	const char *next_cursor;
};
struct webhook_delivery {
	const char *id, *webhook_id, *job_id, *event_id, *event_type, *error;
	int64_t attempt, status_code /* 0 = no answer */, duration_ms, at;
};
struct webhook_delivery_list {
	struct webhook_delivery *items;
	int n;
	const char *next_cursor;
};
/* *secret (arena) is the signing secret: the only time it is shown. */
enum rs_status webhooks_create(struct core *c, const struct actor *who, const char *tenant,
			       const struct webhook_fields *f, struct arena *a, struct webhook *out,
			       const char **secret, struct rs_err *err);
enum rs_status webhooks_list(struct core *c, const struct actor *who, const char *tenant,
			     const struct page *pg, struct arena *a, struct webhook_list *out,
			     struct rs_err *err);
enum rs_status webhooks_get(struct core *c, const struct actor *who, const char *tenant,
			    const char *id, struct arena *a, struct webhook *out,
			    struct rs_err *err);
enum rs_status webhooks_update(struct core *c, const struct actor *who, const char *tenant,
			       const char *id, const struct webhook_fields *f, struct arena *a,
			       struct webhook *out, struct rs_err *err);
enum rs_status webhooks_delete(struct core *c, const struct actor *who, const char *tenant,
			       const char *id, int64_t if_match, struct rs_err *err);
enum rs_status webhooks_deliveries(struct core *c, const struct actor *who, const char *tenant,
				   const char *id, const struct page *pg, struct arena *a,
				   struct webhook_delivery_list *out, struct rs_err *err);

/* Sends the event "webhook.ping" ({"webhook_id": id}) to this one subscription through the
 * outbox, whatever its patterns: a check of the receiver and its signature verification.
 * *out is the queued delivery. */
enum rs_status webhooks_ping(struct core *c, const struct actor *who, const char *tenant,
			     const char *id, struct arena *a, struct job *out, struct rs_err *err);

/* For the delivery adapter (no actor: the job runner is roster itself). The subscription's
 * current URL and its decrypted secret (arena; wipe it after use). RS_E_NOT_FOUND when the
 * subscription was deleted or deactivated since the event: the message is dropped. */
enum rs_status webhooks_target(struct core *c, const char *tenant_id, const char *webhook_id,
			       struct arena *a, const char **url, char **secret,
			       struct rs_err *err);
/* Appends one attempt to the subscription's delivery log. */
enum rs_status webhooks_log_delivery(struct core *c, const char *tenant_id,
				     const struct webhook_delivery *d, struct rs_err *err);

/* ---- JWT access tokens and their signing keys (docs/tokens.md) ------------------------------ */

/* Access tokens are JWS compact ES256 tokens signed by the current signing key; the current and
 * the previous key verify (and are published as a JWKS), a retired key verifies nothing. Keys
 * live in the store, their private parts sealed under a key derived from the server key; each
 * node caches them and reloads on a rotation's signal (STORE_SIG_KEYS), and at the latest
 * every few seconds, so processes that share an SQLite file without sharing signals (a CLI
 * rotation) agree too. */
#define ACCESS_TOKEN_TTL_DEFAULT_S 300
#define ACCESS_TOKEN_TTL_MIN_S 60
#define ACCESS_TOKEN_TTL_MAX_S 3600
#define ACCESS_TOKEN_LEEWAY_S 30  /* clock skew forgiven on exp, nbf and iat */
#define ACCESS_TOKEN_ROLES_MAX 64 /* roles one token may carry */

struct access_claims {
	const char *iss, *sub /* user id */, *tenant_id,
	    *sid /* session id, NULL for client_credentials */,
	    *client_id /* NULL for interactive sessions */, *jti, *scope, *username;
	const char *const *roles;
	int nroles;
	int64_t iat, exp; /* ms since the epoch, like core_now() */
};
/* Signs with the current key (ES256, header kid). iat/exp/jti are filled when 0/NULL (lifetime:
 * the configured access_token_ttl_s, default 300), and iss when NULL (the issuer: the
 * configured public_url, or "roster" when there is none); the filled values are written back
 * into *cl (strings in a). JWT times are whole seconds: iat and exp are rounded down.
 * RS_E_INVALID ("access_token.invalid_claims") without sub or tenant_id, with more than
 * ACCESS_TOKEN_ROLES_MAX roles or with exp not after iat; RS_E_INTERNAL ("keys.none") when
 * the store holds no current key (keys_ensure never ran). *jwt (a) is a bearer credential:
 * never log it. */
enum rs_status access_token_mint(struct core *c, struct access_claims *cl, struct arena *a,
				 const char **jwt, struct rs_err *err);
/* Verifies signature (kid among the current and previous keys; alg must be ES256 — refuse none,
 * HS*, RS*, and any header that is not exactly a JWS compact ES256), iss, exp/nbf/iat with a
 * 30 s leeway; RS_E_UNAUTHENTICATED code "auth.invalid_token" for every failure (one code, no
 * oracle). Does not check revocation (the caller does). On success *out holds the claims
 * (strings in a; iat/exp in ms, whole seconds; absent optional claims NULL). */
enum rs_status access_token_verify(struct core *c, const char *jwt, struct arena *a,
				   struct access_claims *out, struct rs_err *err);
/* A first key if none: makes and stores a current key when the store has none (audited
 * keys.create in the system tenant's chain), and in any case loads the keys, so that a node
 * whose server key cannot open them fails here, at start-up (RS_E_INTERNAL
 * "keys.unreadable"), rather than at its first token. Needs the bootstrap done. */
enum rs_status keys_ensure(struct core *c, struct rs_err *err);
/* The current key becomes previous, the previous one retired (its private part erased), and a
 * new key current; audited keys.rotate in the system tenant's chain; every node reloads.
 * Platform operators only (who->platform and platform.tenants: the system actor of
 * `roster keys rotate`). Tokens signed by the retired key are refused from now on. */
enum rs_status keys_rotate(struct core *c, const struct actor *who, struct rs_err *err);
/* The JWKS document ({"keys":[current, previous]}, RFC 7517) as JSON text in a. */
enum rs_status keys_jwks(struct core *c, struct arena *a, const char **json, struct rs_err *err);

struct signing_key {
	const char *kid, *alg, *status; /* current, previous or retired */
	int64_t created_at, rotated_at; /* rotated_at 0 = never */
};
struct signing_key_list {
	struct signing_key *items;
	int n;
};
/* Every signing key, newest first, without any private part (`roster keys list`). */
enum rs_status keys_list(struct core *c, struct arena *a, struct signing_key_list *out,
			 struct rs_err *err);

/* ---- API users (seed 001; docs/authentication.md "API users") -------------------------------- */

/* An API user is a user of type "api" whose credentials are access ids with secret keys. The
 * secret key is never stored: it is derived from the server key and a per-credential salt,
 * because verifying a signed request needs the key itself; what is stored for the
 * client_credentials grant is its keyed hash. Writes need users.update over the user (users.create
 * to create one), reads users.read; the rank rule applies to both; all writes are audited
 * (api_user.create, api_credential.create, .rotate, .update, .delete), never with a secret. */
#define API_ACCESS_ID_LEN 20 /* upper-case letters and digits */
#define API_SECRET_LEN 43    /* 256 bits, base64url without padding */
#define API_SIGNATURE_SKEW_S 300
#define API_CREDENTIALS_PER_USER_MAX 10

struct api_credential {
	const char *access_id, *tenant_id, *user_id;
	bool disabled;
	int64_t created_at, expires_at, last_used_at; /* 0 = never */
};
struct api_credential_list {
	struct api_credential *items;
	int n;
};

struct api_user_req {
	const char *first_name, *last_name; /* required */
	const char *system_role;  /* id or name; NULL = the tenant's "Api User" role if it has one,
				     else its default role */
	const char *const *roles; /* tenant-scope roles, ids or names */
	int nroles;
	const char *department_id;
	int64_t token_expiry_days; /* the credential's lifetime; 0 = never expires */
	bool disabled;		   /* the credential starts disabled */
};
struct api_credential_req {
	int64_t token_expiry_days; /* 0 = never (create); rotate: 0 keeps the current expiry */
	bool disabled;		   /* create only */
};

/* Creates, in one transaction, a user of type api (username "api-<access id>"; the users_create
 * path: users.create, department, rank rule on its roles, a seat of type api) and its first
 * credential. *secret (arena) holds the only copy of the secret key: show it once. */
enum rs_status api_users_create(struct core *c, const struct actor *who, const char *tenant,
				const struct api_user_req *req, struct arena *a, struct user *user,
				struct api_credential *cred, const char **secret,
				struct rs_err *err);
/* A further credential of an API user (RS_E_CONFLICT "api_user.not_api_user" for any other
 * type, RS_E_CONFLICT "api_credential.limit" beyond
 * API_CREDENTIALS_PER_USER_MAX). */
enum rs_status api_credentials_create(struct core *c, const struct actor *who, const char *tenant,
				      const char *user_id, const struct api_credential_req *req,
				      struct arena *a, struct api_credential *out,
				      const char **secret, struct rs_err *err);
enum rs_status api_credentials_list(struct core *c, const struct actor *who, const char *tenant,
				    const char *user_id, struct arena *a,
				    struct api_credential_list *out, struct rs_err *err);
/* A credential that is not the user's answers RS_E_NOT_FOUND "api_credential.not_found". */
enum rs_status api_credentials_get(struct core *c, const struct actor *who, const char *tenant,
				   const char *user_id, const char *access_id, struct arena *a,
				   struct api_credential *out, struct rs_err *err);
/* A new salt, so a new secret key (*secret, shown once); the old key is refused from the very
 * next request on every node. req NULL = keep the expiry. */
enum rs_status api_credentials_rotate(struct core *c, const struct actor *who, const char *tenant,
				      const char *user_id, const char *access_id,
				      const struct api_credential_req *req, struct arena *a,
				      struct api_credential *out, const char **secret,
				      struct rs_err *err);
enum rs_status api_credentials_set_disabled(struct core *c, const struct actor *who,
					    const char *tenant, const char *user_id,
					    const char *access_id, bool disabled, struct arena *a,
					    struct api_credential *out, struct rs_err *err);
enum rs_status api_credentials_delete(struct core *c, const struct actor *who, const char *tenant,
				      const char *user_id, const char *access_id,
				      struct rs_err *err);

/* The client_credentials grant: access id and secret key. On success *out is the API user's
 * actor and *user (optional; strings in a) the user, for the token's claims. Unknown id, wrong
 * secret, disabled or expired credential, a user that is not active or not of type api: all
 * RS_E_UNAUTHENTICATED "auth.invalid_client", one message. */
enum rs_status api_credential_check(struct core *c, const char *access_id, const char *secret,
				    struct arena *a, struct actor *out, struct user *user,
				    struct rs_err *err);

/* The actor of a live credential, for an access token minted by client_credentials (its
 * signature already proves the grant): RS_E_UNAUTHENTICATED auth.invalid_token when the
 * credential or its user no longer qualifies. */
enum rs_status api_credential_actor(struct core *c, const char *access_id, struct actor *out,
				    struct rs_err *err);

/* A request signed with an access id's secret key (ThreatConnect's scheme):
 * signature = base64(HMAC-SHA256(secret key, path + ":" + METHOD + ":" + timestamp)), path the
 * request target exactly as sent, query string included. */
struct signed_req {
	const char *access_id;
	const char *signature; /* standard base64, padded (44 characters) */
	const char *method;    /* as sent: "GET" */
	const char *path;      /* the request target as sent, query string included */
	const char *timestamp; /* unix seconds, decimal */
	int64_t now;	       /* ms since the epoch; 0 = the core's clock */
};
/* RS_E_UNAUTHENTICATED with "auth.stale_timestamp" (more than API_SIGNATURE_SKEW_S away from
 * now, or not a number: decided before the access id is looked at), "auth.invalid_signature"
 * (unknown access id, wrong signature, disabled or expired credential, user not active: one
 * message), "auth.replayed" (this exact signature was accepted before). Served from a per-node
 * cache tied to the auth epoch: one HMAC and one insert per request. */
enum rs_status auth_signed(struct core *c, const struct signed_req *q, struct actor *out,
			   struct rs_err *err);

/* ---- Bootstrap ------------------------------------------------------------------------------ */

/* Creates the system tenant, the maintenance account and its token when the store has none.
 * token: the secret to use (ROSTER_BOOTSTRAP_TOKEN), or NULL to generate one. On creation
 * *created is true and *secret (arena) holds the secret to print once; otherwise nothing is
 * changed and *created is false. */
enum rs_status core_bootstrap(struct core *c, const char *token, struct arena *a, bool *created,
			      const char **secret, struct rs_err *err);

/* Whether the store answers: a cheap read, at most once a second (cached between). /readyz
 * uses it so a load balancer stops sending traffic to a node that has no writable store. */
bool core_ready(struct core *c);

/* Counters for /metrics. */
uint64_t core_store_errors(const struct core *c);

#endif
