package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// dashboardRows are history around one hour: minute 0 is 10:00.
func dashboardRows(base time.Time) []HistoryEntry {
	at := func(min, sec int) time.Time {
		return base.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
	}
	ok := func(t time.Time) HistoryEntry {
		return HistoryEntry{At: t, Operation: OpInboundRecord, System: SystemGHL, LocalID: "m", Outcome: OutcomeOK, HTTPStatus: 201, Attempts: 1}
	}
	fail := func(t time.Time, op Operation, status int, out Outcome, text string) HistoryEntry {
		return HistoryEntry{At: t, Operation: op, System: SystemGHL, LocalID: "m", Outcome: out, HTTPStatus: status, Attempts: 1, Error: text}
	}
	return []HistoryEntry{
		ok(at(-5, 0)), // before the hour: not counted
		ok(at(0, 0)), ok(at(0, 59)),
		fail(at(1, 10), OpInboundRecord, 429, OutcomeRetrying, "rate limited"),
		ok(at(59, 30)),
		fail(at(30, 0), OpContactUpsert, 422, OutcomeFailed, "invalid email"),
		fail(at(31, 0), OpContactUpsert, 422, OutcomeFailed, "invalid phone"),
		ok(at(60, 0)), // the end is open: not counted
		// Recorded out of time order: a late row with an early time.
		ok(at(2, 0)),
		{At: at(3, 0), Operation: OpInboundRecord, System: SystemGHL, Outcome: OutcomeSkipped},
	}
}

func TestDashboardThroughputPerMinute(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	for _, indexed := range []bool{false, true} {
		s := newTestStore(t)
		if err := s.AppendHistory(ctx, dashboardRows(base)...); err != nil {
			t.Fatal(err)
		}
		if indexed {
			indexAll(t, s)
		}
		got, err := s.Throughput(ctx, base, base.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 60 {
			t.Fatalf("indexed=%v: %d minutes, want 60", indexed, len(got))
		}
		want := map[int]ThroughputMinute{
			0:  {OK: 2},
			1:  {Failed: 1},
			2:  {OK: 1},
			30: {Failed: 1},
			31: {Failed: 1},
			59: {OK: 1},
		}
		for i, m := range got {
			if !m.Start.Equal(base.Add(time.Duration(i) * time.Minute)) {
				t.Errorf("indexed=%v: minute %d starts %v", indexed, i, m.Start)
			}
			w := want[i]
			if m.OK != w.OK || m.Failed != w.Failed {
				t.Errorf("indexed=%v: minute %d = %+v, want ok %d failed %d", indexed, i, m, w.OK, w.Failed)
			}
		}
	}
}

func TestDashboardThroughputRejectsABackwardRange(t *testing.T) {
	s := newTestStore(t)
	now := time.Now()
	if _, err := s.Throughput(context.Background(), now, now.Add(-time.Minute)); err == nil {
		t.Fatal("a range ending before it starts was accepted")
	}
}

func TestDashboardFailuresByOperationAndStatus(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	s := newTestStore(t)
	if err := s.AppendHistory(ctx, dashboardRows(base)...); err != nil {
		t.Fatal(err)
	}
	indexAll(t, s)
	got, err := s.Failures(ctx, base, base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []FailureCount{
		{Operation: OpContactUpsert, HTTPStatus: 422, Count: 2, LastError: "invalid phone", LastAt: base.Add(31 * time.Minute)},
		{Operation: OpInboundRecord, HTTPStatus: 429, Count: 1, LastError: "rate limited", LastAt: base.Add(70 * time.Second)},
	}
	if !slices.Equal(got, want) {
		t.Errorf("failures:\n got %+v\nwant %+v", got, want)
	}
}

func TestDashboardDeadOutboxPage(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	var ids []int64
	for _, k := range []string{"a", "b", "c", "d"} {
		id, _, err := s.Enqueue(ctx, "mirror.message", k, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for i, id := range []int64{ids[0], ids[2], ids[3]} {
		clock.t = clock.t.Add(time.Minute)
		if err := s.KillOutbox(ctx, id, "refused "+string(rune('x'+i))); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.DeadOutboxPage(ctx, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].Key != "d" || page[1].Key != "c" {
		t.Fatalf("first page %+v, want d, c", page)
	}
	if page[0].LastError != "refused z" || page[0].State != OutboxDead || page[0].Payload != nil {
		t.Errorf("row %+v: want its error, dead, and no payload", page[0])
	}
	next, err := s.DeadOutboxPage(ctx, page[1].ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 1 || next[0].Key != "a" {
		t.Fatalf("second page %+v, want a", next)
	}
}

// BenchmarkDashboardLastHour measures the dashboard's history read over
// the last hour of 100,000 rows, 72,000 of them in that hour (one row
// every 50 ms), indexed as the background indexer leaves them: the first
// reading (cold) and a later one with 100 new rows (incremental). Run with:
//
//	go test -run '^$' -bench DashboardLastHour -benchtime 20x ./store/
func BenchmarkDashboardLastHour(b *testing.B) {
	ctx := context.Background()
	s := newTestStore(b)
	const rows = 100_000
	start := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for i := 0; i < rows; i += 10_000 {
		if err := s.AppendHistory(ctx, genHistory(uint64(i), 10_000, start.Add(time.Duration(i)*50*time.Millisecond))...); err != nil {
			b.Fatal(err)
		}
	}
	indexAll(b, s)
	end := start.Add(rows * 50 * time.Millisecond)
	until := end.Truncate(time.Minute).Add(time.Minute)
	since := until.Add(-time.Hour)
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.TallyHistory(ctx, 0, since, until); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("incremental", func(b *testing.B) {
		// One cold reading, then each loop reads only the rows added since
		// the last, as the dashboard does. (A cold reading in every loop,
		// off the timer, made the untimed part 200 times the timed one:
		// `-bench .` spent tens of minutes here.)
		t, err := s.TallyHistory(ctx, 0, since, until)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			if err := s.AppendHistory(ctx, genHistory(uint64(rows+i), 100, end)...); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			next, err := s.TallyHistory(ctx, t.ThroughID, since, until)
			if err != nil {
				b.Fatal(err)
			}
			if next.ThroughID <= t.ThroughID {
				b.Fatalf("the tally after 100 new rows reads through id %d, no further than before (%d)", next.ThroughID, t.ThroughID)
			}
			t = next
		}
	})
}

func TestDashboardTallyReadsOnlyNewRows(t *testing.T) {
	ctx := context.Background()
	base := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	s := newTestStore(t)
	rows := dashboardRows(base)
	if err := s.AppendHistory(ctx, rows[:4]...); err != nil {
		t.Fatal(err)
	}
	first, err := s.TallyHistory(ctx, 0, base, base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if first.ThroughID != 4 || sumCounts(first.Groups) != 3 {
		t.Fatalf("first tally through %d counts %d, want through 4 counting 3 (one row is before the hour)", first.ThroughID, sumCounts(first.Groups))
	}
	if err := s.AppendHistory(ctx, rows[4:]...); err != nil {
		t.Fatal(err)
	}
	next, err := s.TallyHistory(ctx, first.ThroughID, base, base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Rows 5-10: ok at 59:30, two refusals, one after the hour, a late
	// ok at 2:00 and a skipped row; 4 count.
	if next.ThroughID != int64(len(rows)) || sumCounts(next.Groups) != 4 {
		t.Fatalf("next tally through %d counts %d (%+v), want through %d counting 4", next.ThroughID, sumCounts(next.Groups), next.Groups, len(rows))
	}
	late := false
	for _, g := range next.Groups {
		if g.Minute.Equal(base.Add(2*time.Minute)) && g.OK && g.Count == 1 {
			late = true
		}
	}
	if !late {
		t.Errorf("the row recorded late is not in its minute: %+v", next.Groups)
	}
}

func sumCounts(gs []TallyGroup) int {
	n := 0
	for _, g := range gs {
		n += g.Count
	}
	return n
}
