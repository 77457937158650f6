package engine

import (
	"context"
	"fmt"
	"time"

	"parley/store"
)

// StartDemoSession readies the demo database st for a new demo session and
// returns the time to place the demo business at. The demo sandboxes live
// in memory and are seeded afresh at every start, so the sync state of the
// last session (id links to a HighLevel sandbox that is gone, done outbox
// keys that would hide this session's messages, the poller's cursor) is
// forgotten; History keeps what earlier sessions did.
func StartDemoSession(ctx context.Context, st *store.Store, now time.Time) (time.Time, error) {
	if err := st.ForgetSyncState(ctx); err != nil {
		return time.Time{}, fmt.Errorf("start a demo session: %w", err)
	}
	return now.UTC(), nil
}
