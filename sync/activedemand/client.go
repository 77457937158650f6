package activedemand

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"parley/sync/internal/backoff"
	"parley/sync/internal/secret"
)

// DefaultBaseURL is ActiveDEMAND's REST API root (NOTES: S2, S3, S4).
const DefaultBaseURL = "https://api.activedemand.com/v1/"

// DefaultRateLimit is the client-side request rate used when
// Config.RateLimit is zero. ActiveDEMAND's limits are not public, so it is
// deliberately gentle.
const DefaultRateLimit rate.Limit = 4

// DefaultBurst is the limiter's burst when Config.Burst is zero.
const DefaultBurst = 4

// Header names of the two credentials (NOTES: Authentication).
const (
	HeaderAppKey = "X-Application-Api-Key"
	HeaderAPIKey = "x-api-key"
)

const (
	maxReplyBytes = 64 << 20
	maxErrorBody  = 4 << 10
)

// Config configures a Client. Secrets are [Secret]s, so printing a Config
// with any fmt verb shows them as [redacted].
type Config struct {
	// BaseURL defaults to DefaultBaseURL; the sandbox's URL in tests and
	// demo mode.
	BaseURL string
	// AppKey is the application key from ActiveDEMAND's API developer
	// program, sent as X-Application-Api-Key on every call when set.
	AppKey Secret
	// APIKey is the account's API key, sent as x-api-key (never in a URL).
	APIKey Secret
	// HTTPClient defaults to a client with connection and header
	// timeouts; contexts bound each call.
	HTTPClient *http.Client
	// Routes is the route table; the zero value is DefaultRoutes().
	Routes Routes
	// Observer, when set, is told about every HTTP call after its last
	// attempt (paged lists report each page). It runs on the caller's
	// goroutine and must not block.
	Observer Observer
	// RateLimit is the client-side request rate: 0 means
	// DefaultRateLimit, rate.Inf turns the limiter off.
	RateLimit rate.Limit
	// Burst is the limiter's burst; 0 means DefaultBurst.
	Burst int
	// Retry tunes retries; zero fields take defaults.
	Retry RetryPolicy
	// Logger receives debug lines about retries; nil discards them.
	Logger *slog.Logger
	// UserAgent is sent on every call; defaults to "Parley".
	UserAgent string
}

// RetryPolicy bounds retries. Reads (GET, and DELETE/PUT, which are
// idempotent) are retried after network errors, 429, 500, 502, 503 and 504;
// writes (POST, PATCH) only after 429 and 503 (refused before processing)
// and after network errors that happened before the request was sent.
type RetryPolicy struct {
	// MaxAttempts counts the first try: 0 means 4, 1 disables retries.
	MaxAttempts int
	// BaseDelay and MaxDelay bound the exponential backoff; each wait is
	// drawn uniformly from zero to min(MaxDelay, BaseDelay*2^retry)
	// ("full jitter"). Defaults 250ms and 10s.
	BaseDelay, MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits out;
	// longer ones fail with ErrRateLimited at once. Default 1 minute.
	MaxRetryAfter time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 250 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 10 * time.Second
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = time.Minute
	}
	return p
}

// backoff is the full-jitter wait before retry number n (1-based).
func (p RetryPolicy) backoff(n int) time.Duration {
	return backoff.FullJitter(p.BaseDelay, p.MaxDelay, n, rand.Float64())
}

// CallInfo reports one HTTP call, for the engine's history.
type CallInfo struct {
	// Operation is what the call did, e.g. "list contacts".
	Operation string
	// Route is the route table entry, e.g. RouteContactsList.
	Route string
	// Method is the HTTP method.
	Method string
	// Status is the last HTTP status received, 0 if none.
	Status int
	// Attempts counts tries, the first included.
	Attempts int
	// Latency is the whole call, waits and retries included.
	Latency time.Duration
	// BytesSent and BytesReceived are body bytes over all attempts.
	BytesSent, BytesReceived int64
	// Err is the call's error (secrets removed), nil on success.
	Err error
}

// Observer receives a CallInfo per call.
type Observer func(CallInfo)

// Client talks to ActiveDEMAND: the known REST endpoints and, through the
// route table, the assumed ones (see Conversations). It is safe for
// concurrent use.
type Client struct {
	base    *url.URL
	appKey  Secret
	apiKey  Secret
	hc      *http.Client
	routes  Routes
	observe Observer
	limiter *rate.Limiter
	retry   RetryPolicy
	log     *slog.Logger
	ua      string
	scrub   *secret.Scrubber
}

var _ Conversations = (*Client)(nil)

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("activedemand: base URL %q must be an http(s) URL such as %s", base, DefaultBaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("activedemand: base URL %q must not have a query or fragment", base)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	if !cfg.APIKey.IsSet() {
		return nil, errors.New("activedemand: no account API key configured; an ActiveDEMAND admin finds it under the profile icon > Account Settings > API Key")
	}
	if err := cfg.Routes.Validate(); err != nil {
		return nil, err
	}
	c := &Client{
		base:    u,
		appKey:  cfg.AppKey,
		apiKey:  cfg.APIKey,
		routes:  cfg.Routes.orDefault(),
		observe: cfg.Observer,
		retry:   cfg.Retry.withDefaults(),
		log:     cfg.Logger,
		ua:      cfg.UserAgent,
		scrub:   secret.NewScrubber(cfg.AppKey.Reveal(), cfg.APIKey.Reveal()),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.ua == "" {
		c.ua = "Parley"
	}
	limit, burst := cfg.RateLimit, cfg.Burst
	if limit == 0 {
		limit = DefaultRateLimit
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	if limit != rate.Inf {
		c.limiter = rate.NewLimiter(limit, burst)
	}
	c.hc = c.httpClient(cfg.HTTPClient)
	return c, nil
}

// httpClient copies hc (or a default) with a redirect policy that drops
// the keys when a redirect leaves the API host: Go strips Authorization on
// such redirects, but not custom headers.
func (c *Client) httpClient(hc *http.Client) *http.Client {
	var out http.Client
	if hc != nil {
		out = *hc
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = time.Minute
		out.Transport = tr
	}
	prev := out.CheckRedirect
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if !c.sameHost(req.URL) {
			req.Header.Del(HeaderAppKey)
			req.Header.Del(HeaderAPIKey)
		}
		if prev != nil {
			return prev(req, via)
		}
		return nil
	}
	return &out
}

func (c *Client) sameHost(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, c.base.Scheme) && strings.EqualFold(u.Host, c.base.Host)
}

// String describes the client without its keys.
func (c *Client) String() string {
	return fmt.Sprintf("activedemand.Client{base: %s, keys: %s}", c.base, redacted)
}

// Routes returns the route table in use.
func (c *Client) Routes() Routes { return c.routes }

// call is one logical request before it is sent.
type call struct {
	op, route string
	// args are the route's arguments by their table names.
	args map[string]string
	// extra are parameters with their wire names already decided (form
	// fields, contact fields); they travel where the route's params do.
	extra url.Values
	// page holds paging parameters, always in the query.
	page url.Values
	// sink, when set, receives a successful reply's body as it streams.
	sink io.Writer
	// decode, when set, reads a successful reply; its error counts as the
	// call's error (so the observer sees it), and after a write it means
	// the outcome is unknown to the caller.
	decode func(reply) error
}

// reply is a successful response.
type reply struct {
	status int
	header http.Header
	body   []byte
	n      int64
}

// request builds the method, URL and body for cl.
func (c *Client) request(cl call) (rt Route, u *url.URL, body []byte, ctype string, err error) {
	rt, ok := c.routes.Route(cl.route)
	if !ok {
		return rt, nil, nil, "", fmt.Errorf("activedemand: %s: route %q is not in the table", cl.op, cl.route)
	}
	inPath := placeholders(rt.Path)
	path := rt.Path
	for _, p := range inPath {
		v := cl.args[p]
		if v == "" {
			return rt, nil, nil, "", fmt.Errorf("activedemand: %s: %s is empty", cl.op, p)
		}
		if p != "url" {
			v = url.PathEscape(v)
		}
		path = strings.ReplaceAll(path, "{"+p+"}", v)
	}
	ref, err := url.Parse(path)
	if err != nil {
		return rt, nil, nil, "", fmt.Errorf("activedemand: %s: bad path %q: %w", cl.op, path, err)
	}
	u = c.base.ResolveReference(ref)
	params := url.Values{}
	for a, v := range cl.args {
		if v == "" || slices.Contains(inPath, a) {
			continue
		}
		if wire := rt.Params[a]; wire != "" {
			params.Set(wire, v)
		}
	}
	for k, vs := range cl.extra {
		params[k] = append(params[k], vs...)
	}
	q := u.Query()
	for k, vs := range cl.page {
		q[k] = vs
	}
	switch {
	case rt.ParamsIn == ParamsInQuery || rt.Method == http.MethodGet:
		for k, vs := range params {
			q[k] = append(q[k], vs...)
		}
		if rt.Method != http.MethodGet && rt.Method != http.MethodDelete {
			ctype = "application/x-www-form-urlencoded"
		}
	case rt.ParamsIn == ParamsInJSON:
		obj := make(map[string]string, len(params))
		for k := range params {
			obj[k] = params.Get(k)
		}
		body, err = json.Marshal(obj)
		if err != nil {
			return rt, nil, nil, "", fmt.Errorf("activedemand: %s: encode body: %w", cl.op, err)
		}
		ctype = "application/json"
	default:
		body = []byte(params.Encode())
		ctype = "application/x-www-form-urlencoded"
	}
	u.RawQuery = q.Encode()
	return rt, u, body, ctype, nil
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// OutcomeUnknownError is a write that was sent without a usable answer.
// It matches ErrOutcomeUnknown and unwraps to the cause.
type OutcomeUnknownError struct {
	Op  string
	Err error
}

// Error says what to do before trying again.
func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("activedemand: %s: %s (look the record up in ActiveDEMAND before sending it again): %v", e.Op, ErrOutcomeUnknown.Error(), e.Err)
}

// Unwrap returns the cause.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// Is matches ErrOutcomeUnknown.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// Scrubbed is a copy with credentials removed from the cause.
func (e *OutcomeUnknownError) Scrubbed(s *secret.Scrubber) error {
	return &OutcomeUnknownError{Op: e.Op, Err: s.Error(e.Err)}
}

// sinkError marks a failure writing to the caller's writer: never retried.
type sinkError struct{ err error }

func (e *sinkError) Error() string { return "write: " + e.err.Error() }
func (e *sinkError) Unwrap() error { return e.err }

type countingWriter struct {
	w io.Writer
	n int64
}

func (cw *countingWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.n += int64(n)
	if err != nil {
		return n, &sinkError{err}
	}
	return n, nil
}

// do sends cl with rate limiting and retries, and reports it to the
// observer. A non-2xx status becomes an *APIError.
func (c *Client) do(ctx context.Context, cl call) (rep reply, err error) {
	start := time.Now()
	info := CallInfo{Operation: cl.op, Route: cl.route}
	defer func() {
		err = c.scrub.Error(err)
		info.Err = err
		info.Latency = time.Since(start)
		if err != nil {
			c.log.DebugContext(ctx, "activedemand call failed", "op", cl.op, "route", cl.route, "status", info.Status, "attempts", info.Attempts, "err", err.Error())
		}
		if c.observe != nil {
			c.observe(info)
		}
	}()
	rt, u, body, ctype, err := c.request(cl)
	if err != nil {
		return reply{}, err
	}
	info.Method = rt.Method
	safe := idempotent(rt.Method)
	sendKeys := c.sameHost(u)
	where := rt.Method + " " + u.EscapedPath()
	for attempt := 1; ; attempt++ {
		info.Attempts = attempt
		last := attempt >= c.retry.MaxAttempts
		if c.limiter != nil {
			if err := c.limiter.Wait(ctx); err != nil {
				return reply{}, fmt.Errorf("activedemand: %s: waiting for the rate limiter: %w", cl.op, err)
			}
		}
		var wrote atomic.Bool
		trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		}}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), rt.Method, u.String(), rd)
		if err != nil {
			return reply{}, fmt.Errorf("activedemand: %s: %w", cl.op, err)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.ua)
		if sendKeys {
			if c.appKey.IsSet() {
				req.Header.Set(HeaderAppKey, c.appKey.Reveal())
			}
			req.Header.Set(HeaderAPIKey, c.apiKey.Reveal())
		}
		info.BytesSent += int64(len(body))
		resp, err := c.hc.Do(req)
		if err != nil {
			err = fmt.Errorf("activedemand: %s: %s: %w", cl.op, where, err)
			if !safe && wrote.Load() {
				return reply{}, &OutcomeUnknownError{Op: cl.op, Err: err}
			}
			if ctx.Err() != nil || last {
				return reply{}, err
			}
			if werr := c.wait(ctx, cl, attempt, 0, err); werr != nil {
				return reply{}, werr
			}
			continue
		}
		info.Status = resp.StatusCode
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			rep, rerr := c.readBody(resp, cl)
			info.BytesReceived += rep.n
			if rerr == nil {
				if cl.decode != nil {
					if derr := cl.decode(rep); derr != nil {
						if !safe {
							return reply{}, &OutcomeUnknownError{Op: cl.op, Err: derr}
						}
						return reply{}, derr
					}
				}
				return rep, nil
			}
			rerr = fmt.Errorf("activedemand: %s: %s: reading the reply: %w", cl.op, where, rerr)
			var se *sinkError
			switch {
			case errors.As(rerr, &se):
				return reply{}, rerr
			case !safe:
				return reply{}, &OutcomeUnknownError{Op: cl.op, Err: rerr}
			case rep.n > 0 && cl.sink != nil, ctx.Err() != nil, last:
				return reply{}, rerr
			}
			if werr := c.wait(ctx, cl, attempt, 0, rerr); werr != nil {
				return reply{}, werr
			}
			continue
		}
		apiErr := c.apiError(resp, cl.op, cl.route, rt.Method, u.EscapedPath())
		info.BytesReceived += int64(len(apiErr.Body))
		retryable := false
		switch resp.StatusCode {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			retryable = true
			if apiErr.RetryAfter > c.retry.MaxRetryAfter {
				apiErr.Help = fmt.Sprintf("ActiveDEMAND asked to wait %s, longer than this client waits; try again later", apiErr.RetryAfter)
				return reply{}, apiErr
			}
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
			retryable = safe
			if !safe && resp.StatusCode != http.StatusInternalServerError {
				return reply{}, &OutcomeUnknownError{Op: cl.op, Err: apiErr}
			}
		}
		if !retryable || last {
			return reply{}, apiErr
		}
		if werr := c.wait(ctx, cl, attempt, apiErr.RetryAfter, apiErr); werr != nil {
			return reply{}, werr
		}
	}
}

// wait sleeps before the next attempt: Retry-After when the server gave
// one, else full-jitter backoff.
func (c *Client) wait(ctx context.Context, cl call, attempt int, retryAfter time.Duration, cause error) error {
	d := retryAfter
	if d <= 0 {
		d = c.retry.backoff(attempt)
	}
	c.log.DebugContext(ctx, "activedemand retry", "op", cl.op, "route", cl.route, "attempt", attempt, "wait", d, "cause", c.scrub.String(cause.Error()))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("activedemand: %s: gave up waiting to retry (%v): %w", cl.op, cause, ctx.Err())
	case <-t.C:
		return nil
	}
}

func (c *Client) readBody(resp *http.Response, cl call) (reply, error) {
	defer resp.Body.Close()
	rep := reply{status: resp.StatusCode, header: resp.Header}
	if cl.sink != nil {
		cw := &countingWriter{w: cl.sink}
		_, err := io.Copy(cw, resp.Body)
		rep.n = cw.n
		if err == nil && resp.ContentLength >= 0 && cw.n != resp.ContentLength {
			err = fmt.Errorf("got %d of %d bytes", cw.n, resp.ContentLength)
		}
		return rep, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	rep.n = int64(len(b))
	if err != nil {
		return rep, err
	}
	if len(b) > maxReplyBytes {
		return rep, fmt.Errorf("reply larger than %d MiB", maxReplyBytes>>20)
	}
	rep.body = b
	return rep, nil
}

// apiError reads the start of an error reply and closes it.
func (c *Client) apiError(resp *http.Response, op, route, method, path string) *APIError {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	e := &APIError{Op: op, Route: route, Method: method, Path: path, Status: resp.StatusCode,
		Body: truncate(strings.TrimSpace(c.scrub.String(strings.ToValidUTF8(string(b), "\uFFFD"))), 300)}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		e.kind = ErrBadKey
		e.Help = keyHelp
		if !c.appKey.IsSet() {
			e.Help = noAppKeyHelp
		}
	case http.StatusForbidden:
		e.kind = ErrNoAccess
		e.Help = "ask an ActiveDEMAND admin of that account for its API key (profile icon > Account Settings > API Key)"
	case http.StatusNotFound:
		e.kind = ErrNotFound
		e.Help = fmt.Sprintf("if the record exists, the route %q may be wrong for your account; correct it in the routes file", route)
	case http.StatusTooManyRequests:
		e.kind = ErrRateLimited
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return e
}

// parseRetryAfter reads seconds or an HTTP date; 0 when absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	return backoff.RetryAfter(v, now)
}
