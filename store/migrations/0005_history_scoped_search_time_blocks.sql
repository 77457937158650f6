-- Two additions to the history search (see search.go for the why).
--
-- history_scoped_fts: the same words as history_fts, each prefixed with a
-- two-character code of the row's operation and outcome ("d1contact" is
-- "contact" in a message.push row that went ok). A search filtered by
-- operation then reads only the postings of that operation: a word that
-- fills most rows of *other* operations costs nothing, where history_fts
-- had to walk all of it only to find it excluded. prefix='4 5' covers
-- code + 2 and code + 3 characters, the short prefixes history_fts covers
-- with '2 3'.
CREATE VIRTUAL TABLE history_scoped_fts USING fts5 (
    scoped,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '4 5'
);

-- The time span of each block of 1024 history ids (block = id >> 10), so a
-- time range becomes an id range without an index on history.at (which
-- would cost every append). Times are not assumed to grow with ids: a block
-- records its earliest and latest time, and rows are still checked one by
-- one inside the id range.
CREATE TABLE history_time_blocks (
    block  INTEGER PRIMARY KEY,
    min_at INTEGER NOT NULL,
    max_at INTEGER NOT NULL
);

-- Both are filled by the background indexer, so it starts over: rows above
-- the watermark are still found by scanning while it catches up.
INSERT INTO history_fts (history_fts) VALUES ('delete-all');
UPDATE history_fts_progress SET indexed_through = 0;
