-- Where the console jumps to show an alert's cause: the screen (empty: work
-- it out from the source) and, for History, the text that finds the row
-- (a local or remote id).
ALTER TABLE alerts ADD COLUMN target TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN target_ref TEXT NOT NULL DEFAULT '';
