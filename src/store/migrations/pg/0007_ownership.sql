-- Owned resources: what a user owns on the host platform (playbooks, job apps, dashboards…),
-- recorded through the API so that deactivating or deleting the user hands them to someone
-- instead of orphaning them. (kind, external_id) names the thing on the host platform.
CREATE TABLE owned_resources (
	tenant_id text COLLATE "C" NOT NULL,
	id text COLLATE "C" NOT NULL,
	owner_id text COLLATE "C" NOT NULL,
	kind text COLLATE "C" NOT NULL,
	external_id text COLLATE "C" NOT NULL,
	name text COLLATE "C" NOT NULL,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX owned_resources_external ON owned_resources (tenant_id, kind, external_id);
CREATE INDEX owned_resources_owner ON owned_resources (tenant_id, owner_id);
