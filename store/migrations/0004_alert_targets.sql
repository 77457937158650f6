-- Where the console jumps to show an alert's cause: a screen and, for
-- History, the text that finds the row (a local or remote id). A table of
-- its own, not columns on alerts, so an alert without one needs no row and
-- the schema check sees this version by its table.
CREATE TABLE alert_targets (
    alert_id INTEGER PRIMARY KEY REFERENCES alerts (id) ON DELETE CASCADE,
    screen   TEXT    NOT NULL,
    ref      TEXT    NOT NULL
);
