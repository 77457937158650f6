package engine_test

import (
	"net/http"
	"sync/atomic"
	"testing"

	"parley/sync/engine"
)

// idleCloser is a transport that counts the calls to close its idle
// connections.
type idleCloser struct {
	http.RoundTripper
	closed atomic.Int32
}

func (c *idleCloser) CloseIdleConnections() { c.closed.Add(1) }

// TestTransportsCloseIdleConnections: the engine's wrappers around the
// HighLevel client's transport pass CloseIdleConnections on, so that
// ghl.Client.CloseIdleConnections closes the connections of a finished
// run instead of leaving them (and a goroutine pair each) to the idle
// timeout. The soak found them left behind.
func TestTransportsCloseIdleConnections(t *testing.T) {
	for name, wrap := range map[string]func(http.RoundTripper) http.RoundTripper{
		"Transport":     engine.Transport,
		"Control.Meter": engine.NewControl(newStore(t)).Meter,
		"both, as a run": func(rt http.RoundTripper) http.RoundTripper {
			return engine.Transport(engine.NewControl(nil).Meter(rt))
		},
	} {
		next := &idleCloser{RoundTripper: http.DefaultTransport}
		(&http.Client{Transport: wrap(next)}).CloseIdleConnections()
		if next.closed.Load() != 1 {
			t.Errorf("%s: the wrapped transport's idle connections were not closed", name)
		}
	}
}
