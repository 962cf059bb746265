-- A group's external id: the identity provider's own key for it (SCIM externalId, RFC 7643
-- section 3.1), set by the client, compared case-exactly, not unique (several providers may
-- keep the same number). Indexed for SCIM's `externalId eq` lookups.
ALTER TABLE groups ADD COLUMN external_id TEXT;
CREATE INDEX groups_external_id ON groups (tenant_id, external_id);
-- Time filters and sorts of SCIM's /Groups (meta.created, meta.lastModified).
CREATE INDEX groups_created ON groups (tenant_id, created_at);
CREATE INDEX groups_updated ON groups (tenant_id, updated_at);
