package engine_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/store"
	"parley/store/secrets"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/connect"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
)

// sandboxAccounts are two sandboxes' credentials as the console's saved
// accounts would give them.
type sandboxAccounts struct {
	gs *ghltest.Server
	as *adtest.Server
}

func (a sandboxAccounts) GHLConfig() (ghl.Config, error) {
	return ghl.Config{BaseURL: a.gs.URL(), LocationID: a.gs.LocationID(), PrivateToken: ghl.Secret(a.gs.PrivateToken()),
		RateLimit: ghl.RateLimit{Disabled: true}}, nil
}
func (a sandboxAccounts) ADConfig() (activedemand.Config, error) { return a.as.ClientConfig(), nil }
func (a sandboxAccounts) ProviderID() string                     { return a.gs.ConversationProviderID() }

// TestConsoleSyncStartsStopsAndRemembers: the console starts the sync on
// the connected accounts, the Sync screen's control drives the engine it
// runs, Stop drains and detaches it, and a second Start carries on where
// the first stopped without recording anything twice.
func TestConsoleSyncStartsStopsAndRemembers(t *testing.T) {
	gs := ghltest.NewTestServer(t, ghltest.Options{SeedTime: t0})
	as := adtest.NewTestServer(t, adtest.Options{})
	const contacts, perContact = 3, 4
	for i := range contacts {
		c, err := as.AddContact(adtest.NewContact{FirstName: "Console", LastName: fmt.Sprint(i),
			Email: fmt.Sprintf("console%d@example.com", i), Phone: fmt.Sprintf("+1902555%04d", i)})
		if err != nil {
			t.Fatal(err)
		}
		var conv activedemand.ID
		for j := range perContact {
			m, err := as.AddMessage(adtest.NewMessage{ConversationID: conv, ContactID: c.ID, Channel: "sms",
				Direction: activedemand.Inbound, Body: fmt.Sprintf("message %d.%d", i, j), At: t0.Add(time.Duration(i*10+j) * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			conv = m.ConversationID
		}
	}
	st := newStore(t)
	ctl := engine.NewControl(st)
	var mu sync.Mutex
	var remembered []bool
	s := engine.NewConsoleSync(engine.ConsoleSyncOptions{Store: st, Accounts: sandboxAccounts{gs, as}, Control: ctl,
		Remember: func(on bool) { mu.Lock(); remembered = append(remembered, on); mu.Unlock() }})

	// Before the sync starts, the mapping and the dry run already work on
	// the accounts, writing nothing.
	ctx := context.Background()
	if _, err := ctl.CurrentMapping(ctx); err != nil {
		t.Fatalf("the mapping before the sync starts: %v", err)
	}
	dry, err := ctl.DryRun(ctx)
	if err != nil {
		t.Fatalf("the dry run before the sync starts: %v", err)
	}
	if dry.Messages != contacts*perContact || gs.Traffic().Records != 0 {
		t.Fatalf("the dry run read %d messages and HighLevel saw %d records; want %d and 0", dry.Messages, gs.Traffic().Records, contacts*perContact)
	}
	if d := dashboard(t, ctl); d.Attached {
		t.Fatal("the standby engine shows as the running sync")
	}

	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil { // a second click while it runs changes nothing
		t.Fatal(err)
	}
	eventually(t, "the console's engine to attach and record a message", func() bool {
		d := dashboard(t, ctl)
		return d.Attached && d.State == engine.StateRunning && gs.Traffic().Records > 0
	})
	if err := ctl.Pause("from the test"); err != nil {
		t.Fatalf("the Sync screen cannot pause the console's engine: %v", err)
	}
	if err := ctl.Resume(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if running, last := s.State(); running || last != nil {
		t.Errorf("after Stop State = %v, %v; want stopped with no error", running, last)
	}
	if err := ctl.Pause("after stop"); !errors.Is(err, engine.ErrSyncNotRunning) {
		t.Errorf("Pause after Stop = %v, want ErrSyncNotRunning (the stopped engine stays attached)", err)
	}

	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every ActiveDEMAND message to reach HighLevel", func() bool {
		return gs.Traffic().Records >= contacts*perContact
	})
	s.Close()
	byAlt := map[string]int{}
	for _, cv := range gs.Conversations() {
		for _, m := range gs.Messages(cv.ID) {
			byAlt[m.AltID]++
		}
	}
	for alt, n := range byAlt {
		if n != 1 {
			t.Errorf("AD message %s is in HighLevel %d times after a stop and a start", alt, n)
		}
	}
	if len(byAlt) != contacts*perContact || gs.Traffic().Deliveries != 0 {
		t.Errorf("HighLevel holds %d messages (%d deliveries), want %d and 0", len(byAlt), gs.Traffic().Deliveries, contacts*perContact)
	}
	mu.Lock()
	defer mu.Unlock()
	// Close, unlike Stop, is the window closing: the sync resumes next time.
	if got := remembered; len(got) != 3 || !got[0] || got[1] || !got[2] {
		t.Errorf("Remember saw %v, want [true false true]", got)
	}
}

// TestConsoleSyncSaysWhatIsMissing: with credentials missing, Start starts
// nothing and says which, and where to put it.
func TestConsoleSyncSaysWhatIsMissing(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), store.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	vault := &secrets.Memory{}
	svc, err := connect.New(connect.Options{Vault: vault, Settings: memSettings{}})
	if err != nil {
		t.Fatal(err)
	}
	ctl := engine.NewControl(st)
	s := engine.NewConsoleSync(engine.ConsoleSyncOptions{Store: st, Accounts: svc, Control: ctl})
	if _, err := ctl.CurrentMapping(context.Background()); !errors.Is(err, engine.ErrAccountsIncomplete) {
		t.Errorf("the mapping without accounts = %v, want ErrAccountsIncomplete", err)
	}
	err = s.Start()
	if !errors.Is(err, engine.ErrAccountsIncomplete) || !strings.Contains(err.Error(), "ActiveDEMAND") {
		t.Fatalf("Start with nothing saved = %v, want ErrAccountsIncomplete naming ActiveDEMAND", err)
	}
	if running, _ := s.State(); running {
		t.Error("Start without accounts left a run going")
	}
	if err := svc.SaveAD("app-key", "api-key"); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil || !strings.Contains(err.Error(), "HighLevel") {
		t.Fatalf("Start without HighLevel = %v, want it to name HighLevel", err)
	}
	if err := svc.SaveGHLPrivateToken("pit-token", "loc_1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil || !strings.Contains(err.Error(), "provider id") {
		t.Fatalf("Start without a provider id = %v, want it to say so", err)
	}
}

// memSettings are non-secret settings kept in memory, as Fyne's
// preferences would keep them.
type memSettings map[string]string

func (m memSettings) String(k string) string { return m[k] }
func (m memSettings) SetString(k, v string)  { m[k] = v }
func (m memSettings) RemoveValue(k string)   { delete(m, k) }
