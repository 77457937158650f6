-- Who saved each field mapping version: the computer's user for a save
-- from the console or a command, "Parley" for the default mapping. Older
-- versions keep an empty name, shown as not recorded.
ALTER TABLE mapping_versions ADD COLUMN saved_by TEXT NOT NULL DEFAULT '';
