package engine

import (
	"context"
	"fmt"
	"time"

	"parley/store"
)

// demoTimeCursor is the store cursor stream holding when the demo business
// was placed in time for this demo database.
const demoTimeCursor = "demo.business-time"

// DemoTime is the time the demo sandboxes place the demo business at for
// the demo database st: now on the first demo run, the same time on every
// run after. The sandboxes are seeded afresh at each start; seeded at a
// new time, the same demo contacts and conversations would read as
// changed, and the sync would mirror them again into a HighLevel sandbox
// that no longer holds what the database's id map links to.
func DemoTime(ctx context.Context, st *store.Store, now time.Time) (time.Time, error) {
	v, ok, err := st.Cursor(ctx, demoTimeCursor)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the demo's time: %w", err)
	}
	if ok {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t, nil
		}
	}
	now = now.UTC()
	if err := st.SaveCursor(ctx, demoTimeCursor, now.Format(time.RFC3339Nano)); err != nil {
		return time.Time{}, fmt.Errorf("save the demo's time: %w", err)
	}
	return now, nil
}
