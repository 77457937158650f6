package sandboxkit

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// FaultKind is how an injected fault fails a call.
type FaultKind string

// The fault kinds. "Before" kinds leave the request unapplied; "after"
// kinds apply it first, so the client cannot know whether it took effect.
const (
	// FaultStatus answers Status without applying the request, in the
	// sandbox's own error format; RetryAfter, when set, is sent with it.
	FaultStatus FaultKind = "status"
	// FaultSlow waits Delay (ending early if the client leaves or the
	// sandbox closes), then serves the request normally.
	FaultSlow FaultKind = "slow"
	// FaultDropBefore closes the connection without applying the request
	// or replying.
	FaultDropBefore FaultKind = "drop-before"
	// FaultDropAfter applies the request, then closes the connection
	// without replying.
	FaultDropAfter FaultKind = "drop-after"
	// FaultMalformedBefore replies 200 with a truncated JSON body (Body,
	// or a default) without applying the request.
	FaultMalformedBefore FaultKind = "malformed-before"
	// FaultMalformedAfter applies the request and replies 200 with the
	// first half of the real body.
	FaultMalformedAfter FaultKind = "malformed-after"
	// FaultRandom draws one of the kinds above, or none, for each call
	// from Mix (see FaultMix); it stays queued until the faults are
	// cleared. Take returns what was drawn, never a FaultRandom.
	FaultRandom FaultKind = "random"
)

// Fault is one injected failure.
//
// A dropped connection on a request Go's http.Transport considers
// replayable (GET, HEAD, or anything with an Idempotency-Key header) that
// went over a reused keep-alive connection is retried once by the
// transport itself, invisibly to its caller: use Times: 2 to make such a
// call fail.
type Fault struct {
	// Route is the sandbox's name for the route the fault applies to; ""
	// matches every route.
	Route string
	Kind  FaultKind
	// Status is FaultStatus's HTTP status, 400 to 599.
	Status int
	// Body replaces the error message of FaultStatus, and is the broken
	// body of FaultMalformedBefore.
	Body string
	// RetryAfter is sent with FaultStatus as Retry-After, in whole
	// seconds rounded up, when positive.
	RetryAfter time.Duration
	// Delay is FaultSlow's wait.
	Delay time.Duration
	// Times is how many calls the fault affects: 0 means 1, negative
	// means every call until the faults are cleared. A FaultRandom
	// ignores it and stays until cleared.
	Times int
	// Mix draws FaultRandom's fault for each call.
	Mix *FaultMix
}

// String names the fault for test output, e.g. "status-503" or "slow".
func (f Fault) String() string {
	if f.Kind == FaultStatus {
		return string(f.Kind) + "-" + strconv.Itoa(f.Status)
	}
	return string(f.Kind)
}

// Validate reports a fault that cannot be served, so that a test finds its
// mistake when it injects, not when the call behaves oddly.
func (f Fault) Validate() error {
	switch f.Kind {
	case FaultStatus:
		if f.Status < 400 || f.Status > 599 {
			return fmt.Errorf("status %d is not an error status (400 to 599)", f.Status)
		}
	case FaultSlow:
		if f.Delay <= 0 {
			return fmt.Errorf("a slow fault needs a positive Delay")
		}
	case FaultRandom:
		if f.Mix == nil {
			return fmt.Errorf("a random fault needs a Mix (NewFaultMix)")
		}
	case FaultDropBefore, FaultDropAfter, FaultMalformedBefore, FaultMalformedAfter:
	default:
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	return nil
}

// Faults is a sandbox's queue of injected faults. A call takes the first
// queued fault whose Route matches, so faults for one route apply in the
// order injected. It is safe for concurrent use; the zero value is empty.
type Faults struct {
	mu sync.Mutex
	q  []*pendingFault
}

type pendingFault struct {
	Fault
	left int // negative: until Clear
}

// Inject queues f, or says why it cannot be served.
func (fs *Faults) Inject(f Fault) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("inject fault on %q: %w", f.Route, err)
	}
	left := f.Times
	switch {
	case f.Kind == FaultRandom:
		left = -1
	case left == 0:
		left = 1
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.q = append(fs.q, &pendingFault{Fault: f, left: left})
	return nil
}

// Take returns the fault for one call to route, if any, and uses it up. A
// FaultRandom that draws no fault for the call lets it go on to the next
// queued fault.
func (fs *Faults) Take(route string) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.q {
		if f.Route != "" && f.Route != route {
			continue
		}
		if f.Kind == FaultRandom {
			if drawn, ok := f.Mix.draw(route); ok {
				return drawn, true
			}
			continue
		}
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				fs.q = append(fs.q[:i], fs.q[i+1:]...)
			}
		}
		return f.Fault, true
	}
	return Fault{}, false
}

// Clear removes every queued fault.
func (fs *Faults) Clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.q = nil
}

// RetryAfterSeconds is d as a Retry-After value: whole seconds, rounded up,
// at least 1.
func RetryAfterSeconds(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}

// defaultMalformed is a reply cut off mid-string, as a proxy that loses
// the connection half way would deliver it.
const defaultMalformed = `{"success":true,"id":"ve9EPM428h8v`

// Serve answers one call with f. status writes the sandbox's own answer
// for a FaultStatus (its error body, its headers); next is the sandbox's
// normal handling of the call, from authentication on, which the slow and
// "after" kinds run (the "after" kinds into a recorder the client never
// sees).
func (f Fault) Serve(w http.ResponseWriter, r *http.Request, status func(http.ResponseWriter, Fault), next func(http.ResponseWriter)) {
	switch f.Kind {
	case FaultStatus:
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", RetryAfterSeconds(f.RetryAfter))
		}
		status(w, f)
	case FaultSlow:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			next(w)
		case <-r.Context().Done():
			// The client gave up or the sandbox is closing: nobody reads
			// an answer.
		}
	case FaultDropBefore:
		Drop(w)
	case FaultDropAfter:
		next(httptest.NewRecorder())
		Drop(w)
	case FaultMalformedBefore:
		body := f.Body
		if body == "" {
			body = defaultMalformed
		}
		writeBroken(w, []byte(body))
	case FaultMalformedAfter:
		rec := httptest.NewRecorder()
		next(rec)
		writeBroken(w, Truncate(rec.Body.Bytes()))
	default:
		next(w)
	}
}

func writeBroken(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// Truncate cuts a JSON body in half so that it no longer parses; a body
// too short to cut becomes the start of a list.
func Truncate(body []byte) []byte {
	if len(body) > 2 {
		return body[:len(body)/2]
	}
	return []byte(`[{"id": `)
}

// Drop closes the client's connection without writing a response.
func Drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// No connection to take over (HTTP/2, or a recorder): abort the
		// handler, which makes net/http reset the stream or connection.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
		// Discard unsent data so the close is immediate.
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
