package store

import (
	"context"
	"errors"
	"testing"
)

func TestAlertTargetRoundTrip(t *testing.T) {
	s, _ := newClockStore(t)
	ctx := context.Background()
	id, err := s.RaiseAlert(ctx, Alert{Severity: SeverityError, Source: "sync.ghl", Message: "push failed 5 times"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.AlertTarget(ctx, id); err != nil || got != (AlertTarget{}) {
		t.Fatalf("target before setting: %+v, %v", got, err)
	}
	want := AlertTarget{Screen: TargetHistory, Ref: "ad-msg-1004"}
	if err := s.SetAlertTarget(ctx, id, want); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AlertTarget(ctx, id); err != nil || got != want {
		t.Fatalf("target %+v, %v; want %+v", got, err, want)
	}
	if err := s.SetAlertTarget(ctx, id, AlertTarget{Screen: "Nowhere"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown screen: %v", err)
	}
	if err := s.SetAlertTarget(ctx, id+100, want); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown alert: %v", err)
	}
	if _, err := s.AlertTarget(ctx, id+100); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown alert: %v", err)
	}
}
