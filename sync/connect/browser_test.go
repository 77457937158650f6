package connect_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/zalando/go-keyring"

	"parley/store/secrets"
	"parley/sync/connect"
	"parley/sync/connect/browsertest"
	"parley/sync/ghl/ghltest"
)

func TestMain(m *testing.M) {
	// This package's binary is the only user of the mock: real-keyring
	// tests live in store/secrets/realkeyring.
	keyring.MockInit()
	os.Exit(m.Run())
}

// memSettings is fyne.Preferences' string part, in memory.
type memSettings struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *memSettings) String(k string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[k]
}

func (s *memSettings) SetString(k, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[k] = v
}

func (s *memSettings) RemoveValue(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
}

// freePort is a loopback port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// steps runs browser actions with a deadline.
func steps(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// read runs one browser action that returns a value.
func read[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

// rig is one Service against one sandbox, with the browser's URL handed to
// the test instead of a desktop browser.
type rig struct {
	srv      *ghltest.Server
	svc      *connect.Service
	settings *memSettings
	urls     chan string
}

func newRig(t *testing.T, timeout time.Duration) *rig {
	t.Helper()
	r := &rig{srv: ghltest.NewTestServer(t, ghltest.Options{Seed: 1}), settings: &memSettings{}, urls: make(chan string, 1)}
	vault := secrets.Keyring{}
	t.Cleanup(func() {
		for _, n := range secrets.Known {
			_ = vault.Delete(n)
		}
	})
	svc, err := connect.New(connect.Options{
		Vault: vault, Settings: r.settings,
		GHLBaseURL: r.srv.URL(), GHLAuthURL: r.srv.URL() + ghltest.ConsentPath,
		Open:    func(u string) error { r.urls <- u; return nil },
		Timeout: timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetPort(freePort(t)); err != nil {
		t.Fatal(err)
	}
	if err := svc.SaveGHLApp(ghltest.DefaultClientID, ghltest.DefaultClientSecret); err != nil {
		t.Fatal(err)
	}
	r.svc = svc
	return r
}

type outcome struct {
	st  connect.GHLStatus
	err error
}

// connect starts ConnectGHL and returns the consent URL it opened and
// where its result arrives.
func (r *rig) connect(t *testing.T, readWrite bool) (string, <-chan outcome) {
	t.Helper()
	done := make(chan outcome, 1)
	go func() {
		st, err := r.svc.ConnectGHL(context.Background(), readWrite)
		done <- outcome{st, err}
	}()
	select {
	case u := <-r.urls:
		return u, done
	case o := <-done:
		t.Fatalf("ConnectGHL ended before opening the browser: %v", o.err)
	}
	return "", nil
}

func wait(t *testing.T, done <-chan outcome) outcome {
	t.Helper()
	select {
	case o := <-done:
		return o
	case <-time.After(30 * time.Second):
		t.Fatal("ConnectGHL did not return")
	}
	return outcome{}
}

// decide opens the consent page, clicks a button and returns what the
// listener's page says and the URL the browser ended on.
func decide(t *testing.T, ctx context.Context, consentURL, button string) (said, at string) {
	t.Helper()
	steps(t, ctx,
		chromedp.Navigate(consentURL),
		chromedp.WaitVisible(chromedp.ID("location")),
		chromedp.Click(chromedp.ID(button)),
		chromedp.WaitVisible(chromedp.ID("result")),
	)
	return read(t, ctx, chromedp.Text(chromedp.ID("result"))), read(t, ctx, chromedp.Location())
}

func TestConnectInABrowserAllow(t *testing.T) {
	ctx := browsertest.Chromium(t)
	r := newRig(t, time.Minute)
	consent, done := r.connect(t, true)
	said, at := decide(t, ctx, consent, "allow")
	o := wait(t, done)
	if o.err != nil {
		t.Fatalf("ConnectGHL: %v", o.err)
	}
	if !strings.Contains(said, "You can close this tab") {
		t.Errorf("the tab says %q", said)
	}
	if !strings.HasPrefix(at, r.svc.RedirectURL()+"?") {
		t.Errorf("the browser ended at %s, want the redirect URI %s", at, r.svc.RedirectURL())
	}
	if o.st.LocationID != r.srv.LocationID() || !o.st.OAuth.Set || o.st.Expiry.IsZero() {
		t.Errorf("status after connecting: %+v", o.st)
	}
	if got := strings.Join(o.st.Scopes, " "); got != strings.Join(connect.ReadWriteScopes, " ") {
		t.Errorf("granted scopes %q", got)
	}
	tok, err := secrets.LoadToken(secrets.Keyring{}, secrets.GHLOAuthToken)
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("keyring token: %v", err)
	}
	res, err := r.svc.Test(context.Background(), connect.HighLevel)
	if err != nil {
		t.Fatalf("test connection with the new token: %v", err)
	}
	if !strings.Contains(res.Account, r.srv.LocationID()) || res.Latency <= 0 {
		t.Errorf("test result %+v", res)
	}
}

func TestConnectInABrowserDeny(t *testing.T) {
	ctx := browsertest.Chromium(t)
	r := newRig(t, time.Minute)
	consent, done := r.connect(t, false)
	said, _ := decide(t, ctx, consent, "deny")
	o := wait(t, done)
	if !errors.Is(o.err, connect.ErrDenied) {
		t.Fatalf("ConnectGHL after Deny: %v, want ErrDenied", o.err)
	}
	if !strings.Contains(said, "could not connect") || !strings.Contains(o.err.Error(), "click Connect again") {
		t.Errorf("tab %q, error %q", said, o.err)
	}
	if _, err := (secrets.Keyring{}).Get(secrets.GHLOAuthToken); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("a token was saved after Deny: %v", err)
	}
}

func TestConnectInABrowserWrongState(t *testing.T) {
	ctx := browsertest.Chromium(t)
	r := newRig(t, time.Minute)
	consent, done := r.connect(t, false)
	u, _ := url.Parse(consent)
	q := u.Query()
	q.Set("state", "forged-"+q.Get("state"))
	u.RawQuery = q.Encode()
	said, _ := decide(t, ctx, u.String(), "allow")
	o := wait(t, done)
	if !errors.Is(o.err, connect.ErrStateMismatch) {
		t.Fatalf("ConnectGHL with a forged state: %v, want ErrStateMismatch", o.err)
	}
	if !strings.Contains(said, "could not connect") {
		t.Errorf("the tab says %q", said)
	}
	if _, err := (secrets.Keyring{}).Get(secrets.GHLOAuthToken); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("a token was saved with a forged state: %v", err)
	}
}

func TestConnectInABrowserReusedCode(t *testing.T) {
	ctx := browsertest.Chromium(t)
	r := newRig(t, time.Minute)
	consent, done := r.connect(t, false)
	_, at := decide(t, ctx, consent, "allow")
	if o := wait(t, done); o.err != nil {
		t.Fatal(o.err)
	}
	code := mustURL(t, at).Query().Get("code")

	// A second sign-in comes back with the first one's code: HighLevel
	// takes each code once, so the exchange must fail and say what to do.
	consent, done = r.connect(t, false)
	state := mustURL(t, consent).Query().Get("state")
	replay := r.svc.RedirectURL() + "?" + url.Values{"code": {code}, "state": {state}}.Encode()
	steps(t, ctx, chromedp.Navigate(replay), chromedp.WaitVisible(chromedp.ID("result")))
	said := read(t, ctx, chromedp.Text(chromedp.ID("result")))
	o := wait(t, done)
	if o.err == nil || !strings.Contains(o.err.Error(), "connect HighLevel again") {
		t.Fatalf("ConnectGHL with a used code: %v", o.err)
	}
	if !strings.Contains(said, "could not connect") {
		t.Errorf("the tab says %q", said)
	}
}

func TestConnectTimesOutAndFreesThePort(t *testing.T) {
	ctx := browsertest.Chromium(t)
	r := newRig(t, 300*time.Millisecond)
	consent, done := r.connect(t, false)
	o := wait(t, done)
	if !errors.Is(o.err, connect.ErrTimeout) || !strings.Contains(o.err.Error(), "click Connect again") {
		t.Fatalf("ConnectGHL nobody answered: %v, want ErrTimeout", o.err)
	}
	// Too late: the consent page's redirect finds nobody listening.
	steps(t, ctx, chromedp.Navigate(consent), chromedp.WaitVisible(chromedp.ID("allow")), chromedp.Click(chromedp.ID("allow")))
	ln, err := net.Listen("tcp", strings.TrimPrefix(strings.TrimSuffix(r.svc.RedirectURL(), connect.CallbackPath), "http://"))
	if err != nil {
		t.Fatalf("the listener still holds the port after the timeout: %v", err)
	}
	ln.Close()
}

func TestConnectSaysWhenThePortIsBusy(t *testing.T) {
	r := newRig(t, time.Minute)
	ln, err := net.Listen("tcp", strings.TrimPrefix(strings.TrimSuffix(r.svc.RedirectURL(), connect.CallbackPath), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = r.svc.ConnectGHL(context.Background(), false)
	if !errors.Is(err, connect.ErrPortBusy) || !strings.Contains(err.Error(), "choose another port") {
		t.Fatalf("ConnectGHL on a busy port: %v", err)
	}
	select {
	case u := <-r.urls:
		t.Errorf("the browser was opened at %s although nothing could listen", u)
	default:
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
