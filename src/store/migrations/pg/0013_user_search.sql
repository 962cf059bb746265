-- Substring search and positional paging over many users (docs/scim.md "Filters", "Paging").
--
-- pg_trgm GIN indexes on the four lower-cased key columns: PostgreSQL uses them for
-- "key LIKE '%x%'" itself, so "co" and "ew" on userName, emails.value and the names find their
-- candidates without reading every row (with 3 characters or more; shorter patterns have no
-- trigram and scan). pg_trgm is a trusted extension shipped with the server package.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_username_trgm ON users USING gin (username_key gin_trgm_ops);
CREATE INDEX users_email_trgm ON users USING gin (email_key gin_trgm_ops);
CREATE INDEX users_first_name_trgm ON users USING gin (first_name_key gin_trgm_ops);
CREATE INDEX users_last_name_trgm ON users USING gin (last_name_key gin_trgm_ops);

-- The e-mail and name indexes carry status and created_at: a filter on them (sw, eq) with the
-- default order (SCIM lists by creation) is counted and paged from the index (index-only where
-- the visibility map allows), and only the rows of the page are read (select_sql.c).
DROP INDEX users_email;
DROP INDEX users_first_name;
DROP INDEX users_last_name;
CREATE INDEX users_email ON users (tenant_id, email_key) INCLUDE (status, created_at);
CREATE INDEX users_first_name ON users (tenant_id, first_name_key) INCLUDE (status, created_at);
CREATE INDEX users_last_name ON users (tenant_id, last_name_key) INCLUDE (status, created_at);

-- users_created and users_updated carry status too, so that a page in creation (or update)
-- order is chosen from the index alone and stops after the page.
DROP INDEX users_created;
DROP INDEX users_updated;
CREATE INDEX users_created ON users (tenant_id, created_at, id) INCLUDE (status);
CREATE INDEX users_updated ON users (tenant_id, updated_at, id) INCLUDE (status);

-- users_gen: bumped by every change to a tenant's users that can change which users a
-- selection of users' own columns matches or their order (not last_activity_at, nor the login
-- counters). The core's paging caches (position, total) are keyed by it and read it in the
-- same transaction as the page, so a cached answer is exactly what the database would give.
-- Deferred to the commit, so the tenant row is locked at the end of the transaction, where
-- the audit append locks it anyway: no lock order that was not there before.
ALTER TABLE tenants ADD COLUMN users_gen BIGINT NOT NULL DEFAULT 0;
CREATE FUNCTION users_gen_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		UPDATE tenants SET users_gen = users_gen + 1 WHERE id = OLD.tenant_id;
		RETURN OLD;
	END IF;
	UPDATE tenants SET users_gen = users_gen + 1 WHERE id = NEW.tenant_id;
	IF TG_OP = 'UPDATE' AND OLD.tenant_id <> NEW.tenant_id THEN
		UPDATE tenants SET users_gen = users_gen + 1 WHERE id = OLD.tenant_id;
	END IF;
	RETURN NEW;
END
$$;
CREATE CONSTRAINT TRIGGER users_gen_iud AFTER INSERT OR DELETE ON users
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION users_gen_bump();
CREATE CONSTRAINT TRIGGER users_gen_u AFTER UPDATE OF tenant_id, id, username_key, email_key,
	first_name_key, last_name_key, type, status, system_role_id, department_id, external_id,
	created_at, updated_at ON users
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION users_gen_bump();
