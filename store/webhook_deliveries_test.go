package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// deliveryLog is the webhook receiver's view of the store, with the exact
// signatures sync/activedemand declares; the store does not import it.
type deliveryLog interface {
	RememberDelivery(ctx context.Context, id string, at time.Time) (fresh bool, err error)
	ForgetDeliveries(ctx context.Context, before time.Time) error
}

var _ deliveryLog = (*Store)(nil)

func TestRememberDelivery(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	t0 := clock.t
	tests := []struct {
		name      string
		id        string
		at        time.Time
		wantFresh bool
		wantErr   error
	}{
		{"first delivery", "evt-1", t0, true, nil},
		{"replay of it", "evt-1", t0.Add(time.Second), false, nil},
		{"replay with an earlier time", "evt-1", t0.Add(-time.Hour), false, nil},
		{"another event", "evt-2", t0, true, nil},
		{"ids are exact, not folded", "EVT-1", t0, true, nil},
		{"empty id", "", t0, false, ErrInvalid},
		{"blank id", "  ", t0, false, ErrInvalid},
		{"no time", "evt-3", time.Time{}, false, ErrInvalid},
	}
	for _, tt := range tests {
		fresh, err := s.RememberDelivery(ctx, tt.id, tt.at)
		if fresh != tt.wantFresh || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: RememberDelivery(%q) = %v, %v; want %v, %v", tt.name, tt.id, fresh, err, tt.wantFresh, tt.wantErr)
		}
	}
	// A replay records nothing: the first time is kept.
	var at int64
	if err := s.r.QueryRow(`SELECT delivered_at FROM webhook_deliveries WHERE id = 'evt-1'`).Scan(&at); err != nil || at != toMillis(t0) {
		t.Errorf("evt-1 recorded at %v, %v; want the first delivery's time %v", fromMillis(at), err, t0)
	}
	if fresh, err := s.RememberDelivery(ctx, "evt-3", t0); !fresh || err != nil {
		t.Errorf("a refused call recorded its id: %v, %v", fresh, err)
	}
}

func TestForgetDeliveries(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	t0 := clock.t
	for i, id := range []string{"old", "edge", "new"} {
		if fresh, err := s.RememberDelivery(ctx, id, t0.Add(time.Duration(i)*5*time.Minute)); !fresh || err != nil {
			t.Fatalf("remember %s: %v, %v", id, fresh, err)
		}
	}
	if err := s.ForgetDeliveries(ctx, t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Forgotten ids are fresh again; the one at the cutoff and later are not.
	for id, wantFresh := range map[string]bool{"old": true, "edge": false, "new": false} {
		if fresh, err := s.RememberDelivery(ctx, id, t0.Add(time.Hour)); fresh != wantFresh || err != nil {
			t.Errorf("after forgetting before %v: RememberDelivery(%s) = %v, %v; want %v", t0.Add(5*time.Minute), id, fresh, err, wantFresh)
		}
	}
	if err := s.ForgetDeliveries(ctx, t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.r.QueryRow(`SELECT count(*) FROM webhook_deliveries`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d ids left after forgetting everything, %v", n, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.RememberDelivery(cancelled, "late", t0); !errors.Is(err, context.Canceled) {
		t.Errorf("RememberDelivery with a cancelled context = %v", err)
	}
	if err := s.ForgetDeliveries(cancelled, t0); !errors.Is(err, context.Canceled) {
		t.Errorf("ForgetDeliveries with a cancelled context = %v", err)
	}
}

// TestRememberDeliveryConcurrently races two receivers, as two processes
// with their own connections, on the same ids: each id is fresh exactly once.
func TestRememberDeliveryConcurrently(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), DatabaseFile)
	var stores [2]*Store
	for i := range stores {
		s, err := open(ctx, path, options{manualIndex: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	const ids = 200
	var fresh [ids]int
	var mu sync.Mutex
	var wg sync.WaitGroup
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, s := range stores {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range ids {
					ok, err := s.RememberDelivery(ctx, fmt.Sprint("evt-", i), at)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						mu.Lock()
						fresh[i]++
						mu.Unlock()
					}
				}
			}()
		}
	}
	wg.Wait()
	for i, n := range fresh {
		if n != 1 {
			t.Errorf("evt-%d was fresh %d times, want once", i, n)
		}
	}
}

// TestDeliveriesSurviveRestart checks that a request captured before a
// restart is still a replay after it.
func TestDeliveriesSurviveRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), DatabaseFile)
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s, err := open(ctx, path, options{manualIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	if fresh, err := s.RememberDelivery(ctx, "evt-1", at); !fresh || err != nil {
		t.Fatalf("first delivery: %v, %v", fresh, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = open(ctx, path, options{manualIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fresh, err := s.RememberDelivery(ctx, "evt-1", at.Add(time.Second)); fresh || err != nil {
		t.Errorf("replay after a restart: fresh %v, %v; want a replay", fresh, err)
	}
}

// TestDeliveriesTableArrivesWithMigration3 keeps the start-up check, which
// wants every table of a database's version, in step with migration 0003.
func TestDeliveriesTableArrivesWithMigration3(t *testing.T) {
	v2, err := expectedTables(2)
	if err != nil {
		t.Fatal(err)
	}
	v3, err := expectedTables(3)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(v2, "webhook_deliveries") || !slices.Contains(v3, "webhook_deliveries") {
		t.Errorf("webhook_deliveries should arrive with migration 3: v2 %v, v3 %v", v2, v3)
	}
}
