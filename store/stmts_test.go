package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestJobPathReusesItsStatements runs the sync engine's per-job store
// calls (claim, id map and switch reads, the completing transaction with
// links, history and a follow-up) for many jobs and checks that, once
// warm, they compile no SQL per job: the driver compiles every
// unprepared call, which cost more than the statements themselves.
func TestJobPathReusesItsStatements(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	round := func(name string, jobs int) {
		t.Helper()
		var batch []OutboxJob
		for i := range jobs {
			batch = append(batch, OutboxJob{Kind: "mirror.message", Key: fmt.Sprintf("ad:message:%s-%d", name, i), Payload: []byte(`{}`)})
		}
		if _, err := s.EnqueueBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		items, err := s.ClaimDueOf(ctx, clock.t, jobs, time.Minute, "mirror.contact", "mirror.message")
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != jobs {
			t.Fatalf("claimed %d items, want %d", len(items), jobs)
		}
		var done []Completion
		for i, it := range items {
			ad := fmt.Sprintf("%s-%d", name, i)
			if _, _, err := s.GHLIDFor(ctx, KindContact, "c-"+ad); err != nil {
				t.Fatal(err)
			}
			if _, err := s.AutomationEnabled(ctx, "mirror"); err != nil {
				t.Fatal(err)
			}
			if err := s.ExtendLease(ctx, it.Claim(), clock.t.Add(2*time.Minute)); err != nil {
				t.Fatal(err)
			}
			done = append(done, Completion{Claim: it.Claim(),
				Links:   []IDLink{{KindMessage, "m-" + ad, "g-" + ad}},
				Entries: []HistoryEntry{{Operation: OpInboundRecord, System: SystemGHL, LocalID: "m-" + ad, RemoteID: "g-" + ad, Outcome: OutcomeOK, Attempts: 1}},
				Follow:  []OutboxJob{{Kind: "media.fetch", Key: "fetch:" + ad}}})
		}
		// In batches of a few, as the engine's committer makes them.
		for len(done) > 0 {
			n := min(4, len(done))
			for i, err := range s.CompleteOutboxBatch(ctx, done[:n]) {
				if err != nil {
					t.Fatalf("job %d: %v", i, err)
				}
			}
			done = done[n:]
		}
	}
	round("warm", 8)
	before := s.compiles.Load()
	const jobs = 40
	round("measured", jobs)
	// The enqueue and the claim compile their multi-row SQL (a fixed
	// number); the read pool's connections each prepare the reads once.
	if got, limit := s.compiles.Load()-before, int64(2+2*readers); got > limit {
		t.Errorf("%d jobs compiled SQL %d times, want at most %d whatever the number of jobs", jobs, got, limit)
	}
}
