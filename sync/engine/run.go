package engine

// Run wires one sync from configuration: the two clients, the engine and
// the poller, for `parley sync` and the console alike.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/ghl"
)

// RunConfig configures [Run]. Store, GHL, AD and ProviderID are required.
type RunConfig struct {
	Store *store.Store
	// GHL and AD configure the clients. GHL's HTTPClient, when nil, is
	// built on [Transport] so that history carries HTTP statuses.
	GHL ghl.Config
	AD  activedemand.Config
	// ProviderID is the HighLevel conversation provider records name.
	ProviderID string
	// PollEvery is the interval between ActiveDEMAND polls (default
	// DefaultPollEvery).
	PollEvery time.Duration
	// Workers is how many jobs run at once (default DefaultWorkers).
	Workers int
	// Once polls once, drains what is due and returns, instead of running
	// until ctx ends.
	Once bool
	// Progress, if set, receives a summary line every ProgressEvery
	// (default DefaultProgressEvery).
	Progress      io.Writer
	ProgressEvery time.Duration
	// Logger receives the engine's and poller's lines (default discard).
	Logger *slog.Logger
	// Control, if set, is attached to the engine Run builds and reads
	// HighLevel's rate-limit headers, for the console's Sync screen.
	Control *Control
	// MaxChanges is Config.MaxChanges: a backlog larger than this is held
	// unsent (Run then returns an error matching ErrTooManyChanges)
	// unless Confirm is set.
	MaxChanges int
	Confirm    bool
	// Backfill, if set, queues the messages sent in this range before the
	// first poll, with progress on Progress.
	Backfill *DateRange
	// Started, if set, receives the engine before it runs: the console
	// keeps it to show its Snapshot and to Pause, Resume and Confirm it.
	Started func(*Engine)
	// StopWhenHeld ends a run without Once as soon as the max-changes
	// guard holds a backlog: a headless run has no one to confirm it.
	StopWhenHeld bool
	// Webhook, if set, serves ActiveDEMAND's webhooks: each accepted event
	// triggers a poll at once. Ignored with Once.
	Webhook *WebhookOptions
}

// DefaultProgressEvery is how often Run writes a progress line.
const DefaultProgressEvery = 5 * time.Second

// onceQuiet is how long a --once run waits with nothing in flight and
// nothing settled before it takes what is still pending as waiting for a
// later retry rather than due now.
const onceQuiet = 2 * time.Second

// Summary is what one Run did.
type Summary struct {
	// Polls counts the polls; Polled is what they found.
	Polls  int
	Polled PollResult
	// Jobs are the engine's counts by job kind for this run.
	Jobs map[string]KindStats
	// Waiting counts jobs left pending (a retry not yet due) at the end.
	Waiting int
	// Dead counts dead-lettered jobs in the outbox, this run's and older.
	Dead int
	// Paused is why the engine paused itself, if it did: something only
	// a person can fix.
	Paused string
	// Backfill is how far the backfill got, when one was asked for.
	Backfill *BackfillProgress
	// Webhook is what the webhook receiver did, when it ran.
	Webhook *WebhookStats
}

// Messages is how many messages this run recorded in HighLevel.
func (s Summary) Messages() int { return s.Jobs[JobMirrorMessage].Done }

// ErrNeedsAPerson is what Run returns (wrapped, with the reason) when the
// engine paused itself on something only a person can fix.
var ErrNeedsAPerson = errors.New("the sync needs attention")

// Run builds the clients, the engine and the poller from cfg and syncs
// until ctx ends (SIGINT or SIGTERM in the command), then drains in-flight
// work and returns what it did. With cfg.Once it returns after one poll
// and the jobs it made due have settled. It returns an error wrapping
// ErrNeedsAPerson when the engine paused itself.
func Run(ctx context.Context, cfg RunConfig) (Summary, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	gc, ad, err := newClients(cfg)
	if err != nil {
		return Summary{}, err
	}
	defer gc.CloseIdleConnections()
	// Recordings and transcripts go beside the database they are indexed in
	// (the demo's beside the demo database), and the field mapping checks
	// its links against ActiveDEMAND's field list.
	ecfg := engineConfig(cfg, gc, ad)
	if cfg.Once {
		// A catch-up run waits on the outbox, not on new work.
		ecfg.PollInterval = 50 * time.Millisecond
	}
	e, err := New(ecfg)
	if err != nil {
		return Summary{}, err
	}
	cfg.Control.Attach(e)
	p, err := NewPoller(PollerConfig{Store: cfg.Store, AD: ad, Contacts: ad, Every: cfg.PollEvery, Queued: e.Wake, Logger: cfg.Logger})
	if err != nil {
		return Summary{}, err
	}
	var wh *webhookTrigger
	if cfg.Webhook != nil && !cfg.Once {
		// Before Started: a run that cannot serve its webhooks never starts.
		if wh, err = startWebhook(ctx, *cfg.Webhook, cfg.Store, ad, ad.Routes(), cfg.Logger); err != nil {
			if ctx.Err() != nil {
				// Stopped while subscribing: a stop, not a failure. Each
				// change was saved as it was made; the next start goes on.
				return Summary{}, nil
			}
			return Summary{}, err
		}
	}
	if cfg.Confirm {
		e.Confirm()
	}
	if cfg.Started != nil {
		cfg.Started(e)
	}
	r := &runner{cfg: cfg, e: e, p: p, st: cfg.Store, start: time.Now(), webhook: wh}
	if wh != nil {
		r.kick = make(chan struct{}, 1)
	}
	if cfg.Backfill != nil {
		if err := r.backfill(ctx, ad); err != nil {
			r.closeWebhook()
			sum, serr := r.summary()
			return sum, errors.Join(err, serr)
		}
	}
	if cfg.Once {
		err = r.once(ctx)
	} else {
		err = r.forever(ctx)
	}
	sum, serr := r.summary()
	return sum, errors.Join(err, serr)
}

// engineConfig is the engine's configuration for a run of cfg on its
// clients.
func engineConfig(cfg RunConfig, gc *ghl.Client, ad *activedemand.Client) Config {
	return Config{Store: cfg.Store, GHL: gc, AD: ad, ProviderID: cfg.ProviderID, Workers: cfg.Workers, Logger: cfg.Logger,
		MaxChanges: cfg.MaxChanges, DataDir: filepath.Dir(cfg.Store.Path()), ADFields: ad}
}

// newClients builds the two clients of cfg; GHL's on [Transport] unless
// cfg.GHL brings its own HTTP client.
func newClients(cfg RunConfig) (*ghl.Client, *activedemand.Client, error) {
	gcfg := cfg.GHL
	if gcfg.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// As the client's own default: with the standard library's two
		// idle connections per host, the workers would open a connection
		// (a TLS handshake) for about every other call.
		t.MaxIdleConnsPerHost = max(64, 2*cfg.Workers)
		gcfg.HTTPClient = &http.Client{Transport: Transport(cfg.Control.Meter(t))}
	}
	if gcfg.Logger == nil {
		gcfg.Logger = cfg.Logger
	}
	gc, err := ghl.New(gcfg)
	if err != nil {
		return nil, nil, fmt.Errorf("HighLevel client: %w", err)
	}
	acfg := cfg.AD
	if acfg.Logger == nil {
		acfg.Logger = cfg.Logger
	}
	ad, err := activedemand.New(acfg)
	if err != nil {
		gc.CloseIdleConnections()
		return nil, nil, fmt.Errorf("ActiveDEMAND client: %w", err)
	}
	return gc, ad, nil
}

// backfill queues cfg.Backfill's messages before the sync proper starts.
func (r *runner) backfill(ctx context.Context, ad *activedemand.Client) error {
	var meter *progressMeter
	if r.cfg.Progress != nil {
		meter = newProgressMeter(r.cfg.Progress, "conversations", r.cfg.ProgressEvery)
		fmt.Fprintf(r.cfg.Progress, "Backfill %s: queueing the messages ActiveDEMAND sent in the range.\n", r.cfg.Backfill)
	}
	pr, err := Backfill(ctx, BackfillConfig{Store: r.st, AD: ad, Contacts: ad, Range: *r.cfg.Backfill, Queued: r.e.Wake,
		Progress: func(p BackfillProgress) {
			if meter != nil {
				meter.update("backfill:", p.Done, p.Total, p.Rate, p.ETA)
			}
		}})
	r.mu.Lock()
	r.backfilled = &pr
	r.mu.Unlock()
	return err
}

// runner is one Run's moving parts.
type runner struct {
	cfg   RunConfig
	e     *Engine
	p     *Poller
	st    *store.Store
	start time.Time

	mu         sync.Mutex
	polls      int
	polled     PollResult
	backfilled *BackfillProgress

	// webhook, when set, asks for a poll on kick, which holds one pending
	// request; nil kick never fires.
	webhook *webhookTrigger
	kick    chan struct{}
}

// closeWebhook releases the receiver's listener when the run ends before
// serving it.
func (r *runner) closeWebhook() {
	if r.webhook != nil {
		_ = r.webhook.ln.Close()
	}
}

func (r *runner) addPoll(res PollResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.polls++
	r.polled.Conversations += res.Conversations
	r.polled.Messages += res.Messages
	r.polled.Queued += res.Queued
}

// forever runs the engine, the poller and the progress lines until ctx
// ends, and waits for all three.
func (r *runner) forever(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var engineErr error
	wg.Go(func() {
		engineErr = r.e.Run(ctx)
		cancel() // a store failure stops the poller too
	})
	wg.Go(func() { r.pollEvery(ctx) })
	wg.Go(func() { r.progress(ctx) })
	if r.webhook != nil {
		wg.Go(func() { r.webhook.run(ctx, r.kick) })
	}
	if r.cfg.StopWhenHeld && r.cfg.MaxChanges > 0 {
		wg.Go(func() { r.stopWhenHeld(ctx, cancel) })
	}
	wg.Wait()
	return engineErr
}

// stopWhenHeld calls stop once the guard holds the engine, or returns
// when ctx ends.
func (r *runner) stopWhenHeld(ctx context.Context, stop func()) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, held := r.e.GuardStop(); held {
			stop()
			return
		}
	}
}

// pollEvery is Poller.Run with the results counted, and a poll as soon
// as a webhook asks (r.kick): polls run one at a time on this goroutine,
// and kick holds one more, so the events that arrive while a poll runs
// share the next one.
func (r *runner) pollEvery(ctx context.Context) {
	every := r.p.cfg.Every
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		res, err := r.p.Poll(ctx)
		r.addPoll(res)
		if err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("sync poller: poll failed; trying again at the next tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.kick:
			r.webhook.polls.Add(1)
		}
	}
}

// once polls once, then runs the engine until the due jobs have settled
// or the engine paused itself.
func (r *runner) once(ctx context.Context) error {
	res, err := r.p.Poll(ctx)
	r.addPoll(res)
	if err != nil {
		return err
	}
	ectx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	var engineErr error
	wg.Go(func() { engineErr = r.e.Run(ectx) })
	wg.Go(func() { r.progress(ectx) })
	err = r.waitSettled(ectx)
	stop()
	wg.Wait()
	if ctx.Err() != nil {
		return nil // interrupted: the summary says how far it got
	}
	return errors.Join(engineErr, err)
}

// waitSettled returns when nothing is pending or in flight, when what is
// pending has waited onceQuiet with nothing happening (retries due
// later), or when the engine paused. It asks the store only whether
// anything is pending and what is in flight, which is cheap at any
// queue size: counting the whole outbox by kind every 50 ms took half the
// process's CPU on a 30,000-message catch-up.
func (r *runner) waitSettled(ctx context.Context) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	last, quietSince := -1, time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if r.e.isPaused() {
			return nil
		}
		anyPending, inFlight, err := r.e.st.OutboxBusy(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("sync: %w", err)
		}
		settled := r.e.settledJobs()
		if settled != last || inFlight > 0 {
			last, quietSince = settled, time.Now()
		}
		if inFlight == 0 && (!anyPending || time.Since(quietSince) >= onceQuiet) {
			return nil
		}
	}
}

func queued(s Snapshot) (pending, inFlight int) {
	for _, q := range s.Queue {
		pending += q[store.OutboxPending]
		inFlight += q[store.OutboxInFlight]
	}
	return pending, inFlight
}

// summary reads the run's outcome; a pause becomes an ErrNeedsAPerson.
func (r *runner) summary() (Summary, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	snap, err := r.e.Snapshot(ctx)
	if err != nil {
		return Summary{}, err
	}
	r.mu.Lock()
	s := Summary{Polls: r.polls, Polled: r.polled, Jobs: snap.Jobs, Backfill: r.backfilled}
	r.mu.Unlock()
	if r.webhook != nil {
		ws := r.webhook.stats()
		s.Webhook = &ws
	}
	s.Waiting, _ = queued(snap)
	for _, q := range snap.Queue {
		s.Dead += q[store.OutboxDead]
	}
	if stop, held := r.e.GuardStop(); held {
		// The backlog is held, not waiting for a retry: Paused says so.
		s.Paused, s.Waiting = snap.Reason, 0
		return s, fmt.Errorf("%w: %w", ErrNeedsAPerson, stop)
	}
	if snap.Reason != "" {
		s.Paused = snap.Reason
		return s, fmt.Errorf("%w: the sync paused: %s", ErrNeedsAPerson, snap.Reason)
	}
	return s, nil
}
