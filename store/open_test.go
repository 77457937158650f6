package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestOpenCreatesPrivateFiles: the database holds message history, so it and
// its -wal and -shm files are readable by the owner only, even in a folder
// that already existed (where the umask alone would leave them 0644).
func TestOpenCreatesPrivateFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, DatabaseFile)
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(name), fi.Mode().Perm())
		}
	}
}

// TestOpenTightensAnOlderDatabase: files created by an earlier Parley were
// 0644; opening one makes it private too.
func TestOpenTightensAnOlderDatabase(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits")
	}
	path := filepath.Join(t.TempDir(), DatabaseFile)
	makeParleyDB(t, path)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want 0600", filepath.Base(name), fi.Mode().Perm(), err)
		}
	}
}

// TestOpenRefusesDamagedVersionRecords covers schema_migrations rows that no
// Parley writes: a version below 0 (it used to panic), rows deleted by hand
// (migration 1 then failed with "table history already exists"), gaps.
// Each is a damaged database, reported with the path and the way out, and
// the file is left alone.
func TestOpenRefusesDamagedVersionRecords(t *testing.T) {
	tests := []struct {
		name, sql string
	}{
		{"negative version", `DELETE FROM schema_migrations; INSERT INTO schema_migrations VALUES (-5, 'x', 0)`},
		{"negative beside real ones", `INSERT INTO schema_migrations VALUES (-5, 'x', 0)`},
		{"all rows deleted", `DELETE FROM schema_migrations`},
		{"latest row deleted", fmt.Sprintf(`DELETE FROM schema_migrations WHERE version = %d`, LatestSchemaVersion())},
		{"first row deleted", `DELETE FROM schema_migrations WHERE version = 1`},
		{"version zero", `INSERT INTO schema_migrations VALUES (0, 'x', 0)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, DatabaseFile)
			makeParleyDB(t, path)
			db := rawWriter(t, path)
			if _, err := db.Exec(tt.sql); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)

			s, err := Open(context.Background(), path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			var nd *NotDatabaseError
			if !errors.As(err, &nd) || !nd.Damaged {
				t.Fatalf("Open error = %v (%T), want a damaged *NotDatabaseError", err, err)
			}
			t.Log(err)
			for _, want := range []string{path, "schema_migrations", "--data-dir"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			assertUntouched(t, dir, before)
		})
	}
}

// TestMigrateRunnerRefusesOutOfRangeVersions drives the runner directly, as
// a database changed between the check and the migration would.
func TestMigrateRunnerRefusesOutOfRangeVersions(t *testing.T) {
	ctx := context.Background()
	for _, v := range []int{-5, -1} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), DatabaseFile)
			db := rawWriter(t, path)
			defer db.Close()
			if _, err := db.Exec(createMigrationsTable); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, 'x', 0)`, v); err != nil {
				t.Fatal(err)
			}
			err := migrate(ctx, db, path, LatestSchemaVersion(), func() int64 { return 1 })
			var nd *NotDatabaseError
			if !errors.As(err, &nd) || !nd.Damaged || !strings.Contains(err.Error(), path) {
				t.Fatalf("migrate = %v, want a damaged *NotDatabaseError naming the file", err)
			}
		})
	}
}

// openConcurrently opens the database in dir from n goroutines at once and
// returns their errors.
func openConcurrently(dir string, n int) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			s, err := Open(context.Background(), filepath.Join(dir, DatabaseFile))
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// TestFirstStartsAtOnce: two or three Parleys started together on a new
// data folder (a double-click, a login item and `parley sync`) all open it.
// Before the folder was locked, 0.5-2 % of such starts failed with
// SQLITE_BUSY or took the half-created file for another application's.
// Each round uses separate processes (this test binary, re-run), as real
// starts do.
func TestFirstStartsAtOnce(t *testing.T) {
	if dir := os.Getenv("PARLEY_STORE_OPEN_DIR"); dir != "" {
		for _, err := range openConcurrently(dir, 1) {
			if err != nil {
				fmt.Fprintln(os.Stderr, "OPEN FAILED:", err)
				os.Exit(3)
			}
		}
		return
	}
	const starts = 3
	rounds := stressRounds(t, 12)
	if testing.Short() {
		t.Skip("starts processes")
	}
	var failures []string
	for range rounds {
		dir := filepath.Join(t.TempDir(), "data")
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range starts {
			wg.Go(func() {
				cmd := exec.Command(os.Args[0], "-test.run", "^TestFirstStartsAtOnce$", "-test.count=1")
				cmd.Env = append(os.Environ(), "PARLEY_STORE_OPEN_DIR="+dir)
				if out, err := cmd.CombinedOutput(); err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%v: %s", err, out))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	if len(failures) > 0 {
		t.Fatalf("%d of %d starts failed; first:\n%s", len(failures), rounds*starts, failures[0])
	}
}

// stressRounds is how many rounds the first-start races run: def in
// `make test`, where each round is a fresh migration under the race
// detector, or PARLEY_STORE_ROUNDS to hunt for a rare failure.
func stressRounds(t *testing.T, def int) int {
	t.Helper()
	v := os.Getenv("PARLEY_STORE_ROUNDS")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("PARLEY_STORE_ROUNDS=%q: want a positive number", v)
	}
	return n
}

// TestFirstStartsAtOnceInProcess is the same race between goroutines: the
// console and an import opening the store together. It is cheap, so it runs
// many more rounds.
func TestFirstStartsAtOnceInProcess(t *testing.T) {
	const starts = 3
	rounds := stressRounds(t, 60)
	var failed []error
	for range rounds {
		dir := filepath.Join(t.TempDir(), "data")
		for _, err := range openConcurrently(dir, starts) {
			if err != nil {
				failed = append(failed, err)
			}
		}
	}
	if len(failed) > 0 {
		t.Fatalf("%d of %d opens failed; first: %v", len(failed), rounds*starts, failed[0])
	}
}

// TestOpenReadOnlyFolder: a data folder on a read-only disk is reported as
// such, naming the folder and what to do, not as an SQLite error. The test
// needs a really read-only mount, so it re-runs itself in a private mount
// namespace (unshare) with the folder bind-mounted read-only.
func TestOpenReadOnlyFolder(t *testing.T) {
	if dir := os.Getenv("PARLEY_STORE_RO_DIR"); dir != "" {
		_, err := Open(context.Background(), filepath.Join(dir, DatabaseFile))
		fmt.Println("OPEN ERROR:", err)
		var de *DataDirError
		if !errors.As(err, &de) || !errors.Is(err, ErrDataDirUnusable) || de.Dir != dir {
			t.Fatalf("Open = %v (%T), want *DataDirError for %s", err, err, dir)
		}
		return
	}
	dir := t.TempDir()
	cmd := readOnlyChild(t, dir, "PARLEY_STORE_RO_DIR", "^TestOpenReadOnlyFolder$")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	for _, want := range []string{dir, "read-only", "--data-dir"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the error does not say %q:\n%s", want, out)
		}
	}
}

// readOnlyChild returns a command re-running test run of this binary with
// dir mounted read-only and its path in the environment variable env.
func readOnlyChild(t *testing.T, dir, env, run string) *exec.Cmd {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare (util-linux) is needed for a read-only mount")
	}
	if err := exec.Command("unshare", "-rm", "true").Run(); err != nil {
		t.Skipf("user namespaces are not available: %v", err)
	}
	cmd := exec.Command("unshare", "-rm", "sh", "-c",
		`mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && exec "$2" -test.run "$3" -test.count=1 -test.v`,
		"sh", dir, os.Args[0], run)
	cmd.Env = append(os.Environ(), env+"="+dir)
	return cmd
}

// TestDamageFoundLaterNamesTheFile: a page damaged mid-file passes Open's
// quick check (it reads one row per table; a full check takes seconds on a
// big history) and is only hit by a later query. That error must still say
// which file is damaged and what to do, not only "database disk image is
// malformed".
func TestDamageFoundLaterNamesTheFile(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), DatabaseFile)
	makeParleyDB(t, src)
	clean, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	pages := len(clean) / page
	// Find a page whose damage Open does not notice but a full scan does.
	for p := 2; p < pages-1; p++ {
		dir := t.TempDir()
		path := filepath.Join(dir, DatabaseFile)
		damaged := slices.Clone(clean)
		for i := p * page; i < (p+1)*page; i++ {
			damaged[i] = byte(i * 7)
		}
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(ctx, path)
		if err != nil {
			continue // noticed at once: not the case under test
		}
		var n, size int64
		err = s.r.QueryRowContext(ctx, `SELECT count(*), sum(length(error) + length(local_id)) FROM history`).Scan(&n, &size)
		s.Close()
		if err == nil {
			continue // the page was not one the scan reads
		}
		t.Logf("page %d of %d: %v", p, pages, err)
		var nd *NotDatabaseError
		if !errors.As(err, &nd) || !nd.Damaged || nd.Path != path {
			t.Fatalf("query error = %v (%T), want a damaged *NotDatabaseError for %s", err, err, path)
		}
		for _, want := range []string{path, "damaged", "--data-dir"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
		return
	}
	t.Fatal("no page was found whose damage Open misses and a scan finds")
}
