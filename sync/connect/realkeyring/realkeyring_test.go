package realkeyring

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"

	"parley/store/secrets"
	"parley/sync/activedemand/adtest"
	"parley/sync/connect"
	"parley/sync/ghl/ghltest"
)

type memSettings struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *memSettings) String(k string) string { s.mu.Lock(); defer s.mu.Unlock(); return s.m[k] }
func (s *memSettings) SetString(k, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[k] = v
}
func (s *memSettings) RemoveValue(k string) { s.mu.Lock(); defer s.mu.Unlock(); delete(s.m, k) }

// Saving, testing and disconnecting go through the real Secret Service:
// what Test reads back is what Save wrote, and Disconnect leaves nothing.
func TestSaveTestDisconnectInARealKeyring(t *testing.T) {
	if os.Getenv("PARLEY_KEYRING_TESTS") != "1" {
		t.Skip("set PARLEY_KEYRING_TESTS=1 inside an unlocked Secret Service session (scripts/with-keyring.sh)")
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
	gs := ghltest.NewTestServer(t, ghltest.Options{Seed: 1})
	ad := adtest.NewTestServer(t, adtest.Options{Seed: 1})
	svc, err := connect.New(connect.Options{Vault: k, Settings: &memSettings{}, GHLBaseURL: gs.URL(), ADBaseURL: ad.URL(), ADRoutes: ad.Routes()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := svc.SaveAD(adtest.DefaultAppKey, adtest.DefaultAPIKey); err != nil {
		t.Fatal(err)
	}
	if err := svc.SaveADWebhookSecret("whsec-real-keyring"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SaveGHLPrivateToken(gs.PrivateToken(), gs.LocationID()); err != nil {
		t.Fatal(err)
	}
	for _, a := range []connect.Account{connect.ActiveDEMAND, connect.HighLevel} {
		if _, err := svc.Test(ctx, a); err != nil {
			t.Errorf("test %v with keys from the real keyring: %v", a, err)
		}
		if err := svc.Disconnect(a); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []secrets.Name{secrets.ADApplicationKey, secrets.ADAPIKey, secrets.ADWebhookSecret, secrets.GHLPrivateToken, secrets.GHLOAuthToken} {
		if _, err := k.Get(n); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("%s after Disconnect: %v", n, err)
		}
	}
}
