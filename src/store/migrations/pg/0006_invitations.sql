-- Invitations: a user created in state 'invited' and a single-use link. The link's secret is
-- stored only as HMAC-SHA256(server key, secret); token_lookup (the public half) finds the row
-- from the link alone, so it is unique across tenants. Both are cleared once the invitation is
-- accepted or revoked, and replaced when it is resent. 'expired' is not stored: a pending
-- invitation whose expires_at has passed.
CREATE TABLE invitations (
	tenant_id text COLLATE "C" NOT NULL,
	id text COLLATE "C" NOT NULL,
	user_id text COLLATE "C" NOT NULL,
	email text COLLATE "C" NOT NULL,
	status text COLLATE "C" NOT NULL,
	token_lookup text COLLATE "C",
	token_hash text COLLATE "C",
	message text COLLATE "C",
	created_by text COLLATE "C",
	expires_at bigint NOT NULL,
	created_at bigint NOT NULL,
	resent_at bigint,
	accepted_at bigint,
	revoked_at bigint,
	updated_at bigint NOT NULL,
	PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX invitations_lookup ON invitations (token_lookup);
CREATE INDEX invitations_user ON invitations (tenant_id, user_id);
-- Credentials of a user by kind ('password': an argon2id PHC string).
CREATE TABLE credentials (
	tenant_id text COLLATE "C" NOT NULL,
	user_id text COLLATE "C" NOT NULL,
	kind text COLLATE "C" NOT NULL,
	secret_hash text COLLATE "C" NOT NULL,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	PRIMARY KEY (tenant_id, user_id, kind)
);
