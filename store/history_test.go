package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAppendHistoryRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	at := time.Date(2025, 2, 3, 4, 5, 6, 789_000_000, time.FixedZone("CET", 3600))
	in := []HistoryEntry{
		{ID: 999, At: at, Operation: OpMessagePush, System: SystemGHL, LocalID: "ad-msg-1", RemoteID: "ghl-1",
			Outcome: OutcomeRetrying, HTTPStatus: 429, Attempts: 3, Latency: 1234567 * time.Microsecond, Error: "429 rate limited"},
		{Operation: "custom.op", System: SystemAD, Outcome: OutcomeSkipped},
	}
	if err := s.AppendHistory(ctx, in...); err != nil {
		t.Fatal(err)
	}
	page, err := s.HistoryPage(ctx, HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []HistoryEntry{
		{ID: 2, At: clock.t, Operation: "custom.op", System: SystemAD, Outcome: OutcomeSkipped},
		{ID: 1, At: at.UTC(), Operation: OpMessagePush, System: SystemGHL, LocalID: "ad-msg-1", RemoteID: "ghl-1",
			Outcome: OutcomeRetrying, HTTPStatus: 429, Attempts: 3, Latency: 1234567 * time.Microsecond, Error: "429 rate limited"},
	}
	if !slices.Equal(page, want) {
		t.Errorf("got  %+v\nwant %+v", page, want)
	}
	if page[1].At.Location() != time.UTC {
		t.Errorf("times should come back in UTC, got %v", page[1].At.Location())
	}
}

func TestAppendHistoryBatchSizes(t *testing.T) {
	ctx := context.Background()
	// Around the multi-row statement size, where off-by-one errors hide.
	for _, n := range []int{0, 1, historyRowsPerInsert - 1, historyRowsPerInsert, historyRowsPerInsert + 1, 3*historyRowsPerInsert + 5} {
		s := newTestStore(t)
		in := genHistory(uint64(n), n, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
		if err := s.AppendHistory(ctx, in...); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		page, err := s.HistoryPage(ctx, HistoryFilter{Limit: MaxHistoryLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != n {
			t.Fatalf("n=%d: stored %d rows", n, len(page))
		}
		for i, e := range page {
			// Newest first, ids follow the order entries were given.
			want := in[n-1-i]
			want.ID = int64(n - i)
			if e != want {
				t.Fatalf("n=%d row %d: got %+v, want %+v", n, i, e, want)
			}
		}
	}
}

func TestAppendHistoryValidation(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	good := HistoryEntry{Operation: OpMessagePush, System: SystemGHL, Outcome: OutcomeOK}
	tests := []struct {
		name   string
		mutate func(*HistoryEntry)
	}{
		{"empty operation", func(e *HistoryEntry) { e.Operation = " " }},
		{"unknown system", func(e *HistoryEntry) { e.System = "hubspot" }},
		{"missing system", func(e *HistoryEntry) { e.System = "" }},
		{"unknown outcome", func(e *HistoryEntry) { e.Outcome = "maybe" }},
		{"bad HTTP status", func(e *HistoryEntry) { e.HTTPStatus = 42 }},
		{"negative attempts", func(e *HistoryEntry) { e.Attempts = -1 }},
		{"negative latency", func(e *HistoryEntry) { e.Latency = -time.Second }},
	}
	for _, tt := range tests {
		bad := good
		tt.mutate(&bad)
		// The bad entry comes last: nothing of the batch may be stored.
		err := s.AppendHistory(ctx, good, good, bad)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tt.name, err)
		}
	}
	if page, err := s.HistoryPage(ctx, HistoryFilter{}); err != nil || len(page) != 0 {
		t.Errorf("invalid batches stored %d rows (%v)", len(page), err)
	}
}

func TestHistoryPageValidation(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	if err := s.AppendHistory(ctx, genHistory(3, MaxHistoryLimit+50, time.Now())...); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		f       HistoryFilter
		rows    int
		invalid bool
	}{
		{HistoryFilter{}, DefaultHistoryLimit, false},
		{HistoryFilter{Limit: 5}, 5, false},
		{HistoryFilter{Limit: MaxHistoryLimit + 1}, MaxHistoryLimit, false},
		{HistoryFilter{Limit: -1}, 0, true},
		{HistoryFilter{BeforeID: -1}, 0, true},
		{HistoryFilter{Outcome: "maybe"}, 0, true},
		{HistoryFilter{System: "hubspot"}, 0, true},
	}
	for _, tt := range tests {
		page, err := s.HistoryPage(ctx, tt.f)
		if tt.invalid != errors.Is(err, ErrInvalid) || len(page) != tt.rows {
			t.Errorf("%+v: %d rows, err %v", tt.f, len(page), err)
		}
	}
}

func TestHistoryOperations(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	if ops, err := s.HistoryOperations(ctx); err != nil || len(ops) != 0 {
		t.Fatalf("empty history: %v %v", ops, err)
	}
	for _, op := range []Operation{OpMessagePush, OpContactUpsert, OpMessagePush, "z.custom"} {
		if err := s.AppendHistory(ctx, HistoryEntry{Operation: op, System: SystemGHL, Outcome: OutcomeOK}); err != nil {
			t.Fatal(err)
		}
	}
	ops, err := s.HistoryOperations(ctx)
	if want := []Operation{OpContactUpsert, OpMessagePush, "z.custom"}; err != nil || !slices.Equal(ops, want) {
		t.Errorf("HistoryOperations = %v, %v; want %v", ops, err, want)
	}
}

// Benchmarks. Run with:
//
//	go test -run '^$' -bench . -benchmem ./store/
//
// Results and their interpretation are in BENCHMARKS.md.

// BenchmarkAppendHistory measures AppendHistory, one transaction per batch,
// through the public Open, i.e. with the background search indexer running
// as it does in the app.
func BenchmarkAppendHistory(b *testing.B) {
	ctx := context.Background()
	pool := genHistory(1, 100_000, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, batch := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, err := Open(ctx, filepath.Join(b.TempDir(), DatabaseFile))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			off, rows := 0, 0
			for b.Loop() {
				if off+batch > len(pool) {
					off = 0
				}
				if err := s.AppendHistory(ctx, pool[off:off+batch]...); err != nil {
					b.Fatal(err)
				}
				off += batch
				rows += batch
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
	// The cost the background indexer pays later, for the full picture:
	// append a batch and index it before the next one.
	b.Run("batch=1000+index", func(b *testing.B) {
		s := newTestStore(b)
		off, rows := 0, 0
		for b.Loop() {
			if off+1000 > len(pool) {
				off = 0
			}
			if err := s.AppendHistory(ctx, pool[off:off+1000]...); err != nil {
				b.Fatal(err)
			}
			indexAll(b, s)
			off += 1000
			rows += 1000
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkIndexHistory measures the background indexer alone.
func BenchmarkIndexHistory(b *testing.B) {
	ctx := context.Background()
	s := newTestStore(b)
	const chunk = 10_000
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := 0
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := s.AppendHistory(ctx, genHistory(uint64(i), chunk, start)...); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := s.indexHistory(ctx, chunk); err != nil {
			b.Fatal(err)
		}
		rows += chunk
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// fixtureRows is the size of the shared history fixture, fixtureStart the
// time of its first row; rows are 50 ms apart.
const fixtureRows = 1_000_000

var fixtureStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// histFixture is a database with fixtureRows history rows, fully indexed,
// built once per test binary run (about half a minute) and shared by the
// benchmarks below.
var histFixture struct {
	once sync.Once
	err  error
	dir  string
	s    *Store
	// sample is an old message.push/ok entry, for the id search cases.
	sample HistoryEntry
	// appendRate and indexRate are the rows/s seen while building.
	appendRate, indexRate float64
}

func historyFixture(b *testing.B) *Store {
	b.Helper()
	f := &histFixture
	f.once.Do(func() {
		ctx := context.Background()
		if f.dir, f.err = os.MkdirTemp("", "parley-bench-"); f.err != nil {
			return
		}
		if f.s, f.err = open(ctx, filepath.Join(f.dir, DatabaseFile), options{manualIndex: true}); f.err != nil {
			return
		}
		start := fixtureStart
		const batch = 10_000
		var appendTime time.Duration
		for i := 0; i < fixtureRows/batch; i++ {
			entries := genHistory(uint64(i), batch, start.Add(time.Duration(i*batch)*50*time.Millisecond))
			if i == fixtureRows/batch/4 {
				for _, e := range entries {
					if e.Operation == OpMessagePush && e.Outcome == OutcomeOK {
						f.sample = e
						break
					}
				}
			}
			t0 := time.Now()
			if f.err = f.s.AppendHistory(ctx, entries...); f.err != nil {
				return
			}
			appendTime += time.Since(t0)
		}
		f.appendRate = fixtureRows / appendTime.Seconds()
		// Index in the background indexer's chunk size: the segment
		// layout FTS5 ends up with depends on it, and with it query speed.
		t0 := time.Now()
		for more := true; more; {
			if more, f.err = f.s.indexHistory(ctx, indexChunk); f.err != nil {
				return
			}
		}
		f.indexRate = fixtureRows / time.Since(t0).Seconds()
	})
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f.s
}

func closeHistoryFixture() {
	f := &histFixture
	if f.s != nil {
		f.s.Close()
	}
	if f.dir != "" {
		os.RemoveAll(f.dir)
	}
}

// BenchmarkHistoryPage measures one page of 100 on the 1M-row fixture.
func BenchmarkHistoryPage(b *testing.B) {
	ctx := context.Background()
	s := historyFixture(b)
	sample := histFixture.sample
	push, contact := OpMessagePush, OpContactUpsert
	cases := []struct {
		name string
		f    HistoryFilter
		// min is the fewest rows the page must have, so a broken search
		// cannot look fast by returning nothing.
		min int
	}{
		{"newest/no-filter", HistoryFilter{}, 100},
		{"filter/op+outcome", HistoryFilter{Operation: push, Outcome: OutcomeFailed}, 100},
		{"filter/outcome-only-rare", HistoryFilter{Outcome: OutcomeSkipped}, 100},
		{"op+outcome+text/common-term", HistoryFilter{Operation: push, Outcome: OutcomeFailed, Text: "rate"}, 100},
		{"op+outcome+text/common-two-words", HistoryFilter{Operation: push, Outcome: OutcomeFailed, Text: "Rate Limit"}, 100},
		{"op+outcome+text/rare-term", HistoryFilter{Operation: contact, Outcome: OutcomeFailed, Text: "certificate"}, 1},
		{"op+outcome+text/no-match", HistoryFilter{Operation: push, Outcome: OutcomeFailed, Text: "nosuchthing"}, 0},
		{"op+outcome+text/local-id", HistoryFilter{Operation: push, Outcome: OutcomeOK, Text: sample.LocalID}, 1},
		{"op+outcome+text/remote-id", HistoryFilter{Operation: push, Outcome: OutcomeOK, Text: sample.RemoteID}, 1},
		{"op+outcome+text/remote-id-prefix", HistoryFilter{Operation: push, Outcome: OutcomeOK, Text: sample.RemoteID[:6]}, 1},
		{"op+outcome+text/two-char-prefix", HistoryFilter{Operation: push, Outcome: OutcomeOK, Text: "ad"}, 100},
		{"text-only/common-term", HistoryFilter{Text: "timeout"}, 100},
		{"text-only/operation-word", HistoryFilter{Text: "push"}, 100},
		{"deep-page/op+outcome+text", HistoryFilter{Operation: push, Outcome: OutcomeFailed, Text: "rate", BeforeID: fixtureRows / 10}, 100},
		// Time ranges: the fixture spans start .. start+50,000 s.
		{"range/last-hour", HistoryFilter{Since: fixtureStart.Add(49_000 * time.Second)}, 100},
		{"range/old-hour", HistoryFilter{Since: fixtureStart.Add(time.Hour), Until: fixtureStart.Add(2 * time.Hour)}, 100},
		{"range/old-hour+op+outcome+text", HistoryFilter{Operation: push, Outcome: OutcomeFailed, Text: "rate",
			Since: fixtureStart.Add(time.Hour), Until: fixtureStart.Add(2 * time.Hour)}, 100},
		{"range/old-hour+outcome-rare", HistoryFilter{Outcome: OutcomeSkipped, Since: fixtureStart.Add(time.Hour), Until: fixtureStart.Add(2 * time.Hour)}, 100},
		// Worst cases found so far: a word that is in most rows of the
		// index but in none that pass the filter, so FTS5 walks its whole
		// doclist. Reported, not hidden.
		{"worst/common-word-excluded-by-filter", HistoryFilter{Operation: push, Outcome: OutcomeOK, Text: "contact"}, 0},
		{"worst/common-prefix-excluded-by-filter", HistoryFilter{Operation: contact, Outcome: OutcomeOK, Text: "msg"}, 0},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				page, err := s.HistoryPage(ctx, c.f)
				if err != nil {
					b.Fatal(err)
				}
				n = len(page)
			}
			if n < c.min {
				b.Fatalf("page has %d rows, want at least %d", n, c.min)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
			b.ReportMetric(float64(n), "rows")
		})
	}
	b.Run("operations-dropdown", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.HistoryOperations(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
	})
}

// BenchmarkHistoryFileSize reports the size of the 1M-row fixture on disk
// (main file + WAL after a checkpoint) and how fast it was built.
func BenchmarkHistoryFileSize(b *testing.B) {
	s := historyFixture(b)
	if _, err := s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	var size int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(s.Path() + suffix); err == nil {
			size += fi.Size()
		}
	}
	for b.Loop() {
	}
	b.ReportMetric(float64(size)/1e6, "MB")
	b.ReportMetric(float64(size)/fixtureRows, "bytes/row")
	b.ReportMetric(histFixture.appendRate, "build-append-rows/s")
	b.ReportMetric(histFixture.indexRate, "build-index-rows/s")
}

// TestHistoryTimeRange: Since is inclusive, Until exclusive, both may be
// used alone, and a row recorded late with an early time is found by its
// time, not by where it sits in the table.
func TestHistoryTimeRange(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var entries []HistoryEntry
	for i := range 10 {
		entries = append(entries, HistoryEntry{At: base.Add(time.Duration(i) * time.Hour), Operation: OpMessagePush,
			System: SystemGHL, LocalID: fmt.Sprintf("ad-msg-%d", i), Outcome: OutcomeOK})
	}
	// id 11: recorded last, but happened at base+2h30m.
	entries = append(entries, HistoryEntry{At: base.Add(150 * time.Minute), Operation: OpMessagePush, System: SystemGHL,
		LocalID: "ad-msg-late", Outcome: OutcomeOK})
	if err := s.AppendHistory(ctx, entries...); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    HistoryFilter
		want []int64
	}{
		{"since inclusive", HistoryFilter{Since: base.Add(8 * time.Hour)}, []int64{10, 9}},
		{"until exclusive", HistoryFilter{Until: base.Add(2 * time.Hour)}, []int64{2, 1}},
		{"both, late row inside", HistoryFilter{Since: base.Add(2 * time.Hour), Until: base.Add(4 * time.Hour)}, []int64{11, 4, 3}},
		{"with text", HistoryFilter{Since: base.Add(2 * time.Hour), Until: base.Add(4 * time.Hour), Text: "late"}, []int64{11}},
		{"with filter", HistoryFilter{Operation: OpMessagePush, Outcome: OutcomeOK, Until: base.Add(time.Hour)}, []int64{1}},
		{"before everything", HistoryFilter{Until: base}, nil},
		{"after everything", HistoryFilter{Since: base.Add(10 * time.Hour)}, nil},
		{"paging inside the range", HistoryFilter{Since: base.Add(2 * time.Hour), BeforeID: 11, Limit: 1}, []int64{10}},
	}
	check := func(stage string) {
		for _, tt := range tests {
			page, err := s.HistoryPage(ctx, tt.f)
			if err != nil {
				t.Fatalf("%s, %s: %v", stage, tt.name, err)
			}
			if got := ids(page); !slices.Equal(got, tt.want) {
				t.Errorf("%s, %s: got %v, want %v", stage, tt.name, got, tt.want)
			}
		}
	}
	check("not indexed")
	indexAll(t, s)
	check("indexed")

	_, err := s.HistoryPage(ctx, HistoryFilter{Since: base.Add(time.Hour), Until: base})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "before") {
		t.Errorf("a range ending before it starts: %v, want ErrInvalid saying so", err)
	}
}
