package engine_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/store"
	"parley/sync/demo"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
	"parley/sync/internal/sandboxkit"
)

// started runs e until the test ends and waits for it then.
func started(t *testing.T, e *engine.Engine) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	eventually(t, "the engine to run", func() bool {
		s, err := e.Snapshot(context.Background())
		return err == nil && s.State != engine.StateStopped
	})
}

// eventually polls cond for up to 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func dashboard(t *testing.T, c *engine.Control) engine.Dashboard {
	t.Helper()
	d, err := c.Dashboard(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func queueFor(d engine.Dashboard, kind string) engine.KindQueue {
	for _, q := range d.Queue {
		if q.Kind == kind {
			return q
		}
	}
	return engine.KindQueue{Kind: kind}
}

func TestControlDashboardFollowsTheWork(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctl := engine.NewControl(r.st)
	c := contactJob("ad-c1", "Ada", "Byron", "ada@example.com", "")
	jobs := []any{c}
	for i := range 5 {
		jobs = append(jobs, messageJob(fmt.Sprintf("ad-m%d", i), c, "sms", "inbound", "hello", t0.Add(time.Duration(i)*time.Minute)))
	}
	r.queue(jobs...)

	d := dashboard(t, ctl)
	if d.State != engine.StateStopped || d.Attached {
		t.Errorf("before the engine starts: state %s attached %v, want stopped and not attached", d.State, d.Attached)
	}
	if q := queueFor(d, engine.JobMirrorMessage); q.Pending != 5 || q.Done != 0 {
		t.Errorf("message queue before the run %+v, want 5 pending", q)
	}
	if d.Dead != 0 || len(d.Throughput) != 60 || d.Throughput[59].OK != 0 {
		t.Errorf("dead %d, throughput %d minutes (last %+v); want none dead and 60 empty minutes", d.Dead, len(d.Throughput), d.Throughput)
	}

	e := r.engine()
	ctl.Attach(e)
	started(t, e)
	// The engine counts a job just after the store completes it.
	eventually(t, "the queue to drain", func() bool {
		d := dashboard(t, ctl)
		q := queueFor(d, engine.JobMirrorMessage)
		return q.Pending+q.InFlight == 0 && q.Done == 5 && d.Jobs[engine.JobMirrorMessage].Done == 5
	})
	d = dashboard(t, ctl)
	if d.State != engine.StateRunning || !d.Attached {
		t.Errorf("state %s attached %v, want running", d.State, d.Attached)
	}
	ok := 0
	for _, m := range d.Throughput {
		ok += m.OK
	}
	// One record per message and one upsert for the contact at least.
	if ok < 6 {
		t.Errorf("throughput over the hour counts %d ok operations, want at least 6", ok)
	}
	if last := d.Throughput[len(d.Throughput)-1]; last.Start.After(time.Now()) || time.Since(last.Start) > time.Minute {
		t.Errorf("the last minute starts %v, want the current minute", last.Start)
	}
	// Readings after the first read only new rows: however many there
	// are, the hour's totals stay those of history.
	want := 0
	for _, h := range r.history() {
		if h.Outcome == store.OutcomeOK {
			want++
		}
	}
	for range 3 {
		got := 0
		for _, m := range dashboard(t, ctl).Throughput {
			got += m.OK
		}
		if got != want {
			t.Fatalf("a later reading counts %d ok calls, history has %d", got, want)
		}
	}
}

func TestControlPauseAndResume(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctl := engine.NewControl(r.st)
	if err := ctl.Pause("by hand"); !errors.Is(err, engine.ErrSyncNotRunning) {
		t.Errorf("Pause without an engine = %v, want ErrSyncNotRunning", err)
	}
	if err := ctl.Resume(); !errors.Is(err, engine.ErrSyncNotRunning) {
		t.Errorf("Resume without an engine = %v, want ErrSyncNotRunning", err)
	}
	e := r.engine()
	ctl.Attach(e)
	started(t, e)
	if err := ctl.Pause("Paused from the Sync screen"); err != nil {
		t.Fatal(err)
	}
	d := dashboard(t, ctl)
	if d.State != engine.StatePaused || d.Reason != "Paused from the Sync screen" {
		t.Fatalf("after Pause: %s %q", d.State, d.Reason)
	}
	c := contactJob("ad-c1", "Ada", "", "ada@example.com", "")
	r.queue(c)
	e.Wake()
	time.Sleep(150 * time.Millisecond) // several poll intervals
	// From the store: the dashboard may reuse the count it read before
	// the job was queued.
	counts, err := r.st.OutboxCountsByKind(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if q := counts[engine.JobMirrorContact]; q[store.OutboxPending] != 1 {
		t.Fatalf("a paused engine worked on a job: %v", q)
	}
	if err := ctl.Resume(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the job to run after Resume", func() bool {
		return queueFor(dashboard(t, ctl), engine.JobMirrorContact).Done == 1
	})
	if d := dashboard(t, ctl); d.State != engine.StateRunning || d.Reason != "" {
		t.Errorf("after Resume: %s %q", d.State, d.Reason)
	}
}

func TestControlDeadLetterReplay(t *testing.T) {
	r := newRig(t, rigOptions{
		ghl: ghltest.Options{Faults: []sandboxkit.Fault{
			{Route: recordRoute, Kind: sandboxkit.FaultStatus, Status: 422, Times: 3, Body: "message body refused"},
		}},
		client: func(c *ghl.Config) { c.Retry.MaxAttempts = 1 },
	})
	ctl := engine.NewControl(r.st)
	c := contactJob("ad-c1", "Ada", "", "ada@example.com", "")
	r.queue(c, messageJob("ad-m1", c, "sms", "inbound", "one", t0),
		messageJob("ad-m2", c, "sms", "inbound", "two", t0.Add(time.Minute)),
		messageJob("ad-m3", c, "sms", "inbound", "three", t0.Add(2*time.Minute)))
	e := r.engine()
	ctl.Attach(e)
	started(t, e)
	eventually(t, "three dead jobs", func() bool { return dashboard(t, ctl).Dead == 3 })

	dead, err := ctl.DeadLetters(context.Background(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 3 || dead[0].Kind != engine.JobMirrorMessage || !strings.Contains(dead[0].LastError, "message body refused") || dead[0].Attempts != 1 {
		t.Fatalf("dead letters %+v, want three message jobs with HighLevel's refusal", dead)
	}
	d := dashboard(t, ctl)
	if len(d.Errors) == 0 || d.Errors[0].Class != engine.ClassRefused || d.Errors[0].Count != 3 || !strings.Contains(d.Errors[0].LastError, "refused") {
		t.Errorf("errors by class %+v, want 3 refused", d.Errors)
	}

	// The fault is used up: HighLevel takes the message now.
	if err := ctl.Replay(context.Background(), dead[0].ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the replayed job to complete", func() bool {
		it, err := r.st.OutboxItemByID(context.Background(), dead[0].ID)
		return err == nil && it.State == store.OutboxDone
	})
	if err := ctl.Replay(context.Background(), dead[0].ID); err == nil {
		t.Error("replaying a job that is not dead was accepted")
	}
	n, err := ctl.ReplayAll(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("ReplayAll = %d, %v; want 2", n, err)
	}
	eventually(t, "every replayed job to complete", func() bool {
		q := queueFor(dashboard(t, ctl), engine.JobMirrorMessage)
		return q.Done == 3 && q.Dead == 0
	})
	if got := r.byAltID(); got["ad-m1"] != 1 || got["ad-m2"] != 1 || got["ad-m3"] != 1 {
		t.Errorf("recorded per message %v, want each once", got)
	}
	r.noSecrets()
}

func TestControlReadsHighLevelsBudget(t *testing.T) {
	var ctl *engine.Control
	r := newRig(t, rigOptions{
		ghl: ghltest.Options{RateLimit: sandboxkit.RateLimit{Burst: 50, Window: 10 * time.Second, Daily: 1000}},
		// The control needs the rig's store, so the transport finds it
		// at the first request.
		transport: func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(req *http.Request) (*http.Response, error) { return ctl.Meter(rt).RoundTrip(req) })
		},
	})
	ctl = engine.NewControl(r.st)
	if b := dashboard(t, ctl).Budget; b.Known {
		t.Errorf("budget before any call %+v, want unknown", b)
	}
	c := contactJob("ad-c1", "Ada", "", "ada@example.com", "")
	r.queue(c, messageJob("ad-m1", c, "sms", "inbound", "one", t0))
	e := r.engine()
	ctl.Attach(e)
	r.run(e, nil)
	calls := 0
	for _, n := range r.gs.CallCounts() {
		calls += n
	}
	b := dashboard(t, ctl).Budget
	if !b.Known || b.BurstMax != 50 || b.DailyMax != 1000 || b.BurstWindow != 10*time.Second {
		t.Fatalf("budget %+v, want the sandbox's 50 per 10 s and 1000 a day", b)
	}
	if b.DailyLeft != 1000-calls || b.BurstLeft != 50-calls {
		t.Errorf("budget left %d burst, %d daily after %d calls; want %d and %d", b.BurstLeft, b.DailyLeft, calls, 50-calls, 1000-calls)
	}
}

// TestControlWiredIntoTheDemoSync is the console's wiring: the demo sync
// attaches its engine to the control and meters HighLevel's answers.
func TestControlWiredIntoTheDemoSync(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, store.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	at, err := engine.StartDemoSession(context.Background(), st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	bg := demo.StartBackground(dir, demo.Options{GHLEmpty: true, Now: at, ActivityEvery: -1})
	t.Cleanup(func() { _ = bg.Close() })
	ctl := engine.NewControl(st)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- engine.RunDemo(ctx, st, bg, nil, ctl.Wire) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunDemo = %v", err)
		}
	}()
	eventually(t, "the engine to attach and HighLevel to answer", func() bool {
		d := dashboard(t, ctl)
		return d.Attached && d.State == engine.StateRunning && d.Budget.Known && queueFor(d, engine.JobMirrorMessage).Done > 0
	})
	if err := ctl.Pause("from the test"); err != nil {
		t.Fatal(err)
	}
	if d := dashboard(t, ctl); d.State != engine.StatePaused {
		t.Errorf("after Pause the demo engine is %s", d.State)
	}
	// Run reports a pause still in force when it ends as needing a
	// person, whoever paused.
	if err := ctl.Resume(); err != nil {
		t.Fatal(err)
	}
}

func TestControlReachesTheMappingOfTheAttachedEngine(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctl := engine.NewControl(r.st)
	ctx := context.Background()
	if _, err := ctl.CurrentMapping(ctx); !errors.Is(err, engine.ErrSyncNotRunning) {
		t.Fatalf("CurrentMapping before an engine = %v, want ErrSyncNotRunning", err)
	}
	e := r.engine()
	ctl.Attach(e)
	want, err := e.CurrentMapping(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ctl.CurrentMapping(ctx)
	if err != nil || len(got.Links) != len(want.Links) || len(got.Links) == 0 {
		t.Fatalf("CurrentMapping through the control = %d links, %v; want the engine's %d", len(got.Links), err, len(want.Links))
	}
	v, err := ctl.SaveMapping(ctx, got.Links, "through the console")
	if err != nil || v != 1 {
		t.Fatalf("SaveMapping = %d, %v; want version 1", v, err)
	}
}
