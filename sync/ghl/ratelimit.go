package ghl

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// HighLevel's documented limits: 100 requests per 10 seconds per location
// (burst), 200,000 per day.
const (
	defaultLimitMax      = 100
	defaultLimitInterval = 10 * time.Second
)

// jitterSlack is the share of a window the pacing leaves for requests that
// arrive later than they were sent (scheduling, network): a window on the
// server can hold requests sent over up to Interval·(1+jitterSlack).
const jitterSlack = 0.03

// RateLimit configures client-side pacing.
type RateLimit struct {
	// Disabled turns pacing off, for a sandbox without limits. The daily
	// quota is still honoured: a used-up quota fails fast.
	Disabled bool
	// Max and Interval are the burst limit assumed until HighLevel's
	// X-RateLimit-Max and X-RateLimit-Interval-Milliseconds headers say
	// otherwise (default 100 per 10 s, HighLevel's documented limit).
	Max      int
	Interval time.Duration
	// Pacer shares pacing between clients of the same locations; nil gives
	// the client its own.
	Pacer *Pacer
}

// Pacer paces requests per location so that HighLevel's fixed windows of
// Max requests per Interval are never exceeded, and remembers when a
// location's daily quota is used up. It is safe for concurrent use; share
// one between clients that talk to the same locations.
//
// Pacing is a token bucket of burst 1 and rate (Max-1)/(Interval·1.03): sent
// at most every 1/rate, requests fill at most Max-1 slots in any interval of
// Interval·1.03, so a fixed window on the server holds at most Max requests
// even when arrivals are delayed by up to 3% of the window, and the client
// still uses about 96% of the budget. On top, X-RateLimit-Remaining: 0 stops
// the location until its window can have ended (the answer with Remaining
// Max-1 tells when the window began), and a 429's Retry-After stops it until
// then.
type Pacer struct {
	max      int
	interval time.Duration
	now      func() time.Time

	mu   sync.Mutex
	locs map[string]*locPacer
}

// NewPacer returns a pacer assuming max requests per interval until
// HighLevel's headers say otherwise (0 means HighLevel's documented 100 per
// 10 s).
func NewPacer(max int, interval time.Duration) *Pacer {
	if max <= 0 {
		max = defaultLimitMax
	}
	if interval <= 0 {
		interval = defaultLimitInterval
	}
	return &Pacer{max: max, interval: interval, now: time.Now, locs: make(map[string]*locPacer)}
}

type locPacer struct {
	lim *rate.Limiter

	mu           sync.Mutex
	max          int
	interval     time.Duration
	blockedUntil time.Time
	dailyUntil   time.Time
	windowEnd    time.Time // latest end of the current window, when known
}

func (p *Pacer) loc(id string) *locPacer {
	p.mu.Lock()
	defer p.mu.Unlock()
	lp := p.locs[id]
	if lp == nil {
		r, b := limiterSize(p.max, p.interval)
		lp = &locPacer{lim: rate.NewLimiter(r, b), max: p.max, interval: p.interval}
		p.locs[id] = lp
	}
	return lp
}

// limiterSize chooses the token bucket for a fixed window of max requests
// per interval (see Pacer).
func limiterSize(max int, interval time.Duration) (rate.Limit, int) {
	if max <= 0 || interval <= 0 {
		return rate.Inf, 1
	}
	slots := float64(max - 1)
	if max < 2 {
		slots = 1
	}
	return rate.Limit(slots / (interval.Seconds() * (1 + jitterSlack))), 1
}

// dailyExhausted reports the time left until the daily quota resets, if it
// is known to be used up.
func (lp *locPacer) dailyExhausted(now time.Time) (time.Duration, bool) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if now.Before(lp.dailyUntil) {
		return lp.dailyUntil.Sub(now), true
	}
	return 0, false
}

// blocked reports how long the location must still wait after a
// Remaining: 0 or a 429.
func (lp *locPacer) blocked(now time.Time) time.Duration {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if now.Before(lp.blockedUntil) {
		return lp.blockedUntil.Sub(now)
	}
	return 0
}

// wait blocks until a request for the location may be sent. paced=false
// skips the token bucket (pacing disabled) but still honours blocks. It
// returns daily > 0 when the daily quota is used up (without waiting).
func (p *Pacer) wait(ctx context.Context, loc string, paced bool, sleep func(context.Context, time.Duration) error) (daily time.Duration, err error) {
	lp := p.loc(loc)
	for range 3 {
		if d, ok := lp.dailyExhausted(p.now()); ok {
			return d, nil
		}
		if d := lp.blocked(p.now()); d > 0 {
			if err := sleep(ctx, d); err != nil {
				return 0, err
			}
			continue
		}
		if paced {
			if err := lp.lim.Wait(ctx); err != nil {
				if ctx.Err() != nil {
					return 0, ctx.Err()
				}
				// The limiter refuses at once when the caller's deadline
				// would pass before the request's turn.
				return 0, fmt.Errorf("the request's turn under the rate limit comes after the deadline: %w", context.DeadlineExceeded)
			}
		}
		// A block set while waiting for the bucket (another request's
		// 429) still applies to this request.
		if lp.blocked(p.now()) == 0 {
			return 0, nil
		}
	}
	return 0, nil
}

// rateHeaders is what the X-RateLimit-* headers say; negative = absent.
type rateHeaders struct {
	max            int
	interval       time.Duration
	remaining      int
	dailyRemaining int
	dailyReset     time.Duration
}

// parseRateHeaders reads HighLevel's rate-limit headers. Absent or
// unreadable values are -1 (durations 0).
func parseRateHeaders(h http.Header) rateHeaders {
	num := func(name string) int {
		v := strings.TrimSpace(h.Get(name))
		if v == "" {
			return -1
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > math.MaxInt32 {
			return -1
		}
		return int(f)
	}
	rh := rateHeaders{
		max:            num("X-RateLimit-Max"),
		remaining:      num("X-RateLimit-Remaining"),
		dailyRemaining: num("X-RateLimit-Daily-Remaining"),
	}
	if ms := num("X-RateLimit-Interval-Milliseconds"); ms > 0 {
		rh.interval = time.Duration(ms) * time.Millisecond
	}
	if ms := num("X-RateLimit-Daily-Reset"); ms > 0 {
		rh.dailyReset = time.Duration(ms) * time.Millisecond
	}
	return rh
}

// observe adapts the location's pacing to an answer's headers. retryAfter
// is the 429's Retry-After (0 otherwise).
func (p *Pacer) observe(loc string, h http.Header, status int, retryAfter time.Duration) rateHeaders {
	rh := parseRateHeaders(h)
	lp := p.loc(loc)
	now := p.now()

	lp.mu.Lock()
	defer lp.mu.Unlock()
	if rh.max > 0 && rh.interval > 0 && (rh.max != lp.max || rh.interval != lp.interval) {
		lp.max, lp.interval = rh.max, rh.interval
		r, b := limiterSize(rh.max, rh.interval)
		lp.lim.SetLimit(r)
		lp.lim.SetBurst(b)
	}
	switch {
	case rh.dailyRemaining == 0:
		reset := rh.dailyReset
		if reset <= 0 {
			reset = untilUTCMidnight(now)
		}
		lp.dailyUntil = now.Add(reset)
	case rh.dailyRemaining > 0:
		lp.dailyUntil = time.Time{}
	}
	if rh.max > 0 && rh.remaining == rh.max-1 {
		// This request opened a window: it arrived before now, so the
		// window ends before now + interval.
		lp.windowEnd = now.Add(lp.interval)
	}
	block := time.Duration(0)
	switch {
	case status == http.StatusTooManyRequests && retryAfter > 0:
		block = retryAfter
	case status == http.StatusTooManyRequests || rh.remaining == 0:
		// Wait until the window can have ended: its known end, or one
		// interval, since it started at most that long ago.
		block = lp.interval
		if end := lp.windowEnd.Sub(now); end > 0 && end < block {
			block = end
		}
	}
	if until := now.Add(block); block > 0 && until.After(lp.blockedUntil) {
		lp.blockedUntil = until
	}
	return rh
}

func untilUTCMidnight(now time.Time) time.Duration {
	u := now.UTC()
	next := time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
	return next.Sub(u)
}
