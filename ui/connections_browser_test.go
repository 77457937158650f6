package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/chromedp/chromedp"

	"parley/store/secrets"
	"parley/sync/connect/browsertest"
	"parley/sync/ghl/ghltest"
)

// The whole way in a real browser: Connect opens the sandbox's consent
// page, Allow sends the browser back to Parley's listener, the code is
// exchanged, the token lands in the keyring and the screen shows the
// location.
func TestConnectWithHighLevelInChromium(t *testing.T) {
	browser := browsertest.Chromium(t)
	browserDone := make(chan error, 1)
	var said string
	open := func(consent string) error {
		go func() {
			ctx, cancel := context.WithTimeout(browser, 30*time.Second)
			defer cancel()
			err := chromedp.Do(ctx, chromedp.Navigate(consent), chromedp.WaitVisible(chromedp.ID("allow")),
				chromedp.Click(chromedp.ID("allow")), chromedp.WaitVisible(chromedp.ID("result")))
			if err == nil {
				said, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("result")))
			}
			browserDone <- err
		}()
		return nil
	}
	r := newConnRig(t, Deps{}, open, nil)
	s := r.c.connections
	r.waitText(t, &s.ghlState, "HighLevel is not connected")
	test.Type(s.clientSecret, ghltest.DefaultClientSecret)
	r.tap(t, "Save app", 0)
	r.waitText(t, &s.ghlResult, "App saved")

	r.tap(t, "Connect with HighLevel", 0)
	r.waitText(t, &s.ghlState, "Connected with OAuth to location "+r.ghl.LocationID())
	select {
	case err := <-browserDone:
		if err != nil {
			t.Fatalf("browser: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the browser did not finish")
	}
	if !strings.Contains(said, "You can close this tab") {
		t.Errorf("the tab says %q", said)
	}
	if tok, err := secrets.LoadToken(r.vault, secrets.GHLOAuthToken); err != nil || tok.RefreshToken == "" {
		t.Fatalf("keyring: %v", err)
	}
}
