package engine

// The engine's outbox workers: the part of the sync that drains the outbox
// into HighLevel. Every unit of work is an outbox job before any call is
// made; a worker claims it, does it and settles it with its id links and
// history rows in one transaction (store.CompleteOutboxWith), so a crash at
// any moment either leaves the job claimed, to be reclaimed after its
// lease, or leaves it done with everything it learnt.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/ghl"
)

// Defaults for Config's zero fields.
const (
	// DefaultWorkers is 8: a worker spends its job waiting on HighLevel
	// and on the commit it shares with the others, so at 4 both cores
	// were idle part of the time (BenchmarkMirror, BENCHMARKS.md), while
	// HighLevel's budget is kept by the client's pacer whatever the count.
	DefaultWorkers      = 8
	DefaultLease        = 2 * time.Minute
	DefaultPollInterval = time.Second
	DefaultDrain        = 10 * time.Second
	DefaultRetryBase    = 30 * time.Second
	DefaultRetryCap     = time.Hour
)

// Config configures an Engine. Store, GHL and ProviderID are required.
type Config struct {
	// Store holds the outbox, the id map, history and alerts.
	Store *store.Store
	// GHL is the HighLevel client. Build its HTTPClient on Transport so
	// history rows carry the HTTP status of successful calls too.
	GHL *ghl.Client
	// AD is ActiveDEMAND as the engine reads it. Mirroring contacts and
	// messages needs nothing from it (jobs carry what they need); media,
	// status and the poller do.
	AD activedemand.Conversations
	// LocationID is the HighLevel location; default GHL.LocationID().
	LocationID string
	// ProviderID is the location's conversation provider id, which every
	// record names.
	ProviderID string
	// Workers is how many jobs run at once (default DefaultWorkers).
	Workers int
	// Lease is how long a claimed job is a worker's before another may
	// take it (default DefaultLease). Long work extends it.
	Lease time.Duration
	// PollInterval is how long an idle engine waits before looking at the
	// outbox again, unless woken (default DefaultPollInterval).
	PollInterval time.Duration
	// Drain is how long Run lets running jobs finish after its context
	// ends (default DefaultDrain); a job still running then is abandoned
	// claimed and taken again after its lease. Negative means no wait.
	Drain time.Duration
	// RetryBase and RetryCap bound the backoff of a job that failed for a
	// passing reason (default DefaultRetryBase, DefaultRetryCap).
	RetryBase, RetryCap time.Duration
	// DataDir is the data folder: fetched recordings and transcripts are
	// stored under DataDir/media and indexed relative to it. Empty leaves
	// media where HighLevel keeps it (nothing is fetched).
	DataDir string
	// PhoneRegion reads phone numbers written without a country code
	// (default the phone package's, US).
	PhoneRegion string
	// Logger receives one line per failed job and per pause (default:
	// discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ADFields reads ActiveDEMAND's contact field list for the field
	// mapping: its catalog, the default mapping's extra fields, and
	// telling a custom field deleted in ActiveDEMAND from an empty one.
	// Nil leaves ActiveDEMAND's fields unchecked.
	ADFields ContactFieldLister
	// MaxChanges, when positive, holds a backlog of more jobs than this
	// until Confirm (the max-changes guard, guard.go).
	MaxChanges int
}

// Engine mirrors the outbox's contact and message jobs into HighLevel. Run
// it once; Snapshot, Pause and Resume may be called from any goroutine.
type Engine struct {
	cfg  Config
	st   *store.Store
	ghl  *ghl.Client
	log  *slog.Logger
	now  func() time.Time
	res  *resolver
	wake chan struct{}

	// completions carries finished jobs to the one goroutine that commits
	// them, in batches; set by Run before its workers start.
	completions chan completion

	mu      sync.Mutex // guards the fields below
	running bool
	paused  bool
	reason  string
	resume  chan struct{} // closed when a pause ends
	auto    autoResume    // when a pause ends by itself (status.go)
	stats   map[string]*KindStats

	maps  mappingCache // the field mapping; has its own lock
	guard guardState
}

// New checks cfg and returns an engine. It starts nothing.
func New(cfg Config) (*Engine, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("sync engine: no store configured")
	case cfg.GHL == nil:
		return nil, errors.New("sync engine: no HighLevel client configured; connect HighLevel first")
	case cfg.ProviderID == "":
		return nil, errors.New("sync engine: no conversation provider id configured; set the HighLevel conversation provider in Connections")
	}
	if cfg.LocationID == "" {
		cfg.LocationID = cfg.GHL.LocationID()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Drain == 0 {
		cfg.Drain = DefaultDrain
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = DefaultRetryBase
	}
	if cfg.RetryCap <= 0 {
		cfg.RetryCap = DefaultRetryCap
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Engine{
		cfg: cfg, st: cfg.Store, ghl: cfg.GHL, log: cfg.Logger, now: cfg.Now,
		res:   newResolver(),
		wake:  make(chan struct{}, 1),
		stats: map[string]*KindStats{},
	}, nil
}

// Wake tells an idle engine that jobs were queued, so it claims them now
// rather than after PollInterval.
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run claims and works on jobs until ctx ends, then stops claiming, hands
// back the jobs it claimed but had not started, lets running jobs finish
// for up to Config.Drain and returns. It returns nil when ctx ended, or the
// store error that stopped it.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	if e.running {
		e.mu.Unlock()
		return errors.New("sync engine: already running")
	}
	e.running = true
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.running = false
		e.mu.Unlock()
	}()

	// Jobs run on a context that outlives ctx by the drain period, so a
	// record that reached HighLevel is also completed in the store.
	jobCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	drained := make(chan struct{})
	var workers, watcher, committer sync.WaitGroup
	e.completions = make(chan completion)
	committer.Go(func() { e.commit(jobCtx) })
	jobs := make(chan store.OutboxItem)
	for range e.cfg.Workers {
		workers.Go(func() {
			for it := range jobs {
				e.work(jobCtx, it)
			}
		})
	}
	watcher.Go(func() {
		select {
		case <-drained:
		case <-ctx.Done():
			if e.cfg.Drain > 0 {
				t := time.NewTimer(e.cfg.Drain)
				defer t.Stop()
				select {
				case <-drained:
				case <-t.C:
				}
			}
		}
		stopJobs()
	})
	err := e.dispatch(ctx, jobs)
	close(jobs)
	workers.Wait()
	close(e.completions)
	committer.Wait()
	close(drained)
	watcher.Wait()
	return err
}

// dispatch claims jobs and hands them to the workers until ctx ends.
func (e *Engine) dispatch(ctx context.Context, jobs chan<- store.OutboxItem) error {
	batch := e.cfg.Workers * 2
	kinds := engineKinds()
	for {
		if err := e.waitWhilePaused(ctx); err != nil {
			return nil
		}
		if e.holdForGuard(ctx) {
			continue
		}
		items, err := e.st.ClaimDueOf(ctx, e.now(), batch, e.cfg.Lease, kinds...)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, store.ErrCannotWrite) { // a full disk: paused until a person frees space
				e.pauseFor(ctx, err)
				continue
			}
			return fmt.Errorf("sync engine: %w", err)
		}
		for i, it := range items {
			if e.isPaused() || ctx.Err() != nil {
				e.release(items[i:], "the sync paused or stopped before this job started")
				break
			}
			select {
			case jobs <- it:
			case <-ctx.Done():
				e.release(items[i:], "the sync stopped before this job started")
				return nil
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		if len(items) == batch {
			continue
		}
		e.guardIdle()
		t := time.NewTimer(e.cfg.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-e.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// release hands claimed jobs back untried, due now.
func (e *Engine) release(items []store.OutboxItem, why string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, it := range items {
		if err := e.st.ReleaseOutbox(ctx, it.Claim(), why, e.now()); err != nil && !errors.Is(err, store.ErrClaimLost) {
			e.log.Warn("sync engine: could not hand back a job; it is taken again after its lease", "job", it.ID, "kind", it.Kind, "err", err)
		}
	}
}

// completion is a finished job waiting for its commit.
type completion struct {
	job   *job
	reply chan error // buffered: commit never waits for the worker
}

// maxCommitBatch bounds how many jobs share one commit; commitLinger is
// how long a commit waits for more jobs while fewer than the workers wait.
const (
	maxCommitBatch = 64
	commitLinger   = time.Millisecond
)

// commit completes finished jobs until the completions channel closes.
// Jobs that finish while a commit is running are committed together in
// the next one (store.CompleteOutboxBatch), so the workers share the one
// writer instead of queueing for it job by job.
func (e *Engine) commit(ctx context.Context) {
	batch := make([]completion, 0, maxCommitBatch)
	args := make([]store.Completion, 0, maxCommitBatch)
	linger := time.NewTimer(0)
	defer linger.Stop()
	for c := range e.completions {
		batch, args = append(batch[:0], c), args[:0]
		// Wait a moment for the other workers' jobs: a commit costs about
		// as much as the rows it writes, so sharing it halves the store's
		// cost per job, for a millisecond of latency.
		linger.Reset(commitLinger)
	more:
		for len(batch) < maxCommitBatch && len(batch) < e.cfg.Workers {
			select {
			case c, ok := <-e.completions:
				if !ok {
					break more
				}
				batch = append(batch, c)
			case <-linger.C:
				break more
			}
		}
		linger.Stop()
		for _, c := range batch {
			args = append(args, store.Completion{Claim: c.job.item.Claim(), Links: c.job.links, Entries: c.job.history, Follow: c.job.follow})
		}
		errs := e.st.CompleteOutboxBatch(ctx, args)
		for i, c := range batch {
			c.reply <- errs[i]
		}
	}
}

// complete commits a finished job through commit and returns its error.
func (e *Engine) complete(ctx context.Context, j *job) error {
	reply := make(chan error, 1)
	select {
	case e.completions <- completion{job: j, reply: reply}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
