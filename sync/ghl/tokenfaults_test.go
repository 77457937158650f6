package ghl

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"parley/sync/ghl/ghltest"
)

// status401Counter counts the 401 answers on their way back to the client.
// It fails token requests after the 100th, so that a refresh storm (which
// never gives up: a refresh outlives its caller's context) fails a test
// instead of hanging it.
type status401Counter struct {
	base   http.RoundTripper
	n      atomic.Int64
	tokens atomic.Int64
}

func (c *status401Counter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/oauth/token" && c.tokens.Add(1) > 100 {
		return nil, fmt.Errorf("refresh storm: more than 100 token requests")
	}
	resp, err := c.base.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		c.n.Add(1)
	}
	return resp, err
}

// TestClockSkewRefreshesOncePerExpiry: Parley's clock is ten minutes off
// HighLevel's, either way, and the saved token's expiry was stamped on
// HighLevel's clock, so Parley first judges it wrongly: ten minutes too
// soon (it refreshes early) or too late (HighLevel answers 401 and it
// refreshes then). Over several token lifetimes, with a call every
// 1/60th of a lifetime, every call succeeds, each expiry costs at most
// one refresh, and there is never more than one 401 per refresh.
func TestClockSkewRefreshesOncePerExpiry(t *testing.T) {
	for _, ttl := range []time.Duration{time.Hour, 5 * time.Minute} {
		for _, skew := range []time.Duration{-10 * time.Minute, 0, 10 * time.Minute} {
			t.Run(fmt.Sprintf("ttl %s skew %+v", ttl, skew), func(t *testing.T) {
				clk := newClock() // Parley's clock
				srv := sandbox(t, func(o *ghltest.Options) {
					o.AccessTokenTTL = ttl
					o.Clock = func() time.Time { return clk.now().Add(-skew) }
				})
				kr := &keyring{}
				cnt := &status401Counter{base: http.DefaultTransport}
				issued := srv.IssueToken()
				c := oauthClient(t, srv, clk, kr, issued, func(cfg *Config) {
					cfg.Token = toOAuth(issued, clk.now().Add(-skew)) // stamped on HighLevel's clock
					cfg.HTTPClient = &http.Client{Transport: cnt}
				})
				conv := srv.Conversations()[0].ID

				const steps = 210 // three and a half lifetimes
				for i := range steps {
					if _, err := c.GetConversation(ctxT(t), conv); err != nil {
						t.Fatalf("call %d (%s in): %v", i, time.Duration(i)*ttl/60, err)
					}
					clk.advance(ttl / 60)
				}
				refreshes := srv.Calls(routeTokenKey)
				// A token is refreshed once it is within the margin of its
				// expiry (5 minutes, or half the lifetime if shorter): at
				// most one refresh per usable stretch, plus one for the
				// first token misjudged.
				margin := min(5*time.Minute, (ttl-time.Second)/2)
				usable := ttl - time.Second - margin
				maxRefreshes := int(time.Duration(steps)*ttl/60/usable) + 1
				minRefreshes := int(time.Duration(steps) * ttl / 60 / ttl)
				if refreshes < minRefreshes || refreshes > maxRefreshes {
					t.Errorf("%d refreshes over %d calls, want %d to %d", refreshes, steps, minRefreshes, maxRefreshes)
				}
				if n := cnt.n.Load(); n > int64(refreshes) {
					t.Errorf("%d answers were 401 for %d refreshes: a 401 was not cured by its refresh", n, refreshes)
				}
				if skew < 0 && cnt.n.Load() == 0 {
					t.Error("no 401 with the clock behind: the test did not make Parley misjudge the expiry")
				}
				if api := srv.Calls(routeGetConv); api != steps+int(cnt.n.Load()) {
					t.Errorf("%d API requests for %d calls and %d 401s: retried more than once", api, steps, cnt.n.Load())
				}
				if kr.count() != refreshes {
					t.Errorf("%d tokens saved for %d refreshes", kr.count(), refreshes)
				}
			})
		}
	}
}

// TestTokenExpiringMidRunContinues: HighLevel stops accepting the access
// token in the middle of a run of calls (as after a revocation of the
// access token alone); the next call gets one 401, one refresh, one retry,
// and the calls after it go on with the new token and no more refreshes.
func TestTokenExpiringMidRunContinues(t *testing.T) {
	srv := sandbox(t)
	clk, kr := newClock(), &keyring{}
	cnt := &status401Counter{base: http.DefaultTransport}
	c := oauthClient(t, srv, clk, kr, srv.IssueToken(), func(cfg *Config) { cfg.HTTPClient = &http.Client{Transport: cnt} })
	conv := srv.Conversations()[0].ID
	for i := range 40 {
		if i == 20 {
			srv.ExpireAccessTokens()
		}
		if _, err := c.GetConversation(ctxT(t), conv); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := srv.Calls(routeTokenKey); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	if n := cnt.n.Load(); n != 1 {
		t.Errorf("%d answers were 401, want 1", n)
	}
	if n := srv.Calls(routeGetConv); n != 41 {
		t.Errorf("%d API requests for 40 calls, want 41 (one retry)", n)
	}
}
