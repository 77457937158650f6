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
//
// Two routes are the sandbox's own, outside the spec's paths and answered
// without a token: GET /files/{id}/{name} serves uploaded attachments, and
// GET /_sandbox/traffic ([TrafficPath]) counts deliveries (POST
// /conversations/messages, which makes HighLevel send to the customer)
// apart from records, so anyone watching a mirror can check that it
// delivered nothing.
package ghltest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"parley/sync/internal/sandboxkit"
)

// The OAuth app credentials a sandbox accepts unless Options says otherwise.
// They open nothing but the sandbox.
const (
	DefaultClientID     = "parley-demo-client"
	DefaultClientSecret = "parley-demo-secret" // #nosec G101 -- the sandbox's public demo secret, opening nothing but the sandbox
)

// Options configures a sandbox. The zero value is usable. Addr, Seed,
// SeedTime, Clock, Logger, Faults and RateLimit have the same names and
// meaning in the ActiveDEMAND sandbox's Options.
type Options struct {
	// Addr is where Listen("") and NewTestServer listen; default a free
	// loopback port.
	Addr string
	// Seed picks the demo business (demobiz) the location starts with; 0
	// starts it empty.
	Seed uint64
	// SeedTime is the reference time of the demo's history; default
	// Clock(). Demo mode passes the same time to both sandboxes so their
	// copies of the demo business match to the second.
	SeedTime time.Time
	// Clock is the clock for token expiry, timestamps and the rate-limit
	// windows; default time.Now.
	Clock  func() time.Time
	Logger *slog.Logger // optional; nil = discard
	// Faults are queued at start, as if injected with InjectFault.
	Faults []sandboxkit.Fault
	// RateLimit is enforced per location like GHL's (published: Burst 100
	// per Window 10s, Daily 200000): a fixed window of Burst requests per
	// Window, and Daily per day (UTC). The zero value
	// enforces nothing, but the headers are still sent with GHL's
	// published numbers.
	RateLimit sandboxkit.RateLimit

	LocationID     string        // default "loc_harbourview_demo"
	CompanyID      string        // default "comp_parley_demo"
	ClientID       string        // OAuth app client id, default "parley-demo-client"
	ClientSecret   string        // default "parley-demo-secret"
	AccessTokenTTL time.Duration // default 24h (GHL answers expires_in 86399)
	// SpecShapes makes GET /conversations/{conversationId}/messages and GET
	// /conversations/messages/{id} answer exactly the spec's DTOs (flat list;
	// the message itself). Default false = the shapes the live API is
	// reported to send: {"messages": {"lastMessageId", "nextPage",
	// "messages": [...]}} and {"message": {...}, "traceId": "..."}. Clients
	// must accept both.
	SpecShapes bool
	// RecordStatus is the status a successful record (POST
	// /conversations/messages/inbound and /outbound) answers: 200, the
	// documented one and the default, or 201, which the live API also
	// sends (ERRATA 7). Clients must accept both.
	RecordStatus int
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

	faults sandboxkit.Faults
	calls  sandboxkit.Calls
	http   sandboxkit.HTTP

	metaMu     sync.Mutex // guards the fields below
	rejections []Rejection
	limits     map[string]*window

	expectRejections atomic.Bool
}

// New builds a sandbox: it loads, patches and validates the spec and fills
// the location (from demobiz when opts.Seed is set). It does not listen.
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
	switch opts.RecordStatus {
	case 0:
		opts.RecordStatus = http.StatusOK
	case http.StatusOK, http.StatusCreated:
	default:
		return nil, fmt.Errorf("ghltest: RecordStatus %d: records answer 200 or 201", opts.RecordStatus)
	}
	if opts.RateLimit.Burst > 0 && opts.RateLimit.Window <= 0 {
		opts.RateLimit.Window = 10 * time.Second
	}
	now := sandboxkit.ClockOrNow(opts.Clock)
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
		limits: map[string]*window{},
		http:   sandboxkit.HTTP{Name: "ghltest", Addr: opts.Addr, Logger: log},
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
	// An empty location still numbers its ids from a seed.
	s.st = newState(opts.LocationID, opts.CompanyID, max(opts.Seed, 1))
	if opts.Seed != 0 {
		at := opts.SeedTime
		if at.IsZero() {
			at = now()
		}
		s.st.seed(at)
	}
	for _, f := range opts.Faults {
		if err := s.InjectFault(f); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// NewTestServer is New + Listen("") + tb.Cleanup(Close). After Close it
// reports (tb.Errorf) every request the spec validator rejected, unless the
// test called ExpectRejections. It fails tb if New fails.
func NewTestServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := New(opts)
	if err == nil {
		// Registered first, so it runs after ServeForTest's Close, when
		// every handler is done.
		tb.Cleanup(func() { s.reportRejections(tb) })
	}
	return sandboxkit.ServeForTest(tb, s, err)
}

func (s *Server) reportRejections(tb testing.TB) {
	tb.Helper()
	if s.expectRejections.Load() {
		return
	}
	for _, r := range s.Rejections() {
		tb.Errorf("ghltest: the sandbox rejected %s %s (route %q) with %d: %s", r.Method, r.Path, r.Route, r.Status, r.Reason)
	}
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

// Listen serves the sandbox on addr (Options.Addr when empty, then a free
// loopback port) and returns its base URL, e.g. "http://127.0.0.1:PORT".
func (s *Server) Listen(addr string) (string, error) { return s.http.Listen(addr, s) }

// URL is the base URL once listening ("" before).
func (s *Server) URL() string { return s.http.URL() }

// Close stops listening and waits for running handlers; slow faults end at
// once. Idle connections, and connections that never sent a request, are
// closed at once. It returns no error today; the signature matches the
// ActiveDEMAND sandbox's.
func (s *Server) Close() error {
	s.http.Close()
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
	switch r.URL.Path {
	case TrafficPath:
		s.serveTraffic(w, r)
		return
	case ConsentPath:
		s.serveConsent(w, r)
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
	s.calls.Record(c.key, r, nil)
	rec := &statusRecorder{ResponseWriter: w}
	c.w = rec
	defer func() {
		s.log.Debug("ghltest: request", "route", c.key, "status", rec.status, "took", time.Since(start))
	}()

	// A valid token decides whose limits and headers apply, also to faults.
	if tok := s.lookupToken(r); tok != nil {
		c.loc = tok.locationID
	}
	if f, ok := s.faults.Take(c.key); ok {
		s.serveFault(c, f)
		return
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
