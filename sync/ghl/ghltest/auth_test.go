package ghltest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestAuthentication(t *testing.T) {
	clock := newFakeClock()
	srv, _ := seeded(t, Options{Clock: clock.Now, AccessTokenTTL: time.Hour})
	conv := srv.Conversations()[0]
	path := "/conversations/" + conv.ID
	expiring := srv.IssueToken()
	forced := srv.IssueToken()
	pit := srv.PrivateToken()
	clock.Advance(30 * time.Minute)
	srv.ExpireAccessTokens() // forced is now expired; later tokens are not
	fresh := srv.IssueToken()
	clock.Advance(31 * time.Minute) // expiring is past its hour

	cases := []struct {
		name          string
		authorization string
		status        int
		message       string
	}{
		{"no header", "", 401, msgNoToken},
		{"not bearer", "Basic dXNlcjpwYXNz", 401, msgNoToken},
		{"unknown token", "Bearer " + randomJWT("access"), 401, msgInvalidJWT},
		{"expired by time", "Bearer " + expiring.AccessToken, 401, msgInvalidJWT},
		{"expired by ExpireAccessTokens", "Bearer " + forced.AccessToken, 401, msgInvalidJWT},
		{"refresh token as bearer", "Bearer " + fresh.RefreshToken, 401, msgInvalidJWT},
		{"valid token", "Bearer " + fresh.AccessToken, 200, ""},
		{"lower-case scheme", "bearer " + fresh.AccessToken, 200, ""},
		{"private integration token", "Bearer " + pit, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, srv, "")
			r := c.do("GET", path, nil, hdr{"Authorization": tc.authorization})
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if r.header.Get("X-RateLimit-Max") == "" {
				t.Error("no rate-limit headers")
			}
			if tc.message != "" {
				var e apiErr
				r.decode(t, &e)
				if got := e.messages(); len(got) != 1 || got[0] != tc.message || e.StatusCode != 401 {
					t.Errorf("body %s, want message %q", r.body, tc.message)
				}
			}
		})
	}
	if !strings.HasPrefix(pit, "pit-") || strings.Count(fresh.AccessToken, ".") != 2 {
		t.Errorf("token formats: %q / %q", redact(pit), redact(fresh.AccessToken))
	}
	// A private integration token never expires.
	clock.Advance(365 * 24 * time.Hour)
	newClient(t, srv, pit).mustDo(200, "GET", path, nil)
}

func TestScopesAndLocations(t *testing.T) {
	srv, _ := seeded(t, Options{})
	conv := srv.Conversations()[0]
	loc := srv.LocationID()
	readOnly := newClient(t, srv, srv.IssueToken(ScopeConversationsRead, ScopeMessagesRead, ScopeContactsRead).AccessToken)
	pitReadOnly := newClient(t, srv, srv.PrivateToken(ScopeConversationsRead))
	other := newClient(t, srv, srv.IssueTokenForLocation("loc_someone_else").AccessToken)
	send := map[string]any{"type": "SMS", "contactId": conv.ContactID, "message": "hi"}
	before := srv.Messages(conv.ID)

	cases := []struct {
		name    string
		c       *client
		method  string
		path    string
		body    any
		status  int
		message string
	}{
		{"read-only reads", readOnly, "GET", "/conversations/search?locationId=" + loc, nil, 200, ""},
		{"read-only lists messages", readOnly, "GET", "/conversations/" + conv.ID + "/messages", nil, 200, ""},
		{"read-only cannot deliver", readOnly, "POST", "/conversations/messages", send, 403, msgWrongScope},
		{"read-only cannot upsert", readOnly, "POST", "/contacts/upsert", map[string]any{"locationId": loc, "email": "x@example.com"}, 403, msgWrongScope},
		{"read-only cannot update", readOnly, "PUT", "/conversations/" + conv.ID, map[string]any{"locationId": loc}, 403, msgWrongScope},
		{"private token scopes", pitReadOnly, "GET", "/conversations/" + conv.ID + "/messages", nil, 403, msgWrongScope},
		{"other location's id in the query", other, "GET", "/conversations/search?locationId=" + loc, nil, 403, msgWrongLoc},
		{"other location's conversation", other, "GET", "/conversations/" + conv.ID, nil, 403, msgWrongLoc},
		{"other location's contact", other, "POST", "/conversations/messages", send, 403, msgWrongLoc},
		{"other location's recording path", other, "GET", "/conversations/messages/x/locations/" + loc + "/recording", nil, 403, msgWrongLoc},
		{"other location searches its own", other, "GET", "/conversations/search?locationId=loc_someone_else", nil, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.do(tc.method, tc.path, tc.body, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.message != "" {
				var e apiErr
				r.decode(t, &e)
				if got := e.messages(); len(got) != 1 || got[0] != tc.message || e.StatusCode != 403 {
					t.Errorf("body %s, want %q", r.body, tc.message)
				}
			}
		})
	}
	// Refused requests are counted but change nothing.
	if srv.Calls("POST /conversations/messages") != 2 || len(srv.Messages(conv.ID)) != len(before) {
		t.Errorf("calls to POST /conversations/messages: %d", srv.Calls("POST /conversations/messages"))
	}
}

func oauthConfig(srv *Server) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     "parley-demo-client",
		ClientSecret: "parley-demo-secret",
		Endpoint: oauth2.Endpoint{
			AuthURL:   "https://marketplace.gohighlevel.com/oauth/chooselocation",
			TokenURL:  srv.URL() + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

func TestOAuthWithXOAuth2(t *testing.T) {
	srv, _ := seeded(t, Options{})
	ctx := context.Background()
	cfg := oauthConfig(srv)

	code := srv.AuthorizationCode(ScopeConversationsRead, ScopeMessagesWrite)
	tok, err := cfg.Exchange(ctx, code, oauth2.SetAuthURLParam("user_type", "Location"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.Extra("locationId") != srv.LocationID() ||
		tok.Extra("companyId") != "comp_parley_demo" || tok.Extra("userType") != "Location" ||
		tok.Extra("scope") != ScopeConversationsRead+" "+ScopeMessagesWrite || tok.Extra("userId") == "" {
		t.Fatalf("exchange: %+v extra locationId=%v scope=%v", tok.TokenType, tok.Extra("locationId"), tok.Extra("scope"))
	}
	if d := time.Until(tok.Expiry); d < 23*time.Hour || d > 24*time.Hour {
		t.Errorf("expiry in %v, want about a day", d)
	}
	newClient(t, srv, tok.AccessToken).mustDo(200, "GET", "/conversations/search?locationId="+srv.LocationID(), nil)

	// A code works once.
	if _, err := cfg.Exchange(ctx, code); !isOAuthError(err, "invalid_grant") {
		t.Errorf("second exchange: %v", err)
	}

	// Refresh: a new pair; the old refresh token is spent.
	refreshed, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.AccessToken == tok.AccessToken || refreshed.RefreshToken == tok.RefreshToken || refreshed.Extra("scope") != tok.Extra("scope") {
		t.Errorf("refresh did not issue a new pair with the same scopes")
	}
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if !isOAuthError(err, "invalid_grant") {
		t.Errorf("second use of a refresh token: %v", err)
	}
	// The new refresh token works (once).
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshed.RefreshToken}).Token(); err != nil {
		t.Errorf("refresh with the new refresh token: %v", err)
	}

	bad := *cfg
	bad.ClientSecret = "wrong"
	_, err = bad.Exchange(ctx, srv.AuthorizationCode())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != 401 || re.ErrorCode != "invalid_client" {
		t.Errorf("bad client secret: %v", err)
	}
	if strings.Contains(fmt.Sprint(err), "wrong") {
		t.Error("the error repeats the client secret")
	}
	// A private integration token cannot be refreshed.
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: srv.PrivateToken()}).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("refreshing a private token: %v", err)
	}
	if srv.Calls("POST /oauth/token") != 7 {
		t.Errorf("token calls: %d", srv.Calls("POST /oauth/token"))
	}
}

func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.Response.StatusCode == 400 && re.ErrorCode == code
}

func TestOAuthFormErrors(t *testing.T) {
	srv, _ := seeded(t, Options{})
	c := newClient(t, srv, "")
	base := url.Values{"client_id": {"parley-demo-client"}, "client_secret": {"parley-demo-secret"}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range base {
			v[k] = vs
		}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	cases := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"client credentials", with("grant_type", "client_credentials"), 400, "unsupported_grant_type"},
		{"company token", with("grant_type", "authorization_code", "code", srv.AuthorizationCode(), "user_type", "Company"), 400, "invalid_request"},
		{"unknown code", with("grant_type", "authorization_code", "code", "nope"), 400, "invalid_grant"},
		{"unknown refresh token", with("grant_type", "refresh_token", "refresh_token", "nope"), 400, "invalid_grant"},
		{"wrong client id", with("grant_type", "refresh_token", "client_id", "someone", "refresh_token", "x"), 401, "invalid_client"},
	}
	// The success answer, validated against GetAccessCodeSuccessfulResponseDto.
	ok := c.mustDo(200, "POST", "/oauth/token", with("grant_type", "authorization_code", "code", srv.AuthorizationCode(ScopeContactsRead), "user_type", "Location"))
	var tok tokenResponse
	ok.decode(t, &tok)
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 86399 || tok.Scope != ScopeContactsRead || tok.LocationID != srv.LocationID() || tok.UserID == "" {
		t.Errorf("token answer %+v", tok)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do("POST", "/oauth/token", tc.form, nil)
			var e struct {
				StatusCode int    `json:"statusCode"`
				Error      string `json:"error"`
				Desc       string `json:"error_description"`
			}
			r.decode(t, &e)
			if r.status != tc.status || e.Error != tc.code || e.StatusCode != tc.status || e.Desc == "" {
				t.Errorf("%d %s", r.status, r.body)
			}
			if r.header.Get("X-RateLimit-Remaining") == "" {
				t.Error("no rate-limit headers on /oauth/token")
			}
		})
	}
}

// syncBuffer is a log sink shared by handler goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSecretsNeverPrintedOrLogged(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, _ := seeded(t, Options{Logger: logger})
	srv.ExpectRejections()
	tok := srv.IssueToken()
	code := srv.AuthorizationCode()
	exchanged, err := oauthConfig(srv).Exchange(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv, tok.AccessToken)
	c.do("GET", "/conversations/search", nil, nil) // rejected: logged
	c.mustDo(200, "GET", "/conversations/search?locationId="+srv.LocationID(), nil)
	newClient(t, srv, "").do("POST", "/oauth/token", url.Values{"client_id": {"parley-demo-client"}, "client_secret": {"parley-demo-secret"}, "grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, nil)
	logger.Info("token", "tok", tok)

	printed := fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok) + logs.String()
	for _, secret := range []string{tok.AccessToken, tok.RefreshToken, code, exchanged.AccessToken, exchanged.RefreshToken, "parley-demo-secret"} {
		if strings.Contains(printed, secret) {
			t.Errorf("a secret appears in printed or logged output")
		}
	}
	if !strings.Contains(logs.String(), "GET /conversations/search") || !strings.Contains(printed, "[redacted]") {
		t.Errorf("the log or the redaction is missing:\n%s", printed)
	}
}
