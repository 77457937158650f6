package adtest

import (
	"fmt"
	"time"
)

// FaultKind is a kind of injected failure.
type FaultKind string

// Fault kinds.
const (
	// FaultStatus answers Status (a 5xx, 401, 403, 429...) without
	// applying the request; RetryAfter, if set, is sent with it.
	FaultStatus FaultKind = "status"
	// FaultSlow waits Delay, then serves the request normally.
	FaultSlow FaultKind = "slow"
	// FaultDropBefore reads the request and closes the connection
	// without applying it or replying.
	FaultDropBefore FaultKind = "drop-before"
	// FaultDropAfter applies the request, then closes the connection
	// without replying: the client cannot know it was applied.
	FaultDropAfter FaultKind = "drop-after"
	// FaultMalformed applies the request and replies 200 with a
	// truncated JSON body.
	FaultMalformed FaultKind = "malformed"
)

// Fault is an injected failure for one route.
type Fault struct {
	Kind FaultKind
	// Status is the HTTP status for FaultStatus.
	Status int
	// Body replaces the error message for FaultStatus.
	Body string
	// RetryAfter is sent with FaultStatus (whole seconds, rounded up).
	RetryAfter time.Duration
	// Delay is FaultSlow's wait.
	Delay time.Duration
	// Times is how many calls the fault affects: 0 means 1, negative
	// means every call until ClearFaults.
	Times int
}

type faultState struct {
	Fault
	left int
}

// InjectFault queues f for route (a route name, e.g.
// activedemand.RouteMessagesList). Faults for a route apply in the order
// injected.
func (s *Server) InjectFault(route string, f Fault) error {
	if _, ok := s.routes.Route(route); !ok {
		return fmt.Errorf("adtest: inject fault: no route %q", route)
	}
	switch f.Kind {
	case FaultStatus:
		if f.Status < 400 || f.Status > 599 {
			return fmt.Errorf("adtest: inject fault: status %d is not an error status", f.Status)
		}
	case FaultSlow:
		if f.Delay <= 0 {
			return fmt.Errorf("adtest: inject fault: slow needs a Delay")
		}
	case FaultDropBefore, FaultDropAfter, FaultMalformed:
	default:
		return fmt.Errorf("adtest: inject fault: unknown kind %q", f.Kind)
	}
	left := f.Times
	if left == 0 {
		left = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[route] = append(s.faults[route], &faultState{Fault: f, left: left})
	return nil
}

// ClearFaults removes every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[string][]*faultState{}
}

// takeFault returns the fault for this call, if any; s.mu is held.
func (s *Server) takeFault(route string) *Fault {
	q := s.faults[route]
	if len(q) == 0 {
		return nil
	}
	f := q[0]
	if f.left > 0 {
		f.left--
		if f.left == 0 {
			s.faults[route] = q[1:]
		}
	}
	out := f.Fault
	return &out
}
