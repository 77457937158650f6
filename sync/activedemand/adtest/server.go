// Package adtest is the ActiveDEMAND sandbox: a stateful in-memory AD
// server for tests and for Parley's demo mode. It speaks the known
// endpoints as seen in public client code and the assumed ones by the
// route table it is given, so a test that overrides a route sees client
// and sandbox follow it together. It checks both keys, pages per the
// table, can rate-limit, injects faults per route, counts calls, posts
// signed webhooks, and seeds the demo business shared with the HighLevel
// sandbox.
package adtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"parley/sync/activedemand"
	"parley/sync/internal/demobiz"
	"parley/sync/internal/sandboxkit"
)

// Keys the sandbox accepts unless Options says otherwise.
const (
	DefaultAppKey = "sandbox-application-key"
	DefaultAPIKey = "sandbox-account-key"
	// DefaultOtherAccountKey is a valid key of another account: 403.
	DefaultOtherAccountKey = "sandbox-other-account-key"
	// DefaultWebhookSecret signs webhooks unless Options says otherwise.
	DefaultWebhookSecret = "sandbox-webhook-secret"
)

// basePath is where the API lives on the sandbox, like /v1/ on AD.
const basePath = "/v1/"

// Options configures a Server. Addr, Seed, SeedTime, Clock, Logger,
// Faults and RateLimit have the same names and meaning in the HighLevel
// sandbox's Options.
type Options struct {
	// Addr is where Listen("") and NewTestServer listen; default a free
	// loopback port.
	Addr string
	// Seed picks the demo business (demobiz.Seed) the sandbox starts
	// with; 0 starts it empty. Use the same Seed and SeedTime as the
	// HighLevel sandbox so the two copies of the business match.
	Seed uint64
	// SeedTime places the demo's history; default Clock().
	SeedTime time.Time
	// Clock stamps new records; default time.Now.
	Clock func() time.Time
	// Logger receives a line per request and per webhook; nil discards.
	Logger *slog.Logger
	// Faults are queued at start, as if injected with InjectFault.
	Faults []sandboxkit.Fault
	// RateLimit enables a server-side limit answered with 429 and
	// Retry-After: a token bucket of Burst that refills Burst per Window.
	// The zero value leaves it off; AD publishes no daily limit, so Daily
	// must be 0.
	RateLimit sandboxkit.RateLimit

	// Routes is the route table both sides follow; zero is the default.
	Routes activedemand.Routes
	// AppKey and APIKey are the keys accepted; defaults DefaultAppKey and
	// DefaultAPIKey.
	AppKey, APIKey string
	// OtherAccountKeys are valid keys of other accounts (answered 403);
	// default DefaultOtherAccountKey.
	OtherAccountKeys []string
	// WebhookURL, when set, receives every change as a signed webhook;
	// subscriptions made through the API receive their event types.
	WebhookURL string
	// WebhookSecret signs webhooks; default DefaultWebhookSecret.
	WebhookSecret string
	// HTTPClient posts webhooks; default a client with a 10 s timeout.
	HTTPClient *http.Client
}

// Server is the sandbox. Its methods are safe for concurrent use.
type Server struct {
	opts    Options
	routes  activedemand.Routes
	matcher []compiledRoute
	clock   func() time.Time
	log     *slog.Logger
	limiter *rate.Limiter
	sizes   map[string]int64
	files   map[string][]byte

	faults sandboxkit.Faults
	calls  sandboxkit.Calls
	http   sandboxkit.HTTP

	mu      sync.Mutex
	st      *state
	deliver []Delivery

	// closed is set (under mu) when Close starts, so no goroutine is
	// added to wg once Close waits on it.
	closed bool

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	outbox    chan outgoing
	startPost sync.Once
	closeOnce sync.Once
	evSeq     int64
}

type compiledRoute struct {
	name    string
	method  string
	re      *regexp.Regexp
	names   []string
	literal int
}

// New builds a sandbox; Listen serves it, or use it as an http.Handler.
// Close releases its goroutines.
func New(opts Options) (*Server, error) {
	if err := opts.Routes.Validate(); err != nil {
		return nil, fmt.Errorf("adtest: %w", err)
	}
	if opts.AppKey == "" {
		opts.AppKey = DefaultAppKey
	}
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.OtherAccountKeys == nil {
		opts.OtherAccountKeys = []string{DefaultOtherAccountKey}
	}
	if opts.WebhookSecret == "" {
		opts.WebhookSecret = DefaultWebhookSecret
	}
	opts.Clock = sandboxkit.ClockOrNow(opts.Clock)
	if opts.SeedTime.IsZero() {
		opts.SeedTime = opts.Clock()
	}
	if opts.RateLimit.Daily != 0 {
		return nil, errors.New("adtest: ActiveDEMAND has no daily rate limit; leave RateLimit.Daily at 0")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	s := &Server{
		opts:    opts,
		routes:  opts.Routes,
		clock:   opts.Clock,
		log:     opts.Logger,
		st:      newState(),
		sizes:   map[string]int64{},
		files:   map[string][]byte{},
		outbox:  make(chan outgoing, 256),
		limiter: opts.RateLimit.Limiter(),
		http:    sandboxkit.HTTP{Name: "adtest", Addr: opts.Addr},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.http.Logger = s.log
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for name := range demobiz.Attachments {
		b, err := demobiz.AttachmentBytes(name)
		if err != nil {
			return nil, fmt.Errorf("adtest: attachment %s: %w", name, err)
		}
		s.files[name] = b
		s.sizes[name] = int64(len(b))
	}
	if err := s.compile(); err != nil {
		return nil, err
	}
	if opts.Seed != 0 {
		s.st.seed(demobiz.Seed(opts.Seed, opts.SeedTime))
	}
	for _, f := range opts.Faults {
		if err := s.InjectFault(f); err != nil {
			return nil, err
		}
	}
	return s, nil
}

var placeholderRE = regexp.MustCompile(`\{([^{}]+)\}`)

// compile turns each route's path template into a matcher; literal paths
// win over placeholders (GET forms/fields.json is not forms/{form_id}).
func (s *Server) compile() error {
	for _, name := range s.routes.Names() {
		if name == activedemand.RouteMediaDownload {
			continue // media URLs are the sandbox's own, see serveMedia
		}
		rt, _ := s.routes.Route(name)
		var b strings.Builder
		b.WriteString("^")
		var names []string
		last := 0
		for _, m := range placeholderRE.FindAllStringSubmatchIndex(rt.Path, -1) {
			b.WriteString(regexp.QuoteMeta(rt.Path[last:m[0]]))
			b.WriteString(`([^/]+)`)
			names = append(names, rt.Path[m[2]:m[3]])
			last = m[1]
		}
		b.WriteString(regexp.QuoteMeta(rt.Path[last:]))
		b.WriteString("$")
		re, err := regexp.Compile(b.String())
		if err != nil {
			return fmt.Errorf("adtest: route %s: %w", name, err)
		}
		s.matcher = append(s.matcher, compiledRoute{name: name, method: rt.Method, re: re, names: names, literal: len(placeholderRE.ReplaceAllString(rt.Path, ""))})
	}
	slices.SortStableFunc(s.matcher, func(a, b compiledRoute) int { return b.literal - a.literal })
	return nil
}

// Listen serves the sandbox on addr (Options.Addr when empty, then a free
// loopback port) and returns its base URL, e.g.
// http://127.0.0.1:41234/v1/.
func (s *Server) Listen(addr string) (string, error) {
	u, err := s.http.Listen(addr, s)
	if err != nil {
		return "", err
	}
	return u + basePath, nil
}

// URL is the base URL Listen returned, or "" before Listen.
func (s *Server) URL() string {
	if u := s.http.URL(); u != "" {
		return u + basePath
	}
	return ""
}

// Close stops serving, activity and webhook posting, and waits for them.
// It returns no error today; the signature matches the HighLevel
// sandbox's.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		s.http.Close()
		s.wg.Wait()
	})
	return nil
}

// NewTestServer starts a sandbox on Options.Addr (default a free loopback
// port) and closes it when the test ends. It fails tb if New fails.
func NewTestServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := New(opts)
	return sandboxkit.ServeForTest(tb, s, err)
}

// ClientConfig returns a client configuration for this sandbox: its URL,
// keys and route table, with the client-side rate limit off.
func (s *Server) ClientConfig() activedemand.Config {
	return activedemand.Config{
		BaseURL:   s.URL(),
		AppKey:    activedemand.Secret(s.opts.AppKey),
		APIKey:    activedemand.Secret(s.opts.APIKey),
		Routes:    s.routes,
		RateLimit: rate.Inf,
	}
}

// Routes returns the route table the sandbox follows.
func (s *Server) Routes() activedemand.Routes { return s.routes }

// Calls returns how many requests reached route (rejected and faulted
// ones included).
func (s *Server) Calls(route string) int { return s.calls.Count(route) }

// CallCounts is Calls for every route called so far.
func (s *Server) CallCounts() map[string]int { return s.calls.Counts() }

// Requests returns the last requests of route, oldest first.
func (s *Server) Requests(route string) []sandboxkit.Request { return s.calls.Requests(route) }

// ResetCalls zeroes the call counts and forgets recorded requests.
func (s *Server) ResetCalls() { s.calls.Reset() }

// apiError writes AD-style error JSON.
func apiError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// match finds the route for a path below the base path; wrongMethod is
// true when the path exists for another method.
func (s *Server) match(method, rel string) (name string, args map[string]string, wrongMethod bool) {
	for _, c := range s.matcher {
		m := c.re.FindStringSubmatch(rel)
		if m == nil {
			continue
		}
		if c.method != method {
			wrongMethod = true
			continue
		}
		args := map[string]string{}
		for i, n := range c.names {
			v, err := url.PathUnescape(m[i+1])
			if err != nil {
				v = m[i+1]
			}
			args[n] = v
		}
		return c.name, args, false
	}
	return "", nil, wrongMethod
}

// ServeHTTP serves the API under /v1/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rel, ok := strings.CutPrefix(r.URL.EscapedPath(), basePath)
	if !ok {
		apiError(w, http.StatusNotFound, "not found: the API is under %s", basePath)
		return
	}
	var body []byte
	if r.Body != nil {
		var err error
		body, err = readLimited(r, 1<<20)
		if err != nil {
			apiError(w, http.StatusRequestEntityTooLarge, "%v", err)
			return
		}
	}
	route, args, media, wrongMethod := s.routeFor(r.Method, rel)
	if route == "" {
		if wrongMethod {
			apiError(w, http.StatusMethodNotAllowed, "%s is not allowed on /v1/%s", r.Method, rel)
			return
		}
		apiError(w, http.StatusNotFound, "no such endpoint: %s /v1/%s", r.Method, rel)
		return
	}
	s.calls.Record(route, r, body)
	s.log.Debug("adtest request", "route", route, "method", r.Method, "path", r.URL.Path)
	c := &call{route: route, path: args, body: body, r: r, base: "http://" + r.Host + basePath}
	if rt, ok := s.routes.Route(route); ok {
		c.rt = rt
	}
	next := func(w http.ResponseWriter) {
		if !s.authorize(w, r) || !s.admit(w) {
			return
		}
		if media {
			s.serveMedia(w, c, rel)
			return
		}
		s.dispatch(w, c)
	}
	if f, ok := s.faults.Take(route); ok {
		f.Serve(w, r, writeFault, next)
		return
	}
	next(w)
}

// writeFault answers an injected status fault the way AD words errors.
func writeFault(w http.ResponseWriter, f sandboxkit.Fault) {
	msg := f.Body
	if msg == "" {
		msg = http.StatusText(f.Status) + " (injected)"
	}
	apiError(w, f.Status, "%s", msg)
}

// admit applies Options.RateLimit; over it, it answers 429 itself.
func (s *Server) admit(w http.ResponseWriter) bool {
	if s.limiter == nil || s.limiter.Allow() {
		return true
	}
	res := s.limiter.Reserve()
	wait := res.Delay()
	res.Cancel()
	w.Header().Set("Retry-After", sandboxkit.RetryAfterSeconds(wait))
	apiError(w, http.StatusTooManyRequests, "rate limit exceeded; retry later")
	return false
}

func readLimited(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("request body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("request body larger than %d bytes", limit)
	}
	return b, nil
}

// routeFor names the route a request is for; media is true for the
// sandbox's own media URLs.
func (s *Server) routeFor(method, rel string) (name string, args map[string]string, media, wrongMethod bool) {
	if strings.HasPrefix(rel, "media/") && method == http.MethodGet {
		return activedemand.RouteMediaDownload, nil, true, false
	}
	name, args, wrongMethod = s.match(method, rel)
	return name, args, false, wrongMethod
}

// authorize checks both keys the way AD is documented to answer: 401 for
// a missing or wrong key, 403 for a key of another account.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	if q.Has("api-key") || q.Has("api_key") || q.Has("apikey") {
		apiError(w, http.StatusBadRequest, "the sandbox refuses keys in the URL; send x-api-key as a header")
		return false
	}
	switch app := r.Header.Get(activedemand.HeaderAppKey); {
	case app == "":
		apiError(w, http.StatusUnauthorized, "missing %s: this integration has no application key", activedemand.HeaderAppKey)
		return false
	case app != s.opts.AppKey:
		apiError(w, http.StatusUnauthorized, "invalid application key")
		return false
	}
	key := r.Header.Get(activedemand.HeaderAPIKey)
	switch {
	case key == "":
		apiError(w, http.StatusUnauthorized, "missing API key")
		return false
	case key == s.opts.APIKey:
		return true
	case slices.Contains(s.opts.OtherAccountKeys, key):
		apiError(w, http.StatusForbidden, "this API key does not have access to this account")
		return false
	default:
		// Echoing the key, as some APIs do, lets tests check that the
		// client keeps it out of its errors.
		apiError(w, http.StatusUnauthorized, "invalid API key %s", key)
		return false
	}
}
