package ui

import (
	"fmt"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"parley/store/secrets"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/connect"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
)

// sandboxAccounts are two sandboxes' credentials as the saved accounts
// give them to the console's sync.
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

// TestSyncStartAndStopTheConsolesSync: with real accounts the Sync screen
// starts the sync in the window, shows it running while ActiveDEMAND's
// messages reach HighLevel, and stops it again.
func TestSyncStartAndStopTheConsolesSync(t *testing.T) {
	gs := ghltest.NewTestServer(t, ghltest.Options{})
	as := adtest.NewTestServer(t, adtest.Options{})
	const contacts, perContact = 2, 3
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i := range contacts {
		c, err := as.AddContact(adtest.NewContact{FirstName: "Start", LastName: fmt.Sprint(i), Email: fmt.Sprintf("start%d@example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		var conv activedemand.ID
		for j := range perContact {
			m, err := as.AddMessage(adtest.NewMessage{ConversationID: conv, ContactID: c.ID, Channel: "sms", Direction: activedemand.Inbound,
				Body: fmt.Sprintf("hello %d.%d", i, j), At: at.Add(time.Duration(i*10+j) * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			conv = m.ConversationID
		}
	}
	st := newTestStore(t)
	ctl := engine.NewControl(st)
	runner := engine.NewConsoleSync(engine.ConsoleSyncOptions{Store: st, Accounts: sandboxAccounts{gs, as}, Control: ctl})
	t.Cleanup(runner.Close)
	c, loop := openSync(t, Deps{Sync: ctl, Runner: runner})
	waitSyncLabel(t, c, loop, "Start the sync to mirror ActiveDEMAND into HighLevel")
	if b := syncButton(c, "Start sync"); b == nil || b.Disabled() {
		t.Fatal("no Start sync button")
	}
	test.Tap(syncButton(c, "Start sync"))
	waitSync(t, c, loop, "every message to reach HighLevel", func() bool { return gs.Traffic().Records == contacts*perContact })
	waitSyncLabel(t, c, loop, "Running")
	waitSync(t, c, loop, "the Stop sync button", func() bool { b := syncButton(c, "Stop sync"); return b != nil && !b.Disabled() })

	test.Tap(syncButton(c, "Stop sync"))
	waitSync(t, c, loop, "the sync to stop", func() bool {
		running, _ := runner.State()
		return !running && syncButton(c, "Start sync") != nil
	})
	waitSyncLabel(t, c, loop, "Stopped")
	if tr := gs.Traffic(); tr.Records != contacts*perContact || tr.Deliveries != 0 {
		t.Errorf("HighLevel saw %d records and %d deliveries, want %d and 0", tr.Records, tr.Deliveries, contacts*perContact)
	}
}

// TestSyncStartSaysWhatToConnect: without saved credentials Start starts
// nothing and says what to connect.
func TestSyncStartSaysWhatToConnect(t *testing.T) {
	st := newTestStore(t)
	svc, err := connect.New(connect.Options{Vault: &secrets.Memory{}, Settings: test.NewTempApp(t).Preferences()})
	if err != nil {
		t.Fatal(err)
	}
	ctl := engine.NewControl(st)
	c, loop := openSync(t, Deps{Sync: ctl, Runner: engine.NewConsoleSync(engine.ConsoleSyncOptions{Store: st, Accounts: svc, Control: ctl})})
	waitSync(t, c, loop, "the Start sync button", func() bool { b := syncButton(c, "Start sync"); return b != nil && !b.Disabled() })
	test.Tap(syncButton(c, "Start sync"))
	waitSyncLabel(t, c, loop, "Cannot start the sync: connect both accounts on the Connections screen first")
	waitSyncLabel(t, c, loop, "ActiveDEMAND")
}
