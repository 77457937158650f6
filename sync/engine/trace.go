package engine

import (
	"context"
	"net/http"
	"sync"
)

// The HighLevel client reports each call to one Observer, without the
// context of the job that made it, so history could not carry the status of
// a successful call. Transport reads it on the way back instead: each
// engine call puts a trace in its context, and the client's requests carry
// that context down to the transport.

// Transport wraps next (nil: http.DefaultTransport) for the HighLevel
// client's HTTPClient, so that the engine's history rows carry the HTTP
// status of every call, successful ones included. Requests made outside
// the engine pass through untouched.
func Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return tracingTransport{next}
}

type tracingTransport struct{ next http.RoundTripper }

func (t tracingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(r)
	if tr, ok := r.Context().Value(traceKey{}).(*trace); ok {
		status := 0
		if err == nil {
			status = res.StatusCode
		}
		tr.add(r.Method, status)
	}
	return res, err
}

// CloseIdleConnections passes on to next, so that the client's
// CloseIdleConnections reaches the connections under the wrapper.
func (t tracingTransport) CloseIdleConnections() { closeIdle(t.next) }

// closeIdle closes rt's idle connections, if it keeps any.
func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

type traceKey struct{}

// trace collects the requests of one engine call.
type trace struct {
	mu       sync.Mutex
	requests int
	// status is the last status of a request with the call's method (a
	// record's own POST, not the altId lookup it may make).
	method string
	status int
}

func (t *trace) add(method string, status int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	if method == t.method {
		t.status = status
	}
}

func (t *trace) result() (requests, status int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.requests, t.status
}

func withTrace(ctx context.Context, method string) (context.Context, *trace) {
	tr := &trace{method: method}
	return context.WithValue(ctx, traceKey{}, tr), tr
}
