-- roster schema v1 (PostgreSQL): the same tables, columns and indexes as
-- migrations/sqlite/0001_init.sql. Every tenant-owned table leads its primary key and its
-- indexes with tenant_id, so no query crosses tenants and a deployment can shard by tenant.
-- Times are Unix milliseconds (bigint); flags are 0/1 bigints, as in SQLite, so rows read the
-- same on both engines. Case-insensitive lookups use *_key columns that hold the lower-cased
-- value, so they are plain index range scans on every engine.
-- Every text column is COLLATE "C": comparisons, ORDER BY and keyset paging are bytewise, as in
-- SQLite, whatever the database's default collation; it also lets btree indexes serve prefix
-- ranges. Constraint and index names matter: the engine maps a unique violation's index name
-- to the offending column (pg_conn.c).

CREATE TABLE tenants (
	id text COLLATE "C" NOT NULL PRIMARY KEY,
	slug text COLLATE "C" NOT NULL,
	name text COLLATE "C" NOT NULL,
	template text COLLATE "C" NOT NULL,
	status text COLLATE "C" NOT NULL DEFAULT 'active',
	settings text COLLATE "C" NOT NULL DEFAULT '{}',
	audit_seq bigint NOT NULL DEFAULT 0,
	audit_head text COLLATE "C" NOT NULL DEFAULT '',
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	deleted_at bigint,
	version bigint NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX tenants_slug ON tenants (slug) WHERE status <> 'deleted';

CREATE TABLE roles (
	tenant_id text COLLATE "C" NOT NULL,
	id text COLLATE "C" NOT NULL,
	name text COLLATE "C" NOT NULL,
	name_key text COLLATE "C" NOT NULL,
	scope text COLLATE "C" NOT NULL,
	rank bigint NOT NULL,
	permissions text COLLATE "C" NOT NULL,
	description text COLLATE "C",
	builtin bigint NOT NULL DEFAULT 0,
	is_default bigint NOT NULL DEFAULT 0,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	version bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX roles_name ON roles (tenant_id, name_key);

CREATE TABLE users (
	tenant_id text COLLATE "C" NOT NULL,
	id text COLLATE "C" NOT NULL,
	username text COLLATE "C" NOT NULL,
	username_key text COLLATE "C" NOT NULL,
	email text COLLATE "C",
	email_key text COLLATE "C",
	first_name text COLLATE "C",
	first_name_key text COLLATE "C",
	last_name text COLLATE "C",
	last_name_key text COLLATE "C",
	type text COLLATE "C" NOT NULL,
	status text COLLATE "C" NOT NULL,
	system_role_id text COLLATE "C" NOT NULL,
	department text COLLATE "C",
	locale text COLLATE "C",
	timezone text COLLATE "C",
	description text COLLATE "C",
	external_id text COLLATE "C",
	custom_attributes text COLLATE "C" NOT NULL DEFAULT '{}',
	required_actions text COLLATE "C" NOT NULL DEFAULT '',
	locked bigint NOT NULL DEFAULT 0,
	idle_logout_minutes bigint,
	summary_mail_time text COLLATE "C",
	security_profile text COLLATE "C",
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	last_login_at bigint,
	last_activity_at bigint,
	deleted_at bigint,
	version bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
);
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
	tenant_id text COLLATE "C" NOT NULL,
	user_id text COLLATE "C" NOT NULL,
	role_id text COLLATE "C" NOT NULL,
	PRIMARY KEY (tenant_id, user_id, role_id)
);
CREATE INDEX user_roles_role ON user_roles (tenant_id, role_id, user_id);

CREATE TABLE groups (
	tenant_id text COLLATE "C" NOT NULL,
	id text COLLATE "C" NOT NULL,
	name text COLLATE "C" NOT NULL,
	name_key text COLLATE "C" NOT NULL,
	description text COLLATE "C",
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	version bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX groups_name ON groups (tenant_id, name_key);

CREATE TABLE group_members (
	tenant_id text COLLATE "C" NOT NULL,
	group_id text COLLATE "C" NOT NULL,
	user_id text COLLATE "C" NOT NULL,
	added_at bigint NOT NULL,
	PRIMARY KEY (tenant_id, group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (tenant_id, user_id, group_id);

-- API tokens: the secret is never stored, only HMAC-SHA256(server key, secret). lookup is the
-- public half of the token; its index is the one global lookup (a routing directory: it tells
-- which tenant a presented token belongs to before anything tenant-owned is read).
CREATE TABLE api_tokens (
	tenant_id text COLLATE "C" NOT NULL,
	id text COLLATE "C" NOT NULL,
	lookup text COLLATE "C" NOT NULL,
	secret_hash text COLLATE "C" NOT NULL,
	user_id text COLLATE "C" NOT NULL,
	name text COLLATE "C" NOT NULL,
	role_id text COLLATE "C", -- NULL: the token acts with its owner's roles, following later changes
	created_by text COLLATE "C",
	created_at bigint NOT NULL,
	expires_at bigint,
	last_used_at bigint,
	revoked_at bigint,
	PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_tokens_lookup ON api_tokens (lookup);
CREATE INDEX api_tokens_user ON api_tokens (tenant_id, user_id);
CREATE INDEX api_tokens_role ON api_tokens (tenant_id, role_id);

-- Audit: per tenant an append-only hash chain; hash = SHA-256 over prev_hash and the event.
CREATE TABLE audit_events (
	tenant_id text COLLATE "C" NOT NULL,
	seq bigint NOT NULL,
	id text COLLATE "C" NOT NULL,
	at bigint NOT NULL,
	actor_type text COLLATE "C" NOT NULL,
	actor_id text COLLATE "C",
	actor_name text COLLATE "C",
	action text COLLATE "C" NOT NULL,
	target_type text COLLATE "C" NOT NULL,
	target_id text COLLATE "C",
	changes text COLLATE "C" NOT NULL DEFAULT '{}',
	request_id text COLLATE "C",
	source_ip text COLLATE "C",
	prev_hash text COLLATE "C" NOT NULL,
	hash text COLLATE "C" NOT NULL,
	PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_actor ON audit_events (tenant_id, actor_id, seq);
CREATE INDEX audit_target ON audit_events (tenant_id, target_id, seq);
CREATE INDEX audit_action ON audit_events (tenant_id, action, seq);
CREATE INDEX audit_at ON audit_events (tenant_id, at, seq);

-- Cross-node signals (store_signal): a committing write bumps seq and sends NOTIFY on the
-- channel roster_signals; every node LISTENs and, as a fallback when its notification
-- connection is down, polls seq (pg_signal.c).
CREATE TABLE store_signals (
	name text COLLATE "C" NOT NULL PRIMARY KEY,
	seq bigint NOT NULL
);
INSERT INTO store_signals (name, seq) VALUES ('auth', 0);
