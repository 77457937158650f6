package sandboxkit

import (
	"maps"
	"net/http"
	"slices"
	"sync"
)

// Request is a recorded request, for tests to inspect.
type Request struct {
	Method string
	// Path is the URL path, RawQuery the query string.
	Path, RawQuery string
	Header         http.Header
	// Body is the request body of writes up to 64 KiB, where the sandbox
	// has read it before recording.
	Body string
}

const (
	keepRequests = 50       // per route, the latest
	keepBody     = 64 << 10 // bytes of a body kept at most
)

// Calls counts the calls per route and keeps the latest requests of each.
// It is safe for concurrent use; the zero value is empty.
type Calls struct {
	mu       sync.Mutex
	counts   map[string]int
	requests map[string][]Request
}

// Record counts one call to route and keeps its request; body is what the
// sandbox has read of it (nil when it reads the body later).
func (c *Calls) Record(route string, r *http.Request, body []byte) {
	req := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone()}
	if r.Method != http.MethodGet && len(body) <= keepBody {
		req.Body = string(body)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts, c.requests = map[string]int{}, map[string][]Request{}
	}
	c.counts[route]++
	rs := append(c.requests[route], req)
	if len(rs) > keepRequests {
		rs = rs[len(rs)-keepRequests:]
	}
	c.requests[route] = rs
}

// Count is how many calls reached route.
func (c *Calls) Count(route string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[route]
}

// Counts is Count for every route called so far.
func (c *Calls) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Requests returns the latest requests of route, oldest first.
func (c *Calls) Requests(route string) []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.requests[route])
}

// Reset zeroes the counts and forgets the requests.
func (c *Calls) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts, c.requests = nil, nil
}
