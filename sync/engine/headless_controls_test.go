package engine

import (
	"golang.org/x/time/rate"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"parley/store"
	"parley/store/secrets"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/ghl/ghltest"
)

// ghlWrites counts the requests the HighLevel sandbox received that are
// not reads.
func ghlWrites(gs *ghltest.Server) int {
	n := 0
	for route, c := range gs.CallCounts() {
		if !strings.HasPrefix(route, "GET ") {
			n += c
		}
	}
	return n
}

// smallAccounts is sandboxAccounts with a small business instead of the
// demo's: three AD contacts of two messages each, one day apart, so that
// a whole mirror takes a second under the client's default pacing.
func smallAccounts(t *testing.T) (Accounts, *ghltest.Server) {
	t.Helper()
	gs := ghltest.NewTestServer(t, ghltest.Options{})
	day := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	as := adtest.NewTestServer(t, adtest.Options{SeedTime: day, Clock: func() time.Time { return day }})
	for i, name := range []string{"ada", "bo", "cy"} {
		c, err := as.AddContact(adtest.NewContact{FirstName: name, Email: name + "@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		at := day.AddDate(0, 0, i) // the 28th, 29th and 30th
		m, err := as.AddMessage(adtest.NewMessage{ContactID: c.ID, Channel: activedemand.ChannelSMS, Direction: activedemand.Inbound, Body: "hi", At: at})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := as.AddMessage(adtest.NewMessage{ConversationID: m.ConversationID, Direction: activedemand.Outbound, Body: "hello", At: at.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	v := &secrets.Memory{}
	ac := as.ClientConfig()
	for n, val := range map[secrets.Name]string{secrets.ADApplicationKey: ac.AppKey.Reveal(), secrets.ADAPIKey: ac.APIKey.Reveal(),
		secrets.GHLPrivateToken: gs.PrivateToken()} {
		if err := v.Set(n, val); err != nil {
			t.Fatal(err)
		}
	}
	return Accounts{Vault: v, GHLBaseURL: gs.URL(), ADBaseURL: as.URL(), GHLLocation: gs.LocationID(), GHLProvider: gs.ConversationProviderID()}, gs
}

// TestRunHeadlessDryRunWritesNothing is `parley sync --dry-run` against
// accounts: it predicts the demo business's records and writes nothing,
// to HighLevel or to the store.
func TestRunHeadlessDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	acc, gs := smallAccounts(t)
	dir := t.TempDir()
	st := openStore(t, dir)
	var out bytes.Buffer
	if err := RunHeadless(context.Background(), HeadlessOptions{Out: &out, Store: st, DataDir: dir, Accounts: acc, DryRun: true}); err != nil {
		t.Fatalf("RunHeadless: %v\n%s", err, out.String())
	}
	m := regexp.MustCompile(`Would record message: (\d+)`).FindStringSubmatch(out.String())
	if m == nil || m[1] != "6" || !strings.Contains(out.String(), "Would create contact: 3") {
		t.Errorf("the dry run did not predict records and contacts:\n%s", out.String())
	}
	if w := ghlWrites(gs); w != 0 {
		t.Errorf("the dry run wrote %d times to HighLevel", w)
	}
	counts, _ := st.OutboxCounts(context.Background())
	if _, ok, _ := st.Cursor(context.Background(), PollCursor); ok || counts[store.OutboxPending]+counts[store.OutboxDone] != 0 {
		t.Errorf("the dry run queued jobs (%v) or saved the cursor (%v)", counts, ok)
	}
}

// TestRunHeadlessMaxChangesStopsUntilConfirmed: a first catch-up of nine
// jobs with --max-changes 5 sends nothing and fails saying how to confirm;
// again with --confirm it mirrors everything.
func TestRunHeadlessMaxChangesStopsUntilConfirmed(t *testing.T) {
	t.Parallel()
	acc, gs := smallAccounts(t)
	dir := t.TempDir()
	st := openStore(t, dir)
	var out bytes.Buffer
	o := HeadlessOptions{Out: &out, Store: st, DataDir: dir, Accounts: acc, Once: true, MaxChanges: 5}
	err := RunHeadless(context.Background(), o)
	if !errors.Is(err, ErrTooManyChanges) || !strings.Contains(err.Error(), "--confirm") || !strings.Contains(err.Error(), "--max-changes") {
		t.Fatalf("RunHeadless = %v, want the guard's stop saying how to confirm\n%s", err, out.String())
	}
	if w := ghlWrites(gs); w != 0 {
		t.Errorf("the held run wrote %d times to HighLevel", w)
	}
	out.Reset()
	o.Confirm = true
	if err := RunHeadless(context.Background(), o); err != nil {
		t.Fatalf("confirmed RunHeadless: %v\n%s", err, out.String())
	}
	if n := atoi(t, recordedRE, out.String(), 1); n != 6 || gs.Traffic().Records != n {
		t.Errorf("confirmed run recorded %d, HighLevel saw %d", n, gs.Traffic().Records)
	}
}

// TestRunHeadlessBackfillShowsProgress: --backfill of two days queues
// them with plain progress lines that reach the total, and the run mirrors
// them (and the poll that follows the rest).
func TestRunHeadlessBackfillShowsProgress(t *testing.T) {
	t.Parallel()
	acc, gs := smallAccounts(t)
	dir := t.TempDir()
	rng, err := ParseDateRange("2026-11-29..2026-11-30", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := RunHeadless(context.Background(), HeadlessOptions{Out: &out, Store: openStore(t, dir), DataDir: dir, Accounts: acc, Once: true, Backfill: &rng}); err != nil {
		t.Fatalf("RunHeadless: %v\n%s", err, out.String())
	}
	last := regexp.MustCompile(`backfill: (\d+)/(\d+) conversations \(100%\)`).FindStringSubmatch(out.String())
	if last == nil || last[1] != last[2] || last[1] == "0" {
		t.Errorf("no final progress line:\n%s", out.String())
	}
	if strings.Contains(out.String(), "\r") {
		t.Errorf("a bar was drawn on something that is not a terminal:\n%q", out.String())
	}
	if !strings.Contains(out.String(), "4 messages in the range") {
		t.Errorf("the backfill did not find the range's 4 messages:\n%s", out.String())
	}
	if n := atoi(t, recordedRE, out.String(), 1); n != 6 || gs.Traffic().Records != n {
		t.Errorf("recorded %d, HighLevel saw %d:\n%s", n, gs.Traffic().Records, out.String())
	}
}

func TestProgressLine(t *testing.T) {
	for _, c := range []struct {
		done, total int
		rate        float64
		eta         time.Duration
		width       int
		want        string
	}{
		{5, 10, 2.5, 2 * time.Second, 10, "[#####-----] 5/10 conversations (50%) · 2.5/s · ETA 2s"},
		{10, 10, 4, 0, 0, "10/10 conversations (100%) · 4.0/s"},
		{0, 0, 0, 0, 4, "[####] 0/0 conversations (100%)"},
	} {
		if got := progressLine(c.done, c.total, c.rate, c.eta, "conversations", c.width); got != c.want {
			t.Errorf("progressLine(%d, %d) = %q, want %q", c.done, c.total, got, c.want)
		}
	}
}

// TestRunVerifyDemoIsClean is `parley verify --demo`: it mirrors the fresh
// demo business, then finds nothing wrong, and exits 0.
func TestRunVerifyDemoIsClean(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out bytes.Buffer
	err := RunVerify(context.Background(), VerifyOptions{HeadlessOptions: HeadlessOptions{Out: &out, Store: openStore(t, dir), DataDir: dir, Demo: true}})
	if err != nil || !strings.Contains(out.String(), "No problems") {
		t.Errorf("RunVerify = %v:\n%s", err, out.String())
	}
}

// TestRunVerifyReportsProblemsAsJSONAndFails: against accounts that were
// never synced, every message is missing; the JSON says so and the error
// matches ErrProblemsFound.
func TestRunVerifyReportsProblemsAsJSONAndFails(t *testing.T) {
	t.Parallel()
	acc, gs := smallAccounts(t)
	dir := t.TempDir()
	var out bytes.Buffer
	err := RunVerify(context.Background(), VerifyOptions{HeadlessOptions: HeadlessOptions{Out: &out, Store: openStore(t, dir), DataDir: dir, Accounts: acc}, JSON: true})
	if !errors.Is(err, ErrProblemsFound) {
		t.Fatalf("RunVerify = %v, want ErrProblemsFound", err)
	}
	var rep struct {
		Counts   map[string]int `json:"counts"`
		Problems []Problem      `json:"problems"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if rep.Counts["missing"] != 6 || len(rep.Problems) != 6 {
		t.Errorf("JSON counts = %v with %d problems, want all 6 messages missing", rep.Counts, len(rep.Problems))
	}
	if w := ghlWrites(gs); w != 0 {
		t.Errorf("verify wrote %d times to HighLevel", w)
	}
}

// TestRunHandsTheConsoleItsEngineToConfirm: the console runs the sync
// with Run and gets the engine through Started; a backlog over MaxChanges
// holds the engine with an alert, and Confirm on that engine lets it go.
func TestRunHandsTheConsoleItsEngineToConfirm(t *testing.T) {
	t.Parallel()
	acc, gs := smallAccounts(t)
	dir := t.TempDir()
	st := openStore(t, dir)
	ghlCfg, adCfg, provider, err := acc.configs(activedemand.DefaultRoutes())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan *Engine, 1)
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, RunConfig{Store: st, GHL: ghlCfg, AD: adCfg, ProviderID: provider, MaxChanges: 5,
			Started: func(e *Engine) { started <- e }})
		done <- err
	}()
	e := <-started
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	// The guard holds first and raises its alert just after.
	waitFor("the guard to hold and say so", func() bool {
		_, held := e.GuardStop()
		alerts, _ := st.RecentAlerts(ctx, 5)
		return held && len(alerts) > 0
	})
	if alerts, _ := st.RecentAlerts(ctx, 5); len(alerts) != 1 || gs.Traffic().Records != 0 {
		t.Errorf("held: %d alerts, %d records; want 1 alert and nothing sent", len(alerts), gs.Traffic().Records)
	}
	e.Confirm()
	waitFor("the confirmed backlog to be recorded", func() bool { return gs.Traffic().Records == 6 })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after confirming and stopping = %v", err)
	}
}

// TestRunHeadlessForeverStopsWhenHeld: a `parley sync` without --once has
// no one to press Confirm, so a held backlog ends the run with the guard's
// error instead of waiting forever.
func TestRunHeadlessForeverStopsWhenHeld(t *testing.T) {
	t.Parallel()
	acc, gs := smallAccounts(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := RunHeadless(ctx, HeadlessOptions{Out: &out, Store: openStore(t, dir), DataDir: dir, Accounts: acc, MaxChanges: 5})
	if !errors.Is(err, ErrTooManyChanges) || ctx.Err() != nil {
		t.Errorf("RunHeadless = %v (context: %v), want the guard's stop before the timeout\n%s", err, ctx.Err(), out.String())
	}
	if w := ghlWrites(gs); w != 0 {
		t.Errorf("%d writes while held", w)
	}
}

// TestAccountsADRatePacesTheClient: --ad-rate reaches ActiveDEMAND's
// client, and 0 leaves the client's default.
func TestAccountsADRatePacesTheClient(t *testing.T) {
	acc, _ := smallAccounts(t)
	for _, tc := range []struct {
		rate float64
		want rate.Limit
	}{{0, 0}, {12.5, 12.5}} {
		acc.ADRate = tc.rate
		_, adCfg, _, err := acc.configs(activedemand.DefaultRoutes())
		if err != nil {
			t.Fatal(err)
		}
		if adCfg.RateLimit != tc.want {
			t.Errorf("ADRate %v: the client's rate limit is %v, want %v", tc.rate, adCfg.RateLimit, tc.want)
		}
	}
}
