package engine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/store"
	"parley/store/secrets"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/demo"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
	"parley/sync/internal/sandboxkit"
)

// webhookRig is a Run against empty sandboxes that polls once an hour, so
// that anything reaching HighLevel sooner came through a webhook.
type webhookRig struct {
	t       *testing.T
	as      *adtest.Server
	gs      *ghltest.Server
	st      *store.Store
	addr    string
	url     string
	log     lockedBuffer
	contact activedemand.Contact
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newWebhookRig(t *testing.T) *webhookRig {
	t.Helper()
	w := &webhookRig{t: t, gs: ghltest.NewTestServer(t, ghltest.Options{}), as: adtest.NewTestServer(t, adtest.Options{}), st: openStore(t, t.TempDir())}
	w.addr = freeAddr(t)
	w.url = "http://" + w.addr + "/hooks/ad"
	c, err := w.as.AddContact(adtest.NewContact{FirstName: "Maya", LastName: "Leblanc", Email: "maya@example.com", Phone: "+19025550101"})
	if err != nil {
		t.Fatal(err)
	}
	w.contact = c
	return w
}

func (w *webhookRig) config() RunConfig {
	return RunConfig{Store: w.st, AD: w.as.ClientConfig(), ProviderID: w.gs.ConversationProviderID(),
		GHL:       ghl.Config{BaseURL: w.gs.URL(), LocationID: w.gs.LocationID(), PrivateToken: ghl.Secret(w.gs.PrivateToken())},
		PollEvery: time.Hour, Logger: slog.New(slog.NewTextHandler(&w.log, nil)),
		Webhook: &WebhookOptions{Listen: w.addr, Secret: activedemand.Secret(adtest.DefaultWebhookSecret), URL: w.url}}
}

// polls counts the sandbox's conversations.changed calls: one per poll
// of this small account.
func (w *webhookRig) polls() int { return w.as.Calls(activedemand.RouteConversations) }

// subscribed counts the sandbox's subscriptions for the rig's URL.
func (w *webhookRig) subscribed() int {
	n := 0
	for _, s := range w.as.Subscriptions() {
		if s.URL == w.url {
			n++
		}
	}
	return n
}

// start runs cfg until the returned stop is called, once the first poll
// has been answered and the subscriptions are in place.
func (w *webhookRig) start(cfg RunConfig) (stop func() Summary) {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w.t.Cleanup(cancel) // a failed wait still stops the run
	type result struct {
		sum Summary
		err error
	}
	done := make(chan result, 1)
	before := w.polls()
	go func() {
		sum, err := Run(ctx, cfg)
		done <- result{sum, err}
	}()
	stop = func() Summary {
		w.t.Helper()
		cancel()
		select {
		case r := <-done:
			if r.err != nil {
				w.t.Fatalf("Run: %v\n%s", r.err, w.log.String())
			}
			return r.sum
		case <-time.After(30 * time.Second):
			w.t.Fatal("Run still going 30 s after stop")
			return Summary{}
		}
	}
	// This run's own poll, and every subscription for this run's URL: a
	// former URL's, still there while they are replaced, do not count.
	w.eventually("the first poll", func() bool { return w.polls() > before && w.subscribed() >= len(WebhookEvents) })
	w.quiet()
	return stop
}

// quiet waits until no poll has started for half a second.
func (w *webhookRig) quiet() {
	for last := -1; last != w.polls(); time.Sleep(500 * time.Millisecond) {
		last = w.polls()
	}
}

func (w *webhookRig) eventually(what string, cond func() bool) {
	w.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			w.t.Fatalf("%s did not happen in 20 s; log:\n%s", what, w.log.String())
		}
	}
}

// inGHL reports whether HighLevel holds a record of the AD message id.
func (w *webhookRig) inGHL(id activedemand.ID) bool {
	for _, cv := range w.gs.Conversations() {
		for _, m := range w.gs.Messages(cv.ID) {
			if m.AltID == string(id) {
				return true
			}
		}
	}
	return false
}

// TestWebhookEventReachesHighLevelWithinSeconds: with an hour between
// polls, a message added in ActiveDEMAND is recorded in HighLevel within
// seconds, because its webhook made the engine poll at once.
func TestWebhookEventReachesHighLevelWithinSeconds(t *testing.T) {
	t.Parallel()
	w := newWebhookRig(t)
	stop := w.start(w.config())
	m, err := w.as.AddMessage(adtest.NewMessage{ContactID: w.contact.ID, Channel: activedemand.ChannelSMS, Direction: activedemand.Inbound, Body: "Is Thursday still on?"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	w.eventually("the webhook's message in HighLevel", func() bool { return w.inGHL(m.ID) })
	t.Logf("recorded in HighLevel %s after the message was added", time.Since(start).Round(time.Millisecond))
	sum := stop()
	if sum.Webhook == nil || sum.Webhook.Accepted < 1 || sum.Webhook.Polls < 1 {
		t.Errorf("summary webhook stats %+v, want an accepted event and the poll it triggered", sum.Webhook)
	}
	var out bytes.Buffer
	sum.WriteSummary(&out)
	if !strings.Contains(out.String(), "Webhooks:") {
		t.Errorf("the summary does not report the webhooks:\n%s", out.String())
	}
}

// TestWebhookForgedStaleAndReplayedDeliveriesTriggerNothing: a delivery
// signed with the wrong secret, one signed an hour ago and a second
// delivery of an accepted event are refused or answered without a poll;
// each is a log line with its reason, and the secret is in none.
func TestWebhookForgedStaleAndReplayedDeliveriesTriggerNothing(t *testing.T) {
	t.Parallel()
	w := newWebhookRig(t)
	stop := w.start(w.config())
	ctx := context.Background()
	ev := activedemand.Event{ID: "evt-genuine-1", Type: activedemand.EventMessageCreated, ContactID: w.contact.ID}

	before := w.polls()
	if status, err := w.as.PostWebhook(ctx, w.url, "not-the-secret", activedemand.Event{ID: "evt-forged", Type: activedemand.EventMessageCreated}); err != nil || status != http.StatusUnauthorized {
		t.Fatalf("forged delivery answered %d, %v; want 401", status, err)
	}
	if status, err := activedemand.PostWebhook(ctx, nil, w.url, activedemand.Routes{}, activedemand.Secret(adtest.DefaultWebhookSecret),
		activedemand.Event{ID: "evt-stale", Type: activedemand.EventMessageCreated}, time.Now().Add(-time.Hour)); err != nil || status != http.StatusBadRequest {
		t.Fatalf("stale delivery answered %d, %v; want 400", status, err)
	}
	time.Sleep(time.Second)
	if got := w.polls(); got != before {
		t.Fatalf("refused deliveries triggered %d polls", got-before)
	}

	if status, err := w.as.PostWebhook(ctx, w.url, adtest.DefaultWebhookSecret, ev); err != nil || status != http.StatusOK {
		t.Fatalf("genuine delivery answered %d, %v", status, err)
	}
	w.eventually("the genuine event's poll", func() bool { return w.polls() > before })
	w.quiet()
	before = w.polls()
	if status, err := w.as.PostWebhook(ctx, w.url, adtest.DefaultWebhookSecret, ev); err != nil || status != http.StatusOK {
		t.Fatalf("replayed delivery answered %d, %v; want 200 (already delivered)", status, err)
	}
	time.Sleep(time.Second)
	if got := w.polls(); got != before {
		t.Errorf("the replay triggered %d polls", got-before)
	}
	sum := stop()
	wh := sum.Webhook
	if wh == nil {
		t.Fatal("no webhook stats in the summary")
	}
	if wh.Accepted != 1 || wh.Replays != 1 || wh.Rejected["bad signature"] != 1 || wh.Rejected["stale"] != 1 {
		t.Errorf("webhook stats %+v, want 1 accepted, 1 replay, 1 bad signature, 1 stale", *wh)
	}
	log := w.log.String()
	for _, want := range []string{"bad signature", "stale", "replay"} {
		if !strings.Contains(log, want) {
			t.Errorf("no log line says %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, adtest.DefaultWebhookSecret) {
		t.Error("the webhook secret is in the log")
	}
}

// TestWebhookBurstCoalescesPolls: 50 events arriving while a slow poll is
// in flight cause a handful of polls, not 50: one in flight, one pending.
func TestWebhookBurstCoalescesPolls(t *testing.T) {
	t.Parallel()
	w := newWebhookRig(t)
	stop := w.start(w.config())
	if err := w.as.InjectFault(sandboxkit.Fault{Route: activedemand.RouteConversations, Kind: sandboxkit.FaultSlow, Delay: time.Second, Times: -1}); err != nil {
		t.Fatal(err)
	}
	before := w.polls()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Go(func() {
			ev := activedemand.Event{ID: fmt.Sprintf("evt-burst-%02d", i), Type: activedemand.EventMessageCreated, ContactID: w.contact.ID}
			if status, err := w.as.PostWebhook(context.Background(), w.url, adtest.DefaultWebhookSecret, ev); err != nil || status != http.StatusOK {
				errs <- fmt.Errorf("event %d answered %d, %v", i, status, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	w.eventually("a triggered poll", func() bool { return w.polls() > before })
	time.Sleep(3 * time.Second) // a poll takes a second: room for more
	polls := w.polls() - before
	sum := stop()
	t.Logf("50 events caused %d polls", polls)
	if polls < 1 || polls > 4 {
		t.Errorf("50 events caused %d polls, want 1 to 4", polls)
	}
	if sum.Webhook == nil || sum.Webhook.Accepted != 50 {
		t.Errorf("webhook stats %+v, want 50 accepted", sum.Webhook)
	}
}

// TestWebhookURLSubscribesOnceAcrossRuns: a restart finds its
// subscriptions in the store and makes no more; a new URL replaces them.
func TestWebhookURLSubscribesOnceAcrossRuns(t *testing.T) {
	t.Parallel()
	w := newWebhookRig(t)
	ids := func() map[string]activedemand.EventType {
		m := map[string]activedemand.EventType{}
		for _, s := range w.as.Subscriptions() {
			if s.URL != w.url {
				t.Errorf("subscription %s is for %s, want %s", s.ID, s.URL, w.url)
			}
			m[string(s.ID)] = s.Event
		}
		return m
	}
	w.start(w.config())()
	first := ids()
	if len(first) != len(WebhookEvents) {
		t.Fatalf("after the first run: subscriptions %v, want one per event of %v", first, WebhookEvents)
	}
	stop := w.start(w.config())
	m, err := w.as.AddMessage(adtest.NewMessage{ContactID: w.contact.ID, Channel: activedemand.ChannelChat, Direction: activedemand.Inbound, Body: "Still there?"})
	if err != nil {
		t.Fatal(err)
	}
	w.eventually("the second run's webhook message in HighLevel", func() bool { return w.inGHL(m.ID) })
	stop()
	if second := ids(); fmt.Sprint(second) != fmt.Sprint(first) {
		t.Errorf("after a restart: subscriptions %v, want the first run's %v", second, first)
	}

	w.url = "http://" + w.addr + "/hooks/moved"
	w.start(w.config())()
	if third := ids(); len(third) != len(WebhookEvents) {
		t.Errorf("after a new URL: subscriptions %v, want one per event for the new URL only", third)
	}
}

// TestWebhookStopWhileSubscribing: a run stopped while it replaces a
// former URL's subscriptions stops without an error, and the next start
// finishes the change with no subscription twice.
func TestWebhookStopWhileSubscribing(t *testing.T) {
	t.Parallel()
	w := newWebhookRig(t)
	w.start(w.config())()
	w.url = "http://" + w.addr + "/hooks/moved"
	if err := w.as.InjectFault(sandboxkit.Fault{Route: activedemand.RouteWebhookDelete, Kind: sandboxkit.FaultSlow, Delay: time.Minute, Times: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, w.config())
		done <- err
	}()
	w.eventually("the first unsubscribe to hang", func() bool { return w.as.Calls(activedemand.RouteWebhookDelete) == 1 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run stopped while subscribing = %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run still subscribing 30 s after the stop")
	}
	w.start(w.config())()
	if n, all := w.subscribed(), len(w.as.Subscriptions()); n != len(WebhookEvents) || all != n {
		t.Errorf("after the next start: %d subscriptions for the new URL of %d in all, want %d and no other", n, all, len(WebhookEvents))
	}
}

// TestWebhookNeedsItsSecret: turning the receiver on without the signing
// secret is an error naming the keyring entry, the variable and the
// Connections screen, before anything is served.
func TestWebhookNeedsItsSecret(t *testing.T) {
	t.Parallel()
	acc, _ := sandboxAccounts(t, func(s *ghltest.Server) string { return s.PrivateToken() })
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := RunHeadless(ctx, HeadlessOptions{Out: &bytes.Buffer{}, Store: openStore(t, dir), DataDir: dir, Accounts: acc, WebhookListen: freeAddr(t)})
	if err == nil {
		t.Fatal("no error without the webhook secret")
	}
	for _, want := range []string{string(secrets.ADWebhookSecret), secrets.EnvVar(secrets.ADWebhookSecret), "Connections", "--webhook-listen"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}

	err = RunHeadless(ctx, HeadlessOptions{Out: &bytes.Buffer{}, Store: openStore(t, dir), DataDir: dir, Accounts: acc, WebhookURL: "https://parley.example.com/hooks/ad"})
	if err == nil || !strings.Contains(err.Error(), "--webhook-listen") {
		t.Errorf("--webhook-url alone: RunHeadless = %v, want an error asking for --webhook-listen", err)
	}

	w := newWebhookRig(t)
	cfg := w.config()
	cfg.Webhook.Secret = ""
	if _, err := Run(ctx, cfg); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("Run without a secret = %v, want an error about the secret", err)
	}
}

// TestRunHeadlessDemoServesWebhooks is `parley sync --demo --webhook-listen
// ADDR --webhook-url URL`: the demo sandbox is subscribed, a signed event
// is accepted, and the progress lines and the summary count it.
func TestRunHeadlessDemoServesWebhooks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := openStore(t, dir)
	addr := freeAddr(t)
	url := "http://" + addr + "/"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, log lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- RunHeadless(ctx, HeadlessOptions{Out: &out, Store: st, DataDir: dir, Demo: true, Sandbox: demo.Options{ActivityEvery: -1},
			PollEvery: time.Hour, ProgressEvery: 100 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&log, nil)),
			WebhookListen: addr, WebhookURL: url})
	}()
	ev := activedemand.Event{ID: "evt-headless-1", Type: activedemand.EventConversationUpdated}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("RunHeadless returned before being stopped: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver did not accept a signed event in 60 s:\n%s", out.String())
		}
		status, err := activedemand.PostWebhook(ctx, nil, url, activedemand.Routes{}, activedemand.Secret(adtest.DefaultWebhookSecret), ev, time.Now())
		if err == nil && status == http.StatusOK {
			break
		}
	}
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "webhooks 1 accepted"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no progress line counts the webhook:\n%s", out.String())
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunHeadless = %v after cancel\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30 s after cancel")
	}
	printed := out.String()
	for _, want := range []string{"Webhooks: served on " + addr, "Webhooks: 1 accepted"} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	if n := strings.Count(log.String(), "webhook subscribed"); n != len(WebhookEvents) {
		t.Errorf("%d subscriptions logged, want %d:\n%s", n, len(WebhookEvents), log.String())
	}
}

// TestREADMEDescribesTheWebhookTrigger keeps the README's `parley sync`
// section in step with the events subscribed and where the secret goes.
func TestREADMEDescribesTheWebhookTrigger(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	want := []string{"--webhook-listen", "PARLEY_WEBHOOK_LISTEN", "--webhook-url", "PARLEY_WEBHOOK_URL",
		string(secrets.ADWebhookSecret), secrets.EnvVar(secrets.ADWebhookSecret)}
	for _, ev := range WebhookEvents {
		want = append(want, "`"+string(ev)+"`")
	}
	for _, w := range want {
		if !strings.Contains(readme, w) {
			t.Errorf("README does not mention %s", w)
		}
	}
}
