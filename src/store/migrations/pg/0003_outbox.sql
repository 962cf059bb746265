-- PostgreSQL twin of migrations/sqlite/0003_outbox.sql (same tables, columns and indexes).
-- The outbox: e-mail and webhook deliveries are rows of `jobs` (kinds 'email' and 'webhook'),
-- inserted in the transaction of the change that caused them. This adds what they need: the
-- tenant's webhook subscriptions, the log of every delivery attempt, the tenant's e-mail
-- template overrides, and an index to list one tenant's outbox.

CREATE TABLE webhooks (
	tenant_id text COLLATE "C" NOT NULL,
	id text COLLATE "C" NOT NULL,
	url text COLLATE "C" NOT NULL,
	events text COLLATE "C" NOT NULL,
	description text COLLATE "C" NOT NULL DEFAULT '',
	secret_enc text COLLATE "C" NOT NULL,
	active bigint NOT NULL DEFAULT 1,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	version bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
	tenant_id text COLLATE "C" NOT NULL,
	webhook_id text COLLATE "C" NOT NULL,
	id text COLLATE "C" NOT NULL,
	job_id text COLLATE "C" NOT NULL,
	event_id text COLLATE "C" NOT NULL,
	event_type text COLLATE "C" NOT NULL,
	attempt bigint NOT NULL,
	status_code bigint,
	duration_ms bigint NOT NULL,
	error text COLLATE "C",
	at bigint NOT NULL,
	PRIMARY KEY (tenant_id, webhook_id, id)
);

CREATE TABLE email_templates (
	tenant_id text COLLATE "C" NOT NULL,
	name text COLLATE "C" NOT NULL,
	subject text COLLATE "C" NOT NULL,
	text_body text COLLATE "C" NOT NULL,
	html_body text COLLATE "C" NOT NULL,
	updated_at bigint NOT NULL,
	PRIMARY KEY (tenant_id, name)
);

CREATE INDEX jobs_tenant ON jobs (tenant_id, id);
