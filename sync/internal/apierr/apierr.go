// Package apierr is the error vocabulary both API clients share: the
// sentinels a caller branches on whichever system refused, the error for a
// request whose outcome is unknown, and the record of one call that the
// engine's history keeps. Each client adds its own words (ghl.ErrForbidden,
// activedemand.ErrBadKey) as [Kind]s of these sentinels, so errors.Is works
// with either.
package apierr

import (
	"errors"
	"fmt"
	"time"

	"parley/sync/internal/secret"
)

// Sentinels for what a caller does next, whichever client returned the
// error.
var (
	// ErrUnauthorized: the credentials were refused; the user has to
	// reconnect or enter new ones.
	ErrUnauthorized = errors.New("not authorized")
	// ErrForbidden: the credentials are valid but may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: the record does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrRateLimited: the server's limit was hit and not waited out.
	ErrRateLimited = errors.New("rate limited")
	// ErrOutcomeUnknown: the request may or may not have been applied, so
	// it was not sent again; look before trying again.
	ErrOutcomeUnknown = errors.New("outcome unknown")
	// ErrBadResponse: an answer could not be read as the call expects.
	ErrBadResponse = errors.New("unreadable response")
)

// kind is a client's own sentinel: its own words, and errors.Is matches the
// shared sentinel it is a kind of.
type kind struct {
	msg    string
	shared error
}

func (k *kind) Error() string        { return k.msg }
func (k *kind) Is(target error) bool { return target == k.shared }
func (k *kind) GoString() string     { return fmt.Sprintf("apierr.Kind(%q)", k.msg) }

// Kind returns a sentinel with its own message that errors.Is also matches
// to shared.
func Kind(shared error, msg string) error { return &kind{msg: msg, shared: shared} }

// OutcomeUnknownError reports a request that may or may not have been
// applied: it was sent, and no usable answer came back. Clients return it,
// instead of retrying, for calls that repeating could duplicate. It matches
// ErrOutcomeUnknown and unwraps to the cause.
type OutcomeUnknownError struct {
	// Op is the operation, e.g. "ghl: deliver message".
	Op string
	// Method and Route identify the call (the route's template or name).
	Method, Route string
	// Err is what made the outcome uncertain (timeout, connection lost
	// after sending, 5xx, unreadable answer).
	Err error
	// Hint says what to check before trying again.
	Hint string
}

// Error says that the request may have been applied and what to do.
func (e *OutcomeUnknownError) Error() string {
	where := e.Op
	if e.Method != "" || e.Route != "" {
		where += ": " + e.Method + " " + e.Route
	}
	msg := fmt.Sprintf("%s: outcome unknown (%v)", where, e.Err)
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}

// Is makes errors.Is(err, ErrOutcomeUnknown) true.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// Unwrap exposes the cause.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// Scrubbed is a copy with credentials removed from the cause.
func (e *OutcomeUnknownError) Scrubbed(s *secret.Scrubber) error {
	cp := *e
	cp.Err = s.Error(e.Err)
	return &cp
}

// CallInfo describes one logical call (all its attempts) for the engine's
// history and dashboard.
type CallInfo struct {
	// Op is the operation, e.g. "ghl: record message" or "list contacts".
	Op string
	// Route names the route: HighLevel's "METHOD /path/template", or
	// ActiveDEMAND's route table entry.
	Route string
	// Method is the HTTP method.
	Method string
	// Status is the last HTTP status received, 0 if none.
	Status int
	// Attempts is how many requests were sent or tried, the first
	// included.
	Attempts int
	// Latency is the whole call, waits and retries included.
	Latency time.Duration
	// BytesSent and BytesReceived are body bytes summed over the attempts.
	BytesSent, BytesReceived int64
	// Err is the call's error (credentials removed), nil on success.
	Err error
}

// Observer is told about every logical call once, after its retries. It
// runs on the caller's goroutine, must be safe for concurrent use and must
// not block.
type Observer func(CallInfo)
