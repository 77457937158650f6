package activedemand

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"parley/sync/internal/apierr"
	"parley/sync/internal/backoff"
	"parley/sync/internal/retry"
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
// Zero fields mean the defaults: 4 attempts, the first included
// (1 disables retries); full-jitter backoff from BaseDelay 250ms capped at
// MaxDelay 10s; a Retry-After waited out up to MaxRetryAfter 1 minute, a
// longer one failing at once with ErrRateLimited.
type RetryPolicy = retry.Policy

// defaultRetry is ActiveDEMAND's side of RetryPolicy's zero fields.
var defaultRetry = RetryPolicy{MaxAttempts: 4, BaseDelay: 250 * time.Millisecond, MaxDelay: 10 * time.Second, MaxRetryAfter: time.Minute}

// CallInfo reports one HTTP call, for the engine's history: Op is what the
// call did ("list contacts"), Route the route table entry
// (RouteContactsList).
type CallInfo = apierr.CallInfo

// Observer receives a CallInfo per call.
type Observer = apierr.Observer

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
		retry:   cfg.Retry.WithDefaults(defaultRetry),
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
			// Path escaping leaves "." and ".." as they are, and as path
			// segments they would move the request, keys included,
			// elsewhere on the API host.
			if v == "." || v == ".." {
				return rt, nil, nil, "", fmt.Errorf("activedemand: %s: %s %q is not an id", cl.op, p, v)
			}
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
type OutcomeUnknownError = apierr.OutcomeUnknownError

// outcomeHint is what to do about a write whose outcome is unknown.
const outcomeHint = "ActiveDEMAND may or may not have applied it, so it was not sent again; look the record up in ActiveDEMAND before sending it again"

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

// do sends cl through the shared attempt loop with rate limiting and
// ActiveDEMAND's shouldRetry, and reports it to the observer. A non-2xx
// status becomes an *APIError.
func (c *Client) do(ctx context.Context, cl call) (rep reply, err error) {
	start := time.Now()
	info := CallInfo{Op: cl.op, Route: cl.route}
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
	a := attempt{cl: cl, method: rt.Method, u: u, body: body, ctype: ctype, safe: idempotent(rt.Method)}
	err = retry.Call{
		Policy: c.retry,
		Attempt: func(ctx context.Context, n int, last bool) (retry.Verdict, error) {
			info.Attempts = n
			r, v, err := c.try(ctx, a, &info, last)
			rep = r
			return v, err
		},
		OnRetry: func(n int, wait time.Duration, cause error) {
			c.log.DebugContext(ctx, "activedemand retry", "op", cl.op, "route", cl.route, "attempt", n, "wait", wait, "cause", c.scrub.String(cause.Error()))
		},
		WaitFailed: func(cause, err error) error {
			return fmt.Errorf("activedemand: %s: gave up waiting to retry (%v): %w", cl.op, cause, err)
		},
	}.Do(ctx)
	if err != nil {
		return reply{}, err
	}
	return rep, nil
}

// attempt is what every attempt of a call sends.
type attempt struct {
	cl     call
	method string
	u      *url.URL
	body   []byte
	ctype  string
	safe   bool
}

// try makes one attempt and judges it.
func (c *Client) try(ctx context.Context, a attempt, info *CallInfo, last bool) (reply, retry.Verdict, error) {
	cl := a.cl
	where := a.method + " " + a.u.EscapedPath()
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return reply{}, retry.Verdict{}, fmt.Errorf("activedemand: %s: waiting for the rate limiter: %w", cl.op, err)
		}
	}
	var rd io.Reader
	if a.body != nil {
		rd = bytes.NewReader(a.body)
	}
	wctx, wrote := retry.WatchWrite(ctx)
	req, err := http.NewRequestWithContext(wctx, a.method, a.u.String(), rd)
	if err != nil {
		return reply{}, retry.Verdict{}, fmt.Errorf("activedemand: %s: %w", cl.op, err)
	}
	if a.ctype != "" {
		req.Header.Set("Content-Type", a.ctype)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if c.sameHost(a.u) {
		if c.appKey.IsSet() {
			req.Header.Set(HeaderAppKey, c.appKey.Reveal())
		}
		req.Header.Set(HeaderAPIKey, c.apiKey.Reveal())
	}
	info.BytesSent += int64(len(a.body))
	resp, err := c.hc.Do(req)
	if err != nil {
		err = fmt.Errorf("activedemand: %s: %s: %w", cl.op, where, err)
		v, err := c.shouldRetry(ctx, a, 0, err, wrote.Load(), last)
		return reply{}, v, err
	}
	info.Status = resp.StatusCode
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		rep, rerr := c.readBody(resp, cl)
		info.BytesReceived += rep.n
		if rerr == nil && cl.decode != nil {
			if derr := cl.decode(rep); derr != nil {
				if !a.safe {
					return reply{}, retry.Verdict{}, c.unknown(a, derr)
				}
				// A read whose reply was cut off or garbled is read
				// again: failing it would make a poller start its page
				// over, and a reply that stays bad still fails once the
				// attempts run out.
				return reply{}, retry.Verdict{Again: ctx.Err() == nil && !last}, derr
			}
		}
		if rerr == nil {
			return rep, retry.Verdict{}, nil
		}
		rerr = fmt.Errorf("activedemand: %s: %s: reading the reply: %w", cl.op, where, rerr)
		var se *sinkError
		if errors.As(rerr, &se) || (rep.n > 0 && cl.sink != nil && a.safe) {
			return reply{}, retry.Verdict{}, rerr
		}
		v, err := c.shouldRetry(ctx, a, 0, rerr, true, last)
		return reply{}, v, err
	}
	apiErr := c.apiError(resp, cl.op, cl.route, a.method, a.u.EscapedPath())
	info.BytesReceived += int64(len(apiErr.Body))
	v, err := c.shouldRetry(ctx, a, resp.StatusCode, apiErr, true, last)
	return reply{}, v, err
}

// shouldRetry judges a failed attempt: reads (GET, and DELETE/PUT, which
// are idempotent) go again after network errors, 429, 500, 502, 503 and
// 504; writes (POST, PATCH) only after 429 and 503 (refused before
// processing) and after network errors before the request was sent.
// status is 0 when no answer came; sent says the request went out.
func (c *Client) shouldRetry(ctx context.Context, a attempt, status int, err error, sent bool, last bool) (retry.Verdict, error) {
	var apiErr *APIError
	errors.As(err, &apiErr)
	switch {
	case status == 0 && !a.safe && sent:
		return retry.Verdict{}, c.unknown(a, err)
	case status == 0:
		return retry.Verdict{Again: ctx.Err() == nil && !last}, err
	case status == http.StatusTooManyRequests, status == http.StatusServiceUnavailable:
		if apiErr.RetryAfter > c.retry.MaxRetryAfter {
			apiErr.Hint = fmt.Sprintf("ActiveDEMAND asked to wait %s, longer than this client waits; try again later", apiErr.RetryAfter)
			return retry.Verdict{}, apiErr
		}
		return retry.Verdict{Again: !last, After: apiErr.RetryAfter}, apiErr
	case status == http.StatusInternalServerError, status == http.StatusBadGateway, status == http.StatusGatewayTimeout:
		if !a.safe && status != http.StatusInternalServerError {
			return retry.Verdict{}, c.unknown(a, apiErr)
		}
		return retry.Verdict{Again: a.safe && !last}, apiErr
	}
	return retry.Verdict{}, err
}

// unknown is the error for a write that may have been applied.
func (c *Client) unknown(a attempt, err error) error {
	return &OutcomeUnknownError{Op: "activedemand: " + a.cl.op, Method: a.method, Route: a.u.EscapedPath(), Err: err, Hint: outcomeHint}
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
		e.Hint = keyHelp
		if !c.appKey.IsSet() {
			e.Hint = noAppKeyHelp
		}
	case http.StatusForbidden:
		e.kind = ErrNoAccess
		e.Hint = "ask an ActiveDEMAND admin of that account for its API key (profile icon > Account Settings > API Key)"
	case http.StatusNotFound:
		e.kind = ErrNotFound
		e.Hint = fmt.Sprintf("if the record exists, the route %q may be wrong for your account; correct it in the routes file", route)
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
