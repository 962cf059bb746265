-- PostgreSQL twin of migrations/sqlite/0002_jobs.sql (same tables, columns and indexes).
-- Work that must be done once, not once per node: a claimable queue with leases, and timers
-- that enqueue periodic work. A node claims a job by writing its node id and a lease; a node
-- that dies leaves a lease that expires, and another node claims the job again.

CREATE TABLE jobs (
	id text COLLATE "C" NOT NULL PRIMARY KEY,
	tenant_id text COLLATE "C", -- NULL: platform housekeeping that walks every tenant itself
	kind text COLLATE "C" NOT NULL,
	payload text COLLATE "C" NOT NULL DEFAULT '{}',
	status text COLLATE "C" NOT NULL, -- queued | running | done | failed
	run_at bigint NOT NULL,
	lease_owner text COLLATE "C",
	lease_until bigint,
	attempts bigint NOT NULL DEFAULT 0,
	progress text COLLATE "C" NOT NULL DEFAULT '{}',
	last_error text COLLATE "C",
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);
CREATE INDEX jobs_lease ON jobs (status, lease_until);

CREATE TABLE timers (
	name text COLLATE "C" NOT NULL PRIMARY KEY,
	next_run bigint NOT NULL
);

CREATE INDEX api_tokens_expiry ON api_tokens (tenant_id, expires_at);
