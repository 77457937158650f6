package engine_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
)

func TestParseDateRange(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		in       string
		from, to time.Time
		bad      string
	}{
		{in: "2026-11-01..2026-11-30", from: day(2026, 11, 1), to: day(2026, 12, 1)},
		{in: " 2026-11-30..2026-11-30 ", from: day(2026, 11, 30), to: day(2026, 12, 1)},
		{in: "2026-11-01", bad: "FROM..TO"},
		{in: "2026-11-31..2026-12-01", bad: "2026-11-31"},
		{in: "11/01/2026..2026-12-01", bad: "YYYY-MM-DD"},
		{in: "2026-12-02..2026-12-01", bad: "after"},
		{in: "..2026-12-01", bad: "FROM"},
	} {
		r, err := engine.ParseDateRange(c.in, time.UTC)
		if c.bad != "" {
			if err == nil || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("ParseDateRange(%q) = %v, %v; want an error mentioning %q", c.in, r, err, c.bad)
			}
			continue
		}
		if err != nil || !r.From.Equal(c.from) || !r.To.Equal(c.to) {
			t.Errorf("ParseDateRange(%q) = %v, %v; want [%v, %v)", c.in, r, err, c.from, c.to)
		}
	}
}

// TestBackfillQueuesTheRangeOnlyWithProgress backfills one day of a
// business with messages before, in and after it: exactly the day's
// messages are queued, through the poller's jobs (the engine then mirrors
// them), the progress reaches its total, and the poller's cursor is not
// touched.
func TestBackfillQueuesTheRangeOnlyWithProgress(t *testing.T) {
	ctx := context.Background()
	r := newADRig(t) // six messages on t0's day
	before, err := r.as.AddMessage(adtest.NewMessage{ContactID: r.contacts[0].ID, Channel: activedemand.ChannelEmail, Direction: activedemand.Inbound,
		Subject: "old", Body: "two days before", At: t0.Add(-48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	after := r.addMessage(1, "two days after", t0.Add(48*time.Hour))
	rng, err := engine.ParseDateRange("2026-11-30..2026-11-30", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []engine.BackfillProgress
	res, err := engine.Backfill(ctx, engine.BackfillConfig{Store: r.st, AD: r.ad, Contacts: r.ad, Range: rng,
		Progress: func(p engine.BackfillProgress) { mu.Lock(); seen = append(seen, p); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 6 || res.Queued < 6 {
		t.Errorf("backfill = %+v, want the day's 6 messages queued", res)
	}
	if len(seen) == 0 {
		t.Fatal("no progress reported")
	}
	last := seen[len(seen)-1]
	if last.Total == 0 || last.Done != last.Total || last.ETA != 0 {
		t.Errorf("last progress = %+v, want done = total and no time left", last)
	}
	for i, p := range seen {
		if p.Done > p.Total || (i > 0 && p.Done < seen[i-1].Done) {
			t.Errorf("progress %d = %+v goes backwards or past its total", i, p)
		}
	}
	if _, ok, _ := r.st.Cursor(ctx, engine.PollCursor); ok {
		t.Error("backfill saved the poller's cursor")
	}
	keys := map[string]bool{}
	for _, it := range r.items() {
		keys[it.Key] = true
	}
	if keys[engine.MessageKey(string(before.ID))] || keys[engine.MessageKey(string(after.ID))] {
		t.Errorf("messages outside the range were queued: %v", keys)
	}
	r.run(r.engine(), nil)
	if got := r.gs.Traffic().Records; got != 6 {
		t.Errorf("%d records after the backfill drained, want 6", got)
	}
	counts, _ := r.st.OutboxCounts(ctx)
	if counts[store.OutboxDead] != 0 {
		t.Errorf("%d dead jobs", counts[store.OutboxDead])
	}
}
