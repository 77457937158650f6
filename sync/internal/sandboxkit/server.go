package sandboxkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// DefaultAddr is where a sandbox listens when no address is given: a free
// loopback port.
const DefaultAddr = "127.0.0.1:0"

// HTTP serves a sandbox's handler on a listener of its own. It is built
// on httptest.Server, whose Close already closes idle connections and
// connections that never sent a request, and waits for running handlers.
// Request contexts end when Close starts, so a handler that waits (a slow
// fault) stops at once. The zero value is ready to Listen.
type HTTP struct {
	mu     sync.Mutex
	ts     *httptest.Server
	cancel context.CancelFunc
	closed bool
}

// Listen serves h on addr (DefaultAddr when empty) and returns the
// server's root URL, e.g. "http://127.0.0.1:41234". log receives the
// server's own errors at debug level; nil discards them.
func (s *HTTP) Listen(addr string, h http.Handler, log *slog.Logger) (string, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return "", errors.New("listen: the sandbox is closed; start a new one")
	case s.ts != nil:
		return "", fmt.Errorf("listen on %s: already listening on %s", addr, s.ts.URL)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := httptest.NewUnstartedServer(h)
	_ = ts.Listener.Close() // the one httptest opened on a port of its choosing
	ts.Listener = ln
	ts.Config.ReadHeaderTimeout = 10 * time.Second
	ts.Config.BaseContext = func(net.Listener) context.Context { return ctx }
	ts.Config.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelDebug)
	ts.Start()
	s.ts, s.cancel = ts, cancel
	return ts.URL, nil
}

// URL is the root URL Listen returned, or "" before.
func (s *HTTP) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts == nil {
		return ""
	}
	return s.ts.URL
}

// Close stops serving and waits for running handlers. It may be called
// more than once, and before Listen.
func (s *HTTP) Close() {
	s.mu.Lock()
	ts, cancel := s.ts, s.cancel
	s.closed = true
	s.mu.Unlock()
	if ts == nil {
		return
	}
	cancel()
	ts.Close()
}
