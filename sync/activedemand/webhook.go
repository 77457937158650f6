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
	// SeenSize bounds the set of delivered event ids used to answer
	// redeliveries and replays without delivering twice; default 10000.
	// An id is kept for twice the Tolerance (a request may be signed up to
	// Tolerance ahead of this clock and then stays acceptable for another
	// Tolerance); when the set is full of such ids, new events are refused
	// with 503 and Retry-After until the oldest expire, never accepted
	// unchecked. So at most SeenSize events are accepted per 2×Tolerance.
	SeenSize int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives a line per rejected request; nil discards them.
	Logger *slog.Logger
	// Log, when set, keeps delivered ids across restarts: an id it knows
	// is a duplicate even when this receiver has not seen it. An error
	// from it refuses the event with 503, so the sender retries.
	Log DeliveryLog
}

// DeliveryLog keeps the ids of delivered webhook events across restarts, so
// a captured request cannot be replayed after Parley restarts.
type DeliveryLog interface {
	// RememberDelivery records id as delivered at t. It reports false, and
	// records nothing, when id was already recorded (a replay).
	RememberDelivery(ctx context.Context, id string, at time.Time) (fresh bool, err error)
	// ForgetDeliveries removes the ids recorded before cutoff.
	ForgetDeliveries(ctx context.Context, before time.Time) error
}

// logTimeout bounds one call to the DeliveryLog. The call is not cut short
// when the sender hangs up: an id the log recorded must reach the queue.
const logTimeout = 10 * time.Second

// WebhookStats counts what the receiver did.
type WebhookStats struct {
	// Delivered events were queued; Duplicates were answered without
	// queueing (a redelivery or a replay); Rejected requests failed a
	// check. Full counts 503s for a full queue or a full id set; LogErrors
	// counts 503s because the DeliveryLog failed.
	Delivered, Duplicates, Rejected, Full, LogErrors int64
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

	// mu guards the id set and is held while an event is logged and
	// queued, so only its holder sends on events.
	mu sync.Mutex
	// seen maps each remembered id to its delivery time; order holds the
	// same ids oldest first, for expiry.
	seen       map[string]time.Time
	order      []seenID
	lastForget time.Time

	delivered, duplicates, rejected, full, logErrors atomic.Int64

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
		seen:   make(map[string]time.Time),
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
	return WebhookStats{Delivered: r.delivered.Load(), Duplicates: r.duplicates.Load(), Rejected: r.rejected.Load(), Full: r.full.Load(), LogErrors: r.logErrors.Load()}
}

func (r *WebhookReceiver) reject(w http.ResponseWriter, req *http.Request, status int, msg string) {
	r.rejected.Add(1)
	r.log.InfoContext(req.Context(), "activedemand webhook rejected", "status", status, "reason", msg, "remote", req.RemoteAddr)
	http.Error(w, msg, status)
}

// sigHexLen is the length of a hex HMAC-SHA256.
const sigHexLen = 2 * sha256.Size

// ServeHTTP handles one webhook delivery. The headers are checked before
// the body is read, so a request that cannot be genuine costs no more than
// its headers.
func (r *WebhookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		r.reject(w, req, http.StatusMethodNotAllowed, "webhooks are POSTed")
		return
	}
	sig := strings.TrimSpace(req.Header.Get(r.format.SignatureHeader))
	ts := strings.TrimSpace(req.Header.Get(r.format.TimestampHeader))
	if sig == "" || ts == "" {
		r.reject(w, req, http.StatusUnauthorized, "unsigned: "+r.format.SignatureHeader+" and "+r.format.TimestampHeader+" are required")
		return
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		r.reject(w, req, http.StatusBadRequest, "timestamp is not Unix seconds")
		return
	}
	now := r.cfg.Now()
	if d := now.Sub(time.Unix(secs, 0)); d > r.cfg.Tolerance || d < -r.cfg.Tolerance {
		r.reject(w, req, http.StatusBadRequest, "stale: timestamp is outside the accepted window")
		return
	}
	// The "sha256=" prefix is assumed, so a bare digest is taken too; its
	// length and digits are checked before anything is read.
	hexSig := strings.TrimPrefix(sig, "sha256=")
	got, err := hex.DecodeString(hexSig)
	if len(hexSig) != sigHexLen || err != nil {
		r.reject(w, req, http.StatusUnauthorized, "bad signature")
		return
	}
	if req.ContentLength > r.cfg.MaxBody {
		r.reject(w, req, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", r.cfg.MaxBody))
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
	if !hmac.Equal(got, webhookMAC(r.cfg.Secret, ts, body)) {
		r.reject(w, req, http.StatusUnauthorized, "bad signature")
		return
	}
	ev, err := ParseEvent(body)
	if err != nil {
		r.reject(w, req, http.StatusBadRequest, err.Error())
		return
	}
	res, retry := r.deliver(req.Context(), ev, now)
	switch res {
	case deliverDuplicate:
		r.duplicates.Add(1)
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "duplicate, already delivered\n")
	case deliverFull:
		r.full.Add(1)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "busy: too many events waiting; retry later", http.StatusServiceUnavailable)
	case deliverSeenFull:
		r.full.Add(1)
		w.Header().Set("Retry-After", strconv.Itoa(int(max(1, (retry+time.Second-1)/time.Second))))
		http.Error(w, "busy: too many recent events to check this one for replay; retry later", http.StatusServiceUnavailable)
	case deliverLogFailed:
		r.logErrors.Add(1)
		w.Header().Set("Retry-After", "30")
		http.Error(w, "busy: cannot record the delivery; retry later", http.StatusServiceUnavailable)
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
	deliverSeenFull
	deliverLogFailed
)

// seenID is one remembered id and when it was delivered.
type seenID struct {
	id string
	at time.Time
}

// keepFor is how long an id is remembered: a request passes the timestamp
// check while its timestamp is within Tolerance of now, and it may be
// signed up to Tolerance ahead of this clock.
func (r *WebhookReceiver) keepFor() time.Duration { return 2 * r.cfg.Tolerance }

// deliver queues ev unless its id was delivered before. The id is only
// remembered once queued, so an event refused for a full queue is accepted
// when the sender retries; and the queue is checked before the id is
// logged, so a logged id always reaches the queue. When a new event is
// refused because the id set is full, retry is how long until a place
// frees up.
func (r *WebhookReceiver) deliver(ctx context.Context, ev Event, now time.Time) (res deliverResult, retry time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire(now)
	if _, dup := r.seen[ev.ID]; dup {
		return deliverDuplicate, 0
	}
	if len(r.seen) >= r.cfg.SeenSize {
		// Every id held is still inside its window: forgetting one would
		// let its captured request be replayed.
		return deliverSeenFull, r.order[0].at.Add(r.keepFor()).Sub(now)
	}
	if len(r.events) == cap(r.events) {
		return deliverFull, 0
	}
	if r.cfg.Log != nil {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logTimeout)
		defer cancel()
		r.forget(lctx, now)
		fresh, err := r.cfg.Log.RememberDelivery(lctx, ev.ID, now)
		if err != nil {
			r.log.WarnContext(ctx, "activedemand webhook: cannot record the delivery; answered 503 so the sender retries", "event", ev.ID, "err", err)
			return deliverLogFailed, 0
		}
		if !fresh {
			return deliverDuplicate, 0
		}
	}
	// Cannot block: only the holder of mu sends, and there was room.
	r.events <- ev
	r.seen[ev.ID] = now
	r.order = append(r.order, seenID{ev.ID, now})
	return delivered, 0
}

// expire forgets the ids whose requests can no longer pass the timestamp
// check.
func (r *WebhookReceiver) expire(now time.Time) {
	cutoff := now.Add(-r.keepFor())
	n := 0
	for n < len(r.order) && r.order[n].at.Before(cutoff) {
		delete(r.seen, r.order[n].id)
		n++
	}
	// Reslicing keeps this O(1); append reallocates, and so drops the
	// expired prefix, once the array is used up.
	clear(r.order[:n])
	r.order = r.order[n:]
}

// forget trims the delivery log of ids that can no longer be replayed, at
// most once per Tolerance. A failure only leaves old ids in the log a
// while longer.
func (r *WebhookReceiver) forget(ctx context.Context, now time.Time) {
	if now.Sub(r.lastForget) < r.cfg.Tolerance {
		return
	}
	r.lastForget = now
	if err := r.cfg.Log.ForgetDeliveries(ctx, now.Add(-r.keepFor())); err != nil {
		r.log.WarnContext(ctx, "activedemand webhook: cannot trim the delivery log", "err", err)
	}
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
