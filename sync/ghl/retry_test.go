package ghl

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	p := RetryPolicy{Rand: func() float64 { return 0.999999 }}.WithDefaults(defaultRetry)
	ceilings := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second,
		8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, ceil := range ceilings {
		got := p.Backoff(i + 1)
		if got > ceil || got < ceil*99/100 {
			t.Errorf("backoff(%d) = %v, want just under %v", i+1, got, ceil)
		}
	}
	for _, n := range []int{0, -1, 40, 64, 1000} {
		if got := p.Backoff(n); got < 0 || got > 30*time.Second {
			t.Errorf("backoff(%d) = %v, want within [0, cap]", n, got)
		}
	}
	p.Rand = func() float64 { return 0 }
	if got := p.Backoff(5); got != 0 {
		t.Errorf("full jitter with rand 0: %v, want 0", got)
	}
	p.Rand = func() float64 { return 1.5 } // a broken source must not exceed the cap
	if got := p.Backoff(3); got < 0 || got > time.Second {
		t.Errorf("backoff with a broken rand: %v", got)
	}
	d := RetryPolicy{}.WithDefaults(defaultRetry)
	if d.MaxAttempts != 5 || d.BaseDelay != 250*time.Millisecond || d.MaxDelay != 30*time.Second || d.MaxRetryAfter != 30*time.Second {
		t.Errorf("defaults %+v", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"2":                             2 * time.Second,
		"1.5":                           1500 * time.Millisecond,
		"0":                             0,
		"-4":                            0,
		"soon":                          0,
		"Sun, 01 Mar 2026 12:00:07 GMT": 7 * time.Second,
		"Sun, 01 Mar 2026 11:00:00 GMT": 0,
		"99999999999":                   7 * 24 * time.Hour, // absurd, but still "wait": longer than any cap
	}
	for v, want := range cases {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		if got := parseRetryAfter(h, now); got != want {
			t.Errorf("Retry-After %q = %v, want %v", v, got, want)
		}
	}
}

// TestRetryBackoffOverHTTP: 503s are retried with full-jitter backoff
// until an answer arrives, and the observer sees one call.
func TestRetryBackoffOverHTTP(t *testing.T) {
	var n atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"contact":{"id":"k1","email":"a@b.c"}}`)
	}))
	defer hs.Close()
	slept := &sleeps{}
	obs := &calls{}
	c, err := New(Config{BaseURL: hs.URL, LocationID: "loc", PrivateToken: "pit", RateLimit: RateLimit{Disabled: true},
		Retry: RetryPolicy{Rand: func() float64 { return 0.5 }, Sleep: slept.sleep}, Observer: obs.observe})
	if err != nil {
		t.Fatal(err)
	}
	ct, err := c.GetContact(ctxT(t), "k1")
	if err != nil || ct.ID != "k1" {
		t.Fatalf("GetContact = %+v, %v", ct, err)
	}
	want := []time.Duration{125 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond}
	if got := slept.all(); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("waits %v, want %v", got, want)
	}
	all := obs.all()
	if len(all) != 1 || all[0].Attempts != 4 || all[0].Status != 200 || all[0].Err != nil || all[0].Route != "GET /contacts/{contactId}" ||
		all[0].Op != "ghl: get contact" || all[0].BytesReceived == 0 {
		t.Errorf("observer %+v, want one report of 4 attempts ending in 200", all)
	}
}

// TestTruncatedBodyIsRetried: a 2xx body cut off mid-JSON is retried for a
// read, while a well-formed body of the wrong shape is an error at once.
func TestTruncatedBodyIsRetried(t *testing.T) {
	var n atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/bad"):
			_, _ = io.WriteString(w, `{"contact":{"id":"k1","tags":"not-a-list"}}`)
		case n.Add(1) == 1:
			_, _ = io.WriteString(w, `{"contact":{"id":"k1"`)
		default:
			_, _ = io.WriteString(w, `{"contact":{"id":"k1"}}`)
		}
	}))
	defer hs.Close()
	c, err := New(Config{BaseURL: hs.URL, LocationID: "loc", PrivateToken: "pit", RateLimit: RateLimit{Disabled: true},
		Retry: RetryPolicy{Sleep: (&sleeps{}).sleep}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetContact(ctxT(t), "k1"); err != nil || n.Load() != 2 {
		t.Errorf("truncated body: %v after %d requests, want success after 2", err, n.Load())
	}
	_, err = c.GetContact(ctxT(t), "bad")
	var de *DecodeError
	if !errors.Is(err, ErrBadResponse) || !errors.As(err, &de) || de.Field != "contact.tags" ||
		!strings.Contains(err.Error(), `field "contact.tags"`) || !strings.Contains(err.Error(), "ghl: get contact") {
		t.Errorf("wrong shape: %v, want a DecodeError naming the call and contact.tags", err)
	}
}

// TestAttemptTimeoutIsIdle: a slow but steady download is not cut off by
// the attempt timeout, a stalled one is.
func TestAttemptTimeoutIsIdle(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/x-wav")
		fl := w.(http.Flusher)
		for i := range 6 {
			if strings.Contains(r.URL.Path, "stall") && i == 2 {
				select {
				case <-r.Context().Done():
				case <-time.After(2 * time.Second):
				}
				return
			}
			_, _ = w.Write([]byte("chunk"))
			fl.Flush()
			time.Sleep(60 * time.Millisecond)
		}
	}))
	defer hs.Close()
	c, err := New(Config{BaseURL: hs.URL, LocationID: "loc", PrivateToken: "pit", RateLimit: RateLimit{Disabled: true},
		AttemptTimeout: 150 * time.Millisecond, Retry: RetryPolicy{Sleep: (&sleeps{}).sleep}})
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	rec, err := c.DownloadRecording(ctxT(t), "steady", &buf)
	if err != nil || rec.Bytes != 30 {
		t.Fatalf("steady download: %d bytes, %v; want 30 bytes (it took longer than the timeout, but never stalled)", rec.Bytes, err)
	}
	buf.Reset()
	_, err = c.DownloadRecording(ctxT(t), "stall", &buf)
	var te interface{ Timeout() bool }
	if err == nil || !errors.As(err, &te) || !strings.Contains(err.Error(), "cut off after 10 bytes") {
		t.Fatalf("stalled download: %v, want a timeout after 10 bytes, not retried", err)
	}
}

// TestContextCancelStopsWaiting: a caller's cancellation ends a backoff.
func TestContextCancelStopsWaiting(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer hs.Close()
	c, err := New(Config{BaseURL: hs.URL, LocationID: "loc", PrivateToken: "pit", RateLimit: RateLimit{Disabled: true},
		Retry: RetryPolicy{BaseDelay: time.Hour, MaxDelay: time.Hour, Rand: func() float64 { return 0.9 }}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.GetContact(ctx, "k")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v, want the deadline, promptly", err, time.Since(start))
	}
}
