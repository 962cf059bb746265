-- The keys that sign JWT access tokens (core/keys.c, docs/tokens.md). Global, not tenant-owned:
-- every tenant's tokens come from one issuer. At most one key is 'current' (signs) and one
-- 'previous' (still verifies, still published in the JWKS); a 'retired' key verifies nothing
-- and has its private part erased. private_enc is hex(nonce | AES-256-GCM(PKCS#8 PEM) | tag)
-- under a key derived from the server key and bound to the kid: never the key in the clear.
CREATE TABLE signing_keys (
	kid text COLLATE "C" NOT NULL PRIMARY KEY, -- RFC 7638 JWK thumbprint (SHA-256, base64url)
	alg text COLLATE "C" NOT NULL CHECK (alg = 'ES256'),
	status text COLLATE "C" NOT NULL CHECK (status IN ('current', 'previous', 'retired')),
	private_enc text COLLATE "C",              -- NULL once retired
	public_jwk text COLLATE "C" NOT NULL,      -- the JWK as published at /.well-known/jwks.json
	created_at bigint NOT NULL,
	rotated_at bigint                          -- when it last changed status; NULL while current
);
-- One current and one previous key at most, whatever two writers attempt.
CREATE UNIQUE INDEX signing_keys_live ON signing_keys (status) WHERE status <> 'retired';

-- A rotation is announced to every node (store_signal STORE_SIG_KEYS): by NOTIFY, and by this
-- counter for the nodes that poll while their notification connection is down (pg_signal.c).
INSERT INTO store_signals (name, seq) VALUES ('keys', 0);
