package ui

import (
	"testing"
	"time"
)

// uiLoop stands in for Fyne's main goroutine in tests: background work posts
// closures to it and the test goroutine runs them, one at a time, while it
// waits. That keeps every widget access on the test goroutine, as the real
// driver keeps them on the main one.
type uiLoop chan func()

func newUILoop() uiLoop { return make(uiLoop, 64) }

func (l uiLoop) post(fn func()) { l <- fn }

// runUntil runs posted closures until cond holds, failing the test after
// 20 s: generous, because a loaded machine (the race detector, parallel
// packages) can take seconds where an idle one takes milliseconds.
func (l uiLoop) runUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for !cond() {
		select {
		case fn := <-l:
			fn()
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// idleFor runs posted closures for d and reports how many ran.
func (l uiLoop) idleFor(d time.Duration) int {
	n := 0
	deadline := time.After(d)
	for {
		select {
		case fn := <-l:
			fn()
			n++
		case <-deadline:
			return n
		}
	}
}
