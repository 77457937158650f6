package store

// Read helpers for the console's Contact screen: which contacts are linked,
// which AD messages mirror which GHL messages, the history rows of a
// contact's records, and every transcript for full-text search.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ContactLink is a contact known on both sides.
type ContactLink struct {
	ADID, GHLID string
	// LinkedAt is when the sync first linked them.
	LinkedAt time.Time
}

// LinkedContacts lists linked contacts, most recently linked first, at most
// limit (0 means all).
func (s *Store) LinkedContacts(ctx context.Context, limit int) ([]ContactLink, error) {
	q := `SELECT ad_id, ghl_id, linked_at FROM id_map WHERE kind = ? ORDER BY linked_at DESC, ghl_id`
	args := []any{string(KindContact)}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	out, err := queryAll(ctx, s.r, func(r rowScanner) (ContactLink, error) {
		var c ContactLink
		var at int64
		err := r.Scan(&c.ADID, &c.GHLID, &at)
		c.LinkedAt = fromMillis(at)
		return c, err
	}, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list linked contacts: %w", err)
	}
	return out, nil
}

// idsPerQuery bounds the placeholders of one IN list, well under SQLite's
// limit of 32766 variables.
const idsPerQuery = 500

// ADIDsFor maps GHL ids of one kind to their AD ids; ids without a link are
// left out.
func (s *Store) ADIDsFor(ctx context.Context, kind EntityKind, ghlIDs []string) (map[string]string, error) {
	out := make(map[string]string, len(ghlIDs))
	for chunk := range chunks(ghlIDs) {
		args := append([]any{string(kind)}, chunk...)
		rows, err := queryAll(ctx, s.r, func(r rowScanner) ([2]string, error) {
			var p [2]string
			return p, r.Scan(&p[0], &p[1])
		}, `SELECT ghl_id, ad_id FROM id_map WHERE kind = ? AND ghl_id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("look up AD %s ids: %w", kind, err)
		}
		for _, p := range rows {
			out[p[0]] = p[1]
		}
	}
	return out, nil
}

// HistoryFor returns the history rows whose AD-side or GHL-side id is one of
// ids, newest first, at most limit (capped at MaxHistoryLimit).
//
// Each id is looked up in history_ids for the rows the background indexer
// has done; the few rows above its watermark are read by id range. So the
// cost follows the contact's rows, not the table's.
func (s *Store) HistoryFor(ctx context.Context, ids []string, limit int) ([]HistoryEntry, error) {
	if limit <= 0 || limit > MaxHistoryLimit {
		limit = MaxHistoryLimit
	}
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("history of %d records: %w", len(ids), err)
	}
	out, err := queryAll(ctx, s.r, scanHistory, historyForQuery, string(list), limit)
	if err != nil {
		return nil, fmt.Errorf("history of %d records: %w", len(ids), err)
	}
	return out, nil
}

// historyForQuery is HistoryFor's query: a JSON array of ids, then the
// limit. IN over a UNION finds a row once even when both its ids are
// asked for.
const historyForQuery = `WITH ids(v) AS (SELECT value FROM json_each(?)),
		mark(n) AS (SELECT indexed_through FROM history_fts_progress)
		SELECT ` + historySelect + ` FROM history h
		WHERE h.id IN (
			SELECT history_id FROM history_ids WHERE ref IN (SELECT v FROM ids)
			UNION
			SELECT id FROM history WHERE id > (SELECT n FROM mark)
				AND (local_id IN (SELECT v FROM ids) OR remote_id IN (SELECT v FROM ids)))
		ORDER BY h.id DESC LIMIT ?`

// indexHistoryIDs adds the history rows from < id <= to to history_ids
// under both their ids (arguments: from, to, from, to); the indexer runs
// it with the search index's chunk.
const indexHistoryIDs = `INSERT OR IGNORE INTO history_ids (ref, history_id)
		SELECT local_id, id FROM history WHERE id > ? AND id <= ? AND local_id <> ''
		UNION ALL
		SELECT remote_id, id FROM history WHERE id > ? AND id <= ? AND remote_id <> ''`

// MediaOfKind lists media files of one kind in id order, those with an id
// above afterID, at most limit: a caller pages through every transcript.
func (s *Store) MediaOfKind(ctx context.Context, kind MediaKind, afterID int64, limit int) ([]MediaFile, error) {
	if !kind.valid() {
		return nil, fmt.Errorf("list media: %w", invalidf("unknown media kind %q", kind))
	}
	if limit <= 0 {
		limit = 1000
	}
	m, err := s.queryMedia(ctx, `WHERE kind = ? AND id > ? ORDER BY id LIMIT ?`, string(kind), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list %s files: %w", kind, err)
	}
	return m, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// chunks yields ids in slices of at most idsPerQuery, as []any for query
// arguments.
func chunks(ids []string) func(func([]any) bool) {
	return func(yield func([]any) bool) {
		for len(ids) > 0 {
			n := min(len(ids), idsPerQuery)
			c := make([]any, n)
			for i, id := range ids[:n] {
				c[i] = id
			}
			if !yield(c) {
				return
			}
			ids = ids[n:]
		}
	}
}
