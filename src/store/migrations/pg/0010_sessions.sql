-- Authentication: interactive sessions, rotating refresh tokens, API-user credentials, the
-- failed-login history and lockout counters, password history, and the signatures already
-- seen (replay protection for signed requests). Secrets are stored as HMAC-SHA256 under the
-- server key; a row is found by the public lookup half of its secret.
CREATE TABLE sessions (
	tenant_id TEXT COLLATE "C" NOT NULL,
	id TEXT COLLATE "C" NOT NULL,
	user_id TEXT COLLATE "C" NOT NULL,
	lookup TEXT COLLATE "C" NOT NULL UNIQUE, -- the cookie secret's public half
	secret_hash TEXT COLLATE "C" NOT NULL,
	csrf_hash TEXT COLLATE "C" NOT NULL,
	source_ip TEXT COLLATE "C",
	user_agent TEXT COLLATE "C",
	created_at BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL,
	idle_timeout_ms BIGINT, -- NULL: no idle timeout
	expires_at BIGINT NOT NULL, -- the absolute lifetime
	revoked_at BIGINT,
	revoked_reason TEXT COLLATE "C",
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id, revoked_at);

CREATE TABLE refresh_tokens (
	lookup TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	tenant_id TEXT COLLATE "C" NOT NULL,
	session_id TEXT COLLATE "C" NOT NULL,
	secret_hash TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at BIGINT -- rotated: presenting it again revokes the whole session
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (tenant_id, session_id);

CREATE TABLE login_failures (
	tenant_id TEXT COLLATE "C" NOT NULL,
	user_id TEXT COLLATE "C" NOT NULL,
	id TEXT COLLATE "C" NOT NULL,
	at BIGINT NOT NULL,
	source_ip TEXT COLLATE "C",
	user_agent TEXT COLLATE "C",
	reason TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (tenant_id, user_id, id)
);

ALTER TABLE users ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_failed_login_at BIGINT;

CREATE TABLE password_history (
	tenant_id TEXT COLLATE "C" NOT NULL,
	user_id TEXT COLLATE "C" NOT NULL,
	at BIGINT NOT NULL,
	secret_hash TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (tenant_id, user_id, at)
);

-- An API user's access id and secret key. The key is not stored: it is derived from the
-- server key and this row's salt (HMAC), because verifying a signed request needs the key
-- itself; secret_hash serves the client_credentials grant.
CREATE TABLE api_credentials (
	tenant_id TEXT COLLATE "C" NOT NULL,
	id TEXT COLLATE "C" NOT NULL, -- the access id
	user_id TEXT COLLATE "C" NOT NULL,
	salt TEXT COLLATE "C" NOT NULL,
	secret_hash TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT,
	disabled BIGINT NOT NULL DEFAULT 0,
	last_used_at BIGINT,
	PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_credentials_id ON api_credentials (id);
CREATE INDEX api_credentials_user ON api_credentials (tenant_id, user_id);

CREATE TABLE signed_requests (
	signature TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	at BIGINT NOT NULL
);
CREATE INDEX signed_requests_at ON signed_requests (at);
