package ui

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/store"
)

func newTestStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openHistory shows the History screen and returns it once its first query
// has landed.
func openHistory(t *testing.T, s *store.Store) (*historyScreen, uiLoop, func()) {
	t.Helper()
	c, loop := newTestConsole(t, Deps{History: s})
	h := c.history
	c.Show("History")
	// waitQuery waits for the next query's results to reach the screen.
	waitQuery := func() {
		t.Helper()
		want := h.landed + 1
		loop.runUntil(t, "a history query", func() bool { return h.landed >= want })
	}
	waitQuery()
	return h, loop, waitQuery
}

func seedHistory(t *testing.T, s *store.Store, n int) {
	t.Helper()
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	entries := make([]store.HistoryEntry, n)
	for i := range entries {
		e := store.HistoryEntry{
			At: base.Add(time.Duration(i) * time.Minute), Operation: store.OpMessagePush, System: store.SystemGHL,
			LocalID: fmt.Sprintf("ad-msg-%d", i), RemoteID: fmt.Sprintf("ghl-%d", i),
			Outcome: store.OutcomeOK, HTTPStatus: 201, Attempts: 1, Latency: 80 * time.Millisecond,
		}
		if i%10 == 0 {
			e.Outcome, e.HTTPStatus, e.Attempts, e.Error = store.OutcomeFailed, 429, 3, "rate limited by HighLevel"
		}
		entries[i] = e
	}
	if err := s.AppendHistory(context.Background(), entries...); err != nil {
		t.Fatal(err)
	}
}

func TestHistoryEmptyState(t *testing.T) {
	h, _, _ := openHistory(t, newTestStore(t))
	if len(h.rows) != 0 || !h.empty.Visible() {
		t.Fatalf("rows=%d empty visible=%v", len(h.rows), h.empty.Visible())
	}
	if !h.more.Disabled() {
		t.Fatal("Load older should be disabled with no rows")
	}
}

func TestHistoryPagesNewestFirst(t *testing.T) {
	s := newTestStore(t)
	seedHistory(t, s, 250)
	h, _, waitQuery := openHistory(t, s)
	if len(h.rows) != historyPageSize {
		t.Fatalf("first page has %d rows, want %d", len(h.rows), historyPageSize)
	}
	if h.rows[0].LocalID != "ad-msg-249" {
		t.Fatalf("first row %q, want the newest", h.rows[0].LocalID)
	}
	if h.more.Disabled() {
		t.Fatal("Load older disabled though older rows exist")
	}
	test.Tap(h.more)
	waitQuery()
	test.Tap(h.more)
	waitQuery()
	if len(h.rows) != 250 || h.rows[249].LocalID != "ad-msg-0" {
		t.Fatalf("after paging: %d rows, last %q", len(h.rows), h.rows[len(h.rows)-1].LocalID)
	}
	if !h.more.Disabled() {
		t.Fatal("Load older still enabled at the oldest entry")
	}
	for i := 1; i < len(h.rows); i++ {
		if h.rows[i].ID >= h.rows[i-1].ID {
			t.Fatalf("rows out of order or repeated at %d", i)
		}
	}
}

func TestHistoryFilters(t *testing.T) {
	s := newTestStore(t)
	seedHistory(t, s, 250)
	h, loop, waitQuery := openHistory(t, s)

	h.outcome.SetSelected(string(store.OutcomeFailed))
	waitQuery()
	if len(h.rows) != 25 {
		t.Fatalf("failed filter: %d rows, want 25", len(h.rows))
	}
	for _, r := range h.rows {
		if r.Outcome != store.OutcomeFailed {
			t.Fatalf("failed filter let through %+v", r)
		}
	}

	// Typing runs one query once the user pauses, not one per key.
	test.Type(h.search, "ad-msg-240")
	waitQuery()
	if n := loop.idleFor(2 * searchDelay); n != 0 {
		t.Fatalf("typing ran %d more queries", n)
	}
	if len(h.rows) != 1 || h.rows[0].LocalID != "ad-msg-240" {
		t.Fatalf("search for an id: %+v", h.rows)
	}
	if h.empty.Visible() {
		t.Fatal("the first-run empty state shows while filters are set")
	}
}

func TestHistoryMarksFailures(t *testing.T) {
	s := newTestStore(t)
	seedHistory(t, s, 20) // rows 0 and 10 failed
	h, _, _ := openHistory(t, s)
	outcomeCol := slices.IndexFunc(historyColumns, func(c historyColumn) bool { return c.title == "Outcome" })
	l := h.table.CreateCell().(*widget.Label) // one cell, recycled like the table does
	cell := func(row int) *widget.Label {
		h.table.UpdateCell(widget.TableCellID{Row: row, Col: outcomeCol}, l)
		return l
	}
	// Newest first: row 9 of the page is entry 10, which failed.
	if l := cell(9); l.Text != "failed" || l.Importance != widget.DangerImportance {
		t.Fatalf("failed row shows %q with importance %v", l.Text, l.Importance)
	}
	if l := cell(8); l.Text != "ok" || l.Importance != widget.MediumImportance {
		t.Fatalf("ok row shows %q with importance %v (a recycled cell must lose the failure colour)", l.Text, l.Importance)
	}
}

func TestHistoryShowsTimesInTheConsoleTimeZone(t *testing.T) {
	s := newTestStore(t)
	seedHistory(t, s, 1) // at 09:00 UTC
	c, loop := newTestConsole(t, Deps{History: s, Location: time.FixedZone("UTC+5", 5*3600)})
	c.Show("History")
	loop.runUntil(t, "the first page", func() bool { return c.history.landed > 0 })
	l := c.history.table.CreateCell().(*widget.Label)
	c.history.table.UpdateCell(widget.TableCellID{Row: 0, Col: 0}, l)
	if l.Text != "2026-11-01 14:00:00" {
		t.Fatalf("time shows as %q, want 2026-11-01 14:00:00", l.Text)
	}
}

// openHistoryAt is openHistory with the screen's clock and time zone fixed.
func openHistoryAt(t *testing.T, s *store.Store, now time.Time) (*Console, *historyScreen, uiLoop, func()) {
	t.Helper()
	c, loop := newTestConsole(t, Deps{History: s, Location: time.UTC})
	h := c.history
	h.now = func() time.Time { return now }
	c.Show("History")
	waitQuery := func() {
		t.Helper()
		want := h.landed + 1
		loop.runUntil(t, "a history query", func() bool { return h.landed >= want })
	}
	waitQuery()
	return c, h, loop, waitQuery
}

func TestHistoryTimeRangePresets(t *testing.T) {
	s := newTestStore(t)
	seedHistory(t, s, 250) // one a minute from 2026-11-01 09:00 UTC to 13:09
	// A row from the day before, and one from two weeks before.
	old := []store.HistoryEntry{
		{At: time.Date(2026, 10, 31, 20, 0, 0, 0, time.UTC), Operation: store.OpMessagePush, System: store.SystemGHL, LocalID: "yesterday", Outcome: store.OutcomeOK},
		{At: time.Date(2026, 10, 18, 20, 0, 0, 0, time.UTC), Operation: store.OpMessagePush, System: store.SystemGHL, LocalID: "two-weeks", Outcome: store.OutcomeOK},
	}
	if err := s.AppendHistory(context.Background(), old...); err != nil {
		t.Fatal(err)
	}
	_, h, _, waitQuery := openHistoryAt(t, s, time.Date(2026, 11, 1, 13, 10, 0, 0, time.UTC))
	all := func() []store.HistoryEntry {
		for !h.more.Disabled() {
			test.Tap(h.more)
			waitQuery()
		}
		return h.rows
	}
	for _, tt := range []struct {
		preset string
		want   int
	}{
		{rangeLastHour, 60}, // 12:10 .. 13:09
		{rangeToday, 250},
		{rangeLast7Days, 251},
		{rangeLast30Days, 252},
		{rangeAll, 252},
	} {
		h.timeRange.SetSelected(tt.preset)
		waitQuery()
		if got := all(); len(got) != tt.want {
			t.Errorf("%s: %d rows, want %d", tt.preset, len(got), tt.want)
		}
	}
	if h.from.Visible() || h.to.Visible() {
		t.Error("the custom date entries show without Custom chosen")
	}
}

func TestHistoryCustomTimeRange(t *testing.T) {
	s := newTestStore(t)
	seedHistory(t, s, 250)
	_, h, loop, waitQuery := openHistoryAt(t, s, time.Date(2026, 11, 1, 13, 10, 0, 0, time.UTC))
	h.timeRange.SetSelected(rangeCustom)
	waitQuery()
	if !h.from.Visible() || !h.to.Visible() {
		t.Fatal("Custom does not show the date entries")
	}
	// Date and time: From inclusive, To through the end of that minute.
	h.from.SetText("2026-11-01 10:00")
	h.to.SetText("2026-11-01 10:09")
	h.reload()
	waitQuery()
	if len(h.rows) != 10 || h.rows[0].LocalID != "ad-msg-69" || h.rows[9].LocalID != "ad-msg-60" {
		t.Fatalf("10:00 to 10:09: %d rows %v", len(h.rows), localIDs(h.rows))
	}
	// A date alone means the whole day.
	h.from.SetText("2026-11-01")
	h.to.SetText("2026-11-01")
	h.reload()
	waitQuery()
	if len(h.rows) != historyPageSize || h.rangeProblem.Visible() {
		t.Fatalf("whole day: %d rows, problem %q", len(h.rows), h.rangeProblem.Text)
	}

	// A bad date says what is wrong and how to write it, and runs no query.
	before := h.landed
	for _, tt := range []struct{ from, to, want string }{
		{"2026-13-01", "", `"From" is not a date`},
		{"yesterday", "", "YYYY-MM-DD"},
		{"", "2026-11-31", `"To" is not a date`},
		{"2026-11-02", "2026-11-01", "before"},
	} {
		h.from.SetText(tt.from)
		h.to.SetText(tt.to)
		h.reload()
		// Past the typing delay: the debounced reload must not query either.
		if loop.idleFor(2 * searchDelay); h.landed != before {
			t.Errorf("from %q to %q ran a query", tt.from, tt.to)
		}
		if !h.rangeProblem.Visible() || !strings.Contains(h.rangeProblem.Text, tt.want) {
			t.Errorf("from %q to %q: message %q (visible %v), want it to say %q", tt.from, tt.to, h.rangeProblem.Text, h.rangeProblem.Visible(), tt.want)
		}
	}
	h.from.SetText("")
	h.to.SetText("")
	h.reload()
	waitQuery()
	if h.rangeProblem.Visible() {
		t.Errorf("the message stays after the dates were fixed: %q", h.rangeProblem.Text)
	}
}

func localIDs(rows []store.HistoryEntry) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.LocalID)
	}
	return out
}

// pagedSource counts the pages an export reads and can hold back every page
// after the first until released, so a test can cancel mid-export.
type pagedSource struct {
	HistorySource
	mu          gosync.Mutex
	calls       []store.HistoryFilter
	exportPages int
	maxRows     int
	hold        chan struct{} // nil: never hold
}

func (p *pagedSource) HistoryPage(ctx context.Context, f store.HistoryFilter) ([]store.HistoryEntry, error) {
	p.mu.Lock()
	p.calls = append(p.calls, f)
	if f.Limit == store.MaxHistoryLimit {
		p.exportPages++
	}
	n := p.exportPages
	p.mu.Unlock()
	if p.hold != nil && n > 1 && f.Limit == store.MaxHistoryLimit {
		select {
		case <-p.hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	rows, err := p.HistorySource.HistoryPage(ctx, f)
	p.mu.Lock()
	p.maxRows = max(p.maxRows, len(rows))
	p.mu.Unlock()
	return rows, err
}

func seedExportHistory(t *testing.T, s *store.Store, n int) {
	t.Helper()
	seedHistory(t, s, n)
	hostile := []store.HistoryEntry{
		{Operation: store.OpMessagePush, System: store.SystemGHL, LocalID: "=HYPERLINK(\"http://x\",\"click\")", RemoteID: "+1-555", Outcome: store.OutcomeFailed, Error: "@SUM(A1:A9)"},
		{Operation: store.OpMessagePush, System: store.SystemGHL, LocalID: "-2+3", RemoteID: "\tcmd", Outcome: store.OutcomeFailed, Error: "line one\nline, \"two\""},
	}
	for i := range hostile {
		hostile[i].At = time.Date(2026, 11, 1, 8, 0, i, 0, time.UTC)
	}
	if err := s.AppendHistory(context.Background(), hostile...); err != nil {
		t.Fatal(err)
	}
}

func TestHistoryExportCSV(t *testing.T) {
	s := newTestStore(t)
	seedExportHistory(t, s, 2500) // 250 failed, plus 2 hostile failed rows
	src := &pagedSource{HistorySource: s}
	c, loop := newTestConsole(t, Deps{History: src, Location: time.UTC})
	h := c.history
	c.Show("History")
	loop.runUntil(t, "the first page", func() bool { return h.landed > 0 })
	h.outcome.SetSelected(string(store.OutcomeFailed))
	loop.runUntil(t, "the filtered page", func() bool { return h.landed > 1 })

	path := filepath.Join(t.TempDir(), "history.csv")
	w, err := storage.Writer(storage.NewFileURI(path))
	if err != nil {
		t.Fatal(err)
	}
	h.exportTo(w)
	loop.runUntil(t, "the export", func() bool { return h.exportResult != "" })
	if !strings.HasPrefix(h.exportResult, "Exported 252 entries to ") {
		t.Errorf("result says %q, want the row count", h.exportResult)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Every line ends in CRLF; the one quoted newline inside a cell too,
	// as spreadsheets expect.
	if n, crlf := bytes.Count(raw, []byte("\n")), bytes.Count(raw, []byte("\r\n")); n != crlf || n != 1+252+1 {
		t.Errorf("%d line feeds, %d of them CRLF; want %d, all CRLF", n, crlf, 1+252+1)
	}
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 253 || !slices.Equal(recs[0], exportHeader) {
		t.Fatalf("%d records, header %q", len(recs), recs[0])
	}
	for _, r := range recs[1:] {
		if r[slices.Index(exportHeader, "Outcome")] != "failed" {
			t.Fatalf("row outside the filter: %q", r)
		}
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Fatalf("cell %q would run as a formula", cell)
			}
		}
	}
	// Newest (highest id) first, as on screen: the hostile rows came last.
	if r := recs[2]; !slices.Contains(r, `'=HYPERLINK("http://x","click")`) || !slices.Contains(r, "'@SUM(A1:A9)") || !slices.Contains(r, "'+1-555") {
		t.Errorf("hostile row not neutralised: %q", r)
	}
	if r := recs[1]; !slices.Contains(r, "'-2+3") || !slices.Contains(r, "'\tcmd") || !slices.Contains(r, "line one\nline, \"two\"") {
		t.Errorf("hostile row not neutralised or not read back whole: %q", r)
	}

	// Streamed: pages of at most MaxHistoryLimit, each after the last.
	src.mu.Lock()
	defer src.mu.Unlock()
	var pages []store.HistoryFilter
	for _, f := range src.calls {
		if f.Limit == store.MaxHistoryLimit {
			pages = append(pages, f)
		}
	}
	if len(pages) < 1 || src.maxRows > store.MaxHistoryLimit {
		t.Fatalf("export read %d pages, largest %d rows", len(pages), src.maxRows)
	}
	for _, f := range pages {
		if f.Outcome != store.OutcomeFailed {
			t.Fatalf("export page without the screen's filter: %+v", f)
		}
	}
}

func TestHistoryExportPagesAndCancel(t *testing.T) {
	s := newTestStore(t)
	seedHistory(t, s, 3500)
	src := &pagedSource{HistorySource: s, hold: make(chan struct{})}
	c, loop := newTestConsole(t, Deps{History: src, Location: time.UTC})
	h := c.history
	c.Show("History")
	loop.runUntil(t, "the first page", func() bool { return h.landed > 0 })

	path := filepath.Join(t.TempDir(), "history.csv")
	w, err := storage.Writer(storage.NewFileURI(path))
	if err != nil {
		t.Fatal(err)
	}
	h.exportTo(w)
	// The first page (1,000 of 3,500 rows) lands: the bar moves.
	loop.runUntil(t, "progress", func() bool { return h.exportBar != nil && h.exportBar.Value > 0 })
	if v := h.exportBar.Value; v < 0.2 || v > 0.4 {
		t.Errorf("after 1,000 of 3,500 rows the bar shows %.2f", v)
	}
	// One export at a time: Ctrl+E while one runs opens nothing.
	c.Window().Canvas().(fyne.Shortcutable).TypedShortcut(exportShortcut)
	if h.saveDialog != nil {
		t.Error("Ctrl+E during an export opened a second one")
	}
	test.Tap(h.exportCancel)
	loop.runUntil(t, "the cancelled export", func() bool { return h.exportResult != "" })
	if !strings.Contains(h.exportResult, "cancelled") {
		t.Errorf("result %q", h.exportResult)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a cancelled export left its partial file: %v", err)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	var before []int64
	for _, f := range src.calls {
		if f.Limit == store.MaxHistoryLimit {
			before = append(before, f.BeforeID)
		}
	}
	if len(before) != 2 || before[0] != 0 || before[1] != 2501 {
		t.Errorf("export asked for pages before %v, want [0 2501]", before)
	}
}

func TestHistoryExportShortcutAndButton(t *testing.T) {
	c, loop := newTestConsole(t, Deps{Location: time.UTC})
	h := c.history
	c.Show("History")
	loop.runUntil(t, "the first page", func() bool { return h.landed > 0 })
	c.Window().Canvas().(fyne.Shortcutable).TypedShortcut(exportShortcut)
	if h.saveDialog == nil {
		t.Fatal("Ctrl+E opened no save dialog")
	}
	h.saveDialog.Hide()
	h.saveDialog = nil
	test.Tap(h.exportButton)
	if h.saveDialog == nil {
		t.Fatal("the Export CSV button opened no save dialog")
	}
	h.saveDialog.Hide()
	h.saveDialog = nil
	// Elsewhere Ctrl+E does nothing: the export is of History's filter.
	c.Show("Connections")
	c.Window().Canvas().(fyne.Shortcutable).TypedShortcut(exportShortcut)
	if h.saveDialog != nil {
		t.Fatal("Ctrl+E on another screen opened the history export")
	}
}

// FuzzExportCSV writes arbitrary cells the way the export does and reads
// them back: a reader gets exactly the neutralised cells, no cell starts
// with anything a spreadsheet would run, and every line ends in CRLF.
func FuzzExportCSV(f *testing.F) {
	for _, seed := range [][3]string{
		{"=1+1", "+cmd", "-2"}, {"@SUM(A1)", "\tx", "\ry"}, {"a,b", "\"q\"", "line\nbreak"}, {"", " =x", "'already"},
		{"\r\n", "a\r\nb", "\n=1"}, {"\xff\xfe", "é=", "=="},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		var buf bytes.Buffer
		w := newExportWriter(&buf)
		in := []string{a, b, c}
		if err := w.write(in); err != nil {
			t.Fatal(err)
		}
		if err := w.flush(); err != nil {
			t.Fatal(err)
		}
		out := buf.Bytes()
		if !bytes.HasSuffix(out, []byte("\r\n")) || bytes.Count(out, []byte("\n")) != bytes.Count(out, []byte("\r\n")) {
			t.Fatalf("line endings not CRLF: %q", out)
		}
		r := csv.NewReader(bytes.NewReader(out))
		r.FieldsPerRecord = 3
		got, err := r.Read()
		if err != nil {
			t.Fatalf("reading back %q: %v", out, err)
		}
		for i := range in {
			if want := exportCell(in[i]); got[i] != want {
				t.Fatalf("cell %d: wrote %q (neutralised %q), read back %q", i, in[i], want, got[i])
			}
			if got[i] != "" && strings.ContainsRune(formulaTriggers, rune(got[i][0])) {
				t.Fatalf("cell %q starts with a formula trigger", got[i])
			}
		}
	})
}
