// Package secrets keeps Parley's credentials (API keys, OAuth tokens, client
// and webhook secrets) in the operating system's keyring, one entry per
// credential under the service name "parley". Nothing here ever writes a
// secret to disk, to SQLite or into an error message.
//
// A headless sync on a server often has no keyring at all, so the package
// also reads credentials from environment variables (see [Env]) and lets the
// two be chained (see [Chain]): keyring first, environment second.
package secrets

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"
)

// Service is the keyring service name every Parley credential is filed under,
// so that an admin can find (and delete) them all in the keyring's own UI.
const Service = "parley"

// Name identifies one credential. Each is a separate keyring entry, so that
// revoking one (say, the AD API key) never touches the others.
type Name string

// The credentials Parley knows. The strings are the keyring entry names and,
// through [EnvVar], the names of the environment variables.
const (
	ADApplicationKey  Name = "activedemand.application-key"
	ADAPIKey          Name = "activedemand.api-key"
	ADWebhookSecret   Name = "activedemand.webhook-secret"
	GHLClientSecret   Name = "ghl.oauth-client-secret"       // #nosec G101 -- the keyring entry's name, not a credential
	GHLOAuthToken     Name = "ghl.oauth-token"               // #nosec G101 -- the keyring entry's name, not a credential
	GHLPrivateToken   Name = "ghl.private-integration-token" // #nosec G101 -- the keyring entry's name, not a credential
	probeName         Name = "parley.keyring-probe"
	envPrefix              = "PARLEY_"
	unavailableAdvice      = "start a Secret Service keyring (GNOME Keyring, KWallet, or KeePassXC with its Secret Service integration) and unlock it; a headless sync can read credentials from environment variables instead"
)

// Known lists every credential, in the order the Connections screen shows them.
var Known = []Name{ADApplicationKey, ADAPIKey, ADWebhookSecret, GHLClientSecret, GHLOAuthToken, GHLPrivateToken}

var (
	// ErrNotFound means the credential has not been stored yet.
	ErrNotFound = errors.New("credential not set")
	// ErrUnavailable means no keyring could be reached at all; it is what an
	// [*UnavailableError] matches with errors.Is.
	ErrUnavailable = errors.New("no system keyring available")
	// ErrReadOnly is returned when writing to a source that cannot be written,
	// such as the environment.
	ErrReadOnly = errors.New("credential source is read-only")
)

// UnavailableError reports that the keyring could not be used, with what to do
// about it. It carries the keyring's own error (which never contains a secret
// value) for the log.
type UnavailableError struct {
	Op   string
	Name Name
	Err  error
}

func (e *UnavailableError) Error() string {
	if e.Name == probeName {
		// The probe's entry is Parley's own; naming it, or an environment
		// variable for it, would only puzzle the reader.
		return fmt.Sprintf("the system keyring cannot be used: %v: %s (for example %s)",
			e.Err, unavailableAdvice, EnvVar(ADAPIKey))
	}
	return fmt.Sprintf("%s %s in the system keyring: %v: %s (for example %s)",
		e.Op, e.Name, e.Err, unavailableAdvice, EnvVar(e.Name))
}

// Unwrap lets callers test for [ErrUnavailable] as well as the cause.
func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// Vault is where credentials are read and written. The engine and the UI
// depend on this interface, never on go-keyring directly, so tests and the
// headless sync can swap the source.
type Vault interface {
	Get(name Name) (string, error)
	Set(name Name, value string) error
	Delete(name Name) error
}

// Keyring is the operating system's keyring (Secret Service on Linux,
// Keychain on macOS, Credential Manager on Windows).
type Keyring struct{}

// Get returns the stored credential, [ErrNotFound] if there is none, or an
// [*UnavailableError] if the keyring cannot be reached.
func (Keyring) Get(name Name) (string, error) {
	if err := validName(name); err != nil {
		return "", err
	}
	v, err := keyring.Get(Service, string(name))
	if err != nil {
		return "", classify("read", name, err)
	}
	return v, nil
}

// Set stores or replaces a credential. Empty values are refused: an empty
// secret is always a mistake, and deleting is what [Keyring.Delete] is for.
func (Keyring) Set(name Name, value string) error {
	if err := validName(name); err != nil {
		return err
	}
	if value == "" {
		return fmt.Errorf("store %s: the value is empty; use Delete to remove a credential", name)
	}
	if err := keyring.Set(Service, string(name), value); err != nil {
		return classify("store", name, err)
	}
	return nil
}

// Delete removes a credential. Deleting one that is not there is not an
// error, so "disconnect" can be repeated safely.
func (Keyring) Delete(name Name) error {
	if err := validName(name); err != nil {
		return err
	}
	if err := keyring.Delete(Service, string(name)); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return classify("delete", name, err)
	}
	return nil
}

// Probe reports whether the keyring can be used, without reading or writing
// any real credential. It returns nil or an [*UnavailableError].
func (k Keyring) Probe() error {
	_, err := k.Get(probeName)
	if err == nil || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func classify(op string, name Name, err error) error {
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return fmt.Errorf("%s %s: %w", op, name, ErrNotFound)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("%s %s: the value is too large for this keyring: %w", op, name, err)
	default:
		return &UnavailableError{Op: op, Name: name, Err: err}
	}
}

func validName(name Name) error {
	if name == "" || strings.ContainsAny(string(name), " \t\r\n") {
		return fmt.Errorf("invalid credential name %q", string(name))
	}
	return nil
}

// EnvVar is the environment variable [Env] reads a credential from:
// PARLEY_ followed by the name in upper case with dots and dashes as
// underscores, e.g. PARLEY_ACTIVEDEMAND_API_KEY.
func EnvVar(name Name) string {
	return envPrefix + strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToUpper(string(name)))
}

// Env reads credentials from environment variables, for a headless sync on a
// machine without a keyring. It cannot store anything.
type Env struct {
	// Lookup defaults to os.LookupEnv; tests set their own.
	Lookup func(string) (string, bool)
}

// Get returns the variable's value, or [ErrNotFound] when it is unset or empty.
func (e Env) Get(name Name) (string, error) {
	lookup := e.Lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if v, ok := lookup(EnvVar(name)); ok && v != "" {
		return v, nil
	}
	return "", fmt.Errorf("read %s from $%s: %w", name, EnvVar(name), ErrNotFound)
}

// Set always fails: the environment is set by whoever starts Parley.
func (Env) Set(name Name, _ string) error {
	return fmt.Errorf("store %s: %w (set $%s where the sync is started instead)", name, ErrReadOnly, EnvVar(name))
}

// Delete always fails, for the same reason as [Env.Set].
func (Env) Delete(name Name) error {
	return fmt.Errorf("delete %s: %w (unset $%s where the sync is started instead)", name, ErrReadOnly, EnvVar(name))
}

// Chain tries each vault in turn. Get returns the first value found; when
// none has it, it returns the first error that is not [ErrNotFound] (so an
// unreachable keyring is reported, not hidden behind "not set"). Set and
// Delete go to the first vault that is not read-only.
type Chain []Vault

// Get returns the credential from the first vault that has it.
func (c Chain) Get(name Name) (string, error) {
	var firstErr error
	for _, v := range c {
		val, err := v.Get(name)
		if err == nil {
			return val, nil
		}
		if !errors.Is(err, ErrNotFound) && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return "", firstErr
	}
	return "", fmt.Errorf("read %s: %w", name, ErrNotFound)
}

// Set stores the credential in the first writable vault.
func (c Chain) Set(name Name, value string) error {
	return c.write(name, func(v Vault) error { return v.Set(name, value) })
}

// Delete removes the credential from the first writable vault.
func (c Chain) Delete(name Name) error {
	return c.write(name, func(v Vault) error { return v.Delete(name) })
}

func (c Chain) write(name Name, op func(Vault) error) error {
	for _, v := range c {
		err := op(v)
		if errors.Is(err, ErrReadOnly) {
			continue
		}
		return err
	}
	return fmt.Errorf("write %s: %w", name, ErrReadOnly)
}

// SaveToken stores an OAuth token (access token, refresh token and expiry) as
// one entry, so that a refreshed pair is replaced atomically: GHL refresh
// tokens are single-use, and a half-written pair would lock the user out.
func SaveToken(v Vault, name Name, tok *oauth2.Token) error {
	if tok == nil || tok.AccessToken == "" {
		return fmt.Errorf("store %s: the token has no access token", name)
	}
	raw, err := json.Marshal(tok) // #nosec G117 -- the token is encoded only to be stored in the keyring entry, below
	if err != nil {
		return fmt.Errorf("store %s: encode token: %w", name, err)
	}
	return v.Set(name, string(raw))
}

// LoadToken reads a token stored by [SaveToken]. A damaged entry is reported
// without echoing its content, since it may hold a live token.
func LoadToken(v Vault, name Name) (*oauth2.Token, error) {
	raw, err := v.Get(name)
	if err != nil {
		return nil, err
	}
	var tok oauth2.Token
	if err := json.Unmarshal([]byte(raw), &tok); err != nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("read %s: the stored token is damaged (%d bytes that are not a token); reconnect the account to replace it", name, len(raw))
	}
	return &tok, nil
}

// Memory keeps credentials in memory only, for demo mode (the sandboxes'
// credentials must never land in the user's keyring next to real ones) and
// for tests. The zero value is empty and ready.
type Memory struct {
	mu sync.Mutex
	m  map[Name]string
}

// Get returns the credential or [ErrNotFound].
func (v *Memory) Get(name Name) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.m[name]; ok {
		return s, nil
	}
	return "", fmt.Errorf("read %s: %w", name, ErrNotFound)
}

// Set stores the credential; an empty value is refused, as [Keyring.Set] does.
func (v *Memory) Set(name Name, value string) error {
	if err := validName(name); err != nil {
		return err
	}
	if value == "" {
		return fmt.Errorf("store %s: the value is empty; use Delete to remove a credential", name)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = map[Name]string{}
	}
	v.m[name] = value
	return nil
}

// Delete removes the credential; deleting a missing one is not an error.
func (v *Memory) Delete(name Name) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, name)
	return nil
}

// AccountsConnected reports whether v holds what a sync needs for both
// accounts: the two ActiveDEMAND keys and a HighLevel token of either kind.
// Until it does, Parley runs in demo mode. An unreachable keyring counts as
// not connected: the console says why on its Connections screen.
func AccountsConnected(v Vault) bool {
	has := func(n Name) bool { _, err := v.Get(n); return err == nil }
	return has(ADAPIKey) && has(ADApplicationKey) &&
		(has(GHLOAuthToken) || has(GHLPrivateToken))
}
