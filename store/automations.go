package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// The Automations switches turn the engine's actions on and off. They are
// keyed by the action names of sync/engine's catalog; the store does not
// know the names, so a build that adds an action needs no migration. An
// action that was never switched is on.

// AutomationEnabled reports whether action is switched on: true unless it
// was switched off.
func (s *Store) AutomationEnabled(ctx context.Context, action string) (bool, error) {
	var on bool
	err := s.readRow(ctx, `SELECT enabled FROM automation_switches WHERE action = ?`, action).Scan(&on)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read automation switch %q: %w", action, err)
	}
	return on, nil
}

// AutomationSwitches returns every switch that was ever set; an action
// missing from the map is on.
func (s *Store) AutomationSwitches(ctx context.Context) (map[string]bool, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT action, enabled FROM automation_switches`)
	if err != nil {
		return nil, fmt.Errorf("read automation switches: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var a string
		var on bool
		if err := rows.Scan(&a, &on); err != nil {
			return nil, fmt.Errorf("read automation switches: %w", err)
		}
		out[a] = on
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read automation switches: %w", err)
	}
	return out, nil
}

// SetAutomationSwitches sets every switch in set, in one transaction, so a
// template or an undo is applied whole or not at all.
func (s *Store) SetAutomationSwitches(ctx context.Context, set map[string]bool) error {
	for a := range set {
		if strings.TrimSpace(a) == "" {
			return fmt.Errorf("set automation switches: %w", invalidf("an action has no name"))
		}
	}
	at := toMillis(s.now())
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		for a, on := range set {
			if _, err := tx.ExecContext(ctx, `INSERT INTO automation_switches (action, enabled, updated_at) VALUES (?, ?, ?)
				ON CONFLICT (action) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`, a, on, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set automation switches: %w", err)
	}
	return nil
}
