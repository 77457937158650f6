package activedemand_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
	"parley/sync/internal/sandboxkit"
)

const hookSecret = "hook-secret"

// startReceiver serves a receiver on loopback until the test ends.
func startReceiver(t *testing.T, cfg activedemand.WebhookConfig) (*activedemand.WebhookReceiver, string) {
	t.Helper()
	if cfg.Secret == "" {
		cfg.Secret = hookSecret
	}
	r, err := activedemand.NewWebhookReceiver(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	u, err := r.Listen(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := r.Wait(); err != nil {
			t.Error(err)
		}
	})
	if !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Errorf("receiver URL %s is not on loopback", u)
	}
	return r, u
}

// post sends body with the given timestamp and signature headers; empty
// values leave a header out.
func post(t *testing.T, method, u string, body []byte, ts, sig string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ts != "" {
		req.Header.Set("X-ActiveDEMAND-Timestamp", ts)
	}
	if sig != "" {
		req.Header.Set("X-ActiveDEMAND-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	return resp.StatusCode, string(b)
}

func event(id string) []byte {
	return []byte(fmt.Sprintf(`{"id":%q,"type":"contact.updated","occurred_at":"2025-06-01T10:00:00Z","data":{"contact_id":4100001}}`, id))
}

func signed(body []byte, at time.Time) (string, string) {
	ts := at.Unix()
	return strconv.FormatInt(ts, 10), activedemand.SignWebhook(hookSecret, ts, body)
}

func TestWebhookReceiverRejects(t *testing.T) {
	r, u := startReceiver(t, activedemand.WebhookConfig{MaxBody: 1024})
	now := time.Now()
	good := event("evt_1")
	ts, sig := signed(good, now)
	big := []byte(`{"id":"evt_big","type":"contact.updated","pad":"` + strings.Repeat("x", 2000) + `"}`)
	bigTS, bigSig := signed(big, now)
	staleTS, staleSig := signed(good, now.Add(-10*time.Minute))
	futureTS, futureSig := signed(good, now.Add(10*time.Minute))
	notJSON := []byte("hello")
	njTS, njSig := signed(notJSON, now)
	noID := []byte(`{"type":"contact.updated"}`)
	niTS, niSig := signed(noID, now)
	tests := []struct {
		name     string
		method   string
		body     []byte
		ts, sig  string
		status   int
		contains string
	}{
		{"unsigned", "POST", good, "", "", 401, "unsigned"},
		{"no timestamp", "POST", good, "", sig, 401, "unsigned"},
		{"bad signature", "POST", good, ts, activedemand.SignWebhook("other-secret", now.Unix(), good), 401, "bad signature"},
		{"signature not hex", "POST", good, ts, "sha256=zzzz", 401, "bad signature"},
		{"body changed after signing", "POST", event("evt_2"), ts, sig, 401, "bad signature"},
		{"timestamp changed after signing", "POST", good, strconv.FormatInt(now.Unix()+1, 10), sig, 401, "bad signature"},
		{"stale", "POST", good, staleTS, staleSig, 400, "stale"},
		{"from the future", "POST", good, futureTS, futureSig, 400, "stale"},
		{"oversize", "POST", big, bigTS, bigSig, 413, "larger than 1024"},
		{"not JSON", "POST", notJSON, njTS, njSig, 400, "not JSON"},
		{"no event id", "POST", noID, niTS, niSig, 400, "needs an id"},
		{"GET", "GET", nil, "", "", 405, "POSTed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, tt.method, u, tt.body, tt.ts, tt.sig)
			if status != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("got %d %q, want %d containing %q", status, body, tt.status, tt.contains)
			}
		})
	}
	select {
	case ev := <-r.Events():
		t.Errorf("a rejected request delivered %+v", ev)
	default:
	}
	if st := r.Stats(); st.Rejected != int64(len(tests)) || st.Delivered != 0 {
		t.Errorf("stats = %+v", st)
	}
	// The same signed request is fine (the rejections did not poison it).
	if status, _ := post(t, "POST", u, good, ts, sig); status != 200 {
		t.Errorf("good request after rejections: %d", status)
	}
	// The sha256= prefix is assumed, so a bare digest is accepted too.
	bare := event("evt_bare")
	bts, bsig := signed(bare, now)
	if status, _ := post(t, "POST", u, bare, bts, strings.TrimPrefix(bsig, "sha256=")); status != 200 {
		t.Errorf("bare hex signature: %d", status)
	}
}

func TestWebhookReceiverDelivers(t *testing.T) {
	r, u := startReceiver(t, activedemand.WebhookConfig{Secret: adtest.DefaultWebhookSecret})
	s := adtest.NewTestServer(t, adtest.Options{})
	ev := activedemand.Event{ID: "evt_a", Type: activedemand.EventMessageStatus, ContactID: "4100001", ConversationID: "5200001", MessageID: "6000100001", Status: activedemand.MessageRead}
	for range 2 {
		status, err := s.PostWebhook(t.Context(), u, adtest.DefaultWebhookSecret, ev)
		if err != nil || status != 200 {
			t.Fatalf("post: %d %v", status, err)
		}
	}
	got := <-r.Events()
	if got.ID != ev.ID || got.Type != ev.Type || got.ContactID != ev.ContactID || got.ConversationID != ev.ConversationID ||
		got.MessageID != ev.MessageID || got.Status != ev.Status || got.OccurredAt.IsZero() {
		t.Errorf("event = %+v, want %+v", got, ev)
	}
	select {
	case dup := <-r.Events():
		t.Errorf("the redelivery was delivered again: %+v", dup)
	default:
	}
	if st := r.Stats(); st.Delivered != 1 || st.Duplicates != 1 {
		t.Errorf("stats = %+v, want 1 delivered, 1 duplicate", st)
	}
}

func TestWebhookReceiverFullQueue(t *testing.T) {
	r, u := startReceiver(t, activedemand.WebhookConfig{QueueSize: 1})
	now := time.Now()
	e1, e2 := event("evt_q1"), event("evt_q2")
	ts1, sig1 := signed(e1, now)
	ts2, sig2 := signed(e2, now)
	if status, _ := post(t, "POST", u, e1, ts1, sig1); status != 200 {
		t.Fatalf("first event: %d", status)
	}
	if status, body := post(t, "POST", u, e2, ts2, sig2); status != 503 {
		t.Fatalf("second event with a full queue: %d %q, want 503", status, body)
	}
	if got := <-r.Events(); got.ID != "evt_q1" {
		t.Fatalf("got %s", got.ID)
	}
	// The sender retries; the refused event was not remembered as seen.
	if status, _ := post(t, "POST", u, e2, ts2, sig2); status != 200 {
		t.Fatalf("retry after the queue drained: %d", status)
	}
	if got := <-r.Events(); got.ID != "evt_q2" {
		t.Fatalf("got %s", got.ID)
	}
	if st := r.Stats(); st.Full != 1 || st.Delivered != 2 {
		t.Errorf("stats = %+v", st)
	}
}

// newClock is a test clock that moves only when told to.
func newClock() *sandboxkit.ManualClock { return sandboxkit.NewManualClock(time.Now()) }

// request is one signed webhook request, as captured on the wire.
type request struct {
	body    []byte
	ts, sig string
}

func capture(id string, at time.Time) request {
	b := event(id)
	ts, sig := signed(b, at)
	return request{b, ts, sig}
}

func (r request) send(t *testing.T, u string) (int, string) {
	t.Helper()
	return post(t, "POST", u, r.body, r.ts, r.sig)
}

// drain empties the receiver's queue and returns the ids it held.
func drain(r *activedemand.WebhookReceiver) []string {
	var ids []string
	for {
		select {
		case ev := <-r.Events():
			ids = append(ids, ev.ID)
		default:
			return ids
		}
	}
}

// TestWebhookReplayAfterManyEvents replays a captured request after more
// events than the id set holds: it was once accepted again, because the
// oldest ids were dropped to make room whatever their age.
func TestWebhookReplayAfterManyEvents(t *testing.T) {
	const size = 50
	clk := newClock()
	r, u := startReceiver(t, activedemand.WebhookConfig{SeenSize: size, QueueSize: size + 10, Now: clk.Now})
	first := capture("evt_0", clk.Now())
	if st, _ := first.send(t, u); st != 200 {
		t.Fatalf("first event: %d", st)
	}
	for i := 1; i < size; i++ {
		if st, _ := capture(fmt.Sprintf("evt_%d", i), clk.Now()).send(t, u); st != 200 {
			t.Fatalf("event %d: %d", i, st)
		}
	}
	// The set is full of ids still inside the window: a new id cannot be
	// remembered, so it is refused for now rather than accepted unguarded.
	status, body := capture("evt_new", clk.Now()).send(t, u)
	if status != http.StatusServiceUnavailable {
		t.Errorf("event beyond the id set: %d %q, want 503", status, body)
	}
	clk.Advance(time.Second)
	if st, _ := first.send(t, u); st != 200 {
		t.Errorf("replay: %d", st)
	}
	ids := drain(r)
	if len(ids) != size || slices.Contains(ids[1:], "evt_0") || slices.Contains(ids, "evt_new") {
		t.Errorf("delivered %d events (%v...), want each of the first %d once", len(ids), ids[:min(3, len(ids))], size)
	}
	if st := r.Stats(); st.Delivered != size || st.Duplicates != 1 || st.Full != 1 {
		t.Errorf("stats = %+v, want %d delivered, 1 duplicate, 1 full", st, size)
	}

	// Once the window has passed, the old ids can go: the captured request
	// is stale, and new events are accepted again.
	clk.Advance(11 * time.Minute)
	if st, body := first.send(t, u); st != http.StatusBadRequest || !strings.Contains(body, "stale") {
		t.Errorf("replay after the window: %d %q, want 400 stale", st, body)
	}
	if st, _ := capture("evt_new", clk.Now()).send(t, u); st != 200 {
		t.Errorf("new event after the window: %d", st)
	}
	if ids := drain(r); !slices.Equal(ids, []string{"evt_new"}) {
		t.Errorf("delivered %v, want evt_new", ids)
	}
}

// TestWebhookIDsKeptForTheWindow checks that an id is remembered for as
// long as a request carrying it can pass the timestamp check: a request
// may be signed up to the tolerance ahead of the receiver's clock, so
// dropping ids once they are a tolerance old is not enough.
func TestWebhookIDsKeptForTheWindow(t *testing.T) {
	clk := newClock()
	r, u := startReceiver(t, activedemand.WebhookConfig{SeenSize: 2, Now: clk.Now})
	ahead := capture("evt_ahead", clk.Now().Add(4*time.Minute))
	for _, req := range []request{ahead, capture("evt_b", clk.Now())} {
		if st, _ := req.send(t, u); st != 200 {
			t.Fatalf("first delivery: %d", st)
		}
	}
	clk.Advance(8 * time.Minute) // ahead is still inside its window
	if st, _ := capture("evt_c", clk.Now()).send(t, u); st != http.StatusServiceUnavailable {
		t.Errorf("new event while the set holds ids in their window: %d, want 503", st)
	}
	if st, _ := ahead.send(t, u); st != 200 {
		t.Fatalf("replay: %d", st)
	}
	if ids := drain(r); !slices.Equal(ids, []string{"evt_ahead", "evt_b"}) {
		t.Errorf("delivered %v, want evt_ahead and evt_b once", ids)
	}
}

// memLog is a DeliveryLog in memory, standing in for the store.
type memLog struct {
	mu     sync.Mutex
	at     map[string]time.Time
	fail   error
	forgot []time.Time
}

func newMemLog() *memLog { return &memLog{at: map[string]time.Time{}} }

func (l *memLog) RememberDelivery(ctx context.Context, id string, at time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return false, l.fail
	}
	if _, ok := l.at[id]; ok {
		return false, nil
	}
	l.at[id] = at
	return true, nil
}

func (l *memLog) ForgetDeliveries(ctx context.Context, before time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgot = append(l.forgot, before)
	for id, at := range l.at {
		if at.Before(before) {
			delete(l.at, id)
		}
	}
	return nil
}

func (l *memLog) has(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.at[id]
	return ok
}

// TestWebhookReplayAfterRestart replays a captured request to a new
// receiver sharing the delivery log, as after Parley restarts.
func TestWebhookReplayAfterRestart(t *testing.T) {
	log := newMemLog()
	clk := newClock()
	r1, u1 := startReceiver(t, activedemand.WebhookConfig{Log: log, Now: clk.Now})
	req := capture("evt_r", clk.Now())
	if st, _ := req.send(t, u1); st != 200 {
		t.Fatalf("first delivery: %d", st)
	}
	if ids := drain(r1); !slices.Equal(ids, []string{"evt_r"}) {
		t.Fatalf("delivered %v", ids)
	}
	if !log.has("evt_r") {
		t.Fatal("the delivery was not logged")
	}

	clk.Advance(30 * time.Second)
	r2, u2 := startReceiver(t, activedemand.WebhookConfig{Log: log, Now: clk.Now})
	if st, body := req.send(t, u2); st != 200 || !strings.Contains(body, "duplicate") {
		t.Errorf("replay after restart: %d %q, want 200 duplicate", st, body)
	}
	if ids := drain(r2); len(ids) != 0 {
		t.Errorf("the replay was delivered after the restart: %v", ids)
	}
	if st := r2.Stats(); st.Duplicates != 1 || st.Delivered != 0 {
		t.Errorf("stats = %+v", st)
	}

	// Old ids are forgotten once their requests are stale everywhere.
	clk.Advance(15 * time.Minute)
	if st, _ := capture("evt_later", clk.Now()).send(t, u2); st != 200 {
		t.Fatalf("later event: %d", st)
	}
	if log.has("evt_r") || !log.has("evt_later") {
		t.Errorf("log after the window: evt_r kept %v, evt_later kept %v; want only evt_later", log.has("evt_r"), log.has("evt_later"))
	}
}

// TestWebhookLogFailure checks that an event whose delivery cannot be
// logged is refused for a retry, not delivered unguarded.
func TestWebhookLogFailure(t *testing.T) {
	log := newMemLog()
	log.fail = errors.New("disk I/O error")
	r, u := startReceiver(t, activedemand.WebhookConfig{Log: log})
	req := capture("evt_f", time.Now())
	if st, body := req.send(t, u); st != http.StatusServiceUnavailable || strings.Contains(body, "disk") {
		t.Errorf("log failing: %d %q, want 503 without the internal error", st, body)
	}
	if ids := drain(r); len(ids) != 0 {
		t.Errorf("delivered %v while the log failed", ids)
	}
	log.mu.Lock()
	log.fail = nil
	log.mu.Unlock()
	if st, _ := req.send(t, u); st != 200 {
		t.Errorf("retry after the log recovered: %d", st)
	}
	if ids := drain(r); !slices.Equal(ids, []string{"evt_f"}) {
		t.Errorf("delivered %v, want evt_f", ids)
	}
}

// countingBody counts the bytes a handler reads from a request body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestWebhookHeadersCheckedBeforeBody checks that a request whose headers
// cannot be right is refused without reading its body.
func TestWebhookHeadersCheckedBeforeBody(t *testing.T) {
	var recv atomic.Pointer[activedemand.WebhookReceiver]
	r, err := activedemand.NewWebhookReceiver(activedemand.WebhookConfig{Secret: hookSecret})
	if err != nil {
		t.Fatal(err)
	}
	recv.Store(r)
	var read atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req.Body = countingBody{req.Body, &read}
		recv.Load().ServeHTTP(w, req)
	}))
	defer srv.Close()
	now := time.Now()
	body := []byte(`{"id":"evt_big","type":"contact.updated","pad":"` + strings.Repeat("x", 1<<20-100) + `"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := activedemand.SignWebhook(hookSecret, now.Unix(), body)
	staleTS := strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)
	tests := []struct {
		name    string
		ts, sig string
		status  int
	}{
		{"no headers", "", "", 401},
		{"no signature", ts, "", 401},
		{"no timestamp", "", sig, 401},
		{"timestamp not a number", "soon", sig, 400},
		{"stale timestamp", staleTS, sig, 400},
		{"signature not sha256 hex", ts, "sha256=zz", 401},
		{"signature of the wrong length", ts, "sha256=abcd", 401},
		{"signature of another scheme", ts, "sha1=" + strings.TrimPrefix(sig, "sha256="), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read.Store(0)
			status, _ := post(t, "POST", srv.URL, body, tt.ts, tt.sig)
			if status != tt.status {
				t.Errorf("status %d, want %d", status, tt.status)
			}
			if n := read.Load(); n != 0 {
				t.Errorf("read %d bytes of the body before refusing the headers", n)
			}
		})
	}
	// A body announced larger than the limit is refused unread too.
	small, err := activedemand.NewWebhookReceiver(activedemand.WebhookConfig{Secret: hookSecret, MaxBody: 1024})
	if err != nil {
		t.Fatal(err)
	}
	recv.Store(small)
	read.Store(0)
	if status, _ := post(t, "POST", srv.URL, body, ts, sig); status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize body: %d, want 413", status)
	}
	if n := read.Load(); n != 0 {
		t.Errorf("read %d bytes of a body announced larger than the limit", n)
	}
}

func TestWebhookConfigChecks(t *testing.T) {
	if _, err := activedemand.NewWebhookReceiver(activedemand.WebhookConfig{}); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("no secret: err = %v", err)
	}
	r, err := activedemand.NewWebhookReceiver(activedemand.WebhookConfig{Secret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	if _, err := r.Listen(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Listen(ctx, ""); err == nil {
		t.Error("a second Listen succeeded")
	}
	cancel()
	if err := r.Wait(); err != nil {
		t.Errorf("Wait after cancel = %v", err)
	}
}

// TestWebhookReplayAfterRestartWithTheStore is the restart test with the
// store that Parley passes as the delivery log, closed and reopened between
// the two receivers as a restarted process would.
func TestWebhookReplayAfterRestartWithTheStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	open := func() *store.Store {
		db, err := store.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	clk := newClock()
	db := open()
	r1, u1 := startReceiver(t, activedemand.WebhookConfig{Log: db, Now: clk.Now})
	req := capture("evt_db", clk.Now())
	if st, _ := req.send(t, u1); st != 200 {
		t.Fatalf("first delivery: %d", st)
	}
	if ids := drain(r1); !slices.Equal(ids, []string{"evt_db"}) {
		t.Fatalf("delivered %v", ids)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	clk.Advance(30 * time.Second)
	db = open()
	t.Cleanup(func() { _ = db.Close() })
	r2, u2 := startReceiver(t, activedemand.WebhookConfig{Log: db, Now: clk.Now})
	if st, body := req.send(t, u2); st != 200 || !strings.Contains(body, "duplicate") {
		t.Errorf("replay after reopening the store: %d %q, want 200 duplicate", st, body)
	}
	if ids := drain(r2); len(ids) != 0 {
		t.Errorf("the replay was delivered after the restart: %v", ids)
	}
}
