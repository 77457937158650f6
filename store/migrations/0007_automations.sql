-- The Automations screen's switches: one row per action the engine can
-- take (sync/engine's catalog names them). An action without a row is on,
-- so a new action in a later build starts on and no row is needed for it.
CREATE TABLE automation_switches (
    action     TEXT    PRIMARY KEY,
    enabled    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
