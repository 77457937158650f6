package smoke

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/store"
)

// syncOnce runs `parley sync` with args and the environment minus any
// PARLEY_ variable, and returns its output and exit error.
func syncOnce(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"sync"}, args...)...)
	for _, kv := range withoutDisplay() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSyncDemoOnceMirrorsTheDemoBusiness: `parley sync --demo --once`
// mirrors every demo message, delivers none, leaves a history row for
// each in the demo folder's database and exits 0; run again, it mirrors
// them all into its own fresh sandbox, not fooled by the first run's state.
func TestSyncDemoOnceMirrorsTheDemoBusiness(t *testing.T) {
	dir := t.TempDir()
	out, err := syncOnce(t, "--demo", "--once", "--data-dir", dir)
	if err != nil {
		t.Fatalf("parley sync --demo --once: %v\n%s", err, out)
	}
	number := func(out, re string) int {
		m := regexp.MustCompile(re).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("output has no %q:\n%s", re, out)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	found := number(out, `found (\d+) messages`)
	if found < 100 || number(out, `Mirrored: (\d+) messages recorded`) != found {
		t.Fatalf("found %d demo messages, want them all recorded:\n%s", found, out)
	}
	if !strings.Contains(out, "0 delivered to customers") {
		t.Errorf("the summary does not show zero deliveries:\n%s", out)
	}

	recorded := recordedMessages(t, store.ModeDir(dir, true))
	if len(recorded) != found {
		t.Errorf("history records %d messages, the run found %d", len(recorded), found)
	}

	out, err = syncOnce(t, "--demo", "--once", "--data-dir", dir)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	if n := number(out, `Mirrored: (\d+) messages recorded`); n != found {
		t.Errorf("the second run recorded %d of %d messages in its new sandbox:\n%s", n, found, out)
	}
}

// TestSyncWithoutCredentialsSaysWhatToSet: against real accounts with no
// credential saved, `parley sync --once` fails naming the variable to set.
func TestSyncWithoutCredentialsSaysWhatToSet(t *testing.T) {
	out, err := syncOnce(t, "--demo=false", "--once", "--data-dir", t.TempDir())
	if err == nil {
		t.Fatalf("parley sync without credentials exited 0:\n%s", out)
	}
	if !strings.Contains(out, "PARLEY_ACTIVEDEMAND_APPLICATION_KEY") {
		t.Errorf("the error does not name the variable to set:\n%s", out)
	}
}

// TestSyncFlagsFallBackToTheEnvironment: a setting missing from the flags
// is read from its PARLEY_ variable, and a flag wins over the variable.
func TestSyncFlagsFallBackToTheEnvironment(t *testing.T) {
	run := func(env []string, args ...string) string {
		cmd := exec.Command(binary(t), append([]string{"sync", "--demo=false", "--once", "--data-dir", t.TempDir()}, args...)...)
		cmd.Env = append(withoutDisplay(), append([]string{"PARLEY_ACTIVEDEMAND_APPLICATION_KEY=a", "PARLEY_ACTIVEDEMAND_API_KEY=b",
			"PARLEY_GHL_PRIVATE_INTEGRATION_TOKEN=pit-smoke"}, env...)...)
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	if out := run(nil); !strings.Contains(out, "--ghl-location") {
		t.Errorf("no location: output does not ask for one:\n%s", out)
	}
	if out := run([]string{"PARLEY_GHL_LOCATION=loc-env"}); !strings.Contains(out, "--ghl-provider") {
		t.Errorf("location from the environment: output does not move on to the provider:\n%s", out)
	}
	out := run([]string{"PARLEY_GHL_LOCATION=loc-env", "PARLEY_GHL_PROVIDER=prov", "PARLEY_AD_BASE_URL=http://127.0.0.1:1/env/"},
		"--ghl-location", "loc-flag", "--ad-base-url", "http://127.0.0.1:1/flag/")
	if !strings.Contains(out, "loc-flag") || strings.Contains(out, "loc-env") || !strings.Contains(out, "/flag/") {
		t.Errorf("flags did not win over the environment:\n%s", out)
	}
	if strings.Contains(out, "pit-smoke") {
		t.Errorf("the token is printed:\n%s", out)
	}
	for _, bad := range []struct {
		env  []string
		args []string
	}{{[]string{"PARLEY_AD_RATE=fast"}, nil}, {nil, []string{"--ad-rate", "-1"}}, {[]string{"PARLEY_AD_RATE=5"}, []string{"--ad-rate", "1e9"}}} {
		if out := run(bad.env, bad.args...); !strings.Contains(out, "--ad-rate (or PARLEY_AD_RATE) must be between 0") {
			t.Errorf("env %q, flags %q: the rate is not refused with its rule:\n%s", bad.env, bad.args, out)
		}
	}
}

// recordedMessages reads the AD message ids with an ok record row in the
// history of the database in dir.
func recordedMessages(t *testing.T, dir string) map[string]bool {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(dir, store.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recorded := map[string]bool{}
	f := store.HistoryFilter{Limit: store.MaxHistoryLimit}
	for {
		page, err := db.HistoryPage(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range page {
			if (h.Operation == store.OpInboundRecord || h.Operation == store.OpOutboundRecord) && h.Outcome == store.OutcomeOK {
				recorded[h.LocalID] = true
			}
		}
		if len(page) < f.Limit {
			return recorded
		}
		f.BeforeID = page[len(page)-1].ID
	}
}

// TestConsoleDemoFillsHistory: the console in demo mode runs the sync
// beside its window, so the demo database's history fills with mirrored
// messages while the window is open.
func TestConsoleDemoFillsHistory(t *testing.T) {
	dir := t.TempDir()
	l := launch(t, "--data-dir", dir)
	l.waitForWindow(t, "Parley")
	for deadline := time.Now().Add(60 * time.Second); len(recordedMessages(t, store.ModeDir(dir, true))) < 20; time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the demo history has %d recorded messages after 60 s:\n%s", len(recordedMessages(t, store.ModeDir(dir, true))), l.out.String())
		}
	}
}
