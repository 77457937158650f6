package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync/atomic"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotDatabase is matched (errors.Is) by every error that means the file at
// the database path cannot be used as a Parley database: not SQLite at all,
// another application's database, or damaged. The UI can offer the same way
// out for all of them, so they share one sentinel; [NotDatabaseError] has the
// details.
var ErrNotDatabase = errors.New("not a usable Parley database")

// ErrSchemaTooNew is matched (errors.Is) by [*SchemaTooNewError].
var ErrSchemaTooNew = errors.New("database schema is newer than this build")

// ErrIDConflict is matched (errors.Is) by [*IDConflictError].
var ErrIDConflict = errors.New("id already linked to a different id")

// ErrClaimLost reports that an outbox item was claimed again after the
// caller's lease ran out; the caller must drop its result, the newer claim
// owns the item now.
var ErrClaimLost = errors.New("outbox item was claimed again after this lease expired")

// ErrNotFound reports that a row addressed by id or version does not exist.
var ErrNotFound = errors.New("not found")

// ErrInvalid reports input rejected before it reached the database.
var ErrInvalid = errors.New("invalid input")

// dataDirHint is what the user can do about a file Open refuses; the
// command-line flag is owned by main, this text only has to match it.
const dataDirHint = "move it aside or pass --data-dir to use another directory"

// NotDatabaseError is returned by [Open] when the file at Path exists but is
// not a usable Parley database. The file is left exactly as it was.
type NotDatabaseError struct {
	// Path is the absolute path of the refused file.
	Path string
	// Damaged is true when the file is an SQLite database that cannot be
	// read reliably (corrupt pages, missing Parley tables), false when it
	// is simply something else (not SQLite, another application's data).
	Damaged bool
	// Reason says in a few words what is wrong, for the message.
	Reason string
	// Err is the underlying SQLite or I/O error, if any.
	Err error
}

// Error says where the file is, what is wrong and what the user can do.
func (e *NotDatabaseError) Error() string {
	what := "is not a Parley database"
	if e.Damaged {
		what = "is a damaged database"
	}
	msg := fmt.Sprintf("%s %s (%s)", e.Path, what, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg + "; " + dataDirHint
}

// Is makes errors.Is(err, ErrNotDatabase) true.
func (e *NotDatabaseError) Is(target error) bool { return target == ErrNotDatabase }

// Unwrap exposes the underlying SQLite or I/O error.
func (e *NotDatabaseError) Unwrap() error { return e.Err }

// SchemaTooNewError is returned by [Open] when the database was last written
// by a newer Parley whose schema this build does not know. Nothing is
// written to such a file: an older build cannot know what a downgrade would
// break.
type SchemaTooNewError struct {
	// Path is the absolute path of the database.
	Path string
	// Found is the schema version recorded in the file.
	Found int
	// Supported is the newest schema version this build knows.
	Supported int
}

// Error says where the file is, both versions and what the user can do.
func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("%s was written by a newer Parley (schema version %d, this build supports up to %d); update Parley, or %s",
		e.Path, e.Found, e.Supported, dataDirHint)
}

// Is makes errors.Is(err, ErrSchemaTooNew) true.
func (e *SchemaTooNewError) Is(target error) bool { return target == ErrSchemaTooNew }

// ErrDataDirUnusable is matched (errors.Is) by [*DataDirError].
var ErrDataDirUnusable = errors.New("data folder cannot be written")

// DataDirError is returned by [Open] when the data folder cannot be created
// or written: a read-only disk, a folder owned by another user.
type DataDirError struct {
	// Dir is the absolute path of the folder.
	Dir string
	// Err is the operating system's error.
	Err error
}

// Error names the folder, the cause and both ways out.
func (e *DataDirError) Error() string {
	return fmt.Sprintf("the data folder %s cannot be written (%v); make it writable (check its permissions and that its disk is not mounted read-only), or pass --data-dir to use another folder",
		e.Dir, e.Err)
}

// Is makes errors.Is(err, ErrDataDirUnusable) true.
func (e *DataDirError) Is(target error) bool { return target == ErrDataDirUnusable }

// Unwrap exposes the operating system's error.
func (e *DataDirError) Unwrap() error { return e.Err }

// ErrCannotWrite is matched (errors.Is) by [*WriteError].
var ErrCannotWrite = errors.New("database cannot be written")

// WriteError reports that the database refused a write because its disk is
// full or the file (or its disk) is read-only. SQLite rolls the transaction
// back, so nothing is half-written; once space or permission is back, the
// work the write belonged to is done again.
type WriteError struct {
	// Path is the absolute path of the database.
	Path string
	// Full is true when the disk is full, false when the file is read-only.
	Full bool
	// Err is SQLite's error.
	Err error
}

// Error names the file, the cause and what to do.
func (e *WriteError) Error() string {
	if e.Full {
		return fmt.Sprintf("cannot write %s: the disk holding it is full; free some space on that disk (or move the data folder and pass --data-dir), then start Parley again: it resumes where it stopped",
			e.Path)
	}
	return fmt.Sprintf("cannot write %s: the file or its disk is read-only; make it writable (check its permissions and that its disk is not mounted read-only), then start Parley again: it resumes where it stopped",
		e.Path)
}

// Is makes errors.Is(err, ErrCannotWrite) true.
func (e *WriteError) Is(target error) bool { return target == ErrCannotWrite }

// Unwrap exposes SQLite's error.
func (e *WriteError) Unwrap() error { return e.Err }

// IDConflictError is returned by [Store.LinkIDs] when one side of the pair is
// already linked to something else; linking anyway would silently send
// updates to the wrong record.
type IDConflictError struct {
	// Kind is the kind of record both links are about.
	Kind EntityKind
	// ADID and GHLID are the pair that was asked for.
	ADID, GHLID string
	// ExistingADID and ExistingGHLID are the link already stored that uses
	// one of the two ids.
	ExistingADID, ExistingGHLID string
}

// Error names both the requested and the existing link.
func (e *IDConflictError) Error() string {
	return fmt.Sprintf("cannot link %s AD id %q to GHL id %q: already linked as AD %q <-> GHL %q",
		e.Kind, e.ADID, e.GHLID, e.ExistingADID, e.ExistingGHLID)
}

// Is makes errors.Is(err, ErrIDConflict) true.
func (e *IDConflictError) Is(target error) bool { return target == ErrIDConflict }

// invalidf builds an error matching ErrInvalid.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// damageError turns SQLite's "this file is broken" result codes into a
// damaged [*NotDatabaseError] naming the file; any other error is returned
// as it is, so callers (and database/sql, for driver.ErrBadConn) still see
// what they test for.
func damageError(dbPath string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_FORMAT:
			return &NotDatabaseError{Path: dbPath, Damaged: true, Reason: "SQLite cannot read it", Err: err}
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY:
			return &WriteError{Path: dbPath, Full: se.Code()&0xff == sqlite3.SQLITE_FULL, Err: err}
		}
	}
	return err
}

// openDB opens a pool whose every error goes through damageError: damage
// that Open's quick check cannot see (a bad page deep in the history) shows
// at the first query that reads it, anywhere in the store, and must still
// say which file it is and what to do. A full PRAGMA quick_check at each
// start would find it earlier, but takes seconds on a big history.
func openDB(dsn, dbPath string, counts *sqlCounts) (*sql.DB, error) {
	probe, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	if err := probe.Close(); err != nil {
		return nil, err
	}
	return sql.OpenDB(damageConnector{drv: drv, dsn: dsn, path: dbPath, counts: counts}), nil
}

type damageConnector struct {
	drv       driver.Driver
	dsn, path string
	counts    *sqlCounts
}

// sqlCounts counts what the driver is asked to do, for the tests that
// hold the sync engine's per-job path to a number of statements.
type sqlCounts struct {
	// compiles counts the calls that make the driver compile SQL; runs
	// the statements run, prepared or not.
	compiles, runs atomic.Int64
}

// sqliteConn is what modernc's connection implements and database/sql uses.
type sqliteConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

func (c damageConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, damageError(c.path, err)
	}
	sc, ok := conn.(sqliteConn)
	if !ok {
		return conn, nil
	}
	return damageConn{sc, c.path, c.counts}, nil
}

func (c damageConnector) Driver() driver.Driver { return c.drv }

type damageConn struct {
	sqliteConn
	path   string
	counts *sqlCounts
}

func (c damageConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c damageConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.counts.compiles.Add(1)
	st, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, damageError(c.path, err)
	}
	if s, ok := st.(sqliteStmt); ok {
		return damageStmt{s, c.path, c.counts}, nil
	}
	return st, nil
}

func (c damageConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c damageConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.sqliteConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, damageError(c.path, err)
	}
	return damageTx{tx, c.path}, nil
}

func (c damageConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.counts.compiles.Add(1)
	c.counts.runs.Add(1)
	r, err := c.sqliteConn.ExecContext(ctx, query, args)
	return r, damageError(c.path, err)
}

func (c damageConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.counts.compiles.Add(1)
	c.counts.runs.Add(1)
	r, err := c.sqliteConn.QueryContext(ctx, query, args)
	if err != nil {
		return nil, damageError(c.path, err)
	}
	return damageRows{r, c.path}, nil
}

type sqliteStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

type damageStmt struct {
	sqliteStmt
	path   string
	counts *sqlCounts
}

// Exec and Query complete driver.Stmt; database/sql calls the context
// versions below.
func (s damageStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.counts.runs.Add(1)
	r, err := s.sqliteStmt.Exec(args)
	return r, damageError(s.path, err)
}

func (s damageStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.counts.runs.Add(1)
	r, err := s.sqliteStmt.Query(args)
	if err != nil {
		return nil, damageError(s.path, err)
	}
	return damageRows{r, s.path}, nil
}

func (s damageStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.counts.runs.Add(1)
	r, err := s.sqliteStmt.ExecContext(ctx, args)
	return r, damageError(s.path, err)
}

func (s damageStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.counts.runs.Add(1)
	r, err := s.sqliteStmt.QueryContext(ctx, args)
	if err != nil {
		return nil, damageError(s.path, err)
	}
	return damageRows{r, s.path}, nil
}

type damageRows struct {
	driver.Rows
	path string
}

func (r damageRows) Next(dest []driver.Value) error {
	return damageError(r.path, r.Rows.Next(dest))
}

type damageTx struct {
	driver.Tx
	path string
}

func (t damageTx) Commit() error { return damageError(t.path, t.Tx.Commit()) }
