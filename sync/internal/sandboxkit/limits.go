package sandboxkit

import (
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is a server-side limit: Burst requests per Window, and Daily
// per day (UTC). The zero value enforces nothing. Each sandbox enforces it
// the way its API is known to (see the sandbox's Options).
type RateLimit struct {
	Burst  int
	Window time.Duration
	Daily  int
}

// On reports whether a burst limit is set.
func (l RateLimit) On() bool { return l.Burst > 0 }

// Limiter is the token bucket that allows Burst at once and refills at
// Burst per Window, or nil when no burst limit is set.
func (l RateLimit) Limiter() *rate.Limiter {
	if !l.On() || l.Window <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(float64(l.Burst)/l.Window.Seconds()), l.Burst)
}
