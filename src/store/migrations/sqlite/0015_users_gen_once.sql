-- PostgreSQL's 0015 makes users_gen move once per transaction instead of once per row written,
-- because there every UPDATE of the tenant row in one transaction walks that row's versions.
-- SQLite updates the row in place, so its per-row triggers of 0013 stay; this file keeps the
-- two engines' schema versions in step.
SELECT 1;
