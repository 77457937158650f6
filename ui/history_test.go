package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

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
