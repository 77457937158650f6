package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Screens an alert can point at, as AlertTarget.Screen.
const (
	TargetConnections = "Connections"
	TargetMapping     = "Mapping"
	TargetHistory     = "History"
)

// AlertTarget is where the cause of an alert is shown: a console screen
// and, for History, the search text (a local or remote id) that finds the
// row. The zero value means the console works it out from the source.
type AlertTarget struct {
	Screen string
	Ref    string
}

func (t AlertTarget) valid() bool {
	switch t.Screen {
	case "", TargetConnections, TargetMapping, TargetHistory:
		return true
	}
	return false
}

// SetAlertTarget records where the console should jump for alert id; the
// raiser calls it after RaiseAlert.
func (s *Store) SetAlertTarget(ctx context.Context, id int64, t AlertTarget) error {
	if !t.valid() {
		return fmt.Errorf("set target of alert %d: %w", id, invalidf("unknown screen %q", t.Screen))
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM alerts WHERE id = ?`, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO alert_targets (alert_id, screen, ref) VALUES (?, ?, ?)
			ON CONFLICT (alert_id) DO UPDATE SET screen = excluded.screen, ref = excluded.ref`, id, t.Screen, t.Ref)
		return err
	})
	if err != nil {
		return fmt.Errorf("set target of alert %d: %w", id, err)
	}
	return nil
}

// AlertTarget returns where alert id points; the zero target if it was
// never set.
func (s *Store) AlertTarget(ctx context.Context, id int64) (AlertTarget, error) {
	var t AlertTarget
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(t.screen, ''), coalesce(t.ref, '') FROM alerts a
		LEFT JOIN alert_targets t ON t.alert_id = a.id WHERE a.id = ?`, id).Scan(&t.Screen, &t.Ref)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return AlertTarget{}, fmt.Errorf("read target of alert %d: %w", id, err)
	}
	return t, nil
}
