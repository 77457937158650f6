-- Job holders (store/holder.go): each open database that claims jobs
-- registers a random id here and holds a lock on a file named after it
-- beside the database while it is open; the jobs it claims carry the id.
-- A claim that finds a registered holder's file unlocked knows that
-- process died, and hands its jobs back at once instead of waiting out
-- their lease. Jobs claimed before this version, or by a Store that could
-- not lock a file, carry '' and wait out their lease, as before.
CREATE TABLE job_holders (
    id         TEXT    PRIMARY KEY,
    pid        INTEGER NOT NULL,
    started_at INTEGER NOT NULL
);
ALTER TABLE outbox ADD COLUMN holder TEXT NOT NULL DEFAULT '';
