-- Routing rules on call transcripts: one row per rule, its conditions and
-- actions as JSON (sync/routing reads and validates them), so a new kind
-- of condition needs no schema change. position orders the rules as the
-- console lists them and the engine applies them.
CREATE TABLE routing_rules (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    enabled    INTEGER NOT NULL DEFAULT 1,
    position   INTEGER NOT NULL,
    body       TEXT    NOT NULL CHECK (json_valid(body)),
    updated_at INTEGER NOT NULL
);
CREATE INDEX routing_rules_position ON routing_rules (position, id);

-- Why each rule matched each call, for the contact's timeline ("matched
-- 'refund' at 0:42"). One row per call and rule: routing the same call
-- again replaces it.
CREATE TABLE routing_decisions (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    message_id TEXT    NOT NULL,
    contact_id TEXT    NOT NULL,
    rule_id    INTEGER NOT NULL,
    rule_name  TEXT    NOT NULL,
    sentence   INTEGER NOT NULL,
    offset_ms  INTEGER NOT NULL,
    matched    TEXT    NOT NULL,
    why        TEXT    NOT NULL,
    UNIQUE (message_id, rule_id)
);
CREATE INDEX routing_decisions_contact ON routing_decisions (contact_id, at);

-- Alerts raised at most once per key (a rule's alert for one call): the
-- key and the alert are written in one transaction, so a retried job never
-- raises the alert twice, even after the first was acknowledged.
CREATE TABLE alert_keys (
    key      TEXT    PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE
);
