package adtest

import (
	"fmt"

	"parley/sync/internal/sandboxkit"
)

// InjectFault queues f. f.Route is a route name (e.g.
// activedemand.RouteMessagesList), or "" for every route; faults for a
// route apply in the order injected. A FaultStatus answers in AD's error
// format, with f.Body as the message.
func (s *Server) InjectFault(f sandboxkit.Fault) error {
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
