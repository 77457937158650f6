package realkeyring

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"

	"parley/store/secrets"
)

func requireKeyring(t *testing.T) secrets.Keyring {
	t.Helper()
	if os.Getenv("PARLEY_KEYRING_TESTS") != "1" {
		t.Skip("set PARLEY_KEYRING_TESTS=1 inside an unlocked Secret Service session (make test does this)")
	}
	var k secrets.Keyring
	if err := k.Probe(); err != nil {
		t.Fatalf("PARLEY_KEYRING_TESTS=1 but the keyring is unusable: %v", err)
	}
	t.Cleanup(func() {
		for _, n := range secrets.Known {
			_ = k.Delete(n)
		}
	})
	return k
}

func TestEveryCredentialIsItsOwnEntry(t *testing.T) {
	k := requireKeyring(t)
	for i, n := range secrets.Known {
		if err := k.Set(n, fmt.Sprintf("value-%d-ünïcødé", i)); err != nil {
			t.Fatalf("Set %s: %v", n, err)
		}
	}
	for i, n := range secrets.Known {
		got, err := k.Get(n)
		if want := fmt.Sprintf("value-%d-ünïcødé", i); err != nil || got != want {
			t.Fatalf("Get %s = %q, %v; want %q", n, got, err, want)
		}
		// Filed under the service name an admin would look for.
		if raw, err := keyring.Get(secrets.Service, string(n)); err != nil || raw != got {
			t.Fatalf("entry %s not under service %q: %q, %v", n, secrets.Service, raw, err)
		}
	}
	if err := k.Delete(secrets.ADAPIKey); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(secrets.ADAPIKey); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("deleted entry still readable: %v", err)
	}
	if _, err := k.Get(secrets.ADApplicationKey); err != nil {
		t.Fatalf("deleting one credential touched another: %v", err)
	}
}

func TestRefreshedTokenReplacesTheOldOne(t *testing.T) {
	k := requireKeyring(t)
	long := strings.Repeat("x", 3000) // GHL JWTs are well over 1 kB
	first := &oauth2.Token{AccessToken: "at-" + long, RefreshToken: "rt-1", Expiry: time.Now().Add(time.Hour).Round(time.Second)}
	if err := secrets.SaveToken(k, secrets.GHLOAuthToken, first); err != nil {
		t.Fatal(err)
	}
	second := &oauth2.Token{AccessToken: "at-2", RefreshToken: "rt-2", Expiry: first.Expiry.Add(time.Hour)}
	if err := secrets.SaveToken(k, secrets.GHLOAuthToken, second); err != nil {
		t.Fatal(err)
	}
	got, err := secrets.LoadToken(k, secrets.GHLOAuthToken)
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken != "rt-2" || got.AccessToken != "at-2" || !got.Expiry.Equal(second.Expiry) {
		t.Fatalf("got %+v, want the refreshed token", got)
	}
}

func TestConcurrentAccess(t *testing.T) {
	k := requireKeyring(t)
	var wg sync.WaitGroup
	errs := make(chan error, len(secrets.Known))
	for i, n := range secrets.Known {
		wg.Go(func() {
			want := fmt.Sprintf("concurrent-%d", i)
			if err := k.Set(n, want); err != nil {
				errs <- err
				return
			}
			if got, err := k.Get(n); err != nil || got != want {
				errs <- fmt.Errorf("%s: got %q, %v", n, got, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
