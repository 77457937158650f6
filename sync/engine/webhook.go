package engine

// The webhook trigger: ActiveDEMAND's signed webhooks make the poller look
// at once instead of at its next tick. An event never queues work itself:
// its payload is not trusted to be complete, so the poll, its saved cursor
// and the outbox's keys stay the only way work enters the outbox, and
// polling on its interval remains the safety net for lost webhooks.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"parley/store"
	"parley/store/secrets"
	"parley/sync/activedemand"
)

// WebhookOptions turns on ActiveDEMAND's webhook receiver in a [Run].
type WebhookOptions struct {
	// Listen is the address the receiver serves on, e.g. ":8787".
	Listen string
	// Secret is the secret ActiveDEMAND signs deliveries with
	// (secrets.ADWebhookSecret); required.
	Secret activedemand.Secret
	// URL, if set, is the public address ActiveDEMAND should post to: Run
	// subscribes it to WebhookEvents unless a former run already did.
	URL string
}

// WebhookStats is what the receiver did in a run.
type WebhookStats struct {
	// Accepted events each asked for a poll (bursts share one).
	Accepted int64
	// Replays are deliveries of an event already accepted: a sender's
	// retry or a captured request played again; neither triggers a poll.
	Replays int64
	// Rejected counts refused deliveries by reason ("bad signature",
	// "stale", ...).
	Rejected map[string]int64
	// Busy counts deliveries answered 503 so the sender retries.
	Busy int64
	// Polls counts the polls the webhooks triggered.
	Polls int
}

// String is the stats as one line for progress lines and summaries.
func (s WebhookStats) String() string {
	line := fmt.Sprintf("%d accepted (%d polls), %d replays", s.Accepted, s.Polls, s.Replays)
	var total int64
	var parts []string
	for _, reason := range slices.Sorted(maps.Keys(s.Rejected)) {
		total += s.Rejected[reason]
		parts = append(parts, fmt.Sprintf("%s %d", reason, s.Rejected[reason]))
	}
	line += fmt.Sprintf(", %d rejected", total)
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	if s.Busy > 0 {
		line += fmt.Sprintf(", %d answered busy", s.Busy)
	}
	return line
}

// WebhookEvents are the event types a poll can act on: the ones that move
// a conversation's updated_at. Contact events alone change no
// conversation, so they are not subscribed.
var WebhookEvents = []activedemand.EventType{activedemand.EventMessageCreated, activedemand.EventMessageStatus, activedemand.EventConversationUpdated}

// WebhookSubscriptionsCursor is the store cursor stream that remembers the
// subscriptions Run made. ActiveDEMAND's route table has no route that
// lists subscriptions, so the store is the only place a restart can learn
// that it already subscribed.
const WebhookSubscriptionsCursor = "ad.webhook.subscriptions"

// webhookSubscriptions is the cursor's value.
type webhookSubscriptions struct {
	URL string                                     `json:"url"`
	IDs map[activedemand.EventType]activedemand.ID `json:"ids"`
}

// ErrNoWebhookSecret is what turning the receiver on without its signing
// secret returns (wrapped, with where to set it).
var ErrNoWebhookSecret = errors.New("no ActiveDEMAND webhook secret")

// webhookSecretHint says where the secret goes, for every error about it.
var webhookSecretHint = fmt.Sprintf("save it on the console's Connections screen (keyring entry %q, service %q), or set %s for a headless run; or leave out --webhook-listen to sync by polling only",
	secrets.ADWebhookSecret, secrets.Service, secrets.EnvVar(secrets.ADWebhookSecret))

// WebhookSecret reads the webhook signing secret from v, with an error
// that says where to set it when it is missing.
func WebhookSecret(v secrets.Vault) (activedemand.Secret, error) {
	if v == nil {
		return "", fmt.Errorf("webhook receiver: %w: %s", ErrNoWebhookSecret, webhookSecretHint)
	}
	s, err := v.Get(secrets.ADWebhookSecret)
	if errors.Is(err, secrets.ErrNotFound) || (err == nil && s == "") {
		return "", fmt.Errorf("webhook receiver: %w: %s", ErrNoWebhookSecret, webhookSecretHint)
	}
	if err != nil {
		return "", fmt.Errorf("webhook receiver: read the signing secret: %w; or leave out --webhook-listen to sync by polling only", err)
	}
	return activedemand.Secret(s), nil
}

// webhookTrigger serves the receiver and turns its events into poll
// requests.
type webhookTrigger struct {
	recv *activedemand.WebhookReceiver
	srv  *http.Server
	ln   net.Listener
	log  *slog.Logger

	// polls counts the polls the events triggered; rejected counts the
	// receiver's refusals by reason (its Stats has only their total).
	polls    atomic.Int64
	mu       sync.Mutex
	rejected map[string]int64
}

// startWebhook checks o, listens on o.Listen and, with o.URL, makes sure
// ActiveDEMAND posts there. Nothing is served until run.
func startWebhook(ctx context.Context, o WebhookOptions, st *store.Store, ad *activedemand.Client, routes activedemand.Routes, log *slog.Logger) (*webhookTrigger, error) {
	if !o.Secret.IsSet() {
		return nil, fmt.Errorf("webhook receiver: %w: %s", ErrNoWebhookSecret, webhookSecretHint)
	}
	recv, err := activedemand.NewWebhookReceiver(activedemand.WebhookConfig{Secret: o.Secret, Routes: routes, Logger: log, Log: st})
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.Listen)
	if err != nil {
		return nil, fmt.Errorf("webhook receiver: listen on %s: %w; choose a free address with --webhook-listen", o.Listen, err)
	}
	w := &webhookTrigger{recv: recv, ln: ln, log: log, rejected: map[string]int64{}}
	w.srv = &http.Server{Handler: w, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
	if o.URL != "" {
		if err := subscribeWebhooks(ctx, st, ad, o.URL, log); err != nil {
			ln.Close() // #nosec G104 -- the subscription's error is the one to report
			return nil, err
		}
	}
	log.Info("webhook receiver listening", "addr", ln.Addr().String(), "url", o.URL)
	return w, nil
}

// subscribeWebhooks subscribes url to each of WebhookEvents that the store
// does not already hold a subscription for, saving each id as soon as it
// is made so a crash part way does not subscribe it twice. Subscriptions
// for another URL are removed first. They are left in place on exit: the
// next start finds them and makes none.
func subscribeWebhooks(ctx context.Context, st *store.Store, ad *activedemand.Client, url string, log *slog.Logger) error {
	var subs webhookSubscriptions
	raw, ok, err := st.Cursor(ctx, WebhookSubscriptionsCursor)
	if err != nil {
		return fmt.Errorf("webhook subscriptions: %w", err)
	}
	if ok {
		if err := json.Unmarshal([]byte(raw), &subs); err != nil {
			log.Warn("webhook subscriptions: the saved list is unreadable; subscribing again", "err", err)
			subs = webhookSubscriptions{}
		}
	}
	save := func() error {
		b, err := json.Marshal(subs)
		if err != nil {
			return err
		}
		if err := st.SaveCursor(ctx, WebhookSubscriptionsCursor, string(b)); err != nil {
			return fmt.Errorf("webhook subscriptions: %w", err)
		}
		return nil
	}
	if subs.URL != url && len(subs.IDs) > 0 {
		for _, ev := range slices.Sorted(maps.Keys(subs.IDs)) {
			if err := ad.UnsubscribeWebhook(ctx, subs.IDs[ev]); err != nil && !errors.Is(err, activedemand.ErrNotFound) {
				return fmt.Errorf("webhook subscriptions: remove the %s subscription for the former URL %s: %w", ev, subs.URL, err)
			}
			delete(subs.IDs, ev)
			if err := save(); err != nil {
				return err
			}
		}
	}
	subs.URL = url
	if subs.IDs == nil {
		subs.IDs = map[activedemand.EventType]activedemand.ID{}
	}
	for _, ev := range WebhookEvents {
		if subs.IDs[ev] != "" {
			continue
		}
		id, err := ad.SubscribeWebhook(ctx, url, ev)
		if err != nil {
			return fmt.Errorf("webhook subscriptions: subscribe %s to %s: %w; check --webhook-url, or leave it out and subscribe in ActiveDEMAND by hand", url, ev, err)
		}
		subs.IDs[ev] = id
		if err := save(); err != nil {
			return err
		}
		log.Info("webhook subscribed", "event", ev, "id", id, "url", url)
	}
	return nil
}

// run serves until ctx ends, asking for a poll on kick for every accepted
// event; kick holds one request, so a burst is one pending poll.
func (w *webhookTrigger) run(ctx context.Context, kick chan<- struct{}) {
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := w.srv.Serve(w.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			w.log.Error("webhook receiver stopped; polling goes on at its interval", "err", err)
		}
	})
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := w.srv.Shutdown(sctx); err != nil {
				_ = w.srv.Close()
			}
			return
		case <-w.recv.Events():
			select {
			case kick <- struct{}{}:
			default: // a poll is already pending; it will see this change too
			}
		}
	}
}

// ServeHTTP hands the delivery to the receiver and counts its answer: the
// receiver logs each refusal with its reason; a replay it answers 200
// without queueing, which is logged here.
func (w *webhookTrigger) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	rec := &answer{ResponseWriter: rw}
	w.recv.ServeHTTP(rec, req)
	switch {
	case rec.status == http.StatusServiceUnavailable:
		// Busy, not refused: the sender retries.
	case rec.status >= 400:
		reason := rejectReason(rec.status, rec.body.String())
		w.mu.Lock()
		w.rejected[reason]++
		w.mu.Unlock()
	case strings.HasPrefix(rec.body.String(), "duplicate"):
		w.log.InfoContext(req.Context(), "activedemand webhook: replay of an event already accepted; answered without a poll", "reason", "replay", "remote", req.RemoteAddr)
	}
}

// rejectReason buckets the receiver's refusal messages.
func rejectReason(status int, msg string) string {
	switch {
	case status == http.StatusMethodNotAllowed:
		return "not a POST"
	case status == http.StatusRequestEntityTooLarge:
		return "too large"
	case strings.HasPrefix(msg, "unsigned"):
		return "unsigned"
	case strings.HasPrefix(msg, "stale"):
		return "stale"
	case strings.HasPrefix(msg, "bad signature"):
		return "bad signature"
	case strings.HasPrefix(msg, "timestamp"):
		return "bad timestamp"
	}
	return "malformed"
}

// stats reads the counters.
func (w *webhookTrigger) stats() WebhookStats {
	w.mu.Lock()
	rejected := maps.Clone(w.rejected)
	w.mu.Unlock()
	rs := w.recv.Stats()
	return WebhookStats{Accepted: rs.Delivered, Replays: rs.Duplicates, Busy: rs.Full + rs.LogErrors, Rejected: rejected, Polls: int(w.polls.Load())}
}

// answer records a response's status and the start of its body.
type answer struct {
	http.ResponseWriter
	status int
	body   strings.Builder
}

func (a *answer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
	a.ResponseWriter.WriteHeader(status)
}

func (a *answer) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if n := 128 - a.body.Len(); n > 0 {
		a.body.Write(p[:min(n, len(p))])
	}
	return a.ResponseWriter.Write(p)
}
