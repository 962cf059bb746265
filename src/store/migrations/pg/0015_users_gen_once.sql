-- users_gen moves once per transaction and tenant. The deferred row trigger of 0013 ran an
-- UPDATE of the tenant row for every user a transaction wrote; each UPDATE of one row in one
-- transaction makes a new version of it and finds the newest by walking all the earlier ones,
-- so a transaction writing n users cost O(n^2) (an import batch; a load of 1,000,000 users did
-- not finish in 12 minutes). The paging caches need the generation to differ after a commit
-- that changed users, not to count the rows: a transaction-local setting remembers that this
-- transaction has moved this tenant's generation. Settings made with set_config(..., true)
-- are undone with the transaction (or the savepoint) that made them, like the UPDATE itself.
CREATE FUNCTION users_gen_bump_once(tid text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	k text := 'roster.users_gen_' || md5(tid);
	x text := txid_current()::text;
BEGIN
	IF current_setting(k, true) IS DISTINCT FROM x THEN
		UPDATE tenants SET users_gen = users_gen + 1 WHERE id = tid;
		PERFORM set_config(k, x, true);
	END IF;
END
$$;
CREATE OR REPLACE FUNCTION users_gen_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		PERFORM users_gen_bump_once(OLD.tenant_id);
		RETURN OLD;
	END IF;
	PERFORM users_gen_bump_once(NEW.tenant_id);
	IF TG_OP = 'UPDATE' AND OLD.tenant_id <> NEW.tenant_id THEN
		PERFORM users_gen_bump_once(OLD.tenant_id);
	END IF;
	RETURN NEW;
END
$$;
