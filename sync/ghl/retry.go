package ghl

import (
	"net/http"
	"time"

	"parley/sync/internal/backoff"
	"parley/sync/internal/retry"
)

// RetryPolicy bounds and paces retries. Zero fields mean the defaults: 5
// attempts, exponential backoff with full jitter from BaseDelay 250 ms capped
// at MaxDelay 30 s, and a Retry-After waited out up to MaxRetryAfter, which
// defaults to MaxDelay: a longer one fails the call with a [RateLimitError]
// saying when to try again, so the engine can schedule it.
//
// What is retried: 429 (after Retry-After), 502, 503, 504, timeouts and
// connection errors, for calls that are safe to repeat (reads, PUTs,
// DELETEs, upserts, records with an altId after checking for them). A 500 is
// retried only for those idempotent calls: GHL's 500 often means the request
// failed while being applied, which is harmless to repeat only when
// repeating cannot duplicate anything. Deliveries, conversation creation and
// uploads are retried only when the request provably did not reach
// HighLevel (connection refused, 429).
type RetryPolicy = retry.Policy

// defaultRetry is HighLevel's side of RetryPolicy's zero fields.
var defaultRetry = RetryPolicy{MaxAttempts: 5, BaseDelay: 250 * time.Millisecond, MaxDelay: 30 * time.Second}

// parseRetryAfter reads Retry-After: delay seconds or an HTTP date. It
// returns 0 when absent or unreadable.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	return backoff.RetryAfter(h.Get("Retry-After"), now)
}
