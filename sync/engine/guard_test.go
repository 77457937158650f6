package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"parley/sync/engine"
)

// TestMaxChangesGuardHoldsABigBacklogUntilConfirmed: an engine allowed 3
// changes that finds 5 queued sends nothing, pauses with the count in its
// reason and raises an alert; Confirm lets the 5 go. A backlog within the
// limit is not held.
func TestMaxChangesGuardHoldsABigBacklogUntilConfirmed(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, rigOptions{})
	ann := contactJob("ad-c1", "Ann", "Lee", "ann@example.com", "")
	var jobs []any
	for i := range 5 {
		jobs = append(jobs, messageJob("ad-m"+string(rune('1'+i)), ann, "sms", "inbound", "hi", t0.Add(time.Duration(i)*time.Second)))
	}
	r.queue(jobs...)
	e := r.engine(func(c *engine.Config) { c.MaxChanges = 3 })
	paused := func() bool {
		s, err := e.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s.State == engine.StatePaused
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for !paused() {
		if time.Now().After(deadline) {
			t.Fatal("the engine did not stop for 5 changes with a limit of 3")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // a send that slipped through would show by now
	if n := len(r.gs.CallCounts()); n != 0 {
		t.Errorf("the guard let %d routes be called: %v", n, r.gs.CallCounts())
	}
	stop, held := e.GuardStop()
	if !held || stop.Pending != 5 || stop.Limit != 3 {
		t.Errorf("GuardStop = %+v, %v; want 5 pending over a limit of 3", stop, held)
	}
	if !errors.Is(stop, engine.ErrTooManyChanges) {
		t.Errorf("GuardStop's error does not match ErrTooManyChanges: %v", stop)
	}
	s, _ := e.Snapshot(ctx)
	if !strings.Contains(s.Reason, "5") || !strings.Contains(s.Reason, "3") {
		t.Errorf("pause reason %q does not give the count and the limit", s.Reason)
	}
	alerts, err := r.st.RecentAlerts(ctx, 10)
	if err != nil || len(alerts) != 1 || !strings.Contains(alerts[0].Hint, "Confirm") {
		t.Errorf("alerts = %+v, %v; want one saying how to confirm", alerts, err)
	}

	e.Confirm()
	deadline = time.Now().Add(20 * time.Second)
	for !r.settled() {
		if time.Now().After(deadline) {
			t.Fatalf("confirmed jobs did not run: %v", r.items())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := r.gs.Traffic().Records; got != 5 {
		t.Errorf("%d records after confirming, want 5", got)
	}
	if _, held := e.GuardStop(); held {
		t.Error("the guard still holds after Confirm")
	}

	// Within the limit: nothing is held.
	r.queue(messageJob("ad-m9", ann, "sms", "inbound", "again", t0.Add(time.Hour)))
	deadline = time.Now().Add(10 * time.Second)
	for !r.settled() {
		if time.Now().After(deadline) || paused() {
			t.Fatal("one change with a limit of 3 was held")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
