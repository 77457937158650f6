package ghl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"parley/sync/internal/secret"
)

// DefaultAuthURL is where a user picks the location to install the app on.
const DefaultAuthURL = "https://marketplace.gohighlevel.com/oauth/chooselocation"

// routeToken is the OAuth token endpoint (apps/oauth.json); it carries no
// Version header and does not count against the rate limit.
var routeToken = route{method: http.MethodPost, path: "/oauth/token"}

// OAuthApp is Parley's HighLevel marketplace app: what is needed to send a
// user to HighLevel's consent page and to exchange and refresh tokens.
type OAuthApp struct {
	ClientID     string
	ClientSecret Secret
	// RedirectURL is the app's registered redirect URI (optional for the
	// exchange if HighLevel has only one).
	RedirectURL string
	// Scopes are requested on the consent page, e.g.
	// "conversations.readonly conversations/message.write".
	Scopes []string
	// BaseURL is the API base the token endpoint lives under (default
	// DefaultBaseURL); the token URL is BaseURL + "/oauth/token".
	BaseURL string
	// AuthURL is the consent page (default DefaultAuthURL).
	AuthURL string
	// HTTPClient sends the token requests (default: a client with a 30 s
	// timeout).
	HTTPClient *http.Client
	// Observer, if set, is told about every exchange.
	Observer Observer
}

// Config returns the golang.org/x/oauth2 configuration for the app:
// HighLevel wants client_id and client_secret in the form body
// (AuthStyleInParams). The returned value holds the client secret in clear:
// do not log it.
func (a *OAuthApp) Config() *oauth2.Config {
	base := strings.TrimRight(a.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	authURL := a.AuthURL
	if authURL == "" {
		authURL = DefaultAuthURL
	}
	return &oauth2.Config{
		ClientID:     a.ClientID,
		ClientSecret: a.ClientSecret.Reveal(),
		RedirectURL:  a.RedirectURL,
		Scopes:       a.Scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   authURL,
			TokenURL:  base + routeToken.path,
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// AuthCodeURL is the consent page URL to open in the user's browser; state
// protects the redirect against forgery.
func (a *OAuthApp) AuthCodeURL(state string) string {
	return a.Config().AuthCodeURL(state)
}

// String keeps the client secret out of logs.
func (a *OAuthApp) String() string {
	return fmt.Sprintf("ghl.OAuthApp{ClientID: %q, ClientSecret: %s, RedirectURL: %q}", a.ClientID, a.ClientSecret, a.RedirectURL)
}

// Format keeps the client secret out of every fmt verb.
func (a *OAuthApp) Format(f fmt.State, _ rune) { formatAs(f, a.String()) }

// LogValue keeps the client secret out of slog output.
func (a *OAuthApp) LogValue() slog.Value {
	return slog.GroupValue(slog.String("clientId", a.ClientID), slog.String("clientSecret", a.ClientSecret.String()))
}

func (a *OAuthApp) httpClient() *http.Client {
	if a.HTTPClient != nil {
		return a.HTTPClient
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// Exchange trades the code from the redirect for a location token
// (user_type=Location) and returns it with the location, company, user type
// and scope HighLevel reports.
func (a *OAuthApp) Exchange(ctx context.Context, code string) (inst *Installation, err error) {
	const op = "ghl: exchange code"
	ct := &countingTransport{base: a.httpClient().Transport}
	hc := *a.httpClient()
	hc.Transport = ct
	start := time.Now()
	// The code is a credential while it is in flight.
	scrub := secret.NewScrubber(a.ClientSecret.Reveal(), code)
	defer func() {
		err = scrub.Error(err)
		if a.Observer != nil {
			a.Observer(CallInfo{Op: op, Route: routeToken.String(), Method: routeToken.method, Status: int(ct.status.Load()), Attempts: 1,
				Latency: time.Since(start), BytesSent: ct.sent.Load(), BytesReceived: ct.recv.Load(), Err: err})
		}
	}()
	tok, err := a.Config().Exchange(context.WithValue(ctx, oauth2.HTTPClient, &hc), code,
		oauth2.SetAuthURLParam("user_type", "Location"))
	if err != nil {
		return nil, tokenError(op, err, scrub, "the code may be used or expired: connect HighLevel again")
	}
	inst = &Installation{Token: tok}
	inst.LocationID, _ = tok.Extra("locationId").(string)
	inst.CompanyID, _ = tok.Extra("companyId").(string)
	inst.UserType, _ = tok.Extra("userType").(string)
	inst.Scope, _ = tok.Extra("scope").(string)
	inst.UserID, _ = tok.Extra("userId").(string)
	if tok.RefreshToken == "" {
		return nil, fmt.Errorf("%s: HighLevel answered without a refresh token; connect HighLevel again", op)
	}
	return inst, nil
}

// tokenError turns an oauth2 error into an error without the response body
// verbatim (it is parsed for messages instead, with the credentials it may
// repeat scrubbed first). HighLevel answers a bad
// client id or secret with 401 and a dead code or refresh token with 400
// invalid_grant; both mean the user must connect again, so both match
// ErrUnauthorized.
func tokenError(op string, err error, scrub *secret.Scrubber, grantHint string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return scrub.Error(fmt.Errorf("%s: %s: %w", op, routeToken, err))
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	msgs, trace := parseErrorBody(scrub, re.Body)
	if len(msgs) == 0 && re.ErrorCode != "" {
		msgs = []string{scrub.String(re.ErrorCode)}
	}
	ae := &APIError{Op: op, Method: routeToken.method, Route: routeToken.path, Status: status, Messages: msgs, TraceID: trace}
	switch {
	case status == http.StatusUnauthorized || re.ErrorCode == "invalid_client":
		ae.Hint = "HighLevel refused Parley's app credentials (client id or secret): update Parley or its app settings"
		ae.kind = ErrUnauthorized
	case re.ErrorCode == "invalid_grant" || status == http.StatusBadRequest:
		ae.Hint = grantHint
		ae.kind = ErrUnauthorized
	default:
		ae.Hint = hintFor(status, "")
	}
	return ae
}

// authenticator supplies the bearer token for each attempt.
type authenticator interface {
	// token returns the access token to use now, refreshing it first when
	// needed.
	token(ctx context.Context) (string, error)
	// rejected tells that HighLevel answered 401 to a request sent with
	// used; it returns whether a retry with a fresh token makes sense.
	rejected(used string) bool
	// unauthorizedHint says what to do about a final 401.
	unauthorizedHint() string
	// secrets are the credentials to scrub from anything HighLevel or a
	// library says: the ones held now and the ones recently replaced.
	secrets() []string
}

// staticToken is a Private Integration Token: no expiry, no refresh.
type staticToken struct{ tok Secret }

func (s staticToken) token(context.Context) (string, error) { return s.tok.Reveal(), nil }
func (s staticToken) rejected(string) bool                  { return false }
func (s staticToken) secrets() []string                     { return []string{s.tok.Reveal()} }
func (s staticToken) unauthorizedHint() string {
	return "HighLevel rejected the private integration token: create a new one in HighLevel (Settings > Private Integrations) and enter it in Connections"
}

// tokenManager owns an OAuth token. HighLevel's refresh tokens are
// single-use, so it refreshes at most once at a time (concurrent callers wait
// for that refresh), persists every new token through save before anyone
// uses it, and keeps an unsaved token in memory, retrying the save on the
// next call, rather than ever losing the only valid refresh token.
type tokenManager struct {
	cfg           *oauth2.Config
	hc            *http.Client
	save          func(*oauth2.Token) error
	refreshBefore time.Duration
	now           func() time.Time
	observer      Observer
	logger        *slog.Logger

	mu      sync.Mutex
	tok     *oauth2.Token
	margin  time.Duration // how long before expiry tok is refreshed
	stale   bool          // a 401 said tok's access token is no longer accepted
	unsaved bool          // tok came from a refresh and is not persisted yet
	dead    error         // the refresh token was rejected: only reconnecting helps
	flight  *flight       // the refresh or save in progress, if any
	// replaced are the last tokens tok replaced: an answer to a request
	// sent with one of them may still repeat it.
	replaced []string
}

// maxReplaced bounds the replaced tokens kept for scrubbing.
const maxReplaced = 8

func (m *tokenManager) secrets() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string{m.cfg.ClientSecret, m.tok.AccessToken, m.tok.RefreshToken}, m.replaced...)
}

// flight is one refresh or save; waiters read err after done is closed.
type flight struct {
	done chan struct{}
	err  error
}

func (m *tokenManager) needsRefreshLocked() bool {
	t := m.tok
	if m.stale || t.AccessToken == "" {
		return true
	}
	return !t.Expiry.IsZero() && !m.now().Add(m.margin).Before(t.Expiry)
}

func (m *tokenManager) token(ctx context.Context) (string, error) {
	for {
		m.mu.Lock()
		if f := m.flight; f != nil {
			m.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			if f.err != nil {
				// Do not repeat a refresh that just failed for every
				// waiter; the next call tries again.
				return "", f.err
			}
			continue
		}
		if m.dead != nil {
			err := m.dead
			m.mu.Unlock()
			return "", err
		}
		if !m.unsaved && !m.needsRefreshLocked() {
			at := m.tok.AccessToken
			m.mu.Unlock()
			return at, nil
		}
		f := &flight{done: make(chan struct{})}
		m.flight = f
		cur, unsaved := m.tok, m.unsaved
		m.mu.Unlock()

		if unsaved {
			f.err = m.persist(cur)
		} else {
			f.err = m.refresh(ctx, cur)
		}
		m.mu.Lock()
		m.flight = nil
		m.mu.Unlock()
		close(f.done)
		if f.err != nil {
			return "", f.err
		}
	}
}

// refresh trades cur's refresh token for a new token and persists it. The
// request runs to completion even if ctx is cancelled: once HighLevel has
// seen the refresh token it is spent, and the answer is the only way to a
// valid token.
func (m *tokenManager) refresh(ctx context.Context, cur *oauth2.Token) (err error) {
	const op = "ghl: refresh token"
	if cur.RefreshToken == "" {
		m.mu.Lock()
		m.dead = &APIError{Op: op, Method: routeToken.method, Route: routeToken.path, Status: http.StatusUnauthorized,
			Messages: []string{"no refresh token"}, Hint: "reconnect HighLevel in Connections", kind: ErrUnauthorized}
		err = m.dead
		m.mu.Unlock()
		return err
	}
	ct := &countingTransport{base: m.hc.Transport}
	hc := *m.hc
	hc.Transport = ct
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	rctx = context.WithValue(rctx, oauth2.HTTPClient, &hc)
	start := time.Now()
	defer func() {
		if m.observer != nil {
			m.observer(CallInfo{Op: op, Route: routeToken.String(), Method: routeToken.method, Status: int(ct.status.Load()), Attempts: 1,
				Latency: time.Since(start), BytesSent: ct.sent.Load(), BytesReceived: ct.recv.Load(), Err: err})
		}
	}()
	nt, err := m.cfg.TokenSource(rctx, &oauth2.Token{RefreshToken: cur.RefreshToken}).Token()
	if err != nil {
		scrub := secret.NewScrubber(m.secrets()...)
		err = tokenError(op, err, scrub, "HighLevel no longer accepts the saved refresh token: reconnect HighLevel in Connections")
		if errors.Is(err, ErrUnauthorized) {
			m.mu.Lock()
			m.dead = err
			m.mu.Unlock()
		}
		return err
	}
	margin := m.refreshBefore
	if nt.ExpiresIn > 0 {
		// Measure expiry on the client's clock, not oauth2's, and never
		// refresh a short-lived token on every call.
		life := time.Duration(nt.ExpiresIn) * time.Second
		nt.Expiry = m.now().Add(life)
		margin = min(margin, life/2)
	}
	m.mu.Lock()
	m.replaced = append(m.replaced, m.tok.AccessToken, m.tok.RefreshToken)
	if n := len(m.replaced); n > maxReplaced {
		m.replaced = append([]string(nil), m.replaced[n-maxReplaced:]...)
	}
	m.tok, m.stale, m.unsaved, m.margin = nt, false, true, margin
	m.mu.Unlock()
	m.logger.Info("ghl: access token refreshed", "expires", nt.Expiry)
	return m.persist(nt)
}

// persist saves t (the current token) through the callback.
func (m *tokenManager) persist(t *oauth2.Token) error {
	if err := m.save(t); err != nil {
		err = secret.NewScrubber(m.secrets()...).Error(err)
		m.logger.Warn("ghl: refreshed token not saved; kept in memory", "err", err)
		return &TokenNotSavedError{Err: err}
	}
	m.mu.Lock()
	if m.tok == t {
		m.unsaved = false
	}
	m.mu.Unlock()
	return nil
}

func (m *tokenManager) rejected(used string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tok.AccessToken == used {
		m.stale = true
	}
	return m.dead == nil
}

func (m *tokenManager) unauthorizedHint() string {
	return "HighLevel rejected the token even after a refresh: reconnect HighLevel in Connections"
}
