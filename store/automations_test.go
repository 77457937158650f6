package store

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"testing"
	"time"
)

func TestAutomationSwitchesDefaultOnAndRoundTrip(t *testing.T) {
	s, _ := newClockStore(t)
	ctx := context.Background()
	on, err := s.AutomationEnabled(ctx, "call.transcript")
	if err != nil || !on {
		t.Fatalf("a switch never set: %v, %v; want on", on, err)
	}
	if err := s.SetAutomationSwitches(ctx, map[string]bool{"call.transcript": false, "mirror": true}); err != nil {
		t.Fatal(err)
	}
	if on, err := s.AutomationEnabled(ctx, "call.transcript"); err != nil || on {
		t.Fatalf("after switching off: %v, %v; want off", on, err)
	}
	got, err := s.AutomationSwitches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{"call.transcript": false, "mirror": true}; !maps.Equal(got, want) {
		t.Errorf("switches %v, want %v", got, want)
	}
	if err := s.SetAutomationSwitches(ctx, map[string]bool{"call.transcript": true}); err != nil {
		t.Fatal(err)
	}
	if on, _ := s.AutomationEnabled(ctx, "call.transcript"); !on {
		t.Error("switching back on did not stick")
	}
	if err := s.SetAutomationSwitches(ctx, map[string]bool{" ": true}); !errors.Is(err, ErrInvalid) {
		t.Errorf("blank action: %v, want ErrInvalid", err)
	}
}

// TestAutomationSwitchReadsAreCached: the sync engine reads switches for
// every job; reads between changes come from memory, while a change made
// through the same Store is seen by the very next read.
func TestAutomationSwitchReadsAreCached(t *testing.T) {
	s, _ := newClockStore(t)
	ctx := context.Background()
	read := func(action string) bool {
		t.Helper()
		on, err := s.AutomationEnabled(ctx, action)
		if err != nil {
			t.Fatal(err)
		}
		return on
	}
	read("mirror")
	before := s.counts.runs.Load()
	for range 100 {
		if !read("mirror") || !read("mirror.non_call") {
			t.Fatal("a switch never set reads off")
		}
	}
	if n := s.counts.runs.Load() - before; n > 0 {
		t.Errorf("200 reads of unchanged switches ran %d statements, want none", n)
	}
	if err := s.SetAutomationSwitches(ctx, map[string]bool{"mirror": false}); err != nil {
		t.Fatal(err)
	}
	if read("mirror") {
		t.Error("switched off through this Store, the next read still says on")
	}
}

// TestAutomationSwitchChangedElsewhereIsSeenSoon: a change another
// process makes to the same database (the console and a headless sync)
// reaches this Store's reads within switchCacheTTL.
func TestAutomationSwitchChangedElsewhereIsSeenSoon(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), DatabaseFile)
	var stores [2]*Store
	for i := range stores {
		s, err := open(ctx, path, options{manualIndex: true, now: clock.now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	engine, console := stores[0], stores[1]
	if on, err := engine.AutomationEnabled(ctx, "mirror"); err != nil || !on {
		t.Fatalf("mirror: %v, %v; want on", on, err)
	}
	if err := console.SetAutomationSwitches(ctx, map[string]bool{"mirror": false}); err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(switchCacheTTL)
	if on, err := engine.AutomationEnabled(ctx, "mirror"); err != nil || on {
		t.Errorf("switched off elsewhere %s ago: %v, %v; want off", switchCacheTTL, on, err)
	}
}
