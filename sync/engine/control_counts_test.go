package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"parley/store"
)

// TestDashboardCountsAreReusedForTheirCost: the Sync screen's outbox
// counts read every job, so the dashboard reuses one for 1/countShare
// times what it cost, and counts again after that, or at once after a
// Replay changed the queue.
func TestDashboardCountsAreReusedForTheirCost(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ctl := NewControl(st)
	ctl.now = func() time.Time { return clock }
	queue := func(n int, prefix string) {
		t.Helper()
		jobs := make([]store.OutboxJob, n)
		for i := range jobs {
			jobs[i] = store.OutboxJob{Kind: JobMirrorMessage, Key: fmt.Sprint(prefix, i), Payload: []byte(`{}`)}
		}
		if _, err := st.EnqueueBatch(ctx, jobs); err != nil {
			t.Fatal(err)
		}
	}
	pending := func() int {
		t.Helper()
		d, err := ctl.Dashboard(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range d.Queue {
			if q.Kind == JobMirrorMessage {
				return q.Pending
			}
		}
		return 0
	}

	queue(3, "a")
	if n := pending(); n != 3 {
		t.Fatalf("first reading: %d pending, want 3", n)
	}
	queue(2, "b")
	if n := pending(); n != 3 {
		t.Fatalf("a reading at the same moment counted again: %d pending, want the 3 of the count it reuses", n)
	}
	ctl.queue.mu.Lock()
	cost := ctl.queue.cost
	ctl.queue.mu.Unlock()
	clock = clock.Add(time.Duration(float64(cost)/countShare) + time.Millisecond)
	if n := pending(); n != 5 {
		t.Fatalf("a reading once the count has paid for itself: %d pending, want 5", n)
	}

	// A Replay forgets the counts: the dead job shows as pending at once.
	queue(1, "c")
	items, err := st.ClaimDue(ctx, time.Now().Add(time.Hour), 100, time.Minute)
	if err != nil || len(items) != 6 {
		t.Fatalf("claim: %d items, %v", len(items), err)
	}
	for _, it := range items {
		if err := st.KillOutbox(ctx, it.ID, "gone"); err != nil {
			t.Fatal(err)
		}
	}
	if n := pending(); n != 5 {
		t.Fatalf("before the replay, at the same moment: %d pending, want the reused 5", n)
	}
	if err := ctl.Replay(ctx, items[0].ID); err != nil {
		t.Fatal(err)
	}
	if n := pending(); n != 1 {
		t.Fatalf("after a replay: %d pending, want the replayed 1", n)
	}
}
