package activedemand

// ASSUMED LAYER, webhooks. ActiveDEMAND sends instant contact events
// ("Watch New Contacts / Updated Contacts" in Make and Zapier), but the
// payload and any signing are not public. Parley assumes:
//
//	POST <receiver URL>
//	<timestamp header>: Unix seconds
//	<signature header>: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//	{"id": "<event id>", "type": "contact.updated", "occurred_at": "<RFC 3339>",
//	 "data": {"contact_id": 123, "conversation_id": 456, "message_id": 789, "status": "read"}}
//
// The header names come from the route table ([webhook] in the routes file).

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Event is one webhook event.
type Event struct {
	// ID identifies the event; redeliveries carry the same ID.
	ID         string
	Type       EventType
	OccurredAt time.Time
	// The records the event is about; any may be empty.
	ContactID, ConversationID, MessageID ID
	// Status is set for message.status_changed.
	Status MessageStatus
	// Data is the raw data object, for fields this package does not read.
	Data json.RawMessage
}

// EncodeEvent renders e in the assumed wire format (the sandbox sends it).
func EncodeEvent(e Event) ([]byte, error) {
	data := map[string]any{}
	if len(e.Data) > 0 {
		if err := json.Unmarshal(e.Data, &data); err != nil {
			return nil, fmt.Errorf("activedemand: encode event: data: %w", err)
		}
	}
	// Ids go out as numbers, as AD sends them, unless the number would
	// not read back as the same text (leading zeros, a sign).
	set := func(k string, id ID) {
		if id == "" {
			return
		}
		if n, err := strconv.ParseInt(string(id), 10, 64); err == nil && strconv.FormatInt(n, 10) == string(id) {
			data[k] = n
		} else {
			data[k] = string(id)
		}
	}
	set("contact_id", e.ContactID)
	set("conversation_id", e.ConversationID)
	set("message_id", e.MessageID)
	if e.Status != "" {
		data["status"] = string(e.Status)
	}
	at := e.OccurredAt
	if at.IsZero() {
		at = time.Now()
	}
	return json.Marshal(map[string]any{"id": e.ID, "type": string(e.Type), "occurred_at": at.UTC().Format(time.RFC3339Nano), "data": data})
}

// ParseEvent reads a webhook body. Fields may sit under "data" or at the
// top level; ids may be numbers or text.
func ParseEvent(body []byte) (Event, error) {
	const op = "read webhook event"
	v, err := parseJSON(op, body)
	if err != nil {
		return Event{}, err
	}
	top, ok := v.(object)
	if !ok {
		return Event{}, &DecodeError{Op: op, Index: -1, Problem: "want an object, got " + kindOf(v)}
	}
	f := newFields(op, -1, top)
	e := Event{
		ID:         f.str("id", "event_id"),
		Type:       EventType(f.str("type", "event", "event_type")),
		OccurredAt: f.time("occurred_at", "created_at", "timestamp"),
	}
	src := f
	if d := f.object("data"); d != nil {
		src = f.nested("data", d)
		e.Data, _ = json.Marshal(d)
	}
	e.ContactID = src.id("contact_id")
	e.ConversationID = src.id("conversation_id")
	e.MessageID = src.id("message_id")
	e.Status = MessageStatus(src.str("status"))
	if e.ContactID == "" && src != f {
		// Some senders put the contact itself under data.
		if c := src.object("contact"); c != nil {
			e.ContactID = src.nested("contact", c).id("id")
		}
	}
	if f.err != nil {
		return Event{}, f.err
	}
	if strings.TrimSpace(e.ID) == "" {
		return Event{}, &DecodeError{Op: op, Index: -1, Field: "id", Problem: "missing; an event needs an id so redeliveries can be recognised"}
	}
	if e.Type == "" {
		return Event{}, &DecodeError{Op: op, Index: -1, Field: "type", Problem: "missing"}
	}
	return e, nil
}

// SignWebhook returns the signature header value for a body sent at
// timestamp (Unix seconds): "sha256=" and the hex HMAC-SHA256 of
// timestamp + "." + body under secret.
func SignWebhook(secret Secret, timestamp int64, body []byte) string {
	return "sha256=" + hex.EncodeToString(webhookMAC(secret, strconv.FormatInt(timestamp, 10), body))
}

func webhookMAC(secret Secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret.Reveal()))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// WebhookConfig configures a WebhookReceiver.
type WebhookConfig struct {
	// Secret is the shared signing secret; required.
	Secret Secret
	// Routes supplies the signature and timestamp header names; the zero
	// value uses the defaults.
	Routes Routes
	// Tolerance is how far a timestamp may be from now; default 5 minutes.
	Tolerance time.Duration
	// MaxBody is the largest accepted body; default 1 MiB.
	MaxBody int64
	// QueueSize is how many events may wait for the consumer; when full
	// the receiver answers 503 so the sender retries later. Default 64.
	QueueSize int
	// SeenSize bounds the cache of delivered event ids used to answer
	// redeliveries without delivering twice; default 10000. It must hold
	// more events than arrive within Tolerance.
	SeenSize int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives a line per rejected request; nil discards them.
	Logger *slog.Logger
}

// WebhookStats counts what the receiver did.
type WebhookStats struct {
	Delivered, Duplicates, Rejected, Full int64
}

// WebhookReceiver is an http.Handler for ActiveDEMAND webhooks: it checks
// the signature and timestamp, drops redeliveries, and queues events on
// Events. It never drops an event silently: when the queue is full it
// answers 503 so the sender tries again.
type WebhookReceiver struct {
	cfg    WebhookConfig
	format WebhookFormat
	events chan Event
	log    *slog.Logger

	mu   sync.Mutex
	seen map[string]struct{}
	ring []string
	next int

	delivered, duplicates, rejected, full atomic.Int64

	listenMu  sync.Mutex
	listening bool
	wg        sync.WaitGroup
	serveErr  error
}

// NewWebhookReceiver checks cfg and returns a receiver.
func NewWebhookReceiver(cfg WebhookConfig) (*WebhookReceiver, error) {
	if !cfg.Secret.IsSet() {
		return nil, errors.New("activedemand: webhook receiver: no signing secret configured; set the same secret in ActiveDEMAND and in Parley")
	}
	if cfg.Tolerance <= 0 {
		cfg.Tolerance = 5 * time.Minute
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 64
	}
	if cfg.SeenSize <= 0 {
		cfg.SeenSize = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &WebhookReceiver{
		cfg:    cfg,
		format: cfg.Routes.Webhook(),
		events: make(chan Event, cfg.QueueSize),
		log:    cfg.Logger,
		seen:   make(map[string]struct{}, cfg.SeenSize),
		ring:   make([]string, cfg.SeenSize),
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// String describes the receiver without its secret.
func (r *WebhookReceiver) String() string {
	return fmt.Sprintf("activedemand.WebhookReceiver{signature header: %s, secret: %s}", r.format.SignatureHeader, redacted)
}

// Events is where accepted events arrive, each once.
func (r *WebhookReceiver) Events() <-chan Event { return r.events }

// Stats returns the counters.
func (r *WebhookReceiver) Stats() WebhookStats {
	return WebhookStats{Delivered: r.delivered.Load(), Duplicates: r.duplicates.Load(), Rejected: r.rejected.Load(), Full: r.full.Load()}
}

func (r *WebhookReceiver) reject(w http.ResponseWriter, req *http.Request, status int, msg string) {
	r.rejected.Add(1)
	r.log.InfoContext(req.Context(), "activedemand webhook rejected", "status", status, "reason", msg, "remote", req.RemoteAddr)
	http.Error(w, msg, status)
}

// ServeHTTP handles one webhook delivery.
func (r *WebhookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		r.reject(w, req, http.StatusMethodNotAllowed, "webhooks are POSTed")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, r.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			r.reject(w, req, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", r.cfg.MaxBody))
			return
		}
		r.reject(w, req, http.StatusBadRequest, "could not read the body")
		return
	}
	sig := strings.TrimSpace(req.Header.Get(r.format.SignatureHeader))
	ts := strings.TrimSpace(req.Header.Get(r.format.TimestampHeader))
	if sig == "" || ts == "" {
		r.reject(w, req, http.StatusUnauthorized, "unsigned: "+r.format.SignatureHeader+" and "+r.format.TimestampHeader+" are required")
		return
	}
	got, err := hex.DecodeString(strings.TrimPrefix(sig, "sha256="))
	if err != nil || !hmac.Equal(got, webhookMAC(r.cfg.Secret, ts, body)) {
		r.reject(w, req, http.StatusUnauthorized, "bad signature")
		return
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		r.reject(w, req, http.StatusBadRequest, "timestamp is not Unix seconds")
		return
	}
	if d := r.cfg.Now().Sub(time.Unix(secs, 0)); d > r.cfg.Tolerance || d < -r.cfg.Tolerance {
		r.reject(w, req, http.StatusBadRequest, "stale: timestamp is outside the accepted window")
		return
	}
	ev, err := ParseEvent(body)
	if err != nil {
		r.reject(w, req, http.StatusBadRequest, err.Error())
		return
	}
	switch r.deliver(ev) {
	case deliverDuplicate:
		r.duplicates.Add(1)
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "duplicate, already delivered\n")
	case deliverFull:
		r.full.Add(1)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "busy: too many events waiting; retry later", http.StatusServiceUnavailable)
	default:
		r.delivered.Add(1)
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok\n")
	}
}

type deliverResult int

const (
	delivered deliverResult = iota
	deliverDuplicate
	deliverFull
)

// deliver queues ev unless its id was delivered before. The id is only
// remembered once queued, so an event refused for a full queue is accepted
// when the sender retries.
func (r *WebhookReceiver) deliver(ev Event) deliverResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.seen[ev.ID]; dup {
		return deliverDuplicate
	}
	select {
	case r.events <- ev:
	default:
		return deliverFull
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.seen, old)
	}
	r.ring[r.next] = ev.ID
	r.next = (r.next + 1) % len(r.ring)
	r.seen[ev.ID] = struct{}{}
	return delivered
}

// Listen serves the receiver on addr (default "127.0.0.1:0", loopback on a
// free port) until ctx is done, and returns the URL to register with
// ActiveDEMAND. Wait blocks until the server has stopped.
func (r *WebhookReceiver) Listen(ctx context.Context, addr string) (string, error) {
	r.listenMu.Lock()
	defer r.listenMu.Unlock()
	if r.listening {
		return "", errors.New("activedemand: webhook receiver: already listening")
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("activedemand: webhook receiver: listen on %s: %w", addr, err)
	}
	r.listening = true
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
	stopped := make(chan struct{})
	r.wg.Go(func() {
		defer close(stopped)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.listenMu.Lock()
			r.serveErr = err
			r.listenMu.Unlock()
		}
	})
	r.wg.Go(func() {
		select {
		case <-ctx.Done():
		case <-stopped:
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
	})
	return "http://" + ln.Addr().String() + "/", nil
}

// Wait blocks until a server started by Listen has stopped (its context
// ended) and returns its serving error, if any.
func (r *WebhookReceiver) Wait() error {
	r.wg.Wait()
	r.listenMu.Lock()
	defer r.listenMu.Unlock()
	return r.serveErr
}

// PostWebhook sends ev to url signed with secret, as ActiveDEMAND is
// assumed to; the sandbox uses it, and it helps test a receiver by hand.
// It returns the HTTP status.
func PostWebhook(ctx context.Context, hc *http.Client, url string, routes Routes, secret Secret, ev Event, now time.Time) (int, error) {
	body, err := EncodeEvent(ev)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("activedemand: post webhook: %w", err)
	}
	f := routes.Webhook()
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(f.TimestampHeader, strconv.FormatInt(ts, 10))
	req.Header.Set(f.SignatureHeader, SignWebhook(secret, ts, body))
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("activedemand: post webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}
