-- Search index for the history screen (see search.go for why it looks like this).
--
-- Contentless: the text already lives in history, storing it twice would
-- only grow the file. contentless_delete lets a future retention job delete
-- rows without rebuilding the index.
--
-- Columns: the three free-text fields the search box looks at, plus "tags":
-- one exact token per filter value (operation, outcome, system), so filters
-- combine with text inside the index instead of being checked row by row.
-- The operation name itself is not indexed as text: its few distinct values
-- are matched in Go and turned into tag terms, which keeps very common words
-- like "message" or "push" out of the index.
--
-- unicode61 without diacritic folding, so search.go can reproduce the exact
-- tokenization in Go for rows that are not indexed yet. prefix='2 3' keeps
-- short prefixes ("ad", "msg") that match most rows from expanding into
-- thousands of terms while the user is still typing.
CREATE VIRTUAL TABLE history_fts USING fts5 (
    local_id, remote_id, error, tags,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '2 3'
);

-- History rows with id <= indexed_through are in history_fts; newer rows are
-- indexed in the background and searched by scanning until then.
CREATE TABLE history_fts_progress (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_through INTEGER NOT NULL
);
INSERT INTO history_fts_progress (id, indexed_through) VALUES (1, 0);
