package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"parley/store"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
	"parley/sync/internal/sandboxkit"
)

// TestFailureClasses injects one refusal into the record of a message and
// checks what happens to the job, the engine and history.
func TestFailureClasses(t *testing.T) {
	tests := []struct {
		name   string
		status int
		// job state and attempts counted after the failure
		state    store.OutboxState
		attempts int
		outcome  store.Outcome
		paused   bool
	}{
		{"server error retries", 502, store.OutboxPending, 1, store.OutcomeRetrying, false},
		{"rate limit retries", 429, store.OutboxPending, 1, store.OutcomeRetrying, false},
		{"refused content is given up", 422, store.OutboxDead, 1, store.OutcomeFailed, false},
		{"refused token pauses", 401, store.OutboxPending, 0, store.OutcomeRetrying, true},
		{"missing scope pauses", 403, store.OutboxPending, 0, store.OutcomeRetrying, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, rigOptions{
				ghl:    ghltest.Options{Faults: []sandboxkit.Fault{{Route: recordRoute, Kind: sandboxkit.FaultStatus, Status: tt.status}}},
				client: func(c *ghl.Config) { c.Retry.MaxAttempts = 1 },
			})
			c := contactJob("ad-c1", "Fay", "", "fay@example.com", "")
			r.queue(c, messageJob("ad-m1", c, "sms", "inbound", "hello", t0))
			e := r.engine()
			r.run(e, func() bool {
				it := r.item("ad:message:ad-m1")
				return it.State != store.OutboxInFlight && (it.State != store.OutboxPending || it.LastError != "")
			})
			it := r.item("ad:message:ad-m1")
			if it.State != tt.state || it.Attempts != tt.attempts || it.LastError == "" {
				t.Errorf("job = %s after %d attempts (%q), want %s after %d with the error", it.State, it.Attempts, it.LastError, tt.state, tt.attempts)
			}
			var row *store.HistoryEntry
			for _, h := range r.history() {
				if h.LocalID == "ad-m1" {
					row = &h
				}
			}
			if row == nil || row.Outcome != tt.outcome || row.HTTPStatus != tt.status || row.Error == "" {
				t.Errorf("history row = %+v, want %s with status %d and the error", row, tt.outcome, tt.status)
			}
			r.noSecrets()
			snap, err := e.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			alerts, _ := r.st.OpenAlerts(context.Background())
			if tt.paused {
				if st := snap.Jobs[engine.JobMirrorMessage]; st.LastError == "" || st.Failed+st.Retried != 0 {
					t.Errorf("snapshot stats %+v, want the error and no attempt spent", st)
				}
				if snap.Reason == "" || len(alerts) != 1 || alerts[0].Hint == "" {
					t.Errorf("paused engine: reason %q, alerts %+v; want a reason and one alert with a hint", snap.Reason, alerts)
				}
				// Once resumed (the user reconnected), the job goes through.
				e.Resume()
				r.run(e, nil)
				if n := r.byAltID()["ad-m1"]; n != 1 {
					t.Errorf("after resume the message is recorded %d times, want 1", n)
				}
				return
			}
			if snap.Reason != "" || len(alerts) != 0 {
				t.Errorf("engine paused (%q) or alerted (%+v) for a %d", snap.Reason, alerts, tt.status)
			}
			if tt.state == store.OutboxPending {
				// Due after its backoff: taken again once the clock passes it.
				r.clock.advance(2 * time.Hour)
				r.run(e, nil)
				if n := r.byAltID()["ad-m1"]; n != 1 {
					t.Errorf("after the retry the message is recorded %d times, want 1", n)
				}
				if st := snap.Jobs[engine.JobMirrorMessage]; st.Retried != 1 || st.LastError == "" {
					t.Errorf("snapshot stats %+v, want one retry with its error", st)
				}
			}
		})
	}
}

// TestPausedEngineClaimsNothing: while paused, queued jobs stay queued.
func TestPausedEngineClaimsNothing(t *testing.T) {
	r := newRig(t, rigOptions{})
	c := contactJob("ad-c1", "Gus", "", "gus@example.com", "")
	r.queue(c)
	e := r.engine()
	e.Pause("paused by the user")
	deadline := time.Now().Add(200 * time.Millisecond)
	r.run(e, func() bool { return time.Now().After(deadline) })
	if it := r.item(c.Key()); it.State != store.OutboxPending || it.Attempts != 0 {
		t.Errorf("job = %s after %d attempts while paused", it.State, it.Attempts)
	}
	snap, _ := e.Snapshot(context.Background())
	if snap.State != engine.StateStopped || snap.Reason != "paused by the user" {
		t.Errorf("snapshot = %+v", snap)
	}
}

// TestMessageWhoseContactIsGone: the id map links the AD contact to a GHL
// contact that was deleted. The message cannot be placed: the job is given
// up with a history row saying so, and the other jobs go on.
func TestMessageWhoseContactIsGone(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.gs.ExpectRejections()
	if err := r.st.LinkIDs(context.Background(), store.KindContact, "ad-gone", "deletedcontact000001"); err != nil {
		t.Fatal(err)
	}
	gone := contactJob("ad-gone", "Hal", "", "hal@example.com", "")
	ok := contactJob("ad-ok", "Ida", "", "ida@example.com", "")
	r.queue(messageJob("ad-m1", gone, "sms", "inbound", "x", t0), messageJob("ad-m2", ok, "sms", "inbound", "y", t0))
	r.run(r.engine(), nil)
	it := r.item("ad:message:ad-m1")
	if it.State != store.OutboxDead || !strings.Contains(it.LastError, "is gone") {
		t.Errorf("job = %s (%q), want dead saying the contact is gone", it.State, it.LastError)
	}
	if r.byAltID()["ad-m2"] != 1 {
		t.Error("the other contact's message was not recorded")
	}
	var failed int
	for _, h := range r.history() {
		if h.LocalID == "contact/ad-gone" && h.Outcome == store.OutcomeFailed {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d failed history rows for the gone contact, want 1: %+v", failed, r.history())
	}
}

// TestContactWithoutEmailOrPhone is given up with a history row that says
// why: HighLevel could neither find it nor be kept from duplicating it.
func TestContactWithoutEmailOrPhone(t *testing.T) {
	r := newRig(t, rigOptions{})
	c := contactJob("ad-c1", "Lou", "", "", "not a number")
	r.queue(c)
	r.run(r.engine(), nil)
	if it := r.item(c.Key()); it.State != store.OutboxDead || !strings.Contains(it.LastError, "neither an email nor a usable phone") {
		t.Errorf("job = %s (%q), want dead with the reason", it.State, it.LastError)
	}
	if n := len(r.gs.Contacts()); n != 0 {
		t.Errorf("%d contacts created", n)
	}
	h := r.history()
	// Newest first: the failed upsert, then the mapping link that could
	// not make the phone number one, which says why there is none.
	if len(h) != 2 || h[0].Outcome != store.OutcomeFailed || h[0].Operation != store.OpContactUpsert || h[0].Error == "" ||
		h[1].Operation != engine.OpContactMap || !strings.Contains(h[1].Error, `"not a number" is not a phone number`) {
		t.Errorf("history = %+v, want one failed upsert row after the phone link's row", h)
	}
}

// TestDailyQuotaPauses: once HighLevel's daily quota is used up the engine
// pauses with an alert instead of spending the jobs' attempts on 429s.
func TestDailyQuotaPauses(t *testing.T) {
	r := newRig(t, rigOptions{ghl: ghltest.Options{RateLimit: sandboxkit.RateLimit{Daily: 3}}})
	c := contactJob("ad-c1", "Pia", "", "pia@example.com", "")
	var jobs []any
	for i := range 5 {
		jobs = append(jobs, messageJob("ad-m"+string(rune('A'+i)), c, "sms", "inbound", "x", t0))
	}
	r.queue(append([]any{c}, jobs...)...)
	e := r.engine(func(c *engine.Config) { c.Workers = 1 })
	r.run(e, func() bool {
		s, _ := e.Snapshot(context.Background())
		return s.State == engine.StatePaused
	})
	alerts, _ := r.st.OpenAlerts(context.Background())
	if len(alerts) != 1 || !strings.Contains(alerts[0].Hint, "daily") {
		t.Errorf("alerts = %+v, want one about the daily quota", alerts)
	}
	for _, it := range r.items() {
		if it.State == store.OutboxDead || it.Attempts > 1 {
			t.Errorf("job %s = %s after %d attempts: the quota burnt attempts", it.Key, it.State, it.Attempts)
		}
	}
	if n := r.gs.Traffic().Records; n > 3 {
		t.Errorf("%d records within a daily quota of 3 requests", n)
	}
}
