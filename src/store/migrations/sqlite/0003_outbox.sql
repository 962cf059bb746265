-- The outbox: e-mail and webhook deliveries are rows of `jobs` (kinds 'email' and 'webhook'),
-- inserted in the transaction of the change that caused them. This adds what they need: the
-- tenant's webhook subscriptions, the log of every delivery attempt, the tenant's e-mail
-- template overrides, and an index to list one tenant's outbox.

CREATE TABLE webhooks (
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL,
	url TEXT NOT NULL,
	events TEXT NOT NULL,            -- space-separated patterns: "user.created user.*" or "*"
	description TEXT NOT NULL DEFAULT '',
	secret_enc TEXT NOT NULL,        -- hex(nonce | AES-256-GCM(secret) | tag), see core/webhooks.c
	active INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;

CREATE TABLE webhook_deliveries (
	tenant_id TEXT NOT NULL,
	webhook_id TEXT NOT NULL,
	id TEXT NOT NULL,
	job_id TEXT NOT NULL,
	event_id TEXT NOT NULL,
	event_type TEXT NOT NULL,
	attempt INTEGER NOT NULL,
	status_code INTEGER,             -- NULL: no HTTP answer (refused, timed out)
	duration_ms INTEGER NOT NULL,
	error TEXT,
	at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, webhook_id, id)
) WITHOUT ROWID;

CREATE TABLE email_templates (
	tenant_id TEXT NOT NULL,
	name TEXT NOT NULL,
	subject TEXT NOT NULL,
	text_body TEXT NOT NULL,
	html_body TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, name)
) WITHOUT ROWID;

CREATE INDEX jobs_tenant ON jobs (tenant_id, id);
