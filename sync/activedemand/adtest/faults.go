package adtest

import (
	"fmt"

	"parley/sync/internal/sandbox"
)

// Fault is an injected failure; Route is a route name (e.g.
// activedemand.RouteMessagesList), or "" for every route. A FaultStatus
// answers in AD's error format, with Body as the message.
type Fault = sandbox.Fault

// FaultKind is a kind of injected failure.
type FaultKind = sandbox.FaultKind

// The fault kinds, the same in both sandboxes; see package sandbox.
const (
	FaultStatus          = sandbox.FaultStatus
	FaultSlow            = sandbox.FaultSlow
	FaultDropBefore      = sandbox.FaultDropBefore
	FaultDropAfter       = sandbox.FaultDropAfter
	FaultMalformedBefore = sandbox.FaultMalformedBefore
	FaultMalformedAfter  = sandbox.FaultMalformedAfter
)

// InjectFault queues f. Faults for a route apply in the order injected.
func (s *Server) InjectFault(f Fault) error {
	if f.Route != "" {
		if _, ok := s.routes.Route(f.Route); !ok {
			return fmt.Errorf("adtest: inject fault: no route %q", f.Route)
		}
	}
	if err := s.faults.Inject(f); err != nil {
		return fmt.Errorf("adtest: %w", err)
	}
	return nil
}

// ClearFaults removes every queued fault.
func (s *Server) ClearFaults() { s.faults.Clear() }
