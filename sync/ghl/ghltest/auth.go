package ghltest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The scopes of the operations the sandbox implements. A token issued
// without scopes gets all of them.
const (
	ScopeConversationsRead  = "conversations.readonly"
	ScopeConversationsWrite = "conversations.write"
	ScopeMessagesRead       = "conversations/message.readonly"
	ScopeMessagesWrite      = "conversations/message.write"
	ScopeContactsRead       = "contacts.readonly"
	ScopeContactsWrite      = "contacts.write"
)

// AllScopes lists every scope the sandbox knows.
func AllScopes() []string {
	return []string{ScopeConversationsRead, ScopeConversationsWrite, ScopeMessagesRead, ScopeMessagesWrite, ScopeContactsRead, ScopeContactsWrite}
}

// Token is what an OAuth install or refresh hands out. Its String, GoString
// and LogValue redact the secrets, so printing or logging one is safe.
type Token struct {
	AccessToken, RefreshToken string
	ExpiresIn                 int    // seconds
	Scope                     string // space-separated
	UserType                  string // "Location"
	LocationID, CompanyID     string
}

// String describes the token without its secrets.
func (t Token) String() string {
	return fmt.Sprintf("ghltest.Token{AccessToken:%s RefreshToken:%s ExpiresIn:%d Scope:%q UserType:%s LocationID:%s CompanyID:%s}",
		redact(t.AccessToken), redact(t.RefreshToken), t.ExpiresIn, t.Scope, t.UserType, t.LocationID, t.CompanyID)
}

// GoString is String, so %#v redacts too.
func (t Token) GoString() string { return t.String() }

// LogValue redacts the secrets in slog output.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_token", redact(t.AccessToken)),
		slog.String("refresh_token", redact(t.RefreshToken)),
		slog.Int("expires_in", t.ExpiresIn),
		slog.String("scope", t.Scope),
		slog.String("location_id", t.LocationID),
	)
}

func redact(secret string) string {
	if secret == "" {
		return `""`
	}
	return "[redacted]"
}

type tokenKind int

const (
	kindAccess tokenKind = iota + 1
	kindRefresh
	kindPrivate
)

// tokenInfo is what the sandbox knows about one issued token.
type tokenInfo struct {
	kind       tokenKind
	scopes     []string
	locationID string
	companyID  string
	userID     string
	expires    time.Time // zero: never
	expired    bool      // ExpireAccessTokens
	used       bool      // refresh tokens are single-use
}

// missingScope returns the first required scope the token lacks, or "".
func (t *tokenInfo) missingScope(required []string) string {
	for _, r := range required {
		if !slices.Contains(t.scopes, r) {
			return r
		}
	}
	return ""
}

type codeInfo struct {
	scopes []string
	used   bool
	// redirectURI is where the consent page sent the code; an exchange
	// that names another is refused, as RFC 6749 §4.1.3 asks.
	redirectURI string
}

func normScopes(scopes []string) []string {
	if len(scopes) == 0 {
		return AllScopes()
	}
	return slices.Clone(scopes)
}

// randomJWT looks like a JWT (three base64url segments, a JSON header and
// payload) but carries nothing but randomness: clients must treat tokens as
// opaque.
func randomJWT(kind string) string {
	enc := base64.RawURLEncoding
	nonce := make([]byte, 18)
	sig := make([]byte, 32)
	_, _ = rand.Read(nonce)
	_, _ = rand.Read(sig)
	payload := fmt.Sprintf(`{"kind":%q,"jti":%q}`, kind, enc.EncodeToString(nonce))
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(sig)
}

// IssueToken issues an access and refresh token for the sandbox location, as
// if an OAuth install had just happened (no HTTP).
func (s *Server) IssueToken(scopes ...string) Token {
	return s.IssueTokenForLocation(s.opts.LocationID, scopes...)
}

// IssueTokenForLocation is IssueToken for another location (the sandbox
// holds one location's data; such a token is refused there with 403).
func (s *Server) IssueTokenForLocation(locationID string, scopes ...string) Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueLocked(locationID, normScopes(scopes))
}

func (s *Server) issueLocked(locationID string, scopes []string) Token {
	now := s.now()
	access, refresh := randomJWT("access"), randomJWT("refresh")
	user := s.st.userID
	s.st.tokens[access] = &tokenInfo{kind: kindAccess, scopes: scopes, locationID: locationID, companyID: s.opts.CompanyID, userID: user, expires: now.Add(s.opts.AccessTokenTTL)}
	s.st.tokens[refresh] = &tokenInfo{kind: kindRefresh, scopes: scopes, locationID: locationID, companyID: s.opts.CompanyID, userID: user}
	return Token{
		AccessToken:  access,
		RefreshToken: refresh,
		// GHL answers one second less than the lifetime (86399 for a day).
		ExpiresIn:  int(s.opts.AccessTokenTTL/time.Second) - 1,
		Scope:      strings.Join(scopes, " "),
		UserType:   "Location",
		LocationID: locationID,
		CompanyID:  s.opts.CompanyID,
	}
}

// PrivateToken issues a Private Integration Token ("pit-..."): it never
// expires and cannot be refreshed.
func (s *Server) PrivateToken(scopes ...string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	tok := "pit-" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.tokens[tok] = &tokenInfo{kind: kindPrivate, scopes: normScopes(scopes), locationID: s.opts.LocationID, companyID: s.opts.CompanyID, userID: s.st.userID}
	return tok
}

// AuthorizationCode issues a one-time code for POST /oauth/token with
// grant_type=authorization_code.
func (s *Server) AuthorizationCode(scopes ...string) string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	code := hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.codes[code] = &codeInfo{scopes: normScopes(scopes)}
	return code
}

// ExpireAccessTokens makes every access token issued so far expired; refresh
// tokens stay valid.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.st.tokens {
		if t.kind == kindAccess {
			t.expired = true
		}
	}
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// lookupToken returns what is known about the request's token, valid or not.
func (s *Server) lookupToken(r *http.Request) *tokenInfo {
	tok, ok := bearer(r)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.tokens[tok]
	if t == nil || t.kind == kindRefresh {
		return nil
	}
	cp := *t
	return &cp
}

// authenticate returns the request's valid token, or GHL's 401 status and
// message.
func (s *Server) authenticate(r *http.Request) (*tokenInfo, int, string) {
	tok, ok := bearer(r)
	if !ok {
		return nil, http.StatusUnauthorized, msgNoToken
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.tokens[tok]
	switch {
	case t == nil, t.kind == kindRefresh:
		return nil, http.StatusUnauthorized, msgInvalidJWT
	case t.kind == kindAccess && (t.expired || !now.Before(t.expires)):
		return nil, http.StatusUnauthorized, msgInvalidJWT
	}
	cp := *t
	return &cp, 0, ""
}

// oauthError is the OAuth 2.0 error body (RFC 6749 §5.2) with GHL's
// statusCode and message beside it, so both OAuth libraries and GHL-style
// decoders understand it.
type oauthError struct {
	StatusCode  int    `json:"statusCode"`
	Message     string `json:"message"`
	Err         string `json:"error"`
	Description string `json:"error_description"`
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, oauthError{StatusCode: status, Message: desc, Err: code, Description: desc})
}

// tokenResponse is GetAccessCodeSuccessfulResponseDto as the live API fills it.
type tokenResponse struct {
	AccessToken        string `json:"access_token"`
	TokenType          string `json:"token_type"`
	ExpiresIn          int    `json:"expires_in"`
	RefreshToken       string `json:"refresh_token"`
	Scope              string `json:"scope"`
	UserType           string `json:"userType"`
	LocationID         string `json:"locationId"`
	CompanyID          string `json:"companyId"`
	UserID             string `json:"userId"`
	IsBulkInstallation bool   `json:"isBulkInstallation"`
}

// hOAuthToken is POST /oauth/token: the authorization-code and refresh
// grants. Refresh tokens are single-use: a used one is an invalid grant.
func (s *Server) hOAuthToken(c *reqCtx) {
	form, err := url.ParseQuery(string(c.body))
	if err != nil {
		writeOAuthError(c.w, http.StatusBadRequest, "invalid_request", "The request body is not form-encoded.")
		return
	}
	if form.Get("client_id") != s.opts.ClientID || form.Get("client_secret") != s.opts.ClientSecret {
		writeOAuthError(c.w, http.StatusUnauthorized, "invalid_client", "Client authentication failed: check the app's client id and secret.")
		return
	}
	tok, code, desc := s.grant(form)
	if code != "" {
		writeOAuthError(c.w, http.StatusBadRequest, code, desc)
		return
	}
	c.w.Header().Set("Cache-Control", "no-store")
	writeJSON(c.w, http.StatusOK, tokenResponse{
		AccessToken:  tok.AccessToken,
		TokenType:    "Bearer",
		ExpiresIn:    tok.ExpiresIn,
		RefreshToken: tok.RefreshToken,
		Scope:        tok.Scope,
		UserType:     tok.UserType,
		LocationID:   tok.LocationID,
		CompanyID:    tok.CompanyID,
		UserID:       s.st.userID,
	})
}

// grant issues the token a grant asks for, or returns the OAuth error code
// and description.
func (s *Server) grant(form url.Values) (Token, string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch form.Get("grant_type") {
	case "authorization_code":
		if ut := form.Get("user_type"); ut != "" && ut != "Location" {
			return Token{}, "invalid_request", "The sandbox issues Location tokens only: send user_type=Location."
		}
		code := s.st.codes[form.Get("code")]
		if code == nil || code.used {
			return Token{}, "invalid_grant", "Invalid grant: the authorization code is invalid, expired or already used."
		}
		if ru := form.Get("redirect_uri"); ru != "" && code.redirectURI != "" && ru != code.redirectURI {
			return Token{}, "invalid_grant", "Invalid grant: redirect_uri does not match the one the code was issued to."
		}
		code.used = true
		return s.issueLocked(s.opts.LocationID, code.scopes), "", ""
	case "refresh_token":
		rt := s.st.tokens[form.Get("refresh_token")]
		if rt == nil || rt.kind != kindRefresh || rt.used {
			return Token{}, "invalid_grant", "Invalid grant: refresh token is invalid or was already used; reconnect the app."
		}
		rt.used = true
		return s.issueLocked(rt.locationID, rt.scopes), "", ""
	}
	return Token{}, "unsupported_grant_type", "The sandbox supports the authorization_code and refresh_token grants."
}
