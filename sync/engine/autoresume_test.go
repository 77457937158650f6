package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"parley/store"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
	"parley/sync/internal/sandboxkit"
)

// quotaRig is a rig whose sandbox enforces a daily quota of daily
// requests, with one manual clock shared by the sandbox (its day), the
// client (its memory of the used-up quota) and the engine.
func quotaRig(t *testing.T, daily int) (*rig, *clock) {
	t.Helper()
	// The day starts at noon UTC, so that a run near midnight does not
	// see the quota reset before the test moves the clock there.
	now := time.Now().UTC()
	clk := &clock{skew: time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, time.UTC).Sub(now)}
	r := newRig(t, rigOptions{
		ghl:    ghltest.Options{Clock: clk.now, RateLimit: sandboxkit.RateLimit{Daily: daily}},
		client: func(c *ghl.Config) { c.Now = clk.now },
	})
	r.cfg.Now = clk.now
	return r, clk
}

// nextUTCMidnight is when the sandbox's daily quota resets.
func nextUTCMidnight(now time.Time) time.Time {
	u := now.UTC()
	return time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
}

// resumeWait polls cond until it holds or 30 s pass.
func resumeWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// failedSince reports whether a job of any kind failed at or after t.
func failedSince(s engine.Snapshot, t time.Time) bool {
	for _, k := range s.Jobs {
		if !k.LastErrorAt.Before(t) {
			return true
		}
	}
	return false
}

func resumeSnap(t *testing.T, e *engine.Engine) engine.Snapshot {
	t.Helper()
	s, err := e.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDailyQuotaResumesByItself: an engine paused by a used-up daily quota
// knows from HighLevel's headers when the quota resets, says so in its
// alert and snapshot, and claims jobs again by itself once the clock gets
// there; the alert is closed and a second one says the sync resumed. A
// manual Resume before the reset still lifts the pause at once (the quota
// is still used up, so the engine pauses again, with the same alert).
func TestDailyQuotaResumesByItself(t *testing.T) {
	// Six requests a day: enough for about half the work, so that one
	// reset lets the rest through.
	r, clk := quotaRig(t, 6)
	c := contactJob("ad-c1", "Pia", "", "pia@example.com", "")
	jobs := []any{c}
	var ids []string
	for i := range 5 {
		id := fmt.Sprintf("ad-m%d", i)
		ids = append(ids, id)
		jobs = append(jobs, messageJob(id, c, "sms", "inbound", "x", t0))
	}
	r.queue(jobs...)
	e := r.engine(func(c *engine.Config) { c.Workers = 1 })

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	resumeWait(t, "the engine pauses on the quota", func() bool { return resumeSnap(t, e).State == engine.StatePaused })
	reset := nextUTCMidnight(clk.now())
	s := resumeSnap(t, e)
	if d := s.ResumesAt.Sub(reset); d < -2*time.Second || d > 2*time.Second {
		t.Fatalf("snapshot resumes at %v, want the quota's reset %v", s.ResumesAt, reset)
	}
	// The reason is what `parley sync --once` prints last: it says when too.
	if !strings.Contains(s.Reason, "resumes by itself at "+resumeClock(s.ResumesAt)) {
		t.Errorf("reason %q does not say when the sync resumes", s.Reason)
	}
	// The alert is raised just after the pause takes effect.
	var alerts []store.Alert
	resumeWait(t, "the pause's alert is raised", func() bool {
		var err error
		if alerts, err = r.st.OpenAlerts(ctx); err != nil {
			t.Fatal(err)
		}
		return len(alerts) > 0
	})
	if len(alerts) != 1 || !strings.Contains(alerts[0].Hint, "resumes by itself at "+resumeClock(s.ResumesAt)) {
		t.Fatalf("alerts = %+v, want one saying when the sync resumes (%s)", alerts, resumeClock(s.ResumesAt))
	}
	pauseAlert := alerts[0].ID

	// The user resumes early: the pause lifts at once, and comes back with
	// the same alert because HighLevel's quota is still used up.
	// The one worker may claim a job and pause again before the snapshot
	// is read; a quota failure later than the Resume shows it did claim.
	resumedAt := clk.now()
	e.Resume()
	switch s := resumeSnap(t, e); {
	case s.State == engine.StateRunning:
		if !s.ResumesAt.IsZero() {
			t.Errorf("after Resume: running, resumes at %v; want no resume time", s.ResumesAt)
		}
	case !failedSince(s, resumedAt):
		t.Errorf("after Resume: %s, resumes at %v, and no job failed since; want the pause lifted", s.State, s.ResumesAt)
	}
	resumeWait(t, "the engine pauses again", func() bool { return resumeSnap(t, e).State == engine.StatePaused })
	if open, _ := r.st.OpenAlerts(ctx); len(open) != 1 || open[0].ID != pauseAlert {
		t.Errorf("alerts after the second pause = %+v, want the first one refreshed", open)
	}
	if n := r.gs.Traffic().Records; n >= len(ids) {
		t.Fatalf("%d records before the reset with a quota of 6 requests", n)
	}

	// A little before the reset nothing happens; after it the engine
	// resumes by itself and finishes.
	clk.advance(reset.Sub(clk.now()) - time.Minute)
	time.Sleep(100 * time.Millisecond)
	if s := resumeSnap(t, e); s.State != engine.StatePaused {
		t.Fatalf("a minute before the reset the engine is %s", s.State)
	}
	clk.advance(time.Minute + time.Second)
	resumeWait(t, "every job is done", func() bool {
		return r.settled() && resumeSnap(t, e).State == engine.StateRunning
	})
	if s := resumeSnap(t, e); s.State != engine.StateRunning || s.Reason != "" || !s.ResumesAt.IsZero() {
		t.Errorf("after the reset: %s (%q), resumes at %v; want running", s.State, s.Reason, s.ResumesAt)
	}
	byAlt := r.byAltID()
	for _, id := range ids {
		if byAlt[id] != 1 {
			t.Errorf("message %s recorded %d times", id, byAlt[id])
		}
	}
	for _, it := range r.items() {
		if it.State != store.OutboxDone {
			t.Errorf("job %s is %s (%q)", it.Key, it.State, it.LastError)
		}
	}
	open, err := r.st.OpenAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var resumed bool
	for _, a := range open {
		if a.ID == pauseAlert {
			t.Errorf("the pause alert is still open after the sync resumed: %+v", a)
		}
		resumed = resumed || (a.Severity == store.SeverityInfo && strings.Contains(a.Message, "resumed"))
	}
	if !resumed {
		t.Errorf("open alerts = %+v, want one saying the sync resumed", open)
	}
	r.noSecrets()
}

// TestPauseOverridesAutomaticResume: a person who pauses the sync while it
// waits for the quota keeps it paused past the reset.
func TestPauseOverridesAutomaticResume(t *testing.T) {
	r, clk := quotaRig(t, 1)
	c := contactJob("ad-c1", "Ros", "", "ros@example.com", "")
	r.queue(c, messageJob("ad-m1", c, "sms", "inbound", "x", t0), messageJob("ad-m2", c, "sms", "inbound", "y", t0))
	e := r.engine(func(c *engine.Config) { c.Workers = 1 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	resumeWait(t, "the engine pauses on the quota", func() bool { return !resumeSnap(t, e).ResumesAt.IsZero() })
	e.Pause("paused by the user")
	if s := resumeSnap(t, e); s.Reason != "paused by the user" || !s.ResumesAt.IsZero() {
		t.Errorf("after Pause: %q, resumes at %v; want the user's pause, no resume time", s.Reason, s.ResumesAt)
	}
	clk.advance(nextUTCMidnight(clk.now()).Sub(clk.now()) + time.Second)
	time.Sleep(200 * time.Millisecond)
	if s := resumeSnap(t, e); s.State != engine.StatePaused || s.Reason != "paused by the user" {
		t.Errorf("after the reset: %s (%q), want still paused by the user", s.State, s.Reason)
	}
}

// resumeClock is how the alert writes the resume time.
func resumeClock(at time.Time) string { return at.Local().Format("15:04 MST") }
