package ghltest

import (
	"net/http"
	"strconv"
	"time"

	"parley/sync/internal/sandboxkit"
)

// GHL's published limits, sent in the headers when the sandbox enforces none.
const (
	ghlBurst  = 100
	ghlWindow = 10 * time.Second
	ghlDaily  = 200000
)

// window is one location's rate-limit counters. The burst window is fixed
// and starts with the first request after the previous one ended, like a
// counter with an expiry; the daily counter resets at midnight UTC.
type window struct {
	start    time.Time
	count    int
	day      time.Time
	dayCount int
}

// limitState is what one response's X-RateLimit-* headers say.
type limitState struct {
	max, remaining           int
	interval                 time.Duration
	daily, dailyRemaining    int
	dailyReset, windowResets time.Duration
}

// limitParams are the numbers in force: the configured ones, or GHL's
// published ones where the sandbox enforces nothing.
func (s *Server) limitParams() (burst int, interval time.Duration, daily int) {
	burst, interval, daily = ghlBurst, ghlWindow, ghlDaily
	rl := s.opts.RateLimit
	if rl.Burst > 0 {
		burst, interval = rl.Burst, rl.Window
	}
	if rl.Daily > 0 {
		daily = rl.Daily
	}
	return burst, interval, daily
}

// roll starts a new burst window or day when the current one has ended.
func (wn *window) roll(now time.Time, interval time.Duration) {
	if wn.start.IsZero() || !now.Before(wn.start.Add(interval)) {
		wn.start, wn.count = now, 0
	}
	day := now.UTC().Truncate(24 * time.Hour)
	if !wn.day.Equal(day) {
		wn.day, wn.dayCount = day, 0
	}
}

// windowLocked returns loc's rate-limit window, rolled forward to now.
// Callers hold s.metaMu.
func (s *Server) windowLocked(loc string, now time.Time, interval time.Duration) *window {
	wn := s.limits[loc]
	if wn == nil {
		wn = &window{}
		s.limits[loc] = wn
	}
	wn.roll(now, interval)
	return wn
}

// admit counts one authenticated API request against its location's limits
// and sets the headers. Over a limit it answers 429 itself and returns false;
// a refused request does not count.
func (s *Server) admit(w http.ResponseWriter, loc string) bool {
	now := s.now()
	burst, interval, daily := s.limitParams()
	s.metaMu.Lock()
	wn := s.windowLocked(loc, now, interval)
	rl := s.opts.RateLimit
	overBurst := rl.Burst > 0 && wn.count >= rl.Burst
	overDaily := rl.Daily > 0 && wn.dayCount >= rl.Daily
	if !overBurst && !overDaily {
		wn.count++
		wn.dayCount++
	}
	st := s.limitStateLocked(wn, now, burst, interval, daily)
	s.metaMu.Unlock()

	switch {
	case overDaily:
		st.dailyRemaining = 0
		writeLimitHeaders(w, st)
		w.Header().Set("Retry-After", sandboxkit.RetryAfterSeconds(st.dailyReset))
		writeJSON(w, http.StatusTooManyRequests, errorBody(http.StatusTooManyRequests, msgTooManyReqs))
		return false
	case overBurst:
		st.remaining = 0
		writeLimitHeaders(w, st)
		w.Header().Set("Retry-After", sandboxkit.RetryAfterSeconds(st.windowResets))
		writeJSON(w, http.StatusTooManyRequests, errorBody(http.StatusTooManyRequests, msgTooManyReqs))
		return false
	}
	writeLimitHeaders(w, st)
	return true
}

func (s *Server) limitStateLocked(wn *window, now time.Time, burst int, interval time.Duration, daily int) limitState {
	st := limitState{
		max:          burst,
		interval:     interval,
		daily:        daily,
		dailyReset:   wn.day.Add(24 * time.Hour).Sub(now),
		windowResets: wn.start.Add(interval).Sub(now),
	}
	rl := s.opts.RateLimit
	if rl.Burst > 0 {
		st.remaining = max(0, burst-wn.count)
	} else {
		// Not enforced: count down like GHL would but never reach 0, so a
		// client pacing itself by the headers is never told to stop.
		st.remaining = burst - 1 - (max(wn.count-1, 0) % (burst - 1))
	}
	if rl.Daily > 0 {
		st.dailyRemaining = max(0, daily-wn.dayCount)
	} else {
		st.dailyRemaining = max(1, daily-wn.dayCount)
	}
	return st
}

// setLimitHeaders sets the headers of a response that does not count (an
// unauthenticated request, /oauth/token, a fault). zeroBurst reports the
// burst as used up, as a 429 does.
func (s *Server) setLimitHeaders(w http.ResponseWriter, loc string, zeroBurst bool) {
	now := s.now()
	burst, interval, daily := s.limitParams()
	s.metaMu.Lock()
	wn := s.windowLocked(loc, now, interval)
	st := s.limitStateLocked(wn, now, burst, interval, daily)
	s.metaMu.Unlock()
	if zeroBurst {
		st.remaining = 0
	}
	writeLimitHeaders(w, st)
}

func writeLimitHeaders(w http.ResponseWriter, st limitState) {
	h := w.Header()
	h.Set("X-RateLimit-Max", strconv.Itoa(st.max))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(st.remaining))
	h.Set("X-RateLimit-Interval-Milliseconds", strconv.FormatInt(st.interval.Milliseconds(), 10))
	h.Set("X-RateLimit-Limit-Daily", strconv.Itoa(st.daily))
	h.Set("X-RateLimit-Daily-Remaining", strconv.Itoa(st.dailyRemaining))
	h.Set("X-RateLimit-Daily-Reset", strconv.FormatInt(max(st.dailyReset.Milliseconds(), 0), 10))
}
