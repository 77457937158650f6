package connect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"parley/store/secrets"
	"parley/sync/activedemand"
	"parley/sync/ghl"
)

// Settings holds what is not secret: fyne.Preferences satisfies it. Secrets
// never go here.
type Settings interface {
	String(key string) string
	SetString(key, value string)
	RemoveValue(key string)
}

// Account is one of the two accounts Parley connects.
type Account int

// The accounts.
const (
	HighLevel Account = iota + 1
	ActiveDEMAND
)

func (a Account) String() string {
	switch a {
	case HighLevel:
		return "HighLevel"
	case ActiveDEMAND:
		return "ActiveDEMAND"
	}
	return "unknown account"
}

// Setting keys. They name non-secret values only.
const (
	keyClientID   = "connections.ghl.clientId"
	keyPort       = "connections.ghl.port"
	keyLocation   = "connections.ghl.locationId"
	keyScopes     = "connections.ghl.scopes"
	keyProviderID = "connections.ghl.providerId"
	keyRotateDays = "connections.rotateDays"
	keySavedAt    = "connections.savedAt."
)

// DefaultRotateDays is how old a credential may get before the screen
// suggests replacing it.
const DefaultRotateDays = 90

// Options configures a Service.
type Options struct {
	// Vault holds the secrets (the system keyring in the console).
	Vault secrets.Vault
	// Settings holds the rest (Fyne preferences in the console).
	Settings Settings
	// GHLBaseURL is HighLevel's API base (default ghl.DefaultBaseURL; the
	// sandbox's URL in demo mode).
	GHLBaseURL string
	// GHLAuthURL is the consent page (default ghl.DefaultAuthURL; the
	// sandbox's URL + ghltest.ConsentPath in demo mode).
	GHLAuthURL string
	// ADBaseURL is ActiveDEMAND's API base (default the live API).
	ADBaseURL string
	// ADRoutes is the ActiveDEMAND route table (default the built-in one).
	ADRoutes activedemand.Routes
	// ADRate is ActiveDEMAND's request rate a second (--ad-rate); 0 means
	// the client's cautious default, activedemand.DefaultRateLimit.
	ADRate float64
	// DefaultClientID fills the client id until the admin enters one
	// (demo mode: the sandbox app's).
	DefaultClientID string
	// HTTPClient sends the test calls and the token exchange (default the
	// clients' own).
	HTTPClient *http.Client
	// Open shows the consent page (default pkg/browser).
	Open func(url string) error
	// Timeout bounds the wait for the browser (default DefaultTimeout).
	Timeout time.Duration
	// Now is the clock for credential ages (default time.Now).
	Now func() time.Time
}

// Service is the Connections screen's way to the accounts.
type Service struct {
	o Options
}

// New returns a Service. Vault and Settings are required.
func New(o Options) (*Service, error) {
	if o.Vault == nil || o.Settings == nil {
		return nil, errors.New("connect: a vault and settings are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{o: o}, nil
}

// Credential is one saved secret as the screen shows it: whether it is
// there and since when. Its value never leaves the vault.
type Credential struct {
	Set     bool
	SavedAt time.Time // zero when not known (saved outside Parley)
}

// GHLStatus is what Parley holds for HighLevel.
type GHLStatus struct {
	ClientID     string
	ClientSecret Credential
	// OAuth is the token from "Connect with HighLevel".
	OAuth Credential
	// Expiry is when the OAuth access token expires (it is refreshed
	// before then).
	Expiry time.Time
	// PrivateToken is a Private Integration Token pasted instead.
	PrivateToken Credential
	LocationID   string
	Scopes       []string
	ProviderID   string
	Port         int
}

// Connected reports whether HighLevel has a usable credential.
func (g GHLStatus) Connected() bool { return g.OAuth.Set || g.PrivateToken.Set }

// ADStatus is what Parley holds for ActiveDEMAND.
type ADStatus struct {
	AppKey, APIKey, WebhookSecret Credential
}

// Connected reports whether both ActiveDEMAND keys are saved.
func (a ADStatus) Connected() bool { return a.AppKey.Set && a.APIKey.Set }

// Status is both accounts at once.
type Status struct {
	GHL GHLStatus
	AD  ADStatus
	// RotateAfter is the age at which a credential should be replaced.
	RotateAfter time.Duration
}

// Due reports whether c is older than the rotation reminder allows.
func (s Status) Due(c Credential, now time.Time) bool {
	return c.Set && !c.SavedAt.IsZero() && now.Sub(c.SavedAt) >= s.RotateAfter
}

// Status reads what is saved. It fails only when the vault cannot be read.
func (s *Service) Status(context.Context) (Status, error) {
	var st Status
	var err error
	cred := func(n secrets.Name) Credential {
		if err != nil {
			return Credential{}
		}
		_, gerr := s.o.Vault.Get(n)
		if gerr != nil {
			if !errors.Is(gerr, secrets.ErrNotFound) {
				err = gerr
			}
			return Credential{}
		}
		return Credential{Set: true, SavedAt: s.savedAt(n)}
	}
	st.GHL = GHLStatus{
		ClientID:     s.clientID(),
		ClientSecret: cred(secrets.GHLClientSecret),
		OAuth:        cred(secrets.GHLOAuthToken),
		PrivateToken: cred(secrets.GHLPrivateToken),
		LocationID:   s.o.Settings.String(keyLocation),
		Scopes:       strings.Fields(s.o.Settings.String(keyScopes)),
		ProviderID:   s.o.Settings.String(keyProviderID),
		Port:         s.Port(),
	}
	st.AD = ADStatus{AppKey: cred(secrets.ADApplicationKey), APIKey: cred(secrets.ADAPIKey), WebhookSecret: cred(secrets.ADWebhookSecret)}
	st.RotateAfter = time.Duration(s.RotateDays()) * 24 * time.Hour
	if err != nil {
		return Status{}, err
	}
	if st.GHL.OAuth.Set {
		if tok, terr := secrets.LoadToken(s.o.Vault, secrets.GHLOAuthToken); terr == nil {
			st.GHL.Expiry = tok.Expiry
		}
	}
	return st, nil
}

func (s *Service) clientID() string {
	if id := s.o.Settings.String(keyClientID); id != "" {
		return id
	}
	return s.o.DefaultClientID
}

func (s *Service) savedAt(n secrets.Name) time.Time {
	t, _ := time.Parse(time.RFC3339, s.o.Settings.String(keySavedAt+string(n)))
	return t
}

// set saves a secret and when it was saved.
func (s *Service) set(n secrets.Name, value string) error {
	if err := s.o.Vault.Set(n, value); err != nil {
		return err
	}
	s.o.Settings.SetString(keySavedAt+string(n), s.o.Now().UTC().Format(time.RFC3339))
	return nil
}

func (s *Service) remove(names ...secrets.Name) error {
	for _, n := range names {
		if err := s.o.Vault.Delete(n); err != nil {
			return err
		}
		s.o.Settings.RemoveValue(keySavedAt + string(n))
	}
	return nil
}

// required trims a typed value and refuses an empty one, naming the field.
func required(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", fmt.Errorf("the %s is empty: paste it and save again", field)
	}
	return v, nil
}

// SaveGHLApp saves the marketplace app's client id (a setting) and client
// secret (the vault). An empty secret keeps the saved one, so the id can be
// corrected without typing the secret again.
func (s *Service) SaveGHLApp(clientID, clientSecret string) error {
	id, err := required("client id", clientID)
	if err != nil {
		return err
	}
	if strings.TrimSpace(clientSecret) == "" {
		if _, err := s.o.Vault.Get(secrets.GHLClientSecret); err != nil {
			return fmt.Errorf("the client secret is empty: copy it from the app's page in the HighLevel marketplace (Advanced Settings > Auth) and save again")
		}
	} else if err := s.set(secrets.GHLClientSecret, strings.TrimSpace(clientSecret)); err != nil {
		return err
	}
	s.o.Settings.SetString(keyClientID, id)
	return nil
}

// Port is the redirect port in use.
func (s *Service) Port() int {
	if p, err := strconv.Atoi(s.o.Settings.String(keyPort)); err == nil && p > 0 {
		return p
	}
	return DefaultPort
}

// SetPort changes the redirect port; the admin must register the new
// redirect URI in the HighLevel app.
func (s *Service) SetPort(port int) error {
	if port < 1024 || port > 65535 {
		return fmt.Errorf("port %d cannot be used: choose a number from 1024 to 65535", port)
	}
	s.o.Settings.SetString(keyPort, strconv.Itoa(port))
	return nil
}

// RedirectURL is the redirect URI to register in the HighLevel app.
func (s *Service) RedirectURL() string { return RedirectURL(s.Port()) }

// RotateDays is the age in days after which the screen suggests replacing
// a credential.
func (s *Service) RotateDays() int {
	if d, err := strconv.Atoi(s.o.Settings.String(keyRotateDays)); err == nil && d > 0 {
		return d
	}
	return DefaultRotateDays
}

// SetRotateDays changes the rotation reminder.
func (s *Service) SetRotateDays(days int) error {
	if days < 1 || days > 3650 {
		return fmt.Errorf("%d days cannot be used: choose from 1 to 3650", days)
	}
	s.o.Settings.SetString(keyRotateDays, strconv.Itoa(days))
	return nil
}

func (s *Service) oauthApp() (ghl.OAuthApp, error) {
	id := s.clientID()
	if id == "" {
		return ghl.OAuthApp{}, errors.New("no client id: enter the HighLevel app's client id and secret first")
	}
	sec, err := s.o.Vault.Get(secrets.GHLClientSecret)
	if errors.Is(err, secrets.ErrNotFound) {
		return ghl.OAuthApp{}, errors.New("no client secret: enter the HighLevel app's client id and secret first")
	}
	if err != nil {
		return ghl.OAuthApp{}, err
	}
	return ghl.OAuthApp{ClientID: id, ClientSecret: ghl.Secret(sec), BaseURL: s.o.GHLBaseURL, AuthURL: s.o.GHLAuthURL, HTTPClient: s.o.HTTPClient}, nil
}

// ConnectGHL runs the OAuth flow in the system browser and saves the token.
// readWrite asks for the scopes the sync needs to write; otherwise Parley
// can only read. A saved private integration token is removed on success:
// one HighLevel credential at a time.
func (s *Service) ConnectGHL(ctx context.Context, readWrite bool) (GHLStatus, error) {
	app, err := s.oauthApp()
	if err != nil {
		return GHLStatus{}, err
	}
	scopes := ReadOnlyScopes
	if readWrite {
		scopes = ReadWriteScopes
	}
	flow := OAuthFlow{App: app, Port: s.Port(), Timeout: s.o.Timeout, Open: s.o.Open}
	inst, err := flow.Run(ctx, scopes)
	if err != nil {
		return GHLStatus{}, err
	}
	if err := secrets.SaveToken(s.o.Vault, secrets.GHLOAuthToken, inst.Token); err != nil {
		return GHLStatus{}, fmt.Errorf("HighLevel connected, but the token could not be saved: %w", err)
	}
	s.o.Settings.SetString(keySavedAt+string(secrets.GHLOAuthToken), s.o.Now().UTC().Format(time.RFC3339))
	s.o.Settings.SetString(keyLocation, inst.LocationID)
	s.o.Settings.SetString(keyScopes, inst.Scope)
	if err := s.remove(secrets.GHLPrivateToken); err != nil {
		return GHLStatus{}, err
	}
	st, err := s.Status(ctx)
	return st.GHL, err
}

// SaveGHLPrivateToken saves a Private Integration Token for a location,
// replacing an OAuth connection.
func (s *Service) SaveGHLPrivateToken(token, locationID string) error {
	tok, err := required("private integration token", token)
	if err != nil {
		return err
	}
	loc, err := required("location id", locationID)
	if err != nil {
		return err
	}
	if err := s.set(secrets.GHLPrivateToken, tok); err != nil {
		return err
	}
	s.o.Settings.SetString(keyLocation, loc)
	s.o.Settings.RemoveValue(keyScopes)
	return s.remove(secrets.GHLOAuthToken)
}

// SaveProviderID sets the conversation provider id records are made under.
func (s *Service) SaveProviderID(id string) error {
	v, err := required("conversation provider id", id)
	if err != nil {
		return err
	}
	s.o.Settings.SetString(keyProviderID, v)
	return nil
}

// SaveAD saves ActiveDEMAND's application key and account API key.
func (s *Service) SaveAD(appKey, apiKey string) error {
	app, err := required("application key", appKey)
	if err != nil {
		return err
	}
	api, err := required("account API key", apiKey)
	if err != nil {
		return err
	}
	if err := s.set(secrets.ADApplicationKey, app); err != nil {
		return err
	}
	return s.set(secrets.ADAPIKey, api)
}

// SaveADWebhookSecret saves the secret ActiveDEMAND signs webhooks with.
func (s *Service) SaveADWebhookSecret(secret string) error {
	v, err := required("webhook secret", secret)
	if err != nil {
		return err
	}
	return s.set(secrets.ADWebhookSecret, v)
}

// Disconnect removes an account's credentials from the vault. For
// HighLevel that is the token (OAuth or private); the app's client id and
// secret stay, so connecting again is one click.
func (s *Service) Disconnect(a Account) error {
	switch a {
	case HighLevel:
		if err := s.remove(secrets.GHLOAuthToken, secrets.GHLPrivateToken); err != nil {
			return err
		}
		s.o.Settings.RemoveValue(keyLocation)
		s.o.Settings.RemoveValue(keyScopes)
		return nil
	case ActiveDEMAND:
		return s.remove(secrets.ADApplicationKey, secrets.ADAPIKey, secrets.ADWebhookSecret)
	}
	return fmt.Errorf("disconnect: %v", a)
}

// TestResult is what a test call found.
type TestResult struct {
	// Account names what the credentials reach.
	Account string
	Scopes  []string
	Latency time.Duration
	// Detail is one more line of what was read.
	Detail string
}

// testTimeout bounds a test call, retries included: the admin is waiting.
const testTimeout = 30 * time.Second

// Test makes one read call with the saved credentials.
func (s *Service) Test(ctx context.Context, a Account) (TestResult, error) {
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()
	switch a {
	case HighLevel:
		return s.testGHL(ctx)
	case ActiveDEMAND:
		return s.testAD(ctx)
	}
	return TestResult{}, fmt.Errorf("test: %v", a)
}

func (s *Service) testGHL(ctx context.Context) (TestResult, error) {
	cfg, err := s.GHLConfig()
	if errors.Is(err, secrets.ErrNotFound) {
		return TestResult{}, errors.New("HighLevel is not connected: click Connect with HighLevel, or paste a private integration token")
	}
	if err != nil {
		return TestResult{}, err
	}
	cfg.Retry = ghl.RetryPolicy{MaxAttempts: 2}
	c, err := ghl.New(cfg)
	if err != nil {
		return TestResult{}, err
	}
	defer c.CloseIdleConnections()
	start := time.Now()
	page, err := c.SearchConversationsPage(ctx, ghl.SearchConversationsRequest{Limit: 1})
	took := time.Since(start)
	if err != nil {
		return TestResult{}, fmt.Errorf("HighLevel test failed: %w", err)
	}
	return TestResult{
		Account: "location " + c.LocationID(),
		Scopes:  strings.Fields(s.o.Settings.String(keyScopes)),
		Latency: took,
		Detail:  fmt.Sprintf("%d conversations in the location", page.Total),
	}, nil
}

func (s *Service) testAD(ctx context.Context) (TestResult, error) {
	cfg, err := s.ADConfig()
	if errors.Is(err, secrets.ErrNotFound) {
		return TestResult{}, errors.New("ActiveDEMAND is not connected: paste the application key and the account API key, then save")
	}
	if err != nil {
		return TestResult{}, err
	}
	cfg.Retry = activedemand.RetryPolicy{MaxAttempts: 2}
	c, err := activedemand.New(cfg)
	if err != nil {
		return TestResult{}, err
	}
	start := time.Now()
	fields, err := c.ContactFields(ctx)
	took := time.Since(start)
	if err != nil {
		return TestResult{}, fmt.Errorf("ActiveDEMAND test failed: %w", err)
	}
	return TestResult{Account: "the account of the saved API key", Latency: took,
		Detail: fmt.Sprintf("%d contact fields readable", len(fields))}, nil
}
