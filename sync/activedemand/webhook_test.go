package activedemand_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
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

func TestWebhookSeenCacheIsBounded(t *testing.T) {
	r, u := startReceiver(t, activedemand.WebhookConfig{SeenSize: 2, QueueSize: 8})
	now := time.Now()
	send := func(id string) int {
		b := event(id)
		ts, sig := signed(b, now)
		status, _ := post(t, "POST", u, b, ts, sig)
		return status
	}
	for _, id := range []string{"a", "b", "c"} {
		if st := send(id); st != 200 {
			t.Fatalf("%s: %d", id, st)
		}
	}
	// "a" fell out of the two-entry cache, "c" did not.
	send("a")
	send("c")
	if st := r.Stats(); st.Delivered != 4 || st.Duplicates != 1 {
		t.Errorf("stats = %+v, want 4 delivered (a again) and 1 duplicate (c)", st)
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
