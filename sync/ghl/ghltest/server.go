// Package ghltest is a stateful HighLevel (GHL) sandbox: an HTTP server that
// answers the Conversations, Contacts and OAuth endpoints Parley uses, from
// the official OpenAPI files in openapi/, validating every request against
// them.
//
// It is an independent implementation of the spec (it does not share code
// with Parley's client), so the contract between the two is the spec itself.
// A request the live API would refuse gets the live API's status and error
// body, and is recorded (Rejections), so a test that sends one notices.
// Tokens, scopes, rate limits and faults behave like the live API's, and a
// sandbox built with Options.Seed holds the demo business from demobiz.
//
// Where the spec is wrong or silent, openapi/ERRATA.md says so and
// patches.go corrects the loaded spec, one named function per item.
package ghltest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// The OAuth app credentials a sandbox accepts unless Options says otherwise.
// They open nothing but the sandbox.
const (
	DefaultClientID     = "parley-demo-client"
	DefaultClientSecret = "parley-demo-secret"
)

// Options configures a sandbox. The zero value is usable.
type Options struct {
	LocationID     string        // default "loc_harbourview_demo"
	CompanyID      string        // default "comp_parley_demo"
	ClientID       string        // OAuth app client id, default "parley-demo-client"
	ClientSecret   string        // default "parley-demo-secret"
	AccessTokenTTL time.Duration // default 24h (GHL answers expires_in 86399)
	RateLimit      RateLimit     // zero value: no limits enforced, but the headers are still sent
	Seed           bool          // fill the location from demobiz (the demo); false = empty location
	SeedValue      uint64        // demobiz seed, default 1
	// SeedTime is the reference time of the demo's history; default Now().
	// Demo mode passes the same time to both sandboxes so their copies of
	// the demo business match to the second.
	SeedTime time.Time
	// Now is the clock for token expiry, timestamps and the rate-limit
	// windows; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger // optional; nil = discard
	// SpecShapes makes GET /conversations/{conversationId}/messages and GET
	// /conversations/messages/{id} answer exactly the spec's DTOs (flat list;
	// the message itself). Default false = the shapes the live API is
	// reported to send: {"messages": {"lastMessageId", "nextPage",
	// "messages": [...]}} and {"message": {...}, "traceId": "..."}. Clients
	// must accept both.
	SpecShapes bool
}

// RateLimit is GHL's per-location limit: Burst requests per Window, and Daily
// per day.
type RateLimit struct {
	Burst  int           // GHL: 100
	Window time.Duration // GHL: 10s
	Daily  int           // GHL: 200000; 0 = no daily limit
}

// Rejection is one request the sandbox refused because it does not follow
// the spec: a parameter or body the validator rejected, a path the spec does
// not have, or an operation the sandbox does not implement.
type Rejection struct {
	Route, Method, Path string
	Status              int
	Reason              string
}

// Server is one sandbox location. It implements http.Handler; Listen serves
// it on a loopback port.
type Server struct {
	opts  Options
	now   func() time.Time
	log   *slog.Logger
	spec  *specs
	valid *openapi3filter.Options

	mu sync.Mutex // guards st
	st *state

	metaMu     sync.Mutex // guards the fields below
	calls      map[string]int
	faults     []*pendingFault
	rejections []Rejection
	limits     map[string]*window

	expectRejections atomic.Bool

	connMu   sync.Mutex
	newConns map[net.Conn]bool // connections that have not sent a request yet

	lnMu      sync.Mutex
	httpSrv   *http.Server
	url       string
	cancel    context.CancelFunc
	serveDone chan struct{}
}

// New builds a sandbox: it loads, patches and validates the spec and fills
// the location (from demobiz when opts.Seed). It does not listen.
func New(opts Options) (*Server, error) {
	if opts.LocationID == "" {
		opts.LocationID = "loc_harbourview_demo"
	}
	if opts.CompanyID == "" {
		opts.CompanyID = "comp_parley_demo"
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.AccessTokenTTL <= 0 {
		opts.AccessTokenTTL = 24 * time.Hour
	}
	if opts.SeedValue == 0 {
		opts.SeedValue = 1
	}
	if opts.RateLimit.Burst > 0 && opts.RateLimit.Window <= 0 {
		opts.RateLimit.Window = 10 * time.Second
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sp, err := sharedSpecs()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:   opts,
		now:    now,
		log:    log,
		spec:   sp,
		calls:  map[string]int{},
		limits: map[string]*window{},
		valid: &openapi3filter.Options{
			// Authentication and scopes are checked by the sandbox itself,
			// before validation, with GHL's statuses and messages.
			AuthenticationFunc: func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
			MultiError:         true,
			// Handlers apply the spec's defaults themselves; rewriting every
			// body would cost a re-encode per request.
			SkipSettingDefaults: true,
		},
	}
	s.st = newState(opts.LocationID, opts.CompanyID, opts.SeedValue)
	if opts.Seed {
		at := opts.SeedTime
		if at.IsZero() {
			at = now()
		}
		s.st.seed(at)
	}
	return s, nil
}

// NewTestServer is New + Listen("127.0.0.1:0") + tb.Cleanup(Close). At
// cleanup it reports (tb.Errorf) every request the spec validator rejected,
// unless the test called ExpectRejections. It fails tb if New fails.
func NewTestServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := New(opts)
	if err != nil {
		tb.Fatalf("ghltest: %v", err)
	}
	if _, err := s.Listen("127.0.0.1:0"); err != nil {
		tb.Fatalf("ghltest: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("%v", err)
		}
		if s.expectRejections.Load() {
			return
		}
		for _, r := range s.Rejections() {
			tb.Errorf("ghltest: the sandbox rejected %s %s (route %q) with %d: %s", r.Method, r.Path, r.Route, r.Status, r.Reason)
		}
	})
	return s
}

// ExpectRejections tells NewTestServer's cleanup that this test sends invalid
// requests on purpose.
func (s *Server) ExpectRejections() { s.expectRejections.Store(true) }

// Rejections lists every request rejected by validation, in order.
func (s *Server) Rejections() []Rejection {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	return append([]Rejection(nil), s.rejections...)
}

// Listen serves the sandbox on addr (e.g. "127.0.0.1:0") and returns its base
// URL, e.g. "http://127.0.0.1:PORT".
func (s *Server) Listen(addr string) (string, error) {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.httpSrv != nil {
		return "", fmt.Errorf("ghltest: listen %s: already listening on %s", addr, s.url)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("ghltest: listen %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.httpSrv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		// Request contexts end when the sandbox closes, so slow faults stop.
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnState:   s.trackConn,
	}
	s.url = "http://" + ln.Addr().String()
	s.serveDone = make(chan struct{})
	srv, done := s.httpSrv, s.serveDone
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("ghltest: serve", "err", err)
		}
	}()
	return s.url, nil
}

// URL is the base URL once listening ("" before).
func (s *Server) URL() string {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	return s.url
}

// trackConn remembers connections that have not sent a request yet:
// http.Server.Shutdown only closes those once they are 5 s old, and
// clients often dial one more keep-alive connection than they use.
func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.newConns == nil {
		s.newConns = map[net.Conn]bool{}
	}
	if st == http.StateNew {
		s.newConns[c] = true
	} else {
		delete(s.newConns, c)
	}
}

// Close stops listening and waits for running handlers. Idle connections,
// and connections that never sent a request, are closed at once.
func (s *Server) Close() error {
	s.lnMu.Lock()
	srv, done, cancel := s.httpSrv, s.serveDone, s.cancel
	s.lnMu.Unlock()
	if srv == nil {
		return nil
	}
	cancel()
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx) }()
	// While Shutdown waits for handlers, close the connections that have
	// not sent a request (Shutdown would wait 5 s for each of them).
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var err error
	for waiting := true; waiting; {
		s.connMu.Lock()
		for c := range s.newConns {
			_ = c.Close()
		}
		s.connMu.Unlock()
		select {
		case err = <-shut:
			waiting = false
		case <-tick.C:
		}
	}
	if err != nil {
		err = errors.Join(err, srv.Close())
	}
	<-done
	s.lnMu.Lock()
	if s.httpSrv == srv {
		s.httpSrv = nil
	}
	s.lnMu.Unlock()
	if err != nil {
		return fmt.Errorf("ghltest: close: %w", err)
	}
	return nil
}

// reqCtx is one request on its way through the pipeline.
type reqCtx struct {
	w          http.ResponseWriter
	r          *http.Request
	route      *routers.Route
	key        string // "METHOD /path/template"
	pathParams map[string]string
	tok        *tokenInfo // nil on /oauth/token
	loc        string     // the location whose limits and headers apply
	body       []byte
}

// ServeHTTP answers one request as GHL would: route, faults, authentication,
// rate limit, scope, validation, then the operation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if strings.HasPrefix(r.URL.Path, filesPrefix) {
		s.serveFile(w, r)
		return
	}
	route, pathParams, err := s.spec.findRoute(r)
	if err != nil {
		s.setLimitHeaders(w, s.opts.LocationID, false)
		msg := fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path)
		s.reject(Rejection{Method: r.Method, Path: r.URL.Path, Status: http.StatusNotFound, Reason: "not in the spec: " + err.Error()})
		writeJSON(w, http.StatusNotFound, errorBody(http.StatusNotFound, msg))
		return
	}
	c := &reqCtx{w: w, r: r, route: route, key: r.Method + " " + route.Path, pathParams: pathParams, loc: s.opts.LocationID}
	s.countCall(c.key)
	rec := &statusRecorder{ResponseWriter: w}
	c.w = rec
	defer func() {
		s.log.Debug("ghltest: request", "route", c.key, "status", rec.status, "took", time.Since(start))
	}()

	// A valid token decides whose limits and headers apply, also to faults.
	if tok := s.lookupToken(r); tok != nil {
		c.loc = tok.locationID
	}
	if f, ok := s.takeFault(c.key); ok {
		if done := s.applyFault(c, f); done {
			return
		}
	}
	s.serve(c)
}

// serve runs the normal pipeline after faults.
func (s *Server) serve(c *reqCtx) {
	isOAuth := c.key == "POST /oauth/token"
	if !isOAuth {
		tok, status, msg := s.authenticate(c.r)
		if tok == nil {
			s.setLimitHeaders(c.w, c.loc, false)
			writeJSON(c.w, status, errorBody(status, msg))
			return
		}
		c.tok, c.loc = tok, tok.locationID
		if ok := s.admit(c.w, c.loc); !ok {
			return
		}
		if missing := tok.missingScope(requiredScopes(c.route.Operation)); missing != "" {
			writeJSON(c.w, http.StatusForbidden, errorBody(http.StatusForbidden, msgWrongScope))
			return
		}
	} else {
		s.setLimitHeaders(c.w, c.loc, false)
	}
	h := s.handler(c.key)
	if h == nil {
		msg := fmt.Sprintf("The sandbox does not implement %s; only the operations Parley uses are available.", c.key)
		s.reject(Rejection{Route: c.key, Method: c.r.Method, Path: c.r.URL.Path, Status: http.StatusNotImplemented, Reason: "not implemented"})
		writeJSON(c.w, http.StatusNotImplemented, errorBody(http.StatusNotImplemented, msg))
		return
	}
	if status, body, reason := s.validate(c); status != 0 {
		// An oversized upload breaks GHL's limit, not the spec.
		if status != http.StatusRequestEntityTooLarge {
			s.reject(Rejection{Route: c.key, Method: c.r.Method, Path: c.r.URL.Path, Status: status, Reason: reason})
		}
		writeJSON(c.w, status, body)
		return
	}
	h(c)
}

// validate checks the request against the spec and keeps the body. It
// returns the status and body of GHL's refusal, or status 0.
func (s *Server) validate(c *reqCtx) (int, any, string) {
	in := &openapi3filter.RequestValidationInput{
		Request:    c.r,
		PathParams: c.pathParams,
		Route:      c.route,
		Options:    s.valid,
	}
	if c.key == "POST /conversations/messages/upload" {
		// Read with a cap so an oversized upload gets GHL's 413 instead of
		// filling memory; the cap is well above the documented 5 MB.
		c.r.Body = http.MaxBytesReader(c.w, c.r.Body, maxUploadBody)
	}
	err := openapi3filter.ValidateRequest(c.r.Context(), in)
	if c.r.Body != nil && c.r.Body != http.NoBody {
		// The validator leaves a re-readable copy of the body.
		data, rerr := io.ReadAll(c.r.Body)
		if rerr == nil {
			c.body = data
		}
	}
	if err == nil {
		return 0, nil, ""
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, uploadError(http.StatusRequestEntityTooLarge, "File size exceeds the limit"), err.Error()
	}
	return validationFailure(err)
}

// statusRecorder remembers the status for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection (for faults).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) reject(r Rejection) {
	s.metaMu.Lock()
	s.rejections = append(s.rejections, r)
	s.metaMu.Unlock()
	s.log.Info("ghltest: rejected request", "route", r.Route, "method", r.Method, "path", r.Path, "status", r.Status, "reason", r.Reason)
}
