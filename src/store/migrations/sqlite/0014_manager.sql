-- A user's manager (DESIGN: the enterprise extension's "manager" of SCIM, and the REST API's
-- manager_id): another live user of the same tenant. Deleting the manager unlinks its reports
-- (core/deletion.c); the index serves that and "who reports to X".
ALTER TABLE users ADD COLUMN manager_id TEXT;
CREATE INDEX users_manager ON users (tenant_id, manager_id) WHERE manager_id IS NOT NULL;
