-- Asynchronous deletion: DELETE marks the user 'deleting' and queues a task (a job of kind
-- delete_user) whose id the user row keeps, so a second DELETE answers with the same task.
-- The task leaves a tombstone: id, deleted_at, deleted_by and a keyed hash of the username;
-- every other personal field is cleared.
ALTER TABLE users ADD COLUMN deletion_task_id TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN deleted_by TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN username_hash TEXT COLLATE "C";
