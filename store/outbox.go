package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// OutboxState is where an outbox item is in its life.
type OutboxState string

// Outbox states: pending waits for NextAttemptAt, in_flight is claimed by a
// worker until LeaseUntil, done is final, and dead waits for someone to
// replay it (ReplayOutbox, ReplayDeadOutbox) once its cause is fixed.
const (
	OutboxPending  OutboxState = "pending"
	OutboxInFlight OutboxState = "in_flight"
	OutboxDone     OutboxState = "done"
	OutboxDead     OutboxState = "dead"
)

// OutboxItem is one unit of pending work, e.g. a message to push to GHL.
type OutboxItem struct {
	// ID identifies the item in its Claim, KillOutbox and ReplayOutbox.
	ID int64
	// Kind tells the worker how to interpret Payload.
	Kind string
	// Key deduplicates work: enqueueing an existing key does nothing.
	Key string
	// Payload is the work itself, opaque to the store.
	Payload []byte
	// State is where the item is in its life.
	State OutboxState
	// Attempts counts claims, including the current one.
	Attempts int
	// MaxAttempts caps Attempts: a job that fails or loses its worker on
	// its last attempt becomes dead instead of being tried again.
	MaxAttempts int
	// Stalls counts the claims that ended with the lease running out: the
	// worker died or hung while holding the job.
	Stalls int
	// NextAttemptAt is when a pending item becomes due.
	NextAttemptAt time.Time
	// CreatedAt and UpdatedAt are when the item was enqueued and last
	// changed state.
	CreatedAt time.Time
	UpdatedAt time.Time
	// LeaseUntil is when an in_flight claim expires; zero otherwise.
	LeaseUntil time.Time
	// LastError is why the last attempt failed or the item was killed.
	LastError string
}

const outboxColumns = `id, kind, key, payload, state, attempts, max_attempts, stalls, next_attempt_at, created_at, updated_at, lease_until, last_error`

func scanOutbox(sc rowScanner) (OutboxItem, error) {
	var it OutboxItem
	var state string
	var next, created, updated, lease int64
	err := sc.Scan(&it.ID, &it.Kind, &it.Key, &it.Payload, &state, &it.Attempts, &it.MaxAttempts, &it.Stalls, &next, &created, &updated, &lease, &it.LastError)
	it.State = OutboxState(state)
	it.NextAttemptAt, it.CreatedAt, it.UpdatedAt, it.LeaseUntil = fromMillis(next), fromMillis(created), fromMillis(updated), fromMillis(lease)
	return it, err
}

// DefaultOutboxMaxAttempts is how many times a job is claimed before it is
// given up on, unless its OutboxJob says otherwise. Eight attempts with
// ClaimDue's backoff after each crash span about an hour: long enough for
// an outage to pass, short enough that a poison job shows up as dead the
// same day rather than crashing workers or burning quota forever.
const DefaultOutboxMaxAttempts = 8

// Enqueue adds work that is due immediately. If an item with the same key
// exists, in any state, nothing changes and created is false: the same work
// is never queued twice. The job may be claimed DefaultOutboxMaxAttempts
// times.
func (s *Store) Enqueue(ctx context.Context, kind, key string, payload []byte) (id int64, created bool, err error) {
	if strings.TrimSpace(kind) == "" {
		return 0, false, fmt.Errorf("enqueue: %w", invalidf("kind is empty"))
	}
	if strings.TrimSpace(key) == "" {
		return 0, false, fmt.Errorf("enqueue %s: %w", kind, invalidf("key is empty"))
	}
	if payload == nil {
		payload = []byte{}
	}
	now := toMillis(s.now())
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO outbox (kind, key, payload, state, max_attempts, next_attempt_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id`,
			kind, key, payload, string(OutboxPending), DefaultOutboxMaxAttempts, now, now, now).Scan(&id)
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT id FROM outbox WHERE key = ?`, key).Scan(&id)
	})
	if err != nil {
		return 0, false, fmt.Errorf("enqueue %s %q: %w", kind, key, err)
	}
	return id, created, nil
}

// OutboxJob is one item to enqueue with EnqueueBatch.
type OutboxJob struct {
	// Kind tells the worker how to interpret Payload.
	Kind string
	// Key deduplicates work, as in Enqueue.
	Key string
	// Payload is the work itself; nil is stored as empty.
	Payload []byte
	// MaxAttempts is how many times the job may be claimed before it is
	// dead; zero means DefaultOutboxMaxAttempts. A job that is costly to
	// repeat (a large upload) may want fewer, a cheap idempotent one more.
	MaxAttempts int
}

// outboxRowsPerInsert is how many rows one INSERT carries in EnqueueBatch:
// as with history, one statement per row would cost more in database/sql
// and the driver than the rows themselves.
const outboxRowsPerInsert = 64

func insertOutboxSQL(rows int) string {
	return `INSERT INTO outbox (kind, key, payload, state, max_attempts, next_attempt_at, created_at, updated_at) VALUES ` +
		strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?), `, rows), ", ") +
		` ON CONFLICT (key) DO NOTHING`
}

// EnqueueBatch adds many items, due immediately, in one transaction: either
// all are stored or none (an error, a cancelled ctx). Items whose key is
// already in the outbox, in any state, or earlier in the same batch, are
// skipped as Enqueue skips them; created counts the items that are new.
// Items keep their order: they are claimed in the order they were given.
func (s *Store) EnqueueBatch(ctx context.Context, jobs []OutboxJob) (created int, err error) {
	if err := validateOutboxJobs(jobs); err != nil {
		return 0, fmt.Errorf("enqueue batch: %w", err)
	}
	if len(jobs) == 0 {
		return 0, nil
	}
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		created, err = s.enqueueTx(ctx, tx, jobs)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("enqueue batch of %d items: %w", len(jobs), err)
	}
	return created, nil
}

// After a lease runs out the job waits outboxStallBackoff, doubling with
// each attempt up to outboxStallBackoffMax, counted from when the lease
// ended. A job that crashes its worker must not be handed straight back,
// to the next worker or the restarted process, ahead of the rest of the
// queue; the cap keeps a long-dead process from pushing work into tomorrow.
const (
	outboxStallBackoff    = 30 * time.Second
	outboxStallBackoffMax = time.Hour
)

// stallBackoff is how long a job waits after the lease of its attempt-th
// claim ran out.
func stallBackoff(attempt int) time.Duration {
	d := outboxStallBackoff
	for i := 1; i < attempt && d < outboxStallBackoffMax; i++ {
		d *= 2
	}
	return min(d, outboxStallBackoffMax)
}

// ClaimDue hands up to limit pending items that are due to a worker, those
// due longest first (then in the order they were enqueued). Claimed items
// become in_flight until now+lease, with one more attempt counted.
//
// Items whose lease ran out by now, because their worker died or hung, are
// settled first: back to pending after a backoff that grows with each
// attempt, or dead once they have had MaxAttempts. So a job that kills its
// worker neither blocks the queue nor jumps it. Everything happens in one
// write transaction, so two workers, in this process or another, never
// claim the same item.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]OutboxItem, error) {
	return s.claimDue(ctx, now, limit, lease, nil)
}

// ClaimDueOf is ClaimDue for the items of the given kinds only, for a
// worker pool that handles some kinds and must leave the others to theirs.
// Expired leases are settled for every kind, as in ClaimDue.
func (s *Store) ClaimDueOf(ctx context.Context, now time.Time, limit int, lease time.Duration, kinds ...string) ([]OutboxItem, error) {
	if len(kinds) == 0 {
		return nil, fmt.Errorf("claim outbox items: %w", invalidf("no kinds given"))
	}
	return s.claimDue(ctx, now, limit, lease, kinds)
}

func (s *Store) claimDue(ctx context.Context, now time.Time, limit int, lease time.Duration, kinds []string) ([]OutboxItem, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("claim outbox items: %w", invalidf("limit %d must be positive", limit))
	}
	if lease <= 0 {
		return nil, fmt.Errorf("claim outbox items: %w", invalidf("lease %s must be positive", lease))
	}
	n, until, updated := toMillis(now), toMillis(now.Add(lease)), toMillis(s.now())
	self := s.holderID()
	var items []OutboxItem
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.releaseDeadHolders(ctx, tx, self, n); err != nil {
			return err
		}
		if err := s.settleExpiredLeases(ctx, tx, n, updated); err != nil {
			return err
		}
		due, args := dueInClaimOrderSQL, []any{until, updated, self, n, limit}
		if len(kinds) > 0 {
			due = dueOfKindsSQL(len(kinds))
			args = []any{until, updated, self, n}
			for _, k := range kinds {
				args = append(args, k)
			}
			args = append(args, limit)
		}
		var err error
		items, err = queryAll(ctx, txQuerier{s, tx}, scanOutbox, `UPDATE outbox
			SET state = 'in_flight', lease_until = ?, attempts = attempts + 1, updated_at = ?, holder = ?
			WHERE id IN (`+due+`)
			RETURNING `+outboxColumns, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox items: %w", err)
	}
	// RETURNING has no defined order.
	slices.SortFunc(items, func(a, b OutboxItem) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return items, nil
}

// dueInClaimOrderSQL selects the ids of up to ? items due by ?, in claim
// order. The partial index outbox_pending is ordered by (next_attempt_at,
// rowid), so this reads the due items in order with no sort and without
// walking past done ones.
const dueInClaimOrderSQL = `SELECT id FROM outbox
	WHERE state = 'pending' AND next_attempt_at <= ?
	ORDER BY next_attempt_at, id LIMIT ?`

// dueOfKindsSQL is dueInClaimOrderSQL for items of n kinds (the kinds
// follow the time in the arguments). It reads the same index in the same
// order, skipping the other kinds' rows.
func dueOfKindsSQL(n int) string {
	return `SELECT id FROM outbox
	WHERE state = 'pending' AND next_attempt_at <= ? AND kind IN (` + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + `)
	ORDER BY next_attempt_at, id LIMIT ?`
}

// expiredLease is an in_flight item whose lease ran out.
type expiredLease struct {
	id                            int64
	attempts, maxAttempts, stalls int
	leaseUntil                    int64
}

// settleExpiredLeases puts the items whose lease ran out by now back to
// pending, due after a backoff, or makes them dead when that was their last
// attempt.
func (s *Store) settleExpiredLeases(ctx context.Context, tx *sql.Tx, now, updated int64) error {
	expired, err := queryAll(ctx, txQuerier{s, tx}, func(sc rowScanner) (expiredLease, error) {
		var e expiredLease
		return e, sc.Scan(&e.id, &e.attempts, &e.maxAttempts, &e.stalls, &e.leaseUntil)
	}, `SELECT id, attempts, max_attempts, stalls, lease_until FROM outbox WHERE state = 'in_flight' AND lease_until <= ?`, now)
	if err != nil {
		return err
	}
	for _, e := range expired {
		stalls := e.stalls + 1
		why := stallText(stalls)
		if e.attempts >= e.maxAttempts {
			if stalls != e.attempts {
				why = gaveUpText(e.attempts, why)
			}
			_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'dead', lease_until = 0, stalls = ?, last_error = ?, updated_at = ? WHERE id = ?`,
				stalls, why, updated, e.id)
		} else {
			due := toMillis(fromMillis(e.leaseUntil).Add(stallBackoff(e.attempts)))
			_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'pending', lease_until = 0, stalls = ?, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?`,
				stalls, why, due, updated, e.id)
		}
		if err != nil {
			return fmt.Errorf("settle item %d whose lease ran out: %w", e.id, err)
		}
	}
	return nil
}

func stallText(stalls int) string {
	return fmt.Sprintf("worker stopped %s while holding this job (lease expired)", plural(stalls, "time"))
}

func gaveUpText(attempts int, last string) string {
	return fmt.Sprintf("gave up after %s: %s", plural(attempts, "attempt"), last)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Claim identifies one claim of an outbox item: the item and the attempt
// ClaimDue handed out. A worker reports back with it, so that a worker whose
// lease ran out (it stalled, the item was claimed again) cannot settle the
// item under the newer claim.
type Claim struct {
	ID      int64
	Attempt int
}

// Claim returns the claim this item was handed out under by ClaimDue.
func (it OutboxItem) Claim() Claim { return Claim{ID: it.ID, Attempt: it.Attempts} }

// CompleteOutbox marks a claimed item done. It fails with [ErrClaimLost] if
// the item has been claimed again since, or its lease ran out.
func (s *Store) CompleteOutbox(ctx context.Context, c Claim) error {
	return s.finishOutbox(ctx, "complete", c, []OutboxState{OutboxInFlight}, func(outboxRow) (string, []any) {
		return `state = 'done', lease_until = 0, last_error = '', updated_at = ?`, []any{toMillis(s.now())}
	})
}

// RetryOutbox puts a claimed item back to pending, due at `at`, remembering
// why this attempt failed. If this was the item's last allowed attempt it
// becomes dead instead, with that error. It fails with [ErrClaimLost] if the
// item has been claimed again since, or its lease ran out.
func (s *Store) RetryOutbox(ctx context.Context, c Claim, errText string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("retry outbox item %d: %w", c.ID, invalidf("retry time is zero"))
	}
	return s.finishOutbox(ctx, "retry", c, []OutboxState{OutboxInFlight}, func(r outboxRow) (string, []any) {
		if r.attempts >= r.maxAttempts {
			return `state = 'dead', lease_until = 0, last_error = ?, updated_at = ?`,
				[]any{gaveUpText(r.attempts, errText), toMillis(s.now())}
		}
		return `state = 'pending', lease_until = 0, last_error = ?, next_attempt_at = ?, updated_at = ?`,
			[]any{errText, toMillis(at), toMillis(s.now())}
	})
}

// ExtendLease keeps a claimed item leased until `until`, for work that takes
// longer than the lease it was claimed with (a long upload): the worker calls
// it while it still runs, so the item is not given to another worker. A lease
// is never shortened. It fails with [ErrClaimLost] if the item has been
// claimed again since, or its lease ran out and it was put back.
func (s *Store) ExtendLease(ctx context.Context, c Claim, until time.Time) error {
	if c.Attempt <= 0 {
		return fmt.Errorf("extend lease of outbox item %d: %w", c.ID, invalidf("claim has no attempt; use the claim ClaimDue handed out"))
	}
	if until.IsZero() {
		return fmt.Errorf("extend lease of outbox item %d: %w", c.ID, invalidf("lease end is zero"))
	}
	return s.finishOutbox(ctx, "extend lease of", c, []OutboxState{OutboxInFlight}, func(outboxRow) (string, []any) {
		return `lease_until = max(lease_until, ?)`, []any{toMillis(until)}
	})
}

// KillOutbox gives up on an item that is pending or in flight: it becomes
// dead and is never claimed again, but stays visible with its error. It
// takes an id, not a claim, because the admin can give up on any item.
func (s *Store) KillOutbox(ctx context.Context, id int64, errText string) error {
	return s.finishOutbox(ctx, "kill", Claim{ID: id}, []OutboxState{OutboxPending, OutboxInFlight}, func(outboxRow) (string, []any) {
		return `state = 'dead', lease_until = 0, last_error = ?, updated_at = ?`, []any{errText, toMillis(s.now())}
	})
}

// replaySet makes a dead item pending again, due now, with its attempts
// counted afresh so that it gets its full MaxAttempts. The last error stays
// until the next attempt replaces it: it is why the item died.
const replaySet = `state = 'pending', attempts = 0, stalls = 0, lease_until = 0, next_attempt_at = ?, updated_at = ?`

// ReplayOutbox gives one dead item another run, once whatever killed it has
// been fixed. Only dead items can be replayed.
func (s *Store) ReplayOutbox(ctx context.Context, id int64) error {
	return s.finishOutbox(ctx, "replay", Claim{ID: id}, []OutboxState{OutboxDead}, func(outboxRow) (string, []any) {
		now := toMillis(s.now())
		return replaySet, []any{now, now}
	})
}

// ReplayDeadOutbox replays every dead item, or only those of kind when kind
// is not empty, as ReplayOutbox does, and returns how many it replayed.
func (s *Store) ReplayDeadOutbox(ctx context.Context, kind string) (int, error) {
	now := toMillis(s.now())
	res, err := s.w.ExecContext(ctx, `UPDATE outbox SET `+replaySet+` WHERE state = 'dead' AND (? = '' OR kind = ?)`,
		now, now, kind, kind)
	if err != nil {
		return 0, fmt.Errorf("replay dead outbox items %s: %w", kind, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("replay dead outbox items %s: %w", kind, err)
	}
	return int(n), nil
}

// outboxRow is what finishOutbox reads of an item before changing it.
type outboxRow struct {
	state                 OutboxState
	attempts, maxAttempts int
}

// finishOutbox applies the assignments set returns to the item if it is in
// one of the from states and, for a claim with an attempt, still under that
// claim.
func (s *Store) finishOutbox(ctx context.Context, verb string, c Claim, from []OutboxState, set func(outboxRow) (string, []any)) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error { return s.finishOutboxTx(ctx, tx, c, from, set) })
	if err != nil {
		return fmt.Errorf("%s outbox item %d: %w", verb, c.ID, err)
	}
	return nil
}

// finishOutboxTx is finishOutbox inside tx, for callers that write more in
// the same transaction.
func (s *Store) finishOutboxTx(ctx context.Context, tx *sql.Tx, c Claim, from []OutboxState, set func(outboxRow) (string, []any)) error {
	id := c.ID
	var r outboxRow
	var state string
	err := s.txQueryRow(ctx, tx, `SELECT state, attempts, max_attempts FROM outbox WHERE id = ?`, id).Scan(&state, &r.attempts, &r.maxAttempts)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	r.state = OutboxState(state)
	if c.Attempt != 0 {
		switch {
		case r.attempts > c.Attempt:
			return fmt.Errorf("%w (claimed again since: attempt %d, this was attempt %d)", ErrClaimLost, r.attempts, c.Attempt)
		// Settled behind the worker's back, not claimed again yet.
		case r.attempts == c.Attempt && r.state == OutboxPending:
			return fmt.Errorf("%w (attempt %d's lease ran out and the item was put back in the queue)", ErrClaimLost, c.Attempt)
		case r.attempts == c.Attempt && r.state == OutboxDead:
			return fmt.Errorf("%w (the item is dead: attempt %d was its last and its lease ran out, or it was given up on)", ErrClaimLost, c.Attempt)
		}
	}
	if !slices.Contains(from, r.state) {
		return invalidf("item is %s", r.state)
	}
	if c.Attempt != 0 && r.attempts != c.Attempt {
		return fmt.Errorf("%w (attempt %d is running, this was attempt %d)", ErrClaimLost, r.attempts, c.Attempt)
	}
	assign, args := set(r)
	_, err = s.txExec(ctx, tx, `UPDATE outbox SET `+assign+` WHERE id = ?`, append(args, id)...) // #nosec G202 -- assign is a fixed column list from this package's set funcs; values go in args
	return err
}

// OutboxItemByID returns one item, for showing details of stuck or dead work.
func (s *Store) OutboxItemByID(ctx context.Context, id int64) (OutboxItem, error) {
	it, err := scanOutbox(s.r.QueryRowContext(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return OutboxItem{}, fmt.Errorf("read outbox item %d: %w", id, err)
	}
	return it, nil
}

// outboxStates are every state, so counts list the empty ones too.
var outboxStates = []OutboxState{OutboxPending, OutboxInFlight, OutboxDone, OutboxDead}

// OutboxCounts returns how many items are in each state; every state is
// present in the map, zero or not.
func (s *Store) OutboxCounts(ctx context.Context) (map[OutboxState]int, error) {
	counts := make(map[OutboxState]int, len(outboxStates))
	for _, st := range outboxStates {
		counts[st] = 0
	}
	err := s.countOutbox(ctx, `SELECT '', state, count(*) FROM outbox GROUP BY state`, func(_ string, st OutboxState, n int) {
		counts[st] = n
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

const outboxBusySQL = `SELECT
	EXISTS (SELECT 1 FROM outbox WHERE state = 'pending'),
	(SELECT count(*) FROM outbox WHERE state = 'in_flight')`

// OutboxBusy reports whether any item is pending and how many are in
// flight. It reads only the two partial indexes, so it costs the same at any
// outbox size, where the counts by kind walk every item (130 ms at 100,000):
// for a caller that asks many times a second whether the queue has settled.
func (s *Store) OutboxBusy(ctx context.Context) (anyPending bool, inFlight int, err error) {
	err = s.r.QueryRowContext(ctx, outboxBusySQL).Scan(&anyPending, &inFlight)
	if err != nil {
		return false, 0, fmt.Errorf("count outbox items in flight: %w", err)
	}
	return anyPending, inFlight, nil
}

// OutboxCountsByKind returns, for each kind that has items, how many are in
// each state: the queue depth per kind for the dashboard. Every state is
// present in a kind's map, zero or not.
func (s *Store) OutboxCountsByKind(ctx context.Context) (map[string]map[OutboxState]int, error) {
	counts := map[string]map[OutboxState]int{}
	err := s.countOutbox(ctx, `SELECT kind, state, count(*) FROM outbox GROUP BY kind, state`, func(kind string, st OutboxState, n int) {
		byState := counts[kind]
		if byState == nil {
			byState = make(map[OutboxState]int, len(outboxStates))
			for _, st := range outboxStates {
				byState[st] = 0
			}
			counts[kind] = byState
		}
		byState[st] = n
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// countOutbox runs a (kind, state, count) query and hands each row to add.
func (s *Store) countOutbox(ctx context.Context, query string, add func(kind string, st OutboxState, n int)) error {
	rows, err := s.r.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("count outbox items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, state string
		var n int
		if err := rows.Scan(&kind, &state, &n); err != nil {
			return fmt.Errorf("count outbox items: %w", err)
		}
		add(kind, OutboxState(state), n)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("count outbox items: %w", err)
	}
	return nil
}

// enqueueTx is EnqueueBatch's insert inside tx, after validation, so that a
// job's completion can queue the work it leads to in the same transaction.
func (s *Store) enqueueTx(ctx context.Context, tx *sql.Tx, jobs []OutboxJob) (created int, err error) {
	now := toMillis(s.now())
	pending := string(OutboxPending)
	args := make([]any, 0, 8*min(len(jobs), outboxRowsPerInsert))
	insert := func(st *sql.Stmt, rows []OutboxJob) error {
		args = args[:0]
		for _, j := range rows {
			payload := j.Payload
			if payload == nil {
				payload = []byte{}
			}
			maxAttempts := j.MaxAttempts
			if maxAttempts == 0 {
				maxAttempts = DefaultOutboxMaxAttempts
			}
			args = append(args, j.Kind, j.Key, payload, pending, maxAttempts, now, now, now)
		}
		res, err := st.ExecContext(ctx, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		created += int(n)
		return nil
	}
	// Inserts of outboxRowsPerInsert rows, then of one row: two statements,
	// prepared once, serve every batch size.
	rest := jobs
	for _, size := range []int{outboxRowsPerInsert, 1} {
		if len(rest) < size {
			continue
		}
		st, err := s.txStmt(ctx, tx, insertOutboxSQL(size))
		if err != nil {
			return 0, err
		}
		for ; len(rest) >= size; rest = rest[size:] {
			if err := insert(st, rest[:size]); err != nil {
				return 0, err
			}
		}
	}
	return created, nil
}

func validateOutboxJobs(jobs []OutboxJob) error {
	for i, j := range jobs {
		switch {
		case strings.TrimSpace(j.Kind) == "":
			return fmt.Errorf("item %d: %w", i, invalidf("kind is empty"))
		case strings.TrimSpace(j.Key) == "":
			return fmt.Errorf("item %d (%s): %w", i, j.Kind, invalidf("key is empty"))
		case j.MaxAttempts < 0:
			return fmt.Errorf("item %d (%s %q): %w", i, j.Kind, j.Key, invalidf("max attempts %d is negative", j.MaxAttempts))
		}
	}
	return nil
}
