package store

// Read queries for the Sync screen's dashboard. They read history by time
// without an index on history.at (which would cost every append): the time
// range becomes an id range through history_time_blocks, as in search.go,
// and the rows above the indexer's watermark, which have no block yet, are
// read as they are.

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// ThroughputMinute is one minute of sync work: the history rows that went
// ok and those that failed (for good, or to be retried) in it.
type ThroughputMinute struct {
	Start      time.Time
	OK, Failed int
}

// FailureCount is how often one operation failed with one HTTP status
// (0: no answer) in a time range, and the latest of those failures.
type FailureCount struct {
	Operation  Operation
	HTTPStatus int
	Count      int
	LastError  string
	LastAt     time.Time
}

// TallyGroup counts the history rows of one minute with the same
// operation, HTTP status and success.
type TallyGroup struct {
	Minute     time.Time
	Operation  Operation
	HTTPStatus int
	// OK is true for rows that went ok, false for failed and retrying
	// ones; skipped rows are not counted.
	OK    bool
	Count int
	// LastAt and LastError are the group's latest row.
	LastAt    time.Time
	LastError string
}

// Tally is what TallyHistory read.
type Tally struct {
	// ThroughID is the newest history id the tally covers: pass it as
	// afterID next time to read only what was added since.
	ThroughID int64
	Groups    []TallyGroup
}

// TallyHistory counts the history rows with an id above afterID and a time
// in [since, until), by minute (from since), operation, HTTP status and
// success. History is append-only, so a caller that keeps the groups and
// passes the last ThroughID reads each row once: the dashboard refreshes
// every few seconds, and reading a busy hour each time would cost a
// noticeable share of a core. Rows are placed by their time, so work
// recorded out of order still lands in its minute.
func (s *Store) TallyHistory(ctx context.Context, afterID int64, since, until time.Time) (Tally, error) {
	if !until.After(since) {
		return Tally{}, fmt.Errorf("tally history: %w", invalidf("the range ends (%s) before it starts (%s)", until.Format(time.RFC3339), since.Format(time.RFC3339)))
	}
	from, to := since.UnixMilli(), until.UnixMilli()
	var t Tally
	err := s.readHistoryRange(ctx, from, func(tx *sql.Tx, floor int64) error {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM history`).Scan(&t.ThroughID); err != nil {
			return err
		}
		// SQLite's bare column beside max() comes from the row holding
		// the maximum: the group's latest error text.
		var err error
		t.Groups, err = queryAll(ctx, tx, func(sc rowScanner) (TallyGroup, error) {
			var g TallyGroup
			var minute, at int64
			var op string
			err := sc.Scan(&minute, &op, &g.HTTPStatus, &g.OK, &g.Count, &at, &g.LastError)
			g.Minute = since.Add(time.Duration(minute) * time.Minute).UTC()
			g.Operation, g.LastAt = Operation(op), time.UnixMilli(at).UTC()
			return g, err
		}, `SELECT (at - ?) / 60000, operation, http_status, outcome = 'ok', count(*), max(at), error FROM history
			WHERE id > ? AND id >= ? AND id <= ? AND at >= ? AND at < ? AND outcome IN ('ok', 'failed', 'retrying')
			GROUP BY 1, 2, 3, 4`, from, afterID, floor, t.ThroughID, from, to)
		return err
	})
	if err != nil {
		return Tally{}, fmt.Errorf("tally history: %w", err)
	}
	return t, nil
}

// Throughput counts history rows per minute over [since, until), one entry
// per minute from since, oldest first, empty minutes included. Skipped rows
// are neither ok nor failed.
func (s *Store) Throughput(ctx context.Context, since, until time.Time) ([]ThroughputMinute, error) {
	since, until = since.Truncate(time.Minute), until.Truncate(time.Minute)
	t, err := s.TallyHistory(ctx, 0, since, until)
	if err != nil {
		return nil, fmt.Errorf("throughput: %w", err)
	}
	return ThroughputOf(t.Groups, since, until), nil
}

// ThroughputOf sums groups into minutes over [since, until), as
// Throughput does; groups outside the range are left out.
func ThroughputOf(groups []TallyGroup, since, until time.Time) []ThroughputMinute {
	since, until = since.Truncate(time.Minute), until.Truncate(time.Minute)
	out := make([]ThroughputMinute, max(int(until.Sub(since)/time.Minute), 0))
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * time.Minute).UTC()
	}
	for _, g := range groups {
		i := int(g.Minute.Sub(since) / time.Minute)
		if g.Minute.Before(since) || i >= len(out) {
			continue
		}
		if g.OK {
			out[i].OK += g.Count
		} else {
			out[i].Failed += g.Count
		}
	}
	return out
}

// Failures groups the failed and retrying history rows of [since, until)
// by operation and HTTP status, most frequent first.
func (s *Store) Failures(ctx context.Context, since, until time.Time) ([]FailureCount, error) {
	t, err := s.TallyHistory(ctx, 0, since, until)
	if err != nil {
		return nil, fmt.Errorf("failures: %w", err)
	}
	return FailuresOf(t.Groups, since, until), nil
}

// FailuresOf sums the failed groups from since on by operation and HTTP
// status, most frequent first, as Failures does.
func FailuresOf(groups []TallyGroup, since, until time.Time) []FailureCount {
	type key struct {
		op     Operation
		status int
	}
	byKey := map[key]*FailureCount{}
	var out []*FailureCount
	for _, g := range groups {
		if g.OK || g.Minute.Before(since) || !g.Minute.Before(until) {
			continue
		}
		k := key{g.Operation, g.HTTPStatus}
		f := byKey[k]
		if f == nil {
			f = &FailureCount{Operation: g.Operation, HTTPStatus: g.HTTPStatus}
			byKey[k] = f
			out = append(out, f)
		}
		f.Count += g.Count
		if g.LastAt.After(f.LastAt) {
			f.LastAt, f.LastError = g.LastAt, g.LastError
		}
	}
	slices.SortFunc(out, func(a, b *FailureCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Operation, b.Operation), cmp.Compare(a.HTTPStatus, b.HTTPStatus))
	})
	res := make([]FailureCount, len(out))
	for i, f := range out {
		res[i] = *f
	}
	return res
}

// readHistoryRange runs read in one read transaction with the lowest
// history id that can hold a row at or after since.
func (s *Store) readHistoryRange(ctx context.Context, since int64, read func(tx *sql.Tx, floor int64) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var indexed int64
	if err := tx.QueryRowContext(ctx, `SELECT indexed_through FROM history_fts_progress`).Scan(&indexed); err != nil {
		return err
	}
	// Every indexed row is in a block; a row at or after since is in a
	// block whose latest time is too. Rows above the watermark have no
	// block yet and are all read.
	floor := indexed + 1
	var lo sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT min(block) FROM history_time_blocks WHERE max_at >= ?`, since).Scan(&lo); err != nil {
		return err
	}
	if lo.Valid {
		floor = min(floor, lo.Int64<<timeBlockShift)
	}
	return read(tx, floor)
}

// deadPageColumns are outboxColumns without the payload, which a list of
// dead jobs does not show and which may be large.
const deadPageColumns = `id, kind, key, NULL, state, attempts, max_attempts, stalls, next_attempt_at, created_at, updated_at, lease_until, last_error`

// DeadOutboxPage returns up to limit dead items with an id below beforeID
// (0: from the newest), newest first, without their payloads: the
// dead-letter list. Pass the last id of a page to get the next.
func (s *Store) DeadOutboxPage(ctx context.Context, beforeID int64, limit int) ([]OutboxItem, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("dead outbox page: %w", invalidf("limit %d must be positive", limit))
	}
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+deadPageColumns+` FROM outbox WHERE state = 'dead' AND id < ? ORDER BY id DESC LIMIT ?`, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("dead outbox page: %w", err)
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("dead outbox page: %w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dead outbox page: %w", err)
	}
	return out, nil
}
