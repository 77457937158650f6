-- Who saved each field mapping version: the computer's user for a save
-- from the console or a command. A table of its own rather than a column,
-- so that the schema check at open (which compares tables with the
-- recorded version) sees this version too. Versions saved before it have
-- no row and show as not recorded.
CREATE TABLE mapping_version_savers (
    version  INTEGER PRIMARY KEY REFERENCES mapping_versions (version),
    saved_by TEXT    NOT NULL
);
