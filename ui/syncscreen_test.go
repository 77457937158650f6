package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/store"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
)

// syncRig is a real engine on a fresh store, mirroring into a HighLevel
// sandbox over loopback, with the Control the console holds.
type syncRig struct {
	st  *store.Store
	gs  *ghltest.Server
	ctl *engine.Control
	e   *engine.Engine
}

// refuseRecords answers the first n records of messages with HighLevel's
// 422 before they reach the sandbox: the sandbox's own fault injection is
// internal to the sync packages.
type refuseRecords struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    int
}

func (f *refuseRecords) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	refuse := f.n > 0 && r.Method == http.MethodPost && r.URL.Path == "/conversations/messages/inbound"
	if refuse {
		f.n--
	}
	f.mu.Unlock()
	if !refuse {
		return f.next.RoundTrip(r)
	}
	body := `{"statusCode":422,"message":"message body refused","error":"Unprocessable Entity"}`
	return &http.Response{StatusCode: http.StatusUnprocessableEntity, Status: "422 Unprocessable Entity", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r}, nil
}

// newSyncRig refuses the first refuse records of messages.
func newSyncRig(t *testing.T, refuse int) *syncRig {
	t.Helper()
	r := &syncRig{st: newTestStore(t), gs: ghltest.NewTestServer(t, ghltest.Options{})}
	r.ctl = engine.NewControl(r.st)
	rt := &refuseRecords{next: http.DefaultTransport.(*http.Transport).Clone(), n: refuse}
	gc, err := ghl.New(ghl.Config{
		BaseURL: r.gs.URL(), LocationID: r.gs.LocationID(), PrivateToken: ghl.Secret(r.gs.PrivateToken()),
		HTTPClient: &http.Client{Transport: engine.Transport(r.ctl.Meter(rt))},
		RateLimit:  ghl.RateLimit{Disabled: true},
		Retry:      ghl.RetryPolicy{MaxAttempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gc.CloseIdleConnections)
	if r.e, err = engine.New(engine.Config{Store: r.st, GHL: gc, ProviderID: r.gs.ConversationProviderID(),
		PollInterval: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	r.ctl.Attach(r.e)
	return r
}

// start runs the engine until the test ends.
func (r *syncRig) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// queue enqueues one contact and n messages of it.
func (r *syncRig) queue(t *testing.T, n int) {
	t.Helper()
	c := engine.ContactJob{V: engine.JobVersion, Source: engine.SourceAPI, ContactID: "ad-c1", FirstName: "Ada", Email: "ada@example.com"}
	jobs := []store.OutboxJob{{Kind: engine.JobMirrorContact, Key: c.Key(), Payload: mustJSON(t, c)}}
	for i := range n {
		m := engine.MessageJob{V: engine.JobVersion, Source: engine.SourceAPI, MessageID: fmt.Sprintf("ad-m%d", i),
			Conversation: engine.ConversationRef{ID: "cv-1"}, Contact: engine.ContactRef{ID: "ad-c1", Name: "Ada", Email: "ada@example.com"},
			Channel: "sms", Direction: "inbound", Body: "hello", SentAt: time.Date(2026, 11, 30, 9, i, 0, 0, time.UTC)}
		jobs = append(jobs, store.OutboxJob{Kind: engine.JobMirrorMessage, Key: m.Key(), Payload: mustJSON(t, m)})
	}
	if _, err := r.st.EnqueueBatch(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openSync(t *testing.T, d Deps) (*Console, uiLoop) {
	t.Helper()
	if d.SyncEvery == 0 {
		d.SyncEvery = 20 * time.Millisecond
	}
	c, loop := newTestConsole(t, d)
	c.Show("Sync")
	return c, loop
}

// syncButton is the visible button whose text starts with prefix, or nil.
func syncButton(c *Console, prefix string) *widget.Button {
	for _, o := range test.LaidOutObjects(c.Window().Canvas().Content()) {
		if b, ok := o.(*widget.Button); ok && o.Visible() && strings.HasPrefix(b.Text, prefix) {
			return b
		}
	}
	return nil
}

func hasLabel(c *Console, substr string) bool {
	return slices.ContainsFunc(visibleLabels(c), func(l string) bool { return strings.Contains(l, substr) })
}

func TestSyncScreenFollowsTheWork(t *testing.T) {
	r := newSyncRig(t, 0)
	r.queue(t, 6)
	c, loop := openSync(t, Deps{Sync: r.ctl})
	waitSyncLabel(t, c, loop, "Stopped")
	waitSyncLabel(t, c, loop, engine.KindTitle(engine.JobMirrorMessage))
	// The message kind's row: kind, pending, in flight, dead, done.
	waitSync(t, c, loop, "6 messages pending", func() bool { return slices.Equal(queueRow(c, engine.JobMirrorMessage), []string{"6", "0", "0", "0"}) })

	r.start(t)
	waitSync(t, c, loop, "the queue to drain", func() bool { return slices.Equal(queueRow(c, engine.JobMirrorMessage), []string{"0", "0", "0", "6"}) })
	waitSyncLabel(t, c, loop, "Running")
	waitSync(t, c, loop, "the chart to count the work", func() bool {
		ch := chart(c)
		return ch != nil && ch.total() >= 7
	})
	waitSyncLabel(t, c, loop, "in the last hour")
	waitSync(t, c, loop, "the budget gauges", func() bool {
		g := gauges(c)
		return len(g) == 2 && strings.Contains(g[0].TextFormatter(), "of 100 left") && strings.Contains(g[1].TextFormatter(), "of 200,000 left")
	})
}

// queueRow is the counts the queue grid shows for kind.
func queueRow(c *Console, kind string) []string {
	labels := visibleLabels(c)
	i := slices.Index(labels, engine.KindTitle(kind))
	if i < 0 || i+4 >= len(labels) {
		return nil
	}
	return labels[i+1 : i+5]
}

func chart(c *Console) *throughputChart {
	for _, o := range test.LaidOutObjects(c.Window().Canvas().Content()) {
		if ch, ok := o.(*throughputChart); ok {
			return ch
		}
	}
	return nil
}

func gauges(c *Console) []*widget.ProgressBar {
	var out []*widget.ProgressBar
	for _, o := range test.LaidOutObjects(c.Window().Canvas().Content()) {
		if p, ok := o.(*widget.ProgressBar); ok && o.Visible() && p.TextFormatter != nil {
			out = append(out, p)
		}
	}
	return out
}

func TestSyncPauseAndResumeButtons(t *testing.T) {
	r := newSyncRig(t, 0)
	r.start(t)
	c, loop := openSync(t, Deps{Sync: r.ctl})
	waitSync(t, c, loop, "the Pause button", func() bool { b := syncButton(c, "Pause"); return b != nil && !b.Disabled() })
	test.Tap(syncButton(c, "Pause"))
	waitSync(t, c, loop, "the engine to pause", func() bool { return state(t, r) == engine.StatePaused && syncButton(c, "Resume") != nil })
	waitSyncLabel(t, c, loop, "Paused from the Sync screen")

	r.queue(t, 1)
	r.e.Wake()
	loop.idleFor(100 * time.Millisecond)
	// From the store: the dashboard may show counts it read before the
	// queueing (it reuses a count for a while).
	counts, err := r.st.OutboxCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.OutboxPending] != 2 || counts[store.OutboxDone]+counts[store.OutboxInFlight] != 0 {
		t.Fatalf("a paused engine worked: %v", counts)
	}
	test.Tap(syncButton(c, "Resume"))
	waitSync(t, c, loop, "the engine to resume", func() bool { return state(t, r) == engine.StateRunning && syncButton(c, "Pause") != nil })
	waitSync(t, c, loop, "the queued jobs to run", func() bool { return slices.Equal(queueRow(c, engine.JobMirrorMessage), []string{"0", "0", "0", "1"}) })

	// Ctrl+P does the same, on this screen only.
	ctrlP := &desktop.CustomShortcut{KeyName: fyne.KeyP, Modifier: fyne.KeyModifierShortcutDefault}
	c.Window().Canvas().(fyne.Shortcutable).TypedShortcut(ctrlP)
	waitSync(t, c, loop, "Ctrl+P to pause", func() bool {
		b := syncButton(c, "Resume")
		return state(t, r) == engine.StatePaused && b != nil && !b.Disabled()
	})
	c.Window().Canvas().(fyne.Shortcutable).TypedShortcut(ctrlP)
	waitSync(t, c, loop, "Ctrl+P to resume", func() bool { return state(t, r) == engine.StateRunning })
	c.Show("History")
	c.Window().Canvas().(fyne.Shortcutable).TypedShortcut(ctrlP)
	loop.idleFor(50 * time.Millisecond)
	if state(t, r) != engine.StateRunning {
		t.Error("Ctrl+P paused the sync from another screen")
	}
}

func state(t *testing.T, r *syncRig) engine.State {
	t.Helper()
	d, err := r.ctl.Dashboard(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d.State
}

func TestSyncDeadLetterReplay(t *testing.T) {
	r := newSyncRig(t, 3)
	r.queue(t, 3)
	r.start(t)
	c, loop := openSync(t, Deps{Sync: r.ctl})
	waitSync(t, c, loop, "three dead jobs listed", func() bool { return len(deadRows(c)) == 3 })
	waitSyncLabel(t, c, loop, "message body refused")
	waitSyncLabel(t, c, loop, engine.ClassRefused)
	rows := deadRows(c)
	if !strings.Contains(rows[0], "ad:message:ad-m2") || !strings.Contains(rows[0], "1 attempt") {
		t.Errorf("newest dead row %q, want its key and attempts", rows[0])
	}

	// The fault is used up: replaying works now.
	replayButtons(c)[0].OnTapped()
	waitSync(t, c, loop, "the replayed job to complete", func() bool {
		return len(deadRows(c)) == 2 && slices.Equal(queueRow(c, engine.JobMirrorMessage), []string{"0", "0", "2", "1"})
	})

	test.Tap(syncButton(c, "Replay all"))
	ok, isKey := c.Window().Canvas().Focused().(*keyButton)
	if !isKey || !strings.HasPrefix(ok.Text, "Replay 2 jobs") {
		t.Fatalf("the confirm dialog's focus is on %#v, want its Replay button", c.Window().Canvas().Focused())
	}
	// Escape cancels; nothing is replayed.
	ok.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	loop.idleFor(80 * time.Millisecond)
	if len(deadRows(c)) != 2 {
		t.Fatal("cancelling the confirm replayed jobs")
	}
	test.Tap(syncButton(c, "Replay all"))
	c.Window().Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	waitSync(t, c, loop, "every job to complete", func() bool {
		return len(deadRows(c)) == 0 && slices.Equal(queueRow(c, engine.JobMirrorMessage), []string{"0", "0", "0", "3"})
	})
	waitSyncLabel(t, c, loop, "Replayed 2 jobs")
}

// deadRows are the dead-letter list's rows as text.
func deadRows(c *Console) []string {
	var out []string
	for _, o := range test.LaidOutObjects(c.Window().Canvas().Content()) {
		if b, ok := o.(*replayButton); ok && o.Visible() && b.item.ID != 0 {
			out = append(out, b.line)
		}
	}
	return out
}

func replayButtons(c *Console) []*widget.Button {
	var out []*widget.Button
	for _, o := range test.LaidOutObjects(c.Window().Canvas().Content()) {
		if b, ok := o.(*replayButton); ok && o.Visible() && b.item.ID != 0 {
			out = append(out, &b.Button)
		}
	}
	return out
}

func TestSyncWithoutAnEngine(t *testing.T) {
	c, loop := openSync(t, Deps{})
	waitSyncLabel(t, c, loop, "The sync does not run in this window")
	if b := syncButton(c, "Pause"); b == nil || !b.Disabled() {
		t.Error("Pause is enabled without a sync")
	}
	for _, name := range []string{"Backfill", "Dry run", "Verify"} {
		if b := syncButton(c, name); b == nil || !b.Disabled() {
			t.Errorf("%s is enabled without its tool", name)
		}
	}
	waitSyncLabel(t, c, loop, "Not available in this version yet: Backfill, Dry run, Verify")
	if len(gauges(c)) != 2 {
		t.Error("the budget gauges are missing")
	}
}

// fakeTools stand in for the engine's backfill, dry run and verification,
// which are built elsewhere; the screen only calls them.
type fakeTools struct {
	step chan BackfillProgress
	mu   sync.Mutex
	runs int
}

func (f *fakeTools) Backfill(ctx context.Context, progress func(BackfillProgress)) error {
	f.mu.Lock()
	f.runs++
	f.mu.Unlock()
	for {
		select {
		case p, ok := <-f.step:
			if !ok {
				return nil
			}
			progress(p)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (f *fakeTools) DryRun(context.Context) (SyncReport, error) {
	return SyncReport{Summary: "The next sync would write 2 records.", Lines: []string{"create contact ada@example.com", "record message ad-m1"}}, nil
}

func (f *fakeTools) Verify(context.Context) (SyncReport, error) {
	return SyncReport{Summary: "1 linked record differs.", Lines: []string{"contact ad-c1: email differs"}}, nil
}

func TestSyncToolsRunAndReport(t *testing.T) {
	r := newSyncRig(t, 0)
	tools := &fakeTools{step: make(chan BackfillProgress)}
	c, loop := openSync(t, Deps{Sync: r.ctl, Backfill: tools, DryRun: tools, Verify: tools})
	waitSync(t, c, loop, "the Backfill button", func() bool { b := syncButton(c, "Backfill"); return b != nil && !b.Disabled() })
	if hasLabel(c, "Not available") {
		t.Error("the tools are said to be unavailable")
	}
	test.Tap(syncButton(c, "Backfill"))
	waitSync(t, c, loop, "Backfill to be running", func() bool { return syncButton(c, "Backfill").Disabled() })
	tools.step <- BackfillProgress{Done: 25, Total: 100}
	waitSync(t, c, loop, "the backfill's progress", func() bool {
		return hasLabel(c, "25 of 100") && hasLabel(c, "left")
	})
	close(tools.step)
	waitSyncLabel(t, c, loop, "Backfill finished")
	waitSync(t, c, loop, "Backfill to be available again", func() bool { return !syncButton(c, "Backfill").Disabled() })

	test.Tap(syncButton(c, "Dry run"))
	waitSyncLabel(t, c, loop, "The next sync would write 2 records.")
	waitSyncLabel(t, c, loop, "record message ad-m1")
	test.Tap(syncButton(c, "Verify"))
	waitSyncLabel(t, c, loop, "1 linked record differs.")
}

// waitSync is uiLoop.runUntil with room for a real engine under -race on
// a busy machine, and what the screen shows when it times out.
func waitSync(t *testing.T, c *Console, loop uiLoop, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case fn := <-loop:
			fn()
		case <-deadline:
			t.Fatalf("timed out waiting for %s; the screen shows %q, dead rows %q", what, visibleLabels(c), deadRows(c))
		}
	}
}

func waitSyncLabel(t *testing.T, c *Console, loop uiLoop, substr string) {
	t.Helper()
	waitSync(t, c, loop, "a label containing "+substr, func() bool { return hasLabel(c, substr) })
}

// fixedSync is a sync frozen at one moment, for the golden picture.
type fixedSync struct {
	d    engine.Dashboard
	dead []store.OutboxItem
}

func (f fixedSync) Dashboard(context.Context) (engine.Dashboard, error) { return f.d, nil }
func (f fixedSync) DeadLetters(context.Context, int64, int) ([]store.OutboxItem, error) {
	return f.dead, nil
}
func (fixedSync) Replay(context.Context, int64) error    { return nil }
func (fixedSync) ReplayAll(context.Context) (int, error) { return 0, nil }
func (fixedSync) Pause(string) error                     { return nil }
func (fixedSync) Resume() error                          { return nil }

func goldenSync() fixedSync {
	at := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	d := engine.Dashboard{State: engine.StateRunning, Attached: true, At: at.Add(59 * time.Minute),
		Queue: []engine.KindQueue{
			{Kind: engine.JobMirrorContact, Pending: 12, InFlight: 2, Dead: 0, Done: 1840},
			{Kind: engine.JobMirrorMessage, Pending: 310, InFlight: 4, Dead: 3, Done: 25211},
			{Kind: engine.JobFetchCallMedia, Pending: 0, InFlight: 1, Dead: 0, Done: 412},
		},
		Dead: 3,
		Errors: []engine.ErrorClass{
			{Class: engine.ClassRateLimited, Count: 7, LastError: "ghl: record message: 429 Too Many Requests; retried after 10 s", LastAt: at.Add(41 * time.Minute)},
			{Class: engine.ClassRefused, Count: 3, LastError: "ghl: record message: 422 Unprocessable Entity: phone is not a valid number", LastAt: at.Add(52 * time.Minute)},
		},
		Budget: engine.Budget{Known: true, BurstLeft: 64, BurstMax: 100, BurstWindow: 10 * time.Second, DailyLeft: 171250, DailyMax: 200000, At: at.Add(59 * time.Minute)},
	}
	for i := range 60 {
		ok := 20 + (i*37)%45
		failed := 0
		if i%13 == 5 {
			failed = 3
		}
		d.Throughput = append(d.Throughput, store.ThroughputMinute{Start: at.Add(time.Duration(i) * time.Minute), OK: ok, Failed: failed})
	}
	var dead []store.OutboxItem
	for i, key := range []string{"ad:message:ad-m9051", "ad:message:ad-m9047", "ad:message:ad-m8990"} {
		dead = append(dead, store.OutboxItem{ID: int64(300 - i), Kind: engine.JobMirrorMessage, Key: key, State: store.OutboxDead, Attempts: 1,
			UpdatedAt: at.Add(time.Duration(52-i*9) * time.Minute), LastError: "ghl: record message: 422 Unprocessable Entity: phone is not a valid number"})
	}
	return fixedSync{d: d, dead: dead}
}

// TestSyncLooks is the Sync screen's golden picture (see golden_test.go
// to regenerate it).
func TestSyncLooks(t *testing.T) {
	a := test.NewTempApp(t)
	test.ApplyTheme(t, variantTheme{theme.DefaultTheme(), theme.VariantLight})
	loop := newUILoop()
	c := NewConsole(a, Deps{History: newTestStore(t), Keyring: probe{}, Sync: goldenSync(), SyncEvery: time.Hour,
		DataDir: "/home/admin/.local/share/parley", Location: time.UTC, Do: loop.post})
	t.Cleanup(c.Window().Close)
	c.Window().Resize(fyne.NewSize(startWidth, startHeight))
	c.Window().Show()
	c.Show("Sync")
	// Fyne's test.LaidOutObjects, which the other waits use, leaves a
	// list it has laid out undrawn in the next capture: wait by time.
	loop.idleFor(300 * time.Millisecond)
	assertLooks(t, "sync/dashboard.png", c.Window().Canvas().Capture())
}

// TestSyncFitsTheWindow: with every kind of work queued, the Sync screen
// needs no wider a window than the console opens with (a wider one is
// forced on the user, and under Xvfb ran off the screen).
func TestSyncFitsTheWindow(t *testing.T) {
	a := test.NewTempApp(t)
	loop := newUILoop()
	f := goldenSync()
	f.d.Queue = nil
	for i, kind := range []string{engine.JobMirrorContact, engine.JobMirrorMessage, engine.JobUploadMedia, engine.JobRecordAttached,
		engine.JobFetchCallMedia, engine.JobRouteTranscript, engine.JobRouteAction, engine.JobConversationFlags} {
		f.d.Queue = append(f.d.Queue, engine.KindQueue{Kind: kind, Pending: 1_000_000 + i, InFlight: 8, Dead: 12_345, Done: 10_000_000})
	}
	c := NewConsole(a, Deps{History: newTestStore(t), Keyring: probe{}, Sync: f, SyncEvery: time.Hour, Location: time.UTC, Do: loop.post})
	t.Cleanup(c.Window().Close)
	c.Window().Resize(fyne.NewSize(startWidth, startHeight))
	c.Window().Show()
	c.Show("Sync")
	waitSyncLabel(t, c, loop, engine.KindTitle(engine.JobConversationFlags))
	if w := c.Window().Content().MinSize().Width; w > startWidth {
		t.Errorf("the Sync screen needs a window %.0f px wide; the console opens %d px wide", w, startWidth)
	}
	if row := queueRow(c, engine.JobFetchCallMedia); len(row) != 4 || row[3] != "10,000,000" {
		t.Errorf("the call media row reads %q, want its four counts", row)
	}
}
