package store

// Read queries for the Sync screen's dashboard. They read history by time
// without an index on history.at (which would cost every append): the time
// range becomes an id range through history_time_blocks, as in search.go,
// and the rows above the indexer's watermark, which have no block yet, are
// read as they are.

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ThroughputMinute is one minute of sync work: the history rows that went
// ok and those that failed (for good, or to be retried) in it.
type ThroughputMinute struct {
	Start      time.Time
	OK, Failed int
}

// Throughput counts history rows per minute over [since, until), one entry
// per minute from since, oldest first, empty minutes included. Skipped rows
// are neither. Rows are placed by their time, so work recorded out of
// order is still counted in its minute.
func (s *Store) Throughput(ctx context.Context, since, until time.Time) ([]ThroughputMinute, error) {
	since, until = since.Truncate(time.Minute), until.Truncate(time.Minute)
	if !until.After(since) {
		return nil, fmt.Errorf("throughput: %w", invalidf("the range ends (%s) before it starts (%s)", until.Format(time.RFC3339), since.Format(time.RFC3339)))
	}
	out := make([]ThroughputMinute, int(until.Sub(since)/time.Minute))
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * time.Minute).UTC()
	}
	from, to := since.UnixMilli(), until.UnixMilli()
	err := s.readHistoryRange(ctx, from, func(tx *sql.Tx, floor int64) error {
		rows, err := tx.QueryContext(ctx, `SELECT (at - ?) / 60000, outcome = 'ok', count(*) FROM history
			WHERE id >= ? AND at >= ? AND at < ? AND outcome IN ('ok', 'failed', 'retrying')
			GROUP BY 1, 2`, from, floor, from, to)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var minute, n int
			var ok bool
			if err := rows.Scan(&minute, &ok, &n); err != nil {
				return err
			}
			if ok {
				out[minute].OK = n
			} else {
				out[minute].Failed = n
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("throughput: %w", err)
	}
	return out, nil
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

// Failures groups the failed and retrying history rows of [since, until)
// by operation and HTTP status, most frequent first.
func (s *Store) Failures(ctx context.Context, since, until time.Time) ([]FailureCount, error) {
	if !until.After(since) {
		return nil, fmt.Errorf("failures: %w", invalidf("the range ends (%s) before it starts (%s)", until.Format(time.RFC3339), since.Format(time.RFC3339)))
	}
	from, to := since.UnixMilli(), until.UnixMilli()
	var out []FailureCount
	err := s.readHistoryRange(ctx, from, func(tx *sql.Tx, floor int64) error {
		// SQLite's bare columns beside max() come from the row holding
		// the maximum: the latest failure's error text.
		var err error
		out, err = queryAll(ctx, tx, func(sc rowScanner) (FailureCount, error) {
			var f FailureCount
			var op string
			var at int64
			err := sc.Scan(&op, &f.HTTPStatus, &f.Count, &at, &f.LastError)
			f.Operation, f.LastAt = Operation(op), time.UnixMilli(at).UTC()
			return f, err
		}, `SELECT operation, http_status, count(*), max(at), error FROM history
			WHERE id >= ? AND at >= ? AND at < ? AND outcome IN ('failed', 'retrying')
			GROUP BY operation, http_status
			ORDER BY count(*) DESC, operation, http_status`, floor, from, to)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("failures: %w", err)
	}
	return out, nil
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
