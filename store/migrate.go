package store

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"sync"
)

// applicationID is written to the SQLite header (PRAGMA application_id) so a
// Parley database can be told apart from any other SQLite file. "Parl".
const applicationID = 0x5061726c

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded migrations/NNNN_name.sql file.
type migration struct {
	version int
	name    string
	sql     string
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// migrations returns the embedded migrations in order. A gap or a badly named
// file is a build mistake, so it panics rather than ship.
var migrations = sync.OnceValue(func() []migration {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		panic(err)
	}
	var ms []migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			panic(fmt.Sprintf("store: migration file %q is not named NNNN_name.sql", e.Name()))
		}
		v, _ := strconv.Atoi(m[1])
		body, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{version: v, name: m[2], sql: string(body)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			panic(fmt.Sprintf("store: migrations must be numbered 1, 2, 3, ...; found %04d at position %d", m.version, i+1))
		}
	}
	return ms
})

// LatestSchemaVersion is the schema version this build migrates databases to.
func LatestSchemaVersion() int { return len(migrations()) }

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
)`

// migrate applies migrations up to target, each in its own transaction
// together with its schema_migrations row, so a crash leaves the database at
// a well-defined version. The version is re-read inside each transaction:
// the check in inspect happened before the writer existed.
func migrate(ctx context.Context, db *sql.DB, dbPath string, target int, now func() int64) error {
	all := migrations()
	for _, m := range all[:target] {
		if err := applyMigration(ctx, db, dbPath, m, len(all), now); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, dbPath string, m migration, supported int, now func() int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migration %04d_%s: read version: %w", m.version, m.name, err)
	}
	if current > supported {
		return &SchemaTooNewError{Path: dbPath, Found: current, Supported: supported}
	}
	if current < 0 || current < m.version-1 {
		// inspect refuses both; only a change between the check and now,
		// or a caller skipping it, gets here.
		return &NotDatabaseError{Path: dbPath, Damaged: true,
			Reason: fmt.Sprintf("its schema_migrations table records version %d where migration %04d_%s expects %d", current, m.version, m.name, m.version-1)}
	}
	if current >= m.version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, now()); err != nil {
		return fmt.Errorf("migration %04d_%s: record version: %w", m.version, m.name, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %04d_%s: commit: %w", m.version, m.name, err)
	}
	return nil
}

// sqliteHeader starts every SQLite 3 database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// inspect decides, without writing a single byte, whether the existing file at
// dbPath may be opened for writing, and returns its schema version.
//
// It has to happen before the writer connection exists because opening that
// connection already writes: switching to WAL rewrites header bytes, and a
// WAL connection creates -wal and -shm files. So: check the header bytes by
// hand, then look inside through a read-only connection.
func inspect(ctx context.Context, dbPath string) (int, error) {
	f, err := os.Open(dbPath) // #nosec G304 -- the database file the user or the data folder names; opening it is the point
	if err != nil {
		return 0, fmt.Errorf("open database %s: %w", dbPath, err)
	}
	header := make([]byte, 100)
	_, err = io.ReadFull(f, header)
	f.Close() // #nosec G104 -- opened read-only: a failed close loses nothing
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || (err == nil && !bytes.HasPrefix(header, sqliteHeader)) {
		return 0, &NotDatabaseError{Path: dbPath, Reason: "it is not an SQLite database file"}
	}
	if err != nil {
		return 0, fmt.Errorf("read database %s: %w", dbPath, err)
	}

	q := url.Values{"mode": {"ro"}, "_pragma": {"busy_timeout(5000)"}}
	// A read-only connection to a WAL database creates -wal and -shm files
	// and leaves them behind. When no journal exists, no other process is
	// using the file and everything is in the main file, so immutable=1
	// reads it with no locks and no side files. With a journal present
	// (another instance running, or a crash) SQLite must see it, so read
	// normally; those files already exist then.
	if !exists(dbPath+"-wal") && !exists(dbPath+"-journal") {
		q.Set("immutable", "1")
	}
	db, err := sql.Open("sqlite", fileURI(dbPath, q))
	if err != nil {
		return 0, fmt.Errorf("open database %s: %w", dbPath, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	version, err := inspectSchema(ctx, db, dbPath)
	if err != nil {
		return 0, classify(dbPath, err)
	}
	return version, nil
}

func inspectSchema(ctx context.Context, db *sql.DB, dbPath string) (int, error) {
	var appID int64
	if err := db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&appID); err != nil {
		return 0, err
	}
	tables, err := tableNames(ctx, db)
	if err != nil {
		return 0, err
	}
	if appID != applicationID {
		if appID == 0 && len(tables) == 0 {
			return 0, nil // an empty SQLite file: nothing to lose, treat as new
		}
		return 0, &NotDatabaseError{Path: dbPath, Reason: "it is an SQLite database of another application"}
	}
	if !slices.Contains(tables, "schema_migrations") {
		return 0, &NotDatabaseError{Path: dbPath, Damaged: true, Reason: "its schema version table is missing"}
	}
	var rows, lowest, version int
	if err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(min(version), 0), coalesce(max(version), 0) FROM schema_migrations`).Scan(&rows, &lowest, &version); err != nil {
		return 0, err
	}
	damaged := func(format string, args ...any) error {
		return &NotDatabaseError{Path: dbPath, Damaged: true, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case rows == 0:
		return 0, damaged("its schema_migrations table is empty, so its schema version is unknown; restore it from a backup if you have one")
	case lowest < 1:
		return 0, damaged("its schema_migrations table records version %d, outside 1 to %d", lowest, LatestSchemaVersion())
	case version > LatestSchemaVersion():
		return version, &SchemaTooNewError{Path: dbPath, Found: version, Supported: LatestSchemaVersion()}
	case rows != version:
		return 0, damaged("its schema_migrations table lists %d versions up to %d, some were deleted; restore it from a backup if you have one", rows, version)
	}
	want, err := expectedTables(version)
	if err != nil {
		return 0, err
	}
	for _, t := range want {
		if !slices.Contains(tables, t) {
			return 0, &NotDatabaseError{Path: dbPath, Damaged: true, Reason: fmt.Sprintf("table %s of schema version %d is missing", t, version)}
		}
	}
	// Tables of a later version mean its schema_migrations rows were
	// deleted; migrating would fail half-way with "table already exists".
	latest, err := expectedTables(LatestSchemaVersion())
	if err != nil {
		return 0, err
	}
	for _, t := range latest {
		if slices.Contains(tables, t) && !slices.Contains(want, t) {
			return 0, damaged("its schema_migrations table says version %d, but it has table %s of a later version; restore it from a backup if you have one", version, t)
		}
	}
	// Reading one row of every table touches each b-tree's root and first
	// leaf: cheap, and it catches most damage. PRAGMA quick_check would
	// catch more but takes seconds on a big history.
	for _, t := range want {
		rows, err := db.QueryContext(ctx, `SELECT * FROM "`+t+`" LIMIT 1`) // #nosec G202 -- t is a table name of the embedded migrations (expectedTables), never input
		if err != nil {
			return 0, err
		}
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close() // #nosec G104 -- rows.Err above is the error that counts; Close only frees the statement
		if err != nil {
			return 0, err
		}
	}
	return version, nil
}

// tableNames lists ordinary tables; virtual tables are skipped because their
// modules may not be loadable read-only, their shadow tables are listed anyway.
func tableNames(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// expectedTables returns the tables a database at version must have, found by
// applying the embedded migrations to an in-memory database once, so the
// check can never drift from the migrations themselves.
func expectedTables(version int) ([]string, error) {
	all, err := tablesPerVersion()
	if err != nil {
		return nil, err
	}
	return all[version], nil
}

var tablesPerVersion = sync.OnceValues(func() ([][]string, error) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection = one in-memory database
	ctx := context.Background()
	out := [][]string{nil}
	for _, m := range migrations() {
		if err := applyMigration(ctx, db, ":memory:", m, len(migrations()), func() int64 { return 0 }); err != nil {
			return nil, err
		}
		names, err := tableNames(ctx, db)
		if err != nil {
			return nil, err
		}
		out = append(out, names)
	}
	return out, nil
})

// classify turns SQLite's "this file is broken" result codes into a
// NotDatabaseError naming the file; other errors keep their identity.
func classify(dbPath string, err error) error {
	var nd *NotDatabaseError
	var tooNew *SchemaTooNewError
	if errors.As(err, &nd) || errors.As(err, &tooNew) {
		return err
	}
	if damaged := damageError(dbPath, err); errors.As(damaged, &nd) {
		return damaged
	}
	return fmt.Errorf("open database %s: %w", dbPath, err)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
