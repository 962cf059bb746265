-- Invitations: a user created in state 'invited' and a single-use link. The link's secret is
-- stored only as HMAC-SHA256(server key, secret); token_lookup (the public half) finds the row
-- from the link alone, so it is unique across tenants. Both are cleared once the invitation is
-- accepted or revoked, and replaced when it is resent. 'expired' is not stored: a pending
-- invitation whose expires_at has passed.
CREATE TABLE invitations (
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	email TEXT NOT NULL,
	status TEXT NOT NULL,
	token_lookup TEXT,
	token_hash TEXT,
	message TEXT,
	created_by TEXT,
	expires_at INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	resent_at INTEGER,
	accepted_at INTEGER,
	revoked_at INTEGER,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX invitations_lookup ON invitations (token_lookup);
CREATE INDEX invitations_user ON invitations (tenant_id, user_id);
-- Credentials of a user by kind ('password': an argon2id PHC string).
CREATE TABLE credentials (
	tenant_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	secret_hash TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, user_id, kind)
) WITHOUT ROWID;
