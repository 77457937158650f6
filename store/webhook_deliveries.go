package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The ActiveDEMAND webhook receiver keeps the ids of the events it accepted
// here, so that a captured request replayed later is refused even after a
// restart. It forgets ids once their signatures are too old to be accepted
// anyway, which keeps the table as small as the tolerance window.

// RememberDelivery records id as delivered at t. It reports false, and
// records nothing, when id was already recorded (a replay).
//
// One INSERT decides, so two receivers racing on the same id, in this
// process or another, see exactly one fresh delivery.
func (s *Store) RememberDelivery(ctx context.Context, id string, at time.Time) (fresh bool, err error) {
	if strings.TrimSpace(id) == "" {
		return false, fmt.Errorf("remember webhook delivery: %w", invalidf("event id is empty"))
	}
	if at.IsZero() {
		return false, fmt.Errorf("remember webhook delivery %q: %w", id, invalidf("delivery time is zero"))
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, delivered_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
		id, toMillis(at))
	if err != nil {
		return false, fmt.Errorf("remember webhook delivery %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("remember webhook delivery %q: %w", id, err)
	}
	return n == 1, nil
}

// ForgetDeliveries removes the ids recorded before cutoff.
func (s *Store) ForgetDeliveries(ctx context.Context, before time.Time) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE delivered_at < ?`, toMillis(before)); err != nil {
		return fmt.Errorf("forget webhook deliveries before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return nil
}
