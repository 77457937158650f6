package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMigrationsAreNumberedAndMeaningful(t *testing.T) {
	ms := migrations()
	if len(ms) < 2 {
		t.Fatalf("want at least two migrations, have %d", len(ms))
	}
	for i, m := range ms {
		if m.version != i+1 || m.name == "" || strings.TrimSpace(m.sql) == "" {
			t.Errorf("migration %d: version %d name %q, %d bytes of SQL", i, m.version, m.name, len(m.sql))
		}
	}
	if LatestSchemaVersion() != len(ms) {
		t.Errorf("LatestSchemaVersion() = %d, want %d", LatestSchemaVersion(), len(ms))
	}
}

// rawWriter opens path the way the Store's writer does, without any of
// Open's checks, to build databases in a given state.
func rawWriter(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", fileURI(path, url.Values{"_pragma": {"journal_mode(WAL)", "busy_timeout(5000)"}}))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

func schemaDump(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.r.Query(`SELECT type || ' ' || name || ' ' || tbl_name || ': ' || coalesce(sql, '') FROM sqlite_schema ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestMigrateFromEveryVersion builds a database at each earlier schema
// version, with data where the schema allows it, and checks that Open
// upgrades it to exactly the schema a fresh database gets, keeping the data.
func TestMigrateFromEveryVersion(t *testing.T) {
	ctx := context.Background()
	fresh := schemaDump(t, newTestStore(t))
	for n := 0; n < LatestSchemaVersion(); n++ {
		t.Run(fmt.Sprintf("from-v%d", n), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), DatabaseFile)
			db := rawWriter(t, path)
			if err := migrate(ctx, db, path, n, func() int64 { return 1 }); err != nil {
				t.Fatal(err)
			}
			if n >= 1 {
				if _, err := db.Exec(`INSERT INTO history (at, operation, system, local_id, remote_id, outcome, http_status, attempts, latency_us, error)
					VALUES (1700000000000, 'message.push', 'ghl', 'ad-msg-000042', 'OldGhlId0000000000042', 'failed', 429, 2, 1500, '429 rate limited')`); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Exec(`INSERT INTO id_map (kind, ad_id, ghl_id, linked_at) VALUES ('contact', 'ad-c-1', 'ghl-c-1', 1)`); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			s, err := open(ctx, path, options{manualIndex: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if v, err := s.SchemaVersion(ctx); err != nil || v != LatestSchemaVersion() {
				t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, LatestSchemaVersion())
			}
			if got := schemaDump(t, s); !slices.Equal(got, fresh) {
				t.Errorf("upgraded schema differs from a fresh one:\n got %q\nwant %q", got, fresh)
			}
			assertMigrationRows(t, s)
			if n == 0 {
				return
			}
			if id, ok, err := s.GHLIDFor(ctx, KindContact, "ad-c-1"); err != nil || !ok || id != "ghl-c-1" {
				t.Errorf("id map lost in upgrade: %q %v %v", id, ok, err)
			}
			// Rows from before the search index existed are found both
			// before and after the indexer has caught up with them.
			for _, when := range []string{"before indexing", "after indexing"} {
				page, err := s.HistoryPage(ctx, HistoryFilter{Outcome: OutcomeFailed, Text: "rate limit"})
				if err != nil || len(page) != 1 || page[0].RemoteID != "OldGhlId0000000000042" || page[0].Latency != 1500*time.Microsecond {
					t.Errorf("%s: search found %+v, %v", when, page, err)
				}
				indexAll(t, s)
			}
		})
	}
}

func assertMigrationRows(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.r.Query(`SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var i int
	for ; rows.Next(); i++ {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		if m := migrations()[i]; v != m.version || name != m.name {
			t.Errorf("schema_migrations row %d = %d %q, want %d %q", i, v, name, m.version, m.name)
		}
	}
	if i != LatestSchemaVersion() {
		t.Errorf("%d schema_migrations rows, want %d", i, LatestSchemaVersion())
	}
}

// TestMigrationIsAtomic checks that a migration failing half-way leaves
// neither its tables nor its version behind.
func TestMigrationIsAtomic(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	bad := migration{version: LatestSchemaVersion() + 1, name: "broken", sql: `CREATE TABLE half_done (x); SELECT no_such_function();`}
	err := applyMigration(ctx, s.w, s.path, bad, bad.version, func() int64 { return 1 })
	if err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("applyMigration = %v, want an error naming the migration", err)
	}
	var n int
	if err := s.r.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("half_done table exists (%d, %v) after a failed migration", n, err)
	}
	if v, _ := s.SchemaVersion(ctx); v != LatestSchemaVersion() {
		t.Errorf("version moved to %d after a failed migration", v)
	}
}

// snapshot records everything about a directory that Open must not change.
// The empty lock file beside the database is Open's own and may appear.
func snapshot(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == DatabaseFile+".lock" {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		out[e.Name()] = [32]byte(h.Sum(nil))
	}
	return out
}

func assertUntouched(t *testing.T, dir string, before map[string][32]byte) {
	t.Helper()
	after := snapshot(t, dir)
	for name, sum := range before {
		if got, ok := after[name]; !ok {
			t.Errorf("%s was removed", name)
		} else if got != sum {
			t.Errorf("%s was modified", name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s was created", name)
		}
	}
}

// makeParleyDB creates a closed, valid Parley database with some data.
func makeParleyDB(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	s, err := open(ctx, path, options{manualIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AppendHistory(ctx, genHistory(7, 2000, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))...); err != nil {
		t.Fatal(err)
	}
	indexAll(t, s)
	if err := s.LinkIDs(ctx, KindContact, "ad-1", "ghl-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if exists(path+"-wal") || exists(path+"-shm") {
		t.Fatal("WAL files left after Close")
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, DatabaseFile)
	makeParleyDB(t, path)
	future := LatestSchemaVersion() + 3
	db := rawWriter(t, path)
	if _, err := db.Exec(`CREATE TABLE from_the_future (x); INSERT INTO schema_migrations VALUES (?, 'future', 0)`, future); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	if len(before) != 1 {
		t.Fatalf("setup left extra files: %v", before)
	}

	s, err := Open(ctx, path)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded on a database from a newer version")
	}
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open error = %v (%T), want *SchemaTooNewError", err, err)
	}
	if tooNew.Found != future || tooNew.Supported != LatestSchemaVersion() || tooNew.Path != path {
		t.Errorf("error fields = %+v", tooNew)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not say where the file is", err)
	}
	assertUntouched(t, dir, before)
}

// TestOpenRefusesNewerSchemaInWAL covers a newer database whose last commit
// is still in the -wal file (the newer build crashed): the version must be
// read through the WAL, and neither file may change.
func TestOpenRefusesNewerSchemaInWAL(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), DatabaseFile)
	makeParleyDB(t, src)
	db := rawWriter(t, src)
	defer db.Close()
	if _, err := db.Exec(`PRAGMA wal_autocheckpoint = 0; INSERT INTO schema_migrations VALUES (99, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	// Copy the pair while the connection is open: that is what a crash
	// leaves behind.
	dir := t.TempDir()
	path := filepath.Join(dir, DatabaseFile)
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(src + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+suffix, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, dir)

	_, err := Open(ctx, path)
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Found != 99 {
		t.Fatalf("Open error = %v, want *SchemaTooNewError with Found 99", err)
	}
	after := snapshot(t, dir)
	for _, name := range []string{DatabaseFile, DatabaseFile + "-wal"} {
		if after[name] != before[name] {
			t.Errorf("%s changed", name)
		}
	}
}

func TestOpenRefusesOtherFiles(t *testing.T) {
	ctx := context.Background()
	randomBytes := func(n int) []byte {
		b := make([]byte, n)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	// corrupt overwrites path from offset on with random bytes.
	corrupt := func(offset int) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			makeParleyDB(t, path)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			copy(data[offset:], randomBytes(len(data)-offset))
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	write := func(data []byte) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string)
		damaged bool
	}{
		{"random bytes", write(randomBytes(64 << 10)), false},
		{"short text file", write([]byte("hello, not a database\n")), false},
		{"SQLite header then garbage", write(append([]byte("SQLite format 3\x00"), randomBytes(8192)...)), true},
		{"Parley database garbled after the 100-byte header", corrupt(100), true},
		{"Parley database garbled after the first page", corrupt(4096), true},
		{"another application's SQLite database", func(t *testing.T, path string) {
			db := rawWriter(t, path)
			if _, err := db.Exec(`CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi')`); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}, false},
		{"Parley database missing a table", func(t *testing.T, path string) {
			makeParleyDB(t, path)
			db := rawWriter(t, path)
			if _, err := db.Exec(`DROP TABLE cursors`); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, DatabaseFile)
			tt.setup(t, path)
			before := snapshot(t, dir)

			s, err := Open(ctx, path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			var nd *NotDatabaseError
			if !errors.Is(err, ErrNotDatabase) || !errors.As(err, &nd) {
				t.Fatalf("Open error = %v (%T), want ErrNotDatabase", err, err)
			}
			t.Log(err)
			if nd.Damaged != tt.damaged || nd.Path != path {
				t.Errorf("Damaged = %v, Path = %q; want %v, %q", nd.Damaged, nd.Path, tt.damaged, path)
			}
			for _, want := range []string{path, "--data-dir", "move it aside"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			assertUntouched(t, dir, before)
		})
	}
}

func TestOpenEmptyFileCreatesDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), DatabaseFile)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(context.Background()); err != nil || v != LatestSchemaVersion() {
		t.Errorf("SchemaVersion = %d, %v", v, err)
	}
}

func TestOpenRefusesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), DatabaseFile)
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path)
	if !errors.Is(err, ErrNotDatabase) {
		t.Fatalf("Open = %v, want ErrNotDatabase", err)
	}
}

func TestExpectedTablesFollowMigrations(t *testing.T) {
	v1, err := expectedTables(1)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := expectedTables(LatestSchemaVersion())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"schema_migrations", "history", "id_map", "outbox", "mapping_versions", "mapping_fields", "cursors", "media", "alerts"} {
		if !slices.Contains(v1, name) {
			t.Errorf("version 1 tables %v lack %s", v1, name)
		}
	}
	if slices.Contains(v1, "history_fts_progress") || !slices.Contains(latest, "history_fts_progress") {
		t.Errorf("history_fts_progress should arrive with migration 2: v1 %v, latest %v", v1, latest)
	}
}
