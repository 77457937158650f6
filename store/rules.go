package store

// Routing rules and what they did. The store keeps a rule's conditions and
// actions as an opaque JSON body: sync/routing owns their meaning and
// validates them before they get here, so the schema does not change when a
// rule learns a new condition.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Operations of routing, recorded in history: one row per decision and one
// per action taken on it.
const (
	// OpRouteMatch is a rule matching a call's transcript (or, skipped,
	// none matching); its error text says why.
	OpRouteMatch Operation = "route.match"
	// OpContactTag adds a rule's team tag to the HighLevel contact.
	OpContactTag Operation = "contact.tag"
	// OpContactAssign assigns the HighLevel contact to a rule's user.
	OpContactAssign Operation = "contact.assign"
	// OpTaskCreate creates a rule's task on the HighLevel contact.
	OpTaskCreate Operation = "task.create"
	// OpRouteAlert raises a rule's alert in Parley.
	OpRouteAlert Operation = "route.alert"
	// OpADTask creates a rule's task in ActiveDEMAND.
	OpADTask Operation = "ad.task"
)

// RuleRecord is a routing rule as stored.
type RuleRecord struct {
	// ID is assigned by SaveRule.
	ID int64
	// Name is unique among rules.
	Name    string
	Enabled bool
	// Position orders the rules (lowest first); SaveRule puts a new rule
	// last, ReorderRules changes it.
	Position int
	// Body is the rule's conditions and actions as JSON (sync/routing).
	Body []byte
	// UpdatedAt is when it was last saved.
	UpdatedAt time.Time
}

// ErrRuleNameTaken is returned by SaveRule when another rule has the name.
var ErrRuleNameTaken = errors.New("another routing rule has this name")

// SaveRule inserts r (ID 0, placed after the others) or updates the rule
// with r.ID (its position is kept), and returns its id.
func (s *Store) SaveRule(ctx context.Context, r RuleRecord) (int64, error) {
	r.Name = strings.TrimSpace(r.Name)
	switch {
	case r.Name == "":
		return 0, fmt.Errorf("save routing rule: %w", invalidf("the rule has no name"))
	case !json.Valid(r.Body):
		return 0, fmt.Errorf("save routing rule %q: %w", r.Name, invalidf("its body is not JSON"))
	}
	id := r.ID
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var other int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM routing_rules WHERE name = ? AND id != ?`, r.Name, r.ID).Scan(&other)
		if err == nil {
			return fmt.Errorf("%w: rule %d is called %q already; choose another name", ErrRuleNameTaken, other, r.Name)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if r.ID == 0 {
			return tx.QueryRowContext(ctx, `INSERT INTO routing_rules (name, enabled, position, body, updated_at)
				VALUES (?, ?, (SELECT coalesce(max(position), 0) + 1 FROM routing_rules), ?, ?) RETURNING id`,
				r.Name, r.Enabled, string(r.Body), toMillis(s.now())).Scan(&id)
		}
		res, err := tx.ExecContext(ctx, `UPDATE routing_rules SET name = ?, enabled = ?, body = ?, updated_at = ? WHERE id = ?`,
			r.Name, r.Enabled, string(r.Body), toMillis(s.now()), r.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("save routing rule %q: %w", r.Name, err)
	}
	return id, nil
}

const ruleColumns = `id, name, enabled, position, body, updated_at`

func scanRule(rows rowScanner) (RuleRecord, error) {
	var r RuleRecord
	var body string
	var at int64
	err := rows.Scan(&r.ID, &r.Name, &r.Enabled, &r.Position, &body, &at)
	r.Body, r.UpdatedAt = []byte(body), fromMillis(at)
	return r, err
}

// Rules returns every routing rule in order.
func (s *Store) Rules(ctx context.Context) ([]RuleRecord, error) {
	rs, err := queryAll(ctx, s.r, scanRule, `SELECT `+ruleColumns+` FROM routing_rules ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("list routing rules: %w", err)
	}
	return rs, nil
}

// Rule returns one routing rule, or ErrNotFound.
func (s *Store) Rule(ctx context.Context, id int64) (RuleRecord, error) {
	rs, err := queryAll(ctx, s.r, scanRule, `SELECT `+ruleColumns+` FROM routing_rules WHERE id = ?`, id)
	if err == nil && len(rs) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return RuleRecord{}, fmt.Errorf("read routing rule %d: %w", id, err)
	}
	return rs[0], nil
}

// DeleteRule removes a routing rule; its past decisions stay in history.
func (s *Store) DeleteRule(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM routing_rules WHERE id = ?`, id)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("delete routing rule %d: %w", id, err)
	}
	return nil
}

// ReorderRules sets the rules' order to ids, which must list every rule
// once.
func (s *Store) ReorderRules(ctx context.Context, ids []int64) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var have []int64
		rows, err := tx.QueryContext(ctx, `SELECT id FROM routing_rules ORDER BY id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close() // #nosec G104 -- the Scan error is returned; Close only frees the statement
				return err
			}
			have = append(have, id)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if want := slices.Sorted(slices.Values(ids)); !slices.Equal(want, have) {
			return invalidf("the new order lists rules %v but the rules are %v; reload the rules and try again", want, have)
		}
		for i, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE routing_rules SET position = ? WHERE id = ?`, i+1, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reorder routing rules: %w", err)
	}
	return nil
}

// RecentTranscripts returns up to n transcript files of the media index,
// newest first, for trying a rule on recent calls.
func (s *Store) RecentTranscripts(ctx context.Context, n int) ([]MediaFile, error) {
	if n <= 0 {
		return nil, fmt.Errorf("list recent transcripts: %w", invalidf("count %d must be positive", n))
	}
	m, err := s.queryMedia(ctx, `WHERE kind = ? ORDER BY fetched_at DESC, id DESC LIMIT ?`, string(MediaTranscript), n)
	if err != nil {
		return nil, fmt.Errorf("list recent transcripts: %w", err)
	}
	return m, nil
}

// RouteDecision is why one rule matched one call, for the contact's
// timeline.
type RouteDecision struct {
	At time.Time
	// MessageID and ContactID are the HighLevel call and contact.
	MessageID, ContactID string
	RuleID               int64
	RuleName             string
	// Sentence is the transcript sentence of the first match, Offset its
	// time into the recording, Matched the words, Why all of it in words.
	Sentence int
	Offset   time.Duration
	Matched  string
	Why      string
}

// RecordRouteDecisions stores decisions; one for a call and rule that is
// already stored replaces it, so routing a call again adds nothing.
func (s *Store) RecordRouteDecisions(ctx context.Context, ds []RouteDecision) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		for _, d := range ds {
			if d.MessageID == "" || d.RuleID == 0 {
				return invalidf("a decision needs a message id and a rule id")
			}
			at := d.At
			if at.IsZero() {
				at = s.now()
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO routing_decisions (at, message_id, contact_id, rule_id, rule_name, sentence, offset_ms, matched, why)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (message_id, rule_id) DO UPDATE SET at = excluded.at, contact_id = excluded.contact_id, rule_name = excluded.rule_name,
					sentence = excluded.sentence, offset_ms = excluded.offset_ms, matched = excluded.matched, why = excluded.why`,
				toMillis(at), d.MessageID, d.ContactID, d.RuleID, d.RuleName, d.Sentence, d.Offset.Milliseconds(), d.Matched, d.Why)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d routing decisions: %w", len(ds), err)
	}
	return nil
}

// RouteDecisionsForContact returns the routing decisions about a
// HighLevel contact's calls, newest first.
func (s *Store) RouteDecisionsForContact(ctx context.Context, contactID string) ([]RouteDecision, error) {
	out, err := queryAll(ctx, s.r, func(rows rowScanner) (RouteDecision, error) {
		var d RouteDecision
		var at, off int64
		err := rows.Scan(&at, &d.MessageID, &d.ContactID, &d.RuleID, &d.RuleName, &d.Sentence, &off, &d.Matched, &d.Why)
		d.At, d.Offset = fromMillis(at), time.Duration(off)*time.Millisecond
		return d, err
	}, `SELECT at, message_id, contact_id, rule_id, rule_name, sentence, offset_ms, matched, why FROM routing_decisions
		WHERE contact_id = ? ORDER BY at DESC, id DESC`, contactID)
	if err != nil {
		return nil, fmt.Errorf("list routing decisions of contact %q: %w", contactID, err)
	}
	return out, nil
}

// RaiseAlertOnce raises a as RaiseAlert does, but at most once per key,
// ever: the key is stored with the alert in one transaction. It returns
// the alert's id and whether this call raised it.
func (s *Store) RaiseAlertOnce(ctx context.Context, key string, a Alert) (int64, bool, error) {
	if strings.TrimSpace(key) == "" {
		return 0, false, fmt.Errorf("raise alert once: %w", invalidf("key is empty"))
	}
	switch {
	case !a.Severity.valid():
		return 0, false, fmt.Errorf("raise alert once: %w", invalidf("unknown severity %q", a.Severity))
	case strings.TrimSpace(a.Source) == "" || strings.TrimSpace(a.Message) == "":
		return 0, false, fmt.Errorf("raise alert once: %w", invalidf("source and message are required"))
	}
	if a.At.IsZero() {
		a.At = s.now()
	}
	var id int64
	raised := false
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT alert_id FROM alert_keys WHERE key = ?`, key).Scan(&id)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO alerts (at, severity, source, message, hint) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			toMillis(a.At), string(a.Severity), a.Source, a.Message, a.Hint).Scan(&id); err != nil {
			return err
		}
		raised = true
		_, err = tx.ExecContext(ctx, `INSERT INTO alert_keys (key, alert_id) VALUES (?, ?)`, key, id)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("raise %s alert %q from %s: %w", a.Severity, key, a.Source, err)
	}
	return id, raised, nil
}
