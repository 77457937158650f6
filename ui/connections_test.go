package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/store"
	"parley/store/logs"
	"parley/store/secrets"
	"parley/sync/activedemand/adtest"
	"parley/sync/connect"
	"parley/sync/ghl/ghltest"
)

// consentByHTTP is a browser without a screen: it loads the consent page,
// answers it, and follows the redirect to Parley's listener, all over real
// HTTP. (sync/connect drives Chromium through the same pages.)
func consentByHTTP(decision string) func(string) error {
	return func(authURL string) error {
		go func() {
			u, err := url.Parse(authURL)
			if err != nil {
				return
			}
			page, err := http.Get(authURL)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, page.Body)
			page.Body.Close()
			form := url.Values{"decision": {decision}}
			for _, k := range []string{"client_id", "redirect_uri", "state", "scope"} {
				form.Set(k, u.Query().Get(k))
			}
			resp, err := http.PostForm(u.Scheme+"://"+u.Host+ghltest.ConsentPath, form)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		return nil
	}
}

type connRig struct {
	c     *Console
	loop  uiLoop
	vault *secrets.Memory
	ghl   *ghltest.Server
	ad    *adtest.Server
	svc   *connect.Service
}

func newConnRig(t *testing.T, d Deps, open func(string) error, now func() time.Time) *connRig {
	t.Helper()
	r := &connRig{vault: &secrets.Memory{}, ghl: ghltest.NewTestServer(t, ghltest.Options{Seed: 1}), ad: adtest.NewTestServer(t, adtest.Options{Seed: 1})}
	a := test.NewTempApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if now == nil {
		now = time.Now
	}
	r.svc, err = connect.New(connect.Options{
		Vault: r.vault, Settings: a.Preferences(),
		GHLBaseURL: r.ghl.URL(), GHLAuthURL: r.ghl.URL() + ghltest.ConsentPath,
		ADBaseURL: r.ad.URL(), ADRoutes: r.ad.Routes(),
		DefaultClientID: ghltest.DefaultClientID, Open: open, Timeout: 10 * time.Second, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.svc.SetPort(port); err != nil {
		t.Fatal(err)
	}
	if d.History == nil {
		d.History = newTestStore(t)
	}
	d.Connections, d.Keyring, d.Now = r.svc, probe{}, now
	r.loop = newUILoop()
	d.Do = r.loop.post
	r.c = NewConsole(a, d)
	r.c.Window().Resize(fyne.NewSize(1100, 2400))
	r.c.Window().Show()
	t.Cleanup(func() {
		if r.c.ctx.Err() == nil {
			r.c.Window().Close()
		}
	})
	r.c.Show("Connections")
	return r
}

// button returns the laid-out button with this text; the i-th if several.
func button(t *testing.T, root fyne.CanvasObject, text string, i int) *widget.Button {
	t.Helper()
	n := 0
	for _, o := range test.LaidOutObjects(root) {
		if b, ok := o.(*widget.Button); ok && b.Text == text && b.Visible() {
			if n == i {
				return b
			}
			n++
		}
	}
	t.Fatalf("no button %q number %d", text, i)
	return nil
}

func (r *connRig) tap(t *testing.T, text string, i int) {
	t.Helper()
	test.Tap(button(t, r.c.Window().Canvas().Content(), text, i))
}

// confirm answers the topmost dialog with its button labelled text.
func (r *connRig) confirm(t *testing.T, text string) {
	t.Helper()
	top := r.c.Window().Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no dialog is open")
	}
	test.Tap(button(t, top, text, 0))
}

func (r *connRig) waitText(t *testing.T, l **widget.Label, substr string) {
	t.Helper()
	r.loop.runUntil(t, fmt.Sprintf("a label saying %q", substr), func() bool {
		return *l != nil && strings.Contains((*l).Text, substr)
	})
}

func TestConnectionsActiveDEMANDSaveTestDisconnect(t *testing.T) {
	r := newConnRig(t, Deps{}, nil, nil)
	s := r.c.connections
	r.waitText(t, &s.adState, "ActiveDEMAND is not connected")

	test.Type(s.appKey, adtest.DefaultAppKey)
	test.Type(s.apiKey, adtest.DefaultAPIKey)
	r.tap(t, "Save keys", 0)
	r.waitText(t, &s.adResult, "Keys saved in the system keyring")
	if s.appKey.Text != "" || s.apiKey.Text != "" {
		t.Error("the key entries still hold the keys after saving")
	}
	if v, _ := r.vault.Get(secrets.ADAPIKey); v != adtest.DefaultAPIKey {
		t.Errorf("vault holds %q", v)
	}
	r.waitText(t, &s.adState, "Application key and account API key saved")
	r.waitText(t, &s.adAge, "Saved 0 days ago")

	r.tap(t, "Test connection", 0)
	r.waitText(t, &s.adResult, "Connection works")
	if !regexp.MustCompile(`contact fields readable · answered in \d+ ms`).MatchString(s.adResult.Text) {
		t.Errorf("test result %q", s.adResult.Text)
	}

	// Cancel keeps the keys; Disconnect removes them.
	r.tap(t, "Disconnect", 0)
	if !containsText(overlayTexts(r.c), "removes from the system keyring the ActiveDEMAND application key") {
		t.Fatalf("confirmation says %q", overlayTexts(r.c))
	}
	r.confirm(t, "Cancel")
	r.loop.idleFor(50 * time.Millisecond)
	if _, err := r.vault.Get(secrets.ADAPIKey); err != nil {
		t.Fatalf("Cancel removed the key: %v", err)
	}
	r.tap(t, "Disconnect", 0)
	r.confirm(t, "Disconnect")
	r.waitText(t, &s.adResult, "ActiveDEMAND is disconnected")
	r.waitText(t, &s.adState, "ActiveDEMAND is not connected")
	if _, err := r.vault.Get(secrets.ADAPIKey); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("the key survived Disconnect: %v", err)
	}
}

func TestConnectionsTestErrorsSayWhatToDo(t *testing.T) {
	r := newConnRig(t, Deps{}, nil, nil)
	s := r.c.connections
	r.tap(t, "Test connection", 0)
	r.waitText(t, &s.adResult, "ActiveDEMAND is not connected: paste the application key and the account API key")
	test.Type(s.appKey, adtest.DefaultAppKey)
	test.Type(s.apiKey, adtest.DefaultOtherAccountKey)
	r.tap(t, "Save keys", 0)
	r.waitText(t, &s.adResult, "Keys saved")
	r.tap(t, "Test connection", 0)
	r.waitText(t, &s.adResult, "ActiveDEMAND test failed")
	if strings.Contains(s.adResult.Text, adtest.DefaultOtherAccountKey) {
		t.Errorf("the error shows the key: %q", s.adResult.Text)
	}
	r.tap(t, "Save keys", 0)
	r.waitText(t, &s.adResult, "the application key is empty: paste it and save again")
}

func TestConnectionsHighLevelOAuthShowsTheLocation(t *testing.T) {
	r := newConnRig(t, Deps{}, consentByHTTP("allow"), nil)
	s := r.c.connections
	r.waitText(t, &s.ghlState, "HighLevel is not connected")
	if s.clientID.Text != ghltest.DefaultClientID {
		t.Errorf("client id %q, want the default filled in", s.clientID.Text)
	}
	test.Type(s.clientSecret, ghltest.DefaultClientSecret)
	r.tap(t, "Save app", 0)
	r.waitText(t, &s.ghlResult, "App saved")

	s.access.SetSelected(accessReadOnly)
	r.tap(t, "Connect with HighLevel", 0)
	r.waitText(t, &s.ghlResult, "Connected to location "+r.ghl.LocationID())
	r.waitText(t, &s.ghlState, "Connected with OAuth to location "+r.ghl.LocationID())
	if !strings.Contains(s.ghlState.Text, "Granted scopes: "+strings.Join(connect.ReadOnlyScopes, ", ")) ||
		!strings.Contains(s.ghlState.Text, "Parley refreshes it") {
		t.Errorf("state %q", s.ghlState.Text)
	}
	if _, err := secrets.LoadToken(r.vault, secrets.GHLOAuthToken); err != nil {
		t.Fatalf("no token in the keyring: %v", err)
	}

	r.tap(t, "Test connection", 1)
	r.waitText(t, &s.ghlResult, "Connection works: location "+r.ghl.LocationID())

	r.tap(t, "Disconnect", 1)
	if !containsText(overlayTexts(r.c), "client id and secret stay") {
		t.Fatalf("confirmation says %q", overlayTexts(r.c))
	}
	r.confirm(t, "Disconnect")
	r.waitText(t, &s.ghlState, "HighLevel is not connected")
	if _, err := r.vault.Get(secrets.GHLOAuthToken); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("token after Disconnect: %v", err)
	}
}

func TestConnectionsHighLevelDenyAndBusyPort(t *testing.T) {
	r := newConnRig(t, Deps{}, consentByHTTP("deny"), nil)
	s := r.c.connections
	r.waitText(t, &s.ghlState, "HighLevel is not connected")
	test.Type(s.clientSecret, ghltest.DefaultClientSecret)
	r.tap(t, "Save app", 0)
	r.waitText(t, &s.ghlResult, "App saved")
	r.tap(t, "Connect with HighLevel", 0)
	r.waitText(t, &s.ghlResult, "Not connected: access was denied")
	if s.connectButton.Disabled() {
		t.Error("Connect stays disabled after a failed attempt")
	}

	port := strings.TrimPrefix(portOf(s.redirect.Text), ":")
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r.tap(t, "Connect with HighLevel", 0)
	r.waitText(t, &s.ghlResult, "another program is listening on 127.0.0.1:"+port)
}

func TestConnectionsRedirectURICopyAndPort(t *testing.T) {
	r := newConnRig(t, Deps{}, nil, nil)
	s := r.c.connections
	r.tap(t, "Copy", 0)
	if got := r.c.app.Clipboard().Content(); got != r.svc.RedirectURL() || !strings.HasPrefix(got, "http://127.0.0.1:") {
		t.Errorf("clipboard %q, want %q", got, r.svc.RedirectURL())
	}
	s.port.SetText("80")
	r.tap(t, "Use port", 0)
	if !strings.Contains(s.ghlResult.Text, "from 1024 to 65535") {
		t.Errorf("port 80: %q", s.ghlResult.Text)
	}
	s.port.SetText("41234")
	r.tap(t, "Use port", 0)
	if s.redirect.Text != "http://127.0.0.1:41234/oauth/callback" || !strings.Contains(s.ghlResult.Text, "Register the new redirect URI") {
		t.Errorf("after port 41234: %q, %q", s.redirect.Text, s.ghlResult.Text)
	}
}

func TestConnectionsPrivateTokenAndProvider(t *testing.T) {
	r := newConnRig(t, Deps{}, nil, nil)
	s := r.c.connections
	test.Type(s.pit, r.ghl.PrivateToken())
	test.Type(s.pitLocation, r.ghl.LocationID())
	r.tap(t, "Save token", 0)
	r.waitText(t, &s.ghlResult, "Token saved")
	r.waitText(t, &s.ghlState, "Connected with a private integration token to location "+r.ghl.LocationID())
	r.tap(t, "Test connection", 1)
	r.waitText(t, &s.ghlResult, "Connection works: location "+r.ghl.LocationID())

	test.Type(s.provider, r.ghl.ConversationProviderID())
	r.tap(t, "Save provider", 0)
	r.waitText(t, &s.ghlResult, "Provider id saved")
	st, _ := r.svc.Status(context.Background())
	if st.GHL.ProviderID != r.ghl.ConversationProviderID() {
		t.Errorf("provider id %q", st.GHL.ProviderID)
	}
}

func TestConnectionsRemindToRotateOldCredentials(t *testing.T) {
	saved := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	now := saved
	r := newConnRig(t, Deps{}, nil, func() time.Time { return now })
	s := r.c.connections
	test.Type(s.appKey, "a")
	test.Type(s.apiKey, "b")
	r.tap(t, "Save keys", 0)
	r.waitText(t, &s.adAge, "Saved 0 days ago.")
	now = saved.Add(91 * 24 * time.Hour)
	r.c.Show("History")
	r.c.Show("Connections")
	r.waitText(t, &s.adAge, "Saved 91 days ago: older than 90 days. Replace it")

	s.rotateDays.SetText("120")
	r.tap(t, "Save", 0)
	r.waitText(t, &s.adAge, "Saved 91 days ago.")
	if r.svc.RotateDays() != 120 {
		t.Errorf("rotate days %d", r.svc.RotateDays())
	}
}

func TestDemoBannerSwitchesToConnections(t *testing.T) {
	c, _ := newTestConsole(t, Deps{Demo: true})
	c.Show("History")
	if !slices.Contains(visibleLabels(c), demoBannerText) {
		t.Fatalf("no demo banner: %v", visibleLabels(c))
	}
	test.Tap(button(t, c.Window().Canvas().Content(), "Use my accounts", 0))
	if c.Current() != "Connections" {
		t.Errorf("the banner's button went to %q", c.Current())
	}

	real, _ := newTestConsole(t, Deps{Connected: true})
	if slices.Contains(visibleLabels(real), demoBannerText) {
		t.Error("the demo banner shows with real accounts")
	}
}

// Secrets typed into Connections go to the keyring and nowhere else: not
// the database, not the logs, not the preferences.
func TestSecretsTypedIntoConnectionsStayInTheKeyring(t *testing.T) {
	dataDir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dataDir, store.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	logger, logFile, err := logs.Open(dataDir, &stderr, slog.LevelDebug)
	if err != nil {
		t.Fatal(err)
	}
	prev := slog.Default()
	slog.SetDefault(logger)
	t.Cleanup(func() { slog.SetDefault(prev) })

	r := newConnRig(t, Deps{History: db, Alerts: db, DataDir: dataDir}, consentByHTTP("allow"), nil)
	s := r.c.connections
	r.waitText(t, &s.ghlState, "HighLevel is not connected")
	const webhookSecret, wrongKey = "whsec-RECOGNISABLE-7f3a", "ad-key-RECOGNISABLE-9c1e"
	pit := r.ghl.PrivateToken()

	test.Type(s.clientSecret, ghltest.DefaultClientSecret)
	r.tap(t, "Save app", 0)
	r.waitText(t, &s.ghlResult, "App saved")
	r.tap(t, "Connect with HighLevel", 0)
	r.waitText(t, &s.ghlResult, "Connected to location")
	tok, err := secrets.LoadToken(r.vault, secrets.GHLOAuthToken)
	if err != nil {
		t.Fatal(err)
	}
	r.tap(t, "Test connection", 1)
	r.waitText(t, &s.ghlResult, "Connection works")
	test.Type(s.pit, pit)
	test.Type(s.pitLocation, r.ghl.LocationID())
	r.tap(t, "Save token", 0)
	r.waitText(t, &s.ghlResult, "Token saved")

	test.Type(s.appKey, adtest.DefaultAppKey)
	test.Type(s.apiKey, wrongKey)
	r.tap(t, "Save keys", 0)
	r.waitText(t, &s.adResult, "Keys saved")
	r.tap(t, "Test connection", 0)
	r.waitText(t, &s.adResult, "ActiveDEMAND test failed")
	test.Type(s.apiKey, adtest.DefaultAPIKey)
	test.Type(s.appKey, adtest.DefaultAppKey)
	r.tap(t, "Save keys", 0)
	r.waitText(t, &s.adResult, "Keys saved")
	r.tap(t, "Test connection", 0)
	r.waitText(t, &s.adResult, "Connection works")
	test.Type(s.webhook, webhookSecret)
	r.tap(t, "Save secret", 0)
	r.waitText(t, &s.adResult, "Webhook secret saved")

	prefs := map[string]any{}
	r.c.app.Preferences().(interface{ ReadValues(func(map[string]any)) }).ReadValues(func(m map[string]any) {
		for k, v := range m {
			prefs[k] = v
		}
	})
	r.c.Window().Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := logFile.Close(); err != nil {
		t.Fatal(err)
	}

	typed := []string{ghltest.DefaultClientSecret, pit, adtest.DefaultAppKey, adtest.DefaultAPIKey, wrongKey, webhookSecret,
		tok.AccessToken, tok.RefreshToken}
	// The keyring did get them: the scan below would pass vacuously if
	// nothing had been saved at all.
	for _, n := range []secrets.Name{secrets.GHLClientSecret, secrets.GHLPrivateToken, secrets.ADAPIKey, secrets.ADWebhookSecret} {
		if _, err := r.vault.Get(n); err != nil {
			t.Errorf("%s is not in the keyring: %v", n, err)
		}
	}
	files := 0
	err = filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, sec := range typed {
			if bytes.Contains(data, []byte(sec)) {
				t.Errorf("%s holds a secret (%.6s…)", path, sec)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 2 {
		t.Fatalf("only %d files in the data folder: the database and the log should be there", files)
	}
	for _, sec := range typed {
		if bytes.Contains(stderr.Bytes(), []byte(sec)) {
			t.Errorf("the log output holds a secret (%.6s…)", sec)
		}
		for k, v := range prefs {
			if strings.Contains(fmt.Sprint(v), sec) {
				t.Errorf("preference %s holds a secret (%.6s…)", k, sec)
			}
		}
	}
	if len(prefs) == 0 {
		t.Error("no preferences were read: the client id and save times should be there")
	}
}
