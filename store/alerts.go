package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Severity is how urgent an alert is.
type Severity string

// Alert severities.
const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

func (s Severity) valid() bool {
	return s == SeverityInfo || s == SeverityWarning || s == SeverityError
}

// Alert is a problem shown to the user until acknowledged, e.g. "GHL token
// expired".
type Alert struct {
	// ID is assigned by RaiseAlert and used by AckAlert.
	ID int64
	// At is when the alert was (last) raised; zero means "now" when raising.
	At time.Time
	// Severity decides how prominently the UI shows it.
	Severity Severity
	// Source is the part of Parley that raised it, e.g. "sync.ghl".
	Source string
	// Message says what is wrong, in words for the user.
	Message string
	// Hint tells the user what to do about it.
	Hint string
	// AckedAt is when the user acknowledged it; zero while open.
	AckedAt time.Time
}

// RaiseAlert records an alert and returns its id. If the same problem (same
// severity, source and message) is already open, that alert is refreshed
// (time and hint) and its id returned instead: a sync loop that hits the same
// error every minute must not bury the user in copies.
func (s *Store) RaiseAlert(ctx context.Context, a Alert) (int64, error) {
	switch {
	case !a.Severity.valid():
		return 0, fmt.Errorf("raise alert: %w", invalidf("unknown severity %q", a.Severity))
	case strings.TrimSpace(a.Source) == "":
		return 0, fmt.Errorf("raise alert: %w", invalidf("source is empty"))
	case strings.TrimSpace(a.Message) == "":
		return 0, fmt.Errorf("raise alert: %w", invalidf("message is empty"))
	}
	if a.At.IsZero() {
		a.At = s.now()
	}
	var id int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM alerts WHERE acked_at IS NULL AND severity = ? AND source = ? AND message = ?`,
			string(a.Severity), a.Source, a.Message).Scan(&id)
		if err == nil {
			_, err = tx.ExecContext(ctx, `UPDATE alerts SET at = ?, hint = ? WHERE id = ?`, toMillis(a.At), a.Hint, id)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO alerts (at, severity, source, message, hint) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			toMillis(a.At), string(a.Severity), a.Source, a.Message, a.Hint).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("raise %s alert from %s: %w", a.Severity, a.Source, err)
	}
	return id, nil
}

// OpenAlerts returns the alerts not yet acknowledged, newest first.
func (s *Store) OpenAlerts(ctx context.Context) ([]Alert, error) {
	out, err := s.queryAlerts(ctx, `WHERE acked_at IS NULL ORDER BY at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list open alerts: %w", err)
	}
	return out, nil
}

// RecentAlerts returns up to limit alerts, open or acknowledged, newest first,
// for an alert log.
func (s *Store) RecentAlerts(ctx context.Context, limit int) ([]Alert, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list alerts: %w", invalidf("limit %d must be positive", limit))
	}
	out, err := s.queryAlerts(ctx, `ORDER BY at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

func (s *Store) queryAlerts(ctx context.Context, tail string, args ...any) ([]Alert, error) {
	return queryAll(ctx, s.r, func(rows rowScanner) (Alert, error) {
		var a Alert
		var at, acked int64
		var sev string
		err := rows.Scan(&a.ID, &at, &sev, &a.Source, &a.Message, &a.Hint, &acked)
		a.At, a.Severity, a.AckedAt = fromMillis(at), Severity(sev), fromMillis(acked)
		return a, err
	}, `SELECT id, at, severity, source, message, hint, coalesce(acked_at, 0) FROM alerts `+tail, args...)
}

// AckAlert acknowledges an alert so it is no longer open. Acknowledging it
// again is a no-op.
func (s *Store) AckAlert(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, `UPDATE alerts SET acked_at = coalesce(acked_at, ?) WHERE id = ?`, toMillis(s.now()), id)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("acknowledge alert %d: %w", id, err)
	}
	return nil
}
