-- Authentication: interactive sessions, rotating refresh tokens, API-user credentials, the
-- failed-login history and lockout counters, password history, and the signatures already
-- seen (replay protection for signed requests). Secrets are stored as HMAC-SHA256 under the
-- server key; a row is found by the public lookup half of its secret.
CREATE TABLE sessions (
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	lookup TEXT NOT NULL UNIQUE, -- the cookie secret's public half
	secret_hash TEXT NOT NULL,
	csrf_hash TEXT NOT NULL,
	source_ip TEXT,
	user_agent TEXT,
	created_at INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	idle_timeout_ms INTEGER, -- NULL: no idle timeout
	expires_at INTEGER NOT NULL, -- the absolute lifetime
	revoked_at INTEGER,
	revoked_reason TEXT,
	PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (tenant_id, user_id, revoked_at);

CREATE TABLE refresh_tokens (
	lookup TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	session_id TEXT NOT NULL,
	secret_hash TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at INTEGER -- rotated: presenting it again revokes the whole session
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_session ON refresh_tokens (tenant_id, session_id);

CREATE TABLE login_failures (
	tenant_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	id TEXT NOT NULL,
	at INTEGER NOT NULL,
	source_ip TEXT,
	user_agent TEXT,
	reason TEXT NOT NULL,
	PRIMARY KEY (tenant_id, user_id, id)
) WITHOUT ROWID;

ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_failed_login_at INTEGER;

CREATE TABLE password_history (
	tenant_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	at INTEGER NOT NULL,
	secret_hash TEXT NOT NULL,
	PRIMARY KEY (tenant_id, user_id, at)
) WITHOUT ROWID;

-- An API user's access id and secret key. The key is not stored: it is derived from the
-- server key and this row's salt (HMAC), because verifying a signed request needs the key
-- itself; secret_hash serves the client_credentials grant.
CREATE TABLE api_credentials (
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL, -- the access id
	user_id TEXT NOT NULL,
	salt TEXT NOT NULL,
	secret_hash TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	disabled INTEGER NOT NULL DEFAULT 0,
	last_used_at INTEGER,
	PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX api_credentials_id ON api_credentials (id);
CREATE INDEX api_credentials_user ON api_credentials (tenant_id, user_id);

CREATE TABLE signed_requests (
	signature TEXT NOT NULL PRIMARY KEY,
	at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX signed_requests_at ON signed_requests (at);
