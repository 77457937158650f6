package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/store"
)

const (
	historyPageSize = 100
	// searchDelay lets a user finish typing before the query runs, so a
	// ten-letter word costs one query, not ten.
	searchDelay = 250 * time.Millisecond

	anyOperation = "All operations"
	anyOutcome   = "All outcomes"
	anySystem    = "Both systems"
)

type historyColumn struct {
	title string
	width float32
	// value is the cell's text; times are shown in loc.
	value func(e *store.HistoryEntry, loc *time.Location) string
}

var historyColumns = []historyColumn{
	{"Time", 170, func(e *store.HistoryEntry, loc *time.Location) string {
		return e.At.In(loc).Format("2006-01-02 15:04:05")
	}},
	{"Operation", 150, func(e *store.HistoryEntry, _ *time.Location) string { return string(e.Operation) }},
	{"System", 70, func(e *store.HistoryEntry, _ *time.Location) string { return systemLabel(e.System) }},
	{"Local id", 150, func(e *store.HistoryEntry, _ *time.Location) string { return e.LocalID }},
	{"Remote id", 190, func(e *store.HistoryEntry, _ *time.Location) string { return e.RemoteID }},
	{"Outcome", 80, func(e *store.HistoryEntry, _ *time.Location) string { return string(e.Outcome) }},
	{"HTTP", 55, func(e *store.HistoryEntry, _ *time.Location) string { return statusText(e.HTTPStatus) }},
	{"Tries", 55, func(e *store.HistoryEntry, _ *time.Location) string { return strconv.Itoa(e.Attempts) }},
	{"Latency", 80, func(e *store.HistoryEntry, _ *time.Location) string {
		return e.Latency.Round(time.Millisecond).String()
	}},
	// Details is the error of a failed operation, or what an operation
	// that succeeded has to say, such as an import's counts.
	{"Details", 360, func(e *store.HistoryEntry, _ *time.Location) string { return e.Error }},
}

// historyScreen lists the sync history newest first, filtered by operation,
// outcome, system and free text, one page at a time (keyset paging), so a
// million-row history opens as fast as an empty one.
type historyScreen struct {
	src HistorySource
	win fyne.Window
	do  func(func())
	bg  background
	loc *time.Location
	// ctx ends when the screen is left or the window closes; queries run
	// under it. It is nil until the screen is first shown.
	ctx context.Context

	rows []store.HistoryEntry
	// generation drops results of queries that a newer filter has overtaken.
	generation int
	// debounce delays a search until typing pauses; stopDebounce unhooks
	// it from the context that stops it early.
	debounce     *time.Timer
	stopDebounce func() bool

	table     *widget.Table
	search    *widget.Entry
	operation *widget.Select
	outcome   *widget.Select
	system    *widget.Select
	summary   *widget.Label
	more      *widget.Button
	empty     fyne.CanvasObject

	// landed counts the queries whose results reached the screen.
	landed int
}

func newHistoryScreen(src HistorySource, win fyne.Window, do func(func()), bg background, loc *time.Location) *historyScreen {
	return &historyScreen{src: src, win: win, do: do, bg: bg, loc: loc}
}

func (h *historyScreen) view() fyne.CanvasObject {
	h.search = widget.NewEntry()
	h.search.SetPlaceHolder("Search errors, operations and ids…")
	h.search.OnChanged = func(string) { h.reloadSoon() }
	h.search.OnSubmitted = func(string) { h.reload() }

	h.operation = widget.NewSelect([]string{anyOperation}, func(string) { h.reload() })
	h.operation.SetSelected(anyOperation)
	h.outcome = widget.NewSelect([]string{anyOutcome, string(store.OutcomeOK), string(store.OutcomeFailed),
		string(store.OutcomeRetrying), string(store.OutcomeSkipped)}, func(string) { h.reload() })
	h.outcome.SetSelected(anyOutcome)
	h.system = widget.NewSelect([]string{anySystem, systemLabel(store.SystemAD), systemLabel(store.SystemGHL)}, func(string) { h.reload() })
	h.system.SetSelected(anySystem)

	refresh := widget.NewButtonWithIcon("", theme.ViewRefreshIcon(), h.reload)
	filters := container.NewBorder(nil, nil, nil,
		container.NewHBox(wide(h.operation, 190), wide(h.outcome, 150), wide(h.system, 150), refresh),
		h.search)

	h.table = widget.NewTable(
		func() (int, int) { return len(h.rows), len(historyColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row >= len(h.rows) {
				return
			}
			l := o.(*widget.Label)
			e := &h.rows[id.Row]
			// Failures stand out so a scan of the page finds them.
			l.Importance = widget.MediumImportance
			if e.Outcome == store.OutcomeFailed && (historyColumns[id.Col].title == "Outcome" || historyColumns[id.Col].title == "Details") {
				l.Importance = widget.DangerImportance
			}
			l.SetText(historyColumns[id.Col].value(e, h.loc))
		})
	h.table.ShowHeaderRow = true
	h.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	h.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 {
			o.(*widget.Label).SetText(historyColumns[id.Col].title)
		}
	}
	for i, col := range historyColumns {
		h.table.SetColumnWidth(i, col.width)
	}
	h.table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(h.rows) {
			h.showDetail(h.rows[id.Row])
		}
		h.table.UnselectAll()
	}

	h.summary = widget.NewLabel("Loading…")
	h.more = widget.NewButtonWithIcon("Load older", theme.MoreHorizontalIcon(), h.loadOlder)
	h.more.Disable()
	h.empty = container.NewCenter(widget.NewLabel("Nothing here yet. Every upsert, message push and media fetch the sync makes is listed here."))
	h.empty.Hide()

	footer := container.NewBorder(nil, nil, nil, h.more, h.summary)
	top := container.NewVBox(header("History", "Every upsert, message push and media fetch, newest first. Select a row for its details."), filters)
	return container.NewBorder(top, footer, nil, nil, container.NewStack(h.table, h.empty))
}

// shown runs whenever the screen comes to the front.
func (h *historyScreen) shown(ctx context.Context) {
	h.ctx = ctx
	h.refresh()
}

// refresh reloads the filter choices and the newest page.
func (h *historyScreen) refresh() {
	h.loadOperations()
	h.reload()
}

func (h *historyScreen) filter() store.HistoryFilter {
	f := store.HistoryFilter{Text: strings.TrimSpace(h.search.Text), Limit: historyPageSize}
	if v := h.operation.Selected; v != anyOperation && v != "" {
		f.Operation = store.Operation(v)
	}
	if v := h.outcome.Selected; v != anyOutcome && v != "" {
		f.Outcome = store.Outcome(v)
	}
	switch h.system.Selected {
	case systemLabel(store.SystemAD):
		f.System = store.SystemAD
	case systemLabel(store.SystemGHL):
		f.System = store.SystemGHL
	}
	return f
}

func (h *historyScreen) reloadSoon() {
	if h.debounce != nil {
		h.debounce.Stop()
		h.stopDebounce()
	}
	ctx := h.ctx
	if ctx == nil {
		return
	}
	t := time.AfterFunc(searchDelay, func() {
		h.do(func() {
			if ctx.Err() == nil {
				h.reload()
			}
		})
	})
	h.debounce = t
	// Leaving the screen or closing the window stops a pending search.
	h.stopDebounce = context.AfterFunc(ctx, func() { t.Stop() })
}

func (h *historyScreen) reload() {
	if h.table == nil {
		return // not built yet: the Select constructors fire before the table exists
	}
	h.query(h.filter(), false)
}

func (h *historyScreen) loadOlder() {
	if len(h.rows) == 0 {
		return
	}
	f := h.filter()
	f.BeforeID = h.rows[len(h.rows)-1].ID
	h.query(f, true)
}

func (h *historyScreen) query(f store.HistoryFilter, appendRows bool) {
	h.generation++
	gen := h.generation
	h.more.Disable()
	// Ask for one row more than a page: if it comes back, there is an older page.
	f.Limit = historyPageSize + 1
	h.bg.run(h.ctx, func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		rows, err := h.src.HistoryPage(ctx, f)
		return func() {
			if gen == h.generation {
				h.apply(rows, err, appendRows)
			}
		}
	})
}

func (h *historyScreen) apply(rows []store.HistoryEntry, err error, appendRows bool) {
	h.landed++
	if err != nil {
		h.summary.SetText("Could not read the history: " + err.Error())
		return
	}
	hasMore := len(rows) > historyPageSize
	if hasMore {
		rows = rows[:historyPageSize]
	}
	if appendRows {
		h.rows = append(h.rows, rows...)
	} else {
		h.rows = rows
		h.table.ScrollToTop()
	}
	h.table.Refresh()
	if len(h.rows) == 0 && h.filter() == (store.HistoryFilter{Limit: historyPageSize}) {
		h.empty.Show()
	} else {
		h.empty.Hide()
	}
	h.more.Disable()
	if hasMore {
		h.more.Enable()
	}
	switch {
	case len(h.rows) == 0:
		h.summary.SetText("No entries match these filters.")
	case hasMore:
		h.summary.SetText(fmt.Sprintf("Showing the newest %d entries. Load older to see more.", len(h.rows)))
	default:
		h.summary.SetText(fmt.Sprintf("Showing all %d matching entries.", len(h.rows)))
	}
}

func (h *historyScreen) loadOperations() {
	h.bg.run(h.ctx, func(ctx context.Context) func() {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		ops, err := h.src.HistoryOperations(ctx)
		if err != nil {
			return nil // the filter keeps its old choices; reload reports read errors
		}
		return func() {
			options := make([]string, 0, len(ops)+1)
			options = append(options, anyOperation)
			for _, op := range ops {
				options = append(options, string(op))
			}
			h.operation.SetOptions(options)
		}
	})
}

func (h *historyScreen) showDetail(e store.HistoryEntry) {
	var b strings.Builder
	for _, col := range historyColumns {
		fmt.Fprintf(&b, "%s: %s\n", col.title, col.value(&e, h.loc))
	}
	text := widget.NewLabel(strings.TrimSuffix(b.String(), "\n"))
	text.Wrapping = fyne.TextWrapWord
	// Selectable so an error can be copied into a support ticket.
	text.Selectable = true
	dialog.ShowCustom("History entry", "Close", container.NewGridWrap(fyne.NewSize(560, 320), container.NewVScroll(text)), h.win)
}

// wide gives a select room for its longest choice: Select sizes itself to
// the placeholder and cuts longer text short.
func wide(s *widget.Select, width float32) fyne.CanvasObject {
	return container.NewGridWrap(fyne.NewSize(width, s.MinSize().Height), s)
}

func systemLabel(s store.System) string {
	switch s {
	case store.SystemAD:
		return "AD"
	case store.SystemGHL:
		return "GHL"
	}
	return string(s)
}

func statusText(code int) string {
	if code == 0 {
		return "–"
	}
	return strconv.Itoa(code)
}
