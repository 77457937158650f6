package ui

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"go.uber.org/goleak"

	"parley/store"
)

// blockingHistory answers nothing until its caller gives up: each call
// blocks until its context ends, then lingers a moment before returning, so
// a Close that does not wait for it returns while the call still runs.
type blockingHistory struct {
	started   chan struct{}
	cancelled chan struct{}
	running   atomic.Int32
	once      sync.Once
}

func newBlockingHistory() *blockingHistory {
	return &blockingHistory{started: make(chan struct{}, 16), cancelled: make(chan struct{})}
}

func (b *blockingHistory) HistoryPage(ctx context.Context, _ store.HistoryFilter) ([]store.HistoryEntry, error) {
	return nil, b.block(ctx)
}

func (b *blockingHistory) HistoryOperations(ctx context.Context) ([]store.Operation, error) {
	return nil, b.block(ctx)
}

func (b *blockingHistory) block(ctx context.Context) error {
	b.running.Add(1)
	defer b.running.Add(-1)
	b.started <- struct{}{}
	<-ctx.Done()
	b.once.Do(func() { close(b.cancelled) })
	time.Sleep(50 * time.Millisecond)
	return ctx.Err()
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestLeavingAScreenCancelsItsWork(t *testing.T) {
	hist := newBlockingHistory()
	c, _ := newTestConsole(t, Deps{History: hist})
	c.Show("History")
	waitClosed(t, hist.started, "the history query to start")
	c.Show("Automations")
	waitClosed(t, hist.cancelled, "leaving History to cancel its query")
}

func TestClosingTheWindowCancelsAndWaitsForBackgroundWork(t *testing.T) {
	hist := newBlockingHistory()
	c, loop := newTestConsole(t, Deps{History: hist, Keyring: probe{}})
	waitForLabel(t, c, loop, "kept in the system keyring")
	// Whatever runs now (the test app, the loop) is not the console's.
	leaks := goleak.IgnoreCurrent()
	c.Show("History")
	test.Type(c.history.search, "ad-msg") // a search waiting for typing to pause
	waitClosed(t, hist.started, "the history query to start")
	c.Window().Close()
	select {
	case <-hist.cancelled:
	default:
		t.Fatal("closing the window did not cancel the history query")
	}
	if n := hist.running.Load(); n != 0 {
		t.Fatalf("%d history queries still running after the window closed", n)
	}
	// Nothing the console started outlives it, the pending search included.
	goleak.VerifyNone(t, leaks)
}

// slowProbe stands for a keyring whose answer cannot be cancelled (go-keyring
// takes no context), such as one waiting on an unlock prompt.
type slowProbe struct {
	release chan struct{}
	done    atomic.Bool
}

func (p *slowProbe) Probe() error {
	<-p.release
	time.Sleep(20 * time.Millisecond)
	p.done.Store(true)
	return nil
}

func TestCloseWaitsForTheKeyringProbe(t *testing.T) {
	p := &slowProbe{release: make(chan struct{})}
	c, _ := newTestConsole(t, Deps{Keyring: p})
	time.AfterFunc(100*time.Millisecond, func() { close(p.release) })
	c.Window().Close()
	if !p.done.Load() {
		t.Fatal("the window closed while the keyring probe was still running")
	}
}

func TestCloseDoesNotHangOnAProbeThatNeverAnswers(t *testing.T) {
	p := &slowProbe{release: make(chan struct{})}
	c, _ := newTestConsole(t, Deps{Keyring: p})
	t.Cleanup(func() { close(p.release) })
	c.closeGrace = 100 * time.Millisecond
	closed := make(chan struct{})
	go func() {
		c.Window().Close()
		close(closed)
	}()
	waitClosed(t, closed, "Close to give up on the probe")
}

// countingProbe counts how often the keyring was asked.
type countingProbe struct{ calls atomic.Int32 }

func (p *countingProbe) Probe() error { p.calls.Add(1); return nil }

// A probe abandoned by leaving Connections must not leave the screen saying
// "Checking…" forever; and a keyring unlocked meanwhile shows as such.
func TestConnectionsAsksTheKeyringAgainWhenShownAgain(t *testing.T) {
	p := &countingProbe{}
	c, loop := newTestConsole(t, Deps{Keyring: p})
	waitForLabel(t, c, loop, "kept in the system keyring")
	c.Show("Automations")
	c.Show("Connections")
	loop.runUntil(t, "a second probe", func() bool { return p.calls.Load() == 2 })
	waitForLabel(t, c, loop, "kept in the system keyring")
}

func TestAnswersForAScreenThatWasLeftAreDropped(t *testing.T) {
	var wg sync.WaitGroup
	loop := newUILoop()
	bg := background{wg: &wg, do: loop.post}
	ctx, leave := context.WithCancel(context.Background())
	release := make(chan struct{})
	applied := false
	bg.run(ctx, func(context.Context) func() {
		<-release // an answer that takes no context, like the keyring's
		return func() { applied = true }
	})
	leave()
	close(release)
	wg.Wait()
	loop.idleFor(20 * time.Millisecond)
	if applied {
		t.Fatal("an answer reached the widgets of a screen the user had left")
	}

	// Nothing starts for a screen already left.
	started := false
	bg.run(ctx, func(context.Context) func() { started = true; return nil })
	wg.Wait()
	if started {
		t.Fatal("work started under a context that had already ended")
	}
}
