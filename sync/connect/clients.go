package connect

import (
	"errors"
	"fmt"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"parley/store/secrets"
	"parley/sync/activedemand"
	"parley/sync/ghl"
)

// MissingError says which saved credential or setting an account lacks, so
// that a headless run can name the environment variable to set.
type MissingError struct {
	Account Account
	// What names what is missing, for a person.
	What string
	// Vars are the environment variables any one of which would do; empty
	// for a setting that is not a secret.
	Vars []string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s is not connected: no %s", e.Account, e.What)
}

// Unwrap lets errors.Is(err, secrets.ErrNotFound) hold.
func (e *MissingError) Unwrap() error { return secrets.ErrNotFound }

func missing(a Account, what string, names ...secrets.Name) error {
	e := &MissingError{Account: a, What: what}
	for _, n := range names {
		e.Vars = append(e.Vars, secrets.EnvVar(n))
	}
	return e
}

// GHLConfig is the HighLevel client configuration the saved credentials
// make: the private integration token when there is one, otherwise the
// OAuth token with its app, refreshed tokens saved back to the vault. The
// sync and the screen's test call both start from it.
func (s *Service) GHLConfig() (ghl.Config, error) {
	cfg := ghl.Config{BaseURL: s.o.GHLBaseURL, LocationID: s.o.Settings.String(keyLocation), HTTPClient: s.o.HTTPClient}
	pit, err := s.o.Vault.Get(secrets.GHLPrivateToken)
	switch {
	case err == nil:
		cfg.PrivateToken = ghl.Secret(pit)
		return cfg, nil
	case !errors.Is(err, secrets.ErrNotFound):
		return ghl.Config{}, err
	}
	tok, err := secrets.LoadToken(s.o.Vault, secrets.GHLOAuthToken)
	if errors.Is(err, secrets.ErrNotFound) {
		return ghl.Config{}, missing(HighLevel, "private integration token or OAuth token", secrets.GHLPrivateToken, secrets.GHLOAuthToken)
	}
	if err != nil {
		return ghl.Config{}, err
	}
	app, err := s.oauthApp()
	if err != nil {
		return ghl.Config{}, err
	}
	cfg.OAuth, cfg.Token = &app, tok
	cfg.SaveToken = func(t *oauth2.Token) error { return secrets.SaveToken(s.o.Vault, secrets.GHLOAuthToken, t) }
	return cfg, nil
}

// ADConfig is the ActiveDEMAND client configuration the saved keys make.
func (s *Service) ADConfig() (activedemand.Config, error) {
	app, err := s.o.Vault.Get(secrets.ADApplicationKey)
	if errors.Is(err, secrets.ErrNotFound) {
		return activedemand.Config{}, missing(ActiveDEMAND, "application key", secrets.ADApplicationKey)
	}
	if err != nil {
		return activedemand.Config{}, err
	}
	api, err := s.o.Vault.Get(secrets.ADAPIKey)
	if errors.Is(err, secrets.ErrNotFound) {
		return activedemand.Config{}, missing(ActiveDEMAND, "account API key", secrets.ADAPIKey)
	}
	if err != nil {
		return activedemand.Config{}, err
	}
	return activedemand.Config{BaseURL: s.o.ADBaseURL, AppKey: activedemand.Secret(app), APIKey: activedemand.Secret(api),
		HTTPClient: s.o.HTTPClient, Routes: s.o.ADRoutes, RateLimit: rate.Limit(s.o.ADRate)}, nil
}

// ProviderID is the saved conversation provider id records are made under.
func (s *Service) ProviderID() string { return s.o.Settings.String(keyProviderID) }

// LocationID is the saved HighLevel location id.
func (s *Service) LocationID() string { return s.o.Settings.String(keyLocation) }

// Setting keys a headless run fills from its flags.
const (
	SettingLocation = keyLocation
	SettingProvider = keyProviderID
)
