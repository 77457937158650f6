package ghl

import (
	"context"
	"sync"
	"testing"
	"time"

	"parley/sync/ghl/ghltest"
)

// recorded is a list that concurrent callbacks append to and tests read.
type recorded[T any] struct {
	mu    sync.Mutex
	items []T
}

func (r *recorded[T]) add(v T) {
	r.mu.Lock()
	r.items = append(r.items, v)
	r.mu.Unlock()
}

func (r *recorded[T]) all() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.items...)
}

// sleeps records the waits a client asked for, without waiting, so that
// retry tests run fast and can assert the backoff.
type sleeps struct{ recorded[time.Duration] }

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.add(d)
	return ctx.Err()
}

// calls collects observer reports.
type calls struct{ recorded[CallInfo] }

func (o *calls) observe(ci CallInfo) { o.add(ci) }

func (o *calls) last(t testing.TB) CallInfo {
	t.Helper()
	all := o.all()
	if len(all) == 0 {
		t.Fatal("observer got no report")
	}
	return all[len(all)-1]
}

// sandbox starts a seeded sandbox on loopback.
func sandbox(t testing.TB, mut ...func(*ghltest.Options)) *ghltest.Server {
	t.Helper()
	opts := ghltest.Options{Seed: 1}
	for _, m := range mut {
		m(&opts)
	}
	return ghltest.NewTestServer(t, opts)
}

// client builds a client for srv with a private token of all scopes, no
// pacing and a recording sleeper; mut adjusts the config.
func client(t testing.TB, srv *ghltest.Server, mut ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		BaseURL:        srv.URL(),
		LocationID:     srv.LocationID(),
		PrivateToken:   Secret(srv.PrivateToken()),
		RateLimit:      RateLimit{Disabled: true},
		Retry:          RetryPolicy{Sleep: (&sleeps{}).sleep},
		AttemptTimeout: 5 * time.Second,
	}
	for _, m := range mut {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Runs before the sandbox's Close (cleanups run last first): a
	// connection dialled but never used would hold its shutdown.
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
