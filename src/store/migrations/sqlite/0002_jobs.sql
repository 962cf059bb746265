-- Work that must be done once, not once per node: a claimable queue with leases, and timers
-- that enqueue periodic work. A node claims a job by writing its node id and a lease; a node
-- that dies leaves a lease that expires, and another node claims the job again.

CREATE TABLE jobs (
	id TEXT NOT NULL PRIMARY KEY,
	tenant_id TEXT, -- NULL: platform housekeeping that walks every tenant itself
	kind TEXT NOT NULL,
	payload TEXT NOT NULL DEFAULT '{}',
	status TEXT NOT NULL, -- queued | running | done | failed
	run_at INTEGER NOT NULL,
	lease_owner TEXT,
	lease_until INTEGER,
	attempts INTEGER NOT NULL DEFAULT 0,
	progress TEXT NOT NULL DEFAULT '{}',
	last_error TEXT,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX jobs_due ON jobs (status, run_at);
CREATE INDEX jobs_lease ON jobs (status, lease_until);

CREATE TABLE timers (
	name TEXT NOT NULL PRIMARY KEY,
	next_run INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX api_tokens_expiry ON api_tokens (tenant_id, expires_at);
