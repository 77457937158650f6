package ui

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/store"
	"parley/sync/engine"
)

// pauseShortcut pauses or resumes the sync while the Sync screen is shown.
var pauseShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyP, Modifier: fyne.KeyModifierShortcutDefault}

// deadShown is the size of the dead-letter list: past it, the first page
// says how many more there are, and Replay all takes them all.
const deadShown = 100

// pauseReason is what a pause from this screen says, on the screen and in
// the engine's snapshot.
const pauseReason = "Paused from the Sync screen"

// syncScreen is the live dashboard of the sync: state, queue, throughput,
// HighLevel's budget, errors, dead jobs and the controls. Its numbers are
// read off the UI goroutine every Deps.SyncEvery while it is on display
// and painted through Deps.Do.
type syncScreen struct {
	deps Deps
	bg   background
	win  fyne.Window
	life context.Context
	// ctx is the context of the current showing; Ctrl+P acts only while
	// it lives.
	ctx context.Context
	// reads numbers the reads as they start; applied is the newest
	// painted, so a slow read never paints over a newer one.
	reads   atomic.Int64
	applied int64
	// waiting is true while a ticked reading waits for the UI goroutine.
	waiting atomic.Bool

	state, reason *widget.Label
	pause         *widget.Button
	// run starts and stops the console's own sync (Deps.Runner).
	run      *widget.Button
	paused   bool
	attached bool
	// starting is true while a Start or Stop is under way.
	starting  bool
	backfill  *widget.Button
	dryRun    *widget.Button
	verify    *widget.Button
	toolsNote *widget.Label
	message   *widget.Label

	// numbers holds the dashboard's sections; it is laid out again when
	// a reading changes their sizes.
	numbers     *fyne.Container
	queue       *fyne.Container
	chart       *throughputChart
	chartNote   *widget.Label
	burst       *widget.ProgressBar
	daily       *widget.ProgressBar
	budget      engine.Budget
	errors      *fyne.Container
	backfillUI  *fyne.Container
	fillBar     *widget.ProgressBar
	fillNote    *widget.Label
	results     *fyne.Container
	resultTitle *widget.Label
	resultText  *widget.Label

	dead      []store.OutboxItem
	deadCount int
	// rows are the list's rows by their view, for the list to fill.
	rows      map[fyne.CanvasObject]*deadRow
	deadTitle *widget.Label
	deadList  *widget.List
	replayAll *widget.Button

	// fill is the running backfill's progress, written by the backfill's
	// goroutine and painted with the next numbers.
	fillMu      sync.Mutex
	fill        BackfillProgress
	fillStarted time.Time
	filling     bool
}

func newSyncScreen(d Deps, bg background, win fyne.Window, life context.Context) *syncScreen {
	return &syncScreen{deps: d, bg: bg, win: win, life: life, rows: map[fyne.CanvasObject]*deadRow{}}
}

// screen is the Sync entry of the navigation.
func (s *syncScreen) screen() *screen {
	return &screen{title: "Sync", icon: theme.ViewRefreshIcon(), build: s.view, shown: s.shown}
}

func (s *syncScreen) view() fyne.CanvasObject {
	s.state = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.reason = wrapped("")
	s.message = wrapped("")
	s.message.Hide()
	s.pause = widget.NewButtonWithIcon("Pause", theme.MediaPauseIcon(), s.togglePause)
	s.pause.Disable()
	s.run = widget.NewButtonWithIcon("Start sync", theme.MediaPlayIcon(), s.toggleRun)
	s.run.Importance = widget.HighImportance
	if s.deps.Runner == nil {
		s.run.Hide()
	}
	s.backfill = widget.NewButtonWithIcon("Backfill", theme.DownloadIcon(), s.startBackfill)
	s.dryRun = widget.NewButtonWithIcon("Dry run", theme.SearchIcon(), func() { s.runReport("Dry run", s.dryRun, s.deps.DryRun.DryRun) })
	s.verify = widget.NewButtonWithIcon("Verify", theme.ConfirmIcon(), func() { s.runReport("Verify", s.verify, s.deps.Verify.Verify) })
	var missing []string
	for _, t := range []struct {
		b       *widget.Button
		present bool
	}{{s.backfill, s.deps.Backfill != nil}, {s.dryRun, s.deps.DryRun != nil}, {s.verify, s.deps.Verify != nil}} {
		if !t.present {
			t.b.Disable()
			missing = append(missing, t.b.Text)
		}
	}
	s.toolsNote = wrapped("")
	if len(missing) > 0 {
		s.toolsNote.SetText("Not available in this version yet: " + strings.Join(missing, ", ") + ".")
	} else {
		s.toolsNote.Hide()
	}

	s.queue = container.New(queueLayout{})
	s.chart = newThroughputChart()
	s.chartNote = widget.NewLabel("")
	s.burst, s.daily = widget.NewProgressBar(), widget.NewProgressBar()
	s.burst.TextFormatter = func() string { return s.budgetText(true) }
	s.daily.TextFormatter = func() string { return s.budgetText(false) }
	s.errors = container.NewVBox()

	s.fillBar = widget.NewProgressBar()
	s.fillNote = widget.NewLabel("No backfill has run in this window.")
	s.backfillUI = container.NewVBox(widget.NewLabelWithStyle("Backfill", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), s.fillBar, s.fillNote)
	if s.deps.Backfill == nil {
		s.backfillUI.Hide()
	}
	s.resultText = wrapped("")
	s.resultTitle = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.results = container.NewVBox(s.resultTitle, s.resultText)
	s.results.Hide()

	s.deadTitle = widget.NewLabelWithStyle("Dead-letter jobs", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.replayAll = widget.NewButtonWithIcon("Replay all…", theme.MediaReplayIcon(), s.confirmReplayAll)
	s.replayAll.Disable()
	s.deadList = widget.NewList(
		func() int { return len(s.dead) },
		func() fyne.CanvasObject {
			r := newDeadRow()
			s.rows[r.view] = r
			return r.view
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if r := s.rows[o]; r != nil && i < len(s.dead) {
				r.set(s.dead[i], s.deps.Location, s.replayOne)
			}
		})

	s.win.Canvas().AddShortcut(pauseShortcut, func(fyne.Shortcut) {
		if s.ctx != nil && s.ctx.Err() == nil && !s.pause.Disabled() {
			s.togglePause()
		}
	})
	if s.deps.Sync == nil {
		s.state.SetText("Stopped")
		s.reason.SetText("The sync does not run in this window: run `parley sync` beside it, or the demo, to see it here.")
	}

	controls := container.NewHBox(s.run, s.pause, widget.NewSeparator(), s.backfill, s.dryRun, s.verify)
	status := container.NewBorder(nil, nil, s.state, controls, s.reason)
	top := container.NewVBox(
		header("Sync", "Watch and steer the background sync: what is queued, how fast it goes, HighLevel's rate-limit headroom, and the jobs that need a person."),
		status, s.toolsNote, s.message)
	s.numbers = container.NewVBox(
		section("Queue", s.queue),
		section("Throughput, last hour", container.NewBorder(nil, s.chartNote, nil, nil, s.chart)),
		section("HighLevel budget", container.NewVBox(s.burst, s.daily)),
		section("Errors, last hour", s.errors),
		s.backfillUI, s.results)
	dead := container.NewBorder(container.NewBorder(nil, nil, nil, s.replayAll, s.deadTitle), nil, nil, nil, s.deadList)
	split := container.NewHSplit(container.NewVScroll(s.numbers), dead)
	split.Offset = 0.5
	return container.NewBorder(top, nil, nil, nil, split)
}

// section is one titled part of the dashboard.
func section(title string, content fyne.CanvasObject) fyne.CanvasObject {
	return container.NewVBox(widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), content, widget.NewSeparator())
}

// say shows a message above the dashboard, or hides the line when empty.
func (s *syncScreen) say(text string) {
	s.message.SetText(text)
	if text == "" {
		s.message.Hide()
	} else {
		s.message.Show()
	}
}

// shown reads the numbers now and then every SyncEvery until the screen
// is left.
func (s *syncScreen) shown(ctx context.Context) {
	s.ctx = ctx
	if s.deps.Sync == nil {
		return
	}
	s.bg.run(ctx, func(ctx context.Context) func() {
		tick := time.NewTicker(s.deps.SyncEvery)
		defer tick.Stop()
		for {
			// A UI goroutine busier than the ticker gets one reading at a
			// time, the latest, rather than a queue of stale ones.
			if s.waiting.CompareAndSwap(false, true) {
				if apply := s.read(ctx); apply != nil {
					s.bg.do(func() {
						s.waiting.Store(false)
						if ctx.Err() == nil {
							apply()
						}
					})
				} else {
					s.waiting.Store(false)
				}
			}
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
		}
	})
}

// refresh reads the numbers once, now, e.g. after a button changed them.
func (s *syncScreen) refresh() {
	if s.deps.Sync == nil {
		return
	}
	s.bg.run(s.ctx, s.read)
}

// read takes the numbers off the UI goroutine and returns how to paint
// them.
func (s *syncScreen) read(ctx context.Context) func() {
	n := s.reads.Add(1)
	d, err := s.deps.Sync.Dashboard(ctx)
	var dead []store.OutboxItem
	if err == nil {
		dead, err = s.deps.Sync.DeadLetters(ctx, 0, deadShown)
	}
	if ctx.Err() != nil {
		return nil
	}
	return func() {
		if n <= s.applied {
			return
		}
		s.applied = n
		if err != nil {
			s.say("Cannot read the sync's numbers: " + err.Error() + ". They are read again in a moment.")
			return
		}
		s.paint(d, dead)
	}
}

// paint shows one reading, on the UI goroutine.
func (s *syncScreen) paint(d engine.Dashboard, dead []store.OutboxItem) {
	s.attached, s.paused = d.Attached, d.State == engine.StatePaused
	switch {
	case !d.Attached && s.deps.Runner != nil:
		s.state.SetText("Stopped")
		if _, last := s.deps.Runner.State(); last != nil {
			s.reason.SetText("The sync stopped by itself: " + last.Error() + ". Fix the cause (Alerts and History say more), then start it again.")
		} else {
			s.reason.SetText("Start the sync to mirror ActiveDEMAND into HighLevel. It runs in the background while Parley is open and starts again with it.")
		}
	case !d.Attached:
		s.state.SetText("Stopped")
		s.reason.SetText("The sync does not run in this window: run `parley sync` beside it, or the demo, to see it here.")
	case d.State == engine.StatePaused:
		s.state.SetText("Paused")
		s.reason.SetText(d.Reason)
	case d.State == engine.StateRunning:
		s.state.SetText("Running")
		s.reason.SetText("")
	default:
		s.state.SetText("Stopped")
		s.reason.SetText("The sync has stopped; it starts again with the console.")
	}
	if !s.starting {
		s.run.Enable()
	}
	if d.Attached {
		s.run.SetText("Stop sync")
		s.run.SetIcon(theme.MediaStopIcon())
		s.run.Importance = widget.MediumImportance
	} else {
		s.run.SetText("Start sync")
		s.run.SetIcon(theme.MediaPlayIcon())
		s.run.Importance = widget.HighImportance
	}
	s.run.Refresh()
	if s.paused {
		s.pause.SetText("Resume")
		s.pause.SetIcon(theme.MediaPlayIcon())
	} else {
		s.pause.SetText("Pause")
		s.pause.SetIcon(theme.MediaPauseIcon())
	}
	if d.Attached && d.State != engine.StateStopped {
		s.pause.Enable()
	} else {
		s.pause.Disable()
	}

	s.queue.RemoveAll()
	for _, h := range []string{"Work", "Pending", "In flight", "Dead", "Done"} {
		s.queue.Add(widget.NewLabelWithStyle(h, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	}
	queue := slices.SortedFunc(slices.Values(d.Queue), func(a, b engine.KindQueue) int { return engine.CompareKinds(a.Kind, b.Kind) })
	for _, q := range queue {
		work := widget.NewLabel(engine.KindTitle(q.Kind))
		work.Truncation = fyne.TextTruncateEllipsis
		s.queue.Add(work)
		for _, n := range []int{q.Pending, q.InFlight, q.Dead, q.Done} {
			s.queue.Add(widget.NewLabelWithStyle(thousands(n), fyne.TextAlignTrailing, fyne.TextStyle{}))
		}
	}
	if len(d.Queue) == 0 {
		s.queue.Add(widget.NewLabel("Nothing queued yet."))
	}
	s.queue.Refresh()

	s.chart.set(d.Throughput)
	ok, failed, peak := 0, 0, 0
	for _, m := range d.Throughput {
		ok, failed, peak = ok+m.OK, failed+m.Failed, max(peak, m.OK+m.Failed)
	}
	s.chartNote.SetText(fmt.Sprintf("%s calls in the last hour, %s failed; busiest minute %s.", thousands(ok+failed), thousands(failed), thousands(peak)))

	s.budget = d.Budget
	s.burst.SetValue(ratio(d.Budget.BurstLeft, d.Budget.BurstMax))
	s.daily.SetValue(ratio(d.Budget.DailyLeft, d.Budget.DailyMax))

	s.errors.RemoveAll()
	for _, e := range d.Errors {
		l := widget.NewLabel(fmt.Sprintf("%s: %s, last %s", e.Class, thousands(e.Count), e.LastAt.In(s.deps.Location).Format("15:04")))
		last := widget.NewLabel(e.LastError)
		last.Truncation = fyne.TextTruncateEllipsis
		s.errors.Add(container.NewVBox(l, last))
	}
	if len(d.Errors) == 0 {
		s.errors.Add(widget.NewLabel("No failed calls in the last hour."))
	}
	s.errors.Refresh()

	s.paintFill()
	s.numbers.Refresh()

	s.dead, s.deadCount = dead, d.Dead
	title := fmt.Sprintf("Dead-letter jobs: %s", thousands(d.Dead))
	if d.Dead > len(dead) {
		title += fmt.Sprintf(" (the newest %d shown)", len(dead))
	}
	s.deadTitle.SetText(title)
	if d.Dead > 0 {
		s.replayAll.Enable()
	} else {
		s.replayAll.Disable()
	}
	s.deadList.Refresh()
}

func (s *syncScreen) budgetText(burst bool) string {
	b := s.budget
	if !b.Known {
		return "No answer from HighLevel yet"
	}
	if burst {
		return fmt.Sprintf("Burst: %s of %s left per %s", thousands(b.BurstLeft), thousands(b.BurstMax), b.BurstWindow)
	}
	return fmt.Sprintf("Today: %s of %s left", thousands(b.DailyLeft), thousands(b.DailyMax))
}

func ratio(n, of int) float64 {
	if of <= 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// thousands writes n with comma separators, as the dashboard's numbers
// can run to hundreds of thousands.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// toggleRun starts the console's sync, or stops it (draining in-flight
// work, which may take a moment), off the UI goroutine.
func (s *syncScreen) toggleRun() {
	stop := s.attached
	s.run.Disable()
	s.starting = true
	if stop {
		s.say("Stopping the sync: letting the jobs in flight finish…")
	}
	s.bg.run(s.life, func(context.Context) func() {
		var err error
		if stop {
			s.deps.Runner.Stop()
		} else {
			err = s.deps.Runner.Start()
		}
		return func() {
			s.starting = false
			s.run.Enable()
			if err != nil {
				s.say("Cannot start the sync: " + err.Error())
			} else {
				s.say("")
			}
			s.refresh()
		}
	})
}

func (s *syncScreen) togglePause() {
	resume := s.paused
	s.pause.Disable()
	s.bg.run(s.life, func(context.Context) func() {
		verb, err := "pause", error(nil)
		if resume {
			verb, err = "resume", s.deps.Sync.Resume()
		} else {
			err = s.deps.Sync.Pause(pauseReason)
		}
		return func() {
			if err != nil {
				s.say("Cannot " + verb + " the sync: " + err.Error())
			} else {
				s.say("")
			}
			s.refresh()
		}
	})
}

func (s *syncScreen) replayOne(it store.OutboxItem) {
	s.bg.run(s.life, func(ctx context.Context) func() {
		err := s.deps.Sync.Replay(ctx, it.ID)
		return func() {
			if err != nil {
				s.say(fmt.Sprintf("Cannot replay job %s: %v. Read the list again and retry.", it.Key, err))
			} else {
				s.say(fmt.Sprintf("Replayed %s; it runs again now.", it.Key))
			}
			s.refresh()
		}
	})
}

// confirmReplayAll asks before replaying every dead job: they died for a
// reason, and replaying them before it is fixed spends quota for nothing.
// Enter confirms and Escape cancels, from the Replay button that has the
// focus; Tab reaches Cancel.
func (s *syncScreen) confirmReplayAll() {
	n := s.deadCount
	var d dialog.Dialog
	cancel := newKeyButton("Cancel", theme.CancelIcon(), func() { d.Hide() })
	ok := newKeyButton(fmt.Sprintf("Replay %s jobs", thousands(n)), theme.MediaReplayIcon(), func() {
		d.Hide()
		s.replayAllNow()
	})
	ok.Importance = widget.HighImportance
	cancel.escape, ok.escape = func() { d.Hide() }, func() { d.Hide() }
	body := container.NewVBox(
		wrapped(fmt.Sprintf("Replay %s dead jobs of every kind? Each runs again with its full attempts. Fix what killed them first (their last error says), or they die again.", thousands(n))),
		container.NewHBox(layout.NewSpacer(), cancel, ok))
	d = dialog.NewCustomWithoutButtons("Replay every dead job?", container.NewGridWrap(fyne.NewSize(460, body.MinSize().Height+60), body), s.win)
	d.Show()
	s.win.Canvas().Focus(ok)
}

func (s *syncScreen) replayAllNow() {
	s.bg.run(s.life, func(ctx context.Context) func() {
		n, err := s.deps.Sync.ReplayAll(ctx)
		return func() {
			if err != nil {
				s.say("Cannot replay the dead jobs: " + err.Error())
			} else {
				s.say(fmt.Sprintf("Replayed %d jobs; they run again now.", n))
			}
			s.refresh()
		}
	})
}

// startBackfill runs the backfill for the console's life, not the
// screen's: leaving the screen must not stop it.
func (s *syncScreen) startBackfill() {
	s.backfill.Disable()
	s.fillMu.Lock()
	s.filling, s.fill, s.fillStarted = true, BackfillProgress{}, time.Now()
	s.fillMu.Unlock()
	s.paintFill()
	s.bg.run(s.life, func(ctx context.Context) func() {
		err := s.deps.Backfill.Backfill(ctx, func(p BackfillProgress) {
			s.fillMu.Lock()
			s.fill = p
			s.fillMu.Unlock()
		})
		return func() {
			s.fillMu.Lock()
			s.filling = false
			p := s.fill
			s.fillMu.Unlock()
			s.backfill.Enable()
			if err != nil {
				s.fillNote.SetText("Backfill stopped: " + err.Error() + ". Start it again to carry on.")
				return
			}
			s.fillBar.SetValue(1)
			s.fillNote.SetText(fmt.Sprintf("Backfill finished: %s items.", thousands(p.Total)))
		}
	})
}

// paintFill shows a running backfill's progress and its ETA, from the
// rate so far.
func (s *syncScreen) paintFill() {
	s.fillMu.Lock()
	filling, p, started := s.filling, s.fill, s.fillStarted
	s.fillMu.Unlock()
	if !filling {
		return
	}
	s.fillBar.SetValue(ratio(p.Done, p.Total))
	text := "Backfill starting…"
	if p.Total > 0 {
		text = fmt.Sprintf("Backfill: %s of %s", thousands(p.Done), thousands(p.Total))
		if p.Done > 0 {
			left := time.Duration(float64(time.Since(started)) * float64(p.Total-p.Done) / float64(p.Done))
			text += fmt.Sprintf(", about %s left", left.Round(time.Second))
		}
	}
	s.fillNote.SetText(text)
}

// runReport runs a dry run or a verification and shows what it found.
func (s *syncScreen) runReport(title string, b *widget.Button, run func(context.Context) (SyncReport, error)) {
	b.Disable()
	s.resultTitle.SetText(title)
	s.resultText.SetText(title + " running…")
	s.results.Show()
	s.bg.run(s.life, func(ctx context.Context) func() {
		rep, err := run(ctx)
		return func() {
			b.Enable()
			if err != nil {
				s.resultText.SetText(title + " failed: " + err.Error())
				return
			}
			lines := rep.Lines
			const most = 20
			if len(lines) > most {
				lines = append(lines[:most:most], fmt.Sprintf("… and %d more", len(rep.Lines)-most))
			}
			s.resultText.SetText(strings.Join(append([]string{rep.Summary}, lines...), "\n"))
		}
	})
}

// deadRow is one dead job in the list: kind and key, then its attempts,
// when it died and its last error, and a Replay button. The list draws
// view, a plain container, as Fyne's list expects.
type deadRow struct {
	view   *fyne.Container
	title  *widget.Label
	detail *widget.Label
	replay *replayButton
}

// replayButton replays the dead job of its row; it carries the row's job
// and text, so that what finds the button knows which job it replays.
type replayButton struct {
	widget.Button
	item store.OutboxItem
	line string
}

func newDeadRow() *deadRow {
	r := &deadRow{
		title:  widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		detail: widget.NewLabel(""),
		replay: &replayButton{},
	}
	r.replay.Text, r.replay.Icon = "Replay", theme.MediaReplayIcon()
	r.replay.ExtendBaseWidget(r.replay)
	// Truncated labels keep the row's width whatever the text, so the
	// list lays rows out once.
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.detail.Truncation = fyne.TextTruncateEllipsis
	r.view = container.NewBorder(nil, nil, nil, container.NewCenter(r.replay), container.NewVBox(r.title, r.detail))
	return r
}

func (r *deadRow) set(it store.OutboxItem, loc *time.Location, replay func(store.OutboxItem)) {
	attempts := "1 attempt"
	if it.Attempts != 1 {
		attempts = fmt.Sprintf("%d attempts", it.Attempts)
	}
	r.title.SetText(engine.KindTitle(it.Kind) + " · " + it.Key)
	r.detail.SetText(attempts + " · died " + it.UpdatedAt.In(loc).Format("2 Jan 15:04") + " · " + it.LastError)
	r.replay.item = it
	r.replay.line = r.title.Text + " | " + r.detail.Text
	r.replay.OnTapped = func() { replay(it) }
}

// keyButton is a dialog button that Enter presses and Escape cancels, so
// a confirmation can be answered from the keyboard.
type keyButton struct {
	widget.Button
	escape func()
}

func newKeyButton(label string, icon fyne.Resource, tapped func()) *keyButton {
	b := &keyButton{}
	b.Text, b.Icon, b.OnTapped = label, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

// TypedKey presses the button on Enter and cancels on Escape.
func (b *keyButton) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		if !b.Disabled() && b.OnTapped != nil {
			b.OnTapped()
		}
	case fyne.KeyEscape:
		if b.escape != nil {
			b.escape()
		}
	default:
		b.Button.TypedKey(ev)
	}
}

// queueLayout lays the queue out as a table of five columns: the counts
// as wide as their widest cell, the work's name in what is left. An equal
// grid made every column as wide as the longest name ("Call recordings
// and transcripts"), which pushed the window wider than its screen.
type queueLayout struct{}

const queueColumns = 5

// widths are the columns' widths at their minimum; the first is what its
// cells need when truncated.
func (queueLayout) widths(objs []fyne.CanvasObject) [queueColumns]float32 {
	var w [queueColumns]float32
	for i, o := range objs {
		w[i%queueColumns] = max(w[i%queueColumns], o.MinSize().Width)
	}
	return w
}

func (l queueLayout) rows(objs []fyne.CanvasObject) []float32 {
	var h []float32
	for i, o := range objs {
		if i%queueColumns == 0 {
			h = append(h, 0)
		}
		h[len(h)-1] = max(h[len(h)-1], o.MinSize().Height)
	}
	return h
}

func (l queueLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	pad := theme.Padding()
	var size fyne.Size
	for _, w := range l.widths(objs) {
		size.Width += w
	}
	size.Width += pad * (queueColumns - 1)
	rows := l.rows(objs)
	for _, h := range rows {
		size.Height += h
	}
	if len(rows) > 1 {
		size.Height += pad * float32(len(rows)-1)
	}
	return size
}

func (l queueLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	w := l.widths(objs)
	// Counts keep their width; the first column takes the rest.
	counts := pad * (queueColumns - 1)
	for _, cw := range w[1:] {
		counts += cw
	}
	w[0] = max(w[0], size.Width-counts)
	rows := l.rows(objs)
	var x, y float32
	for i, o := range objs {
		col, row := i%queueColumns, i/queueColumns
		if col == 0 {
			x = 0
			if row > 0 {
				y += rows[row-1] + pad
			}
		}
		o.Move(fyne.NewPos(x, y))
		o.Resize(fyne.NewSize(w[col], rows[row]))
		x += w[col] + pad
	}
}
