package store

import (
	"context"
	"errors"
	"maps"
	"testing"
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
