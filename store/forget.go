package store

import (
	"context"
	"database/sql"
	"fmt"
)

// ForgetSyncState empties what ties this database to the accounts it
// synced with: the outbox, the id map and the cursors. History, alerts,
// mappings and the media index stay. The demo uses it at the start of each
// session, because its sandboxes live in memory: links to a HighLevel
// sandbox that no longer exists would make every later job fail as "gone",
// and done outbox keys would stop the new session's messages from being
// mirrored at all.
func (s *Store) ForgetSyncState(ctx context.Context) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"outbox", "id_map", "cursors"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table); err != nil { // #nosec G202 -- table is one of the three fixed names in the loop above
				return fmt.Errorf("forget the sync state: empty %s: %w", table, err)
			}
		}
		return nil
	})
}
