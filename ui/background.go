package ui

import (
	"context"
	"sync"
	"time"
)

// background starts the console's goroutines. Each belongs to the console's
// WaitGroup, which closing the window waits for, and runs with a context
// that ends when its screen is left or the window closes. Its result reaches
// the widgets only through do (fyne.Do), and only while that context lives:
// an answer for a screen the user has left is dropped, not painted onto a
// hidden view.
type background struct {
	wg *sync.WaitGroup
	do func(func())
}

// run starts work unless ctx has already ended. work runs off the UI
// goroutine and returns what to do with its result on the UI goroutine, or
// nil for nothing.
//
// run is called on the UI goroutine only. Closing the window cancels every
// context there before it waits, so no goroutine is added to a WaitGroup
// that is being waited for.
func (b background) run(ctx context.Context, work func(ctx context.Context) (apply func())) {
	if ctx == nil || ctx.Err() != nil {
		return
	}
	b.wg.Go(func() {
		apply := work(ctx)
		if apply == nil {
			return
		}
		b.do(func() {
			if ctx.Err() == nil {
				apply()
			}
		})
	})
}

// debounce runs a function once calls pause, for searches as the user
// types: each call cancels the one still waiting. A context that ends
// (leaving the screen, closing the window) cancels it too.
type debounce struct {
	timer *time.Timer
	// unhook detaches timer from the context that stops it early.
	unhook func() bool
}

// after runs fn on the UI goroutine through do once delay has passed
// without another call. It is called on the UI goroutine; a nil ctx (a
// screen not shown yet) runs nothing.
func (d *debounce) after(ctx context.Context, delay time.Duration, do func(func()), fn func()) {
	if d.timer != nil {
		d.timer.Stop()
		d.unhook()
	}
	if ctx == nil {
		return
	}
	t := time.AfterFunc(delay, func() {
		do(func() {
			if ctx.Err() == nil {
				fn()
			}
		})
	})
	d.timer = t
	d.unhook = context.AfterFunc(ctx, func() { t.Stop() })
}
