package ghl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"parley/sync/internal/retry"
)

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

// attempt sends one request and reads its answer.
func (c *Client) attempt(ctx context.Context, rq *request, tok string) (res attemptResult) {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timedOut atomic.Bool
	timer := time.AfterFunc(c.attemptTimeout, func() { timedOut.Store(true); cancel() })
	defer timer.Stop()
	actx, wrote := retry.WatchWrite(actx)

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

// errIsAPI reports whether a decode function returned a complete API error
// (an answer that reports failure inside a 2xx).
func errIsAPI(err error) (*APIError, bool) {
	var ae *APIError
	ok := errors.As(err, &ae)
	return ae, ok
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

// countingTransport measures a token request for the observer.
type countingTransport struct {
	base   http.RoundTripper
	status atomic.Int64
	sent   atomic.Int64
	recv   atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	if r.ContentLength > 0 {
		t.sent.Add(r.ContentLength)
	}
	resp, err := base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	t.status.Store(int64(resp.StatusCode))
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.recv}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
