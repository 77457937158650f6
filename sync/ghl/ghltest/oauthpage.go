package ghltest

import (
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// ConsentPath is the sandbox's marketplace consent page, where HighLevel's
// own is https://marketplace.gohighlevel.com/oauth/chooselocation. The
// sandbox serves both on one host, so an app's AuthURL is URL()+ConsentPath.
const ConsentPath = "/oauth/chooselocation"

// sandboxLocationName is what the picker calls the sandbox's location.
const sandboxLocationName = "Harbourview Renovations (sandbox)"

// consentPage is deliberately plain: a test drives it through its ids
// (#location, #allow, #deny), a person through its labels. Its empty data:
// icon keeps a browser from asking the sandbox for /favicon.ico, which is
// not in the spec and would count as a rejected request.
var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Choose a location – HighLevel sandbox</title></head>
<body>
<h1>{{.ClientID}} wants access to a location</h1>
<form method="post" action="{{.Action}}">
<input type="hidden" name="client_id" value="{{.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.RedirectURI}}">
<input type="hidden" name="state" value="{{.State}}">
<input type="hidden" name="scope" value="{{.Scope}}">
<label for="location">Location</label>
<select id="location" name="location"><option value="{{.LocationID}}">{{.LocationName}}</option></select>
<p>It asks for these scopes:</p>
<ul>{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<button id="allow" type="submit" name="decision" value="allow">Allow</button>
<button id="deny" type="submit" name="decision" value="deny">Deny</button>
</form>
</body></html>
`))

var consentError = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Cannot connect – HighLevel sandbox</title></head>
<body><h1>This app cannot be connected</h1><p id="error">{{.}}</p></body></html>
`))

// serveConsent is the authorization page: GET shows the location picker for
// the app in client_id, POST is the user's Allow or Deny. Like HighLevel,
// Allow redirects to redirect_uri with code and state, and Deny with
// error=access_denied and state. A bad client id or redirect URI never
// redirects (RFC 6749 §4.1.2.1): the page says what is wrong instead.
func (s *Server) serveConsent(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			consentFailure(w, http.StatusBadRequest, "The form could not be read.")
			return
		}
	}
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		q = r.PostForm
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		consentFailure(w, http.StatusMethodNotAllowed, "Open this page with GET.")
		return
	}
	clientID, redirect, state := q.Get("client_id"), q.Get("redirect_uri"), q.Get("state")
	if clientID != s.opts.ClientID {
		consentFailure(w, http.StatusBadRequest, "Unknown client_id "+clientID+": check the app's client id.")
		return
	}
	ru, err := url.Parse(redirect)
	if err != nil || (ru.Scheme != "http" && ru.Scheme != "https") || ru.Host == "" {
		consentFailure(w, http.StatusBadRequest, "redirect_uri is missing or not an absolute http(s) URL.")
		return
	}
	// HighLevel redirects only to a URI registered for the app. The sandbox
	// registers none, so it takes what a desktop app may use: a loopback
	// address on any port (RFC 8252 §7.3), and never sends a code elsewhere.
	if h := ru.Hostname(); h != "localhost" && !isLoopbackIP(h) {
		consentFailure(w, http.StatusBadRequest, "redirect_uri "+redirect+" is not a loopback address: the sandbox redirects only to 127.0.0.1, [::1] or localhost.")
		return
	}
	if r.Method == http.MethodGet {
		if q.Get("response_type") != "code" {
			consentFailure(w, http.StatusBadRequest, "response_type must be code.")
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = consentPage.Execute(w, map[string]any{
			"Action": ConsentPath, "ClientID": clientID, "RedirectURI": redirect, "State": state,
			"Scope": q.Get("scope"), "Scopes": strings.Fields(q.Get("scope")),
			"LocationID": s.opts.LocationID, "LocationName": sandboxLocationName,
		})
		return
	}
	back := ru.Query()
	if q.Get("decision") != "allow" {
		back.Set("error", "access_denied")
		back.Set("error_description", "The user denied access.")
	} else {
		back.Set("code", s.consentCode(strings.Fields(q.Get("scope")), redirect))
	}
	if state != "" {
		back.Set("state", state)
	}
	ru.RawQuery = back.Encode()
	http.Redirect(w, r, ru.String(), http.StatusFound) // #nosec G710 -- ru is a loopback address, checked above
}

// consentCode issues a one-time code bound to the redirect URI it was sent
// to, as /oauth/token checks when the exchange names one.
func (s *Server) consentCode(scopes []string, redirect string) string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	code := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.codes[code] = &codeInfo{scopes: normScopes(scopes), redirectURI: redirect}
	return code
}

func consentFailure(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = consentError.Execute(w, msg)
}

func isLoopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
