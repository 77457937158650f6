package ghl

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"

	"parley/sync/internal/backoff"
)

// RetryPolicy bounds and paces retries. The zero value means the defaults:
// 5 attempts, exponential backoff with full jitter from 250 ms capped at
// 30 s.
//
// What is retried: 429 (after Retry-After), 502, 503, 504, timeouts and
// connection errors, for calls that are safe to repeat (reads, PUTs,
// DELETEs, upserts, records with an altId after checking for them). A 500 is
// retried only for those idempotent calls: GHL's 500 often means the request
// failed while being applied, which is harmless to repeat only when
// repeating cannot duplicate anything. Deliveries, conversation creation and
// uploads are retried only when the request provably did not reach
// HighLevel (connection refused, 429).
type RetryPolicy struct {
	// MaxAttempts is the number of attempts per call, the first included
	// (default 5; 1 disables retries).
	MaxAttempts int
	// Base is the first backoff step (default 250 ms).
	Base time.Duration
	// Cap bounds a single wait (default 30 s). A Retry-After longer than Cap
	// is not waited out: the call fails with a [RateLimitError] saying when
	// to try again, so the engine can schedule it.
	Cap time.Duration
	// Rand returns a number in [0, 1) for the jitter (default math/rand/v2).
	Rand func() float64
	// Sleep waits for d or until ctx ends (default a timer). Tests inject
	// a recording sleeper to run retries without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.Base <= 0 {
		p.Base = 250 * time.Millisecond
	}
	if p.Cap <= 0 {
		p.Cap = 30 * time.Second
	}
	if p.Cap < p.Base {
		p.Cap = p.Base
	}
	if p.Rand == nil {
		p.Rand = rand.Float64
	}
	if p.Sleep == nil {
		p.Sleep = backoff.Sleep
	}
	return p
}

// backoff is the wait before retry number n (n = 1 after the first failed
// attempt): full jitter up to min(Cap, Base·2^(n-1)).
func (p RetryPolicy) backoff(n int) time.Duration {
	return backoff.FullJitter(p.Base, p.Cap, n, p.Rand())
}

// parseRetryAfter reads Retry-After: delay seconds or an HTTP date. It
// returns 0 when absent or unreadable.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	return backoff.RetryAfter(h.Get("Retry-After"), now)
}
