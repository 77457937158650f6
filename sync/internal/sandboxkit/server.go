package sandboxkit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
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
	// Name starts every error, e.g. "adtest".
	Name string
	// Addr is where Listen("") listens; default DefaultAddr.
	Addr string
	// Logger receives the server's own errors at debug level; nil
	// discards them.
	Logger *slog.Logger

	mu     sync.Mutex
	ts     *httptest.Server
	cancel context.CancelFunc
	closed bool
}

// Listen serves h on addr (Addr when empty, then DefaultAddr) and returns
// the server's root URL, e.g. "http://127.0.0.1:41234".
func (s *HTTP) Listen(addr string, h http.Handler) (string, error) {
	u, err := s.listen(addr, h)
	if err != nil && s.Name != "" {
		err = fmt.Errorf("%s: %w", s.Name, err)
	}
	return u, err
}

func (s *HTTP) listen(addr string, h http.Handler) (string, error) {
	addr = cmp.Or(addr, s.Addr, DefaultAddr)
	log := s.Logger
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

// Listener is what ServeForTest needs of a sandbox.
type Listener interface {
	// Listen serves on addr, or on the sandbox's own Options.Addr when
	// addr is "".
	Listen(addr string) (string, error)
	Close() error
}

// ServeForTest serves s, just built with error err, and closes it when tb
// ends; it fails tb if either step fails. It is each sandbox's
// NewTestServer.
func ServeForTest[S Listener](tb testing.TB, s S, err error) S {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := s.Listen(""); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}
