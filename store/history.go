package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"
)

// System names one side of the sync.
type System string

// The two systems Parley talks to.
const (
	SystemAD  System = "ad"
	SystemGHL System = "ghl"
)

func (s System) valid() bool { return s == SystemAD || s == SystemGHL }

// Operation names what a history entry did. New operations need no schema
// change; these are the ones the sync engine uses today.
type Operation string

// Operations recorded in history.
const (
	OpContactUpsert      Operation = "contact.upsert"
	OpContactLookup      Operation = "contact.lookup"
	OpConversationUpsert Operation = "conversation.upsert"
	OpMessagePush        Operation = "message.push"
	OpInboundRecord      Operation = "message.inbound"
	OpMediaUpload        Operation = "media.upload"
	OpMediaFetch         Operation = "media.fetch"
	OpStatusUpdate       Operation = "status.update"
	OpImport             Operation = "ad.import"
)

// Outcome is how an operation ended.
type Outcome string

// Outcomes of a history entry.
const (
	OutcomeOK       Outcome = "ok"
	OutcomeFailed   Outcome = "failed"
	OutcomeRetrying Outcome = "retrying"
	OutcomeSkipped  Outcome = "skipped"
)

func (o Outcome) valid() bool {
	switch o {
	case OutcomeOK, OutcomeFailed, OutcomeRetrying, OutcomeSkipped:
		return true
	}
	return false
}

// HistoryEntry is one recorded operation: what ran against which system for
// which record, and how it went. It is what the history screen lists.
type HistoryEntry struct {
	// ID is assigned by AppendHistory; higher is newer.
	ID int64
	// At is when the operation finished; zero means "now" on append.
	At time.Time
	// Operation is what was done, e.g. message.push.
	Operation Operation
	// System is the side the operation talked to.
	System System
	// LocalID is the AD-side id, RemoteID the GHL-side id; either may be
	// empty when not known yet (e.g. a failed create has no GHL id).
	LocalID, RemoteID string
	// Outcome is how the operation ended.
	Outcome Outcome
	// HTTPStatus is 0 when no HTTP response was received.
	HTTPStatus int
	// Attempts is how many tries the operation took, this one included.
	Attempts int
	// Latency is stored with microsecond precision.
	Latency time.Duration
	// Error is the error text, usually empty for successful operations.
	Error string
}

// HistoryFilter selects a page of history. Zero values mean "any".
type HistoryFilter struct {
	// Operation, Outcome and System keep only entries with exactly
	// these values.
	Operation Operation
	Outcome   Outcome
	System    System
	// Text is what the user typed in the search box: every word must
	// occur, case-insensitively, as a word or the start of a word in the
	// operation, local id, remote id or error text. See search.go.
	Text string
	// Since and Until keep only entries with Since <= At < Until, to the
	// millisecond; a zero time leaves that end open. Until must be after
	// Since when both are set.
	Since, Until time.Time
	// BeforeID pages backwards: only entries with ID < BeforeID are
	// returned. 0 starts at the newest entry. Pass the last ID of a page
	// to get the next one; unlike OFFSET this stays fast deep into history.
	BeforeID int64
	// Limit is the page size: 0 means DefaultHistoryLimit, anything above
	// MaxHistoryLimit is capped.
	Limit int
}

// Page sizes for HistoryPage.
const (
	DefaultHistoryLimit = 100
	MaxHistoryLimit     = 1000
)

// historyRowsPerInsert is how many rows one INSERT statement carries in
// AppendHistory. Each statement execution has a fixed cost in database/sql
// and the driver that is comparable to inserting a row, so batching rows per
// statement is the cheapest way to reach a high append rate.
const historyRowsPerInsert = 32

const historyColumns = `at, operation, system, local_id, remote_id, outcome, http_status, attempts, latency_us, error`

func insertHistorySQL(rows int) string {
	return `INSERT INTO history (` + historyColumns + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?), `, rows), ", ")
}

// prepare compiles the statements used on hot paths once, on the writer.
func (s *Store) prepare(ctx context.Context) error {
	var err error
	if s.insertHistory1, err = s.w.PrepareContext(ctx, insertHistorySQL(1)); err != nil {
		return fmt.Errorf("prepare history insert: %w", err)
	}
	if s.insertHistoryN, err = s.w.PrepareContext(ctx, insertHistorySQL(historyRowsPerInsert)); err != nil {
		return fmt.Errorf("prepare history insert: %w", err)
	}
	return nil
}

// AppendHistory records entries in one transaction: either all are stored or
// none. Entries are validated first; the IDs of the passed values are ignored.
func (s *Store) AppendHistory(ctx context.Context, entries ...HistoryEntry) error {
	if len(entries) == 0 {
		return nil
	}
	for i, e := range entries {
		if err := validateHistoryEntry(e); err != nil {
			return fmt.Errorf("append history entry %d: %w", i, err)
		}
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error { return s.appendHistoryTx(ctx, tx, entries) })
	if err != nil {
		return fmt.Errorf("append %d history entries: %w", len(entries), err)
	}
	s.historyCommitted(ctx)
	return nil
}

// appendHistoryTx writes validated entries inside tx; the caller calls
// historyCommitted once tx has committed.
func (s *Store) appendHistoryTx(ctx context.Context, tx *sql.Tx, entries []HistoryEntry) error {
	now := s.now()
	ops := make(map[Operation]bool)
	for _, e := range entries {
		ops[e.Operation] = true
	}
	args := make([]any, 0, 10*historyRowsPerInsert)
	add := func(e HistoryEntry) {
		at := e.At
		if at.IsZero() {
			at = now
		}
		args = append(args, at.UnixMilli(), string(e.Operation), string(e.System), e.LocalID, e.RemoteID,
			string(e.Outcome), e.HTTPStatus, e.Attempts, e.Latency.Microseconds(), e.Error)
	}
	rest := entries
	if len(rest) >= historyRowsPerInsert {
		st := tx.StmtContext(ctx, s.insertHistoryN)
		for ; len(rest) >= historyRowsPerInsert; rest = rest[historyRowsPerInsert:] {
			args = args[:0]
			for _, e := range rest[:historyRowsPerInsert] {
				add(e)
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return err
			}
		}
	}
	if len(rest) > 0 {
		st := tx.StmtContext(ctx, s.insertHistory1)
		for _, e := range rest {
			args = args[:0]
			add(e)
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return err
			}
		}
	}
	for op := range ops {
		if s.ops.has(op) {
			continue
		}
		if _, err := s.txExec(ctx, tx, `INSERT INTO history_operations (name) VALUES (?) ON CONFLICT DO NOTHING`, string(op)); err != nil {
			return err
		}
	}
	return nil
}

func validateHistoryEntry(e HistoryEntry) error {
	switch {
	case strings.TrimSpace(string(e.Operation)) == "":
		return invalidf("operation is empty")
	case !e.System.valid():
		return invalidf("unknown system %q", e.System)
	case !e.Outcome.valid():
		return invalidf("unknown outcome %q", e.Outcome)
	case e.HTTPStatus != 0 && (e.HTTPStatus < 100 || e.HTTPStatus > 599):
		return invalidf("HTTP status %d out of range", e.HTTPStatus)
	case e.Attempts < 0:
		return invalidf("negative attempts %d", e.Attempts)
	case e.Latency < 0:
		return invalidf("negative latency %s", e.Latency)
	}
	return nil
}

func (f HistoryFilter) validate() (HistoryFilter, error) {
	switch {
	case f.Outcome != "" && !f.Outcome.valid():
		return f, invalidf("unknown outcome %q", f.Outcome)
	case f.System != "" && !f.System.valid():
		return f, invalidf("unknown system %q", f.System)
	case !f.Since.IsZero() && !f.Until.IsZero() && f.Until.UnixMilli() <= f.Since.UnixMilli():
		return f, invalidf("the time range ends (%s) before it starts (%s): pick an end after the start",
			f.Until.Format(time.RFC3339), f.Since.Format(time.RFC3339))
	case f.BeforeID < 0:
		return f, invalidf("negative BeforeID %d", f.BeforeID)
	case f.Limit < 0:
		return f, invalidf("negative limit %d", f.Limit)
	case f.Limit == 0:
		f.Limit = DefaultHistoryLimit
	case f.Limit > MaxHistoryLimit:
		f.Limit = MaxHistoryLimit
	}
	return f, nil
}

// HistoryPage returns up to f.Limit entries matching f, newest first.
func (s *Store) HistoryPage(ctx context.Context, f HistoryFilter) ([]HistoryEntry, error) {
	f, err := f.validate()
	if err != nil {
		return nil, fmt.Errorf("history page: %w", err)
	}
	// One read transaction, so the search index watermark and the rows
	// come from the same snapshot even while the indexer commits.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("history page: %w", err)
	}
	defer tx.Rollback()
	page, err := historyPage(ctx, tx, f)
	if err != nil {
		return nil, fmt.Errorf("history page: %w", err)
	}
	return page, nil
}

// HistoryOperations returns the distinct operations recorded so far, sorted,
// for the history screen's filter dropdown.
func (s *Store) HistoryOperations(ctx context.Context) ([]Operation, error) {
	ops, err := operations(ctx, s.r)
	if err != nil {
		return nil, fmt.Errorf("history operations: %w", err)
	}
	return ops, nil
}

// historySelect lists the columns scanHistory expects, qualified by alias h.
const historySelect = `h.id, h.at, h.operation, h.system, h.local_id, h.remote_id, h.outcome, h.http_status, h.attempts, h.latency_us, h.error`

func scanHistory(rows rowScanner) (HistoryEntry, error) {
	var e HistoryEntry
	var at, latency int64
	var op, sys, outcome string
	err := rows.Scan(&e.ID, &at, &op, &sys, &e.LocalID, &e.RemoteID, &outcome, &e.HTTPStatus, &e.Attempts, &latency, &e.Error)
	e.At = time.UnixMilli(at).UTC()
	e.Operation, e.System, e.Outcome = Operation(op), System(sys), Outcome(outcome)
	e.Latency = time.Duration(latency) * time.Microsecond
	return e, err
}

// opNames remembers the operation names history_operations is known to
// hold, so that appending history writes a name only the first time. The
// table only ever grows, so a name read from it stays true; names are
// learnt by reading what is committed, never from a transaction that may
// yet roll back (a job's savepoint, a failed commit).
type opNames struct {
	mu    sync.Mutex
	known map[Operation]bool
	// stale says a transaction wrote a name this set lacks.
	stale bool
}

func (o *opNames) has(op Operation) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.known[op] {
		o.stale = true
		return false
	}
	return true
}

// historyCommitted follows a committed transaction that appended history:
// it kicks the search indexer and, when that transaction wrote operation
// names, reads the committed ones.
func (s *Store) historyCommitted(ctx context.Context) {
	s.kickIndexer()
	s.ops.mu.Lock()
	stale := s.ops.stale
	s.ops.mu.Unlock()
	if !stale {
		return
	}
	names, err := queryAll(ctx, s.r, func(sc rowScanner) (Operation, error) {
		var n string
		err := sc.Scan(&n)
		return Operation(n), err
	}, `SELECT name FROM history_operations`)
	if err != nil {
		return // still stale: the names are written again until a read works
	}
	known := make(map[Operation]bool, len(names))
	for _, n := range names {
		known[n] = true
	}
	s.ops.mu.Lock()
	s.ops.known, s.ops.stale = known, false
	s.ops.mu.Unlock()
}
