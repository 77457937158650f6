package logs

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestOpenWritesToFileAndExtra(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested")
	var extra bytes.Buffer
	log, f, err := Open(dir, &extra, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("sync started", "outbox", 3)
	log.Debug("too chatty")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "sync started") || strings.Contains(string(raw), "too chatty") {
		t.Fatalf("log file = %q", raw)
	}
	if extra.String() != string(raw) {
		t.Fatalf("extra writer got %q, file %q", extra.String(), raw)
	}
	if fi, _ := os.Stat(filepath.Join(dir, FileName)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("log file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestOpenRotatesLargeLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	big := bytes.Repeat([]byte("x"), MaxSize+1)
	if err := os.WriteFile(path, big, 0o600); err != nil {
		t.Fatal(err)
	}
	log, f, err := Open(dir, nil, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("fresh")
	f.Close()
	backups := backupsIn(t, dir)
	if len(backups) != 1 {
		t.Fatalf("backups %v, want one", backups)
	}
	if fi, err := os.Stat(backups[0]); err != nil || fi.Size() != int64(len(big)) {
		t.Fatalf("old log not moved aside whole: %v", err)
	}
	if raw, _ := os.ReadFile(path); !strings.Contains(string(raw), "fresh") || len(raw) > 1000 {
		t.Fatalf("new log = %d bytes", len(raw))
	}
}

// backupsIn lists the rotated logs in dir.
func backupsIn(t *testing.T, dir string) []string {
	t.Helper()
	backups, err := filepath.Glob(filepath.Join(dir, "parley-*.log"))
	if err != nil {
		t.Fatal(err)
	}
	return backups
}

// TestLogRotatesWhileRunning: `parley sync` may run for weeks, so the log
// is rotated when it passes its size, not only at the next start; every
// file stays owner-only.
func TestLogRotatesWhileRunning(t *testing.T) {
	dir := t.TempDir()
	const maxMB = 1
	log, f, err := open(dir, nil, slog.LevelInfo, maxMB)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("m", 200)
	for i := range 3 * (1 << 20) / len(line) {
		log.Info("pushed message", "n", i, "body", line)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	backups := backupsIn(t, dir)
	if len(backups) < 2 {
		t.Fatalf("backups %v after writing 3 MB with a 1 MB cap, want at least 2", backups)
	}
	if len(backups) > MaxBackups {
		t.Errorf("%d backups kept, want at most %d", len(backups), MaxBackups)
	}
	for _, name := range append(backups, filepath.Join(dir, FileName)) {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > maxMB<<20 {
			t.Errorf("%s is %d bytes, over the %d MB cap", filepath.Base(name), fi.Size(), maxMB)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(name), fi.Mode().Perm())
		}
	}
}

// TestOpenTightensAnOlderLog: an earlier log left 0644 is made private, and
// so are the logs rotated out of it (lumberjack copies the mode).
func TestOpenTightensAnOlderLog(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, []byte("old line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	log, f, err := Open(dir, nil, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("new line")
	f.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("log mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

// failingWriter is a log file whose disk is full.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestStderrGetsTheLineWhenTheFileFails: a log file that cannot be written
// (full disk, removed folder) must not silence the terminal as well.
func TestStderrGetsTheLineWhenTheFileFails(t *testing.T) {
	var stderr bytes.Buffer
	log := newLogger(failingWriter{}, &stderr, slog.LevelInfo)
	log.Info("outbox drained", "jobs", 3)
	if !strings.Contains(stderr.String(), "outbox drained") {
		t.Fatalf("stderr got %q", stderr.String())
	}
}

// TestOpenFallsBackToStderr: when the log file cannot be opened (a
// read-only data folder), Open still returns a logger, writing to extra
// alone, and an error that names the file, so start-up can go on to show
// what is wrong in a window.
func TestOpenFallsBackToStderr(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	log, f, err := Open(notADir, &stderr, slog.LevelInfo)
	if err == nil {
		t.Fatal("Open succeeded in a folder that is a file")
	}
	if !strings.Contains(err.Error(), notADir) {
		t.Errorf("error %q does not name the folder", err)
	}
	if log == nil || f == nil {
		t.Fatal("no fallback logger")
	}
	log.Info("still heard")
	if err := f.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if !strings.Contains(stderr.String(), "still heard") {
		t.Fatalf("stderr got %q", stderr.String())
	}
}

// TestCrashesAreWrittenToTheCrashLog crashes a child process (this test
// binary, re-run) on a goroutine of its own and reads what it left behind.
func TestCrashesAreWrittenToTheCrashLog(t *testing.T) {
	if dir := os.Getenv("PARLEY_CRASH_DIR"); dir != "" {
		if err := CaptureCrashes(dir); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			panic("mapping table is inconsistent")
		}()
		<-done
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestCrashesAreWrittenToTheCrashLog$")
	cmd.Env = append(os.Environ(), "PARLEY_CRASH_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("the child did not crash:\n%s", out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, CrashFileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"panic: mapping table is inconsistent", "goroutine"} {
		if !strings.Contains(string(raw), want) {
			t.Fatalf("crash log lacks %q:\n%s", want, raw)
		}
	}
}
