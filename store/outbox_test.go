package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEnqueueDeduplicates(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	id, created, err := s.Enqueue(ctx, "push", "push:ad-msg-1", []byte(`{"v":1}`))
	if err != nil || !created || id == 0 {
		t.Fatalf("first Enqueue = %d %v %v", id, created, err)
	}
	again, created, err := s.Enqueue(ctx, "push", "push:ad-msg-1", []byte(`{"v":2}`))
	if err != nil || created || again != id {
		t.Fatalf("second Enqueue = %d %v %v, want %d false", again, created, err, id)
	}
	it, err := s.OutboxItemByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := OutboxItem{ID: id, Kind: "push", Key: "push:ad-msg-1", Payload: []byte(`{"v":1}`), State: OutboxPending, MaxAttempts: DefaultOutboxMaxAttempts,
		NextAttemptAt: clock.t, CreatedAt: clock.t, UpdatedAt: clock.t}
	if fmt.Sprint(it) != fmt.Sprint(want) {
		t.Errorf("item = %+v\nwant   %+v", it, want)
	}
	if id2, created, err := s.Enqueue(ctx, "push", "push:ad-msg-2", nil); err != nil || !created || id2 == id {
		t.Errorf("nil payload: %d %v %v", id2, created, err)
	}
	for _, kk := range [][2]string{{"", "k"}, {"push", ""}, {" ", "k"}} {
		if _, _, err := s.Enqueue(ctx, kk[0], kk[1], nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("Enqueue(%q, %q) = %v, want ErrInvalid", kk[0], kk[1], err)
		}
	}
}

func TestOutboxLifecycle(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	t0 := clock.t
	var idsInOrder []int64
	for i := range 4 {
		id, _, err := s.Enqueue(ctx, "push", fmt.Sprintf("k%d", i), []byte{byte(i)})
		if err != nil {
			t.Fatal(err)
		}
		idsInOrder = append(idsInOrder, id)
	}
	claimIDs := func(now time.Time, limit int) []int64 {
		t.Helper()
		items, err := s.ClaimDue(ctx, now, limit, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, it := range items {
			if it.State != OutboxInFlight || !it.LeaseUntil.Equal(now.Add(time.Minute)) {
				t.Errorf("claimed item %+v: want in_flight leased until %v", it, now.Add(time.Minute))
			}
			out = append(out, it.ID)
		}
		return out
	}

	// Oldest first, limited.
	if got := claimIDs(t0, 2); !slices.Equal(got, idsInOrder[:2]) {
		t.Fatalf("first claim = %v, want %v", got, idsInOrder[:2])
	}
	// Leased items are not handed out again while the lease runs.
	if got := claimIDs(t0.Add(30*time.Second), 10); !slices.Equal(got, idsInOrder[2:]) {
		t.Fatalf("second claim = %v, want %v", got, idsInOrder[2:])
	}
	if got := claimIDs(t0.Add(30*time.Second), 10); len(got) != 0 {
		t.Fatalf("third claim = %v, want nothing", got)
	}

	a, b, c, d := idsInOrder[0], idsInOrder[1], idsInOrder[2], idsInOrder[3]
	if err := s.CompleteOutbox(ctx, Claim{a, 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryOutbox(ctx, Claim{b, 1}, "429 rate limited", t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.KillOutbox(ctx, c, "validation: phone invalid"); err != nil {
		t.Fatal(err)
	}
	// d's worker "dies": its lease ends at 1m30s and, 30s of backoff
	// later, it is claimed again.
	if got := claimIDs(t0.Add(2*time.Minute), 10); !slices.Equal(got, []int64{d}) {
		t.Fatalf("after lease expiry: claimed %v, want [%d]", got, d)
	}
	if it, _ := s.OutboxItemByID(ctx, d); it.Attempts != 2 {
		t.Errorf("re-claimed item has %d attempts, want 2", it.Attempts)
	}
	// The stalled first worker comes back: its result must not settle the
	// item the second claim now owns.
	if err := s.CompleteOutbox(ctx, Claim{d, 1}); !errors.Is(err, ErrClaimLost) {
		t.Fatalf("stale claim completed the item: %v", err)
	}
	if err := s.RetryOutbox(ctx, Claim{d, 1}, "late", t0.Add(time.Hour)); !errors.Is(err, ErrClaimLost) {
		t.Fatalf("stale claim rescheduled the item: %v", err)
	}
	if err := s.CompleteOutbox(ctx, Claim{d, 2}); err != nil {
		t.Fatal(err)
	}
	// b becomes due at its retry time, not before.
	if got := claimIDs(t0.Add(5*time.Minute-time.Millisecond), 10); len(got) != 0 {
		t.Errorf("retry claimed early: %v", got)
	}
	if got := claimIDs(t0.Add(5*time.Minute), 10); !slices.Equal(got, []int64{b}) {
		t.Errorf("retry not claimed when due: %v", got)
	}
	it, err := s.OutboxItemByID(ctx, b)
	if err != nil || it.Attempts != 2 || it.LastError != "429 rate limited" {
		t.Errorf("retried item = %+v, %v", it, err)
	}
	if it, _ := s.OutboxItemByID(ctx, c); it.State != OutboxDead || it.LastError != "validation: phone invalid" {
		t.Errorf("killed item = %+v", it)
	}
	// Done items keep deduplicating.
	if id, created, _ := s.Enqueue(ctx, "push", "k0", nil); created || id != a {
		t.Errorf("re-enqueue of done work created a new item")
	}

	counts, err := s.OutboxCounts(ctx)
	want := map[OutboxState]int{OutboxPending: 0, OutboxInFlight: 1, OutboxDone: 2, OutboxDead: 1}
	if err != nil || fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("counts = %v, %v; want %v", counts, err, want)
	}
}

func TestOutboxTransitionsAreChecked(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	inFlight, _, _ := s.Enqueue(ctx, "k", "a", nil)
	done, _, _ := s.Enqueue(ctx, "k", "b", nil)
	if items, err := s.ClaimDue(ctx, clock.t, 2, time.Minute); err != nil || len(items) != 2 {
		t.Fatalf("claim: %v %v", items, err)
	}
	if err := s.CompleteOutbox(ctx, Claim{done, 1}); err != nil {
		t.Fatal(err)
	}
	pending, _, _ := s.Enqueue(ctx, "k", "c", nil)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"complete a done item", s.CompleteOutbox(ctx, Claim{done, 1}), ErrInvalid},
		{"retry a done item", s.RetryOutbox(ctx, Claim{done, 1}, "x", clock.t), ErrInvalid},
		{"kill a done item", s.KillOutbox(ctx, done, "x"), ErrInvalid},
		{"complete a pending item", s.CompleteOutbox(ctx, Claim{pending, 1}), ErrInvalid},
		{"retry a pending item", s.RetryOutbox(ctx, Claim{pending, 1}, "x", clock.t), ErrInvalid},
		{"retry without a time", s.RetryOutbox(ctx, Claim{inFlight, 1}, "x", time.Time{}), ErrInvalid},
		{"complete an unknown item", s.CompleteOutbox(ctx, Claim{12345, 1}), ErrNotFound},
		{"kill a pending item", s.KillOutbox(ctx, pending, "gave up"), nil},
		{"kill an in-flight item", s.KillOutbox(ctx, inFlight, "gave up"), nil},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) || (tt.want == nil && tt.err != nil) {
			t.Errorf("%s: err = %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	for _, args := range []struct {
		limit int
		lease time.Duration
	}{{0, time.Minute}, {1, 0}} {
		if _, err := s.ClaimDue(ctx, clock.t, args.limit, args.lease); !errors.Is(err, ErrInvalid) {
			t.Errorf("ClaimDue(limit %d, lease %v) = %v, want ErrInvalid", args.limit, args.lease, err)
		}
	}
	if _, err := s.OutboxItemByID(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("OutboxItemByID(999) = %v", err)
	}
}

// TestClaimDueNeverDoubleClaims has several workers claim at once.
func TestClaimDueNeverDoubleClaims(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	const n = 60
	for i := range n {
		if _, _, err := s.Enqueue(ctx, "k", fmt.Sprint(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				items, err := s.ClaimDue(ctx, clock.t, 3, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(items) == 0 {
					return
				}
				mu.Lock()
				for _, it := range items {
					if seen[it.ID] {
						t.Errorf("item %d claimed twice", it.ID)
					}
					seen[it.ID] = true
				}
				mu.Unlock()
				for _, it := range items {
					if err := s.CompleteOutbox(ctx, it.Claim()); err != nil {
						t.Errorf("complete own claim of %d: %v", it.ID, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("claimed %d items, want %d", len(seen), n)
	}
	if counts, err := s.OutboxCounts(ctx); err != nil || counts[OutboxDone] != n {
		t.Errorf("counts after completing every claim: %v, %v", counts, err)
	}
}

func TestEnqueueBatch(t *testing.T) {
	jobs := func(prefix string, n int) []OutboxJob {
		out := make([]OutboxJob, n)
		for i := range out {
			out[i] = OutboxJob{Kind: "mirror", Key: fmt.Sprintf("%s%d", prefix, i), Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))}
		}
		return out
	}
	tests := []struct {
		name string
		// before is enqueued first, one by one; batch then goes in at once.
		before []OutboxJob
		batch  []OutboxJob
		// wantCreated is EnqueueBatch's count, wantKeys every key in claim order.
		wantCreated int
		wantKeys    []string
	}{
		{name: "empty batch", batch: nil, wantCreated: 0},
		{name: "small batch", batch: jobs("a", 3), wantCreated: 3, wantKeys: []string{"a0", "a1", "a2"}},
		{name: "exactly one full statement", batch: jobs("a", outboxRowsPerInsert), wantCreated: outboxRowsPerInsert},
		{name: "full statements and a tail", batch: jobs("a", 2*outboxRowsPerInsert+5), wantCreated: 2*outboxRowsPerInsert + 5},
		{
			name: "keys already queued are skipped", before: jobs("a", 2), batch: jobs("a", 4),
			wantCreated: 2, wantKeys: []string{"a0", "a1", "a2", "a3"},
		},
		{
			name:        "a key repeated in the batch is queued once",
			batch:       []OutboxJob{{Kind: "k", Key: "x"}, {Kind: "k", Key: "y"}, {Kind: "k", Key: "x", Payload: []byte("second")}},
			wantCreated: 2, wantKeys: []string{"x", "y"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, clock := newClockStore(t)
			for _, j := range tt.before {
				if _, _, err := s.Enqueue(ctx, j.Kind, j.Key, j.Payload); err != nil {
					t.Fatal(err)
				}
			}
			created, err := s.EnqueueBatch(ctx, tt.batch)
			if err != nil || created != tt.wantCreated {
				t.Fatalf("EnqueueBatch = %d, %v; want %d", created, err, tt.wantCreated)
			}
			items, err := s.ClaimDue(ctx, clock.t, 10000, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.wantKeys
			if want == nil {
				for _, j := range tt.batch {
					want = append(want, j.Key)
				}
			}
			var got []string
			for _, it := range items {
				got = append(got, it.Key)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("claimed keys %v, want %v (the batch's order)", got, want)
			}
			// The first version of a key wins, as with Enqueue.
			for _, it := range items {
				if it.Key == "x" && len(it.Payload) != 0 {
					t.Errorf("repeated key kept the later payload %q", it.Payload)
				}
				if it.Key == "a1" && string(it.Payload) != `{"n":1}` {
					t.Errorf("a1 payload %q", it.Payload)
				}
				if !it.CreatedAt.Equal(clock.t) || !it.NextAttemptAt.Equal(clock.t) {
					t.Errorf("item %s created %v due %v, want both %v", it.Key, it.CreatedAt, it.NextAttemptAt, clock.t)
				}
			}
		})
	}
}

func TestEnqueueBatchIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := newClockStore(t)
	big := make([]OutboxJob, 3*outboxRowsPerInsert)
	for i := range big {
		big[i] = OutboxJob{Kind: "k", Key: fmt.Sprint(i)}
	}
	invalid := slices.Clone(big)
	invalid[len(invalid)-1].Key = " "
	noKind := slices.Clone(big)
	noKind[0].Kind = ""
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		jobs []OutboxJob
		want error
	}{
		{"an empty key anywhere", ctx, invalid, ErrInvalid},
		{"an empty kind", ctx, noKind, ErrInvalid},
		{"a cancelled context", cancelled, big, context.Canceled},
	}
	for _, tt := range tests {
		created, err := s.EnqueueBatch(tt.ctx, tt.jobs)
		if !errors.Is(err, tt.want) || created != 0 {
			t.Errorf("%s: EnqueueBatch = %d, %v; want 0, %v", tt.name, created, err, tt.want)
		}
	}
	if counts, err := s.OutboxCounts(ctx); err != nil || counts[OutboxPending] != 0 {
		t.Fatalf("a failed batch left items behind: %v, %v", counts, err)
	}
}

// claimIDs claims up to limit items at the store's clock and returns their ids.
func claimIDs(t *testing.T, s *Store, now time.Time, limit int, lease time.Duration) []int64 {
	t.Helper()
	items, err := s.ClaimDue(context.Background(), now, limit, lease)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	return ids
}

// TestOutboxStuckJobDoesNotBlockQueue is issue 9 item 16: a worker that dies
// holding the first job must not keep the jobs behind it from being claimed,
// and a job that kills its worker every time ends up dead, not in flight.
func TestOutboxStuckJobDoesNotBlockQueue(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	var ids []int64
	for _, key := range []string{"stuck", "second", "third"} {
		id, _, err := s.Enqueue(ctx, "push", key, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	const lease = time.Minute
	// One job at a time, and the worker dies holding each one.
	var claimed []int64
	for range 3 {
		claimed = append(claimed, claimIDs(t, s, clock.t, 1, lease)...)
		clock.t = clock.t.Add(lease + time.Second)
	}
	if !slices.Equal(claimed, ids) {
		t.Fatalf("claims by a worker that keeps dying = %v, want each job once, in order: %v", claimed, ids)
	}
	// Dying eight times over: each job is dead with the reason, and
	// nothing is left in flight or claimable.
	for range 20 {
		claimIDs(t, s, clock.t, 10, lease)
		clock.t = clock.t.Add(2 * time.Hour)
	}
	for _, id := range ids {
		it, err := s.OutboxItemByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if it.State != OutboxDead || it.Attempts != 8 || it.LastError != "worker stopped 8 times while holding this job (lease expired)" {
			t.Errorf("job %d after dying workers: %s, %d attempts, last error %q; want dead after 8 attempts with the reason",
				id, it.State, it.Attempts, it.LastError)
		}
	}
	if got := claimIDs(t, s, clock.t, 10, lease); len(got) != 0 {
		t.Errorf("dead jobs were claimed: %v", got)
	}
}

// TestOutboxReclaimBacksOff checks that a job whose lease ran out waits,
// longer each time, before it is handed out again.
func TestOutboxReclaimBacksOff(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	id, _, err := s.Enqueue(ctx, "upload", "rec-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	const lease = time.Minute
	wantWait := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute,
		8 * time.Minute, 16 * time.Minute, 32 * time.Minute}
	for attempt, wait := range wantWait {
		attempt++
		if got := claimIDs(t, s, clock.t, 1, lease); !slices.Equal(got, []int64{id}) {
			t.Fatalf("attempt %d: claimed %v, want [%d]", attempt, got, id)
		}
		expiry := clock.t.Add(lease)
		clock.t = expiry
		if got := claimIDs(t, s, clock.t, 1, lease); len(got) != 0 {
			t.Fatalf("attempt %d: reclaimed at once when its lease ran out", attempt)
		}
		it, err := s.OutboxItemByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		wantErr := fmt.Sprintf("worker stopped %d time%s while holding this job (lease expired)", attempt, map[bool]string{true: "s"}[attempt > 1])
		if it.State != OutboxPending || !it.NextAttemptAt.Equal(expiry.Add(wait)) || it.LastError != wantErr || it.Attempts != attempt {
			t.Fatalf("attempt %d after its lease ran out: %s, due %v, %d attempts, %q; want pending, due %v (%v after expiry), %q",
				attempt, it.State, it.NextAttemptAt, it.Attempts, it.LastError, expiry.Add(wait), wait, wantErr)
		}
		if got := claimIDs(t, s, expiry.Add(wait-time.Millisecond), 1, lease); len(got) != 0 {
			t.Fatalf("attempt %d: reclaimed before its backoff ended", attempt)
		}
		clock.t = expiry.Add(wait)
	}
	// The eighth claim is the last one allowed.
	if got := claimIDs(t, s, clock.t, 1, lease); len(got) != 1 {
		t.Fatalf("eighth claim: %v", got)
	}
	clock.t = clock.t.Add(lease)
	claimIDs(t, s, clock.t, 1, lease)
	if it, _ := s.OutboxItemByID(ctx, id); it.State != OutboxDead || !it.UpdatedAt.Equal(clock.t) {
		t.Errorf("after the eighth lease ran out: %+v, want dead since %v", it, clock.t)
	}
}

// TestOutboxClaimOrderIsFair checks that a job retried at once does not jump
// ahead of jobs that were due before it.
func TestOutboxClaimOrderIsFair(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	a, _, _ := s.Enqueue(ctx, "push", "a", nil)
	b, _, _ := s.Enqueue(ctx, "push", "b", nil)
	if got := claimIDs(t, s, clock.t, 1, time.Minute); !slices.Equal(got, []int64{a}) {
		t.Fatalf("first claim %v, want [%d]", got, a)
	}
	clock.t = clock.t.Add(time.Second)
	if err := s.RetryOutbox(ctx, Claim{a, 1}, "connection reset", clock.t); err != nil {
		t.Fatal(err)
	}
	if got := claimIDs(t, s, clock.t, 1, time.Minute); !slices.Equal(got, []int64{b}) {
		t.Fatalf("after an immediate retry of %d, claimed %v; want %d, due before it", a, got, b)
	}
	if got := claimIDs(t, s, clock.t, 1, time.Minute); !slices.Equal(got, []int64{a}) {
		t.Fatalf("then claimed %v, want the retried %d", got, a)
	}
}

// TestOutboxRetryCapsAttempts checks that a job failing on its last allowed
// attempt is dead with its last error, not rescheduled.
func TestOutboxRetryCapsAttempts(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	id, _, err := s.Enqueue(ctx, "push", "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 8; attempt++ {
		if got := claimIDs(t, s, clock.t, 1, time.Minute); !slices.Equal(got, []int64{id}) {
			t.Fatalf("attempt %d: claimed %v", attempt, got)
		}
		if err := s.RetryOutbox(ctx, Claim{id, attempt}, fmt.Sprintf("503 unavailable (%d)", attempt), clock.t.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		clock.t = clock.t.Add(time.Second)
	}
	it, err := s.OutboxItemByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if it.State != OutboxDead || it.Attempts != 8 || it.LastError != "gave up after 8 attempts: 503 unavailable (8)" {
		t.Fatalf("after 8 failed attempts: %s, %d attempts, %q; want dead with the last error", it.State, it.Attempts, it.LastError)
	}
	if got := claimIDs(t, s, clock.t.Add(time.Hour), 1, time.Minute); len(got) != 0 {
		t.Errorf("dead job claimed: %v", got)
	}
}

// TestOutboxResultAfterLeaseRanOut checks that a worker whose lease ran out
// cannot settle the job once it has been put back, even before anyone else
// claimed it.
func TestOutboxResultAfterLeaseRanOut(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	id, _, _ := s.Enqueue(ctx, "push", "k", nil)
	items, err := s.ClaimDue(ctx, clock.t, 1, time.Minute)
	if err != nil || len(items) != 1 {
		t.Fatalf("claim: %v %v", items, err)
	}
	stalled := items[0].Claim()
	// Another worker looks for work after the lease ran out: the job is put
	// back, waiting out its backoff.
	clock.t = clock.t.Add(time.Minute)
	claimIDs(t, s, clock.t, 1, time.Minute)
	tests := []struct {
		name string
		err  error
	}{
		{"complete", s.CompleteOutbox(ctx, stalled)},
		{"retry", s.RetryOutbox(ctx, stalled, "late", clock.t)},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, ErrClaimLost) {
			t.Errorf("%s under a claim whose lease ran out = %v, want ErrClaimLost", tt.name, tt.err)
		}
	}
	if it, _ := s.OutboxItemByID(ctx, id); it.State != OutboxPending || it.Attempts != 1 {
		t.Errorf("item = %+v, want pending after one attempt", it)
	}
	// The admin gives up on a job while a worker holds it: the worker's
	// result is refused too.
	clock.t = clock.t.Add(time.Hour)
	items, _ = s.ClaimDue(ctx, clock.t, 1, time.Minute)
	if len(items) != 1 {
		t.Fatalf("reclaim: %v", items)
	}
	if err := s.KillOutbox(ctx, id, "given up by the admin"); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteOutbox(ctx, items[0].Claim()); !errors.Is(err, ErrClaimLost) {
		t.Errorf("complete after a kill = %v, want ErrClaimLost", err)
	}
}

// TestOutboxUpgradeSettlesStuckJob opens a database from before attempts
// were capped, holding the stuck job of issue 9 item 16: in flight, its
// worker long gone, eight attempts. The first claim after the upgrade makes
// it dead and hands out the job behind it.
func TestOutboxUpgradeSettlesStuckJob(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), DatabaseFile)
	db := rawWriter(t, path)
	if err := migrate(ctx, db, path, 2, func() int64 { return 1 }); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	ms := toMillis(t0)
	if _, err := db.Exec(`INSERT INTO outbox (id, kind, key, payload, state, attempts, next_attempt_at, lease_until, created_at, updated_at) VALUES
		(1, 'push', 'stuck', x'', 'in_flight', 8, ?, ?, ?, ?),
		(2, 'push', 'behind', x'', 'pending', 0, ?, 0, ?, ?)`, ms, ms+60_000, ms, ms, ms, ms, ms); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: t0.Add(time.Hour)}
	s, err := open(ctx, path, options{manualIndex: true, now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := claimIDs(t, s, clock.t, 1, time.Minute); !slices.Equal(got, []int64{2}) {
		t.Fatalf("first claim after the upgrade = %v, want [2]", got)
	}
	it, err := s.OutboxItemByID(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if it.State != OutboxDead || it.MaxAttempts != DefaultOutboxMaxAttempts ||
		it.LastError != "gave up after 8 attempts: worker stopped 1 time while holding this job (lease expired)" {
		t.Errorf("stuck job after the upgrade: %+v", it)
	}
}

// TestOutboxExtendLease is the 30-minute recording upload: the worker
// extends its one-minute lease as it goes, and no other worker gets the job
// in the meantime.
func TestOutboxExtendLease(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	upload, _, _ := s.Enqueue(ctx, "upload", "recording-1", nil)
	other, _, _ := s.Enqueue(ctx, "push", "msg-1", nil)
	const lease = time.Minute
	items, err := s.ClaimDue(ctx, clock.t, 1, lease)
	if err != nil || len(items) != 1 || items[0].ID != upload {
		t.Fatalf("claim = %v, %v", items, err)
	}
	c := items[0].Claim()
	start := clock.t
	for clock.t.Sub(start) < 30*time.Minute {
		if err := s.ExtendLease(ctx, c, clock.t.Add(lease)); err != nil {
			t.Fatalf("extend at %v: %v", clock.t.Sub(start), err)
		}
		clock.t = clock.t.Add(40 * time.Second)
		for _, it := range mustClaim(t, s, clock.t, 10, lease) {
			if it.ID == upload {
				t.Fatalf("upload reclaimed %v into it while its worker kept extending", clock.t.Sub(start))
			}
		}
	}
	// A heartbeat that arrives late with an older end never shortens it.
	leased, _ := s.OutboxItemByID(ctx, upload)
	if err := s.ExtendLease(ctx, c, clock.t.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if it, _ := s.OutboxItemByID(ctx, upload); !it.LeaseUntil.Equal(leased.LeaseUntil) {
		t.Errorf("lease shortened from %v to %v", leased.LeaseUntil, it.LeaseUntil)
	}
	if err := s.CompleteOutbox(ctx, c); err != nil {
		t.Fatalf("complete after 30 minutes: %v", err)
	}
	if it, _ := s.OutboxItemByID(ctx, upload); it.State != OutboxDone || it.Attempts != 1 {
		t.Errorf("upload = %+v, want done on its first attempt", it)
	}

	// Fenced by the claim like the results.
	clock.t = clock.t.Add(2 * time.Hour)
	items = mustClaim(t, s, clock.t, 10, lease) // other, reclaimed once more
	if len(items) != 1 || items[0].ID != other || items[0].Attempts < 2 {
		t.Fatalf("reclaim of %d = %+v", other, items)
	}
	stale := Claim{other, items[0].Attempts - 1}
	tests := []struct {
		name  string
		claim Claim
		until time.Time
		want  error
	}{
		{"stale claim", stale, clock.t.Add(2 * time.Hour), ErrClaimLost},
		{"done item", c, clock.t.Add(2 * time.Hour), ErrInvalid},
		{"unknown item", Claim{999, 1}, clock.t.Add(2 * time.Hour), ErrNotFound},
		{"no attempt", Claim{other, 0}, clock.t.Add(2 * time.Hour), ErrInvalid},
		{"zero time", items[0].Claim(), time.Time{}, ErrInvalid},
	}
	for _, tt := range tests {
		if err := s.ExtendLease(ctx, tt.claim, tt.until); !errors.Is(err, tt.want) {
			t.Errorf("%s: ExtendLease = %v, want %v", tt.name, err, tt.want)
		}
	}
	// The current claim still extends after a late check of its lease, as
	// long as no one has put the job back yet.
	if err := s.ExtendLease(ctx, items[0].Claim(), clock.t.Add(3*time.Hour)); err != nil {
		t.Errorf("current claim: %v", err)
	}
}

func mustClaim(t *testing.T, s *Store, now time.Time, limit int, lease time.Duration) []OutboxItem {
	t.Helper()
	items, err := s.ClaimDue(context.Background(), now, limit, lease)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// TestOutboxReplayDead checks that dead jobs can be run again, one or all
// (of a kind), each with its full count of attempts.
func TestOutboxReplayDead(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	ids := map[string]int64{}
	for _, k := range []string{"push-a", "push-b", "upload-a", "upload-b", "push-live"} {
		kind := strings.SplitN(k, "-", 2)[0]
		id, _, err := s.Enqueue(ctx, kind, k, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids[k] = id
	}
	// All but push-live die: three by the admin, push-b by its cap.
	for _, k := range []string{"push-a", "upload-a", "upload-b"} {
		if err := s.KillOutbox(ctx, ids[k], "validation: "+k); err != nil {
			t.Fatal(err)
		}
	}
	// push-live stays in flight from here on, out of the way.
	if items := mustClaim(t, s, clock.t, 2, 24*time.Hour); len(items) != 2 {
		t.Fatalf("claim: %+v", items)
	}
	for attempt := 1; attempt <= DefaultOutboxMaxAttempts; attempt++ {
		if attempt > 1 {
			if items := mustClaim(t, s, clock.t, 1, time.Minute); len(items) != 1 || items[0].Key != "push-b" {
				t.Fatalf("claim %d: %+v", attempt, items)
			}
		}
		if err := s.RetryOutbox(ctx, Claim{ids["push-b"], attempt}, "429", clock.t); err != nil {
			t.Fatal(err)
		}
	}
	if it, _ := s.OutboxItemByID(ctx, ids["push-b"]); it.State != OutboxDead {
		t.Fatalf("push-b = %+v, want dead", it)
	}

	clock.t = clock.t.Add(time.Hour)
	if err := s.ReplayOutbox(ctx, ids["push-b"]); err != nil {
		t.Fatal(err)
	}
	it, _ := s.OutboxItemByID(ctx, ids["push-b"])
	if it.State != OutboxPending || it.Attempts != 0 || !it.NextAttemptAt.Equal(clock.t) || it.LastError != "gave up after 8 attempts: 429" {
		t.Errorf("replayed item = %+v; want pending, due now, attempts reset, its last error kept", it)
	}
	for _, tt := range []struct {
		name string
		id   int64
		want error
	}{
		{"a pending item", ids["push-b"], ErrInvalid},
		{"an in-flight item", ids["push-live"], ErrInvalid},
		{"an unknown item", 12345, ErrNotFound},
	} {
		if err := s.ReplayOutbox(ctx, tt.id); !errors.Is(err, tt.want) {
			t.Errorf("replay %s = %v, want %v", tt.name, err, tt.want)
		}
	}

	if n, err := s.ReplayDeadOutbox(ctx, "upload"); err != nil || n != 2 {
		t.Fatalf("replay dead uploads = %d, %v; want 2", n, err)
	}
	if it, _ := s.OutboxItemByID(ctx, ids["push-a"]); it.State != OutboxDead {
		t.Errorf("replaying uploads replayed a push: %+v", it)
	}
	if n, err := s.ReplayDeadOutbox(ctx, ""); err != nil || n != 1 {
		t.Fatalf("replay all dead = %d, %v; want 1", n, err)
	}
	if n, err := s.ReplayDeadOutbox(ctx, ""); err != nil || n != 0 {
		t.Fatalf("replay with nothing dead = %d, %v", n, err)
	}
	// Every replayed job is claimable and has its full count of attempts.
	var got []string
	for _, it := range mustClaim(t, s, clock.t, 10, time.Minute) {
		got = append(got, it.Key)
		if it.Attempts != 1 {
			t.Errorf("replayed %s claimed as attempt %d, want 1", it.Key, it.Attempts)
		}
	}
	slices.Sort(got)
	if want := []string{"push-a", "push-b", "upload-a", "upload-b"}; !slices.Equal(got, want) {
		t.Errorf("claimed after replay: %v, want %v", got, want)
	}
}

// TestOutboxCountsByKind checks the dashboard's queue depth per kind.
func TestOutboxCountsByKind(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	if counts, err := s.OutboxCountsByKind(ctx); err != nil || len(counts) != 0 {
		t.Fatalf("empty outbox: %v, %v", counts, err)
	}
	for i := range 3 {
		s.Enqueue(ctx, "push", fmt.Sprint("p", i), nil)
	}
	s.Enqueue(ctx, "upload", "u0", nil)
	items := mustClaim(t, s, clock.t, 2, time.Minute) // p0, p1
	if err := s.CompleteOutbox(ctx, items[0].Claim()); err != nil {
		t.Fatal(err)
	}
	if err := s.KillOutbox(ctx, items[1].ID, "x"); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, clock.t, 1, time.Minute) // p2
	counts, err := s.OutboxCountsByKind(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[OutboxState]int{
		"push":   {OutboxPending: 0, OutboxInFlight: 1, OutboxDone: 1, OutboxDead: 1},
		"upload": {OutboxPending: 1, OutboxInFlight: 0, OutboxDone: 0, OutboxDead: 0},
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("counts by kind = %v\nwant %v", counts, want)
	}
	total, err := s.OutboxCounts(ctx)
	if wantTotal := map[OutboxState]int{OutboxPending: 1, OutboxInFlight: 1, OutboxDone: 1, OutboxDead: 1}; err != nil || fmt.Sprint(total) != fmt.Sprint(wantTotal) {
		t.Errorf("counts = %v, %v; want %v", total, err, wantTotal)
	}
}

// TestOutboxMaxAttemptsPerJob checks that a job's own cap is kept, and that
// the backoff stops growing at its ceiling for jobs allowed many attempts.
func TestOutboxMaxAttemptsPerJob(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	if _, err := s.EnqueueBatch(ctx, []OutboxJob{
		{Kind: "upload", Key: "once", MaxAttempts: 1},
		{Kind: "push", Key: "patient", MaxAttempts: 12},
		{Kind: "push", Key: "default"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnqueueBatch(ctx, []OutboxJob{{Kind: "push", Key: "bad", MaxAttempts: -1}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative max attempts: %v, want ErrInvalid", err)
	}
	const lease = time.Minute
	// The worker dies holding every job, every time. Record how long
	// "patient" (id 2) waits after each lease runs out.
	var waits []time.Duration
	for range 40 {
		mustClaim(t, s, clock.t, 10, lease)
		clock.t = clock.t.Add(lease)
		mustClaim(t, s, clock.t, 10, lease) // puts them back
		if it, _ := s.OutboxItemByID(ctx, 2); it.State == OutboxPending {
			waits = append(waits, it.NextAttemptAt.Sub(clock.t))
		}
		clock.t = clock.t.Add(2 * time.Hour)
	}
	m := time.Minute
	wantWaits := []time.Duration{m / 2, m, 2 * m, 4 * m, 8 * m, 16 * m, 32 * m, 60 * m, 60 * m, 60 * m, 60 * m}
	if !slices.Equal(waits, wantWaits) {
		t.Errorf("backoffs of a job allowed 12 attempts = %v, want %v", waits, wantWaits)
	}
	want := map[string]int{"once": 1, "patient": 12, "default": DefaultOutboxMaxAttempts}
	for id := int64(1); id <= 3; id++ {
		it, err := s.OutboxItemByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if it.State != OutboxDead || it.Attempts != want[it.Key] || it.MaxAttempts != want[it.Key] {
			t.Errorf("%s: %s after %d of %d attempts, want dead after %d", it.Key, it.State, it.Attempts, it.MaxAttempts, want[it.Key])
		}
	}
}

// TestClaimDueAcrossProcesses has workers in two processes (two stores on
// one file) claim, complete and die holding jobs while time runs on, so that
// both settle expired leases concurrently. No attempt is handed out twice,
// every job ends done or dead, and each done job was completed once.
func TestClaimDueAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), DatabaseFile)
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0} // never set again: the workers' time is tick
	var stores [2]*Store
	for i := range stores {
		s, err := open(ctx, path, options{manualIndex: true, now: clock.now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	const n, maxAttempts = 150, 3
	jobs := make([]OutboxJob, n)
	for i := range jobs {
		jobs[i] = OutboxJob{Kind: "k", Key: fmt.Sprint(i), MaxAttempts: maxAttempts}
	}
	if _, err := stores[0].EnqueueBatch(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	var (
		mu        sync.Mutex
		tick      int
		handedOut = map[Claim]bool{}
		completed = map[int64]int{}
	)
	var wg sync.WaitGroup
	for w := range 4 {
		s := stores[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 1000; round++ {
				mu.Lock()
				tick++
				now := t0.Add(time.Duration(tick) * 5 * time.Second)
				mu.Unlock()
				items, err := s.ClaimDue(ctx, now, 4, 20*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				for i, it := range items {
					mu.Lock()
					if handedOut[it.Claim()] {
						t.Errorf("claim %+v handed out twice", it.Claim())
					}
					handedOut[it.Claim()] = true
					mu.Unlock()
					if (int(it.ID)+it.Attempts+i)%3 == 0 {
						continue // the worker dies holding it
					}
					err := s.CompleteOutbox(ctx, it.Claim())
					switch {
					case err == nil:
						mu.Lock()
						completed[it.ID]++
						mu.Unlock()
					case !errors.Is(err, ErrClaimLost):
						t.Errorf("complete %+v: %v", it.Claim(), err)
					}
				}
				counts, err := s.OutboxCounts(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if counts[OutboxDone]+counts[OutboxDead] == n {
					return
				}
			}
			t.Error("the outbox never drained")
		}()
	}
	wg.Wait()
	stalls, dead := 0, 0
	for id := int64(1); id <= n; id++ {
		it, err := stores[1].OutboxItemByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		stalls += it.Stalls
		if it.State == OutboxDead {
			dead++
		}
		switch {
		case it.State == OutboxDone && completed[id] == 1:
		case it.State == OutboxDead && completed[id] == 0 && it.Attempts == maxAttempts:
		default:
			t.Errorf("job %d: %s after %d attempts, completed %d times", id, it.State, it.Attempts, completed[id])
		}
	}
	t.Logf("%d claims, %d leases ran out, %d jobs dead", len(handedOut), stalls, dead)
	if stalls == 0 {
		t.Error("no lease ran out: the test did not exercise settling expired leases")
	}
}

// TestClaimReadsTheIndexInOrder keeps a claim's cost independent of the
// done items in the outbox: the due items come straight from the pending
// index, in claim order, without a table scan or a sort.
func TestClaimReadsTheIndexInOrder(t *testing.T) {
	s, _ := newClockStore(t)
	plan := queryPlan(t, s, dueInClaimOrderSQL, 0, 1)
	if len(plan) != 1 || !strings.Contains(plan[0], "USING COVERING INDEX outbox_pending") {
		t.Errorf("claim query plan = %q, want one search of outbox_pending and no sort", plan)
	}
}

// BenchmarkOutboxDrain measures a worker's round trip through a backlog:
// claim a batch, complete each item under its claim, until the queue is
// empty. The backlog sits behind as many done items, as in a store that has
// been running for a while.
func BenchmarkOutboxDrain(b *testing.B) {
	ctx := context.Background()
	const backlog, batch = 10_000, 100
	jobs := func(prefix string) []OutboxJob {
		out := make([]OutboxJob, backlog)
		for i := range out {
			out[i] = OutboxJob{Kind: "mirror", Key: fmt.Sprintf("%s%d", prefix, i), Payload: []byte(`{"message":"m"}`)}
		}
		return out
	}
	s, clock := newClockStore(b)
	drain := func() int {
		n := 0
		for {
			items, err := s.ClaimDue(ctx, clock.t, batch, time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			if len(items) == 0 {
				return n
			}
			for _, it := range items {
				if err := s.CompleteOutbox(ctx, it.Claim()); err != nil {
					b.Fatal(err)
				}
			}
			n += len(items)
		}
	}
	if _, err := s.EnqueueBatch(ctx, jobs("old")); err != nil {
		b.Fatal(err)
	}
	drain()
	round, items := 0, 0
	for b.Loop() {
		b.StopTimer()
		round++
		if _, err := s.EnqueueBatch(ctx, jobs(fmt.Sprint(round, "/"))); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		items += drain()
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkOutboxClaim measures ClaimDue alone: a worker pool taking a
// 10,000-item backlog in batches of 100, with 50,000 done items before it.
func BenchmarkOutboxClaim(b *testing.B) {
	ctx := context.Background()
	const done, backlog, batch = 50_000, 10_000, 100
	s, clock := newClockStore(b)
	jobs := make([]OutboxJob, done)
	for i := range jobs {
		jobs[i] = OutboxJob{Kind: "mirror", Key: fmt.Sprint("done", i)}
	}
	if _, err := s.EnqueueBatch(ctx, jobs); err != nil {
		b.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE outbox SET state = 'done'`); err != nil {
		b.Fatal(err)
	}
	round, items := 0, 0
	for b.Loop() {
		b.StopTimer()
		round++
		jobs = jobs[:backlog]
		for i := range jobs {
			jobs[i] = OutboxJob{Kind: "mirror", Key: fmt.Sprint(round, "/", i)}
		}
		if _, err := s.EnqueueBatch(ctx, jobs); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for {
			claimed, err := s.ClaimDue(ctx, clock.t, batch, time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			if len(claimed) == 0 {
				break
			}
			items += len(claimed)
		}
		b.StopTimer()
		if _, err := s.w.ExecContext(ctx, `UPDATE outbox SET state = 'done' WHERE state = 'in_flight'`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkOutboxCountsByKind measures the count behind the Sync screen,
// the max-changes guard and `parley sync --once`'s settling check, over
// 100,000 jobs of a first backfill (payloads of a real message's size),
// most of them done.
func BenchmarkOutboxCountsByKind(b *testing.B) {
	ctx := context.Background()
	const total = 100_000
	s, _ := newClockStore(b)
	payload := []byte(`{"conversation":"` + strings.Repeat("c", 24) + `","message":"` + strings.Repeat("m", 24) +
		`","body":"` + strings.Repeat("b", 200) + `"}`)
	kinds := []string{"mirror.message", "mirror.message", "mirror.message", "mirror.status", "media.call"}
	jobs := make([]OutboxJob, total)
	for i := range jobs {
		jobs[i] = OutboxJob{Kind: kinds[i%len(kinds)], Key: fmt.Sprint("job", i), Payload: payload}
	}
	if _, err := s.EnqueueBatch(ctx, jobs); err != nil {
		b.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE outbox SET state = 'done' WHERE id % 10 != 0`); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		counts, err := s.OutboxCountsByKind(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n := counts["mirror.message"][OutboxDone] + counts["mirror.message"][OutboxPending]; n != total*3/5 {
			b.Fatalf("mirror.message jobs counted: %d, want %d", n, total*3/5)
		}
	}
}

// TestOutboxBusyReadsOnlyThePartialIndexes checks OutboxBusy's answers
// and that it stays cheap on a big outbox: no scan of the table.
func TestOutboxBusyReadsOnlyThePartialIndexes(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	busy := func() (bool, int) {
		t.Helper()
		p, f, err := s.OutboxBusy(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return p, f
	}
	if p, f := busy(); p || f != 0 {
		t.Fatalf("empty outbox: pending %v, in flight %d", p, f)
	}
	if _, err := s.EnqueueBatch(ctx, []OutboxJob{{Kind: "k", Key: "a"}, {Kind: "k", Key: "b"}, {Kind: "k", Key: "c"}}); err != nil {
		t.Fatal(err)
	}
	items, err := s.ClaimDue(ctx, clock.t, 2, time.Minute)
	if err != nil || len(items) != 2 {
		t.Fatalf("claim: %d items, %v", len(items), err)
	}
	if p, f := busy(); !p || f != 2 {
		t.Fatalf("one pending, two claimed: pending %v, in flight %d", p, f)
	}
	for _, it := range items {
		if err := s.CompleteOutbox(ctx, it.Claim()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ClaimDue(ctx, clock.t, 5, time.Minute); err != nil {
		t.Fatal(err)
	}
	if p, f := busy(); p || f != 1 {
		t.Fatalf("two done, one claimed: pending %v, in flight %d", p, f)
	}

	for _, detail := range queryPlan(t, s, outboxBusySQL) {
		if strings.Contains(detail, "outbox") && !strings.Contains(detail, "INDEX outbox_pending") && !strings.Contains(detail, "INDEX outbox_in_flight") {
			t.Errorf("OutboxBusy scans the table: %q", detail)
		}
	}
}
