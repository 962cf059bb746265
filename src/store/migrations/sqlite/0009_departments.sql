-- Departments: a tree per tenant (parent_id NULL for a root). Sibling names are unique per
-- parent, case-insensitively; roots are siblings of each other, hence coalesce(parent_id, '')
-- in the unique index (a NULL would never clash). Managers are data the host platform reads:
-- they grant nothing by themselves. A tenant role may be scoped to a department subtree
-- (roles.department_id). users.department_id replaces the free-text users.department: every
-- distinct non-empty value of a tenant becomes a root department and its users are linked.
CREATE TABLE departments (
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL,
	name TEXT NOT NULL,
	name_key TEXT NOT NULL,
	parent_id TEXT,
	description TEXT,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX departments_name ON departments (tenant_id, coalesce(parent_id, ''), name_key);
CREATE INDEX departments_parent ON departments (tenant_id, parent_id);

CREATE TABLE department_managers (
	tenant_id TEXT NOT NULL,
	department_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	added_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, department_id, user_id)
) WITHOUT ROWID;
CREATE INDEX department_managers_user ON department_managers (tenant_id, user_id);

ALTER TABLE roles ADD COLUMN department_id TEXT;
ALTER TABLE users ADD COLUMN department_id TEXT;
CREATE INDEX users_department ON users (tenant_id, department_id);

-- Ids are UUIDv7 like every other (time in the first 48 bits, version 7, variant 10).
INSERT INTO departments (tenant_id, id, name, name_key, parent_id, description, created_at,
			 updated_at)
SELECT tenant_id,
       printf('%08x-%04x-7%03x-%x%03x-%012x', ms >> 16, ms & 65535, random() & 4095,
	      8 + (random() & 3), random() & 4095, random() & 281474976710655),
       substr(name, 1, 200), lower(substr(name, 1, 200)), NULL, NULL, ms, ms
FROM (SELECT tenant_id, min(trim(department)) AS name,
	     CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS ms
      FROM users WHERE department IS NOT NULL AND trim(department) <> ''
      GROUP BY tenant_id, lower(substr(trim(department), 1, 200)));

UPDATE users SET department_id = (SELECT d.id FROM departments d WHERE
	d.tenant_id = users.tenant_id AND d.parent_id IS NULL AND
	d.name_key = lower(substr(trim(users.department), 1, 200)))
WHERE department IS NOT NULL AND trim(department) <> '';

ALTER TABLE users DROP COLUMN department;

-- The built-in administrator roles of existing tenants get the new permission, as new tenants'
-- do from core/templates.c (the tenant administrators: those holding tenant.settings).
UPDATE roles SET permissions = permissions || ' departments.manage'
WHERE builtin = 1 AND (' ' || permissions || ' ') LIKE '% tenant.settings %'
  AND (' ' || permissions || ' ') NOT LIKE '% departments.manage %';
