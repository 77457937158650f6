package store

// Read helpers for the console's Conversations screen. ActiveDEMAND's API
// lists conversations only as "changed since", so the screen's ActiveDEMAND
// side is what the store knows: the conversation links of the id map and
// the message jobs of the outbox.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// conversationPrefix is how the sync keys a conversation link: one
// HighLevel conversation per ActiveDEMAND contact.
const conversationPrefix = "contact/"

// MaxConversationPage bounds one page of ConversationLinks.
const MaxConversationPage = 500

// ConversationLink is an ActiveDEMAND contact's conversation linked to its
// HighLevel conversation.
type ConversationLink struct {
	ADContactID string
	GHLID       string
	LinkedAt    time.Time
}

// ConversationFilter selects a page of conversation links.
type ConversationFilter struct {
	// Text keeps links whose AD contact id or GHL conversation id
	// contains it, case-insensitively.
	Text string
	// After resumes after this AD contact id (the previous page's last);
	// "" starts at the first.
	After string
	// Limit is the page size (default 100, at most MaxConversationPage).
	Limit int
}

// ConversationLinks returns one page of conversation links in AD contact
// id order. Pages are keyset reads on the id map's primary key, so a page
// deep into 100,000 links costs what the first does.
func (s *Store) ConversationLinks(ctx context.Context, f ConversationFilter) ([]ConversationLink, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, MaxConversationPage)
	lo, hi := prefixRange(conversationPrefix)
	if f.After != "" {
		lo = conversationPrefix + f.After + "\x00"
	}
	q := `SELECT ad_id, ghl_id, linked_at FROM id_map WHERE kind = ? AND ad_id >= ? AND ad_id < ?`
	args := []any{string(KindConversation), lo, hi}
	if t := strings.ToLower(strings.TrimSpace(f.Text)); t != "" {
		q += ` AND (instr(lower(substr(ad_id, ?)), ?) > 0 OR instr(lower(ghl_id), ?) > 0)`
		args = append(args, len(conversationPrefix)+1, t, t)
	}
	q += ` ORDER BY ad_id LIMIT ?`
	args = append(args, f.Limit)
	links, err := queryAll(ctx, s.r, scanConversationLink, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list conversation links: %w", err)
	}
	return links, nil
}

func scanConversationLink(r rowScanner) (ConversationLink, error) {
	var l ConversationLink
	var at int64
	err := r.Scan(&l.ADContactID, &l.GHLID, &at)
	l.ADContactID = strings.TrimPrefix(l.ADContactID, conversationPrefix)
	l.LinkedAt = fromMillis(at)
	return l, err
}

// ConversationLinksOf returns the conversation links of these AD contacts
// in AD contact id order; contacts without a conversation are left out.
func (s *Store) ConversationLinksOf(ctx context.Context, adContactIDs []string) ([]ConversationLink, error) {
	keys := make([]string, len(adContactIDs))
	for i, id := range adContactIDs {
		keys[i] = conversationPrefix + id
	}
	var out []ConversationLink
	for chunk := range chunks(keys) {
		args := append([]any{string(KindConversation)}, chunk...)
		links, err := queryAll(ctx, s.r, scanConversationLink,
			`SELECT ad_id, ghl_id, linked_at FROM id_map WHERE kind = ? AND ad_id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("look up conversation links: %w", err)
		}
		out = append(out, links...)
	}
	slices.SortFunc(out, func(a, b ConversationLink) int { return strings.Compare(a.ADContactID, b.ADContactID) })
	return out, nil
}

// JobCounts counts one contact's outbox jobs that are not done.
type JobCounts struct {
	// Pending counts pending and in-flight jobs, Dead the given-up ones.
	Pending, Dead int
}

// UnsettledByContact counts the jobs of kind that are not done, per value
// of the JSON field path of their payload (e.g. "$.contact.id"). Done jobs
// pile up and are skipped by their state before any payload is parsed, so
// the cost is one pass over the table's state column plus the open work.
func (s *Store) UnsettledByContact(ctx context.Context, kind, path string) (map[string]JobCounts, error) {
	rows, err := queryAll(ctx, s.r, func(r rowScanner) (struct {
		id, state string
		n         int
	}, error) {
		var v struct {
			id, state string
			n         int
		}
		return v, r.Scan(&v.id, &v.state, &v.n)
	}, `SELECT coalesce(json_extract(CAST(payload AS TEXT), ?), ''), state, count(*) FROM outbox
		WHERE kind = ? AND state != 'done' GROUP BY 1, 2`, path, kind)
	if err != nil {
		return nil, fmt.Errorf("count unsettled %s jobs: %w", kind, err)
	}
	out := map[string]JobCounts{}
	for _, r := range rows {
		c := out[r.id]
		if OutboxState(r.state) == OutboxDead {
			c.Dead += r.n
		} else {
			c.Pending += r.n
		}
		out[r.id] = c
	}
	return out, nil
}

// OutboxWithValue returns up to limit jobs of kind whose payload's JSON
// field path equals value, in queue order: e.g. every message job of one
// contact. It reads every job of kind, so it is for one conversation at a
// time, not for lists.
func (s *Store) OutboxWithValue(ctx context.Context, kind, path, value string, limit int) ([]OutboxItem, error) {
	items, err := queryAll(ctx, s.r, scanOutbox, `SELECT `+outboxColumns+` FROM outbox
		WHERE kind = ? AND json_extract(CAST(payload AS TEXT), ?) = ? ORDER BY id LIMIT ?`, kind, path, value, limit)
	if err != nil {
		return nil, fmt.Errorf("list %s jobs of %s: %w", kind, value, err)
	}
	return items, nil
}

// ConversationLinksFor maps AD contact ids to their linked GHL
// conversation ids; contacts without a conversation are left out.
func (s *Store) ConversationLinksFor(ctx context.Context, adContactIDs []string) (map[string]string, error) {
	keys := make([]string, len(adContactIDs))
	for i, id := range adContactIDs {
		keys[i] = conversationPrefix + id
	}
	out := make(map[string]string, len(keys))
	for chunk := range chunks(keys) {
		args := append([]any{string(KindConversation)}, chunk...)
		rows, err := queryAll(ctx, s.r, func(r rowScanner) ([2]string, error) {
			var p [2]string
			return p, r.Scan(&p[0], &p[1])
		}, `SELECT ad_id, ghl_id FROM id_map WHERE kind = ? AND ad_id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("look up conversation links: %w", err)
		}
		for _, p := range rows {
			out[strings.TrimPrefix(p[0], conversationPrefix)] = p[1]
		}
	}
	return out, nil
}

// LatestOutboxPayloads returns, for each prefix, the payload of the most
// recently queued outbox item whose key starts with it; prefixes with none
// are left out. Each is one range read of the key's index, so a list can
// ask for its page's rows: e.g. the newest contact job of each contact.
func (s *Store) LatestOutboxPayloads(ctx context.Context, prefixes []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(prefixes))
	if len(prefixes) == 0 {
		return out, nil
	}
	st, err := s.r.PrepareContext(ctx, latestOutboxPayloadSQL)
	if err != nil {
		return nil, fmt.Errorf("look up the latest outbox items: %w", err)
	}
	defer st.Close()
	for _, p := range prefixes {
		lo, hi := prefixRange(p)
		var payload []byte
		err := st.QueryRowContext(ctx, lo, hi).Scan(&payload)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("look up the latest outbox item %q: %w", p, err)
		}
		out[p] = payload
	}
	return out, nil
}

const latestOutboxPayloadSQL = `SELECT payload FROM outbox WHERE key >= ? AND key < ? ORDER BY id DESC LIMIT 1`

// EachOutboxFields calls fn with the key and the JSON fields at paths of
// every outbox item whose key starts with prefix, in key order, until fn
// returns an error, which it returns; fields is reused between calls. An
// absent field is "". It reads the key's index by range: e.g. every
// contact job, for finding contacts by name, without reading the message
// jobs.
func (s *Store) EachOutboxFields(ctx context.Context, prefix string, paths []string, fn func(key string, fields []string) error) error {
	if len(paths) == 0 {
		return errors.New("read outbox items: no field named")
	}
	lo, hi := prefixRange(prefix)
	cols := make([]string, len(paths))
	args := make([]any, 0, len(paths)+2)
	for i, p := range paths {
		cols[i] = `coalesce(json_extract(CAST(payload AS TEXT), ?), '')`
		args = append(args, p)
	}
	args = append(args, lo, hi)
	// #nosec G202 -- one fixed expression per path; the paths are bound
	rows, err := s.r.QueryContext(ctx, `SELECT key, `+strings.Join(cols, ", ")+` FROM outbox WHERE key >= ? AND key < ? ORDER BY key`, args...)
	if err != nil {
		return fmt.Errorf("read outbox items %q: %w", prefix, err)
	}
	defer rows.Close()
	fields := make([]string, len(paths))
	dest := make([]any, len(paths)+1)
	var key string
	dest[0] = &key
	for i := range fields {
		dest[i+1] = &fields[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("read outbox items %q: %w", prefix, err)
		}
		if err := fn(key, fields); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read outbox items %q: %w", prefix, err)
	}
	return nil
}
