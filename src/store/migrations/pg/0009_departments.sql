-- Departments: a tree per tenant (parent_id NULL for a root). Sibling names are unique per
-- parent, case-insensitively; roots are siblings of each other, hence coalesce(parent_id, '')
-- in the unique index (a NULL would never clash). Managers are data the host platform reads:
-- they grant nothing by themselves. A tenant role may be scoped to a department subtree
-- (roles.department_id). users.department_id replaces the free-text users.department: every
-- distinct non-empty value of a tenant becomes a root department and its users are linked.
CREATE TABLE departments (
	tenant_id text COLLATE "C" NOT NULL,
	id text COLLATE "C" NOT NULL,
	name text COLLATE "C" NOT NULL,
	name_key text COLLATE "C" NOT NULL,
	parent_id text COLLATE "C",
	description text COLLATE "C",
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	version bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX departments_name ON departments (tenant_id, coalesce(parent_id, ''), name_key);
CREATE INDEX departments_parent ON departments (tenant_id, parent_id);

CREATE TABLE department_managers (
	tenant_id text COLLATE "C" NOT NULL,
	department_id text COLLATE "C" NOT NULL,
	user_id text COLLATE "C" NOT NULL,
	added_at bigint NOT NULL,
	PRIMARY KEY (tenant_id, department_id, user_id)
);
CREATE INDEX department_managers_user ON department_managers (tenant_id, user_id);

ALTER TABLE roles ADD COLUMN department_id text COLLATE "C";
ALTER TABLE users ADD COLUMN department_id text COLLATE "C";
CREATE INDEX users_department ON users (tenant_id, department_id);

-- Ids are UUIDv7 like every other (time in the first 48 bits, version 7, variant 10).
-- lower() of SQLite and of roster (util/str.c) fold ASCII only: so does this translate().
INSERT INTO departments (tenant_id, id, name, name_key, parent_id, description, created_at,
			 updated_at)
SELECT tenant_id,
       lpad(to_hex(ms >> 16), 8, '0') || '-' || lpad(to_hex(ms & 65535), 4, '0') || '-7' ||
	   lpad(to_hex(floor(random() * 4096)::int), 3, '0') || '-' ||
	   to_hex(8 + floor(random() * 4)::int) ||
	   lpad(to_hex(floor(random() * 4096)::int), 3, '0') || '-' ||
	   lpad(to_hex(floor(random() * 281474976710656)::bigint), 12, '0'),
       name, translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),
       NULL, NULL, ms, ms
FROM (SELECT tenant_id, min(substr(btrim(department), 1, 200)) AS name,
	     (extract(epoch FROM now()) * 1000)::bigint AS ms
      FROM users WHERE department IS NOT NULL AND btrim(department) <> ''
      GROUP BY tenant_id, translate(substr(btrim(department), 1, 200),
				    'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')) v;

UPDATE users SET department_id = (SELECT d.id FROM departments d WHERE
	d.tenant_id = users.tenant_id AND d.parent_id IS NULL AND
	d.name_key = translate(substr(btrim(users.department), 1, 200),
			       'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'))
WHERE department IS NOT NULL AND btrim(department) <> '';

ALTER TABLE users DROP COLUMN department;

-- The built-in administrator roles of existing tenants get the new permission, as new tenants'
-- do from core/templates.c (the tenant administrators: those holding tenant.settings).
UPDATE roles SET permissions = permissions || ' departments.manage'
WHERE builtin = 1 AND (' ' || permissions || ' ') LIKE '% tenant.settings %'
  AND (' ' || permissions || ' ') NOT LIKE '% departments.manage %';
