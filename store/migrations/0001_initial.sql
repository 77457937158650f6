-- Parley schema, version 1.
-- Times are unix milliseconds UTC: compact, sortable, and free of time zone text.

-- One row per external operation (upsert, push, fetch, ...). Append-only and
-- the largest table by far. It deliberately has no secondary index: every
-- index costs append throughput, and filtering/searching is served by the
-- search index that a later migration adds (see search.go).
CREATE TABLE history (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    operation   TEXT    NOT NULL,
    system      TEXT    NOT NULL,
    local_id    TEXT    NOT NULL,
    remote_id   TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    http_status INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    latency_us  INTEGER NOT NULL,
    error       TEXT    NOT NULL
);

-- Distinct operations ever recorded, so the history screen's operation
-- dropdown does not need a DISTINCT over a million rows.
CREATE TABLE history_operations (
    name TEXT PRIMARY KEY
) WITHOUT ROWID;

-- AD id <-> GHL id, unique in both directions per kind.
CREATE TABLE id_map (
    kind      TEXT    NOT NULL,
    ad_id     TEXT    NOT NULL,
    ghl_id    TEXT    NOT NULL,
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (kind, ad_id),
    UNIQUE (kind, ghl_id)
) WITHOUT ROWID;

-- Pending work. key deduplicates: the same work is never queued twice.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,
    key             TEXT    NOT NULL UNIQUE,
    payload         BLOB    NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- Partial indexes stay small: done and dead items pile up but are never claimed.
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_in_flight ON outbox (lease_until) WHERE state = 'in_flight';

-- Field mappings are versioned: every save is a new version, old ones stay readable.
CREATE TABLE mapping_versions (
    version  INTEGER PRIMARY KEY,
    saved_at INTEGER NOT NULL,
    note     TEXT    NOT NULL
);
CREATE TABLE mapping_fields (
    version   INTEGER NOT NULL REFERENCES mapping_versions (version) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    ad_field  TEXT    NOT NULL,
    ghl_field TEXT    NOT NULL,
    transform TEXT    NOT NULL,
    PRIMARY KEY (version, position)
) WITHOUT ROWID;

-- Sync position per stream (e.g. a GHL "updated since" token).
CREATE TABLE cursors (
    stream     TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Downloaded recordings and transcripts; path is relative to the data directory
-- so the directory can be moved.
CREATE TABLE media (
    id           INTEGER PRIMARY KEY,
    message_id   TEXT    NOT NULL,
    contact_id   TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    sha256       TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    content_type TEXT    NOT NULL,
    fetched_at   INTEGER NOT NULL,
    UNIQUE (message_id, kind)
);
CREATE INDEX media_contact ON media (contact_id, fetched_at);

-- Problems the user should see. acked_at NULL means still open.
CREATE TABLE alerts (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    severity TEXT    NOT NULL,
    source   TEXT    NOT NULL,
    message  TEXT    NOT NULL,
    hint     TEXT    NOT NULL,
    acked_at INTEGER
);
CREATE INDEX alerts_open ON alerts (at) WHERE acked_at IS NULL;
