package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func historyRows(t *testing.T, s *Store) []HistoryEntry {
	t.Helper()
	page, err := s.HistoryPage(context.Background(), HistoryFilter{Limit: MaxHistoryLimit})
	if err != nil {
		t.Fatal(err)
	}
	return page
}

func TestCompleteOutboxWithWritesAllInOneTransaction(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	id, _, _ := s.Enqueue(ctx, "mirror.message", "ad:message:m1", nil)
	items := mustClaim(t, s, clock.t, 1, time.Minute)
	links := []IDLink{{KindMessage, "m1", "g1"}, {KindContact, "c1", "gc1"}}
	rec := HistoryEntry{Operation: OpInboundRecord, System: SystemGHL, LocalID: "m1", RemoteID: "g1", Outcome: OutcomeOK, HTTPStatus: 201, Attempts: 1}
	if err := s.CompleteOutboxWith(ctx, items[0].Claim(), links, []HistoryEntry{rec}); err != nil {
		t.Fatal(err)
	}
	if it, _ := s.OutboxItemByID(ctx, id); it.State != OutboxDone {
		t.Errorf("item is %s, want done", it.State)
	}
	for _, l := range links {
		if got, ok, err := s.GHLIDFor(ctx, l.Kind, l.ADID); err != nil || !ok || got != l.GHLID {
			t.Errorf("GHLIDFor(%s %s) = %q %v %v, want %q", l.Kind, l.ADID, got, ok, err, l.GHLID)
		}
	}
	if h := historyRows(t, s); len(h) != 1 || h[0].RemoteID != "g1" || h[0].HTTPStatus != 201 {
		t.Errorf("history = %+v, want the one record row", h)
	}
}

// A worker whose lease ran out must leave no trace: not the job's state,
// not its links, not its history. Otherwise the newer claim, which records
// the message again after finding nothing, would be contradicted.
func TestCompleteOutboxWithWritesNothingWhenTheClaimIsLost(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	id, _, _ := s.Enqueue(ctx, "mirror.message", "ad:message:m1", nil)
	stalled := mustClaim(t, s, clock.t, 1, time.Minute)[0].Claim()
	clock.t = clock.t.Add(time.Hour)
	mustClaim(t, s, clock.t, 1, time.Minute) // settles the lease and claims again
	err := s.CompleteOutboxWith(ctx, stalled, []IDLink{{KindMessage, "m1", "g1"}},
		[]HistoryEntry{{Operation: OpInboundRecord, System: SystemGHL, LocalID: "m1", Outcome: OutcomeOK}})
	if !errors.Is(err, ErrClaimLost) {
		t.Fatalf("complete under a lost claim = %v, want ErrClaimLost", err)
	}
	if _, ok, _ := s.GHLIDFor(ctx, KindMessage, "m1"); ok {
		t.Error("the lost claim linked the message")
	}
	if h := historyRows(t, s); len(h) != 0 {
		t.Errorf("the lost claim wrote history: %+v", h)
	}
	if it, _ := s.OutboxItemByID(ctx, id); it.State != OutboxInFlight || it.Attempts != 2 {
		t.Errorf("item = %s after %d attempts, want in_flight under attempt 2", it.State, it.Attempts)
	}
}

func TestCompleteOutboxWithRollsBackOnALinkConflict(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	if err := s.LinkIDs(ctx, KindContact, "c1", "gc-old"); err != nil {
		t.Fatal(err)
	}
	id, _, _ := s.Enqueue(ctx, "mirror.contact", "ad:contact:c1", nil)
	c := mustClaim(t, s, clock.t, 1, time.Minute)[0].Claim()
	err := s.CompleteOutboxWith(ctx, c, []IDLink{{KindMessage, "m1", "g1"}, {KindContact, "c1", "gc-new"}},
		[]HistoryEntry{{Operation: OpContactUpsert, System: SystemGHL, LocalID: "c1", Outcome: OutcomeOK}})
	if !errors.Is(err, ErrIDConflict) {
		t.Fatalf("complete = %v, want ErrIDConflict", err)
	}
	if _, ok, _ := s.GHLIDFor(ctx, KindMessage, "m1"); ok {
		t.Error("the first link survived the rollback")
	}
	if it, _ := s.OutboxItemByID(ctx, id); it.State != OutboxInFlight {
		t.Errorf("item is %s, want still in_flight", it.State)
	}
	if h := historyRows(t, s); len(h) != 0 {
		t.Errorf("history survived the rollback: %+v", h)
	}
}

func TestRetryKillAndReleaseWith(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	a, _, _ := s.Enqueue(ctx, "k", "a", nil)
	b, _, _ := s.Enqueue(ctx, "k", "b", nil)
	c, _, _ := s.Enqueue(ctx, "k", "c", nil)
	items := mustClaim(t, s, clock.t, 3, time.Minute)
	row := func(op Operation, o Outcome) []HistoryEntry {
		return []HistoryEntry{{Operation: op, System: SystemGHL, Outcome: o}}
	}
	due := clock.t.Add(time.Minute)
	if err := s.RetryOutboxWith(ctx, items[0].Claim(), "502", due, row(OpInboundRecord, OutcomeRetrying)); err != nil {
		t.Fatal(err)
	}
	if err := s.KillOutboxWith(ctx, items[1].Claim(), "rejected", row(OpInboundRecord, OutcomeFailed)); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseOutbox(ctx, items[2].Claim(), "paused", due); err != nil {
		t.Fatal(err)
	}
	want := map[int64]struct {
		state    OutboxState
		attempts int
		err      string
	}{a: {OutboxPending, 1, "502"}, b: {OutboxDead, 1, "rejected"}, c: {OutboxPending, 0, "paused"}}
	for id, w := range want {
		it, _ := s.OutboxItemByID(ctx, id)
		if it.State != w.state || it.Attempts != w.attempts || it.LastError != w.err {
			t.Errorf("item %d = %s, %d attempts, %q; want %s, %d, %q", id, it.State, it.Attempts, it.LastError, w.state, w.attempts, w.err)
		}
	}
	if h := historyRows(t, s); len(h) != 2 {
		t.Errorf("history has %d rows, want 2", len(h))
	}
	// Fenced like the rest: a claim that is not the item's writes nothing.
	if err := s.KillOutboxWith(ctx, Claim{ID: a, Attempt: 1}, "late", row(OpInboundRecord, OutcomeFailed)); !errors.Is(err, ErrClaimLost) {
		t.Errorf("kill under a settled claim = %v, want ErrClaimLost", err)
	}
	if h := historyRows(t, s); len(h) != 2 {
		t.Errorf("history has %d rows after a refused kill, want 2", len(h))
	}
}

// TestCompleteOutboxBatch: jobs completed together share a transaction but
// not a fate: a lost claim or a conflicting link undoes only its own job.
func TestCompleteOutboxBatch(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	if err := s.LinkIDs(ctx, KindContact, "c-old", "gc-old"); err != nil {
		t.Fatal(err)
	}
	ok, _, _ := s.Enqueue(ctx, "k", "ok", nil)
	lostID, _, _ := s.Enqueue(ctx, "k", "lost", nil)
	conflict, _, _ := s.Enqueue(ctx, "k", "conflict", nil)
	items := mustClaim(t, s, clock.t, 3, time.Minute)
	row := func(id string) []HistoryEntry {
		return []HistoryEntry{{Operation: OpInboundRecord, System: SystemGHL, LocalID: id, Outcome: OutcomeOK}}
	}
	lost := items[1].Claim()
	lost.Attempt = 7 // not the item's attempt: as if claimed again since
	errs := s.CompleteOutboxBatch(ctx, []Completion{
		{Claim: items[0].Claim(), Links: []IDLink{{KindMessage, "m-ok", "g-ok"}}, Entries: row("m-ok")},
		{Claim: lost, Links: []IDLink{{KindMessage, "m-lost", "g-lost"}}, Entries: row("m-lost")},
		{Claim: items[2].Claim(), Links: []IDLink{{KindMessage, "m-c", "g-c"}, {KindContact, "c-old", "gc-new"}}, Entries: row("m-c")},
		{Claim: Claim{ID: ok}},
	})
	if errs[0] != nil || !errors.Is(errs[1], ErrClaimLost) || !errors.Is(errs[2], ErrIDConflict) || !errors.Is(errs[3], ErrInvalid) {
		t.Fatalf("errs = %v, want nil, ErrClaimLost, ErrIDConflict, ErrInvalid", errs)
	}
	want := map[int64]OutboxState{ok: OutboxDone, lostID: OutboxInFlight, conflict: OutboxInFlight}
	for id, st := range want {
		if it, _ := s.OutboxItemByID(ctx, id); it.State != st {
			t.Errorf("item %d is %s, want %s", id, it.State, st)
		}
	}
	for _, ad := range []string{"m-lost", "m-c"} {
		if _, linked, _ := s.GHLIDFor(ctx, KindMessage, ad); linked {
			t.Errorf("%s was linked by a job that failed", ad)
		}
	}
	if _, linked, _ := s.GHLIDFor(ctx, KindMessage, "m-ok"); !linked {
		t.Error("the good job's link is missing")
	}
	if h := historyRows(t, s); len(h) != 1 || h[0].LocalID != "m-ok" {
		t.Errorf("history = %+v, want only the good job's row", h)
	}
}

func TestCompleteOutboxBatchQueuesFollowUpsWithTheJob(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	s.Enqueue(ctx, "k", "done", nil)
	lostID, _, _ := s.Enqueue(ctx, "k", "lost", nil)
	items := mustClaim(t, s, clock.t, 2, time.Minute)
	lost := items[1].Claim()
	lost.Attempt = 7
	follow := func(key string) []OutboxJob {
		return []OutboxJob{{Kind: "media.fetch", Key: key, Payload: []byte(`{}`)}, {Kind: "media.fetch", Key: "shared"}}
	}
	errs := s.CompleteOutboxBatch(ctx, []Completion{
		{Claim: items[0].Claim(), Follow: follow("after-done")},
		{Claim: lost, Follow: follow("after-lost")},
	})
	if errs[0] != nil || !errors.Is(errs[1], ErrClaimLost) {
		t.Fatalf("errs = %v, want nil and ErrClaimLost", errs)
	}
	counts, err := s.OutboxCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// after-done and shared are queued; after-lost went with its job.
	if counts[OutboxPending] != 2 {
		t.Errorf("pending = %d, want the 2 follow-ups of the job that completed (counts %v)", counts[OutboxPending], counts)
	}
	if it, _ := s.OutboxItemByID(ctx, lostID); it.State != OutboxInFlight {
		t.Errorf("lost job is %s, want still in flight", it.State)
	}
	// A follow-up that is already queued is not queued twice, and a bad
	// one fails its own job only.
	s.Enqueue(ctx, "k", "again", nil)
	items = mustClaim(t, s, clock.t, 1, time.Minute)
	errs = s.CompleteOutboxBatch(ctx, []Completion{{Claim: items[0].Claim(), Follow: []OutboxJob{{Kind: "media.fetch", Key: "shared"}, {Kind: "", Key: "x"}}}})
	if !errors.Is(errs[0], ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid for the follow-up without a kind", errs[0])
	}
	errs = s.CompleteOutboxBatch(ctx, []Completion{{Claim: items[0].Claim(), Follow: follow("after-done")}})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	if counts, _ := s.OutboxCounts(ctx); counts[OutboxPending] != 2 {
		t.Errorf("pending = %d after queueing known keys again, want 2", counts[OutboxPending])
	}
}
