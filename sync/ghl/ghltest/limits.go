package ghltest

import (
	"context"
	"maps"
	"net"
	"net/http"
	"strconv"
	"time"
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
		w.Header().Set("Retry-After", retryAfterSeconds(st.dailyReset))
		writeJSON(w, http.StatusTooManyRequests, errorBody(http.StatusTooManyRequests, msgTooManyReqs))
		return false
	case overBurst:
		st.remaining = 0
		writeLimitHeaders(w, st)
		w.Header().Set("Retry-After", retryAfterSeconds(st.windowResets))
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

// retryAfterSeconds is d in whole seconds, rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}

// Fault injection.

// Fault makes the next Times calls to Route fail in the way Kind says. Route
// is "METHOD /path/template" exactly as the spec writes it, e.g.
// "POST /conversations/messages/inbound"; "" matches any route. Faults are
// consumed in injection order.
//
// A dropped connection (FaultDrop, FaultDropAfterApply) on a request Go's
// http.Transport considers replayable (GET, HEAD, or anything with an
// Idempotency-Key header) that went over a reused keep-alive connection is
// retried once by the transport itself, invisibly to its caller: use
// Times: 2 to make such a call fail.
type Fault struct {
	Route      string
	Kind       FaultKind
	Times      int           // default 1
	Delay      time.Duration // FaultSlow: delay before a normal answer
	RetryAfter time.Duration // FaultRateLimit: sent as Retry-After (whole seconds, rounded up) when > 0
}

// FaultKind is how an injected fault fails a call.
type FaultKind int

// The fault kinds.
const (
	FaultRateLimit      FaultKind = iota + 1 // 429 with the real X-RateLimit-* headers (burst remaining 0)
	FaultServerError                         // 500
	FaultBadGateway                          // 502
	FaultUnavailable                         // 503
	FaultGatewayTimeout                      // 504
	FaultSlow                                // sleeps Delay (honouring the request context), then answers normally
	FaultDrop                                // closes the connection without an answer; the request is NOT applied
	FaultDropAfterApply                      // applies the request (state changes), then closes the connection without an answer
	FaultMalformedJSON                       // 200 with a truncated JSON body; the request is NOT applied
	FaultExpiredToken                        // 401 as GHL answers for an expired token, whatever token was sent
)

// String names the kind for test output.
func (k FaultKind) String() string {
	names := map[FaultKind]string{
		FaultRateLimit: "FaultRateLimit", FaultServerError: "FaultServerError", FaultBadGateway: "FaultBadGateway",
		FaultUnavailable: "FaultUnavailable", FaultGatewayTimeout: "FaultGatewayTimeout", FaultSlow: "FaultSlow",
		FaultDrop: "FaultDrop", FaultDropAfterApply: "FaultDropAfterApply", FaultMalformedJSON: "FaultMalformedJSON",
		FaultExpiredToken: "FaultExpiredToken",
	}
	if n, ok := names[k]; ok {
		return n
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

type pendingFault struct {
	Fault
	left int
}

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.metaMu.Lock()
	s.faults = append(s.faults, &pendingFault{Fault: f, left: f.Times})
	s.metaMu.Unlock()
}

func (s *Server) takeFault(key string) (Fault, bool) {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	for i, f := range s.faults {
		if f.Route != "" && f.Route != key {
			continue
		}
		f.left--
		if f.left <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return f.Fault, true
	}
	return Fault{}, false
}

// applyFault answers with the fault, or (FaultSlow, FaultDropAfterApply)
// runs the normal pipeline around it. It returns whether the request has
// been handled.
func (s *Server) applyFault(c *reqCtx, f Fault) bool {
	w := c.w
	switch f.Kind {
	case FaultRateLimit:
		s.setLimitHeaders(w, c.loc, true)
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", retryAfterSeconds(f.RetryAfter))
		}
		writeJSON(w, http.StatusTooManyRequests, errorBody(http.StatusTooManyRequests, msgTooManyReqs))
	case FaultServerError:
		s.setLimitHeaders(w, c.loc, false)
		writeJSON(w, http.StatusInternalServerError, errorBody(http.StatusInternalServerError, "Internal server error"))
	case FaultUnavailable:
		s.setLimitHeaders(w, c.loc, false)
		writeJSON(w, http.StatusServiceUnavailable, errorBody(http.StatusServiceUnavailable, "Service Unavailable"))
	case FaultBadGateway, FaultGatewayTimeout:
		// Gateways answer with their own HTML page, not the API's JSON.
		status := http.StatusBadGateway
		if f.Kind == FaultGatewayTimeout {
			status = http.StatusGatewayTimeout
		}
		s.setLimitHeaders(w, c.loc, false)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html><head><title>" + strconv.Itoa(status) + " " + http.StatusText(status) +
			"</title></head><body><center><h1>" + strconv.Itoa(status) + " " + http.StatusText(status) + "</h1></center></body></html>\n"))
	case FaultSlow:
		// A client that gives up gets nothing: its context ended.
		return !sleepCtx(c.r.Context(), f.Delay)
	case FaultDrop:
		dropConnection(w)
	case FaultDropAfterApply:
		buf := &bufferedWriter{header: http.Header{}}
		inner := *c
		inner.w = buf
		s.serve(&inner)
		dropConnection(w)
	case FaultMalformedJSON:
		s.setLimitHeaders(w, c.loc, false)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"success":true,"id":"ve9EPM428h8v`))
	case FaultExpiredToken:
		s.setLimitHeaders(w, c.loc, false)
		writeJSON(w, http.StatusUnauthorized, errorBody(http.StatusUnauthorized, msgInvalidJWT))
	default:
		return false
	}
	return true
}

// dropConnection closes the client's connection without writing a response.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// No connection to take over (HTTP/2, or a recorder): abort the
		// handler, which makes net/http reset the stream or connection.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		// Discard unsent data so the close is immediate.
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// bufferedWriter swallows the answer of a request whose connection is then
// dropped.
type bufferedWriter struct {
	header http.Header
	status int
	body   []byte
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	b.body = append(b.body, p...)
	return len(p), nil
}

// Call counting.

func (s *Server) countCall(key string) {
	s.metaMu.Lock()
	s.calls[key]++
	s.metaMu.Unlock()
}

// Calls is how many requests reached route ("METHOD /path/template"),
// including rejected and faulted ones.
func (s *Server) Calls(route string) int {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	return s.calls[route]
}

// CallCounts is Calls for every route called so far.
func (s *Server) CallCounts() map[string]int {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	return maps.Clone(s.calls)
}

// ResetCounts sets every call count back to zero.
func (s *Server) ResetCounts() {
	s.metaMu.Lock()
	s.calls = map[string]int{}
	s.metaMu.Unlock()
}

// sleepCtx waits d or until ctx ends; it reports whether d elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
