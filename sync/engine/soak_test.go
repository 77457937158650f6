package engine_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
	"parley/sync/internal/backoff"
	"parley/sync/internal/sandboxkit"
)

// The soak's weather (issue 14): what HighLevel's sandbox does to the
// calls, as shares of all calls. "1 % malformed JSON" is split between
// bodies cut off before and after the call was applied, and dropped
// connections likewise.
var soakGHLRates = sandboxkit.FaultRates{
	ServerError: 0.10,
	TooMany:     0.05, Burst: 3, RetryAfter: time.Second,
	DropBefore: 0.01, DropAfter: 0.01,
	MalformedBefore: 0.005, MalformedAfter: 0.005,
	Slow: 0.01, SlowDelay: 200 * time.Millisecond,
}

// ActiveDEMAND's own, lighter: the poller reads it a page at a time, and
// its client reads a cut-off or garbled reply again.
var soakADRates = sandboxkit.FaultRates{
	ServerError: 0.05,
	TooMany:     0.02, Burst: 2, RetryAfter: time.Second,
	DropBefore: 0.005, DropAfter: 0.005,
	MalformedBefore: 0.005, MalformedAfter: 0.005,
	Slow: 0.01, SlowDelay: 200 * time.Millisecond,
}

const (
	// soakDefaultMessages is the short form that runs in make test: about
	// 30 s under -race on a loaded two-core machine, most of it waiting
	// out 429s as HighLevel's Retry-After asks.
	soakDefaultMessages = 500
	// soakPerContact is how many messages each contact has.
	soakPerContact = 20
	// soakTimeScale speeds up the clients' own waits (retry backoff, a
	// 429's Retry-After holding the location): they wait a tenth of what
	// they ask for. The order of waits is real; only the clock is fast.
	soakTimeScale = 10
	// soakGoroutineSlack is how many more goroutines than at the start
	// may be left once everything has stopped: the runtime's and the
	// test framework's own come and go.
	soakGoroutineSlack = 5
	// soakHeapFactor bounds the live heap of the run's last quarter by
	// its first quarter's. The HighLevel sandbox keeps every message it
	// records in memory, so the heap grows by design with the messages
	// mirrored: in the 20,000-message run it went from 19.8 to 24.5 MiB
	// (×1.24, about 330 bytes a message). Twice the first quarter leaves
	// room for that and for GC timing; a leak of 1 KiB per HighLevel call
	// (33,000 calls) would add about 25 MiB across the last three
	// quarters and fail. The 500-message short form has too few calls to
	// show such a leak; only make soak can.
	soakHeapFactor = 2.0
)

// TestSoakWithFaults mirrors PARLEY_SOAK_MESSAGES messages (default
// soakDefaultMessages) from the ActiveDEMAND sandbox to the HighLevel
// sandbox through the poller and the engine, while both sandboxes inject
// a seeded mix of faults. Every message must end up in HighLevel exactly
// once, nothing delivered, history agreeing with the id map, no goroutine
// left behind and the heap flat. It prints its seed (PARLEY_SOAK_SEED
// replays the draws) and its figures. make soak runs 20,000 messages.
func TestSoakWithFaults(t *testing.T) {
	n := soakDefaultMessages
	if v := os.Getenv("PARLEY_SOAK_MESSAGES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("PARLEY_SOAK_MESSAGES=%q: want a positive number of messages", v)
		}
	}
	seed := rand.Uint64() // #nosec G404 -- a test's seed, printed to replay it
	if v := os.Getenv("PARLEY_SOAK_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("PARLEY_SOAK_SEED=%q: want the unsigned number a run printed", v)
		}
	}
	t.Logf("soak: seed %d (PARLEY_SOAK_SEED=%d replays it), %d messages", seed, seed, n)
	ghlMix, err := sandboxkit.NewFaultMix(seed, soakGHLRates)
	if err != nil {
		t.Fatal(err)
	}
	adMix, err := sandboxkit.NewFaultMix(seed+1, soakADRates)
	if err != nil {
		t.Fatal(err)
	}

	as := adtest.NewTestServer(t, adtest.Options{Faults: []sandboxkit.Fault{adMix.Fault("")}})
	ids, contacts := soakFill(t, as, n)

	sleep := func(ctx context.Context, d time.Duration) error { return backoff.Sleep(ctx, d/soakTimeScale) }
	var ghlRetries, adRetries atomic.Int64
	adHTTP := &http.Transport{}
	adCfg := as.ClientConfig()
	adCfg.HTTPClient = &http.Client{Transport: adHTTP, Timeout: time.Minute}
	adCfg.Retry = activedemand.RetryPolicy{Sleep: sleep}
	adCfg.Observer = func(c activedemand.CallInfo) { adRetries.Add(int64(c.Attempts - 1)) }
	ad, err := activedemand.New(adCfg)
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, rigOptions{
		ghl: ghltest.Options{SeedTime: t0, Faults: []sandboxkit.Fault{ghlMix.Fault("")}},
		client: func(c *ghl.Config) {
			c.Retry = ghl.RetryPolicy{Sleep: sleep}
			c.Observer = func(c ghl.CallInfo) { ghlRetries.Add(int64(c.Attempts - 1)) }
		},
	})
	e := r.engine(func(c *engine.Config) { c.RetryBase, c.RetryCap = 100*time.Millisecond, 2*time.Second })
	p, err := engine.NewPoller(engine.PollerConfig{Store: r.st, AD: ad, Contacts: ad, Queued: e.Wake})
	if err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	goStart := runtime.NumGoroutine()
	start := time.Now()
	heap := startHeapSampler(time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var polled atomic.Bool
	var pollFailures int
	wg.Go(func() {
		// A failed poll keeps its cursor; the next one reads on from it.
		for ctx.Err() == nil {
			if _, err := p.Poll(ctx); err == nil {
				polled.Store(true)
				return
			}
			pollFailures++
			_ = backoff.Sleep(ctx, 50*time.Millisecond)
		}
	})
	runErr := make(chan error, 1)
	wg.Go(func() { runErr <- e.Run(ctx) })
	deadline := time.Now().Add(5 * time.Minute)
	if d, ok := t.Deadline(); ok {
		deadline = d.Add(-30 * time.Second)
	}
	lastLog := time.Now()
	for !polled.Load() || !r.settled() {
		if time.Now().After(deadline) {
			break
		}
		if time.Since(lastLog) >= 30*time.Second {
			// A long soak says how far it has got.
			lastLog = time.Now()
			c, err := r.st.OutboxCounts(context.Background())
			if err == nil {
				t.Logf("soak: %v in, outbox %v", time.Since(start).Round(time.Second), c)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	done := polled.Load() && r.settled()
	cancel()
	wg.Wait()
	wall := time.Since(start)
	samples := heap.stop()
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
	snap, err := e.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// Everything stopped: the engine, the poller, the sampler. What is
	// left is the clients' idle connections and the sandboxes' ends of
	// them, which close when the clients let go.
	r.gc.CloseIdleConnections()
	adHTTP.CloseIdleConnections()
	// The sandboxes' ends of the connections notice the close a moment
	// later: give them that moment.
	goEnd := runtime.NumGoroutine()
	for wait := time.Now().Add(5 * time.Second); goEnd > goStart && time.Now().Before(wait); goEnd = runtime.NumGoroutine() {
		time.Sleep(50 * time.Millisecond)
	}

	ghlCalls := 0
	for _, c := range r.gs.CallCounts() {
		ghlCalls += c
	}
	adCalls := 0
	for _, c := range as.CallCounts() {
		adCalls += c
	}
	var b strings.Builder
	fmt.Fprintf(&b, "soak figures (seed %d):\n", seed)
	fmt.Fprintf(&b, "  messages %d across %d contacts, wall time %v\n", n, len(contacts), wall.Round(time.Millisecond))
	fmt.Fprintf(&b, "  GHL calls %d (%.2f per message), client retries %d; faults injected %s\n", ghlCalls, float64(ghlCalls)/float64(n), ghlRetries.Load(), mixText(ghlMix))
	fmt.Fprintf(&b, "  AD calls %d, client retries %d, failed polls %d; faults injected %s\n", adCalls, adRetries.Load(), pollFailures, mixText(adMix))
	fmt.Fprintf(&b, "  engine jobs: %s\n", statsText(snap.Jobs))
	fmt.Fprintf(&b, "  goroutines: %d at the start, %d at the end\n", goStart, goEnd)
	fmt.Fprintf(&b, "  heap in use (sampled every second, %d samples): min %s, max %s, final %s; live after GC: first quarter max %s, last quarter max %s",
		len(samples), mib(minOf(samples, inUse)), mib(maxOf(samples, inUse)), mib(lastOf(samples, inUse)),
		mib(maxOf(quarter(samples, 0), live)), mib(maxOf(quarter(samples, 3), live)))
	t.Log(b.String())

	if !done {
		t.Fatalf("the soak did not finish before its deadline (polled: %v); outbox: %v", polled.Load(), snap.Queue)
	}
	soakCheck(t, r, snap, ids, contacts)
	if goEnd > goStart+soakGoroutineSlack {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines at the end, %d at the start: some are left behind:\n%s", goEnd, goStart, buf[:runtime.Stack(buf, true)])
	}
	if len(samples) < 8 {
		t.Logf("memory: only %d samples; too few quarters to judge flatness", len(samples))
	} else if first, last := maxOf(quarter(samples, 0), live), maxOf(quarter(samples, 3), live); float64(last) > soakHeapFactor*float64(first) {
		t.Errorf("live heap grew from %s (first quarter) to %s (last quarter), more than ×%.1f", mib(first), mib(last), soakHeapFactor)
	}
}

// soakFill adds n messages across n/soakPerContact contacts to the
// ActiveDEMAND sandbox directly (not over HTTP, so its faults do not
// apply) and returns the message ids and the contacts' emails.
func soakFill(t *testing.T, as *adtest.Server, n int) (ids, emails []string) {
	t.Helper()
	nc := max(n/soakPerContact, 1)
	contacts := make([]activedemand.ID, nc)
	convs := make([]activedemand.ID, nc)
	for i := range nc {
		email := fmt.Sprintf("soak%d@example.com", i)
		c, err := as.AddContact(adtest.NewContact{FirstName: "Soak", LastName: fmt.Sprint(i), Email: email, Phone: fmt.Sprintf("+1902555%04d", i)})
		if err != nil {
			t.Fatal(err)
		}
		contacts[i] = c.ID
		emails = append(emails, email)
	}
	for i := range n {
		k := i % nc
		dir := activedemand.Inbound
		if i%3 == 0 {
			dir = activedemand.Outbound
		}
		m, err := as.AddMessage(adtest.NewMessage{ConversationID: convs[k], ContactID: contacts[k], Channel: "sms",
			Direction: dir, Body: fmt.Sprintf("soak message %d", i), At: t0.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		convs[k] = m.ConversationID
		ids = append(ids, string(m.ID))
	}
	return ids, emails
}

// soakCheck is the soak's verdict on what HighLevel, the outbox, the id
// map and history hold.
func soakCheck(t *testing.T, r *rig, snap engine.Snapshot, ids, emails []string) {
	t.Helper()
	for kind, q := range snap.Queue {
		if q[store.OutboxPending]+q[store.OutboxInFlight]+q[store.OutboxDead] != 0 {
			t.Errorf("%s jobs: %v, want every one done", kind, q)
		}
	}
	if tr := r.gs.Traffic(); tr.Deliveries != 0 || tr.Records != len(ids) {
		t.Errorf("traffic %+v, want %d records and no delivery", tr, len(ids))
	}
	if n := r.gs.Calls("POST /conversations/messages"); n != 0 {
		t.Errorf("%d requests to the delivery route", n)
	}
	byAlt := r.byAltID()
	missing, doubled := 0, 0
	for _, id := range ids {
		switch byAlt[id] {
		case 1:
		case 0:
			missing++
		default:
			doubled++
			if doubled <= 5 {
				t.Errorf("AD message %s is in HighLevel %d times", id, byAlt[id])
			}
		}
	}
	if missing+doubled > 0 || len(byAlt) != len(ids) {
		t.Errorf("%d messages missing from HighLevel, %d there more than once; HighLevel holds %d altIds for %d messages", missing, doubled, len(byAlt), len(ids))
	}
	perEmail := map[string]int{}
	for _, c := range r.gs.Contacts() {
		perEmail[c.Email]++
	}
	for _, e := range emails {
		if perEmail[e] != 1 {
			t.Errorf("contact %s is in HighLevel %d times", e, perEmail[e])
		}
	}

	// History agrees with the id map: each message has a row that
	// recorded it or found it recorded, and every such row names the
	// HighLevel message the id map links, which carries its altId.
	ghlByID := map[string]string{} // GHL message id -> altId
	for _, cv := range r.gs.Conversations() {
		for _, m := range r.gs.Messages(cv.ID) {
			ghlByID[m.ID] = m.AltID
		}
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	found := map[string]int{}
	outcomes := map[store.Outcome]int{}
	bad := 0
	for _, h := range r.history() {
		if h.Operation != store.OpInboundRecord && h.Operation != store.OpOutboundRecord {
			continue
		}
		outcomes[h.Outcome]++
		if h.Outcome != store.OutcomeOK && h.Outcome != store.OutcomeSkipped {
			continue
		}
		if !want[h.LocalID] {
			t.Errorf("history row %+v is for no AD message", h)
			continue
		}
		found[h.LocalID]++
		linked, ok, err := r.st.GHLIDFor(context.Background(), store.KindMessage, h.LocalID)
		if err != nil {
			t.Fatal(err)
		}
		if !ok || h.RemoteID != linked || ghlByID[linked] != h.LocalID {
			bad++
			if bad <= 5 {
				t.Errorf("message %s: history says %s, the id map %q (linked %v), HighLevel's %q has altId %q", h.LocalID, h.RemoteID, linked, ok, linked, ghlByID[linked])
			}
		}
	}
	for _, id := range ids {
		if found[id] == 0 {
			t.Errorf("message %s has no history row that recorded or found it", id)
		}
	}
	t.Logf("record history rows by outcome: %v", outcomes)
}

// heapSample is one reading of the runtime's memory metrics.
type heapSample struct {
	at time.Duration
	// inUse is the heap's live and not-yet-collected objects; live is
	// what the last GC found reachable.
	inUse, live uint64
}

func inUse(s heapSample) uint64 { return s.inUse }
func live(s heapSample) uint64  { return s.live }

// heapSampler reads the heap metrics every interval until stopped. The
// metrics are read without stopping the world, so sampling does not
// disturb what it measures.
type heapSampler struct {
	stopc   chan struct{}
	done    chan struct{}
	samples []heapSample
}

func startHeapSampler(every time.Duration) *heapSampler {
	h := &heapSampler{stopc: make(chan struct{}), done: make(chan struct{})}
	m := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	start := time.Now()
	read := func() {
		metrics.Read(m)
		h.samples = append(h.samples, heapSample{at: time.Since(start), inUse: m[0].Value.Uint64(), live: m[1].Value.Uint64()})
	}
	go func() {
		defer close(h.done)
		t := time.NewTicker(every)
		defer t.Stop()
		read()
		for {
			select {
			case <-h.stopc:
				read()
				return
			case <-t.C:
				read()
			}
		}
	}()
	return h
}

// stop ends sampling, waits for the sampler and returns its samples.
func (h *heapSampler) stop() []heapSample {
	close(h.stopc)
	<-h.done
	return h.samples
}

// quarter returns the samples of the run's quarter q (0 to 3), by time.
func quarter(s []heapSample, q int) []heapSample {
	if len(s) == 0 {
		return nil
	}
	end := s[len(s)-1].at
	var out []heapSample
	for _, x := range s {
		if i := min(int(4*x.at/max(end, 1)), 3); i == q {
			out = append(out, x)
		}
	}
	return out
}

func maxOf(s []heapSample, f func(heapSample) uint64) uint64 {
	var m uint64
	for _, x := range s {
		m = max(m, f(x))
	}
	return m
}

func minOf(s []heapSample, f func(heapSample) uint64) uint64 {
	if len(s) == 0 {
		return 0
	}
	m := f(s[0])
	for _, x := range s[1:] {
		m = min(m, f(x))
	}
	return m
}

func lastOf(s []heapSample, f func(heapSample) uint64) uint64 {
	if len(s) == 0 {
		return 0
	}
	return f(s[len(s)-1])
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// mixText lists a mix's injected faults by kind, e.g. "status-503 12, ...".
func mixText(m *sandboxkit.FaultMix) string {
	st := m.Stats()
	total := 0
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(st.Injected)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, st.Injected[k]))
		total += st.Injected[k]
	}
	return fmt.Sprintf("%d of %d calls (%s)", total, st.Calls, strings.Join(parts, ", "))
}

func statsText(s map[string]engine.KindStats) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s)) {
		parts = append(parts, fmt.Sprintf("%s done %d, retried %d, failed %d", k, s[k].Done, s[k].Retried, s[k].Failed))
	}
	return strings.Join(parts, "; ")
}

// idleCloser is a transport that counts the calls to close its idle
// connections.
type idleCloser struct {
	http.RoundTripper
	closed atomic.Int32
}

func (c *idleCloser) CloseIdleConnections() { c.closed.Add(1) }

// TestTransportsCloseIdleConnections: the engine's wrappers around the
// HighLevel client's transport pass CloseIdleConnections on, so that
// ghl.Client.CloseIdleConnections closes the connections of a finished
// run instead of leaving them (and a goroutine pair each) to the idle
// timeout. The soak found them left behind.
func TestTransportsCloseIdleConnections(t *testing.T) {
	for name, wrap := range map[string]func(http.RoundTripper) http.RoundTripper{
		"Transport":     engine.Transport,
		"Control.Meter": engine.NewControl(newStore(t)).Meter,
		"both, as a run": func(rt http.RoundTripper) http.RoundTripper {
			return engine.Transport(engine.NewControl(nil).Meter(rt))
		},
	} {
		next := &idleCloser{RoundTripper: http.DefaultTransport}
		(&http.Client{Transport: wrap(next)}).CloseIdleConnections()
		if next.closed.Load() != 1 {
			t.Errorf("%s: the wrapped transport's idle connections were not closed", name)
		}
	}
}
