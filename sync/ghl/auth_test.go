package ghl

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"parley/sync/ghl/ghltest"
	"parley/sync/internal/sandboxkit"
)

const (
	demoClientID     = "parley-demo-client"
	demoClientSecret = "parley-demo-secret"
	routeGetConv     = "GET /conversations/{conversationId}"
	routeTokenKey    = "POST /oauth/token"
)

func demoApp(srv *ghltest.Server) *OAuthApp {
	return &OAuthApp{ClientID: demoClientID, ClientSecret: demoClientSecret, BaseURL: srv.URL(),
		RedirectURL: "http://127.0.0.1:7788/callback", Scopes: []string{"conversations.readonly", "conversations/message.write"}}
}

// clock is a settable clock for token expiry.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Now().UnixNano())
	return c
}
func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }
func toOAuth(tk ghltest.Token, now time.Time) *oauth2.Token {
	return &oauth2.Token{AccessToken: tk.AccessToken, RefreshToken: tk.RefreshToken, TokenType: "Bearer",
		Expiry: now.Add(time.Duration(tk.ExpiresIn) * time.Second)}
}

// keyring stands in for the system keyring the caller would write.
type keyring struct {
	mu     sync.Mutex
	saved  []*oauth2.Token
	fail   int // fail this many saves first
	events *eventLog
}

func (k *keyring) save(t *oauth2.Token) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.events != nil {
		k.events.add("save " + t.AccessToken)
	}
	if k.fail > 0 {
		k.fail--
		return errors.New("keyring locked")
	}
	cp := *t
	k.saved = append(k.saved, &cp)
	return nil
}

func (k *keyring) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.saved)
}

// eventLog orders saves and sends.
type eventLog struct{ recorded[string] }

// loggingTransport records which bearer token each API request carries, on
// its way to the real loopback server.
type loggingTransport struct {
	base   http.RoundTripper
	events *eventLog
}

func (t *loggingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		t.events.add("send " + tok)
	}
	return t.base.RoundTrip(r)
}

// oauthClient builds a client with an OAuth token issued by srv.
func oauthClient(t *testing.T, srv *ghltest.Server, clk *clock, kr *keyring, tok ghltest.Token, mut ...func(*Config)) *Client {
	t.Helper()
	return client(t, srv, append([]func(*Config){func(cfg *Config) {
		cfg.PrivateToken = ""
		cfg.OAuth = demoApp(srv)
		cfg.Token = toOAuth(tok, clk.now())
		cfg.SaveToken = kr.save
		cfg.Now = clk.now
	}}, mut...)...)
}

func TestAuthCodeURL(t *testing.T) {
	app := &OAuthApp{ClientID: "cid", ClientSecret: "s3cret", RedirectURL: "http://127.0.0.1:7788/cb", Scopes: []string{"a.readonly", "b/c.write"}}
	u, err := url.Parse(app.AuthCodeURL("st4te"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if got := u.Scheme + "://" + u.Host + u.Path; got != DefaultAuthURL {
		t.Errorf("auth URL %s, want %s", got, DefaultAuthURL)
	}
	if q.Get("client_id") != "cid" || q.Get("redirect_uri") != app.RedirectURL || q.Get("scope") != "a.readonly b/c.write" ||
		q.Get("state") != "st4te" || q.Get("response_type") != "code" || strings.Contains(u.String(), "s3cret") {
		t.Errorf("auth URL query %v", q)
	}
	cfg := app.Config()
	if cfg.Endpoint.TokenURL != DefaultBaseURL+"/oauth/token" || cfg.Endpoint.AuthStyle != oauth2.AuthStyleInParams {
		t.Errorf("endpoint %+v", cfg.Endpoint)
	}
}

func TestExchange(t *testing.T) {
	srv := sandbox(t)
	obs := &calls{}
	app := demoApp(srv)
	app.Observer = obs.observe
	code := srv.AuthorizationCode("conversations.readonly", "conversations/message.write")
	inst, err := app.Exchange(ctxT(t), code)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if inst.LocationID != srv.LocationID() || inst.CompanyID != "comp_parley_demo" || inst.UserType != "Location" ||
		inst.Scope != "conversations.readonly conversations/message.write" || inst.UserID == "" {
		t.Errorf("installation %+v", inst)
	}
	if inst.Token.AccessToken == "" || inst.Token.RefreshToken == "" || time.Until(inst.Token.Expiry) < 23*time.Hour {
		t.Errorf("token without access/refresh token or a day's expiry: expires %v", inst.Token.Expiry)
	}
	if ci := obs.last(t); ci.Op != "ghl: exchange code" || ci.Route != routeTokenKey || ci.Status != 200 || ci.BytesSent == 0 || ci.BytesReceived == 0 {
		t.Errorf("observer %+v", ci)
	}

	// The token works, and its location is taken from it.
	kr := &keyring{}
	c, err := New(Config{BaseURL: srv.URL(), OAuth: app, Token: inst.Token, SaveToken: kr.save, RateLimit: RateLimit{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	if c.LocationID() != srv.LocationID() {
		t.Errorf("client location %q, want the token's %q", c.LocationID(), srv.LocationID())
	}
	if _, err := c.GetConversation(ctxT(t), srv.Conversations()[0].ID); err != nil {
		t.Errorf("using the exchanged token: %v", err)
	}

	// A code works once.
	if _, err := app.Exchange(ctxT(t), code); !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "connect HighLevel again") {
		t.Errorf("second exchange: %v, want ErrUnauthorized saying to connect again", err)
	}
	// A wrong secret is refused, and the error does not repeat it.
	bad := demoApp(srv)
	bad.ClientSecret = "wrong-secret-123"
	_, err = bad.Exchange(ctxT(t), srv.AuthorizationCode())
	var ae *APIError
	if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &ae) || ae.Status != 401 || strings.Contains(err.Error(), "wrong-secret-123") {
		t.Errorf("bad secret: %v", err)
	}
}

// TestRefreshAheadOfExpiry: a token inside the refresh margin is refreshed
// before the call, the new one saved, and then used without refreshing
// again.
func TestRefreshAheadOfExpiry(t *testing.T) {
	srv := sandbox(t, func(o *ghltest.Options) { o.AccessTokenTTL = time.Hour })
	clk, kr := newClock(), &keyring{}
	issued := srv.IssueToken()
	c := oauthClient(t, srv, clk, kr, issued)
	conv := srv.Conversations()[0].ID

	if _, err := c.GetConversation(ctxT(t), conv); err != nil {
		t.Fatal(err)
	}
	if n := srv.Calls(routeTokenKey); n != 0 {
		t.Fatalf("refreshed a fresh token (%d token requests)", n)
	}
	clk.advance(56 * time.Minute) // 4 minutes left, inside the 5-minute margin
	for range 3 {
		if _, err := c.GetConversation(ctxT(t), conv); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Calls(routeTokenKey); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
	if kr.count() != 1 || kr.saved[0].AccessToken == issued.AccessToken || kr.saved[0].RefreshToken == issued.RefreshToken {
		t.Fatalf("saved %d tokens; want one new token", kr.count())
	}
	if srv.Calls(routeGetConv) != 4 {
		t.Errorf("%d API calls, want 4 (no 401 retries)", srv.Calls(routeGetConv))
	}
}

// TestExpiredAccessTokenOneRefreshOneRetry: a 401 triggers one refresh and
// one retry, and the new token is saved before the request that uses it is
// sent.
func TestExpiredAccessTokenOneRefreshOneRetry(t *testing.T) {
	srv := sandbox(t)
	clk, events := newClock(), &eventLog{}
	kr := &keyring{events: events}
	issued := srv.IssueToken()
	c := oauthClient(t, srv, clk, kr, issued, func(cfg *Config) {
		cfg.HTTPClient = &http.Client{Transport: &loggingTransport{base: http.DefaultTransport, events: events}}
	})
	conv := srv.Conversations()[0].ID
	srv.ExpireAccessTokens()
	if _, err := c.GetConversation(ctxT(t), conv); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if srv.Calls(routeTokenKey) != 1 || srv.Calls(routeGetConv) != 2 {
		t.Errorf("token requests %d, API requests %d; want 1 and 2", srv.Calls(routeTokenKey), srv.Calls(routeGetConv))
	}
	if kr.count() != 1 {
		t.Fatalf("saved %d tokens, want 1", kr.count())
	}
	newTok := kr.saved[0].AccessToken
	want := []string{"send " + issued.AccessToken, "save " + newTok, "send " + newTok}
	got := events.all()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("order of events:\n got %q\nwant %q", got, want)
	}
}

// TestExpiredTokenFaultNoLoop: when HighLevel keeps answering 401, the
// client refreshes once, retries once, and gives up.
func TestExpiredTokenFaultNoLoop(t *testing.T) {
	srv := sandbox(t)
	clk, kr := newClock(), &keyring{}
	c := oauthClient(t, srv, clk, kr, srv.IssueToken())
	if err := srv.InjectFault(sandboxkit.Fault{Route: routeGetConv, Kind: sandboxkit.FaultStatus, Status: http.StatusUnauthorized, Times: 10}); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetConversation(ctxT(t), srv.Conversations()[0].ID)
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "reconnect HighLevel") {
		t.Fatalf("err = %v, want ErrUnauthorized saying to reconnect", err)
	}
	if srv.Calls(routeTokenKey) != 1 || srv.Calls(routeGetConv) != 2 {
		t.Errorf("token requests %d, API requests %d; want 1 and 2", srv.Calls(routeTokenKey), srv.Calls(routeGetConv))
	}
}

// TestPersistFailure: a token that cannot be saved is kept in memory, not
// used, reported as ErrTokenNotSaved, and saved on the next call without a
// second refresh.
func TestPersistFailure(t *testing.T) {
	srv := sandbox(t)
	clk, events := newClock(), &eventLog{}
	kr := &keyring{fail: 1, events: events}
	issued := srv.IssueToken()
	c := oauthClient(t, srv, clk, kr, issued, func(cfg *Config) {
		cfg.HTTPClient = &http.Client{Transport: &loggingTransport{base: http.DefaultTransport, events: events}}
	})
	conv := srv.Conversations()[0].ID
	srv.ExpireAccessTokens()
	_, err := c.GetConversation(ctxT(t), conv)
	var tns *TokenNotSavedError
	if !errors.Is(err, ErrTokenNotSaved) || !errors.As(err, &tns) || !strings.Contains(err.Error(), "keyring locked") ||
		!strings.Contains(err.Error(), "reconnect HighLevel") {
		t.Fatalf("err = %v, want ErrTokenNotSaved with the cause and what to do", err)
	}
	ev := events.all()
	if len(ev) != 2 || ev[0] != "send "+issued.AccessToken || !strings.HasPrefix(ev[1], "save ") {
		t.Fatalf("events %q: want the 401'd send and one failed save, and no send with the unsaved token", ev)
	}
	unsaved := strings.TrimPrefix(ev[1], "save ")
	if strings.Contains(err.Error(), unsaved) || strings.Contains(err.Error(), issued.RefreshToken) {
		t.Error("the error contains a token")
	}

	// Next call: the same token is saved, then used; no new refresh.
	if _, err := c.GetConversation(ctxT(t), conv); err != nil {
		t.Fatalf("second call: %v", err)
	}
	ev = events.all()[2:]
	if fmt.Sprint(ev) != fmt.Sprint([]string{"save " + unsaved, "send " + unsaved}) {
		t.Errorf("second call's events %q", ev)
	}
	if srv.Calls(routeTokenKey) != 1 || kr.count() != 1 || kr.saved[0].AccessToken != unsaved {
		t.Errorf("token requests %d, saved %d; want 1 and the token kept in memory", srv.Calls(routeTokenKey), kr.count())
	}
}

// TestConcurrentRefresh: callers that need a refresh at the same time share
// one (a refresh token is single-use).
func TestConcurrentRefresh(t *testing.T) {
	for _, how := range []string{"401", "ahead"} {
		t.Run(how, func(t *testing.T) {
			srv := sandbox(t, func(o *ghltest.Options) { o.AccessTokenTTL = time.Hour })
			clk, kr := newClock(), &keyring{}
			c := oauthClient(t, srv, clk, kr, srv.IssueToken())
			conv := srv.Conversations()[0].ID
			if how == "401" {
				srv.ExpireAccessTokens()
			} else {
				clk.advance(58 * time.Minute)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for range 16 {
				wg.Go(func() {
					_, err := c.GetConversation(ctxT(t), conv)
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			if srv.Calls(routeTokenKey) != 1 || kr.count() != 1 {
				t.Errorf("token requests %d, saves %d; want 1 each", srv.Calls(routeTokenKey), kr.count())
			}
		})
	}
}

// TestDeadRefreshToken: a refresh token HighLevel no longer accepts means
// reconnecting; the client stops trying it.
func TestDeadRefreshToken(t *testing.T) {
	srv := sandbox(t)
	clk, kr := newClock(), &keyring{}
	issued := srv.IssueToken()
	// Spend the refresh token elsewhere (as a second Parley would).
	spend := demoApp(srv).Config()
	if _, err := spend.TokenSource(ctxT(t), &oauth2.Token{RefreshToken: issued.RefreshToken}).Token(); err != nil {
		t.Fatal(err)
	}
	c := oauthClient(t, srv, clk, kr, issued)
	srv.ExpireAccessTokens()
	for i := range 2 {
		_, err := c.GetConversation(ctxT(t), srv.Conversations()[0].ID)
		if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "reconnect HighLevel") {
			t.Fatalf("call %d: %v, want ErrUnauthorized saying to reconnect", i, err)
		}
	}
	if n := srv.Calls(routeTokenKey); n != 2 { // the spend, and the client's one try
		t.Errorf("%d token requests, want 2", n)
	}
}

// TestPrivateTokenUnauthorized: a rejected private token is final and the
// error says to create a new one.
func TestPrivateTokenUnauthorized(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv, func(cfg *Config) { cfg.PrivateToken = "pit-00000000-dead-beef-0000-000000000000" })
	_, err := c.GetConversation(ctxT(t), srv.Conversations()[0].ID)
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "create a new one") || strings.Contains(err.Error(), "dead-beef") {
		t.Fatalf("err = %v, want ErrUnauthorized saying to create a new token, without the token", err)
	}
	if n := srv.Calls(routeGetConv); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestReadOnlyTokenCannotWrite: a write with a read-only token is
// ErrForbidden naming the scope the route needs.
func TestReadOnlyTokenCannotWrite(t *testing.T) {
	srv := sandbox(t)
	f := arrange(t, srv)
	clk, kr := newClock(), &keyring{}
	tokens := map[string]*Client{
		"private": client(t, srv, func(cfg *Config) {
			cfg.PrivateToken = Secret(srv.PrivateToken("conversations.readonly", "conversations/message.readonly"))
		}),
		"oauth": oauthClient(t, srv, clk, kr, srv.IssueToken("conversations.readonly", "conversations/message.readonly")),
	}
	for name, c := range tokens {
		t.Run(name, func(t *testing.T) {
			if _, err := c.GetConversation(ctxT(t), f.conv.ID); err != nil {
				t.Fatalf("read: %v", err)
			}
			_, err := c.DeliverMessage(ctxT(t), DeliveryRequest{Type: ChannelSMS, ContactID: f.conv.ContactID, Message: "x"})
			var ae *APIError
			if !errors.Is(err, ErrForbidden) || !errors.As(err, &ae) || ae.Scope != "conversations/message.write" ||
				!strings.Contains(err.Error(), `"conversations/message.write"`) {
				t.Fatalf("write: %v, want ErrForbidden naming conversations/message.write", err)
			}
			_, _, err = c.UpsertContact(ctxT(t), ContactInput{Email: "x@example.com"})
			if !errors.As(err, &ae) || !errors.Is(err, ErrForbidden) || ae.Scope != "contacts.write" {
				t.Fatalf("upsert: %v, want ErrForbidden naming contacts.write", err)
			}
		})
	}
}

// TestOtherLocationToken: a token for another location is forbidden here.
func TestOtherLocationToken(t *testing.T) {
	srv := sandbox(t)
	clk, kr := newClock(), &keyring{}
	c := oauthClient(t, srv, clk, kr, srv.IssueTokenForLocation("loc_elsewhere"))
	_, err := c.SearchConversationsPage(ctxT(t), SearchConversationsRequest{})
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("err = %v, want ErrForbidden", err)
	}
}

func TestNewRefusesIncompleteAuth(t *testing.T) {
	tok := &oauth2.Token{AccessToken: "a", RefreshToken: "r"}
	app := &OAuthApp{ClientID: "c", ClientSecret: "s"}
	cases := map[string]Config{
		"none":          {LocationID: "loc"},
		"both":          {LocationID: "loc", PrivateToken: "pit", Token: tok, OAuth: app, SaveToken: func(*oauth2.Token) error { return nil }},
		"oauth no app":  {LocationID: "loc", Token: tok, SaveToken: func(*oauth2.Token) error { return nil }},
		"oauth no save": {LocationID: "loc", Token: tok, OAuth: app},
		"no location":   {PrivateToken: "pit"},
	}
	for name, cfg := range cases {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %v", name, cfg)
		}
	}
}
