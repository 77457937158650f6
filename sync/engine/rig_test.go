package engine_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/store"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
)

// rig is an engine wired to a fresh store and a GHL sandbox over loopback.
type rig struct {
	t     testing.TB
	st    *store.Store
	gs    *ghltest.Server
	gc    *ghl.Client
	clock *clock
	cfg   engine.Config
	// pollEvery is how often run checks its condition.
	pollEvery time.Duration
	// token is the client's private token, which nothing may store.
	token string
}

// clock is the engine's clock in tests: real time plus a skew the test
// moves forward to make leases run out.
type clock struct {
	mu   sync.Mutex
	skew time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skew)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.skew += d
	c.mu.Unlock()
}

type rigOptions struct {
	ghl       ghltest.Options
	transport func(http.RoundTripper) http.RoundTripper
	client    func(*ghl.Config)
}

func newRig(t testing.TB, o rigOptions) *rig {
	t.Helper()
	if o.ghl.RecordStatus == 0 {
		// The live API's other success status; the engine must take both.
		o.ghl.RecordStatus = http.StatusCreated
	}
	gs := ghltest.NewTestServer(t, o.ghl)
	var rt http.RoundTripper = http.DefaultTransport.(*http.Transport).Clone()
	if o.transport != nil {
		rt = o.transport(rt)
	}
	token := gs.PrivateToken()
	cfg := ghl.Config{
		BaseURL:        gs.URL(),
		LocationID:     gs.LocationID(),
		PrivateToken:   ghl.Secret(token),
		HTTPClient:     &http.Client{Transport: engine.Transport(rt)},
		RateLimit:      ghl.RateLimit{Disabled: true},
		Retry:          ghl.RetryPolicy{Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
		AttemptTimeout: 5 * time.Second,
	}
	if o.client != nil {
		o.client(&cfg)
	}
	gc, err := ghl.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gc.CloseIdleConnections)
	r := &rig{t: t, st: newStore(t), gs: gs, gc: gc, clock: &clock{}, pollEvery: 25 * time.Millisecond, token: token}
	r.cfg = engine.Config{Store: r.st, GHL: gc, ProviderID: gs.ConversationProviderID(), Now: r.clock.now,
		PollInterval: 20 * time.Millisecond, Lease: time.Minute}
	return r
}

func (r *rig) engine(mut ...func(*engine.Config)) *engine.Engine {
	r.t.Helper()
	cfg := r.cfg
	for _, m := range mut {
		m(&cfg)
	}
	e, err := engine.New(cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	return e
}

// queue enqueues contact and message jobs.
func (r *rig) queue(jobs ...any) {
	r.t.Helper()
	var out []store.OutboxJob
	for _, j := range jobs {
		b, err := json.Marshal(j)
		if err != nil {
			r.t.Fatal(err)
		}
		switch j := j.(type) {
		case engine.ContactJob:
			out = append(out, store.OutboxJob{Kind: engine.JobMirrorContact, Key: j.Key(), Payload: b})
		case engine.MessageJob:
			out = append(out, store.OutboxJob{Kind: engine.JobMirrorMessage, Key: j.Key(), Payload: b})
		default:
			r.t.Fatalf("queue: %T is not a job", j)
		}
	}
	if _, err := r.st.EnqueueBatch(context.Background(), out); err != nil {
		r.t.Fatal(err)
	}
}

// settled reports whether no job is pending or in flight.
func (r *rig) settled() bool {
	c, err := r.st.OutboxCounts(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return c[store.OutboxPending]+c[store.OutboxInFlight] == 0
}

// run runs e until until() holds (default: the queue is settled), then
// stops it and returns Run's error.
func (r *rig) run(e *engine.Engine, until func() bool) {
	r.t.Helper()
	if until == nil {
		until = r.settled
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	// Generous: a wait, not a measurement. The whole demo business with
	// its media takes ~7 s alone but minutes under -race on a busy machine.
	deadline := time.Now().Add(4 * time.Minute)
	for !until() {
		if time.Now().After(deadline) {
			cancel()
			<-done
			r.t.Fatalf("the engine did not get there in time; outbox: %v", r.items())
		}
		time.Sleep(r.pollEvery)
	}
	cancel()
	if err := <-done; err != nil {
		r.t.Fatalf("Run: %v", err)
	}
}

func (r *rig) items() []store.OutboxItem {
	var out []store.OutboxItem
	for id := int64(1); ; id++ {
		it, err := r.st.OutboxItemByID(context.Background(), id)
		if err != nil {
			return out
		}
		it.Payload = nil
		out = append(out, it)
	}
}

func (r *rig) item(key string) store.OutboxItem {
	r.t.Helper()
	for _, it := range r.items() {
		if it.Key == key {
			return it
		}
	}
	r.t.Fatalf("no outbox item %q", key)
	return store.OutboxItem{}
}

func (r *rig) history() []store.HistoryEntry {
	r.t.Helper()
	var all []store.HistoryEntry
	f := store.HistoryFilter{Limit: store.MaxHistoryLimit}
	for {
		page, err := r.st.HistoryPage(context.Background(), f)
		if err != nil {
			r.t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < f.Limit {
			return all
		}
		f.BeforeID = page[len(page)-1].ID
	}
}

// byAltID counts the sandbox's messages per altId, over every conversation.
func (r *rig) byAltID() map[string]int {
	n := map[string]int{}
	for _, cv := range r.gs.Conversations() {
		for _, m := range r.gs.Messages(cv.ID) {
			if m.AltID != "" {
				n[m.AltID]++
			}
		}
	}
	return n
}

func (r *rig) ghlID(kind store.EntityKind, adID string) string {
	r.t.Helper()
	id, ok, err := r.st.GHLIDFor(context.Background(), kind, adID)
	if err != nil || !ok {
		r.t.Fatalf("no GHL %s id for %q (%v)", kind, adID, err)
	}
	return id
}

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func contactJob(id, first, last, email, phone string) engine.ContactJob {
	return engine.ContactJob{V: engine.JobVersion, Source: engine.SourceAPI, ContactID: id, FirstName: first, LastName: last, Email: email, Phone: phone}
}

func messageJob(id string, c engine.ContactJob, channel, direction, body string, at time.Time) engine.MessageJob {
	return engine.MessageJob{V: engine.JobVersion, Source: engine.SourceAPI, MessageID: id,
		Conversation: engine.ConversationRef{ID: "cv-" + c.ContactID + "-" + channel},
		Contact:      engine.ContactRef{ID: c.ContactID, Name: c.FirstName + " " + c.LastName, Email: c.Email, Phone: c.Phone},
		Channel:      channel, Direction: direction, Body: body, SentAt: at}
}

// noSecrets fails the test if the token appears in history, alerts or the
// outbox's errors.
func (r *rig) noSecrets() {
	r.t.Helper()
	var texts []string
	for _, h := range r.history() {
		texts = append(texts, h.Error, h.LocalID, h.RemoteID)
	}
	alerts, err := r.st.RecentAlerts(context.Background(), 1000)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, a := range alerts {
		texts = append(texts, a.Message, a.Hint)
	}
	for _, it := range r.items() {
		texts = append(texts, it.LastError)
	}
	secret := strings.TrimPrefix(r.token, "pit-")
	for _, s := range texts {
		if strings.Contains(s, secret) {
			r.t.Errorf("the token is stored: %q", s)
		}
	}
}
