package ghl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"parley/sync/ghl/ghltest"
	"parley/sync/internal/sandboxkit"
)

func TestLimiterSize(t *testing.T) {
	cases := []struct {
		max      int
		interval time.Duration
		minShare float64 // of the budget the pacing uses
	}{
		{100, time.Second, 0.95},
		{100, 10 * time.Second, 0.95},
		{10, time.Second, 0.85},
		{2, time.Second, 0.45},
		{1000, time.Minute, 0.95},
	}
	for _, tc := range cases {
		r, b := limiterSize(tc.max, tc.interval)
		if b != 1 {
			t.Errorf("%d/%v: burst %d, want 1", tc.max, tc.interval, b)
		}
		// With burst 1, requests are at least 1/r apart: a window
		// stretched by the arrival slack holds floor(W(1+s)r)+1 of them.
		stretched := tc.interval.Seconds() * (1 + jitterSlack)
		if n := int(math.Floor(stretched*float64(r))) + 1; n > tc.max {
			t.Errorf("%d/%v: rate %.2f fits %d requests in a stretched window, more than %d", tc.max, tc.interval, float64(r), n, tc.max)
		}
		if share := float64(r) * tc.interval.Seconds() / float64(tc.max); share < tc.minShare {
			t.Errorf("%d/%v: uses %.1f%% of the budget, want at least %.0f%%", tc.max, tc.interval, 100*share, 100*tc.minShare)
		}
	}
	if r, _ := limiterSize(0, time.Second); r != rate.Inf {
		t.Errorf("no limit known: rate %v, want Inf", r)
	}
}

func TestParseRateHeaders(t *testing.T) {
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	cases := []struct {
		name string
		h    http.Header
		want rateHeaders
	}{
		{"none", h(), rateHeaders{max: -1, remaining: -1, dailyRemaining: -1}},
		{"all", h("X-RateLimit-Max", "100", "X-RateLimit-Remaining", "42", "X-RateLimit-Interval-Milliseconds", "10000",
			"X-RateLimit-Limit-Daily", "200000", "X-RateLimit-Daily-Remaining", "199000", "x-ratelimit-daily-reset", "3600000"),
			rateHeaders{max: 100, remaining: 42, interval: 10 * time.Second, dailyRemaining: 199000, dailyReset: time.Hour}},
		{"zeroes", h("X-RateLimit-Remaining", "0", "X-RateLimit-Daily-Remaining", "0"), rateHeaders{max: -1, remaining: 0, dailyRemaining: 0}},
		{"garbage", h("X-RateLimit-Max", "lots", "X-RateLimit-Remaining", "-3", "X-RateLimit-Interval-Milliseconds", "NaN",
			"X-RateLimit-Daily-Remaining", "1e99"), rateHeaders{max: -1, remaining: -1, dailyRemaining: -1}},
	}
	for _, tc := range cases {
		if got := parseRateHeaders(tc.h); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// limitServer answers every request 200 with the given rate-limit headers.
func limitServer(t *testing.T, headers map[string]string, status int) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"id":"c1","contactId":"k","locationId":"loc","deleted":false,"inbox":true,"type":1,"unreadCount":0,"statusCode":429,"message":"Too many requests"}`))
	}))
	t.Cleanup(hs.Close)
	return hs, &n
}

// TestDailyQuotaFailsFast: once HighLevel says the daily quota is used up,
// calls fail at once with when it resets, without a request.
func TestDailyQuotaFailsFast(t *testing.T) {
	for _, status := range []int{200, 429} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			hs, n := limitServer(t, map[string]string{"X-RateLimit-Daily-Remaining": "0", "X-RateLimit-Daily-Reset": "7200000"}, status)
			slept := &sleeps{}
			c, err := New(Config{BaseURL: hs.URL, LocationID: "loc", PrivateToken: "pit", Retry: RetryPolicy{Sleep: slept.sleep}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetConversation(ctxT(t), "c1")
			if status == 200 && err != nil {
				t.Fatalf("the last allowed call failed: %v", err)
			}
			if status == 429 {
				var rle *RateLimitError
				if !errors.As(err, &rle) || !rle.Daily || rle.RetryAfter != 2*time.Hour || rle.Err == nil {
					t.Fatalf("err = %v, want a daily RateLimitError resetting in 2h", err)
				}
			}
			_, err = c.GetConversation(ctxT(t), "c1")
			var rle *RateLimitError
			if !errors.Is(err, ErrRateLimited) || !errors.As(err, &rle) || !rle.Daily || rle.RetryAfter <= 119*time.Minute ||
				rle.Err != nil {
				t.Fatalf("err = %v, want a daily RateLimitError without a request", err)
			}
			if got := n.Load(); got != 1 {
				t.Errorf("%d requests, want 1", got)
			}
			if len(slept.all()) != 0 {
				t.Errorf("waited %v; a used-up daily quota fails fast", slept.all())
			}
		})
	}
}

// TestRemainingZeroStops: X-RateLimit-Remaining: 0 holds the next request
// until the window can have ended.
func TestRemainingZeroStops(t *testing.T) {
	hs, _ := limitServer(t, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Max": "100",
		"X-RateLimit-Interval-Milliseconds": "10000"}, 200)
	slept := &sleeps{}
	c, err := New(Config{BaseURL: hs.URL, LocationID: "loc", PrivateToken: "pit", Retry: RetryPolicy{Sleep: slept.sleep}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.GetConversation(ctxT(t), "c1"); err != nil {
			t.Fatal(err)
		}
	}
	s := slept.all()
	if len(s) == 0 || s[0] < 9*time.Second || s[0] > 10*time.Second {
		t.Errorf("waits %v, want about the 10 s interval before the second request", s)
	}
}

// TestPacerAdapts: the pacing follows the limits HighLevel announces.
func TestPacerAdapts(t *testing.T) {
	hs, _ := limitServer(t, map[string]string{"X-RateLimit-Max": "10", "X-RateLimit-Interval-Milliseconds": "1000",
		"X-RateLimit-Remaining": "9"}, 200)
	c, err := New(Config{BaseURL: hs.URL, LocationID: "loc", PrivateToken: "pit"})
	if err != nil {
		t.Fatal(err)
	}
	before := c.pacer.loc("loc").lim.Limit()
	if _, err := c.GetConversation(ctxT(t), "c1"); err != nil {
		t.Fatal(err)
	}
	after := c.pacer.loc("loc").lim.Limit()
	want, _ := limiterSize(10, time.Second)
	if before == after || after != want {
		t.Errorf("rate %v -> %v, want %v", before, after, want)
	}
}

// pacedRun drives a paced client against a sandbox limited to 100
// requests per second, from many goroutines (so that request latency does
// not limit throughput) that start requests for d, and returns the requests
// HighLevel served, the 429s it answered, and how long the run took.
func pacedRun(tb testing.TB, d time.Duration) (served, tooMany int64, elapsed time.Duration) {
	srv := ghltest.NewTestServer(tb, ghltest.Options{Seed: 1, RateLimit: sandboxkit.RateLimit{Burst: 100, Window: time.Second}})
	var n429 atomic.Int64
	hc := &http.Client{Transport: statusCounter{base: defaultHTTPClient().Transport, status: http.StatusTooManyRequests, n: &n429}}
	c, err := New(Config{BaseURL: srv.URL(), LocationID: srv.LocationID(), PrivateToken: Secret(srv.PrivateToken()),
		HTTPClient: hc, RateLimit: RateLimit{Max: 100, Interval: time.Second}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.CloseIdleConnections)
	conv := srv.Conversations()[0].ID
	srv.ResetCalls()
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if _, err := c.GetConversation(context.Background(), conv); err != nil {
					tb.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// The run lasts until the last paced request is answered.
	elapsed = time.Since(start)
	return int64(srv.Calls(routeGetConv)) - n429.Load(), n429.Load(), elapsed
}

// statusCounter counts answers with one status on their way to the client.
type statusCounter struct {
	base   http.RoundTripper
	status int
	n      *atomic.Int64
}

func (s statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(r)
	if err == nil && resp.StatusCode == s.status {
		s.n.Add(1)
	}
	return resp, err
}

// TestPacing: against a 1 s window of 100, the client uses at least 95% of
// the budget and never gets a 429 (the 30 s version is
// BenchmarkPacedBudget).
func TestPacing(t *testing.T) {
	ok, tooMany, elapsed := pacedRun(t, 3*time.Second)
	budget := 100 * elapsed.Seconds()
	used := float64(ok) / budget
	t.Logf("%d requests in %v: %.1f%% of the budget, %d x 429", ok, elapsed.Round(time.Millisecond), 100*used, tooMany)
	if tooMany != 0 {
		t.Errorf("HighLevel answered 429 %d times, want 0", tooMany)
	}
	if used < 0.95 || used > 1 {
		t.Errorf("used %.1f%% of the budget, want 95-100%%", 100*used)
	}
}
