-- Two lookups that scanned (see timeline.go and the transcript search).
--
-- history_ids: every history row under each of its two ids, so a
-- contact's rows are found by the ids of its records on either side.
-- Without it HistoryFor read the history from the newest row back, and a
-- contact whose activity is old cost a scan of most of the table. It is
-- not an index on history itself: two B-tree indexes there made appends
-- 5-8 times slower (GHL ids are random, so every row touches two random
-- pages; BENCHMARKS.md). Like the search index it is filled by the
-- background indexer up to history_fts_progress.indexed_through, and rows
-- above that are found by id range.
CREATE TABLE history_ids (
    ref        TEXT    NOT NULL,
    history_id INTEGER NOT NULL,
    PRIMARY KEY (ref, history_id)
) WITHOUT ROWID;

-- The rows indexed already.
INSERT OR IGNORE INTO history_ids (ref, history_id)
    SELECT local_id, id FROM history
    WHERE local_id <> '' AND id <= (SELECT indexed_through FROM history_fts_progress)
    UNION ALL
    SELECT remote_id, id FROM history
    WHERE remote_id <> '' AND id <= (SELECT indexed_through FROM history_fts_progress)
    ORDER BY 1, 2;

-- When the call took place, for the transcript search's hits and its time
-- filter; fetched_at only says when Parley downloaded the file, hours or
-- (after a backfill) months later. 0 for files indexed before this column:
-- the search falls back to fetched_at for those.
ALTER TABLE media ADD COLUMN call_at INTEGER NOT NULL DEFAULT 0;
