package connect_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"parley/store/secrets"
	"parley/sync/activedemand/adtest"
	"parley/sync/connect"
	"parley/sync/ghl/ghltest"
)

// svcFor is a Service against both sandboxes, with a clock the test moves.
func svcFor(t *testing.T, ghlSrv *ghltest.Server, adSrv *adtest.Server, now *time.Time) (*connect.Service, *memSettings) {
	t.Helper()
	settings := &memSettings{}
	vault := secrets.Keyring{}
	t.Cleanup(func() {
		for _, n := range secrets.Known {
			_ = vault.Delete(n)
		}
	})
	o := connect.Options{Vault: vault, Settings: settings, Now: func() time.Time { return *now },
		Open: func(string) error { return errors.New("no browser in this test") }}
	if ghlSrv != nil {
		o.GHLBaseURL = ghlSrv.URL()
	}
	if adSrv != nil {
		o.ADBaseURL, o.ADRoutes = adSrv.URL(), adSrv.Routes()
	}
	svc, err := connect.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return svc, settings
}

func TestActiveDEMANDSaveTestDisconnect(t *testing.T) {
	ad := adtest.NewTestServer(t, adtest.Options{Seed: 1})
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	svc, _ := svcFor(t, nil, ad, &now)
	ctx := context.Background()

	if _, err := svc.Test(ctx, connect.ActiveDEMAND); err == nil || !strings.Contains(err.Error(), "paste the application key") {
		t.Fatalf("test before saving: %v", err)
	}
	if err := svc.SaveAD("  ", adtest.DefaultAPIKey); err == nil || !strings.Contains(err.Error(), "application key is empty") {
		t.Fatalf("empty application key: %v", err)
	}
	if err := svc.SaveAD(adtest.DefaultAppKey, adtest.DefaultAPIKey+"\n"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SaveADWebhookSecret("whsec-parley"); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Test(ctx, connect.ActiveDEMAND)
	if err != nil {
		t.Fatalf("test with the sandbox's keys: %v", err)
	}
	if res.Latency <= 0 || !strings.Contains(res.Detail, "contact fields") {
		t.Errorf("result %+v", res)
	}
	st, err := svc.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.AD.Connected() || !st.AD.WebhookSecret.Set || !st.AD.APIKey.SavedAt.Equal(now) {
		t.Errorf("status %+v", st.AD)
	}

	// A key of another account: the error says so in words and what to do.
	if err := svc.SaveAD(adtest.DefaultAppKey, adtest.DefaultOtherAccountKey); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Test(ctx, connect.ActiveDEMAND)
	if err == nil || !strings.Contains(err.Error(), "ActiveDEMAND test failed") {
		t.Fatalf("test with another account's key: %v", err)
	}
	if strings.Contains(err.Error(), adtest.DefaultOtherAccountKey) {
		t.Errorf("the error repeats the key: %v", err)
	}

	if err := svc.Disconnect(connect.ActiveDEMAND); err != nil {
		t.Fatal(err)
	}
	for _, n := range []secrets.Name{secrets.ADApplicationKey, secrets.ADAPIKey, secrets.ADWebhookSecret} {
		if _, err := (secrets.Keyring{}).Get(n); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("%s after Disconnect: %v", n, err)
		}
	}
	if err := svc.Disconnect(connect.ActiveDEMAND); err != nil {
		t.Errorf("a second Disconnect: %v", err)
	}
}

func TestPrivateIntegrationTokenSaveAndTest(t *testing.T) {
	gs := ghltest.NewTestServer(t, ghltest.Options{Seed: 1})
	now := time.Now()
	svc, _ := svcFor(t, gs, nil, &now)
	ctx := context.Background()
	if err := svc.SaveGHLPrivateToken(gs.PrivateToken(), ""); err == nil || !strings.Contains(err.Error(), "location id is empty") {
		t.Fatalf("no location: %v", err)
	}
	if err := svc.SaveGHLPrivateToken(gs.PrivateToken(), gs.LocationID()); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Test(ctx, connect.HighLevel)
	if err != nil {
		t.Fatalf("test: %v", err)
	}
	if !strings.Contains(res.Account, gs.LocationID()) || !strings.Contains(res.Detail, "conversations") {
		t.Errorf("result %+v", res)
	}

	dead := "pit-00000000-0000-0000-0000-000000000000"
	if err := svc.SaveGHLPrivateToken(dead, gs.LocationID()); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Test(ctx, connect.HighLevel)
	if err == nil || !strings.Contains(err.Error(), "Private Integrations") || strings.Contains(err.Error(), dead) {
		t.Fatalf("test with a revoked token: %v", err)
	}
}

func TestTestRefreshesAnExpiredOAuthTokenAndSavesIt(t *testing.T) {
	gs := ghltest.NewTestServer(t, ghltest.Options{Seed: 1})
	now := time.Now()
	svc, _ := svcFor(t, gs, nil, &now)
	ctx := context.Background()
	if err := svc.SaveGHLApp(ghltest.DefaultClientID, ghltest.DefaultClientSecret); err != nil {
		t.Fatal(err)
	}
	// Install as the browser flow would, then let the access token die.
	tok := gs.IssueToken(connect.ReadOnlyScopes...)
	if err := secrets.SaveToken(secrets.Keyring{}, secrets.GHLOAuthToken, oauthToken(tok)); err != nil {
		t.Fatal(err)
	}
	if err := svc.SaveGHLPrivateToken("pit-placeholder", gs.LocationID()); err != nil {
		t.Fatal(err)
	}
	// SaveGHLPrivateToken removed the OAuth token: one credential at a time.
	if st, _ := svc.Status(ctx); st.GHL.OAuth.Set {
		t.Fatal("the OAuth token survived saving a private token")
	}
	_ = (secrets.Keyring{}).Delete(secrets.GHLPrivateToken)
	if err := secrets.SaveToken(secrets.Keyring{}, secrets.GHLOAuthToken, oauthToken(tok)); err != nil {
		t.Fatal(err)
	}
	gs.ExpireAccessTokens()
	if _, err := svc.Test(ctx, connect.HighLevel); err != nil {
		t.Fatalf("test with an expired access token: %v", err)
	}
	saved, err := secrets.LoadToken(secrets.Keyring{}, secrets.GHLOAuthToken)
	if err != nil {
		t.Fatal(err)
	}
	if saved.RefreshToken == tok.RefreshToken {
		t.Error("the refreshed token was not saved: the old single-use refresh token is still in the keyring")
	}
	st, _ := svc.Status(ctx)
	if !st.GHL.Expiry.After(now) {
		t.Errorf("expiry after refresh %v", st.GHL.Expiry)
	}
}

func TestRotationReminderAndSettings(t *testing.T) {
	ad := adtest.NewTestServer(t, adtest.Options{})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	svc, _ := svcFor(t, nil, ad, &now)
	ctx := context.Background()
	if err := svc.SaveAD("a", "b"); err != nil {
		t.Fatal(err)
	}
	saved := now
	for _, tc := range []struct {
		days int
		age  time.Duration
		due  bool
	}{
		{0, 89 * 24 * time.Hour, false},
		{0, 90 * 24 * time.Hour, true},
		{30, 29 * 24 * time.Hour, false},
		{30, 31 * 24 * time.Hour, true},
	} {
		if tc.days != 0 {
			if err := svc.SetRotateDays(tc.days); err != nil {
				t.Fatal(err)
			}
		}
		st, err := svc.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Due(st.AD.APIKey, saved.Add(tc.age)); got != tc.due {
			t.Errorf("rotate after %d days, age %v: due %v, want %v", svc.RotateDays(), tc.age, got, tc.due)
		}
	}
	if err := svc.SetRotateDays(0); err == nil {
		t.Error("0 days accepted")
	}
	if err := svc.SetPort(80); err == nil || !strings.Contains(err.Error(), "1024 to 65535") {
		t.Errorf("port 80: %v", err)
	}
	if err := svc.SetPort(40000); err != nil || svc.RedirectURL() != "http://127.0.0.1:40000/oauth/callback" {
		t.Errorf("port 40000: %v, %s", err, svc.RedirectURL())
	}
	if err := svc.SaveProviderID(" "); err == nil {
		t.Error("empty provider id accepted")
	}
	if err := svc.SaveGHLApp("id", ""); err == nil || !strings.Contains(err.Error(), "client secret is empty") {
		t.Errorf("first save without a secret: %v", err)
	}
}

func oauthToken(t ghltest.Token) *oauth2.Token {
	return &oauth2.Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: "Bearer",
		Expiry: time.Now().Add(time.Duration(t.ExpiresIn) * time.Second)}
}

// TestADRateReachesTheClient: Options.ADRate (--ad-rate, for the console
// and `parley sync` alike) is the ActiveDEMAND client's rate; 0 leaves
// the client's default.
func TestADRateReachesTheClient(t *testing.T) {
	for _, r := range []float64{0, 12.5} {
		vault := &secrets.Memory{}
		for n, v := range map[secrets.Name]string{secrets.ADApplicationKey: "app", secrets.ADAPIKey: "api"} {
			if err := vault.Set(n, v); err != nil {
				t.Fatal(err)
			}
		}
		svc, err := connect.New(connect.Options{Vault: vault, Settings: &memSettings{}, ADRate: r})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := svc.ADConfig()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.RateLimit != rate.Limit(r) {
			t.Errorf("ADRate %v: the client's rate is %v", r, cfg.RateLimit)
		}
	}
}
