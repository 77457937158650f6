package store

// History search.
//
// What the user gets: the words they type are matched case-insensitively
// against the operation, local id, remote id and error text. Every word must
// match; a word matches when it is a word of one of those fields or the start
// of one ("rate limit" finds "429 rate limited", "ad-msg-12" finds
// "ad-msg-123456", "H3ts" finds GHL id "H3tsI3Fbz..."). Punctuation separates
// words, so nothing the user types (quotes, *, -, OR) is query syntax. A
// single character only matches a whole word: as a prefix it would match
// nearly everything and cost a full index merge.
//
// How, and why this way (measured on this driver, 2 cores, 1M realistic rows;
// BENCHMARKS.md has the current figures):
//
//   - LIKE '%term%' over the four columns takes ~350 ms for a term that
//     matches nothing, ~270 ms even when an (operation, outcome) index
//     narrows it to one common operation: an index is needed.
//   - A trigram FTS5 index (true substring search) indexes only ~20k rows/s
//     and, with positions, doubles the file (~450 MB). Word tokens
//     (unicode61, with the 2- and 3-character prefix indexes) index
//     ~65-85k rows/s and add ~140 MB to ~85 MB of history rows.
//   - Maintaining any index inside the appending transaction misses the
//     200k rows/s append target: a bare insert costs ~3-4 us per row here,
//     one (operation, outcome, id) B-tree index brings it to ~135-170k
//     rows/s, an FTS5 index kept by trigger to ~26k rows/s.
//
// So history itself has no secondary index at all, and history_fts (FTS5,
// unicode61, contentless) is filled behind the writes by a background
// indexer that runs when appends pause. history_fts_progress records how far
// it got. A page is read in one snapshot: rows newer than the watermark are
// scanned and matched in Go (normally a handful, since the indexer catches up
// within a second of a pause), older rows come from the index. Both paths
// implement the same matching rules, which search_test.go checks against
// each other and against a brute-force reference.
//
// Filters are in the index too: the "tags" column holds one exact token per
// operation, outcome and system value, and the filter becomes an AND of tag
// terms that FTS5 intersects with the text terms. That keeps a filtered page
// fast without any B-tree index. Operation names are not indexed as text;
// their handful of values are matched in Go and become tag terms, which
// keeps near-universal words like "message" or "push" out of the index.

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxSearchWords bounds the size of the FTS query a search box can produce.
const maxSearchWords = 16

// searchTerm is one word of the search text, as the tokens FTS5 makes of it.
// The last token is matched as a prefix when prefix is set.
type searchTerm struct {
	toks   []string
	prefix bool
}

// parseSearch splits the search box text into terms. Words without any
// letters or digits are dropped.
func parseSearch(text string) []searchTerm {
	var terms []searchTerm
	for _, w := range strings.Fields(text) {
		toks := searchTokens(w)
		if len(toks) == 0 {
			continue
		}
		last := toks[len(toks)-1]
		terms = append(terms, searchTerm{toks: toks, prefix: utf8.RuneCountInString(last) >= 2})
		if len(terms) == maxSearchWords {
			break
		}
	}
	return terms
}

// searchTokens tokenizes like FTS5's "unicode61 remove_diacritics 0": runs of
// letters, digits and private-use characters, lower-cased. Rows that are not
// indexed yet are matched with these tokens, so it must not drift from the
// tokenizer declared in 0002_history_search.sql (search_test.go compares them).
func searchTokens(s string) []string {
	var toks []string
	start := -1
	for i, r := range s {
		if isTokenRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			toks = append(toks, strings.ToLower(s[start:i]))
			start = -1
		}
	}
	if start >= 0 {
		toks = append(toks, strings.ToLower(s[start:]))
	}
	return toks
}

func isTokenRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// matches reports whether the term occurs in a field's tokens: consecutive
// tokens equal to the term's, the last one possibly only as a prefix. This is
// FTS5's phrase query semantics.
func (t searchTerm) matches(field []string) bool {
	n := len(t.toks)
	for i := 0; i+n <= len(field); i++ {
		ok := true
		for j, q := range t.toks {
			f := field[i+j]
			if j == n-1 && t.prefix {
				ok = strings.HasPrefix(f, q)
			} else {
				ok = f == q
			}
			if !ok {
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// phrase renders the term as an FTS5 phrase. Tokens hold only letters and
// digits, so there is nothing to escape.
func (t searchTerm) phrase() string {
	p := `"` + strings.Join(t.toks, " ") + `"`
	if t.prefix {
		p += "*"
	}
	return p
}

// tagTerm is the FTS5 term for a filter value in the tags column. Hex keeps
// any value a single token; the indexer builds the same with SQL hex().
func tagTerm(kind, value string) string {
	return fmt.Sprintf(`tags : "%s%X"`, kind, value)
}

const ftsTextColumns = `{local_id remote_id error} : `

// ftsQuery builds the MATCH expression for f. ops are the known operations,
// needed only to translate words that match an operation name.
func ftsQuery(f HistoryFilter, terms []searchTerm, ops []Operation) string {
	var parts []string
	for _, t := range terms {
		text := ftsTextColumns + t.phrase()
		if f.Operation != "" {
			// Every row has this operation: the word is either always
			// satisfied by it or must match elsewhere.
			if t.matches(searchTokens(string(f.Operation))) {
				continue
			}
			parts = append(parts, text)
			continue
		}
		alts := []string{text}
		for _, op := range ops {
			if t.matches(searchTokens(string(op))) {
				alts = append(alts, tagTerm("op", string(op)))
			}
		}
		if len(alts) == 1 {
			parts = append(parts, text)
		} else {
			parts = append(parts, "("+strings.Join(alts, " OR ")+")")
		}
	}
	if f.Operation != "" {
		parts = append(parts, tagTerm("op", string(f.Operation)))
	}
	if f.Outcome != "" {
		parts = append(parts, tagTerm("oc", string(f.Outcome)))
	}
	if f.System != "" {
		parts = append(parts, tagTerm("sy", string(f.System)))
	}
	return strings.Join(parts, " AND ")
}

// matchesEntry applies the search to one history row in Go: the same rules
// as ftsQuery, used for rows the index does not cover yet.
func matchesEntry(e HistoryEntry, terms []searchTerm) bool {
	if len(terms) == 0 {
		return true
	}
	return matchesFields(entryFields(e), terms)
}

// entryFields are the tokens of the fields the search box looks at.
func entryFields(e HistoryEntry) [4][]string {
	return [4][]string{
		searchTokens(string(e.Operation)),
		searchTokens(e.LocalID),
		searchTokens(e.RemoteID),
		searchTokens(e.Error),
	}
}

func matchesFields(fields [4][]string, terms []searchTerm) bool {
	for _, t := range terms {
		found := false
		for _, f := range fields {
			if t.matches(f) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// historyPage reads one page inside the read transaction tx.
func historyPage(ctx context.Context, tx *sql.Tx, f HistoryFilter) ([]HistoryEntry, error) {
	terms := parseSearch(f.Text)
	before := f.BeforeID
	if before == 0 {
		before = math.MaxInt64
	}
	if len(terms) == 0 && f.Operation == "" && f.Outcome == "" && f.System == "" {
		return queryHistory(ctx, tx, `SELECT `+historySelect+` FROM history h WHERE h.id < ? ORDER BY h.id DESC LIMIT ?`, before, f.Limit)
	}

	var indexed int64
	if err := tx.QueryRowContext(ctx, `SELECT indexed_through FROM history_fts_progress`).Scan(&indexed); err != nil {
		return nil, err
	}
	var page []HistoryEntry
	if before > indexed+1 {
		var err error
		if page, err = scanTail(ctx, tx, f, terms, indexed, before); err != nil {
			return nil, err
		}
	}
	upper := min(before, indexed+1)
	if len(page) == f.Limit || upper <= 1 {
		return page, nil
	}
	var ops []Operation
	if f.Operation == "" && len(terms) > 0 {
		var err error
		if ops, err = operations(ctx, tx); err != nil {
			return nil, err
		}
	}
	// CROSS JOIN pins the index as the outer loop: FTS5 hands out matching
	// rowids newest first and the LIMIT stops it early.
	older, err := queryHistory(ctx, tx, `SELECT `+historySelect+` FROM history_fts CROSS JOIN history h ON h.id = history_fts.rowid
		WHERE history_fts MATCH ? AND history_fts.rowid < ? ORDER BY history_fts.rowid DESC LIMIT ?`,
		ftsQuery(f, terms, ops), upper, f.Limit-len(page))
	if err != nil {
		return nil, err
	}
	return append(page, older...), nil
}

// scanTail returns matching rows with indexed < id < before, newest first.
func scanTail(ctx context.Context, tx *sql.Tx, f HistoryFilter, terms []searchTerm, indexed, before int64) ([]HistoryEntry, error) {
	q := `SELECT ` + historySelect + ` FROM history h WHERE h.id > ? AND h.id < ?`
	args := []any{indexed, before}
	for _, c := range []struct{ col, val string }{
		{"operation", string(f.Operation)}, {"outcome", string(f.Outcome)}, {"system", string(f.System)},
	} {
		if c.val != "" {
			q += ` AND h.` + c.col + ` = ?`
			args = append(args, c.val)
		}
	}
	rows, err := tx.QueryContext(ctx, q+` ORDER BY h.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var page []HistoryEntry
	for len(page) < f.Limit && rows.Next() {
		e, err := scanHistory(rows)
		if err != nil {
			return nil, err
		}
		if matchesEntry(e, terms) {
			page = append(page, e)
		}
	}
	return page, rows.Err()
}

func queryHistory(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]HistoryEntry, error) {
	return queryAll(ctx, tx, scanHistory, q, args...)
}

// operations lists the distinct operations recorded so far, sorted.
func operations(ctx context.Context, q querier) ([]Operation, error) {
	return queryAll(ctx, q, func(rows rowScanner) (Operation, error) {
		var op string
		err := rows.Scan(&op)
		return Operation(op), err
	}, `SELECT name FROM history_operations ORDER BY name`)
}

// Background indexer tuning. A chunk holds the writer for roughly 50 ms, so
// an append waits at most that long; waiting for a pause keeps the indexer
// from halving the append rate during a burst, the deadline keeps a steady
// trickle of appends from starving it.
const (
	indexChunk    = 2000
	indexQuiet    = 250 * time.Millisecond
	indexMaxDelay = 2 * time.Second
	indexRetry    = 5 * time.Second
)

func (s *Store) kickIndexer() {
	select {
	case s.indexKick <- struct{}{}:
	default:
	}
}

func (s *Store) indexLoop(ctx context.Context) {
	defer close(s.indexDone)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.indexKick:
		}
		if !s.waitQuiet(ctx) {
			return
		}
		for {
			more, err := s.indexHistory(ctx, indexChunk)
			if err != nil {
				// Searches stay correct without the index, only
				// slower; try again later rather than give up.
				select {
				case <-ctx.Done():
					return
				case <-time.After(indexRetry):
				}
				s.kickIndexer()
				break
			}
			if !more {
				break
			}
			select {
			case <-s.indexKick: // appends arrived meanwhile: let them go first
				if !s.waitQuiet(ctx) {
					return
				}
			default:
			}
		}
	}
}

// waitQuiet waits until no append happened for indexQuiet, or indexMaxDelay
// passed. It returns false when the store is closing.
func (s *Store) waitQuiet(ctx context.Context) bool {
	deadline := time.NewTimer(indexMaxDelay)
	defer deadline.Stop()
	quiet := time.NewTimer(indexQuiet)
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return true
		case <-quiet.C:
			return true
		case <-s.indexKick:
			quiet.Reset(indexQuiet)
		}
	}
}

// indexHistory adds up to limit history rows past the watermark to the
// search index in one transaction and reports whether more remain.
//
// The watermark relies on history ids only growing. Rows are never deleted
// today; a future retention job must not delete the newest row (SQLite would
// hand its id out again) or it must lower the watermark.
func (s *Store) indexHistory(ctx context.Context, limit int) (more bool, err error) {
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		var from, last int64
		if err := tx.QueryRowContext(ctx, `SELECT indexed_through FROM history_fts_progress`).Scan(&from); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM history`).Scan(&last); err != nil {
			return err
		}
		if last <= from {
			return nil
		}
		to := min(last, from+int64(limit))
		if _, err := tx.ExecContext(ctx, `INSERT INTO history_fts (rowid, local_id, remote_id, error, tags)
			SELECT id, local_id, remote_id, error, 'op' || hex(operation) || ' oc' || hex(outcome) || ' sy' || hex(system)
			FROM history WHERE id > ? AND id <= ?`, from, to); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE history_fts_progress SET indexed_through = ?`, to); err != nil {
			return err
		}
		more = to < last
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("index history: %w", err)
	}
	return more, nil
}
