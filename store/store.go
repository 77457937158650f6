// Package store is Parley's local database: sync history, the AD <-> GHL id
// map, the outbox of pending work, versioned field mappings, stream cursors,
// the media index and alerts, in one SQLite file (pure Go, no cgo).
//
// All SQL lives in this package; callers get typed functions. Secrets never
// go in here: tokens and keys belong to store/secrets.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is an open Parley database. It is safe for concurrent use.
//
// Writes go through a single connection: SQLite allows one writer at a time
// anyway, and queueing in Go is cheaper and fairer than SQLITE_BUSY retries.
// Reads use a separate read-only pool and, thanks to WAL, never wait for
// writes.
type Store struct {
	path string
	w    *sql.DB // the one writer connection
	r    *sql.DB // read-only pool
	now  func() time.Time

	insertHistory1 *sql.Stmt // one row
	insertHistoryN *sql.Stmt // historyRowsPerInsert rows
	// wstmts and rstmts are the per-job path's statements on w and r.
	wstmts, rstmts stmtCache
	// counts counts the driver's work, for the tests that hold the
	// per-job path to its statements.
	counts sqlCounts
	// ops are the history operation names known to be stored.
	ops opNames
	// switches is the last reading of the automation switches.
	switches switchCache

	// holder marks the jobs this Store claims (see holder.go).
	holder holderState

	indexKick chan struct{}
	stopIndex context.CancelFunc
	indexDone chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// options are knobs for tests and benchmarks; Open uses the defaults.
type options struct {
	// manualIndex disables the background search indexer so a test can
	// decide exactly which history rows are indexed.
	manualIndex bool
	now         func() time.Time
}

// readers is the size of the read pool: enough for the UI and the sync
// engine to read concurrently, small enough to keep per-connection caches cheap.
const readers = 4

// Open opens the Parley database at path, creating it (mode 0600, and its
// parent directories, mode 0700) if needed and migrating it to the current
// schema. Starts racing on the same file take turns through a lock file
// beside it (path + ".lock"); a folder that cannot be written yields a
// [*DataDirError].
//
// An existing file is checked before anything is written to it: a file that
// is not a Parley database yields an error matching [ErrNotDatabase], one
// written by a newer Parley a [*SchemaTooNewError]; in both cases the file is
// left byte-for-byte untouched.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, options{})
}

func open(ctx context.Context, path string, opt options) (*Store, error) {
	if path == "" {
		return nil, invalidf("database path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, dirError(filepath.Dir(abs), err)
	}
	if opt.now == nil {
		opt.now = time.Now
	}

	// Everything from the first look at the file to the last migration
	// happens under the folder's lock: two first starts at once would
	// otherwise see each other's half-created file.
	unlock, err := lockDatabase(ctx, abs)
	if err != nil {
		return nil, err
	}
	defer unlock()

	s := &Store{path: abs, now: opt.now, indexKick: make(chan struct{}, 1), indexDone: make(chan struct{})}
	err = retryBusy(ctx, func() error {
		if err := s.prepareFile(ctx); err != nil {
			return err
		}
		err := s.openConns(ctx)
		if err == nil {
			err = migrate(ctx, s.w, abs, LatestSchemaVersion(), func() int64 { return toMillis(s.now()) })
		}
		if err != nil {
			s.closeConns() // #nosec G104 -- already failing with err; a close error would hide it
			s.w, s.r = nil, nil
			return classify(abs, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.wstmts.db, s.rstmts.db = s.w, s.r
	if err := s.prepare(ctx); err != nil {
		s.closeConns() // #nosec G104 -- already failing with err; a close error would hide it
		return nil, err
	}
	indexCtx, cancel := context.WithCancel(context.Background())
	s.stopIndex = cancel
	if opt.manualIndex {
		close(s.indexDone)
	} else {
		go s.indexLoop(indexCtx)
		s.kickIndexer() // rows an earlier run appended but did not index
	}
	return s, nil
}

// prepareFile checks an existing file before anything is written to it, and
// creates a missing one owner-only: SQLite would create it 0644, and gives
// the -wal and -shm files the database's own mode.
func (s *Store) prepareFile(ctx context.Context) error {
	fi, err := os.Stat(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			// Created since the Stat by something not taking the lock (an
			// older Parley): check it like any existing file.
			return s.prepareFile(ctx)
		}
		if err != nil {
			return dirError(filepath.Dir(s.path), err)
		}
		return f.Close()
	case err != nil:
		return fmt.Errorf("open database %s: %w", s.path, err)
	case !fi.Mode().IsRegular():
		return &NotDatabaseError{Path: s.path, Reason: "it is not a regular file"}
	case fi.Size() > 0:
		// An empty file is what SQLite itself creates; only files with
		// content need checking.
		if _, err := inspect(ctx, s.path); err != nil {
			return err
		}
	}
	// An earlier Parley left its files 0644; the history is nobody else's.
	for _, p := range []string{s.path, s.path + "-wal", s.path + "-shm"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("make %s private: %w", p, err)
			}
		}
	}
	return nil
}

func (s *Store) openConns(ctx context.Context) error {
	w, err := openDB(fileURI(s.path, url.Values{
		"_pragma": {
			"busy_timeout(5000)",
			"foreign_keys(1)",
			"journal_mode(WAL)",
			// NORMAL is durable across application crashes in WAL mode;
			// only a power cut can lose the last transactions.
			"synchronous(NORMAL)",
			// Keep the WAL from staying huge after a big import.
			"journal_size_limit(67108864)",
		},
		// IMMEDIATE takes the write lock at BEGIN, so a transaction never
		// fails half-way with SQLITE_BUSY when another process writes.
		"_txlock": {"immediate"},
	}), s.path, &s.counts)
	if err != nil {
		return fmt.Errorf("open database %s: %w", s.path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s.w = w
	if err := w.PingContext(ctx); err != nil {
		return classify(s.path, err)
	}

	r, err := openDB(fileURI(s.path, url.Values{
		"mode":    {"ro"},
		"_pragma": {"busy_timeout(5000)", "query_only(1)"},
	}), s.path, &s.counts)
	if err != nil {
		return fmt.Errorf("open database %s: %w", s.path, err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	s.r = r
	return nil
}

// fileURI builds an SQLite URI for an absolute path, escaping characters
// that mean something in URIs ('?', '#', '%', spaces).
func fileURI(absPath string, q url.Values) string {
	p := filepath.ToSlash(absPath)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows "C:/x" becomes "/C:/x", which SQLite expects
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}
	return u.String()
}

// Close stops background work and closes the database. It is safe to call
// more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stopIndex()
		<-s.indexDone
		s.releaseHolder()
		s.closeErr = s.closeConns()
	})
	return s.closeErr
}

// closeConns closes readers before the writer: the last connection to close
// checkpoints the WAL and removes the -wal and -shm files.
func (s *Store) closeConns() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.insertHistory1, s.insertHistoryN} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, s.wstmts.close()...)
	errs = append(errs, s.rstmts.close()...)
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close database %s: %w", s.path, err)
	}
	return nil
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// SchemaVersion returns the schema version recorded in the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// querier is what both *sql.DB and *sql.Tx offer for reading rows.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// rowScanner is a *sql.Rows or *sql.Row, for scan functions that serve both.
type rowScanner interface{ Scan(dest ...any) error }

// queryAll runs a query and scans every row with scan, so each typed query
// states only its SQL and how one row maps to its Go type.
func queryAll[T any](ctx context.Context, q querier, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// withTx runs fn in a write transaction, committing if fn returns nil.
func (s *Store) withTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	err = tx.Commit()
	// Now that the writer's connection is free again.
	s.wstmts.prepareWanted(ctx)
	return err
}

// toMillis stores a time as unix milliseconds; the zero time is stored as 0
// so "not set" survives a round trip.
func toMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis is the inverse of toMillis, always in UTC.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
