package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	before := s.counts.compiles.Load()
	const jobs = 40
	round("measured", jobs)
	// The enqueue and the claim compile their multi-row SQL (a fixed
	// number); the read pool's connections each prepare the reads once.
	if got, limit := s.counts.compiles.Load()-before, int64(2+2*readers); got > limit {
		t.Errorf("%d jobs compiled SQL %d times, want at most %d whatever the number of jobs", jobs, got, limit)
	}
}

// TestCompletingAJobRunsFewStatements holds the completing transaction,
// which the sync engine runs once per job on its one writer, to the
// statements it needs: a savepoint, the state change fenced by the claim,
// the id link, the history row and the savepoint's release. The claim
// check and the link's conflict check read only when the write did not
// happen, and the history's operation names only when one is new.
func TestCompletingAJobRunsFewStatements(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	const jobs = 20
	var batch []OutboxJob
	for i := range jobs {
		batch = append(batch, OutboxJob{Kind: "mirror.message", Key: fmt.Sprint("ad:message:", i)})
	}
	if _, err := s.EnqueueBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	items := mustClaim(t, s, clock.t, jobs, time.Minute)
	complete := func(it OutboxItem) {
		t.Helper()
		id := fmt.Sprint(it.ID)
		c := Completion{Claim: it.Claim(), Links: []IDLink{{KindMessage, "m" + id, "g" + id}},
			Entries: []HistoryEntry{{Operation: OpInboundRecord, System: SystemGHL, LocalID: "m" + id, RemoteID: "g" + id, Outcome: OutcomeOK, Attempts: 1}}}
		if err := s.CompleteOutboxBatch(ctx, []Completion{c})[0]; err != nil {
			t.Fatal(err)
		}
	}
	complete(items[0]) // the first of its operation names the operation
	before := s.counts.runs.Load()
	for _, it := range items[1:] {
		complete(it)
	}
	const want = 5
	if got := float64(s.counts.runs.Load()-before) / float64(jobs-1); got > want {
		t.Errorf("completing a job ran %.1f statements, want at most %d", got, want)
	}
	// The claim check still says why when the write does not happen.
	again := Completion{Claim: items[1].Claim()}
	if err := s.CompleteOutboxBatch(ctx, []Completion{again})[0]; !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "item is done") {
		t.Errorf("completing a done job again: %v, want a refusal saying the item is done", err)
	}
}

// TestOperationNamesAreLearntFromCommittedRows: the history's operation
// names are written only until they are known stored, and a name is known
// only once committed: one written by a transaction that rolled back is
// written again by the next append that uses it.
func TestOperationNamesAreLearntFromCommittedRows(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	entry := func(op Operation) HistoryEntry {
		return HistoryEntry{Operation: op, System: SystemGHL, LocalID: "x", Outcome: OutcomeOK, Attempts: 1}
	}
	rollback := errors.New("roll back")
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.appendHistoryTx(ctx, tx, []HistoryEntry{entry("test.rolled_back")}); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	for _, op := range []Operation{OpInboundRecord, "test.rolled_back", OpInboundRecord} {
		if err := s.AppendHistory(ctx, entry(op)); err != nil {
			t.Fatal(err)
		}
	}
	ops, err := operations(ctx, s.r)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ops, []Operation{OpInboundRecord, "test.rolled_back"}) {
		t.Errorf("operations = %v, want both names", ops)
	}
}
