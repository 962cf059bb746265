-- The keys that sign JWT access tokens (core/keys.c, docs/tokens.md). Global, not tenant-owned:
-- every tenant's tokens come from one issuer. At most one key is 'current' (signs) and one
-- 'previous' (still verifies, still published in the JWKS); a 'retired' key verifies nothing
-- and has its private part erased. private_enc is hex(nonce | AES-256-GCM(PKCS#8 PEM) | tag)
-- under a key derived from the server key and bound to the kid: never the key in the clear.
CREATE TABLE signing_keys (
	kid TEXT NOT NULL PRIMARY KEY,   -- RFC 7638 JWK thumbprint (SHA-256, base64url)
	alg TEXT NOT NULL CHECK (alg = 'ES256'),
	status TEXT NOT NULL CHECK (status IN ('current', 'previous', 'retired')),
	private_enc TEXT,                -- NULL once retired
	public_jwk TEXT NOT NULL,        -- the JWK as published at /.well-known/jwks.json
	created_at INTEGER NOT NULL,
	rotated_at INTEGER               -- when it last changed status; NULL while current
) WITHOUT ROWID;
-- One current and one previous key at most, whatever two writers attempt.
CREATE UNIQUE INDEX signing_keys_live ON signing_keys (status) WHERE status <> 'retired';
