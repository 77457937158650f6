package ui

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/dustin/go-humanize"

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

// Time ranges of the History screen. The presets are relative to the moment
// a query runs, so "Last hour" keeps meaning the last hour on every reload.
const (
	rangeAll        = "All time"
	rangeLastHour   = "Last hour"
	rangeToday      = "Today"
	rangeLast7Days  = "Last 7 days"
	rangeLast30Days = "Last 30 days"
	rangeCustom     = "Custom…"
)

// Dates typed into the custom range, in the console's time zone.
const (
	dateLayout     = "2006-01-02"
	dateTimeLayout = "2006-01-02 15:04"
)

// exportShortcut exports the History screen's current filter to CSV.
var exportShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault}

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
	// now is the clock the time-range presets count back from.
	now func() time.Time

	rows []store.HistoryEntry
	// generation drops results of queries that a newer filter has overtaken.
	generation int
	// typing delays a search until typing pauses.
	typing debounce

	table     *widget.Table
	search    *widget.Entry
	operation *widget.Select
	outcome   *widget.Select
	system    *widget.Select
	summary   *widget.Label
	more      *widget.Button
	empty     fyne.CanvasObject

	timeRange *widget.Select
	// from and to are the custom range, shown only for rangeCustom.
	from, to     *widget.Entry
	custom       *fyne.Container
	rangeProblem *widget.Label

	exportButton *widget.Button
	saveDialog   *dialog.FileDialog
	exportDialog *dialog.CustomDialog
	exportStatus *widget.Label
	exportBar    *widget.ProgressBar
	exportCancel *widget.Button
	// exportResult is what the last export said when it ended, "" while
	// one runs.
	exportResult string
	// exporting is true from the chosen file to the result: one export
	// at a time (Ctrl+E still works while the progress dialog is up).
	exporting bool

	// landed counts the queries whose results reached the screen.
	landed int
}

func newHistoryScreen(src HistorySource, win fyne.Window, do func(func()), bg background, loc *time.Location) *historyScreen {
	return &historyScreen{src: src, win: win, do: do, bg: bg, loc: loc, now: time.Now}
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

	h.from = widget.NewEntry()
	h.from.SetPlaceHolder("From YYYY-MM-DD HH:MM")
	h.to = widget.NewEntry()
	h.to.SetPlaceHolder("To YYYY-MM-DD HH:MM")
	for _, e := range []*widget.Entry{h.from, h.to} {
		e.OnChanged = func(string) { h.reloadSoon() }
		e.OnSubmitted = func(string) { h.reload() }
	}
	entryWidth := fyne.NewSize(200, h.from.MinSize().Height)
	h.custom = container.NewHBox(container.NewGridWrap(entryWidth, h.from), container.NewGridWrap(entryWidth, h.to))
	h.custom.Hide()
	h.from.Hide()
	h.to.Hide()
	h.rangeProblem = widget.NewLabel("")
	h.rangeProblem.Importance = widget.DangerImportance
	h.rangeProblem.Wrapping = fyne.TextWrapWord
	h.rangeProblem.Hide()
	h.timeRange = widget.NewSelect([]string{rangeAll, rangeLastHour, rangeToday, rangeLast7Days, rangeLast30Days, rangeCustom},
		func(v string) {
			if h.custom == nil {
				return
			}
			for _, o := range []fyne.CanvasObject{h.custom, h.from, h.to} {
				if v == rangeCustom {
					o.Show()
				} else {
					o.Hide()
				}
			}
			h.reload()
		})
	h.timeRange.SetSelected(rangeAll)
	h.exportButton = widget.NewButtonWithIcon("Export CSV…", theme.DocumentSaveIcon(), h.startExport)
	h.win.Canvas().AddShortcut(exportShortcut, func(fyne.Shortcut) {
		// Only while History is on screen: it exports what History shows.
		if h.ctx != nil && h.ctx.Err() == nil {
			h.startExport()
		}
	})
	rangeRow := container.NewBorder(nil, nil,
		container.NewHBox(widget.NewLabel("Time"), wide(h.timeRange, 160), h.custom),
		h.exportButton, h.rangeProblem)

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
	top := container.NewVBox(header("History", "Every upsert, message push and media fetch, newest first. Select a row for its details."), filters, rangeRow)
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

// filter is what the screen's controls select. It fails only for a custom
// time range that is not a valid range, with a message for the user.
func (h *historyScreen) filter() (store.HistoryFilter, error) {
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
	now := h.now().In(h.loc)
	switch h.timeRange.Selected {
	case rangeLastHour:
		f.Since = now.Add(-time.Hour)
	case rangeToday:
		f.Since = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, h.loc)
	case rangeLast7Days:
		f.Since = now.AddDate(0, 0, -7)
	case rangeLast30Days:
		f.Since = now.AddDate(0, 0, -30)
	case rangeCustom:
		var err error
		if f.Since, err = parseRangeDate("From", h.from.Text, false, h.loc); err != nil {
			return f, err
		}
		if f.Until, err = parseRangeDate("To", h.to.Text, true, h.loc); err != nil {
			return f, err
		}
		if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
			return f, fmt.Errorf(`"To" (%s) is before "From" (%s): pick a later end, or clear one of them`,
				strings.TrimSpace(h.to.Text), strings.TrimSpace(h.from.Text))
		}
	}
	return f, nil
}

// parseRangeDate reads a custom range end in loc; empty leaves that end
// open. A To date without a time means through the end of that day, a To
// time through the end of that minute, as people read "to 14:05".
func parseRangeDate(which, text string, end bool, loc *time.Location) (time.Time, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation(dateTimeLayout, text, loc); err == nil {
		if end {
			t = t.Add(time.Minute)
		}
		return t, nil
	}
	t, err := time.ParseInLocation(dateLayout, text, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf(`"%s" is not a date: %q. Write YYYY-MM-DD or YYYY-MM-DD HH:MM, for example 2026-11-30 or 2026-11-30 14:05`,
			which, text)
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// rangeOK shows or clears the custom range's problem and reports whether
// there was none.
func (h *historyScreen) rangeOK(err error) bool {
	if err != nil {
		h.rangeProblem.SetText(err.Error())
		h.rangeProblem.Show()
		return false
	}
	if h.rangeProblem.Visible() {
		h.rangeProblem.Hide()
	}
	return true
}

func (h *historyScreen) reloadSoon() {
	h.typing.after(h.ctx, searchDelay, h.do, h.reload)
}

func (h *historyScreen) reload() {
	if h.table == nil {
		return // not built yet: the Select constructors fire before the table exists
	}
	f, err := h.filter()
	if !h.rangeOK(err) {
		return
	}
	h.query(f, false)
}

func (h *historyScreen) loadOlder() {
	if len(h.rows) == 0 {
		return
	}
	f, err := h.filter()
	if !h.rangeOK(err) {
		return
	}
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
	if f, err := h.filter(); len(h.rows) == 0 && err == nil && f == (store.HistoryFilter{Limit: historyPageSize}) {
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

// CSV export.
//
// The export writes what the screen's filter selects, every page of it, not
// only the rows on screen, reading the store a page of MaxHistoryLimit at a
// time and writing each page before asking for the next: a million-row
// history never sits in memory. It runs under the screen's context, so
// leaving History or closing the window stops it like Cancel does, and a
// file that was not finished is removed rather than left looking complete.

// exportHeader names the CSV columns.
var exportHeader = []string{"ID", "Time", "Operation", "System", "Local id", "Remote id", "Outcome",
	"HTTP status", "Attempts", "Latency (ms)", "Details"}

// formulaTriggers are the first characters that make a spreadsheet read a
// cell as a formula (OWASP, "CSV Injection"): such cells get a leading '.
const formulaTriggers = "=+-@\t\r"

// exportCell makes a value safe for a spreadsheet: line breaks become LF
// (the CSV writer turns them into the CRLF spreadsheets expect, and a lone
// CR would be lost on the way) and a cell that would start a formula is
// prefixed with ', which spreadsheets show as text and do not run.
func exportCell(s string) string {
	if strings.ContainsRune(s, '\r') {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	if s != "" && strings.ContainsRune(formulaTriggers, rune(s[0])) {
		return "'" + s
	}
	return s
}

// exportWriter writes RFC 4180 CSV with CRLF line ends, every cell
// neutralised by exportCell. encoding/csv does the quoting.
type exportWriter struct {
	w    *csv.Writer
	cell []string
}

func newExportWriter(w io.Writer) *exportWriter {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &exportWriter{w: cw}
}

func (x *exportWriter) write(record []string) error {
	x.cell = x.cell[:0]
	for _, v := range record {
		x.cell = append(x.cell, exportCell(v))
	}
	return x.w.Write(x.cell)
}

func (x *exportWriter) flush() error {
	x.w.Flush()
	return x.w.Error()
}

// exportRecord is one history entry as CSV cells; times are RFC 3339 in
// loc, with the offset, so a file read elsewhere is still unambiguous.
func exportRecord(e *store.HistoryEntry, loc *time.Location) []string {
	status := ""
	if e.HTTPStatus != 0 {
		status = strconv.Itoa(e.HTTPStatus)
	}
	return []string{
		strconv.FormatInt(e.ID, 10), e.At.In(loc).Format("2006-01-02T15:04:05.000Z07:00"), string(e.Operation),
		systemLabel(e.System), e.LocalID, e.RemoteID, string(e.Outcome), status, strconv.Itoa(e.Attempts),
		strconv.FormatFloat(float64(e.Latency.Microseconds())/1000, 'f', -1, 64), e.Error,
	}
}

// exportHistory writes every entry f selects to w as CSV, newest first, and
// returns how many it wrote. progress gets the rows written so far and the
// fraction done: by id, or by time when f has a start, since ids and times
// both fall as the export walks back.
func exportHistory(ctx context.Context, src HistorySource, f store.HistoryFilter, w io.Writer, loc *time.Location,
	progress func(rows int, done float64)) (int, error) {
	x := newExportWriter(w)
	if err := x.write(exportHeader); err != nil {
		return 0, err
	}
	f.Limit, f.BeforeID = store.MaxHistoryLimit, 0
	rows, done := 0, 0.0
	var top store.HistoryEntry
	for {
		page, err := src.HistoryPage(ctx, f)
		if err != nil {
			return rows, err
		}
		for i := range page {
			if err := x.write(exportRecord(&page[i], loc)); err != nil {
				return rows, err
			}
		}
		// Flushed page by page: the file grows as the export runs.
		if err := x.flush(); err != nil {
			return rows, err
		}
		rows += len(page)
		if len(page) < f.Limit {
			progress(rows, 1)
			return rows, nil
		}
		last := page[len(page)-1]
		if top.ID == 0 {
			top = page[0]
		}
		frac := float64(top.ID-last.ID+1) / float64(top.ID)
		if span := top.At.Sub(f.Since); !f.Since.IsZero() && span > 0 {
			frac = float64(top.At.Sub(last.At)) / float64(span)
		}
		done = max(done, min(frac, 0.99))
		progress(rows, done)
		f.BeforeID = last.ID
	}
}

// startExport asks where to save the current filter's entries.
func (h *historyScreen) startExport() {
	if h.exporting || h.saveDialog != nil {
		return
	}
	if _, err := h.filter(); !h.rangeOK(err) {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		h.saveDialog = nil
		switch {
		case err != nil:
			dialog.ShowError(fmt.Errorf("cannot save there: %w. Pick another folder, such as Documents", err), h.win)
		case w != nil:
			h.exportTo(w)
		}
	}, h.win)
	d.SetTitleText("Export history to CSV")
	d.SetConfirmText("Export")
	d.SetFileName("parley-history-" + h.now().In(h.loc).Format("2006-01-02-1504") + ".csv")
	d.SetFilter(storage.NewExtensionFileFilter([]string{".csv"}))
	h.saveDialog = d
	d.Show()
}

// exportTo writes the current filter's entries to w off the UI goroutine,
// with a progress bar and Cancel. The save dialog calls it; tests too.
func (h *historyScreen) exportTo(w fyne.URIWriteCloser) {
	uri := w.URI()
	f, err := h.filter()
	if !h.rangeOK(err) || h.ctx == nil || h.ctx.Err() != nil {
		_ = w.Close()
		_ = storage.Delete(uri)
		return
	}
	ctx, cancel := context.WithCancel(h.ctx)
	h.exporting, h.exportResult = true, ""
	h.exportStatus = widget.NewLabel("Writing " + uri.Name() + "…")
	h.exportStatus.Wrapping = fyne.TextWrapWord
	h.exportBar = widget.NewProgressBar()
	h.exportCancel = widget.NewButton("Cancel", func() {
		cancel()
		h.exportCancel.Disable()
		h.exportCancel.SetText("Cancelling…")
	})
	h.exportDialog = dialog.NewCustomWithoutButtons("Export history to CSV", container.NewVBox(h.exportStatus, h.exportBar), h.win)
	h.exportDialog.SetButtons([]fyne.CanvasObject{h.exportCancel})
	h.exportDialog.Resize(fyne.NewSize(480, 0))
	h.exportDialog.Show()

	relay := &exportRelay{do: h.do, show: func(rows int, done float64) {
		if ctx.Err() == nil {
			h.exportStatus.SetText(fmt.Sprintf("Writing %s… %s rows so far", uri.Name(), humanize.Comma(int64(rows))))
			h.exportBar.SetValue(done)
		}
	}}
	h.bg.wg.Go(func() {
		defer cancel()
		n, err := exportHistory(ctx, h.src, f, w, h.loc, relay.update)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = storage.Delete(uri) // half a file must not pass for the whole export
		}
		h.do(func() { h.exportDone(uri, n, err) })
	})
}

// exportDone says how the export ended.
func (h *historyScreen) exportDone(uri fyne.URI, rows int, err error) {
	h.exporting = false
	h.exportDialog.Hide()
	switch {
	case errors.Is(err, context.Canceled):
		h.exportResult = "Export cancelled; the unfinished file was removed."
	case err != nil:
		h.exportResult = fmt.Sprintf("Could not export the history to %s: %v. Nothing was kept; try again, or save to another folder.", uri.Name(), err)
	default:
		h.exportResult = fmt.Sprintf("Exported %s to %s.", plural(rows, "entry", "entries"), uri.Path())
	}
	if h.ctx != nil && h.ctx.Err() == nil || err == nil {
		dialog.ShowInformation("Export history to CSV", h.exportResult, h.win)
	}
}

// exportRelay hands export progress to the UI goroutine with at most one
// update in flight, so a fast export does not queue stale repaints.
type exportRelay struct {
	do   func(func())
	show func(rows int, done float64)

	mu      gosync.Mutex
	rows    int
	done    float64
	pending bool
}

func (r *exportRelay) update(rows int, done float64) {
	r.mu.Lock()
	r.rows, r.done = rows, done
	post := !r.pending
	r.pending = true
	r.mu.Unlock()
	if post {
		r.do(func() {
			r.mu.Lock()
			rows, done := r.rows, r.done
			r.pending = false
			r.mu.Unlock()
			r.show(rows, done)
		})
	}
}
