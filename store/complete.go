package store

// Finishing an outbox job together with what it produced. The sync engine's
// exactly-once rests on this: the job's new state, the id links it learnt
// and its history rows are one transaction, fenced by the claim. A worker
// whose lease ran out writes nothing at all, so the newer claim, which looks
// in HighLevel before writing again, is the only one that records the work.

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Operations of the sync engine's records, besides those in history.go.
const (
	// OpOutboundRecord records an outbound call made outside HighLevel
	// (POST /conversations/messages/outbound).
	OpOutboundRecord Operation = "message.outbound"
)

// IDLink is one pair of ids to link, as LinkIDs takes them.
type IDLink struct {
	Kind        EntityKind
	ADID, GHLID string
}

// CompleteOutboxWith marks a claimed item done, links ids and appends
// history entries, all in one transaction: either all of it is stored or
// none. Like CompleteOutbox it fails with [ErrClaimLost] when the claim is
// no longer the item's, and then nothing is written; a link that conflicts
// with an existing one ([ErrIDConflict]) also writes nothing.
func (s *Store) CompleteOutboxWith(ctx context.Context, c Claim, links []IDLink, entries []HistoryEntry) error {
	return s.settleWith(ctx, "complete", c, links, entries, nil)
}

// RetryOutboxWith is RetryOutbox with history entries appended in the same
// transaction: the item goes back to pending, due at `at`, or becomes dead
// when that was its last attempt.
func (s *Store) RetryOutboxWith(ctx context.Context, c Claim, errText string, at time.Time, entries []HistoryEntry) error {
	if at.IsZero() {
		return fmt.Errorf("retry outbox item %d: %w", c.ID, invalidf("retry time is zero"))
	}
	return s.settleWith(ctx, "retry", c, nil, entries, func(r outboxRow) (string, []any) {
		if r.attempts >= r.maxAttempts {
			return `state = 'dead', lease_until = 0, last_error = ?, updated_at = ?`,
				[]any{gaveUpText(r.attempts, errText), toMillis(s.now())}
		}
		return `state = 'pending', lease_until = 0, last_error = ?, next_attempt_at = ?, updated_at = ?`,
			[]any{errText, toMillis(at), toMillis(s.now())}
	})
}

// KillOutboxWith gives up on a claimed item whose work can never succeed
// as it is (HighLevel refused its content, its contact is gone): it becomes
// dead with errText, with history entries appended in the same transaction.
// Unlike KillOutbox it is fenced by the claim.
func (s *Store) KillOutboxWith(ctx context.Context, c Claim, errText string, entries []HistoryEntry) error {
	return s.settleWith(ctx, "kill", c, nil, entries, func(outboxRow) (string, []any) {
		return `state = 'dead', lease_until = 0, last_error = ?, updated_at = ?`, []any{errText, toMillis(s.now())}
	})
}

// ReleaseOutbox hands a claimed item back untried: it is pending again,
// due at `at`, and the claim does not count as an attempt. It is for work a
// worker claimed but did not do because the sync stopped or paused (the
// token was revoked, the daily quota is used up), which must not bring the
// item closer to dead.
func (s *Store) ReleaseOutbox(ctx context.Context, c Claim, errText string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("release outbox item %d: %w", c.ID, invalidf("due time is zero"))
	}
	return s.settleWith(ctx, "release", c, nil, nil, func(outboxRow) (string, []any) {
		return `state = 'pending', attempts = max(attempts - 1, 0), lease_until = 0, last_error = ?, next_attempt_at = ?, updated_at = ?`,
			[]any{errText, toMillis(at), toMillis(s.now())}
	})
}

// settleWith changes a claimed item with set (nil: completes it) and
// stores links and entries in the same transaction.
func (s *Store) settleWith(ctx context.Context, verb string, c Claim, links []IDLink, entries []HistoryEntry, set func(outboxRow) (string, []any)) error {
	if err := validateSettle(c, links, entries); err != nil {
		return fmt.Errorf("%s outbox item %d: %w", verb, c.ID, err)
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error { return settleTx(ctx, s, tx, c, links, entries, set) })
	if err != nil {
		return fmt.Errorf("%s outbox item %d: %w", verb, c.ID, err)
	}
	if len(entries) > 0 {
		s.historyCommitted(ctx)
	}
	return nil
}

func validateSettle(c Claim, links []IDLink, entries []HistoryEntry) error {
	if c.Attempt <= 0 {
		return invalidf("claim has no attempt; use the claim ClaimDue handed out")
	}
	for i, l := range links {
		if err := validateID(l.Kind, "AD", l.ADID); err != nil {
			return fmt.Errorf("link %d: %w", i, err)
		}
		if err := validateID(l.Kind, "GHL", l.GHLID); err != nil {
			return fmt.Errorf("link %d: %w", i, err)
		}
	}
	for i, e := range entries {
		if err := validateHistoryEntry(e); err != nil {
			return fmt.Errorf("history entry %d: %w", i, err)
		}
	}
	return nil
}

// settleTx is settleWith inside tx, after validation.
func settleTx(ctx context.Context, s *Store, tx *sql.Tx, c Claim, links []IDLink, entries []HistoryEntry, set func(outboxRow) (string, []any)) error {
	var err error
	if set == nil {
		err = s.completeTx(ctx, tx, c)
	} else {
		err = s.finishOutboxTx(ctx, tx, c, []OutboxState{OutboxInFlight}, set)
	}
	if err != nil {
		return err
	}
	for _, l := range links {
		if err := s.linkIDsTx(ctx, tx, l.Kind, l.ADID, l.GHLID); err != nil {
			return err
		}
	}
	if len(entries) == 0 {
		return nil
	}
	return s.appendHistoryTx(ctx, tx, entries)
}

// completeTx marks the claimed item done. The update is fenced by the
// claim in its own WHERE clause, so the usual case is one statement; when
// it changes nothing, finishOutboxTx reads the item to say why (claimed
// again, put back, dead, already done), and finds it so in this same
// transaction.
func (s *Store) completeTx(ctx context.Context, tx *sql.Tx, c Claim) error {
	now := toMillis(s.now())
	res, err := s.txExec(ctx, tx, `UPDATE outbox SET state = 'done', lease_until = 0, last_error = '', updated_at = ?
		WHERE id = ? AND state = 'in_flight' AND attempts = ?`, now, c.ID, c.Attempt)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return s.finishOutboxTx(ctx, tx, c, []OutboxState{OutboxInFlight}, func(outboxRow) (string, []any) {
		return `state = 'done', lease_until = 0, last_error = '', updated_at = ?`, []any{now}
	})
}

// Completion is one job's CompleteOutboxWith, for CompleteOutboxBatch.
type Completion struct {
	Claim   Claim
	Links   []IDLink
	Entries []HistoryEntry
	// Follow is the work this job leads to (fetch a call's recording,
	// route its transcript), queued in the job's own savepoint: it exists
	// exactly when the job is done, so a crash in between loses nothing
	// and queues nothing twice. Keys already in the outbox are skipped.
	Follow []OutboxJob
}

// CompleteOutboxBatch is CompleteOutboxWith for several jobs in one
// transaction, so that workers finishing at the same moment share one
// commit instead of queueing for the writer one by one. Each job is still
// all or nothing on its own: errs[i] is its error (a lost claim, a link
// conflict, invalid input) and nothing of it is stored then, while the
// others are. An error that ends the transaction is every job's error.
func (s *Store) CompleteOutboxBatch(ctx context.Context, batch []Completion) (errs []error) {
	errs = make([]error, len(batch))
	valid := make([]bool, len(batch))
	for i, c := range batch {
		errs[i] = validateSettle(c.Claim, c.Links, c.Entries)
		if errs[i] == nil {
			if err := validateOutboxJobs(c.Follow); err != nil {
				errs[i] = fmt.Errorf("follow-up %w", err)
			}
		}
		valid[i] = errs[i] == nil
	}
	history := false
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		for i, c := range batch {
			if !valid[i] {
				continue
			}
			// A savepoint per job undoes only that job when it fails.
			if _, err := s.txExec(ctx, tx, `SAVEPOINT job`); err != nil {
				return err
			}
			jerr := settleTx(ctx, s, tx, c.Claim, c.Links, c.Entries, nil)
			if jerr == nil && len(c.Follow) > 0 {
				_, jerr = s.enqueueTx(ctx, tx, c.Follow)
			}
			if jerr != nil {
				if _, err := s.txExec(ctx, tx, `ROLLBACK TO job`); err != nil {
					return err
				}
				errs[i] = jerr
			} else if len(c.Entries) > 0 {
				history = true
			}
			if _, err := s.txExec(ctx, tx, `RELEASE job`); err != nil {
				return err
			}
		}
		return nil
	})
	for i, c := range batch {
		e := errs[i]
		if err != nil && valid[i] {
			e = err
		}
		if e != nil {
			errs[i] = fmt.Errorf("complete outbox item %d: %w", c.Claim.ID, e)
		}
	}
	if err == nil && history {
		s.historyCommitted(ctx)
	}
	return errs
}
