package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"parley/store"
	"parley/sync/ghl"
)

// State is what the engine is doing.
type State string

// Engine states.
const (
	StateStopped State = "stopped"
	StateRunning State = "running"
	// StatePaused: Run is running but claims nothing, because something
	// only a person can fix happened (Snapshot.Reason says what) or
	// Pause was called.
	StatePaused State = "paused"
)

// KindStats counts the jobs of one kind this engine settled since it was
// built.
type KindStats struct {
	// Done jobs were completed; Retried went back to the queue after a
	// passing failure; Failed were given up on (dead).
	Done, Retried, Failed int
	// LastError is the last failure's text, LastErrorAt its time.
	LastError   string
	LastErrorAt time.Time
}

// Snapshot is the engine's state for the console: plain data, taken at
// one moment, safe to keep.
type Snapshot struct {
	State State
	// Reason says why the engine is paused, for the user.
	Reason string
	// ResumesAt is when a paused engine resumes by itself (HighLevel's
	// daily quota resets then); zero when only a person can resume it.
	ResumesAt time.Time
	// Queue is the outbox depth by job kind and state.
	Queue map[string]map[store.OutboxState]int
	// Jobs are this engine's counts by job kind.
	Jobs map[string]KindStats
}

// Snapshot returns the engine's state and the outbox's depth.
func (e *Engine) Snapshot(ctx context.Context) (Snapshot, error) {
	q, err := e.st.OutboxCountsByKind(ctx)
	if err != nil {
		return Snapshot{}, fmt.Errorf("sync engine snapshot: %w", err)
	}
	s := e.state()
	s.Queue = q
	return s, nil
}

// state is Snapshot without the outbox's depth, which costs a count.
func (e *Engine) state() Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Snapshot{State: StateStopped, Reason: e.reason, ResumesAt: e.auto.at, Jobs: make(map[string]KindStats, len(e.stats))}
	switch {
	case e.running && e.paused:
		s.State = StatePaused
	case e.running:
		s.State = StateRunning
	}
	for k, v := range e.stats {
		s.Jobs[k] = *v
	}
	return s
}

// Pause stops the engine claiming jobs, with reason shown to the user;
// running jobs finish. The engine pauses itself when HighLevel refuses
// its credentials or the daily quota is used up. A person's Pause while
// the engine waits for the quota to reset keeps it paused past the reset.
func (e *Engine) Pause(reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.paused && !e.auto.at.IsZero() {
		e.reason, e.auto = reason, autoResume{}
		return
	}
	e.pauseLocked(reason, time.Time{})
}

// autoResume is a pause that ends by itself: HighLevel's daily quota
// resets at a time its headers give. Guarded by Engine.mu.
type autoResume struct {
	// at is when the engine resumes; zero when only a person can.
	at time.Time
	// alert is the pause's alert, closed on resuming (0: none stored).
	alert int64
}

// pause pauses the engine, until a person resumes it or, when until is
// set, until then, and reports whether it was running until now.
func (e *Engine) pause(reason string, until time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pauseLocked(reason, until)
}

func (e *Engine) pauseLocked(reason string, until time.Time) bool {
	if e.paused {
		return false
	}
	e.paused, e.reason, e.auto = true, reason, autoResume{at: until}
	e.resume = make(chan struct{})
	return true
}

// Resume lets a paused engine claim jobs again, once the user fixed what
// paused it, or before the daily quota's reset when it was raised.
func (e *Engine) Resume() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.resumeLocked()
}

func (e *Engine) resumeLocked() {
	if !e.paused {
		return
	}
	e.paused, e.reason, e.auto = false, "", autoResume{}
	close(e.resume)
}

// settledJobs is how many jobs this engine has settled (done, retried or
// failed), which grows while it makes progress.
func (e *Engine) settledJobs() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, k := range e.stats {
		n += k.Done + k.Retried + k.Failed
	}
	return n
}

func (e *Engine) isPaused() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.paused
}

// waitWhilePaused returns when the engine is not paused, or ctx's error.
// A pause with a resume time ends when the clock reaches it. The clock is
// read again at least every PollInterval instead of trusting one long
// timer: a timer does not count the hours a laptop sleeps, and the wall
// clock is what HighLevel's reset follows.
func (e *Engine) waitWhilePaused(ctx context.Context) error {
	for {
		e.mu.Lock()
		paused, resume, at := e.paused, e.resume, e.auto.at
		e.mu.Unlock()
		if !paused {
			return ctx.Err()
		}
		if at.IsZero() {
			select {
			case <-resume:
			case <-ctx.Done():
			}
			return ctx.Err()
		}
		left := at.Sub(e.now())
		if left <= 0 {
			e.resumeAfterReset(ctx, at)
			continue
		}
		t := time.NewTimer(min(left, e.cfg.PollInterval))
		select {
		case <-resume:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		t.Stop()
	}
}

// resumeAfterReset ends the pause that was to end at at, unless a person
// resumed or paused the engine since: it closes the pause's alert and
// raises one saying the sync resumed by itself.
func (e *Engine) resumeAfterReset(ctx context.Context, at time.Time) {
	e.mu.Lock()
	if !e.paused || !e.auto.at.Equal(at) {
		e.mu.Unlock()
		return
	}
	alert := e.auto.alert
	e.resumeLocked()
	e.mu.Unlock()
	e.log.Info("sync engine: resumed by itself; HighLevel's daily quota has reset")
	if alert != 0 {
		if err := e.st.AckAlert(ctx, alert); err != nil {
			e.log.Warn("sync engine: could not close the pause's alert", "err", err)
		}
	}
	if _, err := e.st.RaiseAlert(ctx, store.Alert{Severity: store.SeverityInfo, Source: alertSource,
		Message: "The sync with HighLevel resumed by itself: the daily request quota has reset",
		Hint:    fmt.Sprintf("Nothing to do. It was paused until %s.", resumeClock(at))}); err != nil {
		e.log.Error("sync engine: could not raise an alert", "err", err)
	}
}

// quotaReset is when the daily quota that err reports used up resets,
// from HighLevel's headers (the client falls back to midnight UTC); zero
// when err is not a used-up daily quota.
func quotaReset(err error, now time.Time) time.Time {
	var rl *ghl.RateLimitError
	if errors.As(err, &rl) && rl.Daily && rl.RetryAfter > 0 {
		return now.Add(rl.RetryAfter)
	}
	return time.Time{}
}

// resumeHint tells the user when a quota pause ends by itself.
func resumeHint(at, now time.Time, err error) string {
	return fmt.Sprintf("It resumes by itself at %s (in %s), when HighLevel resets the quota; if the quota was raised sooner, resume the sync by hand. Details: %s",
		resumeClock(at), at.Sub(now).Round(time.Minute), err)
}

// resumeClock writes a resume time for the user, in the local zone.
func resumeClock(at time.Time) string { return at.Local().Format("15:04 MST on Mon 2 Jan") }

// count records how a job of kind was settled.
func (e *Engine) count(kind string, f func(*KindStats)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats[kind]
	if s == nil {
		s = &KindStats{}
		e.stats[kind] = s
	}
	f(s)
}
