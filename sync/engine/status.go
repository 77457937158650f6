package engine

import (
	"context"
	"fmt"
	"time"

	"parley/store"
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
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Snapshot{State: StateStopped, Reason: e.reason, Queue: q, Jobs: make(map[string]KindStats, len(e.stats))}
	switch {
	case e.running && e.paused:
		s.State = StatePaused
	case e.running:
		s.State = StateRunning
	}
	for k, v := range e.stats {
		s.Jobs[k] = *v
	}
	return s, nil
}

// Pause stops the engine claiming jobs, with reason shown to the user;
// running jobs finish. The engine pauses itself when HighLevel refuses
// its credentials or the daily quota is used up.
func (e *Engine) Pause(reason string) { e.pause(reason) }

// pause pauses the engine and reports whether it was running until now.
func (e *Engine) pause(reason string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.paused {
		return false
	}
	e.paused, e.reason = true, reason
	e.resume = make(chan struct{})
	return true
}

// Resume lets a paused engine claim jobs again, once the user fixed what
// paused it.
func (e *Engine) Resume() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.paused {
		return
	}
	e.paused, e.reason = false, ""
	close(e.resume)
}

func (e *Engine) isPaused() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.paused
}

// waitWhilePaused returns when the engine is not paused, or ctx's error.
func (e *Engine) waitWhilePaused(ctx context.Context) error {
	e.mu.Lock()
	paused, resume := e.paused, e.resume
	e.mu.Unlock()
	if !paused {
		return ctx.Err()
	}
	select {
	case <-resume:
		return ctx.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

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
