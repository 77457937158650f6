// Package retry is the one attempt loop both API clients run, after rclone's
// pacer.Call: the loop counts attempts, waits (the server's Retry-After or
// full-jitter backoff) and stops; each client writes only its shouldRetry,
// which judges one attempt, and the hooks its API needs (GHL looks for the
// effect of an uncertain attempt before posting again, and refreshes its
// token after a 401).
package retry

import (
	"context"
	"math/rand/v2"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"parley/sync/internal/backoff"
)

// Policy bounds and paces retries. Zero fields take the client's defaults
// (see WithDefaults).
type Policy struct {
	// MaxAttempts is the number of attempts per call, the first included
	// (1 disables retries).
	MaxAttempts int
	// BaseDelay and MaxDelay bound the exponential backoff: each wait is
	// drawn uniformly from zero to min(MaxDelay, BaseDelay·2^(retry-1))
	// ("full jitter").
	BaseDelay, MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits out; a
	// longer one fails the call at once with a rate-limit error saying
	// when to try again, so the engine can schedule it.
	MaxRetryAfter time.Duration
	// Rand returns a number in [0, 1) for the jitter (default
	// math/rand/v2).
	Rand func() float64
	// Sleep waits for d or until ctx ends (default a timer). Tests inject
	// a recording sleeper to run retries without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
}

// WithDefaults fills p's zero fields from def, then from the package's own
// defaults; MaxDelay is at least BaseDelay.
func (p Policy) WithDefaults(def Policy) Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = def.MaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = def.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = def.MaxDelay
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = def.MaxRetryAfter
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = p.MaxDelay
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 1
	}
	if p.Rand == nil {
		p.Rand = rand.Float64
	}
	if p.Sleep == nil {
		p.Sleep = backoff.Sleep
	}
	return p
}

// Backoff is the wait before retry number n (n = 1 after the first failed
// attempt).
func (p Policy) Backoff(n int) time.Duration {
	r := rand.Float64
	if p.Rand != nil {
		r = p.Rand
	}
	return backoff.FullJitter(p.BaseDelay, p.MaxDelay, n, r())
}

// Verdict is a client's judgement of one attempt.
type Verdict struct {
	// Again asks for another attempt; the loop makes it if the policy has
	// one left.
	Again bool
	// After is how long the server asked to wait; 0 means the policy's
	// backoff, unless NoWait.
	After time.Duration
	// NoWait goes again at once: a refreshed token, or a pacer that holds
	// the next request itself.
	NoWait bool
	// Extra lets this retry go one over MaxAttempts: the one retry after
	// a token refresh is not the server's failure.
	Extra bool
	// Check runs after the wait, before the next attempt, and after the
	// last attempt too: it looks for the effect of an attempt whose
	// outcome is uncertain. done ends the call with err.
	Check func(ctx context.Context) (done bool, err error)
	// WaitFailed, when set, builds the call's error when the wait is cut
	// short by ctx (err), instead of Call.WaitFailed.
	WaitFailed func(err error) error
}

// Call is one logical call's loop.
type Call struct {
	// Policy bounds the attempts and the waits; it must have its defaults.
	Policy Policy
	// Attempt makes attempt n and judges it (the client's shouldRetry).
	// err is what the call returns if no further attempt is made; last
	// says that none will be unless the verdict is Extra.
	Attempt func(ctx context.Context, n int, last bool) (v Verdict, err error)
	// OnRetry, when set, is told before each wait (for a log line): the
	// attempt that failed, the wait and its error.
	OnRetry func(n int, wait time.Duration, cause error)
	// WaitFailed builds the call's error when a wait is cut short by ctx:
	// cause is the last attempt's error, err the context's.
	WaitFailed func(cause, err error) error
}

// Do runs the loop.
func (c Call) Do(ctx context.Context) error {
	p := c.Policy
	for n := 1; ; n++ {
		v, err := c.Attempt(ctx, n, n >= p.MaxAttempts)
		if !v.Again {
			return err
		}
		more := n < p.MaxAttempts || v.Extra
		if !more && v.Check == nil {
			return err
		}
		if !v.NoWait {
			wait := v.After
			if wait <= 0 {
				wait = p.Backoff(n)
			}
			if c.OnRetry != nil {
				c.OnRetry(n, wait, err)
			}
			if serr := p.Sleep(ctx, wait); serr != nil {
				switch {
				case v.WaitFailed != nil:
					return v.WaitFailed(serr)
				case c.WaitFailed != nil:
					return c.WaitFailed(err, serr)
				}
				return serr
			}
		} else if c.OnRetry != nil {
			c.OnRetry(n, 0, err)
		}
		if v.Check != nil {
			if done, cerr := v.Check(ctx); done {
				return cerr
			}
		}
		if !more {
			return err
		}
	}
}

// WatchWrite returns ctx with a trace that records, for a request made
// with it, whether the request was written out whole: a failure after that
// leaves the outcome unknown, one before it means the server never saw the
// request. Read wrote after the client's Do returns.
func WatchWrite(ctx context.Context) (_ context.Context, wrote *atomic.Bool) {
	wrote = new(atomic.Bool)
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(true)
		}
	}}), wrote
}
