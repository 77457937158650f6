package ghltest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"parley/sync/internal/sandboxkit"
)

// InjectFault queues f; faults are consumed in injection order. f.Route is
// "METHOD /path/template" exactly as the spec writes it, e.g.
// "POST /conversations/messages/inbound", or "" for every route. A
// FaultStatus answers as GHL does for that status: 429 with the real
// X-RateLimit-* headers (burst remaining 0), 401 as for an expired token,
// 502 and 504 with a gateway's HTML page, others with GHL's JSON error
// body (f.Body, when set, as its message).
func (s *Server) InjectFault(f sandboxkit.Fault) error {
	if f.Route != "" && !s.spec.hasRoute(f.Route) {
		return fmt.Errorf("ghltest: inject fault: the spec has no route %q (write it as \"METHOD /path/{param}\")", f.Route)
	}
	if err := s.faults.Inject(f); err != nil {
		return fmt.Errorf("ghltest: %w", err)
	}
	return nil
}

// ClearFaults removes every queued fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// serveFault answers c with f around the normal pipeline.
func (s *Server) serveFault(c *reqCtx, f sandboxkit.Fault) {
	if f.Kind == sandboxkit.FaultMalformedBefore {
		s.setLimitHeaders(c.w, c.loc, false)
	}
	status := func(w http.ResponseWriter, f sandboxkit.Fault) { s.writeStatusFault(w, c.loc, f) }
	next := func(w http.ResponseWriter) {
		inner := *c
		inner.w = w
		s.serve(&inner)
	}
	f.Serve(c.w, c.r, status, next)
}

// writeStatusFault answers a FaultStatus the way GHL and the gateways in
// front of it do.
func (s *Server) writeStatusFault(w http.ResponseWriter, loc string, f sandboxkit.Fault) {
	s.setLimitHeaders(w, loc, f.Status == http.StatusTooManyRequests)
	msg := f.Body
	switch f.Status {
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		// Gateways answer with their own HTML page, not the API's JSON.
		title := strconv.Itoa(f.Status) + " " + http.StatusText(f.Status)
		if msg == "" {
			msg = title
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte("<html><head><title>" + title + "</title></head><body><center><h1>" + msg + "</h1></center></body></html>\n"))
		return
	case http.StatusUnauthorized:
		if msg == "" {
			msg = msgInvalidJWT // what GHL answers for an expired token
		}
	case http.StatusTooManyRequests:
		if msg == "" {
			msg = msgTooManyReqs
		}
	case http.StatusInternalServerError:
		if msg == "" {
			msg = "Internal server error"
		}
	}
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	writeJSON(w, f.Status, errorBody(f.Status, msg))
}

// Calls is how many requests reached route ("METHOD /path/template"),
// including rejected and faulted ones.
func (s *Server) Calls(route string) int { return s.calls.Count(route) }

// CallCounts is Calls for every route called so far.
func (s *Server) CallCounts() map[string]int { return s.calls.Counts() }

// Requests returns the last requests of route, oldest first. Their Body is
// empty: the sandbox reads bodies after recording, in validation.
func (s *Server) Requests(route string) []sandboxkit.Request { return s.calls.Requests(route) }

// ResetCalls zeroes the call counts and forgets recorded requests.
func (s *Server) ResetCalls() { s.calls.Reset() }

// hasRoute reports whether a spec document has the operation key names.
func (sp *specs) hasRoute(key string) bool {
	method, path, ok := strings.Cut(key, " ")
	if !ok {
		return false
	}
	for _, doc := range sp.docs {
		if item := doc.Paths.Value(path); item != nil && item.GetOperation(method) != nil {
			return true
		}
	}
	return false
}
