package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"parley/store"
	"parley/sync/ghl"
	"parley/sync/internal/backoff"
)

// alertSource names the engine in the alerts it raises.
const alertSource = "sync.engine"

// job is one claimed outbox item while a worker runs it: what it learnt,
// to be stored with its completion.
type job struct {
	item    store.OutboxItem
	links   []store.IDLink
	history []store.HistoryEntry
	// follow is the work this job leads to, queued only when its
	// completion commits (store.Completion.Follow).
	follow []store.OutboxJob
	// done runs once the job's completion is committed.
	done []func()
}

// then queues kind/key/payload as the work this job leads to. It is queued
// in the transaction that completes the job, so it exists exactly when the
// job is done; a job that fails or is retried queues nothing.
func (j *job) then(kind, key string, payload []byte) {
	j.follow = append(j.follow, store.OutboxJob{Kind: kind, Key: key, Payload: payload})
}

// jobWorkers is what the engine does with each outbox kind it consumes.
// Files adding a kind register its worker in an init function; the
// dispatcher claims exactly these kinds.
var jobWorkers = map[string]func(*Engine, context.Context, *job) error{
	JobMirrorContact: (*Engine).mirrorContact,
	JobMirrorMessage: (*Engine).mirrorMessage,
}

// engineKinds lists jobWorkers' kinds, sorted, for ClaimDueOf.
func engineKinds() []string {
	return slices.Sorted(maps.Keys(jobWorkers))
}

func (j *job) onDone(f func()) { j.done = append(j.done, f) }

// retried says whether an earlier attempt of this job may have reached
// HighLevel: it failed, timed out or its worker died. Such a job looks
// before it writes.
func (j *job) retried() bool { return j.item.Attempts > 1 }

func (j *job) link(kind store.EntityKind, adID, ghlID string) {
	j.links = append(j.links, store.IDLink{Kind: kind, ADID: adID, GHLID: ghlID})
}

// work runs one claimed job and settles it.
func (e *Engine) work(ctx context.Context, it store.OutboxItem) {
	if e.isPaused() {
		// The dispatcher handed this job over before another worker's
		// failure paused the engine: it would only meet the same refusal.
		e.release([]store.OutboxItem{it}, "the sync paused before this job started")
		return
	}
	j := &job{item: it}
	ctx, stop := e.keepLeased(ctx, it)
	defer stop()
	var err error
	if w, ok := jobWorkers[it.Kind]; ok {
		err = w(e, ctx, j)
	} else {
		// ClaimDueOf hands out only jobWorkers' kinds.
		err = fmt.Errorf("%w: the engine has no worker for jobs of kind %q", errPermanent, it.Kind)
	}
	e.settle(ctx, j, err)
}

// settle stores a job's outcome: done with its links and history, back in
// the queue, dead, or handed back while the engine pauses.
func (e *Engine) settle(ctx context.Context, j *job, err error) {
	it := j.item
	if ctx.Err() != nil {
		// Run's drain period is over: the job stays claimed and is taken
		// again after its lease, and then looks before it writes.
		e.log.Info("sync engine: job abandoned at shutdown; it is taken again after its lease", "job", it.ID, "kind", it.Kind)
		return
	}
	if err == nil {
		err = e.complete(ctx, j)
		if err == nil {
			for _, f := range j.done {
				f()
			}
			e.count(it.Kind, func(s *KindStats) { s.Done++ })
			return
		}
		if ctx.Err() != nil {
			return
		}
		j.history = append(j.history, store.HistoryEntry{At: e.now(), Operation: opFor(it.Kind), System: store.SystemGHL,
			LocalID: it.Key, Outcome: store.OutcomeFailed, Attempts: it.Attempts, Error: err.Error()})
	}
	class, after := classify(err)
	text := err.Error()
	var serr error
	switch class {
	case lost:
		e.log.Info("sync engine: job was taken over after its lease ran out; its result is dropped", "job", it.ID, "kind", it.Kind)
		return
	case pause:
		e.count(it.Kind, func(s *KindStats) { s.LastError, s.LastErrorAt = text, e.now() })
		e.pauseFor(ctx, err)
		serr = e.st.ReleaseOutbox(ctx, it.Claim(), text, e.now())
		if serr == nil {
			serr = e.st.AppendHistory(ctx, j.failed(it, text, store.OutcomeRetrying)...)
		}
	case permanent:
		e.count(it.Kind, func(s *KindStats) { s.Failed++; s.LastError, s.LastErrorAt = text, e.now() })
		e.log.Warn("sync engine: job cannot be mirrored; given up", "job", it.ID, "kind", it.Kind, "err", text)
		serr = e.st.KillOutboxWith(ctx, it.Claim(), text, j.failed(it, text, store.OutcomeFailed))
	case retry:
		e.count(it.Kind, func(s *KindStats) { s.Retried++; s.LastError, s.LastErrorAt = text, e.now() })
		if after <= 0 {
			after = backoff.FullJitter(e.cfg.RetryBase, e.cfg.RetryCap, it.Attempts, rand.Float64()) // #nosec G404 -- retry jitter only spreads load; nothing depends on it being unpredictable
		}
		serr = e.st.RetryOutboxWith(ctx, it.Claim(), text, e.now().Add(after), j.failed(it, text, store.OutcomeRetrying))
	}
	if serr != nil && !errors.Is(serr, store.ErrClaimLost) {
		e.log.Error("sync engine: could not store a job's failure; it is taken again after its lease", "job", it.ID, "kind", it.Kind, "err", serr)
	}
}

// failed is the job's history for a failure: its rows with the failed one
// marked with outcome, or one row saying why when no call failed.
func (j *job) failed(it store.OutboxItem, text string, outcome store.Outcome) []store.HistoryEntry {
	rows := j.history
	if n := len(rows); n > 0 && rows[n-1].Outcome == store.OutcomeFailed {
		rows[n-1].Outcome = outcome
		return rows
	}
	return append(rows, store.HistoryEntry{Operation: opFor(it.Kind), System: store.SystemGHL, LocalID: it.Key,
		Outcome: outcome, Attempts: it.Attempts, Error: text})
}

// opFor is the history operation of a job kind's main write.
func opFor(kind string) store.Operation {
	if kind == JobMirrorContact {
		return store.OpContactUpsert
	}
	return store.OpInboundRecord
}

// pauseFor pauses the engine because of err and, unless it was paused
// already, raises an alert saying what to do. A used-up daily quota
// pauses only until HighLevel resets it, and the alert says when.
func (e *Engine) pauseFor(ctx context.Context, err error) {
	why, hint := pauseText(err)
	now := e.now()
	at := quotaReset(err, now)
	reason := why
	if !at.IsZero() {
		hint = resumeHint(at, now, err)
		// The alert keeps the same words for the same cause, so that
		// pauses on later days refresh it; the reason, which a headless
		// run prints last, also says when.
		reason = why + "; it resumes by itself at " + resumeClock(at)
	}
	if !e.pause(reason, at) {
		return
	}
	e.log.Warn("sync engine: paused", "err", err, "resumes_at", at)
	id, aerr := e.st.RaiseAlert(ctx, store.Alert{Severity: store.SeverityError, Source: alertSource, Message: why, Hint: hint})
	if aerr != nil {
		e.log.Error("sync engine: could not raise an alert", "err", aerr)
		return
	}
	e.mu.Lock()
	if e.paused && !at.IsZero() && e.auto.at.Equal(at) {
		e.auto.alert = id
	}
	e.mu.Unlock()
}

// call runs one HighLevel call for job j and adds its history row: always
// for writes, only on failure for lookups. It returns fn's remote id.
func (e *Engine) call(ctx context.Context, j *job, op store.Operation, method, localID string, write bool, fn func(context.Context) (string, error)) (string, error) {
	cctx, tr := withTrace(ctx, method)
	start := time.Now()
	id, err := fn(cctx)
	if ctx.Err() != nil {
		return id, ctx.Err()
	}
	if !write && err == nil {
		return id, nil
	}
	_, status := tr.result()
	var api *ghl.APIError
	if errors.As(err, &api) {
		status = api.Status
	}
	row := store.HistoryEntry{At: e.now(), Operation: op, System: store.SystemGHL, LocalID: localID, RemoteID: id,
		Outcome: store.OutcomeOK, HTTPStatus: status, Attempts: j.item.Attempts, Latency: time.Since(start)}
	if err != nil {
		row.Outcome, row.Error = store.OutcomeFailed, err.Error()
	}
	j.history = append(j.history, row)
	return id, err
}

// keepLeased extends the job's lease while it runs, every third of the
// lease, so that slow work (a slow HighLevel, a long upload) is not handed
// to another worker. If the lease is lost anyway (the process stalled
// longer than a lease), the returned context is cancelled: another worker
// owns the job now. stop ends the extensions and waits for them.
func (e *Engine) keepLeased(ctx context.Context, it store.OutboxItem) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(e.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				err := e.st.ExtendLease(ctx, it.Claim(), e.now().Add(e.cfg.Lease))
				if errors.Is(err, store.ErrClaimLost) {
					e.log.Warn("sync engine: lost a job's lease while working on it; another worker has it", "job", it.ID, "kind", it.Kind)
					cancel()
					return
				}
				if err != nil && ctx.Err() == nil {
					e.log.Warn("sync engine: could not extend a job's lease", "job", it.ID, "kind", it.Kind, "err", err)
				}
			}
		}
	})
	return ctx, func() {
		close(done)
		wg.Wait()
		cancel()
	}
}
