package ghltest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// consentApp is an OAuth client of the sandbox, as a marketplace app is of
// HighLevel, sending users to ConsentPath.
func consentApp(srv *Server, redirect string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: DefaultClientID, ClientSecret: DefaultClientSecret, RedirectURL: redirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: srv.URL() + ConsentPath, TokenURL: srv.URL() + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
	}
}

// noFollow sees the consent page's redirect instead of following it.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func decide(t *testing.T, srv *Server, authURL, decision string) *url.URL {
	t.Helper()
	page, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusOK {
		t.Fatalf("consent page: %d %s", page.StatusCode, body)
	}
	for _, want := range []string{sandboxLocationName, `id="allow"`, `id="deny"`, ScopeContactsRead} {
		if !strings.Contains(string(body), want) {
			t.Errorf("consent page lacks %q:\n%s", want, body)
		}
	}
	// The form repeats the request's parameters, as the page's hidden fields do.
	q, _ := url.Parse(authURL)
	form := url.Values{"decision": {decision}, "location": {"loc_harbourview_demo"}}
	for _, k := range []string{"client_id", "redirect_uri", "state", "scope"} {
		form.Set(k, q.Query().Get(k))
	}
	resp, err := noFollow.PostForm(srv.URL()+ConsentPath, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("decision answered %d, want a redirect", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestConsentAllowIssuesACodeTheTokenEndpointTakesOnce(t *testing.T) {
	srv := NewTestServer(t, Options{})
	const redirect = "http://127.0.0.1:53682/callback"
	app := consentApp(srv, redirect, ScopeConversationsRead, ScopeContactsRead)
	back := decide(t, srv, app.AuthCodeURL("st-123"), "allow")
	if got := back.Scheme + "://" + back.Host + back.Path; got != redirect {
		t.Fatalf("redirected to %s, want %s", got, redirect)
	}
	if back.Query().Get("state") != "st-123" || back.Query().Get("code") == "" {
		t.Fatalf("redirect query %v, want code and state st-123", back.Query())
	}
	code := back.Query().Get("code")
	tok, err := app.Exchange(context.Background(), code, oauth2.SetAuthURLParam("user_type", "Location"))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if got := tok.Extra("scope"); got != ScopeConversationsRead+" "+ScopeContactsRead {
		t.Errorf("granted scope %q, want the two asked for", got)
	}
	if got := tok.Extra("locationId"); got != "loc_harbourview_demo" {
		t.Errorf("locationId %v", got)
	}
	_, err = app.Exchange(context.Background(), code)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("reused code: %v, want invalid_grant", err)
	}
}

func TestConsentDenyRedirectsWithAccessDenied(t *testing.T) {
	srv := NewTestServer(t, Options{})
	app := consentApp(srv, "http://127.0.0.1:53682/callback?keep=1", ScopeContactsRead)
	back := decide(t, srv, app.AuthCodeURL("st-9"), "deny")
	q := back.Query()
	if q.Get("error") != "access_denied" || q.Get("state") != "st-9" || q.Get("code") != "" || q.Get("keep") != "1" {
		t.Fatalf("deny redirect query %v", q)
	}
}

func TestConsentRefusesAnUnknownAppWithoutRedirecting(t *testing.T) {
	srv := NewTestServer(t, Options{})
	for name, q := range map[string]url.Values{
		"unknown client":   {"client_id": {"someone-else"}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "response_type": {"code"}},
		"no redirect":      {"client_id": {DefaultClientID}, "response_type": {"code"}},
		"relative":         {"client_id": {DefaultClientID}, "redirect_uri": {"/cb"}, "response_type": {"code"}},
		"not a code grant": {"client_id": {DefaultClientID}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "response_type": {"token"}},
		"not loopback":     {"client_id": {DefaultClientID}, "redirect_uri": {"https://attacker.example/cb"}, "response_type": {"code"}},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := noFollow.Get(srv.URL() + ConsentPath + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400 and no redirect", resp.StatusCode)
			}
		})
	}
}

func TestTokenRefusesACodeSentToAnotherRedirect(t *testing.T) {
	srv := NewTestServer(t, Options{})
	app := consentApp(srv, "http://127.0.0.1:53682/callback", ScopeContactsRead)
	code := decide(t, srv, app.AuthCodeURL("s"), "allow").Query().Get("code")
	app.RedirectURL = "http://127.0.0.1:9999/elsewhere"
	_, err := app.Exchange(context.Background(), code)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("exchange with another redirect_uri: %v, want invalid_grant", err)
	}
}

// The decision itself must not redirect elsewhere either: a form posted
// straight to the page, skipping the GET, is refused the same way.
func TestConsentDecisionNeverRedirectsOffLoopback(t *testing.T) {
	srv := NewTestServer(t, Options{})
	for _, redirect := range []string{"https://attacker.example/cb", "http://127.0.0.1.attacker.example/cb", "http://localhost.attacker.example:80/cb"} {
		form := url.Values{"decision": {"allow"}, "client_id": {DefaultClientID}, "redirect_uri": {redirect}, "state": {"s"}}
		resp, err := noFollow.PostForm(srv.URL()+ConsentPath, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: status %d, Location %q; want 400 and no redirect", redirect, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}
