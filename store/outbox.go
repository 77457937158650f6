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
// worker until LeaseUntil, done and dead are final.
const (
	OutboxPending  OutboxState = "pending"
	OutboxInFlight OutboxState = "in_flight"
	OutboxDone     OutboxState = "done"
	OutboxDead     OutboxState = "dead"
)

// OutboxItem is one unit of pending work, e.g. a message to push to GHL.
type OutboxItem struct {
	// ID identifies the item in CompleteOutbox, RetryOutbox and KillOutbox.
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

const outboxColumns = `id, kind, key, payload, state, attempts, next_attempt_at, created_at, updated_at, lease_until, last_error`

func scanOutbox(sc rowScanner) (OutboxItem, error) {
	var it OutboxItem
	var state string
	var next, created, updated, lease int64
	err := sc.Scan(&it.ID, &it.Kind, &it.Key, &it.Payload, &state, &it.Attempts, &next, &created, &updated, &lease, &it.LastError)
	it.State = OutboxState(state)
	it.NextAttemptAt, it.CreatedAt, it.UpdatedAt, it.LeaseUntil = fromMillis(next), fromMillis(created), fromMillis(updated), fromMillis(lease)
	return it, err
}

// Enqueue adds work that is due immediately. If an item with the same key
// exists, in any state, nothing changes and created is false: the same work
// is never queued twice.
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
		err := tx.QueryRowContext(ctx, `INSERT INTO outbox (kind, key, payload, state, next_attempt_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id`,
			kind, key, payload, string(OutboxPending), now, now, now).Scan(&id)
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
}

// outboxRowsPerInsert is how many rows one INSERT carries in EnqueueBatch:
// as with history, one statement per row would cost more in database/sql
// and the driver than the rows themselves.
const outboxRowsPerInsert = 64

func insertOutboxSQL(rows int) string {
	return `INSERT INTO outbox (kind, key, payload, state, next_attempt_at, created_at, updated_at) VALUES ` +
		strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?), `, rows), ", ") +
		` ON CONFLICT (key) DO NOTHING`
}

// EnqueueBatch adds many items, due immediately, in one transaction: either
// all are stored or none (an error, a cancelled ctx). Items whose key is
// already in the outbox, in any state, or earlier in the same batch, are
// skipped as Enqueue skips them; created counts the items that are new.
// Items keep their order: they are claimed in the order they were given.
func (s *Store) EnqueueBatch(ctx context.Context, jobs []OutboxJob) (created int, err error) {
	for i, j := range jobs {
		if strings.TrimSpace(j.Kind) == "" {
			return 0, fmt.Errorf("enqueue batch: item %d: %w", i, invalidf("kind is empty"))
		}
		if strings.TrimSpace(j.Key) == "" {
			return 0, fmt.Errorf("enqueue batch: item %d (%s): %w", i, j.Kind, invalidf("key is empty"))
		}
	}
	if len(jobs) == 0 {
		return 0, nil
	}
	now := toMillis(s.now())
	pending := string(OutboxPending)
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		args := make([]any, 0, 7*outboxRowsPerInsert)
		insert := func(st *sql.Stmt, rows []OutboxJob) error {
			args = args[:0]
			for _, j := range rows {
				payload := j.Payload
				if payload == nil {
					payload = []byte{}
				}
				args = append(args, j.Kind, j.Key, payload, pending, now, now, now)
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
		rest := jobs
		if len(rest) >= outboxRowsPerInsert {
			st, err := tx.PrepareContext(ctx, insertOutboxSQL(outboxRowsPerInsert))
			if err != nil {
				return err
			}
			defer st.Close()
			for ; len(rest) >= outboxRowsPerInsert; rest = rest[outboxRowsPerInsert:] {
				if err := insert(st, rest[:outboxRowsPerInsert]); err != nil {
					return err
				}
			}
		}
		if len(rest) > 0 {
			st, err := tx.PrepareContext(ctx, insertOutboxSQL(len(rest)))
			if err != nil {
				return err
			}
			defer st.Close()
			if err := insert(st, rest); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("enqueue batch of %d items: %w", len(jobs), err)
	}
	return created, nil
}

// ClaimDue hands up to limit items to a worker, oldest first: pending items
// that are due, and in_flight items whose lease expired because their worker
// died. Claimed items become in_flight until now+lease, with one more attempt
// counted, all in one statement so two workers never claim the same item.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]OutboxItem, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("claim outbox items: %w", invalidf("limit %d must be positive", limit))
	}
	if lease <= 0 {
		return nil, fmt.Errorf("claim outbox items: %w", invalidf("lease %s must be positive", lease))
	}
	n, until, updated := toMillis(now), toMillis(now.Add(lease)), toMillis(s.now())
	items, err := queryAll(ctx, s.w, scanOutbox, `UPDATE outbox
		SET state = 'in_flight', lease_until = ?, attempts = attempts + 1, updated_at = ?
		WHERE id IN (
			SELECT id FROM outbox
			WHERE (state = 'pending' AND next_attempt_at <= ?) OR (state = 'in_flight' AND lease_until <= ?)
			ORDER BY id LIMIT ?)
		RETURNING `+outboxColumns, until, updated, n, n, limit)
	if err != nil {
		return nil, fmt.Errorf("claim outbox items: %w", err)
	}
	// RETURNING has no defined order.
	slices.SortFunc(items, func(a, b OutboxItem) int { return cmp.Compare(a.ID, b.ID) })
	return items, nil
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
// the item has been claimed again since.
func (s *Store) CompleteOutbox(ctx context.Context, c Claim) error {
	return s.finishOutbox(ctx, "complete", c, `state = 'done', lease_until = 0, last_error = ''`, nil, OutboxInFlight)
}

// RetryOutbox puts a claimed item back to pending, due at `at`, remembering
// why this attempt failed. It fails with [ErrClaimLost] if the item has been
// claimed again since.
func (s *Store) RetryOutbox(ctx context.Context, c Claim, errText string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("retry outbox item %d: %w", c.ID, invalidf("retry time is zero"))
	}
	return s.finishOutbox(ctx, "retry", c, `state = 'pending', lease_until = 0, last_error = ?, next_attempt_at = ?`,
		[]any{errText, toMillis(at)}, OutboxInFlight)
}

// KillOutbox gives up on an item that is pending or in flight: it becomes
// dead and is never claimed again, but stays visible with its error. It
// takes an id, not a claim, because the admin can give up on any item.
func (s *Store) KillOutbox(ctx context.Context, id int64, errText string) error {
	return s.finishOutbox(ctx, "kill", Claim{ID: id}, `state = 'dead', lease_until = 0, last_error = ?`,
		[]any{errText}, OutboxPending, OutboxInFlight)
}

// finishOutbox applies set to the claimed item if it is in one of the from
// states and, for a claim with an attempt, still under that claim.
func (s *Store) finishOutbox(ctx context.Context, verb string, c Claim, set string, args []any, from ...OutboxState) error {
	id := c.ID
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var state string
		var attempts int
		err := tx.QueryRowContext(ctx, `SELECT state, attempts FROM outbox WHERE id = ?`, id).Scan(&state, &attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !slices.Contains(from, OutboxState(state)) {
			return invalidf("item is %s", state)
		}
		if c.Attempt != 0 && attempts != c.Attempt {
			return fmt.Errorf("%w (attempt %d is running, this was attempt %d)", ErrClaimLost, attempts, c.Attempt)
		}
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET `+set+`, updated_at = ? WHERE id = ?`,
			append(args, toMillis(s.now()), id)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s outbox item %d: %w", verb, id, err)
	}
	return nil
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

// OutboxCounts returns how many items are in each state; every state is
// present in the map, zero or not.
func (s *Store) OutboxCounts(ctx context.Context) (map[OutboxState]int, error) {
	counts := map[OutboxState]int{OutboxPending: 0, OutboxInFlight: 0, OutboxDone: 0, OutboxDead: 0}
	rows, err := s.r.QueryContext(ctx, `SELECT state, count(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count outbox items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("count outbox items: %w", err)
		}
		counts[OutboxState(state)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count outbox items: %w", err)
	}
	return counts, nil
}
