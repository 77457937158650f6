package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"parley/store"
	"parley/store/secrets"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
)

// Token faults (issue 14, Reliability): each ends in one refresh, a pause
// with one alert, or a clear message, and the calls are counted to prove
// there is no retry storm.

const tokenRoute = "POST /oauth/token"

// callCounter counts every request the client sends and the 401 and 403
// answers, and can run a hook after each answer.
type callCounter struct {
	base            http.RoundTripper
	all, u401, f403 atomic.Int64
	after           func(*http.Request, *http.Response)
}

func (c *callCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.all.Add(1)
	resp, err := c.base.RoundTrip(r)
	if err == nil {
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			c.u401.Add(1)
		case http.StatusForbidden:
			c.f403.Add(1)
		}
		if c.after != nil {
			c.after(r, resp)
		}
	}
	return resp, err
}

// savedTokens is the keyring an OAuth client writes refreshed tokens to;
// fail makes every save fail, as a locked keyring does.
type savedTokens struct {
	mu    sync.Mutex
	saved []*oauth2.Token
	tries int
	fail  error
}

func (s *savedTokens) save(t *oauth2.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries++
	if s.fail != nil {
		return s.fail
	}
	s.saved = append(s.saved, t)
	return nil
}

func (s *savedTokens) counts() (tries, saved int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tries, len(s.saved)
}

// oauthRig is a rig whose client holds an OAuth token that issue makes
// from the rig's sandbox, its refreshed tokens saved to kr and its traffic
// counted.
func oauthRig(t *testing.T, kr *savedTokens, issue func(*ghltest.Server) ghltest.Token) (*rig, *callCounter, ghltest.Token) {
	t.Helper()
	cc := &callCounter{}
	r := newRig(t, rigOptions{transport: func(rt http.RoundTripper) http.RoundTripper { cc.base = rt; return cc }})
	// The rig's own client holds a private token; the OAuth token can only
	// be issued once the sandbox runs, so the client is made again.
	tok := issue(r.gs)
	gc, err := ghl.New(ghl.Config{
		BaseURL: r.gs.URL(), LocationID: r.gs.LocationID(),
		OAuth: &ghl.OAuthApp{ClientID: ghltest.DefaultClientID, ClientSecret: ghltest.DefaultClientSecret, BaseURL: r.gs.URL(),
			HTTPClient: &http.Client{Transport: cc}},
		Token: &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: "Bearer",
			Expiry: time.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)},
		SaveToken:      kr.save,
		HTTPClient:     &http.Client{Transport: engine.Transport(cc)},
		RateLimit:      ghl.RateLimit{Disabled: true},
		Retry:          ghl.RetryPolicy{Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }},
		AttemptTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gc.CloseIdleConnections)
	r.gc, r.cfg.GHL = gc, gc
	return r, cc, tok
}

func issueAll(s *ghltest.Server) ghltest.Token { return s.IssueToken() }

// queueMessages queues n contacts with two messages each and returns the
// messages' AD ids.
func queueMessages(r *rig, n int) []string {
	var ids []string
	var jobs []any
	for i := range n {
		c := contactJob(fmt.Sprintf("ad-c%d", i), "Tok", fmt.Sprint(i), fmt.Sprintf("tok%d@example.com", i), "")
		jobs = append(jobs, c)
		for k := range 2 {
			id := fmt.Sprintf("ad-m%d-%d", i, k)
			jobs = append(jobs, messageJob(id, c, "sms", "inbound", "hello "+id, t0.Add(time.Duration(i*2+k)*time.Minute)))
			ids = append(ids, id)
		}
	}
	r.queue(jobs...)
	return ids
}

// paused reports whether e has paused by itself.
func paused(t *testing.T, e *engine.Engine) func() bool {
	return func() bool {
		snap, err := e.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return snap.Reason != ""
	}
}

// settleAfterPause runs e until it pauses, then a little longer, to let
// any storm show in the counts.
func settleAfterPause(t *testing.T, r *rig, e *engine.Engine) {
	t.Helper()
	r.run(e, paused(t, e))
	deadline := time.Now().Add(300 * time.Millisecond)
	r.run(e, func() bool { return time.Now().After(deadline) })
}

func openAlerts(t *testing.T, st *store.Store) []store.Alert {
	t.Helper()
	alerts, err := st.OpenAlerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return alerts
}

// noAttemptSpent checks that every job is pending again with no attempt
// counted: a pause hands jobs back untried.
func noAttemptSpent(t *testing.T, r *rig) {
	t.Helper()
	for _, it := range r.items() {
		if it.State != store.OutboxPending || it.Attempts != 0 {
			t.Errorf("job %s is %s after %d attempts, want pending with none counted", it.Key, it.State, it.Attempts)
		}
	}
}

// TestAccessTokenExpiringMidRunRefreshesOnce: HighLevel stops accepting
// the access token after the fifth record; the requests in flight get 401,
// one refresh serves them all, and every message is still recorded once.
func TestAccessTokenExpiringMidRunRefreshesOnce(t *testing.T) {
	kr := &savedTokens{}
	r, cc, _ := oauthRig(t, kr, issueAll)
	var records atomic.Int64
	cc.after = func(req *http.Request, resp *http.Response) {
		if req.URL.Path == "/conversations/messages/inbound" && resp.StatusCode < 300 && records.Add(1) == 5 {
			r.gs.ExpireAccessTokens()
		}
	}
	ids := queueMessages(r, 10)
	e := r.engine()
	r.run(e, nil)

	if n := r.gs.Calls(tokenRoute); n != 1 {
		t.Errorf("%d token requests, want exactly 1", n)
	}
	if _, saved := kr.counts(); saved != 1 {
		t.Errorf("%d tokens saved, want the one refreshed", saved)
	}
	if n := cc.u401.Load(); n < 1 || n > engine.DefaultWorkers {
		t.Errorf("%d answers were 401, want 1 to %d (the requests in flight when the token expired)", n, engine.DefaultWorkers)
	}
	got := r.byAltID()
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("message %s recorded %d times, want 1", id, got[id])
		}
	}
	if a := openAlerts(t, r.st); len(a) != 0 {
		t.Errorf("alerts %+v after a refresh that worked", a)
	}
}

// TestSpentRefreshTokenPausesWithOneAlert: the access token has expired
// and its refresh token was already used (by another copy of Parley, say).
// The engine tries one refresh, pauses with one alert saying to reconnect
// HighLevel, and sends next to nothing more.
func TestSpentRefreshTokenPausesWithOneAlert(t *testing.T) {
	kr := &savedTokens{}
	r, cc, tok := oauthRig(t, kr, issueAll)
	spend := (&ghl.OAuthApp{ClientID: ghltest.DefaultClientID, ClientSecret: ghltest.DefaultClientSecret, BaseURL: r.gs.URL()}).Config()
	if _, err := spend.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Fatal(err)
	}
	r.gs.ExpireAccessTokens()
	queueMessages(r, 20)
	e := r.engine()
	settleAfterPause(t, r, e)

	if n := r.gs.Calls(tokenRoute); n != 2 { // the spend, and the engine's one try
		t.Errorf("%d token requests, want 2 (the spend and one refresh)", n)
	}
	// Each worker's first request gets a 401 and nothing after the
	// refresh fails; the token request is the one more.
	if n, bound := cc.all.Load(), int64(engine.DefaultWorkers+1); n > bound {
		t.Errorf("%d requests after the refresh token was spent, want at most %d", n, bound)
	}
	alerts := openAlerts(t, r.st)
	if len(alerts) != 1 || !strings.Contains(alerts[0].Message+alerts[0].Hint, "reconnect HighLevel") {
		t.Fatalf("alerts %+v, want one saying to reconnect HighLevel", alerts)
	}
	if _, saved := kr.counts(); saved != 0 {
		t.Errorf("%d tokens saved from a failed refresh", saved)
	}
	noAttemptSpent(t, r)
	if strings.Contains(alerts[0].Message+alerts[0].Hint, tok.RefreshToken) {
		t.Error("the alert holds the refresh token")
	}
}

// TestMissingWriteScopePausesNamingTheScope: a token that may create
// contacts but not record messages gets 403 on the first record. The
// engine pauses with one alert naming the missing scope, and the jobs go
// back with no attempt counted.
func TestMissingWriteScopePausesNamingTheScope(t *testing.T) {
	kr := &savedTokens{}
	r, cc, _ := oauthRig(t, kr, func(s *ghltest.Server) ghltest.Token {
		return s.IssueToken(ghltest.ScopeContactsRead, ghltest.ScopeContactsWrite,
			ghltest.ScopeConversationsRead, ghltest.ScopeConversationsWrite, ghltest.ScopeMessagesRead)
	})
	c := contactJob("ad-c1", "Sco", "Pe", "scope@example.com", "")
	r.queue(c)
	r.run(r.engine(), nil)
	var jobs []any
	for i := range 20 {
		jobs = append(jobs, messageJob(fmt.Sprintf("ad-m%d", i), c, "sms", "inbound", "hello", t0.Add(time.Duration(i)*time.Minute)))
	}
	r.queue(jobs...)
	before := cc.all.Load()
	e := r.engine()
	settleAfterPause(t, r, e)

	if n := cc.f403.Load(); n < 1 || n > engine.DefaultWorkers {
		t.Errorf("%d answers were 403, want 1 to %d (one per worker at most)", n, engine.DefaultWorkers)
	}
	// A record looks up its conversation first, so a worker sends a few
	// requests before its 403; nothing is retried after it.
	if n, bound := cc.all.Load()-before, int64(4*engine.DefaultWorkers); n > bound {
		t.Errorf("%d requests for 20 messages that cannot be written, want at most %d", n, bound)
	}
	if n := r.gs.Calls(tokenRoute); n != 0 {
		t.Errorf("%d token requests: a missing scope is not cured by a refresh", n)
	}
	alerts := openAlerts(t, r.st)
	if len(alerts) != 1 || !strings.Contains(alerts[0].Message+" "+alerts[0].Hint, ghltest.ScopeMessagesWrite) {
		t.Fatalf("alerts %+v, want one naming the scope %s", alerts, ghltest.ScopeMessagesWrite)
	}
	for _, it := range r.items() {
		if it.Kind == engine.JobMirrorMessage && (it.State != store.OutboxPending || it.Attempts != 0) {
			t.Errorf("job %s is %s after %d attempts, want pending with none counted", it.Key, it.State, it.Attempts)
		}
	}
}

// TestLockedKeyringPausesWithoutRefreshingAgain: the refresh works but the
// keyring will not take the new token. The engine pauses saying to unlock
// the keyring, and does not spend the refresh token it holds in memory on
// a second refresh.
func TestLockedKeyringPausesWithoutRefreshingAgain(t *testing.T) {
	kr := &savedTokens{fail: errors.New("the collection is locked")}
	r, cc, _ := oauthRig(t, kr, issueAll)
	r.gs.ExpireAccessTokens()
	queueMessages(r, 10)
	e := r.engine()
	settleAfterPause(t, r, e)

	if n := r.gs.Calls(tokenRoute); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
	if n, bound := cc.all.Load(), int64(engine.DefaultWorkers+1); n > bound {
		t.Errorf("%d requests while the keyring is locked, want at most %d", n, bound)
	}
	if tries, _ := kr.counts(); tries < 1 || tries > engine.DefaultWorkers+1 {
		t.Errorf("%d saves tried, want 1 to %d", tries, engine.DefaultWorkers+1)
	}
	alerts := openAlerts(t, r.st)
	if len(alerts) != 1 || !strings.Contains(alerts[0].Hint, "keyring is unlocked") {
		t.Fatalf("alerts %+v, want one saying to unlock the keyring", alerts)
	}
	noAttemptSpent(t, r)

	// Unlocked, and resumed: the token kept in memory is saved and used.
	kr.mu.Lock()
	kr.fail = nil
	kr.mu.Unlock()
	e.Resume()
	r.run(e, nil)
	if n := r.gs.Calls(tokenRoute); n != 1 {
		t.Errorf("%d token requests after resuming, want still 1", n)
	}
	if _, saved := kr.counts(); saved != 1 {
		t.Errorf("%d tokens saved after unlocking, want 1", saved)
	}
}

// brokenKeyring is a keyring that cannot be reached at all.
type brokenKeyring struct{}

func (brokenKeyring) Get(n secrets.Name) (string, error) {
	return "", &secrets.UnavailableError{Op: "read", Name: n, Err: errors.New("The name org.freedesktop.secrets was not provided by any .service files")}
}
func (brokenKeyring) Set(n secrets.Name, _ string) error {
	return &secrets.UnavailableError{Op: "store", Name: n, Err: errors.New("no keyring")}
}
func (brokenKeyring) Delete(n secrets.Name) error {
	return &secrets.UnavailableError{Op: "delete", Name: n, Err: errors.New("no keyring")}
}

// TestHeadlessWithoutKeyringSaysWhatToDo: with no keyring to read (and no
// PARLEY_* variables), a headless run fails before any request, with a
// message that names the keyring and the variable that would do instead.
func TestHeadlessWithoutKeyringSaysWhatToDo(t *testing.T) {
	gs := ghltest.NewTestServer(t, ghltest.Options{})
	dir := t.TempDir()
	var out bytes.Buffer
	err := engine.RunHeadless(context.Background(), engine.HeadlessOptions{Out: &out, Store: newStore(t), DataDir: dir, Once: true,
		Accounts: engine.Accounts{Vault: secrets.Chain{brokenKeyring{}, secrets.Env{Lookup: func(string) (string, bool) { return "", false }}},
			GHLBaseURL: gs.URL(), ADBaseURL: "http://127.0.0.1:1/", GHLLocation: gs.LocationID(), GHLProvider: gs.ConversationProviderID()}})
	if err == nil {
		t.Fatalf("a run without a keyring succeeded:\n%s", out.String())
	}
	msg := err.Error()
	for _, want := range []string{"keyring", "unlock", "PARLEY_"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q: %s", want, msg)
		}
	}
	if n := gs.Calls(tokenRoute) + gs.Traffic().Records; n != 0 {
		t.Errorf("%d requests reached HighLevel without credentials", n)
	}
}
