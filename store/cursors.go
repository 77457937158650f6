package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// SaveCursor stores how far a sync stream has got (an opaque value such as a
// GHL "updated since" token), replacing the previous value.
func (s *Store) SaveCursor(ctx context.Context, stream, value string) error {
	if strings.TrimSpace(stream) == "" {
		return fmt.Errorf("save cursor: %w", invalidf("stream name is empty"))
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO cursors (stream, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (stream) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		stream, value, toMillis(s.now()))
	if err != nil {
		return fmt.Errorf("save cursor %q: %w", stream, err)
	}
	return nil
}

// Cursor returns the saved value for a stream; ok is false when the stream has
// never been saved, so the caller knows to start from the beginning.
func (s *Store) Cursor(ctx context.Context, stream string) (value string, ok bool, err error) {
	if strings.TrimSpace(stream) == "" {
		return "", false, fmt.Errorf("read cursor: %w", invalidf("stream name is empty"))
	}
	err = s.r.QueryRowContext(ctx, `SELECT value FROM cursors WHERE stream = ?`, stream).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read cursor %q: %w", stream, err)
	}
	return value, true, nil
}
