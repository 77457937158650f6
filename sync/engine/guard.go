package engine

// The max-changes guard, like rclone's --max-delete: before the engine
// starts on a backlog it counts it, and a backlog far larger than the user
// expects (a wrong account, a mapping that touches every contact, a
// backfill of the wrong years) is held, unsent, until a person confirms
// it. It counts the outbox, not the last poll, so a held backlog stays
// held across restarts until confirmed.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"parley/store"
)

// ErrTooManyChanges is matched (errors.Is) by a GuardStop: the engine holds
// a backlog larger than Config.MaxChanges until Confirm.
var ErrTooManyChanges = errors.New("more changes than the max-changes limit")

// GuardStop says why the guard holds the engine.
type GuardStop struct {
	// Pending is how many jobs wait; Limit is Config.MaxChanges.
	Pending, Limit int
}

func (g GuardStop) Error() string {
	return fmt.Sprintf("%d changes are waiting to be sent to HighLevel, more than the limit of %d; nothing was sent", g.Pending, g.Limit)
}

// Unwrap makes a GuardStop match ErrTooManyChanges.
func (g GuardStop) Unwrap() error { return ErrTooManyChanges }

// guardState is the guard's part of an Engine.
type guardState struct {
	mu sync.Mutex
	// checked is set once the current backlog was counted; the
	// dispatcher clears it whenever the outbox runs dry, so that the next
	// burst of work is counted again.
	checked bool
	// confirmed lets the current backlog through whatever its size.
	confirmed bool
	stop      *GuardStop
}

// Confirm lets the backlog the guard holds (or, called before Run, the
// first one it would hold) be sent, and resumes the engine. A later
// backlog, once this one is done, is counted again.
func (e *Engine) Confirm() {
	e.guard.mu.Lock()
	e.guard.confirmed = true
	held := e.guard.stop != nil
	e.guard.stop = nil
	e.guard.mu.Unlock()
	if held {
		e.Resume()
	}
}

// GuardStop returns what the guard holds, if it holds the engine.
func (e *Engine) GuardStop() (GuardStop, bool) {
	e.guard.mu.Lock()
	defer e.guard.mu.Unlock()
	if e.guard.stop == nil {
		return GuardStop{}, false
	}
	return *e.guard.stop, true
}

// guardIdle tells the guard the outbox has no more due work for now, so
// that the next burst is counted afresh.
func (e *Engine) guardIdle() {
	e.guard.mu.Lock()
	defer e.guard.mu.Unlock()
	if e.guard.stop == nil {
		e.guard.checked, e.guard.confirmed = false, false
	}
}

// holdForGuard counts a new backlog and, when it is larger than
// Config.MaxChanges and not confirmed, pauses the engine with an alert. It
// reports whether it paused.
func (e *Engine) holdForGuard(ctx context.Context) bool {
	limit := e.cfg.MaxChanges
	if limit <= 0 {
		return false
	}
	e.guard.mu.Lock()
	if e.guard.stop != nil {
		// Called only once the engine is not paused: someone resumed it
		// (the console's Resume), which confirms like Confirm.
		e.guard.stop, e.guard.confirmed = nil, true
	}
	skip := e.guard.checked || e.guard.confirmed
	e.guard.checked = true
	e.guard.mu.Unlock()
	if skip {
		return false
	}
	counts, err := e.st.OutboxCountsByKind(ctx)
	if err != nil {
		// Not knowing is not a reason to send: count again next time.
		e.log.Warn("sync engine: could not count the backlog for the max-changes guard", "err", err)
		e.guard.mu.Lock()
		e.guard.checked = false
		e.guard.mu.Unlock()
		return false
	}
	pending := 0
	for _, k := range engineKinds() {
		pending += counts[k][store.OutboxPending]
	}
	if pending <= limit {
		return false
	}
	stop := GuardStop{Pending: pending, Limit: limit}
	e.guard.mu.Lock()
	e.guard.stop = &stop
	e.guard.mu.Unlock()
	if e.pause(stop.Error(), time.Time{}) {
		e.log.Warn("sync engine: held by the max-changes guard", "pending", pending, "limit", limit)
		if _, err := e.st.RaiseAlert(ctx, store.Alert{Severity: store.SeverityWarning, Source: alertSource, Message: stop.Error(),
			Hint: "Check what would change (a dry run shows it), then press Confirm to send them, or raise the max-changes limit."}); err != nil {
			e.log.Error("sync engine: could not raise an alert", "err", err)
		}
	}
	return true
}
