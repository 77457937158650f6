package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// fakeGo stands in for the go command in scripts/crash.sh: "go build" does
// nothing, "go test" prints what the crash test prints and exits with
// $FAKE_EXIT.
const fakeGo = `#!/usr/bin/env bash
[ "$1" = test ] || exit 0
echo '=== RUN   TestCrashLosesAndDuplicatesNothing'
echo '    crash_test.go:81: crash test: seed 7 (PARLEY_CRASH_SEED=7 replays it): 10000 messages across 100 contacts, 200 kills, leases 2m0s'
echo '    crash_test.go:123: crash test: 10000 messages, 200 kills (150 with jobs in flight), lost 0, duplicated 1, 3 found by altId after a kill; wall time 4m0s (kills 2m0s)'
if [ "$FAKE_EXIT" = 0 ]; then echo '--- PASS: TestCrashLosesAndDuplicatesNothing (240.00s)'; else echo '--- FAIL: TestCrashLosesAndDuplicatesNothing (240.00s)'; fi
exit "$FAKE_EXIT"
`

// TestCrashScriptLeavesFiguresForTheTable runs scripts/crash.sh, in a copy
// of its folder, with a stand-in go command, and reads what it leaves in
// bench-results/crash.txt the way `make bench` does.
func TestCrashScriptLeavesFiguresForTheTable(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "crash.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, exit := range []string{"0", "1"} {
		root := t.TempDir()
		if err := os.Mkdir(filepath.Join(root, "scripts"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "scripts", "crash.sh"), script, 0o755); err != nil {
			t.Fatal(err)
		}
		goCmd := filepath.Join(root, "go")
		if err := os.WriteFile(goCmd, []byte(fakeGo), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "crash.sh"))
		cmd.Env = append(os.Environ(), "GO="+goCmd, "FAKE_EXIT="+exit)
		out, err := cmd.CombinedOutput()
		if (err != nil) != (exit != "0") {
			t.Fatalf("exit %s: crash.sh returned %v:\n%s", exit, err, out)
		}
		res := newResults()
		if err := res.addFiguresFile(filepath.Join(root, "bench-results", "crash.txt"), "crash.txt"); err != nil {
			t.Fatal(err)
		}
		f := res.files["crash.txt"]
		if got := f.lines["crash"]; got["duplicated"] != 1 || got["kills"] != 200 || got["messages"] != 10000 {
			t.Errorf("exit %s: crash figures %v", exit, got)
		}
		if f.failed != (exit != "0") {
			t.Errorf("exit %s: failed = %v", exit, f.failed)
		}
	}
}
