/* The catalogue of named queries and the column layout of the rows they return. Engines map
 * each enum store_q to their own SQL (sqlite/queries.c); arguments are positional (1-based in
 * the comments). Changing a layout here means changing every engine's SQL. */
#ifndef ROSTER_STORE_QUERIES_H
#define ROSTER_STORE_QUERIES_H

enum store_q {
	/* tenants */
	Q_TENANT_INSERT,     /* id, slug, name, template, now */
	Q_TENANT_GET_ID,     /* id -> tenant row (not deleted) */
	Q_TENANT_GET_SLUG,   /* slug -> tenant row (not deleted) */
	Q_TENANT_LIST,	     /* after_id|NULL, limit -> tenant rows by id */
	Q_TENANT_UPDATE,     /* id, name, settings, now, expected version -> changes */
	Q_TENANT_DELETE,     /* id, now */
	Q_TENANT_AUDIT_HEAD, /* id -> audit_seq, audit_head (any status) */
	Q_TENANT_AUDIT_SET,  /* id, seq, head */
	Q_TENANT_USERS_GEN,  /* id -> users_gen: bumped by every change to its users (0013) */
	Q_TENANT_LIST_ALL,   /* -> id, slug, status: every tenant, deleted too (audit verify) */
	Q_TENANT_LOCK,	     /* id: serialises this tenant's writers until commit (row lock) */
	/* roles */
	Q_ROLE_INSERT, /* tenant, id, name, name_key, scope, rank, perms, desc, builtin, is_default,
			  now, department|NULL */
	Q_ROLE_GET,    /* tenant, id -> role row */
	Q_ROLE_GET_NAME, /* tenant, name_key -> role row */
	Q_ROLE_LIST,	 /* tenant -> role rows by rank desc, name */
	Q_ROLE_UPDATE,	 /* tenant, id, name, name_key, rank, perms, desc, now, department|NULL */
	Q_ROLE_DELETE,	 /* tenant, id */
	Q_ROLE_USES,	 /* tenant, id -> count of live users and unrevoked tokens holding it */
	Q_ROLE_DEFAULT,	 /* tenant -> the default system role row */
	/* users */
	Q_USER_INSERT, /* tenant, id, username, username_key, email, email_key, first, first_key,
			  last, last_key, type, status, system_role, department_id, locale,
			  timezone, description, external_id, custom_attributes, required_actions,
			  idle_logout_minutes, summary_mail_time, security_profile, now, manager_id
			*/
	Q_USER_GET,    /* tenant, id -> user row (not deleted) */
	Q_USER_UPDATE, /* same 23 arguments as insert (status included), then now, manager_id;
			* bumps version */
	Q_USER_DELETE, /* tenant, id, now, deleted_by|NULL, username_hash: the tombstone, every
			* personal field cleared */
	Q_USER_REPORTS_UNLINK,	   /* tenant, manager id, now: its reports lose their manager */
	Q_USER_MARK_DELETING,	   /* tenant, id, task id, now, expected version -> changes */
	Q_CREDENTIALS_CLEAR,	   /* tenant, user */
	Q_INVITATIONS_REVOKE_USER, /* tenant, user, now: its pending invitations die */
	Q_TASK_GET,		   /* tenant, id -> job row of a task kind (delete_user) */
	Q_USER_ROLES,		   /* tenant, user -> role rows of the user's tenant roles */
	Q_USER_ROLES_CLEAR,	   /* tenant, user */
	Q_USER_ROLE_ADD,	   /* tenant, user, role */
	Q_USER_GROUPS,		   /* tenant, user -> group id, name */
	Q_USERS_ROLES_PAGE,   /* tenant, JSON array of user ids -> role row + user id (column 13),
				 by user id, then as Q_USER_ROLES */
	Q_USERS_GROUPS_PAGE,  /* tenant, JSON array of user ids -> group id, name, user id, by user
				 id, then as Q_USER_GROUPS */
	Q_USERS_ROLES_RANGE,  /* tenant, lowest user id, highest user id -> as Q_USERS_ROLES_PAGE,
				 for every user of the tenant within the range */
	Q_USERS_GROUPS_RANGE, /* tenant, lowest user id, highest user id -> as
				 Q_USERS_GROUPS_PAGE, for every user of the tenant within the range
			       */
	Q_USER_GROUPS_CLEAR,  /* tenant, user */
	Q_USER_BY_USERNAME,   /* tenant, username_key -> user row (not deleted) */
	Q_USER_TOUCH,	     /* tenant, id, now: last_activity_at (no version bump: not a change) */
	Q_USERS_UNUSED,	     /* tenant, cutoff, after_id|NULL, limit -> user rows: active, created
				before cutoff, no login nor API activity since */
	Q_SEAT_LIMITS,	     /* tenant -> type, max_seats */
	Q_SEAT_LIMIT_SET,    /* tenant, type, max_seats (insert or replace) */
	Q_SEAT_LIMIT_DELETE, /* tenant, type */
	Q_SEATS_USED,	     /* tenant -> type, count of users holding a seat */
	Q_USER_SET_STATUS,   /* tenant, id, status, reason|NULL, until|NULL, now, expected version
				-> changes (0: the user changed meanwhile); bumps version */
	/* groups */
	Q_GROUP_INSERT,	       /* tenant, id, name, name_key, desc, now, external_id */
	Q_GROUP_GET,	       /* tenant, id -> group row */
	Q_GROUP_GET_NAME,      /* tenant, name_key -> group row */
	Q_GROUP_LIST,	       /* tenant, after_id|NULL, limit -> group rows by id */
	Q_GROUP_UPDATE,	       /* tenant, id, name, name_key, desc, now, external_id */
	Q_GROUP_TOUCH,	       /* tenant, id, now: a member change bumps version, updated_at */
	Q_GROUP_DELETE,	       /* tenant, id */
	Q_GROUP_MEMBERS_CLEAR, /* tenant, group */
	Q_GROUP_MEMBER_ADD,    /* tenant, group, user, now -> changes 0 if already a member */
	Q_GROUP_MEMBER_REMOVE, /* tenant, group, user -> changes */
	Q_GROUP_MEMBERS,       /* tenant, group, after_user|NULL, limit -> user id, username */
	/* API tokens */
	Q_TOKEN_INSERT, /* tenant, id, lookup, hash, user, name, role, created_by, now, expires|NULL
			 */
	Q_TOKEN_BY_LOOKUP,     /* lookup -> token row */
	Q_TOKEN_GET,	       /* tenant, id -> token row */
	Q_TOKEN_LIST,	       /* tenant, user|NULL, after_id|NULL, limit -> token rows by id */
	Q_TOKEN_REVOKE,	       /* tenant, id, now -> changes (0 if already revoked) */
	Q_TOKEN_REVOKE_USER,   /* tenant, user, now */
	Q_TOKEN_REVOKE_TENANT, /* tenant, now */
	Q_TOKEN_TOUCH,	       /* tenant, id, now */
	/* audit */
	Q_AUDIT_INSERT, /* the 15 audit columns in row order */
	Q_AUDIT_CHAIN,	/* tenant -> audit rows by seq ascending */
	/* the work queue (jobs) and timers: work done once across nodes */
	Q_JOB_INSERT,	 /* id, tenant|NULL, kind, payload, run_at, now */
	Q_JOB_CLAIM,	 /* owner, now, lease_until -> job row of the one job claimed, or none:
			    the oldest due queued job, or a running one whose lease expired;
			    concurrent claimers never get the same job (SKIP LOCKED) */
	Q_JOB_HEARTBEAT, /* id, owner, lease_until, progress, now -> changes (0: lease lost) */
	Q_JOB_FINISH,	 /* id, owner, status, last_error, run_at, now -> changes; clears the
			    lease ("queued" again with run_at for a retry) */
	Q_JOB_GET,	 /* id -> job row */
	Q_JOB_ACTIVE,	 /* kind -> count of queued or running jobs of that kind */
	Q_TIMER_ENSURE,	 /* name, next_run: creates the timer unless it exists */
	Q_TIMER_FIRE,	 /* name, now, next_run -> changes (1: this node fired it) */
	Q_TOKEN_EXPIRED, /* tenant, now, limit -> ids of expired tokens */
	Q_TOKEN_DELETE,	 /* tenant, id */
	/* the outbox: jobs of kinds 'email' and 'webhook' of one tenant (core/outbox.c) */
	Q_OUTBOX_LIST,	/* tenant, status|NULL, kind|NULL, before_id|NULL, limit -> job rows,
			   newest first */
	Q_OUTBOX_GET,	/* tenant, id -> job row (an outbox kind) */
	Q_OUTBOX_RETRY, /* tenant, id, now -> changes: a failed or queued job is queued again,
			   due now, attempts back to 0 */
	/* webhook subscriptions and their delivery log (core/webhooks.c) */
	Q_WEBHOOK_INSERT, /* tenant, id, url, events, desc, secret_enc, now */
	Q_WEBHOOK_GET,	  /* tenant, id -> webhook row */
	Q_WEBHOOK_LIST,	  /* tenant, after_id|NULL, limit -> webhook rows by id */
	Q_WEBHOOK_ACTIVE, /* tenant -> webhook rows of the active subscriptions */
	Q_WEBHOOK_UPDATE, /* tenant, id, url, events, desc, active, now -> changes; bumps version */
	Q_WEBHOOK_DELETE, /* tenant, id -> changes */
	Q_WEBHOOK_DELIVERIES_CLEAR, /* tenant, webhook */
	Q_DELIVERY_INSERT, /* tenant, webhook, id, job, event_id, event_type, attempt, status|NULL,
			      duration_ms, error|NULL, at */
	Q_DELIVERY_LIST,   /* tenant, webhook, before_id|NULL, limit -> delivery rows, newest
			      first */
	/* e-mail template overrides (core/email_templates.c) */
	Q_EMAIL_TEMPLATE_GET,	 /* tenant, name -> subject, text, html, updated_at */
	Q_EMAIL_TEMPLATE_PUT,	 /* tenant, name, subject, text, html, now: insert or replace */
	Q_EMAIL_TEMPLATE_DELETE, /* tenant, name -> changes */
	/* invitations and credentials (core/invitations.c) */
	Q_INVITATION_INSERT,	/* tenant, id, user, email, lookup, hash, message, created_by,
				   expires_at, now */
	Q_INVITATION_GET,	/* tenant, id -> invitation row */
	Q_INVITATION_BY_LOOKUP, /* lookup -> invitation row (any tenant: the link is the key) */
	Q_INVITATION_LIST,	/* tenant, status|NULL (pending, accepted, revoked, expired), now,
				   after_id|NULL, limit -> invitation rows by id */
	Q_INVITATION_RESEND,	/* tenant, id, lookup, hash, message, expires_at, now -> changes
				   (pending only) */
	Q_INVITATION_CLOSE,	/* tenant, id, status (accepted|revoked), now -> changes (pending
				   only): clears the token */
	Q_CREDENTIAL_PUT,	/* tenant, user, kind, secret_hash, now: insert or replace */
	Q_USER_ACCEPT,		/* tenant, id, first, first_key, last, last_key, timezone, now,
				   expected version -> changes: invited -> active; bumps version */
	/* owned resources (core/resources.c) */
	Q_RESOURCE_INSERT,   /* tenant, id, owner, kind, external_id, name, now */
	Q_RESOURCE_GET,	     /* tenant, id -> resource row */
	Q_RESOURCE_LIST,     /* tenant, owner|NULL, kind|NULL, after_id|NULL, limit -> resource
				rows by id */
	Q_RESOURCE_BY_OWNER, /* tenant, owner -> every resource row of the owner, by id */
	Q_RESOURCE_UPDATE,   /* tenant, id, owner, name, now -> changes */
	Q_RESOURCE_DELETE,   /* tenant, id -> changes */
	/* sessions, logins (core/sessions.c, core/login.c) */
	Q_SESSION_INSERT,	/* tenant, id, user, lookup, secret_hash, csrf_hash, ip, ua, now,
				   idle_ms|NULL, expires_at */
	Q_SESSION_BY_LOOKUP,	/* lookup -> session row (any tenant: the cookie is the key) */
	Q_SESSION_GET,		/* tenant, id -> session row */
	Q_SESSION_LIST_USER,	/* tenant, user, now -> live session rows, oldest first */
	Q_SESSION_REVOKE,	/* tenant, id, now, reason -> changes (live ones only) */
	Q_SESSION_REVOKE_USER,	/* tenant, user, now, reason, keep id|NULL -> changes */
	Q_SESSION_TOUCH,	/* tenant, id, now: last_seen_at */
	Q_REFRESH_INSERT,	/* lookup, tenant, session, secret_hash, now, expires_at */
	Q_REFRESH_BY_LOOKUP,	/* lookup -> lookup, tenant, session, secret_hash, created, expires,
				   used_at */
	Q_REFRESH_USE,		/* lookup, now -> changes (unused only): rotated */
	Q_LOGIN_FAILURE_INSERT, /* tenant, user, id, at, ip, ua, reason */
	Q_LOGIN_FAILURE_LIST,	/* tenant, user, before_id|NULL, limit -> id, at, ip, ua, reason,
				   newest first */
	Q_USER_LOGIN_FAILED,	/* tenant, id, now, lock (0/1) -> changes: counts a failure */
	Q_USER_LOGIN_OK,	/* tenant, id, now: the failure count starts again */
	Q_USER_UNLOCK,		/* tenant, id, now -> changes; bumps version */
	Q_USER_BY_EMAIL,  /* tenant, email_key -> user rows (not deleted; e-mail is not unique) */
	Q_CREDENTIAL_GET, /* tenant, user, kind -> secret_hash, updated_at */
	Q_PASSWORD_HISTORY_ADD,	 /* tenant, user, at, secret_hash */
	Q_PASSWORD_HISTORY_LIST, /* tenant, user, limit -> secret_hash, newest first */
	Q_USER_SET_REQUIRED, /* tenant, id, required_actions text, now -> changes; bumps version */
	/* departments (core/departments.c); subtree walks stop at 64 levels whatever the data */
	Q_DEPT_INSERT,	   /* tenant, id, name, name_key, parent|NULL, desc, now */
	Q_DEPT_GET,	   /* tenant, id -> department row */
	Q_DEPT_LIST,	   /* tenant, parent|NULL, roots_only (0/1), after_id|NULL, limit ->
			      department rows by id */
	Q_DEPT_UPDATE,	   /* tenant, id, name, name_key, parent|NULL, desc, now, expected version
			      -> changes; bumps version */
	Q_DEPT_DELETE,	   /* tenant, id -> changes */
	Q_DEPT_COUNT,	   /* tenant -> count of departments */
	Q_DEPT_BY_NAME,	   /* tenant, name_key -> id of the (at most 2) departments so named */
	Q_DEPT_ANCESTORS,  /* tenant, id -> id, name, depth: the department (depth 0) and its
			      ancestors up to the root */
	Q_DEPT_HEIGHT,	   /* tenant, id -> levels below the department (0: a leaf), size of its
			      subtree (itself included) */
	Q_DEPT_MOVE_USERS, /* tenant, from, to|NULL, now: every user of from (tombstones too) */
	Q_DEPT_MOVE_CHILDREN,  /* tenant, from, to, now: the children of from; bumps versions */
	Q_DEPT_ROLE_USES,      /* tenant, id -> count of roles scoped to the department */
	Q_DEPT_MANAGERS,       /* tenant, id -> user id, username of its live managers */
	Q_DEPT_MANAGER_ADD,    /* tenant, id, user, now -> changes 0 if already a manager */
	Q_DEPT_MANAGER_REMOVE, /* tenant, id, user -> changes */
	Q_DEPT_MANAGERS_CLEAR, /* tenant, id */
	/* JWT signing keys (core/keys.c): global, shared by every node */
	Q_SIGNING_KEY_INSERT, /* kid, alg, private_enc, public_jwk, now: a new current key */
	Q_SIGNING_KEYS_LIVE,  /* -> signing key rows of the current and previous keys, current
				 first */
	Q_SIGNING_KEY_LIST,   /* -> every signing key row: current, previous, then the retired
				 ones newest first; private_enc is NULL */
	Q_SIGNING_KEY_RETIRE, /* now: the previous key is retired, its private part erased */
	Q_SIGNING_KEY_DEMOTE, /* now: the current key becomes the previous one */
	Q_USER_LOGIN_STATE,   /* tenant, id -> locked, failed_logins, last_failed_login_at (not
				 deleted) */
	/* API users' credentials and the signatures already seen (core/api_users.c) */
	Q_API_CRED_INSERT,    /* tenant, id, user, salt, secret_hash, now, expires|NULL,
				 disabled (0/1) */
	Q_API_CRED_GET,	      /* tenant, id -> api credential row */
	Q_API_CRED_BY_ID,     /* id -> api credential row (any tenant: the access id is the key) */
	Q_API_CRED_LIST_USER, /* tenant, user -> api credential rows, oldest first */
	Q_API_CRED_ROTATE,    /* tenant, id, salt, secret_hash, expires|NULL -> changes */
	Q_API_CRED_SET_DISABLED,   /* tenant, id, disabled (0/1) -> changes */
	Q_API_CRED_DELETE,	   /* tenant, id -> changes */
	Q_API_CRED_DELETE_USER,	   /* tenant, user */
	Q_API_CRED_TOUCH,	   /* tenant, id, now: last_used_at */
	Q_SIGNED_REQUEST_INSERT,   /* signature, at: a unique violation when it was seen before */
	Q_SIGNED_REQUEST_PURGE,	   /* before: forgets the signatures with at < before */
	Q_DEPT_MANAGER_CLEAR_USER, /* tenant, user: it manages nothing any more (deletion) */
	Q__COUNT
};

/* Row layouts. */
enum {
	SEC_TENANT,
	SEC_ID,
	SEC_USER,
	SEC_LOOKUP,
	SEC_HASH,
	SEC_CSRF,
	SEC_IP,
	SEC_UA,
	SEC_CREATED,
	SEC_SEEN,
	SEC_IDLE,
	SEC_EXPIRES,
	SEC_REVOKED,
	SEC_REASON
};
enum {
	TC_ID,
	TC_SLUG,
	TC_NAME,
	TC_TEMPLATE,
	TC_STATUS,
	TC_SETTINGS,
	TC_CREATED,
	TC_UPDATED,
	TC_VERSION
};
enum {
	RC_TENANT,
	RC_ID,
	RC_NAME,
	RC_SCOPE,
	RC_RANK,
	RC_PERMS,
	RC_DESC,
	RC_BUILTIN,
	RC_DEFAULT,
	RC_CREATED,
	RC_UPDATED,
	RC_VERSION,
	RC_DEPT /* NULL: the role applies tenant-wide */
};
enum {
	UC_TENANT,
	UC_ID,
	UC_USERNAME,
	UC_EMAIL,
	UC_FIRST,
	UC_LAST,
	UC_TYPE,
	UC_STATUS,
	UC_SYSROLE,
	UC_DEPT,
	UC_LOCALE,
	UC_TZ,
	UC_DESC,
	UC_EXTID,
	UC_CUSTOM,
	UC_REQACT,
	UC_LOCKED,
	UC_IDLE,
	UC_SUMMARY,
	UC_SECPROF,
	UC_CREATED,
	UC_UPDATED,
	UC_LASTLOGIN,
	UC_LASTACT,
	UC_VERSION,
	UC_STATUS_REASON,
	UC_SUSPENDED_UNTIL,
	UC_DEPT_NAME, /* the name of the department UC_DEPT names */
	UC_DELETION_TASK,
	UC_FAILED_LOGINS,
	UC_LAST_FAILED_LOGIN,
	UC_MANAGER,
	UC_MANAGER_NAME /* the username of the user UC_MANAGER names */
};
enum {
	DPC_TENANT,
	DPC_ID,
	DPC_NAME,
	DPC_PARENT,
	DPC_DESC,
	DPC_CREATED,
	DPC_UPDATED,
	DPC_VERSION,
	DPC_USERS,   /* live users directly in it */
	DPC_CHILDREN /* its child departments */
};
enum { OC_TENANT, OC_ID, OC_OWNER, OC_KIND, OC_EXTID, OC_NAME, OC_CREATED, OC_UPDATED };
enum {
	GC_TENANT,
	GC_ID,
	GC_NAME,
	GC_DESC,
	GC_CREATED,
	GC_UPDATED,
	GC_VERSION,
	GC_MEMBERS,
	GC_EXTERNAL_ID
};
enum {
	KC_TENANT,
	KC_ID,
	KC_LOOKUP,
	KC_HASH,
	KC_USER,
	KC_NAME,
	KC_ROLE,
	KC_CREATED_BY,
	KC_CREATED,
	KC_EXPIRES,
	KC_LASTUSED,
	KC_REVOKED
};
enum {
	AC_TENANT,
	AC_SEQ,
	AC_ID,
	AC_AT,
	AC_ACTOR_TYPE,
	AC_ACTOR_ID,
	AC_ACTOR_NAME,
	AC_ACTION,
	AC_TTYPE,
	AC_TID,
	AC_CHANGES,
	AC_REQID,
	AC_IP,
	AC_PREV,
	AC_HASH
};

enum {
	JC_ID,
	JC_TENANT,
	JC_KIND,
	JC_PAYLOAD,
	JC_STATUS,
	JC_RUN_AT,
	JC_OWNER,
	JC_LEASE,
	JC_ATTEMPTS,
	JC_PROGRESS,
	JC_ERROR,
	JC_CREATED,
	JC_UPDATED
};

enum {
	WC_TENANT,
	WC_ID,
	WC_URL,
	WC_EVENTS,
	WC_DESC,
	WC_SECRET,
	WC_ACTIVE,
	WC_CREATED,
	WC_UPDATED,
	WC_VERSION
};
enum {
	DC_TENANT,
	DC_WEBHOOK,
	DC_ID,
	DC_JOB,
	DC_EVENT_ID,
	DC_EVENT_TYPE,
	DC_ATTEMPT,
	DC_STATUS,
	DC_DURATION,
	DC_ERROR,
	DC_AT
};

enum {
	IC_TENANT,
	IC_ID,
	IC_USER,
	IC_EMAIL,
	IC_STATUS,
	IC_LOOKUP,
	IC_HASH,
	IC_MESSAGE,
	IC_CREATED_BY,
	IC_EXPIRES,
	IC_CREATED,
	IC_RESENT,
	IC_ACCEPTED,
	IC_REVOKED,
	IC_UPDATED
};

enum { SKC_KID, SKC_ALG, SKC_STATUS, SKC_PRIVATE, SKC_JWK, SKC_CREATED, SKC_ROTATED };

enum {
	ACC_TENANT,
	ACC_ID,
	ACC_USER,
	ACC_SALT,
	ACC_HASH,
	ACC_CREATED,
	ACC_EXPIRES,
	ACC_DISABLED,
	ACC_LASTUSED
};

/* Collections that store_select() can filter, sort and page. */
enum store_coll { SC_USERS, SC_AUDIT, SC_GROUPS };

/* SC_USERS attributes; rows have the UC_* layout; deleted users are never returned.
 * _ci: text compared case-insensitively. ROLE, GROUP and DEPARTMENT_TREE take an id and
 * support SO_EQ only (ROLE matches the system role or any tenant role). */
enum store_user_attr {
	UA_ID,
	UA_USERNAME_CI,
	UA_EMAIL_CI,
	UA_FIRST_NAME_CI,
	UA_LAST_NAME_CI,
	UA_TYPE,
	UA_STATUS,
	UA_EXTERNAL_ID,
	UA_CREATED_AT,
	UA_UPDATED_AT,
	UA_ROLE,
	UA_GROUP,
	UA_DEPARTMENT,	    /* department_id, SO_EQ (direct members) */
	UA_DEPARTMENT_TREE, /* a department id, SO_EQ: members of it or of any descendant */
	UA__COUNT
};

/* SC_GROUPS attributes; rows have the GC_* layout. NAME_CI is the name compared without case
 * (name_key); EXTERNAL_ID case-exact; MEMBER takes a user id and SO_EQ only: the groups that
 * user is a direct member of (the group_members_user index). */
enum store_group_attr {
	GA_ID,
	GA_NAME_CI,
	GA_EXTERNAL_ID,
	GA_CREATED_AT,
	GA_UPDATED_AT,
	GA_MEMBER,
	GA__COUNT
};

/* SC_AUDIT attributes; rows have the AC_* layout. SEQ is the only sort key (unique). */
enum store_audit_attr { AA_SEQ, AA_ACTOR_ID, AA_TARGET_ID, AA_ACTION, AA_AT, AA__COUNT };

#endif
