package smoke

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"parley/store/secrets"
	"parley/sync/activedemand/adtest"
	"parley/sync/demo"
	"parley/sync/ghl/ghltest"
)

// leakForms are the shapes a secret can take on its way to a file or a
// stream: as it is, escaped in JSON or a URL, or base64-encoded (on its own
// or inside a longer encoded blob, at any of the three byte alignments).
func leakForms(secret string) map[string]string {
	forms := map[string]string{"raw": secret}
	if j, err := json.Marshal(secret); err == nil {
		forms["json"] = strings.Trim(string(j), `"`)
	}
	forms["url-query"] = url.QueryEscape(secret)
	forms["url-path"] = url.PathEscape(secret)
	for _, enc := range []struct {
		name string
		e    *base64.Encoding
	}{{"base64", base64.StdEncoding}, {"base64url", base64.RawURLEncoding}} {
		forms[enc.name] = strings.TrimRight(enc.e.EncodeToString([]byte(secret)), "=")
		for k := 1; k <= 2; k++ {
			// Inside a longer blob the first and last four characters
			// depend on the neighbouring bytes; the middle does not.
			s := enc.e.EncodeToString(append(make([]byte, k), secret...))
			s = strings.TrimRight(s, "=")
			if len(s) > 8 {
				forms[fmt.Sprintf("%s+%d", enc.name, k)] = s[4 : len(s)-4]
			}
		}
	}
	return forms
}

// leakScanner looks for every form of a set of secrets in named blobs.
type leakScanner struct {
	t       *testing.T
	secrets map[string]string // what it is -> value
	scanned int
}

func (s *leakScanner) scan(where string, data []byte) {
	s.t.Helper()
	s.scanned++
	for what, value := range s.secrets {
		for form, needle := range leakForms(value) {
			if bytes.Contains(data, []byte(needle)) {
				s.t.Errorf("%s holds the %s (%s form)", where, what, form)
			}
		}
	}
}

// scanTree scans every regular file under root, byte for byte: SQLite
// databases with their -wal and -shm, logs, crash files, preferences.
func (s *leakScanner) scanTree(root string) {
	s.t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s.scan(path, data)
		return nil
	})
	if err != nil {
		s.t.Fatalf("scan %s: %v", root, err)
	}
}

// TestSecretsNeverLeaveTheKeyring runs a whole sync with recognisable
// credentials in PARLEY_* variables, as a server would, then starts the
// console with the same environment, and finds none of the credentials in
// any form in anything Parley wrote: every file under the test's folders
// (data folder with database, -wal, logs and crash file; the Fyne
// preferences folder; the screenshot), nor its stdout or stderr. What the
// window draws and the CSV export are scanned by the ui package's
// TestSecretsStayOffScreenAndOutOfExports, which can read the widgets.
func TestSecretsNeverLeaveTheKeyring(t *testing.T) {
	bin := binary(t)
	creds := map[string]string{
		"AD application key": "adkey-SECRET-app-5f1c9e2b7a40",
		"AD API key":         "adkey-SECRET-api-d83b61f0c2e9",
		"AD webhook secret":  "whsec-SECRET-2a7e94c1b05f",
		"GHL client secret":  "ghl-client-SECRET-61c0e8d4f7a3",
	}
	gopts := ghltest.Options{ClientSecret: creds["GHL client secret"]}
	// Limits high, not off: without them the sandbox still sends
	// HighLevel's published ones, and the client paces itself by those.
	gopts.RateLimit.Burst, gopts.RateLimit.Window, gopts.RateLimit.Daily = 1_000_000, 10*time.Second, 10_000_000
	gs := ghltest.NewTestServer(t, gopts)
	as := adtest.NewTestServer(t, adtest.Options{Seed: demo.DefaultSeed, SeedTime: time.Now(),
		AppKey: creds["AD application key"], APIKey: creds["AD API key"]})
	// The sandbox makes its own private token; its value is as secret as
	// any, just not chosen here.
	creds["GHL private integration token"] = gs.PrivateToken()
	// An OAuth token beside the private one: Parley prefers the private
	// token, but must not copy the other anywhere either.
	oauth := gs.IssueToken()
	creds["GHL OAuth access token"], creds["GHL OAuth refresh token"] = oauth.AccessToken, oauth.RefreshToken
	tokJSON, err := json.Marshal(&oauth2.Token{AccessToken: oauth.AccessToken, RefreshToken: oauth.RefreshToken, TokenType: "Bearer"})
	if err != nil {
		t.Fatal(err)
	}
	env := map[secrets.Name]string{
		secrets.ADApplicationKey: creds["AD application key"],
		secrets.ADAPIKey:         creds["AD API key"],
		secrets.ADWebhookSecret:  creds["AD webhook secret"],
		secrets.GHLClientSecret:  creds["GHL client secret"],
		secrets.GHLPrivateToken:  creds["GHL private integration token"],
		secrets.GHLOAuthToken:    string(tokJSON),
	}

	root := filepath.Dir(t.TempDir()) // every t.TempDir of this test lives here
	dataDir := t.TempDir()
	// The sandbox takes more than ActiveDEMAND's cautious default of 4
	// requests a second: the scan is about what is written, not pacing.
	cmd := exec.Command(bin, "sync", "--demo=false", "--once", "--data-dir", dataDir,
		"--ghl-base-url", gs.URL(), "--ghl-location", gs.LocationID(), "--ghl-provider", gs.ConversationProviderID(),
		"--ad-base-url", as.URL(), "--ad-rate", "50")
	for _, kv := range withoutDisplay() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for n, v := range env {
		cmd.Env = append(cmd.Env, secrets.EnvVar(n)+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("parley sync --once: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	if tr := gs.Traffic(); tr.Records < 100 {
		t.Fatalf("the sync recorded %d messages, want the demo business's (over 100):\n%s", tr.Records, stdout.String())
	}

	s := &leakScanner{t: t, secrets: creds}
	s.scan("parley sync's stdout", stdout.Bytes())
	s.scan("parley sync's stderr", stderr.Bytes())

	// The console, with the same credentials in its environment: launch
	// passes the test's environment on. It writes its preferences as it
	// ends, so the files are scanned once it has been stopped: cleanups
	// run last-registered first, and launch registers the stop later.
	for n, v := range env {
		t.Setenv(secrets.EnvVar(n), v)
	}
	var l *launched
	t.Cleanup(func() {
		if l != nil {
			s.scan("the console's output", []byte(l.out.String()))
		}
		s.scanTree(root)
		t.Logf("scanned %d files and streams under %s for %d credentials", s.scanned, root, len(creds))
		if s.scanned < 6 {
			t.Errorf("scanned only %d files and streams: the data and preferences folders are not where the test looks", s.scanned)
		}
	})
	l = launch(t, "--data-dir", dataDir)
	shot := l.waitForWindow(t, "Parley")
	saveShot(t, filepath.Join(t.TempDir(), "console.png"), shot)
	// Once now, while the console holds the database open: its -wal file
	// exists only until the last connection closes.
	s.scanTree(root)
}

// TestSyncWithoutKeyringSaysWhatToDo: on a machine whose keyring cannot be
// reached (no Secret Service on the session bus) and with no PARLEY_*
// variables, `parley sync` exits non-zero with a message that names the
// keyring, says to start and unlock one, and names the variable that
// would do instead.
func TestSyncWithoutKeyringSaysWhatToDo(t *testing.T) {
	bin := binary(t)
	cmd := exec.Command(bin, "sync", "--demo=false", "--once", "--data-dir", t.TempDir())
	for _, kv := range withoutDisplay() {
		if !strings.HasPrefix(kv, "PARLEY_") && !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("parley sync without a keyring: %v, want a non-zero exit:\n%s", err, out)
	}
	for _, want := range []string{"system keyring", "unlock it", "PARLEY_ACTIVEDEMAND_APPLICATION_KEY"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the output does not say %q:\n%s", want, out)
		}
	}
}
