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
//
// One case the tags cannot serve: a word found in most rows of *other*
// operations while the filter excludes them ("contact" with message.push +
// ok). FTS5 intersects two long, disjoint posting lists and walks both to
// the end to find nothing: ~50 ms on 1M rows. So a second index,
// history_scoped_fts, holds every word again with a two-character code of
// its row's operation and outcome in front ("d1contact": message.push, ok),
// and a search filtered by an operation asks it for the scoped words: the
// postings it reads are those of that operation (and outcome) only, never
// more than history_fts would read, since the scoped list is a subset of the
// plain one. The outcome is in the code rather than a tag because
// intersecting a near-universal tag ("ok") with a short list costs a seek
// into every index segment per match. It costs ~80 MB per 1M rows and slows
// the background indexer; appends are not affected.
//
// A time range (Since/Until) becomes an id range through
// history_time_blocks, the earliest and latest time of each block of 1024
// ids, which the indexer keeps with the search index; rows inside the id
// range are still checked by time, so rows recorded out of time order are
// not lost.

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
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

// knownOpCodes are the scope letters of the operations Parley records. They
// are part of history_scoped_fts's content: changing one needs a reindex.
var knownOpCodes = map[Operation]byte{
	OpContactUpsert: 'a', OpContactLookup: 'b', OpConversationUpsert: 'c', OpMessagePush: 'd',
	OpInboundRecord: 'e', OpMediaUpload: 'f', OpMediaFetch: 'g', OpStatusUpdate: 'h', OpImport: 'i',
}

// otherOpCodes are shared by hash among any other operations. Two sharing a
// letter only make a search read both's postings: the query checks the
// operation itself too.
const otherOpCodes = "jklmnopqrstuvwxyz0123456789"

// outcomeCodes are the scope digits of the outcomes (a closed set).
var outcomeCodes = map[Outcome]byte{OutcomeOK: '1', OutcomeFailed: '2', OutcomeRetrying: '3', OutcomeSkipped: '4'}

// scopeCode is the two-character scope of an operation and outcome in
// history_scoped_fts.
func scopeCode(op Operation, outcome Outcome) string {
	c, ok := knownOpCodes[op]
	if !ok {
		h := fnv.New32a()
		h.Write([]byte(op)) // #nosec G104 -- hash.Hash.Write never returns an error
		c = otherOpCodes[h.Sum32()%uint32(len(otherOpCodes))]
	}
	return string([]byte{c, outcomeCodes[outcome]})
}

// scopedText is what history_scoped_fts indexes for a row: the words of
// local id, remote id and error, each behind the row's scope code, with the
// bare code between fields so a phrase cannot run from one into the next (a
// bare code is two characters; every query token has at least three).
func scopedText(op Operation, outcome Outcome, fields ...string) string {
	code := scopeCode(op, outcome)
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteString(code)
			b.WriteByte(' ')
		}
		for _, tok := range searchTokens(f) {
			b.WriteString(code)
			b.WriteString(tok)
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// scopedQuery builds the history_scoped_fts MATCH expression for a search
// filtered by operation, and reports false when there is no word to look
// for beyond the operation itself (the tags of history_fts serve that).
// Without an outcome filter each word is looked for under the four scopes
// of the operation.
func scopedQuery(f HistoryFilter, terms []searchTerm) (string, bool) {
	opToks := searchTokens(string(f.Operation))
	outcomes := []Outcome{f.Outcome}
	if f.Outcome == "" {
		outcomes = []Outcome{OutcomeOK, OutcomeFailed, OutcomeRetrying, OutcomeSkipped}
	}
	var parts []string
	for _, t := range terms {
		if t.matches(opToks) {
			continue
		}
		var alts []string
		for _, oc := range outcomes {
			code := scopeCode(f.Operation, oc)
			p := `scoped : "` + code + strings.Join(t.toks, " "+code) + `"`
			if t.prefix {
				p += "*"
			}
			alts = append(alts, p)
		}
		if len(alts) == 1 {
			parts = append(parts, alts[0])
		} else {
			parts = append(parts, "("+strings.Join(alts, " OR ")+")")
		}
	}
	return strings.Join(parts, " AND "), len(parts) > 0
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
	ranged := !f.Since.IsZero() || !f.Until.IsZero()
	if len(terms) == 0 && f.Operation == "" && f.Outcome == "" && f.System == "" && !ranged {
		return queryHistory(ctx, tx, `SELECT `+historySelect+` FROM history h WHERE h.id < ? ORDER BY h.id DESC LIMIT ?`, before, f.Limit)
	}
	since, until := int64(math.MinInt64), int64(math.MaxInt64)
	if !f.Since.IsZero() {
		since = f.Since.UnixMilli()
	}
	if !f.Until.IsZero() {
		until = f.Until.UnixMilli()
	}

	var indexed int64
	if err := tx.QueryRowContext(ctx, `SELECT indexed_through FROM history_fts_progress`).Scan(&indexed); err != nil {
		return nil, err
	}
	var page []HistoryEntry
	if before > indexed+1 {
		var err error
		if page, err = scanTail(ctx, tx, f, terms, indexed, before, since, until); err != nil {
			return nil, err
		}
	}
	upper, lower := min(before, indexed+1), int64(1)
	if len(page) == f.Limit || upper <= 1 {
		return page, nil
	}
	if ranged {
		// Narrow the ids to the blocks whose times overlap the range.
		var lo, hi sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT min(block), max(block) FROM history_time_blocks
			WHERE max_at >= ? AND min_at < ? AND block <= ?`, since, until, (upper-1)>>timeBlockShift).Scan(&lo, &hi); err != nil {
			return nil, err
		}
		if !lo.Valid {
			return page, nil
		}
		lower, upper = max(lower, lo.Int64<<timeBlockShift), min(upper, (hi.Int64+1)<<timeBlockShift)
		if upper <= lower {
			return page, nil
		}
	}
	const timeCheck = ` AND h.at >= ? AND h.at < ?`
	limit := f.Limit - len(page)
	var older []HistoryEntry
	var err error
	scoped, useScoped := "", false
	if f.Operation != "" {
		scoped, useScoped = scopedQuery(f, terms)
	}
	switch {
	case len(terms) == 0 && f.Operation == "" && f.Outcome == "" && f.System == "":
		older, err = queryHistory(ctx, tx, `SELECT `+historySelect+` FROM history h
			WHERE h.id < ? AND h.id >= ?`+timeCheck+` ORDER BY h.id DESC LIMIT ?`, upper, lower, since, until, limit)
	case useScoped:
		// The code in front of each word stands for the operation, but
		// other operations may share it: check the operation as well.
		// The system is checked row by row too: the operation nearly
		// always implies it.
		older, err = queryHistory(ctx, tx, `SELECT `+historySelect+` FROM history_scoped_fts x CROSS JOIN history h ON h.id = x.rowid
			WHERE history_scoped_fts MATCH ? AND x.rowid < ? AND x.rowid >= ? AND h.operation = ? AND (? = '' OR h.system = ?)`+timeCheck+`
			ORDER BY x.rowid DESC LIMIT ?`, scoped, upper, lower, string(f.Operation), string(f.System), string(f.System), since, until, limit)
	default:
		var ops []Operation
		if f.Operation == "" && len(terms) > 0 {
			if ops, err = operations(ctx, tx); err != nil {
				return nil, err
			}
		}
		// CROSS JOIN pins the index as the outer loop: FTS5 hands out
		// matching rowids newest first and the LIMIT stops it early.
		older, err = queryHistory(ctx, tx, `SELECT `+historySelect+` FROM history_fts CROSS JOIN history h ON h.id = history_fts.rowid
			WHERE history_fts MATCH ? AND history_fts.rowid < ? AND history_fts.rowid >= ?`+timeCheck+`
			ORDER BY history_fts.rowid DESC LIMIT ?`, ftsQuery(f, terms, ops), upper, lower, since, until, limit)
	}
	if err != nil {
		return nil, err
	}
	return append(page, older...), nil
}

// scanTail returns matching rows with indexed < id < before, newest first.
func scanTail(ctx context.Context, tx *sql.Tx, f HistoryFilter, terms []searchTerm, indexed, before, since, until int64) ([]HistoryEntry, error) {
	q := `SELECT ` + historySelect + ` FROM history h WHERE h.id > ? AND h.id < ? AND h.at >= ? AND h.at < ?`
	args := []any{indexed, before, since, until}
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

// Background indexer tuning. A chunk holds the writer for roughly 50 ms
// (both search indexes and the time blocks, ~10-30k rows/s here), so
// an append waits at most that long; waiting for a pause keeps the indexer
// from halving the append rate during a burst, the deadline keeps a steady
// trickle of appends from starving it.
const (
	indexChunk    = 500
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
		if err := indexScoped(ctx, tx, from, to); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, indexHistoryIDs, from, to, from, to); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO history_time_blocks (block, min_at, max_at)
			SELECT id >> ?, min(at), max(at) FROM history WHERE id > ? AND id <= ? GROUP BY id >> ?
			ON CONFLICT (block) DO UPDATE SET min_at = min(min_at, excluded.min_at), max_at = max(max_at, excluded.max_at)`,
			timeBlockShift, from, to, timeBlockShift); err != nil {
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

// timeBlockShift sizes history_time_blocks: 1024 ids a block, so 1M rows are
// ~1,000 small rows to read for a time range, and a range's id bounds are
// at most one block too wide at each end.
const timeBlockShift = 10

// scopedRowsPerInsert batches history_scoped_fts inserts, for the same
// reason as historyRowsPerInsert.
const scopedRowsPerInsert = 32

// indexScoped adds history rows from < id <= to to history_scoped_fts. The
// scoped words are built in Go (SQL cannot split text into words), with the
// tokenizer the tail scan uses.
func indexScoped(ctx context.Context, tx *sql.Tx, from, to int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, operation, outcome, local_id, remote_id, error
		FROM history WHERE id > ? AND id <= ? ORDER BY id`, from, to)
	if err != nil {
		return err
	}
	var args []any
	for rows.Next() {
		var id int64
		var op, outcome, local, remote, errText string
		if err := rows.Scan(&id, &op, &outcome, &local, &remote, &errText); err != nil {
			rows.Close() // #nosec G104 -- the Scan error is returned; Close only frees the statement
			return err
		}
		args = append(args, id, scopedText(Operation(op), Outcome(outcome), local, remote, errText))
	}
	rows.Close() // #nosec G104 -- rows.Err below is the error that counts
	if err := rows.Err(); err != nil {
		return err
	}
	insert := func(n int) string {
		return `INSERT INTO history_scoped_fts (rowid, scoped) VALUES ` +
			strings.TrimSuffix(strings.Repeat(`(?, ?), `, n), ", ")
	}
	const width = 2
	if len(args) >= width*scopedRowsPerInsert {
		st, err := tx.PrepareContext(ctx, insert(scopedRowsPerInsert))
		if err != nil {
			return err
		}
		defer st.Close()
		for ; len(args) >= width*scopedRowsPerInsert; args = args[width*scopedRowsPerInsert:] {
			if _, err := st.ExecContext(ctx, args[:width*scopedRowsPerInsert]...); err != nil {
				return err
			}
		}
	}
	if len(args) > 0 {
		if _, err := tx.ExecContext(ctx, insert(len(args)/width), args...); err != nil {
			return err
		}
	}
	return nil
}
