package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"parley/store"
	"parley/sync/engine"
	"parley/sync/ghl/ghltest"
	"parley/sync/internal/sandboxkit"
)

const recordRoute = "POST /conversations/messages/inbound"

// TestRecordAppliedButAnswerLost: HighLevel records the message and the
// connection drops before the answer. The client looks for the altId
// instead of posting again; the engine links what it found. One record.
func TestRecordAppliedButAnswerLost(t *testing.T) {
	r := newRig(t, rigOptions{ghl: ghltest.Options{Faults: []sandboxkit.Fault{{Route: recordRoute, Kind: sandboxkit.FaultDropAfter}}}})
	c := contactJob("ad-c1", "Di", "", "di@example.com", "")
	r.queue(c, messageJob("ad-m1", c, "sms", "inbound", "hello", t0))
	r.run(r.engine(), nil)
	if n := r.byAltID()["ad-m1"]; n != 1 {
		t.Fatalf("message recorded %d times, want 1", n)
	}
	if n := r.gs.Calls(recordRoute); n != 1 {
		t.Errorf("%d record requests, want 1 (the second must be a lookup)", n)
	}
	msgs := r.gs.Messages(r.ghlID(store.KindConversation, "contact/ad-c1"))
	if len(msgs) != 1 || r.ghlID(store.KindMessage, "ad-m1") != msgs[0].ID {
		t.Errorf("id map does not link the recorded message: %+v", msgs)
	}
	if it := r.item("ad:message:ad-m1"); it.State != store.OutboxDone || it.Attempts != 1 {
		t.Errorf("job = %s after %d attempts, want done after 1", it.State, it.Attempts)
	}
}

// TestWorkerKilledAfterRecordBeforeCommit kills the engine between
// HighLevel's answer to the record and the store's commit: the job stays
// claimed, is taken again after its lease, finds its altId in the
// conversation and completes without recording again.
func TestWorkerKilledAfterRecordBeforeCommit(t *testing.T) {
	var (
		mu   sync.Mutex
		kill context.CancelFunc
		once sync.Once
	)
	r := newRig(t, rigOptions{transport: func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			res, err := next.RoundTrip(req)
			if err == nil && req.Method == http.MethodPost && req.URL.Path == "/conversations/messages/inbound" {
				once.Do(func() {
					mu.Lock()
					kill()
					mu.Unlock()
					// The job's own context ends with the engine's (no
					// drain): the answer never reaches the worker.
					<-req.Context().Done()
				})
			}
			return res, err
		})
	}})
	c := contactJob("ad-c1", "Ed", "", "ed@example.com", "")
	r.queue(c, messageJob("ad-m1", c, "sms", "inbound", "hello", t0))

	ctx, cancel := context.WithCancel(context.Background())
	mu.Lock()
	kill = cancel
	mu.Unlock()
	e := r.engine(func(c *engine.Config) { c.Drain = -1 })
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if n := r.byAltID()["ad-m1"]; n != 1 {
		t.Fatalf("before the restart the message is recorded %d times, want 1", n)
	}
	if it := r.item("ad:message:ad-m1"); it.State != store.OutboxInFlight {
		t.Fatalf("killed job is %s, want still in flight", it.State)
	}
	if _, ok, _ := r.st.GHLIDFor(context.Background(), store.KindMessage, "ad-m1"); ok {
		t.Fatal("the killed job linked the message")
	}

	// A new process, after the lease and the stall backoff.
	r.clock.advance(3 * time.Minute)
	r.run(r.engine(), nil)
	if n := r.byAltID()["ad-m1"]; n != 1 {
		t.Errorf("after the restart the message is recorded %d times, want 1", n)
	}
	if n := r.gs.Calls(recordRoute); n != 1 {
		t.Errorf("%d record requests, want 1", n)
	}
	it := r.item("ad:message:ad-m1")
	if it.State != store.OutboxDone || it.Attempts != 2 {
		t.Errorf("job = %s after %d attempts, want done after 2", it.State, it.Attempts)
	}
	msgs := r.gs.Messages(r.ghlID(store.KindConversation, "contact/ad-c1"))
	if len(msgs) != 1 || r.ghlID(store.KindMessage, "ad-m1") != msgs[0].ID {
		t.Errorf("id map does not link the recorded message: %+v", msgs)
	}
	var rows []store.HistoryEntry
	for _, h := range r.history() {
		if h.LocalID == "ad-m1" {
			rows = append(rows, h)
		}
	}
	if len(rows) != 1 || rows[0].Outcome != store.OutcomeSkipped || rows[0].RemoteID != msgs[0].ID {
		t.Errorf("history of the message = %+v, want one row: found by altId", rows)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestSlowJobKeepsItsLease: a record that takes longer than the lease does
// not lose its job to the next claim; the worker extends the lease while
// it waits.
func TestSlowJobKeepsItsLease(t *testing.T) {
	// The record takes four leases; the lease is long enough that a busy
	// machine's scheduling delays do not make an extension late.
	r := newRig(t, rigOptions{ghl: ghltest.Options{Faults: []sandboxkit.Fault{{Route: recordRoute, Kind: sandboxkit.FaultSlow, Delay: 4 * time.Second}}}})
	c := contactJob("ad-c1", "Jo", "", "jo@example.com", "")
	r.queue(c, messageJob("ad-m1", c, "sms", "inbound", "slow", t0))
	r.run(r.engine(func(c *engine.Config) { c.Lease = time.Second }), nil)
	it := r.item("ad:message:ad-m1")
	if it.State != store.OutboxDone || it.Attempts != 1 || it.Stalls != 0 {
		t.Errorf("slow job = %s after %d attempts, %d stalls (%q); want done after 1, no stall", it.State, it.Attempts, it.Stalls, it.LastError)
	}
	if n := r.byAltID()["ad-m1"]; n != 1 {
		t.Errorf("recorded %d times", n)
	}
}

// TestRunDrainsRunningJobs: when Run's context ends while a record is on
// its way, the job is finished and completed, not abandoned.
func TestRunDrainsRunningJobs(t *testing.T) {
	r := newRig(t, rigOptions{ghl: ghltest.Options{Faults: []sandboxkit.Fault{{Route: recordRoute, Kind: sandboxkit.FaultSlow, Delay: 300 * time.Millisecond}}}})
	c := contactJob("ad-c1", "Kit", "", "kit@example.com", "")
	r.queue(c, messageJob("ad-m1", c, "sms", "inbound", "slow", t0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.engine().Run(ctx) }()
	for r.gs.Calls(recordRoute) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if it := r.item("ad:message:ad-m1"); it.State != store.OutboxDone {
		t.Errorf("job is %s after Run returned, want done", it.State)
	}
	if n := r.byAltID()["ad-m1"]; n != 1 {
		t.Errorf("recorded %d times", n)
	}
}

// TestStopLeavesNothingClaimed: jobs claimed but not started when Run's
// context ends are handed back untried, and running ones finish, so
// nothing waits for a lease to run out and no attempt is spent.
func TestStopLeavesNothingClaimed(t *testing.T) {
	r := newRig(t, rigOptions{ghl: ghltest.Options{Faults: []sandboxkit.Fault{{Route: recordRoute, Kind: sandboxkit.FaultSlow, Delay: 100 * time.Millisecond, Times: -1}}}})
	c := contactJob("ad-c1", "Nan", "", "nan@example.com", "")
	jobs := []any{c}
	for i := range 20 {
		jobs = append(jobs, messageJob(fmt.Sprintf("ad-m%02d", i), c, "sms", "inbound", "x", t0.Add(time.Duration(i)*time.Second)))
	}
	r.queue(jobs...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.engine(func(c *engine.Config) { c.Workers = 2 }).Run(ctx) }()
	for r.gs.Calls(recordRoute) < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	recorded := r.byAltID()
	for _, it := range r.items() {
		switch it.State {
		case store.OutboxInFlight:
			t.Errorf("job %s left claimed", it.Key)
		case store.OutboxPending:
			if it.Attempts != 0 {
				t.Errorf("job %s handed back with %d attempts counted", it.Key, it.Attempts)
			}
		}
	}
	for alt, n := range recorded {
		if n != 1 {
			t.Errorf("%s recorded %d times", alt, n)
		}
	}
}
