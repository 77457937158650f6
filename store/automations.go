package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"
)

// The Automations switches turn the engine's actions on and off. They are
// keyed by the action names of sync/engine's catalog; the store does not
// know the names, so a build that adds an action needs no migration. An
// action that was never switched is on.

// AutomationEnabled reports whether action is switched on: true unless it
// was switched off. It reads every switch at once and keeps them: a change
// through this Store is seen by the next call, one by another process on
// the same database within switchCacheTTL.
func (s *Store) AutomationEnabled(ctx context.Context, action string) (bool, error) {
	if on, ok := s.switches.get(action, s.now()); ok {
		return on, nil
	}
	gen := s.switches.generation()
	all, err := s.AutomationSwitches(ctx)
	if err != nil {
		return false, err
	}
	s.switches.put(all, gen, s.now())
	on, set := all[action]
	return on || !set, nil
}

// switchCache holds the switches read last, for AutomationEnabled, which
// the sync engine calls for every job.
type switchCache struct {
	mu sync.Mutex
	on map[string]bool
	at time.Time // when on was read; zero: nothing held
	// gen counts the writes through this Store: a read that a write
	// overtook is not kept.
	gen uint64
}

// get returns action's switch if the cache holds a fresh reading.
func (c *switchCache) get(action string, now time.Time) (on, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || now.Sub(c.at) >= switchCacheTTL || now.Before(c.at) {
		return false, false
	}
	on, set := c.on[action]
	return on || !set, true
}

func (c *switchCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put keeps a reading begun at generation gen, unless a write came since.
func (c *switchCache) put(on map[string]bool, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.on, c.at = on, now
	}
}

// drop forgets the reading after a write.
func (c *switchCache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.on, c.at = nil, time.Time{}
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
	// Dropped after the commit, so that no read of the old values made
	// meanwhile is kept; and after a failure too, which costs one read.
	s.switches.drop()
	if err != nil {
		return fmt.Errorf("set automation switches: %w", err)
	}
	return nil
}

// switchCacheTTL is how long switches read from the database are trusted
// without reading them again. A change made through the same Store drops
// them at once; one made by another process on the same database (the
// console and a headless `parley sync`) is seen within this time.
const switchCacheTTL = time.Second
