-- Substring search and positional paging over many users (docs/scim.md "Filters", "Paging").
--
-- users_trgm: an FTS5 trigram index over the four lower-cased key columns, so that "co" and
-- "ew" on userName, emails.value and the names find their candidates without reading every
-- row of the tenant. It is contentless (the text stays in users only) and users has no rowid,
-- so users_trgm_ids gives each user the integer key FTS5 needs. case_sensitive 1: the columns
-- and the operands are lower-cased already (ASCII, str_lower), and matching bytes as they are
-- keeps the index a superset of what LIKE on the key column finds, which the query still
-- checks (select_sql.c).
--
-- Triggers cannot write a virtual table while trusted_schema is OFF (sqlite_conn.c), so they
-- queue the change in users_trgm_pending (a contentless FTS5 table deletes by replaying the
-- old values, which the triggers have) and the writer applies the queue to users_trgm in the
-- same transaction, before COMMIT (sqlite_writer.c, sqlite_trgm_flush): readers never see the
-- two apart.
CREATE TABLE users_trgm_ids (
	rid INTEGER PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	id TEXT NOT NULL
);
CREATE UNIQUE INDEX users_trgm_ids_user ON users_trgm_ids (tenant_id, id);
CREATE VIRTUAL TABLE users_trgm USING fts5(username_key, email_key, first_name_key,
	last_name_key, content='', tokenize='trigram case_sensitive 1');
CREATE TABLE users_trgm_pending (
	seq INTEGER PRIMARY KEY,
	op TEXT, -- 'delete' or NULL (insert): the value of users_trgm's command column
	rid INTEGER NOT NULL,
	username_key TEXT,
	email_key TEXT,
	first_name_key TEXT,
	last_name_key TEXT
);

CREATE TRIGGER users_trgm_ai AFTER INSERT ON users BEGIN
	INSERT INTO users_trgm_ids (tenant_id, id) VALUES (new.tenant_id, new.id);
	INSERT INTO users_trgm_pending (op, rid, username_key, email_key, first_name_key,
		last_name_key)
	VALUES (NULL, last_insert_rowid(), new.username_key, new.email_key, new.first_name_key,
		new.last_name_key);
END;
CREATE TRIGGER users_trgm_ad AFTER DELETE ON users BEGIN
	INSERT INTO users_trgm_pending (op, rid, username_key, email_key, first_name_key,
		last_name_key)
	SELECT 'delete', rid, old.username_key, old.email_key, old.first_name_key,
		old.last_name_key
	FROM users_trgm_ids WHERE tenant_id = old.tenant_id AND id = old.id;
	DELETE FROM users_trgm_ids WHERE tenant_id = old.tenant_id AND id = old.id;
END;
CREATE TRIGGER users_trgm_au AFTER UPDATE OF username_key, email_key, first_name_key,
	last_name_key ON users BEGIN
	INSERT INTO users_trgm_pending (op, rid, username_key, email_key, first_name_key,
		last_name_key)
	SELECT 'delete', rid, old.username_key, old.email_key, old.first_name_key,
		old.last_name_key
	FROM users_trgm_ids WHERE tenant_id = old.tenant_id AND id = old.id;
	INSERT INTO users_trgm_pending (op, rid, username_key, email_key, first_name_key,
		last_name_key)
	SELECT NULL, rid, new.username_key, new.email_key, new.first_name_key,
		new.last_name_key
	FROM users_trgm_ids WHERE tenant_id = new.tenant_id AND id = new.id;
END;

INSERT INTO users_trgm_ids (tenant_id, id) SELECT tenant_id, id FROM users;
INSERT INTO users_trgm (rowid, username_key, email_key, first_name_key, last_name_key)
SELECT m.rid, u.username_key, u.email_key, u.first_name_key, u.last_name_key
FROM users_trgm_ids m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.id;

-- The e-mail and name indexes carry status and created_at: a filter on them (sw, eq) with the
-- default order (SCIM lists by creation) is counted and paged from the index alone, and only
-- the rows of the page are read (select_sql.c reads rows after choosing the page's keys).
DROP INDEX users_email;
DROP INDEX users_first_name;
DROP INDEX users_last_name;
CREATE INDEX users_email ON users (tenant_id, email_key, status, created_at);
CREATE INDEX users_first_name ON users (tenant_id, first_name_key, status, created_at);
CREATE INDEX users_last_name ON users (tenant_id, last_name_key, status, created_at);

-- users_created and users_updated carry status too, so that a page in creation (or update)
-- order is chosen from the index alone and stops after the page; without it the planner would
-- rather scan one of the covering indexes above whole and sort.
DROP INDEX users_created;
DROP INDEX users_updated;
CREATE INDEX users_created ON users (tenant_id, created_at, id, status);
CREATE INDEX users_updated ON users (tenant_id, updated_at, id, status);

-- users_gen: bumped by every change to a tenant's users that can change which users a
-- selection of users' own columns matches or their order (not last_activity_at, nor the login
-- counters). The core's paging caches (position, total) are keyed by it and read it in the
-- same transaction as the page, so a cached answer is exactly what the database would give.
ALTER TABLE tenants ADD COLUMN users_gen INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER users_gen_ai AFTER INSERT ON users BEGIN
	UPDATE tenants SET users_gen = users_gen + 1 WHERE id = new.tenant_id;
END;
CREATE TRIGGER users_gen_ad AFTER DELETE ON users BEGIN
	UPDATE tenants SET users_gen = users_gen + 1 WHERE id = old.tenant_id;
END;
CREATE TRIGGER users_gen_au AFTER UPDATE OF tenant_id, id, username_key, email_key,
	first_name_key, last_name_key, type, status, system_role_id, department_id, external_id,
	created_at, updated_at ON users BEGIN
	UPDATE tenants SET users_gen = users_gen + 1 WHERE id IN (old.tenant_id, new.tenant_id);
END;
