-- roster schema v1 (SQLite). Every tenant-owned table leads its primary key and its indexes
-- with tenant_id, so no query crosses tenants and a deployment can shard by tenant.
-- Times are Unix milliseconds (INTEGER). Case-insensitive lookups use *_key columns that hold
-- the lower-cased value, so they are plain index range scans on every engine.

CREATE TABLE tenants (
	id TEXT NOT NULL PRIMARY KEY,
	slug TEXT NOT NULL,
	name TEXT NOT NULL,
	template TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'active',
	settings TEXT NOT NULL DEFAULT '{}',
	audit_seq INTEGER NOT NULL DEFAULT 0,
	audit_head TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	deleted_at INTEGER,
	version INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE UNIQUE INDEX tenants_slug ON tenants (slug) WHERE status <> 'deleted';

CREATE TABLE roles (
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL,
	name TEXT NOT NULL,
	name_key TEXT NOT NULL,
	scope TEXT NOT NULL,
	rank INTEGER NOT NULL,
	permissions TEXT NOT NULL,
	description TEXT,
	builtin INTEGER NOT NULL DEFAULT 0,
	is_default INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX roles_name ON roles (tenant_id, name_key);

CREATE TABLE users (
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL,
	username TEXT NOT NULL,
	username_key TEXT NOT NULL,
	email TEXT,
	email_key TEXT,
	first_name TEXT,
	first_name_key TEXT,
	last_name TEXT,
	last_name_key TEXT,
	type TEXT NOT NULL,
	status TEXT NOT NULL,
	system_role_id TEXT NOT NULL,
	department TEXT,
	locale TEXT,
	timezone TEXT,
	description TEXT,
	external_id TEXT,
	custom_attributes TEXT NOT NULL DEFAULT '{}',
	required_actions TEXT NOT NULL DEFAULT '',
	locked INTEGER NOT NULL DEFAULT 0,
	idle_logout_minutes INTEGER,
	summary_mail_time TEXT,
	security_profile TEXT,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	last_login_at INTEGER,
	last_activity_at INTEGER,
	deleted_at INTEGER,
	version INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
-- Deleted users stay as tombstones for the audit trail; their usernames are free again.
CREATE UNIQUE INDEX users_username ON users (tenant_id, username_key) WHERE status <> 'deleted';
CREATE INDEX users_email ON users (tenant_id, email_key);
CREATE INDEX users_first_name ON users (tenant_id, first_name_key);
CREATE INDEX users_last_name ON users (tenant_id, last_name_key);
CREATE INDEX users_created ON users (tenant_id, created_at, id);
CREATE INDEX users_updated ON users (tenant_id, updated_at, id);
CREATE INDEX users_status ON users (tenant_id, status);
CREATE INDEX users_type ON users (tenant_id, type);
CREATE INDEX users_system_role ON users (tenant_id, system_role_id);
CREATE INDEX users_external_id ON users (tenant_id, external_id);

CREATE TABLE user_roles (
	tenant_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	role_id TEXT NOT NULL,
	PRIMARY KEY (tenant_id, user_id, role_id)
) WITHOUT ROWID;
CREATE INDEX user_roles_role ON user_roles (tenant_id, role_id, user_id);

CREATE TABLE groups (
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL,
	name TEXT NOT NULL,
	name_key TEXT NOT NULL,
	description TEXT,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX groups_name ON groups (tenant_id, name_key);

CREATE TABLE group_members (
	tenant_id TEXT NOT NULL,
	group_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	added_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members (tenant_id, user_id, group_id);

-- API tokens: the secret is never stored, only HMAC-SHA256(server key, secret). lookup is the
-- public half of the token; its index is the one global lookup (a routing directory: it tells
-- which tenant a presented token belongs to before anything tenant-owned is read).
CREATE TABLE api_tokens (
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL,
	lookup TEXT NOT NULL,
	secret_hash TEXT NOT NULL,
	user_id TEXT NOT NULL,
	name TEXT NOT NULL,
	role_id TEXT, -- NULL: the token acts with its owner's roles, following later changes
	created_by TEXT,
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	last_used_at INTEGER,
	revoked_at INTEGER,
	PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX api_tokens_lookup ON api_tokens (lookup);
CREATE INDEX api_tokens_user ON api_tokens (tenant_id, user_id);
CREATE INDEX api_tokens_role ON api_tokens (tenant_id, role_id);

-- Audit: per tenant an append-only hash chain; hash = SHA-256 over prev_hash and the event.
CREATE TABLE audit_events (
	tenant_id TEXT NOT NULL,
	seq INTEGER NOT NULL,
	id TEXT NOT NULL,
	at INTEGER NOT NULL,
	actor_type TEXT NOT NULL,
	actor_id TEXT,
	actor_name TEXT,
	action TEXT NOT NULL,
	target_type TEXT NOT NULL,
	target_id TEXT,
	changes TEXT NOT NULL DEFAULT '{}',
	request_id TEXT,
	source_ip TEXT,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL,
	PRIMARY KEY (tenant_id, seq)
) WITHOUT ROWID;
CREATE INDEX audit_actor ON audit_events (tenant_id, actor_id, seq);
CREATE INDEX audit_target ON audit_events (tenant_id, target_id, seq);
CREATE INDEX audit_action ON audit_events (tenant_id, action, seq);
CREATE INDEX audit_at ON audit_events (tenant_id, at, seq);
