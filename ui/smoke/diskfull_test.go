package smoke

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"parley/store"
)

// mountTmpfs mounts a tmpfs of size (e.g. "64m") on a new temporary
// folder and unmounts it when the test ends. Mounting needs root (CI and
// the development machines run the tests as root); elsewhere the test is
// skipped, saying why.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	requireTools(t, "mount", "umount")
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs to fill needs root; run the tests as root (CI does) to include this one")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs on %s (%v: %s); a container without CAP_SYS_ADMIN cannot run this test", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes zeros to path until the disk holding it is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
	if f == nil {
		return
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

// integrityCheck runs SQLite's full check on the database in dir.
func integrityCheck(t *testing.T, dir string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.DatabaseFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
		t.Fatalf("PRAGMA integrity_check = %q, %v; want ok", res, err)
	}
}

// wantClearError checks that a failed `parley sync --once` said what is
// wrong and what to do, in words a person at the terminal can act on.
func wantClearError(t *testing.T, err error, out string, words ...string) {
	t.Helper()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("parley sync --once: %v, want a non-zero exit:\n%s", err, out)
	}
	last := out[strings.LastIndex(strings.TrimRight(out, "\n"), "\n")+1:]
	t.Logf("exit %d: %s", exit.ExitCode(), strings.TrimSpace(last))
	for _, w := range words {
		if !strings.Contains(strings.ToLower(last), strings.ToLower(w)) {
			t.Errorf("the last line does not say %q:\n%s\n(whole output:\n%s)", w, last, out)
		}
	}
}

// TestSyncStopsCleanlyOnAFullDisk: the disk holding the data folder fills
// up while `parley sync --once` mirrors. It ends with a clear error and a
// non-zero exit, the database passes SQLite's integrity check, and once
// there is space again the next run finishes: every message in HighLevel
// exactly once, history agreeing with the id map.
func TestSyncStopsCleanlyOnAFullDisk(t *testing.T) {
	bin := binary(t)
	plan := crashPlan{messages: 1000, contacts: 10}
	r := newCrashRig(t, bin)
	r.dir = mountTmpfs(t, "64m")
	ids := r.seedAD(plan)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := r.command(ctx, "--once")
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for r.gs.Traffic().Records < 100 {
		select {
		case err := <-exited:
			t.Fatalf("parley sync --once ended before the disk filled (%v):\n%s", err, out.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	ballast := filepath.Join(r.dir, "ballast")
	fill(t, ballast)
	err := <-exited
	wantClearError(t, err, out.String(), "full", r.dir, "free")
	integrityCheck(t, r.dir)

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	r.expireLeases()
	r.catchUp(plan)
	r.verify(ids)
}

// TestSyncStopsCleanlyOnAReadOnlyDatabase: parley.db is on a read-only
// mount (a disk remounted read-only after errors, a backup restored
// without write permission). `parley sync --once` ends with a clear error
// naming the file, the database is intact, and once it is writable again
// the next run mirrors everything exactly once.
func TestSyncStopsCleanlyOnAReadOnlyDatabase(t *testing.T) {
	bin := binary(t)
	requireTools(t, "mount", "umount")
	if os.Geteuid() != 0 {
		t.Skip("making the database read-only for root needs a read-only bind mount, which needs root; run the tests as root (CI does)")
	}
	plan := crashPlan{messages: 200, contacts: 5}
	r := newCrashRig(t, bin)
	// A first run makes the database; the messages come after.
	if out, err := r.command(context.Background(), "--once").CombinedOutput(); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	ids := r.seedAD(plan)
	db := filepath.Join(r.dir, store.DatabaseFile)
	if out, err := exec.Command("sh", "-c", `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"`, "sh", db).CombinedOutput(); err != nil {
		t.Skipf("cannot bind-mount %s read-only (%v: %s)", db, err, out)
	}
	mounted := true
	unmount := func() {
		if mounted {
			if out, err := exec.Command("umount", db).CombinedOutput(); err != nil {
				t.Errorf("umount %s: %v: %s", db, err, out)
			}
			mounted = false
		}
	}
	t.Cleanup(unmount)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := r.command(ctx, "--once").CombinedOutput()
	wantClearError(t, err, string(out), "read-only", db)
	if n := r.gs.Traffic().Records; n != 0 {
		t.Errorf("%d messages recorded in HighLevel by a run that could not store what it did", n)
	}
	unmount()
	integrityCheck(t, r.dir)
	r.catchUp(plan)
	r.verify(ids)
}
