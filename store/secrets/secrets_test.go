package secrets

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"
)

// These tests use go-keyring's in-memory provider; the real Secret Service is
// exercised by the separate realkeyring package.

func TestKeyringRoundTrip(t *testing.T) {
	keyring.MockInit()
	var k Keyring
	if _, err := k.Get(ADAPIKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set: got %v, want ErrNotFound", err)
	}
	if err := k.Set(ADAPIKey, "s3cret-value"); err != nil {
		t.Fatal(err)
	}
	got, err := k.Get(ADAPIKey)
	if err != nil || got != "s3cret-value" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := k.Delete(ADAPIKey); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete(ADAPIKey); err != nil {
		t.Fatalf("second Delete should be a no-op, got %v", err)
	}
	if _, err := k.Get(ADAPIKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: got %v", err)
	}
}

func TestKeyringRefusesBadInput(t *testing.T) {
	keyring.MockInit()
	var k Keyring
	tests := []struct {
		name  Name
		value string
	}{
		{"", "x"},
		{"has space", "x"},
		{ADAPIKey, ""},
	}
	for _, tc := range tests {
		if err := k.Set(tc.name, tc.value); err == nil {
			t.Errorf("Set(%q, %q) succeeded, want an error", tc.name, tc.value)
		}
	}
}

func TestUnavailableKeyringSaysWhatToDo(t *testing.T) {
	cause := errors.New("The name org.freedesktop.secrets was not provided by any .service files")
	keyring.MockInitWithError(cause)
	var k Keyring
	err := k.Set(GHLPrivateToken, "pit-abcdef123456")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, cause) {
		t.Fatalf("got %v, want ErrUnavailable wrapping the cause", err)
	}
	msg := err.Error()
	for _, want := range []string{"Secret Service", "PARLEY_GHL_PRIVATE_INTEGRATION_TOKEN", string(GHLPrivateToken)} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "pit-abcdef123456") {
		t.Fatalf("error leaks the secret: %q", msg)
	}
	err = k.Probe()
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Probe = %v, want ErrUnavailable", err)
	}
	// The probe's own entry is an implementation detail: the message names
	// the keyring and a real credential's variable instead.
	if msg := err.Error(); strings.Contains(msg, string(probeName)) || !strings.Contains(msg, "PARLEY_ACTIVEDEMAND_API_KEY") {
		t.Errorf("Probe's message %q names the probe entry or no real variable", msg)
	}
}

func TestProbeOnWorkingKeyring(t *testing.T) {
	keyring.MockInit()
	if err := (Keyring{}).Probe(); err != nil {
		t.Fatalf("Probe = %v", err)
	}
}

func TestEnvVarNames(t *testing.T) {
	tests := map[Name]string{
		ADAPIKey:         "PARLEY_ACTIVEDEMAND_API_KEY",
		ADApplicationKey: "PARLEY_ACTIVEDEMAND_APPLICATION_KEY",
		GHLOAuthToken:    "PARLEY_GHL_OAUTH_TOKEN",
	}
	for name, want := range tests {
		if got := EnvVar(name); got != want {
			t.Errorf("EnvVar(%s) = %s, want %s", name, got, want)
		}
	}
}

func fakeEnv(vars map[string]string) Env {
	return Env{Lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
}

func TestEnvIsReadOnly(t *testing.T) {
	e := fakeEnv(map[string]string{"PARLEY_ACTIVEDEMAND_API_KEY": "from-env", "PARLEY_GHL_PRIVATE_INTEGRATION_TOKEN": ""})
	if v, err := e.Get(ADAPIKey); err != nil || v != "from-env" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if _, err := e.Get(GHLPrivateToken); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty variable should count as unset, got %v", err)
	}
	if err := e.Set(ADAPIKey, "x"); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Set = %v, want ErrReadOnly", err)
	}
	if err := e.Delete(ADAPIKey); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Delete = %v, want ErrReadOnly", err)
	}
}

func TestChain(t *testing.T) {
	keyring.MockInit()
	env := fakeEnv(map[string]string{"PARLEY_ACTIVEDEMAND_API_KEY": "from-env", "PARLEY_GHL_OAUTH_TOKEN": "env-token"})
	c := Chain{Keyring{}, env}

	if v, err := c.Get(ADAPIKey); err != nil || v != "from-env" {
		t.Fatalf("falls back to env: got %q, %v", v, err)
	}
	if err := c.Set(ADAPIKey, "from-keyring"); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Get(ADAPIKey); v != "from-keyring" {
		t.Fatalf("keyring should win over env, got %q", v)
	}
	if _, err := c.Get(ADWebhookSecret); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing everywhere: got %v", err)
	}

	keyring.MockInitWithError(errors.New("dbus: connection refused"))
	if v, err := c.Get(GHLOAuthToken); err != nil || v != "env-token" {
		t.Fatalf("env should serve when the keyring is down: %q, %v", v, err)
	}
	if _, err := c.Get(ADWebhookSecret); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("an unreachable keyring must not be reported as not-set, got %v", err)
	}
	if err := (Chain{env}).Set(ADAPIKey, "x"); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("chain without a writable vault: %v", err)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	keyring.MockInit()
	var k Keyring
	expiry := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	in := &oauth2.Token{AccessToken: "at-1", RefreshToken: "rt-1", TokenType: "Bearer", Expiry: expiry}
	if err := SaveToken(k, GHLOAuthToken, in); err != nil {
		t.Fatal(err)
	}
	out, err := LoadToken(k, GHLOAuthToken)
	if err != nil {
		t.Fatal(err)
	}
	if out.AccessToken != "at-1" || out.RefreshToken != "rt-1" || !out.Expiry.Equal(expiry) {
		t.Fatalf("round trip changed the token: %+v", out)
	}
	if err := SaveToken(k, GHLOAuthToken, &oauth2.Token{}); err == nil {
		t.Fatal("saving a token without an access token should fail")
	}
}

func TestDamagedTokenIsReportedWithoutItsContent(t *testing.T) {
	keyring.MockInit()
	var k Keyring
	if err := k.Set(GHLOAuthToken, "not-json-but-secret-looking"); err != nil {
		t.Fatal(err)
	}
	_, err := LoadToken(k, GHLOAuthToken)
	if err == nil || !strings.Contains(err.Error(), "reconnect") {
		t.Fatalf("got %v, want a damaged-token error that says to reconnect", err)
	}
	if strings.Contains(err.Error(), "secret-looking") {
		t.Fatalf("error echoes the stored value: %v", err)
	}
}

func TestMemoryVault(t *testing.T) {
	var v Memory
	if _, err := v.Get(ADAPIKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty vault: %v", err)
	}
	if err := v.Set(ADAPIKey, ""); err == nil {
		t.Error("empty value accepted")
	}
	if err := v.Set(ADAPIKey, "k1"); err != nil {
		t.Fatal(err)
	}
	if got, err := v.Get(ADAPIKey); err != nil || got != "k1" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := v.Delete(ADAPIKey); err != nil {
		t.Fatal(err)
	}
	if err := v.Delete(ADAPIKey); err != nil {
		t.Errorf("second Delete: %v", err)
	}
	if _, err := v.Get(ADAPIKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Delete: %v", err)
	}
}

func TestAccountsConnected(t *testing.T) {
	both := map[string]string{EnvVar(ADAPIKey): "k", EnvVar(ADApplicationKey): "a", EnvVar(GHLPrivateToken): "p"}
	without := func(n Name) map[string]string {
		m := map[string]string{}
		for k, v := range both {
			if k != EnvVar(n) {
				m[k] = v
			}
		}
		return m
	}
	oauthInstead := without(GHLPrivateToken)
	oauthInstead[EnvVar(GHLOAuthToken)] = "o"
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"everything", both, true},
		{"HighLevel through OAuth", oauthInstead, true},
		{"nothing", nil, false},
		{"no AD API key", without(ADAPIKey), false},
		{"no AD application key", without(ADApplicationKey), false},
		{"no HighLevel token", without(GHLPrivateToken), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{Lookup: func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }}
			if got := AccountsConnected(env); got != tt.want {
				t.Errorf("AccountsConnected = %v, want %v", got, tt.want)
			}
		})
	}
	keyring.MockInitWithError(errors.New("dbus: no session bus"))
	if AccountsConnected(Chain{Keyring{}, Env{Lookup: func(string) (string, bool) { return "", false }}}) {
		t.Error("an unreachable keyring counted as connected")
	}
}
