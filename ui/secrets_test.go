package ui

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/oauth2"

	"parley/store"
	"parley/store/logs"
	"parley/store/secrets"
	"parley/sync/activedemand/adtest"
	"parley/sync/connect"
	"parley/sync/demo"
	"parley/sync/engine"
	"parley/sync/ghl/ghltest"
)

// secretForms are the shapes a secret can take in text: as it is, escaped
// in JSON or a URL, or base64 (alone, or the stable middle of a longer blob
// at each byte alignment).
func secretForms(secret string) map[string]string {
	forms := map[string]string{"raw": secret, "url-query": url.QueryEscape(secret), "url-path": url.PathEscape(secret)}
	if j, err := json.Marshal(secret); err == nil {
		forms["json"] = strings.Trim(string(j), `"`)
	}
	for name, enc := range map[string]*base64.Encoding{"base64": base64.StdEncoding, "base64url": base64.RawURLEncoding} {
		forms[name] = strings.TrimRight(enc.EncodeToString([]byte(secret)), "=")
		for k := 1; k <= 2; k++ {
			s := strings.TrimRight(enc.EncodeToString(append(make([]byte, k), secret...)), "=")
			forms[fmt.Sprintf("%s+%d", name, k)] = s[4 : len(s)-4]
		}
	}
	return forms
}

func findSecrets(t *testing.T, where, text string, creds map[string]string) {
	t.Helper()
	for what, value := range creds {
		for form, needle := range secretForms(value) {
			if strings.Contains(text, needle) {
				t.Errorf("%s shows the %s (%s form)", where, what, form)
			}
		}
	}
}

// drawnText is every piece of text the laid-out objects under o hold: what
// the window draws (canvas.Text, which every widget renders through) and
// what widgets keep behind it (an entry's content, even a password's).
func drawnText(o fyne.CanvasObject) []string {
	var out []string
	for _, obj := range test.LaidOutObjects(o) {
		switch w := obj.(type) {
		case *canvas.Text:
			out = append(out, w.Text)
		case *widget.Label:
			out = append(out, w.Text)
		case *widget.Entry:
			out = append(out, w.Text, w.PlaceHolder)
		case *widget.Button:
			out = append(out, w.Text)
		case *widget.Hyperlink:
			out = append(out, w.Text, fmt.Sprint(w.URL))
		case *widget.RichText:
			out = append(out, w.String())
		case *widget.Select:
			out = append(out, w.Selected)
		}
	}
	return out
}

// TestSecretsStayOffScreenAndOutOfExports syncs with recognisable
// credentials (first with a private token HighLevel refuses, so that the
// history and alerts hold a failure, then with a good one), then opens
// every screen of the console on that database and reads all the text it
// lays out, and exports the history to CSV as the History screen does:
// none of the credentials appear in any form. The binary's files and
// streams are scanned by ui/smoke's TestSecretsNeverLeaveTheKeyring.
func TestSecretsStayOffScreenAndOutOfExports(t *testing.T) {
	ctx := context.Background()
	creds := map[string]string{
		"AD application key": "adkey-SECRET-app-5f1c9e2b7a40",
		"AD API key":         "adkey-SECRET-api-d83b61f0c2e9",
		"AD webhook secret":  "whsec-SECRET-2a7e94c1b05f",
		"GHL client secret":  "ghl-client-SECRET-61c0e8d4f7a3",
		"refused GHL token":  "pit-SECRET-5f1c0000-dead-4bad-8bad-c0ffee000001",
	}
	gopts := ghltest.Options{ClientSecret: creds["GHL client secret"]}
	// Limits high, not off: without them the sandbox still sends
	// HighLevel's published ones, and the client paces itself by those.
	gopts.RateLimit.Burst, gopts.RateLimit.Window, gopts.RateLimit.Daily = 1_000_000, 10*time.Second, 10_000_000
	gs := ghltest.NewTestServer(t, gopts)
	as := adtest.NewTestServer(t, adtest.Options{Seed: demo.DefaultSeed, SeedTime: time.Now(),
		AppKey: creds["AD application key"], APIKey: creds["AD API key"]})
	creds["GHL private integration token"] = gs.PrivateToken()
	oauth := gs.IssueToken()
	creds["GHL OAuth access token"], creds["GHL OAuth refresh token"] = oauth.AccessToken, oauth.RefreshToken

	vault := &secrets.Memory{}
	for n, v := range map[secrets.Name]string{secrets.ADApplicationKey: creds["AD application key"], secrets.ADAPIKey: creds["AD API key"],
		secrets.ADWebhookSecret: creds["AD webhook secret"], secrets.GHLClientSecret: creds["GHL client secret"],
		secrets.GHLPrivateToken: creds["refused GHL token"]} {
		if err := vault.Set(n, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := secrets.SaveToken(vault, secrets.GHLOAuthToken, &oauth2.Token{AccessToken: oauth.AccessToken,
		RefreshToken: oauth.RefreshToken, TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	dataDir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dataDir, store.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var logOut bytes.Buffer
	logger, logFile, err := logs.Open(dataDir, &logOut, slog.LevelDebug)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	// The sandbox takes more than ActiveDEMAND's cautious default rate:
	// the scan is about what is written, not pacing.
	acc := engine.Accounts{Vault: vault, GHLBaseURL: gs.URL(), ADBaseURL: as.URL(), GHLLocation: gs.LocationID(),
		GHLProvider: gs.ConversationProviderID(), ADRate: 50}
	var out bytes.Buffer
	run := func() error {
		return engine.RunHeadless(ctx, engine.HeadlessOptions{Out: &out, Store: db, DataDir: dataDir, Accounts: acc,
			Once: true, Logger: logger})
	}
	if err := run(); !errors.Is(err, engine.ErrNeedsAPerson) {
		t.Fatalf("a sync with a refused token = %v, want a pause:\n%s", err, out.String())
	}
	if err := vault.Set(secrets.GHLPrivateToken, creds["GHL private integration token"]); err != nil {
		t.Fatal(err)
	}
	if err := run(); err != nil {
		t.Fatalf("sync: %v\n%s", err, out.String())
	}
	if tr := gs.Traffic(); tr.Records < 100 {
		t.Fatalf("the sync recorded %d messages, want the demo business's:\n%s", tr.Records, out.String())
	}
	findSecrets(t, "the sync's output", out.String(), creds)
	findSecrets(t, "the log", logOut.String(), creds)

	var csv bytes.Buffer
	rows, err := exportHistory(ctx, db, store.HistoryFilter{}, &csv, time.UTC, func(int, float64) {})
	if err != nil {
		t.Fatal(err)
	}
	if rows < 100 || !strings.Contains(csv.String(), "failed") && !strings.Contains(csv.String(), "retrying") {
		t.Fatalf("the export has %d rows and no failure; the refused token should have left one", rows)
	}
	findSecrets(t, "the CSV export", csv.String(), creds)

	a := test.NewTempApp(t)
	svc, err := connect.New(connect.Options{Vault: vault, Settings: a.Preferences(), GHLBaseURL: gs.URL(), ADBaseURL: as.URL(),
		ADRoutes: as.Routes(), DefaultClientID: ghltest.DefaultClientID, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	loop := newUILoop()
	c := NewConsole(a, Deps{History: db, Alerts: db, DataDir: dataDir, Connections: svc, Keyring: probe{}, Do: loop.post})
	c.Window().Resize(fyne.NewSize(1100, 2400))
	c.Window().Show()
	t.Cleanup(func() {
		if c.ctx.Err() == nil {
			c.Window().Close()
		}
	})
	var all strings.Builder
	for _, title := range []string{"Connections", "Mapping", "Conversations", "Contacts", "History", "Rules", "Alerts"} {
		c.Show(title)
		loop.idleFor(500 * time.Millisecond) // the screen's queries land
		text := strings.Join(drawnText(c.Window().Canvas().Content()), "\n")
		findSecrets(t, "the "+title+" screen", text, creds)
		all.WriteString(text)
	}
	// The scan read real screens: the Connections screen names the saved
	// credentials, History the refused token's pause, Alerts its alert.
	for _, want := range []string{"HighLevel", "ActiveDEMAND", "paused"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("no screen shows %q: the scan did not read what the window draws:\n%s", want, all.String())
		}
	}
}
