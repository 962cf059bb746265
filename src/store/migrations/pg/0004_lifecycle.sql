-- Lifecycle: why a user is suspended or deactivated, and until when a suspension runs.
ALTER TABLE users ADD COLUMN status_reason TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN suspended_until BIGINT;
