// Package backoff holds the retry arithmetic both API clients share: full
// jitter exponential backoff, the Retry-After header, and a sleep that ends
// with its context.
package backoff

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FullJitter is the wait before retry n (1 after the first failed attempt):
// a uniform draw r ∈ [0, 1) scaled to [0, min(ceiling, base·2^(n-1))). Full
// jitter spreads clients that failed together, so they do not retry in step.
func FullJitter(base, ceiling time.Duration, n int, r float64) time.Duration {
	limit := ceiling
	if n < 1 {
		n = 1
	}
	if n <= 32 {
		if d := base << (n - 1); d > 0 && d < limit {
			limit = d
		}
	}
	if !(r >= 0 && r < 1) { // also NaN
		r = 0
	}
	return time.Duration(r * float64(limit))
}

// maxRetryAfter bounds a Retry-After so that absurd values stay finite;
// callers compare the result with the longest wait they accept.
const maxRetryAfter = 7 * 24 * time.Hour

// RetryAfter reads a Retry-After value: delay seconds (whole or decimal) or
// an HTTP date. It returns 0 when the value is absent, unreadable or in the
// past, and at most a week.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if !(secs > 0) { // also NaN
			return 0
		}
		if secs >= maxRetryAfter.Seconds() {
			return maxRetryAfter
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, maxRetryAfter)
		}
	}
	return 0
}

// Sleep waits for d unless ctx ends first, and then returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
