package store

// Read-only queries for the reconcile (`parley verify`), its repair and the
// engine's once-per-change jobs: they look at the id map and the outbox's
// keys without changing either.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// IDLinks returns every link of one kind, AD id to GHL id.
func (s *Store) IDLinks(ctx context.Context, kind EntityKind) (map[string]string, error) {
	if !kind.valid() {
		return nil, fmt.Errorf("list %s links: %w", kind, invalidf("unknown entity kind %q", kind))
	}
	rows, err := s.r.QueryContext(ctx, `SELECT ad_id, ghl_id FROM id_map WHERE kind = ?`, string(kind))
	if err != nil {
		return nil, fmt.Errorf("list %s links: %w", kind, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var ad, ghl string
		if err := rows.Scan(&ad, &ghl); err != nil {
			return nil, fmt.Errorf("list %s links: %w", kind, err)
		}
		out[ad] = ghl
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s links: %w", kind, err)
	}
	return out, nil
}

// prefixRange is the half-open key range [p, upper) of every key that
// starts with p: the unique index on key answers it without a scan, where
// LIKE would not (it is case-insensitive by default).
func prefixRange(p string) (string, string) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return p, string(b[:i+1])
		}
	}
	return p, "\xff\xff\xff\xff"
}

// OutboxStatesByKey returns the state of the outbox item with key and of
// every item whose key is key+sep+something: the work queued again under
// a derived key (a repair) next to the original.
func (s *Store) OutboxStatesByKey(ctx context.Context, key, sep string) (map[string]OutboxState, error) {
	lo, hi := prefixRange(key + sep)
	rows, err := s.r.QueryContext(ctx, `SELECT key, state FROM outbox WHERE key = ?
		UNION ALL SELECT key, state FROM outbox WHERE key >= ? AND key < ?`, key, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("look up outbox items %q: %w", key, err)
	}
	defer rows.Close()
	out := map[string]OutboxState{}
	for rows.Next() {
		var k, st string
		if err := rows.Scan(&k, &st); err != nil {
			return nil, fmt.Errorf("look up outbox items %q: %w", key, err)
		}
		out[k] = OutboxState(st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up outbox items %q: %w", key, err)
	}
	return out, nil
}

// LatestOutboxKey returns the key of the most recently queued outbox item
// whose key starts with prefix; ok is false when there is none.
func (s *Store) LatestOutboxKey(ctx context.Context, prefix string) (key string, ok bool, err error) {
	lo, hi := prefixRange(prefix)
	err = s.r.QueryRowContext(ctx, `SELECT key FROM outbox WHERE key >= ? AND key < ? ORDER BY id DESC LIMIT 1`, lo, hi).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("look up the latest outbox item %q: %w", prefix, err)
	}
	return key, true, nil
}

// PendingOutbox calls fn with every pending outbox item of kinds, in
// queue order, until fn returns an error, which it returns. It reads a
// snapshot: items queued meanwhile may or may not be seen.
func (s *Store) PendingOutbox(ctx context.Context, kinds []string, fn func(OutboxItem) error) error {
	if len(kinds) == 0 {
		return nil
	}
	// #nosec G202 -- a fixed column list and one placeholder per kind; the kinds are bound
	q := `SELECT ` + outboxColumns + ` FROM outbox WHERE state = 'pending' AND kind IN (?` + strings.Repeat(",?", len(kinds)-1) + `) ORDER BY id`
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("list pending outbox items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return fmt.Errorf("list pending outbox items: %w", err)
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list pending outbox items: %w", err)
	}
	return nil
}
