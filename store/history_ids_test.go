package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// queryPlan is SQLite's plan for query, one line per step.
func queryPlan(t testing.TB, s *Store, query string, args ...any) []string {
	t.Helper()
	rows, err := s.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// A contact's history is found through the id index (history_ids) for
// the rows the background indexer has done, and by id range above its
// watermark, never by reading the whole table: a contact whose activity is
// old used to cost a scan of most of a million rows.
func TestHistoryForUsesTheIDIndex(t *testing.T) {
	s := newTestStore(t)
	plan := queryPlan(t, s, historyForQuery, `["ad-1","ghl-1"]`, 100)
	joined := strings.Join(plan, "\n")
	if !strings.Contains(joined, "history_ids") {
		t.Errorf("the plan does not use the id index:\n%s", joined)
	}
	for _, step := range plan {
		// "SCAN history_fts_progress" reads its one row; a scan of the
		// history is "SCAN h" or "SCAN history", maybe with more words.
		if f := strings.Fields(step); len(f) >= 2 && f[0] == "SCAN" && (f[1] == "h" || f[1] == "history") {
			t.Errorf("the plan reads the whole history (%q):\n%s", step, joined)
		}
	}
}

// Rows are found whether the indexer has reached them or not, once each,
// by either id; rows whose two ids are the same are found once.
func TestHistoryForIndexedAndNot(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var entries []HistoryEntry
	for i := range 40 {
		entries = append(entries, HistoryEntry{At: at.Add(time.Duration(i) * time.Second), Operation: OpMessagePush, System: SystemGHL,
			LocalID: fmt.Sprintf("ad-%d", i%4), RemoteID: fmt.Sprintf("ghl-%d", i), Outcome: OutcomeOK})
	}
	entries = append(entries, HistoryEntry{At: at, Operation: OpMessagePush, System: SystemGHL, LocalID: "same", RemoteID: "same", Outcome: OutcomeOK})
	if err := s.AppendHistory(ctx, entries...); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		// ad-1 is in rows 1, 5, 9, ...; ghl-1 is row 1 again, ghl-2 row 2.
		got, err := s.HistoryFor(ctx, []string{"ad-1", "ghl-1", "ghl-2", "same"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 12 {
			t.Fatalf("%s: %d rows, want 12 (ten of ad-1, ghl-2, same)", when, len(got))
		}
		for i := 1; i < len(got); i++ {
			if got[i].ID >= got[i-1].ID {
				t.Fatalf("%s: not newest first, or a row twice, at %d", when, i)
			}
		}
	}
	check("nothing indexed")
	if _, err := s.indexHistory(ctx, 20); err != nil {
		t.Fatal(err)
	}
	check("half indexed")
	for more := true; more; {
		var err error
		if more, err = s.indexHistory(ctx, 20); err != nil {
			t.Fatal(err)
		}
	}
	check("all indexed")
}

// BenchmarkHistoryFor is the history part of opening a contact: the rows
// of its 30 records (contact, conversation, messages, on either side) among
// 200,000, all of them old, as for a contact last active weeks ago, with
// the history indexed as the background indexer leaves it.
//
//	go test -run '^$' -bench HistoryFor -count 3 ./store/
func BenchmarkHistoryFor(b *testing.B) {
	ctx := context.Background()
	s := newTestStore(b)
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	var mine []HistoryEntry
	for i := range 30 {
		local, remote := fmt.Sprintf("ad-msg-old-%d", i), fmt.Sprintf("ghlOldRecord%08d", i)
		ids = append(ids, local, remote)
		mine = append(mine, HistoryEntry{At: start.Add(time.Duration(i) * time.Second), Operation: OpMessagePush, System: SystemGHL,
			LocalID: local, RemoteID: remote, Outcome: OutcomeOK})
	}
	if err := s.AppendHistory(ctx, mine...); err != nil {
		b.Fatal(err)
	}
	rest := genHistory(7, 200_000, start.Add(time.Hour))
	for len(rest) > 0 {
		n := min(len(rest), 10_000)
		if err := s.AppendHistory(ctx, rest[:n]...); err != nil {
			b.Fatal(err)
		}
		rest = rest[n:]
	}
	// As in a running console: the background indexer has caught up.
	for more := true; more; {
		var err error
		if more, err = s.indexHistory(ctx, 10_000); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		got, err := s.HistoryFor(ctx, ids, 0)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != len(mine) {
			b.Fatalf("%d rows, want %d", len(got), len(mine))
		}
	}
}

// TestMeasureHistoryIDsMigration times migration 0008's backfill of
// history_ids over 500,000 indexed rows, the one-off cost of the first
// start after an upgrade. It runs only when asked for:
//
//	PARLEY_MEASURE=history-ids-migration go test -run TestMeasureHistoryIDsMigration -v ./store/
func TestMeasureHistoryIDsMigration(t *testing.T) {
	if os.Getenv("PARLEY_MEASURE") != "history-ids-migration" {
		t.Skip("set PARLEY_MEASURE=history-ids-migration to measure")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), DatabaseFile)
	s, err := open(ctx, path, options{manualIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	rows := genHistory(3, 500_000, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	for len(rows) > 0 {
		n := min(len(rows), 10_000)
		if err := s.AppendHistory(ctx, rows[:n]...); err != nil {
			t.Fatal(err)
		}
		rows = rows[n:]
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Back to version 7 with every row indexed, as a database that was
	// running before the upgrade.
	db := rawWriter(t, path)
	for _, q := range []string{
		`UPDATE history_fts_progress SET indexed_through = (SELECT max(id) FROM history)`,
		`DELETE FROM schema_migrations WHERE version = 8`,
		`DROP TABLE history_ids`,
		`ALTER TABLE media DROP COLUMN call_at`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := migrate(ctx, db, path, 8, func() int64 { return 1 }); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	var refs int
	if err := db.QueryRow(`SELECT count(*) FROM history_ids`).Scan(&refs); err != nil || refs != 1_000_000 {
		t.Fatalf("%d refs (%v), want 1,000,000", refs, err)
	}
	t.Logf("migration 0008 over 500,000 indexed rows: %v", took.Round(10*time.Millisecond))
}
