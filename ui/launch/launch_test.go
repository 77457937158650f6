package launch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"parley/store"
	"parley/store/secrets"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/connect"
	"parley/sync/ghl/ghltest"
	"parley/ui"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func historyRows(t *testing.T, d ui.Deps) int {
	t.Helper()
	rows, err := d.History.HistoryPage(context.Background(), store.HistoryFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

// TestDemoThenRealKeepTheirOwnData: the demo mode syncs the sandboxes
// into the demo's database; switching to the real accounts opens a
// database of their own (empty here), and releasing a mode closes its
// database.
func TestDemoThenRealKeepTheirOwnData(t *testing.T) {
	a := test.NewTempApp(t)
	o := Options{DataDir: t.TempDir(), Preferences: a.Preferences(), Vault: &secrets.Memory{}}
	demo, err := Open(context.Background(), o, true)
	if err != nil {
		t.Fatal(err)
	}
	if !demo.Demo || demo.Runner != nil || demo.Browse == nil || demo.SwitchMode == nil {
		t.Fatalf("demo deps: Demo %v, Runner %v, Browse %v", demo.Demo, demo.Runner, demo.Browse)
	}
	eventually(t, "the demo sync to write history", func() bool { return historyRows(t, demo) > 0 })
	// An import tells passwords apart by the mode's field list: the demo
	// sandbox's here, none on real accounts not connected yet.
	export := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(export, []byte("id,first_name,last_name,email_address,custom_1\n1,Ann,Lee,ann@example.com,Pine & Co\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	importUnread := func(d ui.Deps) bool {
		t.Helper()
		res, err := d.Importer.Import(context.Background(), []string{export}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.FieldListUnread
	}
	if importUnread(demo) {
		t.Error("the demo's import did not read the sandbox's field list")
	}

	real, err := demo.SwitchMode(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	demo.Release()
	demo.Release() // a second release changes nothing
	if _, err := demo.History.HistoryPage(context.Background(), store.HistoryFilter{Limit: 1}); err == nil {
		t.Error("the demo's database is still open after its release")
	}
	if real.Demo || real.Runner == nil {
		t.Fatalf("real deps: Demo %v, Runner %v", real.Demo, real.Runner)
	}
	if n := historyRows(t, real); n != 0 {
		t.Errorf("the real accounts' history has %d rows from the demo", n)
	}
	if !importUnread(real) {
		t.Error("an import read a field list with no account connected")
	}
	if running, _ := real.Runner.State(); running {
		t.Error("the sync started on accounts that are not connected")
	}
	real.Release()
}

// TestRealModeResumesASyncLeftRunning: the sync an admin left running on
// the real accounts starts again with the console and mirrors without a
// click; one left stopped stays stopped.
func TestRealModeResumesASyncLeftRunning(t *testing.T) {
	gs := ghltest.NewTestServer(t, ghltest.Options{})
	as := adtest.NewTestServer(t, adtest.Options{})
	c, err := as.AddContact(adtest.NewContact{FirstName: "Left", LastName: "Running", Email: "left@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var conv activedemand.ID
	const messages = 4
	for i := range messages {
		m, err := as.AddMessage(adtest.NewMessage{ConversationID: conv, ContactID: c.ID, Channel: "sms", Direction: activedemand.Inbound,
			Body: fmt.Sprint("hello ", i), At: time.Date(2026, 11, 2, 9, i, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		conv = m.ConversationID
	}
	a := test.NewTempApp(t)
	vault := &secrets.Memory{}
	o := Options{DataDir: t.TempDir(), Preferences: a.Preferences(), Vault: vault, GHLBaseURL: gs.URL(), ADBaseURL: as.URL()}
	svc, err := connect.New(connect.Options{Vault: vault, Settings: a.Preferences()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := as.ClientConfig()
	if err := svc.SaveAD(string(cfg.AppKey), string(cfg.APIKey)); err != nil {
		t.Fatal(err)
	}
	if err := svc.SaveGHLPrivateToken(gs.PrivateToken(), gs.LocationID()); err != nil {
		t.Fatal(err)
	}
	if err := svc.SaveProviderID(gs.ConversationProviderID()); err != nil {
		t.Fatal(err)
	}

	stopped, err := Open(context.Background(), o, false)
	if err != nil {
		t.Fatal(err)
	}
	if running, _ := stopped.Runner.State(); running {
		t.Error("a sync never started ran by itself")
	}
	if err := stopped.Runner.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the started sync to mirror", func() bool { return gs.Traffic().Records == messages })
	stopped.Release() // the window closes with the sync running

	again, err := Open(context.Background(), o, false)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Release()
	if running, _ := again.Runner.State(); !running {
		t.Fatal("the sync left running did not start again with the console")
	}
	again.Runner.Stop()
	if a.Preferences().Bool(RunningKey) {
		t.Error("Stop was not remembered")
	}
	if tr := gs.Traffic(); tr.Records < messages || tr.Deliveries != 0 {
		t.Errorf("HighLevel saw %d records and %d deliveries", tr.Records, tr.Deliveries)
	}
}

// TestRealModeReadsTheEnvironmentLikeParleySync: with the credentials,
// location and provider in PARLEY_* variables only, as a container or a
// test gives them, the console's accounts are connected and name the
// location; a location saved in the console wins over the variable.
func TestRealModeReadsTheEnvironmentLikeParleySync(t *testing.T) {
	t.Setenv("PARLEY_GHL_LOCATION", "loc_from_env")
	t.Setenv("PARLEY_GHL_PROVIDER", "provider_from_env")
	vault := secrets.Chain{&secrets.Memory{}, secrets.Env{Lookup: func(k string) (string, bool) {
		v, ok := map[string]string{secrets.EnvVar(secrets.ADApplicationKey): "app", secrets.EnvVar(secrets.ADAPIKey): "api",
			secrets.EnvVar(secrets.GHLPrivateToken): "pit"}[k]
		return v, ok
	}}}
	a := test.NewTempApp(t)
	d, err := Open(context.Background(), Options{DataDir: t.TempDir(), Preferences: a.Preferences(), Vault: vault}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	st, err := d.Connections.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !d.Connected || !st.AD.Connected() || !st.GHL.Connected() || st.GHL.LocationID != "loc_from_env" || st.GHL.ProviderID != "provider_from_env" {
		t.Errorf("connected %v, status %+v; want both accounts connected to loc_from_env under provider_from_env", d.Connected, st)
	}
	a.Preferences().SetString(connect.SettingLocation, "loc_saved")
	if st, _ := d.Connections.Status(context.Background()); st.GHL.LocationID != "loc_saved" {
		t.Errorf("location %q, want the saved one", st.GHL.LocationID)
	}
}
