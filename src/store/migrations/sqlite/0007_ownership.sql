-- Owned resources: what a user owns on the host platform (playbooks, job apps, dashboards…),
-- recorded through the API so that deactivating or deleting the user hands them to someone
-- instead of orphaning them. (kind, external_id) names the thing on the host platform.
CREATE TABLE owned_resources (
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL,
	owner_id TEXT NOT NULL,
	kind TEXT NOT NULL,
	external_id TEXT NOT NULL,
	name TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX owned_resources_external ON owned_resources (tenant_id, kind, external_id);
CREATE INDEX owned_resources_owner ON owned_resources (tenant_id, owner_id);
