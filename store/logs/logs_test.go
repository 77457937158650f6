package logs

import (
	"bytes"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
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
	if fi, err := os.Stat(path + ".1"); err != nil || fi.Size() != int64(len(big)) {
		t.Fatalf("old log not moved aside: %v", err)
	}
	if raw, _ := os.ReadFile(path); !strings.Contains(string(raw), "fresh") || len(raw) > 1000 {
		t.Fatalf("new log = %d bytes", len(raw))
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
