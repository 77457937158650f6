package engine

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/store"
	"parley/store/secrets"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/demo"
	"parley/sync/ghl/ghltest"
)

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(dir, store.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// recordRows counts the history's ok record rows by AD message id.
func recordRows(t *testing.T, st *store.Store) map[string]int {
	t.Helper()
	n := map[string]int{}
	f := store.HistoryFilter{Limit: store.MaxHistoryLimit}
	for {
		page, err := st.HistoryPage(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range page {
			if (h.Operation == store.OpInboundRecord || h.Operation == store.OpOutboundRecord) && h.Outcome == store.OutcomeOK {
				n[h.LocalID]++
			}
		}
		if len(page) < f.Limit {
			return n
		}
		f.BeforeID = page[len(page)-1].ID
	}
}

var (
	foundRE    = regexp.MustCompile(`found (\d+) messages`)
	recordedRE = regexp.MustCompile(`Mirrored: (\d+) messages recorded`)
	trafficRE  = regexp.MustCompile(`HighLevel sandbox: (\d+) messages recorded, (\d+) delivered`)
)

func atoi(t *testing.T, re *regexp.Regexp, out string, group int) int {
	t.Helper()
	m := re.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output has no %q:\n%s", re, out)
	}
	n, _ := strconv.Atoi(m[group])
	return n
}

// TestRunHeadlessDemoOnceMirrorsTheDemoBusiness is `parley sync --demo
// --once` twice: each run records every demo message in its own fresh
// HighLevel sandbox exactly once, delivers none and writes a history row
// for each; the second is not fooled by the first's links and done jobs.
func TestRunHeadlessDemoOnceMirrorsTheDemoBusiness(t *testing.T) {
	t.Parallel() // each waits mostly on the demo sandbox's rate limits
	dir := t.TempDir()
	st := openStore(t, dir)
	var out bytes.Buffer
	if err := RunHeadless(context.Background(), HeadlessOptions{Out: &out, Store: st, DataDir: dir, Demo: true, Once: true}); err != nil {
		t.Fatalf("RunHeadless: %v\n%s", err, out.String())
	}
	first := out.String()
	found := atoi(t, foundRE, first, 1)
	if found < 100 {
		t.Fatalf("the demo business has only %d messages:\n%s", found, first)
	}
	if got := atoi(t, recordedRE, first, 1); got != found {
		t.Errorf("recorded %d of %d messages:\n%s", got, found, first)
	}
	if rec, del := atoi(t, trafficRE, first, 1), atoi(t, trafficRE, first, 2); rec != found || del != 0 {
		t.Errorf("HighLevel saw %d records and %d deliveries, want %d and 0", rec, del, found)
	}
	rows := recordRows(t, st)
	if len(rows) != found {
		t.Errorf("history has record rows for %d messages, want %d", len(rows), found)
	}
	for id, n := range rows {
		if n != 1 {
			t.Errorf("message %s has %d record rows", id, n)
		}
	}

	out.Reset()
	if err := RunHeadless(context.Background(), HeadlessOptions{Out: &out, Store: st, DataDir: dir, Demo: true, Once: true}); err != nil {
		t.Fatalf("second RunHeadless: %v\n%s", err, out.String())
	}
	if got := atoi(t, recordedRE, out.String(), 1); got != found {
		t.Errorf("the second run recorded %d of %d messages in its new sandbox:\n%s", got, found, out.String())
	}
	if rec, del := atoi(t, trafficRE, out.String(), 1), atoi(t, trafficRE, out.String(), 2); rec != found || del != 0 {
		t.Errorf("the second run's HighLevel saw %d records and %d deliveries, want %d and 0", rec, del, found)
	}
	for id, n := range recordRows(t, st) {
		if n != 2 {
			t.Errorf("message %s has %d record rows after two sessions, want 2", id, n)
		}
	}
}

// TestRunOnceDemoLeavesOneRecordPerMessage: mirrored into the demo's
// HighLevel location, every ActiveDEMAND message is there exactly once,
// under its ActiveDEMAND id, and no other message is.
func TestRunOnceDemoLeavesOneRecordPerMessage(t *testing.T) {
	t.Parallel() // each waits mostly on the demo sandbox's rate limits
	sb, err := demo.Start(demo.Options{ActivityEvery: -1, GHLEmpty: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	st := openStore(t, t.TempDir())
	sum, err := Run(context.Background(), RunConfig{Store: st, GHL: sb.GHLConfig(), AD: sb.ADConfig(), ProviderID: sb.ProviderID(), Once: true})
	if err != nil {
		t.Fatal(err)
	}
	byAlt := map[string]int{}
	for _, cv := range sb.GHL.Conversations() {
		for _, m := range sb.GHL.Messages(cv.ID) {
			byAlt[m.AltID]++
		}
	}
	ids := 0
	for _, c := range sb.AD.Conversations() {
		for _, m := range sb.AD.Messages(c.ID) {
			ids++
			if byAlt[string(m.ID)] != 1 {
				t.Errorf("AD message %s is in HighLevel %d times", m.ID, byAlt[string(m.ID)])
			}
		}
	}
	if len(byAlt) != ids || sum.Messages() != ids {
		t.Errorf("HighLevel holds %d altIds, the run recorded %d, ActiveDEMAND has %d messages", len(byAlt), sum.Messages(), ids)
	}
	if tr := sb.GHL.Traffic(); tr.Deliveries != 0 {
		t.Errorf("%d deliveries", tr.Deliveries)
	}
}

// TestRunHeadlessDemoRunsUntilCancelled: without Once the sync keeps
// mirroring until the context ends, which is how SIGINT and SIGTERM stop
// `parley sync`, and then stops the sandboxes.
func TestRunHeadlessDemoRunsUntilCancelled(t *testing.T) {
	t.Parallel() // each waits mostly on the demo sandbox's rate limits
	dir := t.TempDir()
	routes := filepath.Join(dir, activedemand.RoutesFile)
	if err := os.WriteFile(routes, []byte("[routes.\"messages.list\"]\npath = \"v2/messages.json\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- RunHeadless(ctx, HeadlessOptions{Out: &out, Store: st, DataDir: dir, Demo: true,
			Sandbox: demo.Options{ActivityEvery: -1}, ProgressEvery: 100 * time.Millisecond})
	}()
	for deadline := time.Now().Add(60 * time.Second); len(recordRows(t, st)) < 100 || !strings.Contains(out.String(), "queue "); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("RunHeadless returned before being stopped: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing mirrored in 60 s:\n%s", out.String())
		}
	}
	printed := out.String()
	if !strings.Contains(printed, routes) || !strings.Contains(printed, "until interrupted") {
		t.Errorf("output does not name the routes file and how to stop:\n%s", printed)
	}
	ad := regexp.MustCompile(`ActiveDEMAND sandbox \((http://\S+)\)`).FindStringSubmatch(printed)
	if ad == nil {
		t.Fatalf("no ActiveDEMAND address in:\n%s", printed)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunHeadless = %v after cancel", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30 s after cancel")
	}
	if !strings.Contains(out.String(), "Summary:") {
		t.Errorf("no summary after stopping:\n%s", out.String())
	}
	if resp, err := http.Get(ad[1]); err == nil {
		resp.Body.Close()
		t.Error("the demo sandbox still answers after the run ended")
	}
}

// sandboxAccounts are real-account options pointing at fresh sandboxes,
// with credentials in a vault.
func sandboxAccounts(t *testing.T, ghlToken func(*ghltest.Server) string) (Accounts, *ghltest.Server) {
	gs := ghltest.NewTestServer(t, ghltest.Options{})
	// A small business of its own: the client paces ActiveDEMAND at its
	// default four requests a second, so the demo business (several
	// hundred calls with its media and history entries) would be a minute
	// of waiting, and what these tests prove needs a few conversations.
	as := adtest.NewTestServer(t, adtest.Options{})
	at := time.Now().Add(-time.Hour)
	for i := range sandboxContacts {
		c, err := as.AddContact(adtest.NewContact{FirstName: "Headless", LastName: strconv.Itoa(i),
			Email: "headless" + strconv.Itoa(i) + "@example.com", Phone: "+1902555" + strconv.Itoa(1000+i)})
		if err != nil {
			t.Fatal(err)
		}
		var conv activedemand.ID
		for j := range sandboxMessages / sandboxContacts {
			dir := activedemand.Inbound
			if j%2 == 1 {
				dir = activedemand.Outbound
			}
			m, err := as.AddMessage(adtest.NewMessage{ConversationID: conv, ContactID: c.ID, Channel: "sms", Direction: dir,
				Body: "hello " + strconv.Itoa(j), At: at.Add(time.Duration(i*10+j) * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			conv = m.ConversationID
		}
	}
	v := &secrets.Memory{}
	ac := as.ClientConfig()
	for n, val := range map[secrets.Name]string{secrets.ADApplicationKey: ac.AppKey.Reveal(), secrets.ADAPIKey: ac.APIKey.Reveal(),
		secrets.GHLPrivateToken: ghlToken(gs)} {
		if err := v.Set(n, val); err != nil {
			t.Fatal(err)
		}
	}
	return Accounts{Vault: v, GHLBaseURL: gs.URL(), ADBaseURL: as.URL(), GHLLocation: gs.LocationID(), GHLProvider: gs.ConversationProviderID()}, gs
}

// The business sandboxAccounts' ActiveDEMAND holds.
const sandboxContacts, sandboxMessages = 5, 20

// TestRunHeadlessWithAccountsSyncs: with credentials and addresses given,
// a run against real accounts (sandboxes here) mirrors and exits 0.
func TestRunHeadlessWithAccountsSyncs(t *testing.T) {
	t.Parallel()
	acc, gs := sandboxAccounts(t, func(s *ghltest.Server) string { return s.PrivateToken() })
	dir := t.TempDir()
	var out bytes.Buffer
	if err := RunHeadless(context.Background(), HeadlessOptions{Out: &out, Store: openStore(t, dir), DataDir: dir, Accounts: acc, Once: true}); err != nil {
		t.Fatalf("RunHeadless: %v\n%s", err, out.String())
	}
	n := atoi(t, recordedRE, out.String(), 1)
	if tr := gs.Traffic(); n != sandboxMessages || tr.Records != n || tr.Deliveries != 0 {
		t.Errorf("recorded %d, HighLevel traffic %+v:\n%s", n, tr, out.String())
	}
}

// TestRunHeadlessOnceFailsWhenAPersonMustAct: a token HighLevel refuses
// pauses the sync, and a --once run says so and fails.
func TestRunHeadlessOnceFailsWhenAPersonMustAct(t *testing.T) {
	t.Parallel()
	acc, gs := sandboxAccounts(t, func(*ghltest.Server) string { return "pit-revoked" })
	dir := t.TempDir()
	var out bytes.Buffer
	err := RunHeadless(context.Background(), HeadlessOptions{Out: &out, Store: openStore(t, dir), DataDir: dir, Accounts: acc, Once: true})
	if !errors.Is(err, ErrNeedsAPerson) || !strings.Contains(out.String(), "Paused:") {
		t.Errorf("RunHeadless = %v, want a pause that needs a person:\n%s", err, out.String())
	}
	if strings.Contains(out.String()+err.Error(), "pit-revoked") {
		t.Error("the token is printed")
	}
	if tr := gs.Traffic(); tr.Records != 0 {
		t.Errorf("traffic %+v with a refused token", tr)
	}
}

// TestRunHeadlessNamesWhatIsMissing: each missing credential or setting is
// an error naming the variable to set and the Connections screen.
func TestRunHeadlessNamesWhatIsMissing(t *testing.T) {
	acc, _ := sandboxAccounts(t, func(s *ghltest.Server) string { return s.PrivateToken() })
	env := func(vars map[string]string) secrets.Vault {
		return secrets.Env{Lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	}
	all := map[string]string{
		secrets.EnvVar(secrets.ADApplicationKey): "app", secrets.EnvVar(secrets.ADAPIKey): "api",
		secrets.EnvVar(secrets.GHLPrivateToken): "pit-x",
	}
	without := func(k string) map[string]string {
		m := map[string]string{}
		for kk, v := range all {
			if kk != k {
				m[kk] = v
			}
		}
		return m
	}
	for _, c := range []struct {
		name string
		mut  func(*Accounts)
		want []string
	}{
		{"app key", func(a *Accounts) { a.Vault = env(without("PARLEY_ACTIVEDEMAND_APPLICATION_KEY")) }, []string{"PARLEY_ACTIVEDEMAND_APPLICATION_KEY", "Connections"}},
		{"api key", func(a *Accounts) { a.Vault = env(without("PARLEY_ACTIVEDEMAND_API_KEY")) }, []string{"PARLEY_ACTIVEDEMAND_API_KEY", "Connections"}},
		{"ghl token", func(a *Accounts) { a.Vault = env(without("PARLEY_GHL_PRIVATE_INTEGRATION_TOKEN")) }, []string{"PARLEY_GHL_PRIVATE_INTEGRATION_TOKEN", "PARLEY_GHL_OAUTH_TOKEN", "Connections"}},
		{"location", func(a *Accounts) { a.Vault = env(all); a.GHLLocation = "" }, []string{"--ghl-location", "PARLEY_GHL_LOCATION"}},
		{"provider", func(a *Accounts) { a.Vault = env(all); a.GHLProvider = "" }, []string{"--ghl-provider", "PARLEY_GHL_PROVIDER"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := acc
			c.mut(&a)
			dir := t.TempDir()
			err := RunHeadless(context.Background(), HeadlessOptions{Out: &bytes.Buffer{}, Store: openStore(t, dir), DataDir: dir, Accounts: a, Once: true})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
			if strings.Contains(err.Error(), "pit-x") {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

func TestRunHeadlessReportsStoreAndRoutesErrors(t *testing.T) {
	dir := t.TempDir()
	closed := openStore(t, dir)
	closed.Close()
	if err := RunHeadless(context.Background(), HeadlessOptions{Out: &bytes.Buffer{}, Store: closed, DataDir: dir, Demo: true}); err == nil {
		t.Error("a store error was swallowed")
	}
	dir = t.TempDir()
	file := filepath.Join(dir, activedemand.RoutesFile)
	if err := os.WriteFile(file, []byte("[routes.\"messages.lst\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := RunHeadless(context.Background(), HeadlessOptions{Out: &bytes.Buffer{}, Store: openStore(t, dir), DataDir: dir, Demo: true})
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("RunHeadless = %v, want an error naming %s", err, file)
	}
}

// TestRunDemoFillsHistoryUntilStopped is the console's demo sync: it
// mirrors into history beside the window and returns when stopped.
func TestRunDemoFillsHistoryUntilStopped(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	at, err := StartDemoSession(context.Background(), st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	bg := demo.StartBackground(dir, demo.Options{GHLEmpty: true, Now: at, ActivityEvery: -1})
	t.Cleanup(func() { _ = bg.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- RunDemo(ctx, st, bg, nil) }()
	for deadline := time.Now().Add(60 * time.Second); len(recordRows(t, st)) < 20; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("history did not fill in 60 s")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunDemo = %v after stop", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("RunDemo still running 30 s after stop")
	}
}
