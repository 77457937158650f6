package ui

// Two things the console watches in itself, through Fyne alone, so neither
// depends on X tools:
//
//   - when its first frame is drawn, which it logs once
//     (screenshot.FirstFrameMessage; the start-up benchmark in ui/smoke
//     times the process until that line);
//   - with PARLEY_SCREENSHOTS (screenshot.Env) set to a folder, a tour of
//     every screen once the demo's sync has settled: each screen is shown,
//     given time to load and stop changing, read back from the window's
//     canvas and written as <folder>/<screen>.png with a manifest
//     (screenshot.Manifest), then the console quits. `make screenshots`
//     and the smoke test that no screen draws blank use it.
//
// Both run only under a desktop driver: Fyne's test driver has no frames
// to wait for, and unit tests drive the screens themselves.

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"

	"parley/sync/engine"
	"parley/ui/screenshot"
)

// processStart is as close to the process's start as the package can see:
// package variables are set before main runs.
var processStart = time.Now()

const (
	// defaultDemoWait is more than the demo's sync takes on a busy
	// machine (about a minute, two with the machine's cores shared).
	defaultDemoWait = 3 * time.Minute
	// A screen has settled when two captures in a row, settleEvery apart,
	// differ in almost no pixel, and it has had settleMin to load; one that
	// keeps changing (a live chart) is taken after settleMax.
	settleEvery = 250 * time.Millisecond
	settleMin   = time.Second
	settleMax   = 8 * time.Second
	// settledDiff is the share of pixels a settled screen may still change
	// between captures: a blinking cursor, a ticking clock.
	settledDiff = 0.002
)

// watch starts the first-frame log and, when asked for, the screen tour.
// NewConsole calls it once, on the UI goroutine.
func (c *Console) watch() {
	if _, ok := c.app.Driver().(desktop.Driver); !ok {
		return
	}
	drawn := make(chan struct{})
	var once sync.Once
	// The painter asks a raster for its pixels while it draws the frame
	// the raster is first in, so the first call is the first frame: a
	// signal that needs no read-back, which some drivers cannot do. One
	// transparent pixel in a corner shows nothing.
	marker := canvas.NewRaster(func(int, int) image.Image {
		once.Do(func() {
			slog.Info(screenshot.FirstFrameMessage, "after", time.Since(processStart).Round(time.Millisecond))
			close(drawn)
		})
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	})
	marker.Resize(fyne.NewSize(1, 1))
	c.win.SetContent(container.NewStack(c.win.Content(), container.NewWithoutLayout(marker)))

	dir := os.Getenv(screenshot.Env)
	if dir == "" {
		return
	}
	wait := defaultDemoWait
	if v := os.Getenv(screenshot.WaitEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			slog.Warn(screenshot.WaitEnv+" is not a duration such as 90s; waiting the default", "value", v, "default", wait)
		} else {
			wait = d
		}
	}
	ctx := c.ctx
	c.bg.Go(func() {
		select {
		case <-drawn:
		case <-ctx.Done():
			return
		}
		err := c.tour(ctx, dir, wait)
		if ctx.Err() != nil {
			return // closed by hand: nothing to quit
		}
		if err != nil {
			slog.Error("the screen pictures are incomplete", "folder", dir, "err", err)
		}
		c.deps.Do(c.win.Close)
	})
}

// errNoReadBack is the tour's error when the window's frames read back
// empty.
var errNoReadBack = errors.New("the graphics driver reads the window back as empty pixels " +
	"(Mesa's llvmpipe does under Xvfb); run with GALLIUM_DRIVER=softpipe, as `make screenshots` does")

// capture reads the window's current frame on the UI goroutine, where its
// GL context lives. It returns nil once the window is gone, and false when
// ctx ends first.
func (c *Console) capture(ctx context.Context) (*image.RGBA, bool) {
	got := make(chan image.Image, 1)
	c.deps.Do(func() {
		// Once the driver has stopped (a SIGTERM ends it without closing
		// the window first), fyne.Do runs this on the calling goroutine
		// and GLFW panics: the window is gone, which nil says.
		defer func() {
			if recover() != nil {
				got <- nil
			}
		}()
		got <- c.win.Canvas().Capture()
	})
	var img image.Image
	select {
	case img = <-got:
	case <-ctx.Done():
		return nil, false
	}
	if img == nil {
		return nil, true
	}
	// The driver's image reads each pixel through a method; one copy makes
	// the comparisons and the PNG encoder fast.
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	// The window is opaque, but a visual without alpha reads back with
	// alpha 0 (Mesa's softpipe does), which a PNG would keep as fully
	// transparent.
	for i := 3; i < len(rgba.Pix); i += 4 {
		rgba.Pix[i] = 0xff
	}
	return rgba, true
}

// unread reports a frame whose every pixel is black: no drawn window is,
// so the driver returned nothing.
func unread(img *image.RGBA) bool {
	for i, b := range img.Pix {
		if b != 0 && i%4 != 3 {
			return false
		}
	}
	return true
}

// onUI runs f on the UI goroutine and waits for it; false when ctx ends
// first.
func (c *Console) onUI(ctx context.Context, f func()) bool {
	done := make(chan struct{})
	c.deps.Do(func() { f(); close(done) })
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// sleep waits d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// tour writes every screen's picture to dir, in navigation order.
func (c *Console) tour(ctx context.Context, dir string, wait time.Duration) error {
	if err := os.MkdirAll(dir, 0o750); err != nil { // #nosec G703 -- the folder whoever runs the tour named in PARLEY_SCREENSHOTS
		return err
	}
	c.awaitDemo(ctx, wait)
	call, hasCall := c.findCall(ctx)
	var m screenshot.Manifest
	for _, title := range c.Titles() {
		if !c.onUI(ctx, func() { c.Show(title) }) {
			return ctx.Err()
		}
		if title == "Contacts" && hasCall {
			c.showCall(ctx, call)
		}
		img, settled, ok := c.settle(ctx)
		if !ok {
			return ctx.Err()
		}
		if img == nil {
			return errors.New("the window closed during the tour")
		}
		if unread(img) {
			return errNoReadBack
		}
		var content image.Rectangle
		c.onUI(ctx, func() { content = c.contentRect() })
		s := screenshot.Screen{Title: title, File: screenshot.FileName(title), Content: content, Settled: settled}
		if err := screenshot.Save(filepath.Join(dir, s.File), img); err != nil {
			return fmt.Errorf("save the %s screen: %w", title, err)
		}
		m.Screens = append(m.Screens, s)
		slog.Info("took a screen picture", "screen", title, "settled", settled)
	}
	// Last, the setup guide's first step over the demo, as a first start
	// shows it (the tour keeps it from opening by itself).
	if c.deps.Connections != nil && c.deps.Demo {
		if !c.onUI(ctx, func() { c.Show("Connections"); c.showGuide(1) }) {
			return ctx.Err()
		}
		img, _, ok := c.settle(ctx)
		if !ok {
			return ctx.Err()
		}
		if img == nil {
			return errors.New("the window closed during the tour")
		}
		if err := screenshot.Save(filepath.Join(dir, screenshot.GuideFile), img); err != nil {
			return fmt.Errorf("save the setup guide: %w", err)
		}
		m.Guide = screenshot.GuideFile
	}
	if err := screenshot.WriteManifest(dir, m); err != nil {
		return err
	}
	slog.Info("wrote the screen pictures", "folder", dir, "screens", len(m.Screens))
	return nil
}

// contentRect is where the screen on display is, in the window's pixels.
func (c *Console) contentRect() image.Rectangle {
	cv := c.win.Canvas()
	pos := c.app.Driver().AbsolutePositionForObject(c.content)
	x0, y0 := cv.PixelCoordinateForPosition(pos)
	x1, y1 := cv.PixelCoordinateForPosition(pos.Add(c.content.Size()))
	return image.Rect(x0, y0, x1, y1)
}

// settle waits for the screen on display to stop changing and returns its
// last frame, and whether it did stop (false: taken at settleMax anyway).
func (c *Console) settle(ctx context.Context) (*image.RGBA, bool, bool) {
	start := time.Now()
	var prev *image.RGBA
	stable := 0
	for {
		if !sleep(ctx, settleEvery) {
			return nil, false, false
		}
		img, ok := c.capture(ctx)
		if !ok || img == nil {
			return nil, false, ok
		}
		if prev != nil && changed(prev, img) <= settledDiff {
			stable++
		} else {
			stable = 0
		}
		prev = img
		waited := time.Since(start)
		if stable >= 2 && waited >= settleMin {
			return img, true, true
		}
		if waited >= settleMax {
			return img, false, true
		}
	}
}

// changed is the share of pixels that differ between a and b.
func changed(a, b *image.RGBA) float64 {
	if a.Bounds() != b.Bounds() || len(a.Pix) == 0 {
		return 1
	}
	n := 0
	for i := 0; i+3 < len(a.Pix); i += 4 {
		if a.Pix[i] != b.Pix[i] || a.Pix[i+1] != b.Pix[i+1] || a.Pix[i+2] != b.Pix[i+2] {
			n++
		}
	}
	return float64(n) / float64(len(a.Pix)/4)
}

// awaitDemo waits, at most wait, until the sync has done some work and
// has nothing queued or running, twice in a row a second apart: then
// History, Conversations, Contacts and Sync all have something to show.
func (c *Console) awaitDemo(ctx context.Context, wait time.Duration) {
	if wait <= 0 || c.deps.Sync == nil {
		return
	}
	deadline := time.Now().Add(wait)
	idle := 0
	for time.Now().Before(deadline) {
		d, err := c.deps.Sync.Dashboard(ctx)
		busy, done := 0, 0
		for _, q := range d.Queue {
			busy += q.Pending + q.InFlight
			done += q.Done
		}
		if err == nil && busy == 0 && done > 0 {
			idle++
		} else {
			idle = 0
		}
		if idle >= 2 {
			return
		}
		if !sleep(ctx, time.Second) {
			return
		}
	}
	slog.Warn("taking the screen pictures before the sync has settled", "waited", wait)
}

// recordedCall is a call with its recording and transcript: what the
// Contacts picture shows.
type recordedCall struct {
	contact   string
	messageID string
}

// findCall looks through the contacts' timelines for a call with its
// recording and transcript fetched.
func (c *Console) findCall(ctx context.Context) (recordedCall, bool) {
	if c.deps.Browse == nil {
		return recordedCall{}, false
	}
	contacts, err := c.deps.Browse.Contacts(ctx, "", contactListLimit)
	if err != nil {
		slog.Warn("the Contacts picture shows no call", "err", err)
	}
	for _, s := range contacts {
		tl, err := c.deps.Browse.Timeline(ctx, s.GHLID)
		if err != nil {
			continue
		}
		for _, e := range slices.Backward(tl.Entries) {
			if e.Kind == engine.EntryCall && e.Recording != "" && e.Transcript != "" {
				return recordedCall{contact: s.GHLID, messageID: e.GHLMessageID}, true
			}
		}
	}
	return recordedCall{}, false
}

// showCall opens the call on the Contacts screen as a person would: the
// contact in the list, then the call in its timeline.
func (c *Console) showCall(ctx context.Context, call recordedCall) {
	cs := c.contacts
	steps := []func() bool{
		func() bool { // the contact list has loaded: select the contact
			i := slices.IndexFunc(cs.contacts, func(s engine.ContactSummary) bool { return s.GHLID == call.contact })
			if i >= 0 {
				cs.list.Select(i)
				cs.list.ScrollTo(i)
			}
			return i >= 0
		},
		func() bool { // its timeline has loaded: select the call
			if cs.current.GHLID != call.contact || len(cs.timeline.Entries) == 0 {
				return false
			}
			i := slices.IndexFunc(cs.timeline.Entries, func(e engine.TimelineEntry) bool {
				return e.Kind == engine.EntryCall && e.GHLMessageID == call.messageID
			})
			if i >= 0 {
				cs.entries.Select(i)
				cs.entries.ScrollTo(i)
			}
			return i >= 0
		},
	}
	for _, step := range steps {
		done := false
		for deadline := time.Now().Add(10 * time.Second); !done && time.Now().Before(deadline); {
			if !c.onUI(ctx, func() { done = step() }) || (!done && !sleep(ctx, 100*time.Millisecond)) {
				return
			}
		}
		if !done {
			slog.Warn("the Contacts picture shows no call: the contact or its call did not load in 10 s")
			return
		}
	}
}
