package ui

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/store"
	"parley/store/secrets"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/connect"
	"parley/sync/engine"
	"parley/sync/ghl/ghltest"
)

// guideRig is a console on its first start in demo mode, as launch opens
// it: the Connections service edits the real accounts (here two sandboxes
// on loopback, on an in-memory vault), and SwitchMode opens the real
// accounts' mode as launch.Open does, on a database of its own with the
// console's sync on the saved accounts.
type guideRig struct {
	a        fyne.App
	c        *Console
	loop     uiLoop
	gs       *ghltest.Server
	as       *adtest.Server
	vault    *secrets.Memory
	svc      *connect.Service
	dirs     []string
	opened   []bool
	messages int
	// browser is the consent page's answer when Connect with HighLevel
	// opened it.
	browser chan error
}

func newGuideRig(t *testing.T, adOpts adtest.Options) *guideRig {
	t.Helper()
	r := &guideRig{vault: &secrets.Memory{}, browser: make(chan error, 1),
		gs: ghltest.NewTestServer(t, ghltest.Options{}), as: adtest.NewTestServer(t, adOpts)}
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i := range 2 {
		c, err := r.as.AddContact(adtest.NewContact{FirstName: "Guide", LastName: fmt.Sprint(i), Email: fmt.Sprintf("guide%d@example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		var conv activedemand.ID
		for j := range 3 {
			m, err := r.as.AddMessage(adtest.NewMessage{ConversationID: conv, ContactID: c.ID, Channel: "sms", Direction: activedemand.Inbound,
				Body: fmt.Sprintf("guide %d.%d", i, j), At: at.Add(time.Duration(i*10+j) * time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			conv = m.ConversationID
			r.messages++
		}
	}
	r.a = test.NewTempApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r.svc, err = connect.New(connect.Options{Vault: r.vault, Settings: r.a.Preferences(),
		GHLBaseURL: r.gs.URL(), GHLAuthURL: r.gs.URL() + ghltest.ConsentPath, ADBaseURL: r.as.URL(), ADRoutes: r.as.Routes(),
		DefaultClientID: ghltest.DefaultClientID, Open: r.allow, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.svc.SetPort(port); err != nil {
		t.Fatal(err)
	}
	r.loop = newUILoop()
	var open func(context.Context, bool) (Deps, error)
	open = func(ctx context.Context, demo bool) (Deps, error) {
		r.opened = append(r.opened, demo)
		dir := t.TempDir()
		r.dirs = append(r.dirs, dir)
		st, err := store.Open(ctx, filepath.Join(dir, store.DatabaseFile))
		if err != nil {
			return Deps{}, err
		}
		d := Deps{History: st, Alerts: st, DataDir: dir, Demo: demo, Connections: r.svc, Keyring: probe{}, SwitchMode: open,
			Do: r.loop.post, Location: time.UTC, Release: func() { st.Close() }}
		if !demo {
			ctl := engine.NewControl(st)
			runner := engine.NewConsoleSync(engine.ConsoleSyncOptions{Store: st, Accounts: r.svc, Control: ctl})
			tools := SyncTools{Control: ctl}
			d.Sync, d.Mapping, d.DryRun, d.Verify, d.Backfill, d.Runner = ctl, ctl, tools, tools, tools, runner
			d.Release = func() {
				runner.Close()
				st.Close()
			}
		}
		return d, nil
	}
	d, err := open(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	r.opened = nil
	r.c = NewConsole(r.a, d)
	r.c.Window().Resize(fyne.NewSize(startWidth, startHeight))
	r.c.Window().Show()
	t.Cleanup(func() {
		if r.c.ctx.Err() == nil {
			r.c.Window().Close()
		}
	})
	return r
}

// allow is the admin's browser on the sandbox's consent page: it picks the
// location and clicks Allow, and follows the redirect to Parley's
// listener, as a browser would.
func (r *guideRig) allow(consent string) error {
	go func() {
		u, err := url.Parse(consent)
		if err != nil {
			r.browser <- err
			return
		}
		form := url.Values{"decision": {"allow"}, "location": {r.gs.LocationID()}}
		for _, k := range []string{"client_id", "redirect_uri", "state", "scope"} {
			form.Set(k, u.Query().Get(k))
		}
		u.RawQuery = ""
		resp, err := http.PostForm(u.String(), form)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("the listener answered %s", resp.Status)
			}
		}
		r.browser <- err
	}()
	return nil
}

// wait runs the UI loop until cond holds, for up to 30 s: the sync and
// the dry run talk to the sandboxes.
func (r *guideRig) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case fn := <-r.loop:
			fn()
		case <-deadline:
			t.Fatalf("timed out waiting for %s; the guide shows %q", what, guideTexts(r.c))
		}
	}
}

// guideAt waits for the guide to be open at step.
func (r *guideRig) guideAt(t *testing.T, step int) *guide {
	t.Helper()
	r.wait(t, fmt.Sprintf("the guide at step %d", step+1), func() bool { return r.c.guide != nil && r.c.guide.step == step })
	return r.c.guide
}

// says waits for the guide to show a text containing substr.
func (r *guideRig) says(t *testing.T, substr string) {
	t.Helper()
	r.wait(t, "the guide to say "+substr, func() bool { return hasDialogText(r.c, substr) })
}

// tap taps the guide's button with this text.
func (r *guideRig) tap(t *testing.T, text string) {
	t.Helper()
	b := guideButton(r.c, text)
	if b == nil {
		t.Fatalf("the guide has no button %q; it shows %q", text, guideTexts(r.c))
	}
	if b.Disabled() {
		t.Fatalf("the guide's %q button is disabled; it shows %q", text, guideTexts(r.c))
	}
	test.Tap(b)
}

// guideButton is the guide's button with this text, its own (Back,
// Skip, Next, Close) or a step's.
func guideButton(c *Console, text string) *widget.Button {
	for _, o := range overlayObjects(c) {
		switch b := o.(type) {
		case *widget.Button:
			if b.Text == text {
				return b
			}
		case *keyButton:
			if b.Text == text {
				return &b.Button
			}
		}
	}
	return nil
}

// guideTexts is the text of every label in the overlays.
func guideTexts(c *Console) []string {
	var out []string
	for _, o := range overlayObjects(c) {
		if l, ok := o.(*widget.Label); ok && l.Text != "" {
			out = append(out, l.Text)
		}
	}
	return out
}

// pressKey types a key as the window delivers it: to the focused widget, or
// to the canvas when nothing has the focus.
func pressKey(c *Console, key fyne.KeyName) {
	ev := &fyne.KeyEvent{Name: key}
	if f := c.Window().Canvas().Focused(); f != nil {
		f.TypedKey(ev)
		return
	}
	if h := c.Window().Canvas().OnTypedKey(); h != nil {
		h(ev)
	}
}

// TestGuideTakesTheDemoToARunningSync drives the whole guide from a first
// start in the demo: a wrong ActiveDEMAND key fails its test and leaves
// only Skip; the right keys pass; HighLevel connects with a private
// integration token; Next leaves the demo and the guide carries on at the
// mapping on the real accounts; the dry run predicts the sandbox's
// messages and sends nothing; Start mirrors each of them once. Nothing
// typed into the guide reaches the preferences or the database, and Help
// opens the guide again.
func TestGuideTakesTheDemoToARunningSync(t *testing.T) {
	creds := map[string]string{
		"AD application key": "adkey-GUIDE-app-7c41e09b2d55",
		"AD API key":         "adkey-GUIDE-api-1f8a3c6e90b4",
		"AD webhook secret":  "whsec-GUIDE-93b0d2e4a17c",
	}
	r := newGuideRig(t, adtest.Options{AppKey: creds["AD application key"], APIKey: creds["AD API key"]})
	creds["GHL private integration token"] = r.gs.PrivateToken()
	c := r.c

	// The first start opens the guide by itself.
	g := r.guideAt(t, stepAD)
	r.says(t, "Step 1 of 5: ActiveDEMAND")
	r.says(t, "ActiveDEMAND is not connected yet.")
	if !g.next.Disabled() {
		t.Error("Next is possible before ActiveDEMAND was tested")
	}

	// A wrong key: its error in plain words, and only Skip goes on.
	test.Type(g.appKey, creds["AD application key"])
	test.Type(g.apiKey, "adkey-not-the-right-one")
	r.tap(t, "Save and test")
	r.says(t, "ActiveDEMAND test failed")
	r.says(t, "Check both keys")
	if !g.next.Disabled() || g.skip.Disabled() {
		t.Errorf("after a failed test: Next disabled %v, Skip disabled %v; want only Skip", g.next.Disabled(), g.skip.Disabled())
	}
	pressKey(c, fyne.KeyReturn) // with nothing to save, Enter tests again
	r.says(t, "ActiveDEMAND test failed")
	if g.step != stepAD {
		t.Fatalf("Enter left a step whose test failed, for step %d", g.step+1)
	}

	// The right keys; Enter in a field saves and tests while Next waits.
	test.Type(g.appKey, creds["AD application key"])
	test.Type(g.apiKey, creds["AD API key"])
	test.Type(g.webhook, creds["AD webhook secret"])
	c.Window().Canvas().Focus(g.webhook)
	pressKey(c, fyne.KeyReturn)
	r.says(t, "Connection works: the account of the saved API key")
	r.says(t, "contact fields readable")
	r.wait(t, "Next to be possible", func() bool { return !g.next.Disabled() })
	if g.appKey.Text != "" || g.apiKey.Text != "" || g.webhook.Text != "" {
		t.Error("the keys stay in the guide's fields once they are in the keyring")
	}
	c.Window().Canvas().Unfocus()
	pressKey(c, fyne.KeyReturn) // Enter is Next
	r.guideAt(t, stepGHL)
	r.says(t, "Step 2 of 5: HighLevel")
	if g.marks[stepAD] != markDone {
		t.Errorf("step 1 is marked %v, want done", g.marks[stepAD])
	}

	// HighLevel with a private integration token.
	test.Type(g.pit, creds["GHL private integration token"])
	test.Type(g.location, r.gs.LocationID())
	test.Type(g.provider, r.gs.ConversationProviderID())
	r.tap(t, "Save and test")
	r.says(t, "Connection works: location "+r.gs.LocationID())
	r.wait(t, "Next to be possible", func() bool { return !g.next.Disabled() })

	// Each step keeps what it showed across Back and Next.
	r.tap(t, "Back")
	r.guideAt(t, stepAD)
	r.says(t, "Connection works: the account of the saved API key")
	r.tap(t, "Next")
	r.guideAt(t, stepGHL)
	r.says(t, "Connection works: location "+r.gs.LocationID())

	// Next leaves the demo; the guide opens again on the real accounts,
	// at the mapping.
	r.tap(t, "Next")
	r.wait(t, "the switch to the real accounts", func() bool { return !c.Demo() && c.guide != nil && c.guide != g })
	if len(r.opened) != 1 || r.opened[0] {
		t.Fatalf("opened modes %v, want the real accounts once", r.opened)
	}
	g = r.guideAt(t, stepMapping)
	if g.marks[stepAD] != markDone || g.marks[stepGHL] != markDone {
		t.Errorf("after the switch the steps are marked %v, want the first two done", g.marks)
	}
	if n := len(c.Window().Canvas().Overlays().List()); n != 1 {
		t.Errorf("%d overlays after the switch, want the guide alone", n)
	}
	r.says(t, "Step 3 of 5: Mapping")
	r.says(t, "The default mapping is ready")
	r.wait(t, "the mapping to load", func() bool { return g.mapping != nil && g.mapping.loaded })
	r.says(t, "No mapping was saved yet: this is the default one.")

	// The guide, the mapping editor and all, fits the window, and so does
	// a step the new guide had not shown yet.
	for _, step := range []string{"Mapping", "HighLevel"} {
		if step == "HighLevel" {
			r.tap(t, "Back")
			r.guideAt(t, stepGHL)
		}
		r.loop.idleFor(200 * time.Millisecond)
		c.Window().Canvas().Capture() // lays the window out as the screen would
		if h, win := g.root.Size().Height, c.Window().Canvas().Size().Height; h <= 0 || h > win {
			t.Errorf("on the %s step the guide is %v high in a window %v high", step, h, win)
		}
	}
	r.tap(t, "Next")
	r.guideAt(t, stepMapping)

	// The dry run predicts the sandbox's messages and sends nothing.
	r.tap(t, "Next")
	r.guideAt(t, stepDryRun)
	r.says(t, guideNotSent)
	r.says(t, fmt.Sprintf("Would %s: %d", engine.DryRecordMessage, r.messages))
	r.says(t, fmt.Sprintf("Would %s: 2", engine.DryCreateContact))
	if tr := r.gs.Traffic(); tr.Records != 0 || tr.Deliveries != 0 {
		t.Fatalf("the dry run wrote to HighLevel: %d records, %d deliveries", tr.Records, tr.Deliveries)
	}

	// Start mirrors every message once, records only.
	r.tap(t, "Next")
	r.guideAt(t, stepStart)
	r.tap(t, "Start the sync")
	r.wait(t, "the guide to close on the Sync screen", func() bool { return c.guide == nil && c.Current() == "Sync" })
	r.wait(t, "every message to reach HighLevel", func() bool { return r.gs.Traffic().Records >= r.messages })
	r.loop.idleFor(300 * time.Millisecond)
	if tr := r.gs.Traffic(); tr.Records != r.messages || tr.Deliveries != 0 {
		t.Errorf("HighLevel saw %d records and %d deliveries, want %d and 0", tr.Records, tr.Deliveries, r.messages)
	}
	if !r.a.Preferences().Bool(guideDoneKey) {
		t.Error("finishing the guide did not set " + guideDoneKey)
	}

	assertNoSecretsKept(t, r, creds)

	// Help > Setup Guide opens it again.
	menuItem(t, c, "Help", guideMenuTitle).Action()
	r.guideAt(t, stepAD)
	r.says(t, "Keys are saved in the system keyring")
}

// assertNoSecretsKept scans everything the guide may have written outside
// the keyring: the app's preferences, and every file of both modes'
// databases (the write-ahead log included), for the credentials typed.
func assertNoSecretsKept(t *testing.T, r *guideRig, creds map[string]string) {
	t.Helper()
	prefs, ok := r.a.Preferences().(interface{ ReadValues(func(map[string]any)) })
	if !ok {
		t.Fatalf("the test app's preferences (%T) cannot be listed", r.a.Preferences())
	}
	var all strings.Builder
	prefs.ReadValues(func(m map[string]any) {
		for k, v := range m {
			fmt.Fprintf(&all, "%s=%v\n", k, v)
		}
	})
	if !strings.Contains(all.String(), r.gs.LocationID()) {
		t.Fatalf("the preferences lack the location id, so they are not the ones the guide wrote:\n%s", all.String())
	}
	findSecrets(t, "the preferences", all.String(), creds)
	scanned := 0
	for _, dir := range r.dirs {
		files, err := filepath.Glob(filepath.Join(dir, store.DatabaseFile+"*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil && fi.IsDir() {
				continue // the sync's holder locks: empty files named by random ids
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			findSecrets(t, filepath.Base(f), string(b), creds)
			scanned += len(b)
		}
	}
	if scanned == 0 {
		t.Fatal("no database file was scanned")
	}
}

// TestGuideConnectsHighLevelWithTheApp: the marketplace app's way, with
// read and write chosen by default: the browser allows Parley, and the
// step tests the location it was given.
func TestGuideConnectsHighLevelWithTheApp(t *testing.T) {
	r := newGuideRig(t, adtest.Options{})
	g := r.guideAt(t, stepAD)
	r.tap(t, "Skip")
	r.guideAt(t, stepGHL)
	r.says(t, r.svc.RedirectURL())
	if g.access.Selected != accessReadWrite {
		t.Errorf("access %q by default, want %q", g.access.Selected, accessReadWrite)
	}
	r.wait(t, "the saved client id", func() bool { return g.clientID.Text == ghltest.DefaultClientID })
	test.Type(g.clientSecret, ghltest.DefaultClientSecret)
	test.Type(g.provider, r.gs.ConversationProviderID())
	r.tap(t, "Connect with HighLevel")
	r.says(t, "Connection works: location "+r.gs.LocationID())
	select {
	case err := <-r.browser:
		if err != nil {
			t.Fatalf("browser: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the consent page was never opened")
	}
	r.says(t, "Connected with OAuth to location "+r.gs.LocationID())
	r.wait(t, "Next to be possible", func() bool { return !g.next.Disabled() })
	st, err := r.svc.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.GHL.OAuth.Set || !strings.Contains(strings.Join(st.GHL.Scopes, " "), "write") {
		t.Errorf("HighLevel status %+v: want an OAuth token with write scopes", st.GHL)
	}
	if g.clientSecret.Text != "" {
		t.Error("the client secret stays in its field once it is in the keyring")
	}
}

// TestGuideSkipKeepsTheDemo: skipping the accounts keeps the demo; the
// later steps say why they cannot act, and skipping the last one closes
// the guide for good.
func TestGuideSkipKeepsTheDemo(t *testing.T) {
	r := newGuideRig(t, adtest.Options{})
	g := r.guideAt(t, stepAD)
	r.tap(t, "Skip")
	r.guideAt(t, stepGHL)
	r.tap(t, "Skip")
	r.guideAt(t, stepMapping)
	r.says(t, "connect both first")
	if !g.next.Disabled() || guideButton(r.c, "Open my accounts") == nil || !guideButton(r.c, "Open my accounts").Disabled() {
		t.Error("step 3 offers to leave the demo with no account connected")
	}
	r.tap(t, "Skip")
	r.guideAt(t, stepDryRun)
	r.says(t, "The dry run reads your accounts")
	r.tap(t, "Skip")
	r.guideAt(t, stepStart)
	r.says(t, "The demo's sync already runs")
	if !g.next.Disabled() {
		t.Error("Start is possible in the demo")
	}
	for i, m := range g.marks[:stepStart] {
		if m != markSkipped {
			t.Errorf("step %d is marked %v, want skipped", i+1, m)
		}
	}
	r.tap(t, "Skip")
	r.wait(t, "the guide to close", func() bool { return r.c.guide == nil })
	r.loop.idleFor(100 * time.Millisecond)
	if !r.c.Demo() || len(r.opened) != 0 {
		t.Errorf("after skipping every step: demo %v, modes opened %v; want the demo kept", r.c.Demo(), r.opened)
	}
	if !r.a.Preferences().Bool(guideDoneKey) {
		t.Error("closing the guide did not set " + guideDoneKey)
	}
}

// TestGuideEscapeClosesIt: Escape closes the guide from a field, asking
// nothing, and a console started again does not open it by itself.
func TestGuideEscapeClosesIt(t *testing.T) {
	r := newGuideRig(t, adtest.Options{})
	g := r.guideAt(t, stepAD)
	test.Type(g.appKey, "half typed")
	r.c.Window().Canvas().Focus(g.appKey)
	pressKey(r.c, fyne.KeyEscape)
	if r.c.guide != nil || len(r.c.Window().Canvas().Overlays().List()) != 0 {
		t.Fatal("Escape did not close the guide")
	}
	if !r.a.Preferences().Bool(guideDoneKey) {
		t.Error("closing the guide did not set " + guideDoneKey)
	}
	if r.c.Window().Canvas().OnTypedKey() != nil {
		t.Error("the guide left its key handler on the window")
	}

	again := NewConsole(r.a, Deps{History: newTestStore(t), Demo: true, Connections: r.svc, Do: r.loop.post})
	t.Cleanup(again.Window().Close)
	again.Window().Show()
	r.loop.idleFor(100 * time.Millisecond)
	if again.guide != nil {
		t.Error("the guide opened by itself again after it was closed")
	}
}

// TestGuideOpensOnFirstStartOnly: by itself the guide opens only in the
// demo, with no account connected, on a console that can connect them,
// and until it was once finished or closed.
func TestGuideOpensOnFirstStartOnly(t *testing.T) {
	for _, tc := range []struct {
		name       string
		demo, conn bool
		noConns    bool
		done       bool
		want       bool
	}{
		{name: "first start", demo: true, want: true},
		{name: "accounts connected", demo: true, conn: true},
		{name: "real accounts", demo: false},
		{name: "guide done", demo: true, done: true},
		{name: "no Connections", demo: true, noConns: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			a.Preferences().SetBool(guideDoneKey, tc.done)
			svc, err := connect.New(connect.Options{Vault: &secrets.Memory{}, Settings: a.Preferences()})
			if err != nil {
				t.Fatal(err)
			}
			loop := newUILoop()
			d := Deps{History: newTestStore(t), Demo: tc.demo, Connected: tc.conn, Connections: svc, Do: loop.post}
			if tc.noConns {
				d.Connections = nil
			}
			c := NewConsole(a, d)
			t.Cleanup(c.Window().Close)
			c.Window().Show()
			loop.idleFor(100 * time.Millisecond)
			if got := c.guide != nil; got != tc.want {
				t.Errorf("guide open %v, want %v", got, tc.want)
			}
		})
	}
}

// fixedReport is a dry run that always finds the same, for the picture.
type fixedReport struct{ SyncReport }

func (f fixedReport) DryRun(context.Context) (SyncReport, error) { return f.SyncReport, nil }

// TestGuideLooks draws step 1 on a first start and step 4 with a dry
// run's findings.
func TestGuideLooks(t *testing.T) {
	for _, tc := range []struct {
		file string
		step int
	}{
		{"console/guide-activedemand.png", stepAD},
		{"console/guide-dryrun.png", stepDryRun},
	} {
		t.Run(tc.file, func(t *testing.T) {
			a := test.NewTempApp(t)
			test.ApplyTheme(t, variantTheme{theme.DefaultTheme(), theme.VariantLight})
			svc, err := connect.New(connect.Options{Vault: &secrets.Memory{}, Settings: a.Preferences()})
			if err != nil {
				t.Fatal(err)
			}
			loop := newUILoop()
			d := Deps{History: newTestStore(t), Keyring: probe{}, DataDir: "/home/admin/.local/share/parley", Demo: tc.step == stepAD,
				Connections: svc, Location: time.UTC, Do: loop.post,
				DryRun: fixedReport{SyncReport{Summary: "Read 2 changed conversations (6 messages) from ActiveDEMAND; 0 jobs were already waiting in the outbox.",
					Lines: []string{"Would create contact: 2", "  - Dana Whitfield (dana@example.com)", "  - Lee Okafor (lee@example.com)",
						"Would create conversation: 2", "Would record message: 6", "  - SMS from Dana Whitfield, 2 Nov 09:00", "  … and 5 more"}}}}
			c := NewConsole(a, d)
			t.Cleanup(c.Window().Close)
			c.Window().Resize(fyne.NewSize(startWidth, startHeight))
			c.Window().Show()
			if tc.step == stepAD {
				loop.runUntil(t, "the guide", func() bool { return c.guide != nil })
				loop.runUntil(t, "the saved state", func() bool { return hasDialogText(c, "not connected yet") })
			} else {
				c.openGuide(tc.step, [guideSteps]guideMark{markDone, markDone, markDone})
				loop.runUntil(t, "the dry run", func() bool { return hasDialogText(c, guideNotSent) })
			}
			loop.idleFor(50 * time.Millisecond)
			assertLooks(t, tc.file, c.Window().Canvas().Capture())
		})
	}
}
