package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAlerts(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	t0 := clock.t
	expired := Alert{Severity: SeverityError, Source: "sync.ghl", Message: "GHL token expired", Hint: "Sign in again"}
	id1, err := s.RaiseAlert(ctx, expired)
	if err != nil {
		t.Fatal(err)
	}
	clock.t = t0.Add(time.Minute)
	id2, err := s.RaiseAlert(ctx, Alert{Severity: SeverityWarning, Source: "media", Message: "disk almost full"})
	if err != nil {
		t.Fatal(err)
	}
	// The same problem again refreshes the open alert instead of adding one.
	clock.t = t0.Add(2 * time.Minute)
	expired.Hint = "Settings > Accounts > Sign in"
	if again, err := s.RaiseAlert(ctx, expired); err != nil || again != id1 {
		t.Fatalf("repeat alert: id %d, %v; want %d", again, err, id1)
	}

	open, err := s.OpenAlerts(ctx)
	if err != nil || len(open) != 2 {
		t.Fatalf("OpenAlerts = %+v, %v", open, err)
	}
	want0 := Alert{ID: id1, At: t0.Add(2 * time.Minute), Severity: SeverityError, Source: "sync.ghl", Message: "GHL token expired", Hint: "Settings > Accounts > Sign in"}
	if open[0] != want0 || open[1].ID != id2 {
		t.Errorf("OpenAlerts = %+v\nwant first %+v", open, want0)
	}

	clock.t = t0.Add(3 * time.Minute)
	if err := s.AckAlert(ctx, id1); err != nil {
		t.Fatal(err)
	}
	clock.t = t0.Add(4 * time.Minute)
	if err := s.AckAlert(ctx, id1); err != nil { // again: no-op, keeps the first time
		t.Fatal(err)
	}
	if err := s.AckAlert(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("AckAlert(999) = %v, want ErrNotFound", err)
	}
	if open, _ := s.OpenAlerts(ctx); len(open) != 1 || open[0].ID != id2 {
		t.Errorf("after ack: %+v", open)
	}
	recent, err := s.RecentAlerts(ctx, 10)
	if err != nil || len(recent) != 2 || recent[0].ID != id1 || !recent[0].AckedAt.Equal(t0.Add(3*time.Minute)) || !recent[1].AckedAt.IsZero() {
		t.Errorf("RecentAlerts = %+v, %v", recent, err)
	}
	// Once acknowledged, the same problem raises a new alert.
	if id3, err := s.RaiseAlert(ctx, expired); err != nil || id3 == id1 {
		t.Errorf("raise after ack: %d %v", id3, err)
	}
}

func TestRaiseAlertValidation(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	for _, a := range []Alert{
		{Severity: "fatal", Source: "x", Message: "y"},
		{Severity: SeverityInfo, Source: "", Message: "y"},
		{Severity: SeverityInfo, Source: "x", Message: " "},
	} {
		if _, err := s.RaiseAlert(ctx, a); !errors.Is(err, ErrInvalid) {
			t.Errorf("RaiseAlert(%+v) = %v, want ErrInvalid", a, err)
		}
	}
	if _, err := s.RecentAlerts(ctx, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("RecentAlerts(0) = %v", err)
	}
}
