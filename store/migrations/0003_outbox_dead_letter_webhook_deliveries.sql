-- A job is claimed at most max_attempts times; past that it is dead, with
-- its last error, until someone replays it. Existing jobs get the default
-- cap (DefaultOutboxMaxAttempts in outbox.go), so a job stuck in flight
-- before this migration is settled by the next claim.
ALTER TABLE outbox ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 8;
-- stalls counts the claims that ended with the lease running out: the
-- worker died or hung holding the job. It makes the dead letter's reason
-- exact ("worker stopped 8 times ...") when crashes, not errors, killed it.
ALTER TABLE outbox ADD COLUMN stalls INTEGER NOT NULL DEFAULT 0;

-- Ids of ActiveDEMAND webhook events already accepted, so a captured
-- request replayed later, even after a restart, is refused. Old ids are
-- forgotten once they are past the signature's tolerance window.
CREATE TABLE webhook_deliveries (
    id           TEXT    PRIMARY KEY,
    delivered_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_delivered_at ON webhook_deliveries (delivered_at);
