package ghl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"parley/sync/internal/retry"
	"parley/sync/internal/secret"
)

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

// do runs a logical call: the shared attempt loop with HighLevel's pacing,
// authentication, shouldRetry, error mapping and the observer report.
func (c *Client) do(ctx context.Context, rq *request) (err error) {
	start := time.Now()
	info := CallInfo{Op: rq.op, Route: rq.rt.String(), Method: rq.rt.method}
	defer func() {
		// Nothing HighLevel or a library said leaves with a credential.
		if err != nil {
			err = c.scrubber().Error(err)
		}
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

// notSent reports errors that mean the request never left: dialling or
// resolving failed.
func notSent(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return (errors.As(err, &op) && op.Op == "dial") || errors.As(err, &dns)
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

// getJSON runs an idempotent call whose 2xx body decode reads.
func (c *Client) getJSON(ctx context.Context, op string, rt route, path string, q url.Values, decode func([]byte) error) error {
	return c.do(ctx, &request{op: op, rt: rt, path: path, query: q, class: idempotent, decode: decode})
}
