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
	res, err := s.w.ExecContext(ctx, `UPDATE alerts SET target = ?, target_ref = ? WHERE id = ?`, t.Screen, t.Ref, id)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("set target of alert %d: %w", id, err)
	}
	return nil
}

// AlertTarget returns where alert id points; the zero target if it was
// never set.
func (s *Store) AlertTarget(ctx context.Context, id int64) (AlertTarget, error) {
	var t AlertTarget
	err := s.r.QueryRowContext(ctx, `SELECT target, target_ref FROM alerts WHERE id = ?`, id).Scan(&t.Screen, &t.Ref)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return AlertTarget{}, fmt.Errorf("read target of alert %d: %w", id, err)
	}
	return t, nil
}
