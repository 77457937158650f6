package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// EntityKind is the kind of record an id pair refers to. Ids are unique per
// kind only: a contact and a message may share an id string.
type EntityKind string

// Kinds of linked records.
const (
	KindContact      EntityKind = "contact"
	KindConversation EntityKind = "conversation"
	KindMessage      EntityKind = "message"
)

func (k EntityKind) valid() bool {
	return k == KindContact || k == KindConversation || k == KindMessage
}

func validateID(kind EntityKind, side, id string) error {
	if !kind.valid() {
		return invalidf("unknown entity kind %q", kind)
	}
	if strings.TrimSpace(id) == "" {
		return invalidf("%s %s id is empty", kind, side)
	}
	return nil
}

// LinkIDs records that the AD record adID and the GHL record ghlID of the
// given kind are the same thing. Linking the same pair again is a no-op; if
// either id is already linked to a different partner it returns an
// [*IDConflictError] and changes nothing.
func (s *Store) LinkIDs(ctx context.Context, kind EntityKind, adID, ghlID string) error {
	if err := validateID(kind, "AD", adID); err != nil {
		return fmt.Errorf("link %s ids: %w", kind, err)
	}
	if err := validateID(kind, "GHL", ghlID); err != nil {
		return fmt.Errorf("link %s ids: %w", kind, err)
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error { return s.linkIDsTx(ctx, tx, kind, adID, ghlID) })
	if err != nil {
		return fmt.Errorf("link %s ids: %w", kind, err)
	}
	return nil
}

// linkLookupSQL finds a link that uses either id of a pair (kind, AD id,
// kind, GHL id). Written as OR, SQLite scans the table; each half of the
// union is one primary or unique key lookup.
const linkLookupSQL = `SELECT ad_id, ghl_id FROM id_map WHERE kind = ? AND ad_id = ?
	UNION ALL SELECT ad_id, ghl_id FROM id_map WHERE kind = ? AND ghl_id = ? LIMIT 1`

// linkIDsTx is LinkIDs inside tx, after validation. The insert comes
// first, since a new pair is the usual case; only when it hits either
// unique key does the lookup tell the same pair from a conflict.
func (s *Store) linkIDsTx(ctx context.Context, tx *sql.Tx, kind EntityKind, adID, ghlID string) error {
	res, err := s.txExec(ctx, tx, `INSERT INTO id_map (kind, ad_id, ghl_id, linked_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		string(kind), adID, ghlID, toMillis(s.now()))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var ad, ghl string
	err = s.txQueryRow(ctx, tx, linkLookupSQL, string(kind), adID, string(kind), ghlID).Scan(&ad, &ghl)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("link %s %s to %s: the id map refused the pair but holds neither id", kind, adID, ghlID)
	case err != nil:
		return err
	case ad == adID && ghl == ghlID:
		return nil
	default:
		return &IDConflictError{Kind: kind, ADID: adID, GHLID: ghlID, ExistingADID: ad, ExistingGHLID: ghl}
	}
}

// GHLIDFor returns the GHL id linked to an AD id; ok is false when there is none.
func (s *Store) GHLIDFor(ctx context.Context, kind EntityKind, adID string) (ghlID string, ok bool, err error) {
	if err := validateID(kind, "AD", adID); err != nil {
		return "", false, fmt.Errorf("look up GHL %s id: %w", kind, err)
	}
	return s.lookupID(ctx, `SELECT ghl_id FROM id_map WHERE kind = ? AND ad_id = ?`, kind, adID, "GHL")
}

// ADIDFor returns the AD id linked to a GHL id; ok is false when there is none.
func (s *Store) ADIDFor(ctx context.Context, kind EntityKind, ghlID string) (adID string, ok bool, err error) {
	if err := validateID(kind, "GHL", ghlID); err != nil {
		return "", false, fmt.Errorf("look up AD %s id: %w", kind, err)
	}
	return s.lookupID(ctx, `SELECT ad_id FROM id_map WHERE kind = ? AND ghl_id = ?`, kind, ghlID, "AD")
}

func (s *Store) lookupID(ctx context.Context, q string, kind EntityKind, id, want string) (string, bool, error) {
	var other string
	err := s.readRow(ctx, q, string(kind), id).Scan(&other)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("look up %s %s id for %q: %w", want, kind, id, err)
	}
	return other, true, nil
}
