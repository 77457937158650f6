package ghl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"parley/sync/internal/apierr"
	"parley/sync/internal/retry"
	"parley/sync/internal/secret"
)

// route is one operation of the spec: method, path template, the Version
// header its spec file documents, and the scope its security requirement
// names.
type route struct {
	method, path, version, scope string
}

// String is the route as the spec and the sandbox name it: "GET /path".
func (r route) String() string { return r.method + " " + r.path }

// Scopes as HighLevel names them.
const (
	scopeConvRead     = "conversations.readonly"
	scopeConvWrite    = "conversations.write"
	scopeMsgRead      = "conversations/message.readonly"
	scopeMsgWrite     = "conversations/message.write"
	scopeContactRead  = "contacts.readonly"
	scopeContactWrite = "contacts.write"
)

// The routes the client uses. Cancelling a scheduled email declares no
// security in the spec (ERRATA 15); message.write is the scope it plausibly
// needs, named only in errors.
var (
	routeSearchConversations   = route{http.MethodGet, "/conversations/search", versionConversations, scopeConvRead}
	routeGetConversation       = route{http.MethodGet, "/conversations/{conversationId}", versionConversations, scopeConvRead}
	routeUpdateConversation    = route{http.MethodPut, "/conversations/{conversationId}", versionConversations, scopeConvWrite}
	routeDeleteConversation    = route{http.MethodDelete, "/conversations/{conversationId}", versionConversations, scopeConvWrite}
	routeCreateConversation    = route{http.MethodPost, "/conversations/", versionConversations, scopeConvWrite}
	routeListMessages          = route{http.MethodGet, "/conversations/{conversationId}/messages", versionConversations, scopeMsgRead}
	routeGetMessage            = route{http.MethodGet, "/conversations/messages/{id}", versionConversations, scopeMsgRead}
	routeDeliverMessage        = route{http.MethodPost, "/conversations/messages", versionConversations, scopeMsgWrite}
	routeRecordInbound         = route{http.MethodPost, "/conversations/messages/inbound", versionConversations, scopeMsgWrite}
	routeRecordOutbound        = route{http.MethodPost, "/conversations/messages/outbound", versionConversations, scopeMsgWrite}
	routeUpload                = route{http.MethodPost, "/conversations/messages/upload", versionConversations, scopeMsgWrite}
	routeMessageStatus         = route{http.MethodPut, "/conversations/messages/{messageId}/status", versionConversations, scopeMsgWrite}
	routeCancelScheduledEmail  = route{http.MethodDelete, "/conversations/messages/email/{emailMessageId}/schedule", versionConversations, scopeMsgWrite}
	routeRecording             = route{http.MethodGet, "/conversations/messages/{messageId}/locations/{locationId}/recording", versionConversations, scopeMsgRead}
	routeTranscription         = route{http.MethodGet, "/conversations/locations/{locationId}/messages/{messageId}/transcription", versionConversations, scopeMsgRead}
	routeTranscriptionDownload = route{http.MethodGet, "/conversations/locations/{locationId}/messages/{messageId}/transcription/download", versionConversations, scopeMsgRead}
	routeDuplicateContact      = route{http.MethodGet, "/contacts/search/duplicate", versionContacts, scopeContactRead}
	routeUpsertContact         = route{http.MethodPost, "/contacts/upsert", versionContacts, scopeContactWrite}
	routeGetContact            = route{http.MethodGet, "/contacts/{contactId}", versionContacts, scopeContactRead}
)

// CallInfo describes one logical call (all its attempts) for the engine's
// history and dashboard. Route is "METHOD /path/template" as the spec
// writes it; for a record found by its altId after an uncertain attempt,
// Status is that attempt's. Internal lookups (the altId check of a record)
// are calls of their own and are reported as such.
type CallInfo = apierr.CallInfo

// Observer is told about every logical call once, after its retries. It
// must be safe for concurrent use and quick.
type Observer = apierr.Observer

// Config configures a Client. Give either PrivateToken, or OAuth with Token
// and SaveToken.
type Config struct {
	// BaseURL is the API base (default DefaultBaseURL); a sandbox's URL in
	// tests and demo mode.
	BaseURL string
	// LocationID is the sub-account the client works for. It may be left
	// empty when Token came from an exchange and carries it.
	LocationID string

	// PrivateToken is a Private Integration Token: a static bearer token
	// that cannot be refreshed.
	PrivateToken Secret

	// OAuth is the app the Token belongs to (for refreshing).
	OAuth *OAuthApp
	// Token is the OAuth token to start with (from the keyring or
	// Installation.Token).
	Token *oauth2.Token
	// SaveToken persists a refreshed token (the caller writes the
	// keyring). It is called before the new token is used; if it fails,
	// the call fails with ErrTokenNotSaved, the token stays in memory and
	// the save is retried on the next call.
	SaveToken func(*oauth2.Token) error
	// RefreshBefore is how long before expiry a token is refreshed
	// (default 5 minutes).
	RefreshBefore time.Duration

	// HTTPClient sends requests (default: a client tuned for many
	// concurrent requests to one host). Its Timeout should be 0: timeouts
	// are AttemptTimeout's job.
	HTTPClient *http.Client
	// AttemptTimeout bounds how long one attempt waits for an answer, and
	// how long a download may stall (default 30 s).
	AttemptTimeout time.Duration
	// RateLimit configures pacing.
	RateLimit RateLimit
	// Retry configures retries.
	Retry RetryPolicy
	// Observer, if set, is told about every call.
	Observer Observer
	// Logger receives token refresh events and, at debug level, retries
	// (default: discard).
	Logger *slog.Logger
	// Now is the clock for token expiry and the daily quota (default
	// time.Now).
	Now func() time.Time
}

// String keeps the credentials out of logs.
func (c Config) String() string {
	auth := "none"
	switch {
	case c.PrivateToken != "":
		auth = "private token " + c.PrivateToken.String()
	case c.Token != nil:
		auth = "oauth " + tokenString(c.Token)
	}
	return fmt.Sprintf("ghl.Config{BaseURL: %q, LocationID: %q, Auth: %s}", c.BaseURL, c.LocationID, auth)
}

// GoString keeps the credentials out of %#v.
func (c Config) GoString() string { return c.String() }

// Format keeps the credentials out of every fmt verb.
func (c Config) Format(f fmt.State, _ rune) { formatAs(f, c.String()) }

// LogValue keeps the credentials out of slog output.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Client is a HighLevel API client for one location. It is safe for
// concurrent use.
type Client struct {
	base           string
	hc             *http.Client
	auth           authenticator
	location       string
	pacer          *Pacer
	paced          bool
	retry          RetryPolicy
	observer       Observer
	logger         *slog.Logger
	attemptTimeout time.Duration
	now            func() time.Time
}

// New checks cfg and returns a client. It sends nothing.
func New(cfg Config) (*Client, error) {
	c := &Client{
		base:           strings.TrimRight(cfg.BaseURL, "/"),
		hc:             cfg.HTTPClient,
		location:       cfg.LocationID,
		paced:          !cfg.RateLimit.Disabled,
		retry:          cfg.Retry.WithDefaults(defaultRetry),
		observer:       cfg.Observer,
		attemptTimeout: cfg.AttemptTimeout,
		now:            cfg.Now,
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if _, err := url.Parse(c.base); err != nil {
		return nil, fmt.Errorf("ghl: new client: base URL: %w", err)
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	if c.attemptTimeout <= 0 {
		c.attemptTimeout = 30 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c.logger = logger
	switch {
	case cfg.PrivateToken != "" && cfg.Token != nil:
		return nil, errors.New("ghl: new client: give either a private integration token or an OAuth token, not both")
	case cfg.PrivateToken != "":
		c.auth = staticToken{tok: cfg.PrivateToken}
	case cfg.Token != nil:
		if cfg.OAuth == nil {
			return nil, errors.New("ghl: new client: an OAuth token needs Config.OAuth to be refreshed")
		}
		if cfg.SaveToken == nil {
			return nil, errors.New("ghl: new client: an OAuth token needs Config.SaveToken: refresh tokens are single-use, so every new one must be saved")
		}
		if c.location == "" {
			c.location, _ = cfg.Token.Extra("locationId").(string)
		}
		before := cfg.RefreshBefore
		if before <= 0 {
			before = 5 * time.Minute
		}
		tok := *cfg.Token
		c.auth = &tokenManager{
			cfg: cfg.OAuth.Config(), hc: c.hc, save: cfg.SaveToken, refreshBefore: before,
			now: c.now, observer: cfg.Observer, logger: logger, tok: &tok, margin: before,
		}
	default:
		return nil, errors.New("ghl: new client: no credentials: connect HighLevel or enter a private integration token in Connections")
	}
	if c.location == "" {
		return nil, errors.New("ghl: new client: no location id: HighLevel tokens belong to one location; set Config.LocationID")
	}
	c.pacer = cfg.RateLimit.Pacer
	if c.pacer == nil {
		c.pacer = NewPacer(cfg.RateLimit.Max, cfg.RateLimit.Interval)
		c.pacer.now = c.now
	}
	return c, nil
}

// defaultHTTPClient keeps enough idle connections for concurrent callers;
// the standard library's 2 per host would open and close connections under
// load.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.MaxIdleConns = 128
	return &http.Client{Transport: t}
}

// CloseIdleConnections closes the client's idle keep-alive connections,
// e.g. when HighLevel is disconnected or the app shuts down.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// LocationID is the location the client works for.
func (c *Client) LocationID() string { return c.location }

// String describes the client without its credentials.
func (c *Client) String() string {
	kind := "oauth"
	if _, ok := c.auth.(staticToken); ok {
		kind = "private token"
	}
	return fmt.Sprintf("ghl.Client{base: %q, location: %q, auth: %s [redacted]}", c.base, c.location, kind)
}

// GoString keeps the credentials out of %#v.
func (c *Client) GoString() string { return c.String() }

// Format keeps the credentials out of every fmt verb.
func (c *Client) Format(f fmt.State, _ rune) { formatAs(f, c.String()) }

// LogValue keeps the credentials out of slog output.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// retryClass says what may be repeated after an uncertain outcome.
type retryClass int

const (
	// idempotent calls (GET, PUT, DELETE, upsert) are simply repeated.
	idempotent retryClass = iota
	// unsafe calls are never repeated once they may have reached
	// HighLevel: the caller gets ErrOutcomeUnknown.
	unsafe
	// record calls are repeated after request.recover found no trace of
	// the first attempt.
	record
)

// request is one logical call.
type request struct {
	op    string
	rt    route
	path  string // the path with ids filled in
	query url.Values
	class retryClass

	// body is a JSON (or other) body of type contentType; open, instead,
	// produces a streamed body for each attempt (nil reader = the body can
	// not be produced again, so no further attempt is made).
	body        []byte
	contentType string
	open        func() (io.Reader, int64, error)

	// decode reads a 2xx JSON body; stream, instead, consumes a 2xx body
	// as it arrives.
	decode func([]byte) error
	stream func(http.Header, io.Reader) error

	// recover looks for the effect of an attempt whose outcome is
	// uncertain (records: the altId); true means it was applied and the
	// call is done.
	recover func(context.Context) (bool, error)
	// goneOK makes a 404 after an uncertain attempt a success: a delete
	// that was applied before its answer was lost.
	goneOK bool
}

// fill puts escaped ids into a path template, in order.
func fill(template string, ids ...string) string {
	var b strings.Builder
	rest := template
	for _, id := range ids {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest, '}')
		if i < 0 || j < i {
			break
		}
		b.WriteString(rest[:i])
		b.WriteString(url.PathEscape(id))
		rest = rest[j+1:]
	}
	b.WriteString(rest)
	return b.String()
}

// needIDs refuses empty ids before anything is sent: an empty path segment
// would address another route.
func needIDs(op string, kv ...string) error {
	for i := 0; i+1 < len(kv); i += 2 {
		if strings.TrimSpace(kv[i+1]) == "" {
			return fmt.Errorf("%s: %s is empty", op, kv[i])
		}
	}
	return nil
}

// jsonBody encodes a request body; only caller-supplied raw JSON can make
// it fail.
func jsonBody(op string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: encoding the request: %w", op, err)
	}
	return b, nil
}

// maxJSONBody bounds a JSON answer held in memory.
const maxJSONBody = 32 << 20

// outcome classifies an attempt.
type outcome int

const (
	outOK        outcome = iota
	outStatus            // a non-2xx answer
	outNotSent           // failed before the request was written: safe to retry
	outUncertain         // may have been applied: timeout, reset after sending, cut-off body
	outFinal             // a definite failure that retrying cannot fix
)

type attemptResult struct {
	outcome    outcome
	status     int
	header     http.Header
	errBody    []byte
	err        error
	sent, recv int64
}

// attemptTimeoutError is an attempt that got no answer in time.
type attemptTimeoutError struct{ d time.Duration }

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("no answer from HighLevel within %v", e.d)
}

// Timeout marks it as a timeout, like net.Error.
func (e *attemptTimeoutError) Timeout() bool { return true }

// do runs a logical call: the shared attempt loop with HighLevel's pacing,
// authentication, shouldRetry, error mapping and the observer report.
func (c *Client) do(ctx context.Context, rq *request) (err error) {
	start := time.Now()
	info := CallInfo{Op: rq.op, Route: rq.rt.String(), Method: rq.rt.method}
	defer func() {
		// Nothing HighLevel or a library said leaves with a credential.
		err = c.scrubber().Error(err)
		if c.observer != nil {
			info.Latency = time.Since(start)
			info.Err = err
			c.observer(info)
		}
	}()
	var st callState
	return retry.Call{
		Policy: c.retry,
		Attempt: func(ctx context.Context, n int, last bool) (retry.Verdict, error) {
			info.Attempts = n
			return c.try(ctx, rq, &st, &info, last)
		},
		OnRetry: func(n int, wait time.Duration, cause error) {
			c.logger.Debug("ghl: trying again", "op", rq.op, "route", rq.rt.String(), "attempt", n+1, "wait", wait, "after", c.scrubber().Error(cause))
		},
		WaitFailed: func(_, err error) error { return c.ctxErr(rq, err) },
	}.Do(ctx)
}

// callState is what a call's attempts learn about it.
type callState struct {
	// reauthorized: one 401 got its one refresh and retry.
	reauthorized bool
	// uncertain: an earlier attempt may have been applied.
	uncertain bool
}

// stop ends the call with err.
func stop(err error) (retry.Verdict, error) { return retry.Verdict{}, err }

// try makes one attempt: it waits for the pacer, takes a token, sends, and
// judges the answer.
func (c *Client) try(ctx context.Context, rq *request, st *callState, info *CallInfo, last bool) (retry.Verdict, error) {
	daily, err := c.pacer.wait(ctx, c.location, c.paced, c.retry.Sleep)
	if err != nil {
		return stop(c.ctxErr(rq, err))
	}
	if daily > 0 {
		return stop(&RateLimitError{Op: rq.op, Method: rq.rt.method, Route: rq.rt.path, Daily: true, RetryAfter: daily})
	}
	tok, err := c.auth.token(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return stop(c.ctxErr(rq, err))
		}
		return stop(fmt.Errorf("%s: %w", rq.op, err))
	}
	res := c.attempt(ctx, rq, tok)
	info.Status = res.status
	info.BytesSent += res.sent
	info.BytesReceived += res.recv
	var retryAfter time.Duration
	if res.header != nil {
		retryAfter = parseRetryAfter(res.header, c.now())
		c.pacer.observe(c.location, res.header, res.status, retryAfter)
	}
	return c.shouldRetry(ctx, rq, st, res, tok, retryAfter, last)
}

// shouldRetry judges an attempt: HighLevel's rules for what may be sent
// again (see [RetryPolicy]).
func (c *Client) shouldRetry(ctx context.Context, rq *request, st *callState, res attemptResult, tok string, retryAfter time.Duration, last bool) (retry.Verdict, error) {
	switch res.outcome {
	case outOK:
		return stop(nil)
	case outFinal:
		return stop(res.err)
	case outNotSent:
		if ctx.Err() != nil {
			return stop(c.ctxErr(rq, ctx.Err()))
		}
		if last {
			return stop(c.exhausted(c.transportErr(rq, res.err)))
		}
		return retry.Verdict{Again: true}, c.transportErr(rq, res.err)
	case outUncertain:
		st.uncertain = true
		if ctx.Err() != nil {
			if rq.class == idempotent {
				return stop(c.ctxErr(rq, ctx.Err()))
			}
			return stop(c.unknown(rq, ctx.Err()))
		}
		return c.uncertain(rq, res.err, last)
	}

	// A non-2xx answer.
	ae := c.apiError(rq, res)
	switch res.status {
	case http.StatusNotFound:
		if rq.goneOK && st.uncertain {
			return stop(nil)
		}
	case http.StatusUnauthorized:
		if !st.reauthorized && c.auth.rejected(tok) {
			// One 401 gets one refresh and one retry, never more.
			st.reauthorized = true
			return retry.Verdict{Again: true, NoWait: true, Extra: true}, ae
		}
		ae.Hint = c.auth.unauthorizedHint()
	case http.StatusTooManyRequests:
		rh := parseRateHeaders(res.header)
		if rh.dailyRemaining == 0 {
			reset := rh.dailyReset
			if reset <= 0 {
				reset = untilUTCMidnight(c.now())
			}
			return stop(&RateLimitError{Op: rq.op, Method: rq.rt.method, Route: rq.rt.path, Daily: true, RetryAfter: reset, Err: ae})
		}
		rle := &RateLimitError{Op: rq.op, Method: rq.rt.method, Route: rq.rt.path, RetryAfter: retryAfter, Err: ae}
		if retryAfter > c.retry.MaxRetryAfter || last {
			return stop(rle)
		}
		// The pacer now holds every request for this location until
		// Retry-After has passed; without one, back off.
		return retry.Verdict{Again: true, NoWait: retryAfter > 0}, rle
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusInternalServerError:
		if rq.class == unsafe {
			return stop(c.unknown(rq, ae))
		}
		st.uncertain = true
		return c.uncertain(rq, ae, last)
	}
	return stop(ae)
}

// uncertain judges an attempt that may have been applied: unsafe calls
// stop with ErrOutcomeUnknown; records wait, then look for their effect
// (the altId) before posting again; idempotent calls wait and go again.
func (c *Client) uncertain(rq *request, cause error, last bool) (retry.Verdict, error) {
	if rq.class == unsafe || (rq.class == record && rq.recover == nil) {
		return stop(c.unknown(rq, cause))
	}
	logged := cause
	switch cause.(type) {
	case *DecodeError, *APIError:
	default:
		logged = c.transportErr(rq, cause)
	}
	if rq.class == idempotent {
		if last {
			return stop(c.exhausted(logged))
		}
		return retry.Verdict{Again: true}, logged
	}
	// Waiting first gives a request that is still being applied time to
	// land before the record looks for it.
	return retry.Verdict{
		Again:      true,
		WaitFailed: func(err error) error { return c.unknown(rq, errors.Join(cause, err)) },
		Check: func(ctx context.Context) (bool, error) {
			found, err := rq.recover(ctx)
			switch {
			case err != nil:
				return true, c.unknown(rq, fmt.Errorf("%w; checking for it failed: %w", cause, err))
			case found:
				return true, nil
			case last:
				return true, c.unknown(rq, cause)
			}
			return false, nil
		},
	}, logged
}

// unknown is the error for a call that may have been applied.
func (c *Client) unknown(rq *request, err error) error {
	return &OutcomeUnknownError{Op: rq.op, Method: rq.rt.method, Route: rq.rt.path, Err: err, Hint: outcomeHint}
}

func (c *Client) exhausted(last error) error {
	var rle *RateLimitError
	if errors.As(last, &rle) {
		return rle
	}
	return fmt.Errorf("%w (gave up after %d attempts)", last, c.retry.MaxAttempts)
}

func (c *Client) ctxErr(rq *request, err error) error {
	return fmt.Errorf("%s: %s: %w", rq.op, rq.rt, err)
}

func (c *Client) transportErr(rq *request, err error) error {
	return fmt.Errorf("%s: %s: %w", rq.op, rq.rt, err)
}

// scrubber removes the client's credentials, as they are now, from text.
func (c *Client) scrubber() *secret.Scrubber { return secret.NewScrubber(c.auth.secrets()...) }

// apiError builds the error for a non-2xx answer.
func (c *Client) apiError(rq *request, res attemptResult) *APIError {
	msgs, trace := parseErrorBody(c.scrubber(), res.errBody)
	return &APIError{
		Op: rq.op, Method: rq.rt.method, Route: rq.rt.path, Status: res.status,
		Messages: msgs, TraceID: trace, Scope: rq.rt.scope, Hint: hintFor(res.status, rq.rt.scope),
	}
}

// attempt sends one request and reads its answer.
func (c *Client) attempt(ctx context.Context, rq *request, tok string) (res attemptResult) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timedOut atomic.Bool
	timer := time.AfterFunc(c.attemptTimeout, func() { timedOut.Store(true); cancel() })
	defer timer.Stop()
	var wrote atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	})

	var body io.Reader
	size := int64(0)
	switch {
	case rq.open != nil:
		r, n, err := rq.open()
		if err != nil {
			return attemptResult{outcome: outFinal, err: fmt.Errorf("%s: %w", rq.op, err)}
		}
		if r == nil {
			return attemptResult{outcome: outFinal, err: fmt.Errorf("%s: %s: the file can not be read again for another attempt", rq.op, rq.rt)}
		}
		body, size = r, n
	case rq.body != nil:
		body, size = bytes.NewReader(rq.body), int64(len(rq.body))
	}
	u := c.base + rq.path
	if len(rq.query) > 0 {
		u += "?" + rq.query.Encode()
	}
	req, err := http.NewRequestWithContext(actx, rq.rt.method, u, body)
	if err != nil {
		return attemptResult{outcome: outFinal, err: fmt.Errorf("%s: %s: %w", rq.op, rq.rt, err)}
	}
	if body != nil {
		req.ContentLength = size
		if size < 0 {
			req.ContentLength = -1
		}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if rq.rt.version != "" {
		req.Header.Set("Version", rq.rt.version)
	}
	req.Header.Set("Accept", "application/json")
	if rq.contentType != "" {
		req.Header.Set("Content-Type", rq.contentType)
	}

	resp, err := c.hc.Do(req)
	if wrote.Load() && size > 0 {
		res.sent = size
	}
	if err != nil {
		// The URL (with ids, and for contact lookups an email or phone)
		// stays out of the error; the route names the call.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		res.err = err
		if timedOut.Load() && ctx.Err() == nil {
			res.err = &attemptTimeoutError{d: c.attemptTimeout}
		}
		// Only an error that provably happened before anything was sent
		// (the connection could not be made) counts as not sent: the
		// write-done signal alone can race with Do returning.
		res.outcome = outUncertain
		if !wrote.Load() && notSent(err) {
			res.outcome = outNotSent
		}
		return res
	}
	defer resp.Body.Close()
	res.status = resp.StatusCode
	res.header = resp.Header
	rd := &idleReader{r: resp.Body, timer: timer, idle: c.attemptTimeout}
	defer func() { res.recv = rd.n }()
	readErr := func(err error) error {
		if timedOut.Load() && ctx.Err() == nil {
			return &attemptTimeoutError{d: c.attemptTimeout}
		}
		return err
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		res.outcome = outStatus
		res.errBody, _ = io.ReadAll(io.LimitReader(rd, 64<<10))
		return res
	}
	if rq.stream != nil {
		err := rq.stream(resp.Header, rd)
		switch {
		case err == nil:
			res.outcome = outOK
		case rd.err != nil && rd.n == 0:
			// Nothing reached the caller's writer yet: safe to go again.
			res.outcome, res.err = outUncertain, readErr(rd.err)
		case rd.err != nil:
			res.outcome = outFinal
			res.err = fmt.Errorf("%s: %s: download cut off after %d bytes: %w", rq.op, rq.rt, rd.n, readErr(rd.err))
		default:
			res.outcome, res.err = outFinal, fmt.Errorf("%s: %s: %w", rq.op, rq.rt, err)
		}
		return res
	}
	data, err := io.ReadAll(io.LimitReader(rd, maxJSONBody+1))
	if err != nil {
		res.outcome, res.err = outUncertain, readErr(err)
		return res
	}
	if len(data) > maxJSONBody {
		res.outcome = outFinal
		res.err = &DecodeError{Op: rq.op, Method: rq.rt.method, Route: rq.rt.path, Err: fmt.Errorf("answer larger than %d bytes", maxJSONBody)}
		return res
	}
	if rq.decode == nil {
		res.outcome = outOK
		return res
	}
	if err := rq.decode(data); err != nil {
		if ae, ok := errIsAPI(err); ok {
			res.outcome, res.err = outFinal, ae
			return res
		}
		if errors.Is(err, ErrNotRecorded) {
			res.outcome = outFinal
			res.err = &APIError{Op: rq.op, Method: rq.rt.method, Route: rq.rt.path, Status: resp.StatusCode,
				Messages: []string{"the answer has no message id, so no message was created"},
				Hint:     "check the conversation provider id in Settings (it must be the location's custom provider)", kind: ErrNotRecorded}
			return res
		}
		de := decodeFailure(rq, err)
		res.err = de
		res.outcome = outFinal
		// A body that is not JSON at all was probably cut off; for calls
		// that change something, whether it was applied is unknown.
		if de.syntax || rq.class != idempotent {
			res.outcome = outUncertain
		}
		return res
	}
	res.outcome = outOK
	return res
}

// notSent reports errors that mean the request never left: dialling or
// resolving failed.
func notSent(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return (errors.As(err, &op) && op.Op == "dial") || errors.As(err, &dns)
}

// errIsAPI reports whether a decode function returned a complete API error
// (an answer that reports failure inside a 2xx).
func errIsAPI(err error) (*APIError, bool) {
	var ae *APIError
	ok := errors.As(err, &ae)
	return ae, ok
}

// decodeFailure wraps a decoder's error with the call and the field.
func decodeFailure(rq *request, err error) *DecodeError {
	de := &DecodeError{Op: rq.op, Method: rq.rt.method, Route: rq.rt.path, Err: err}
	var fe *fieldError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &fe):
		de.Field, de.Err = fe.field, fe.err
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		de.syntax = true
	}
	return de
}

// idleReader counts what it reads, pushes the attempt's deadline forward
// on progress (so a long download only fails when it stalls), and keeps
// the read error so a cut-off download can be told from a failing writer.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
	idle  time.Duration
	n     int64
	err   error
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.n += int64(n)
		r.timer.Reset(r.idle)
	}
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// getJSON runs an idempotent call whose 2xx body decode reads.
func (c *Client) getJSON(ctx context.Context, op string, rt route, path string, q url.Values, decode func([]byte) error) error {
	return c.do(ctx, &request{op: op, rt: rt, path: path, query: q, class: idempotent, decode: decode})
}
