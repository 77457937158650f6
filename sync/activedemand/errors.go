package activedemand

import (
	"errors"
	"fmt"
	"time"

	"parley/sync/internal/apierr"
	"parley/sync/internal/secret"
)

// ErrOutcomeUnknown: a write (POST) was sent but no usable answer came
// back, so it may or may not have been applied. It is never retried
// blindly; look the record up before sending it again. It is the shared
// sentinel itself, the same value as ghl.ErrOutcomeUnknown.
var ErrOutcomeUnknown = apierr.ErrOutcomeUnknown

// Errors callers branch on. Each is matched with errors.Is; the error
// returned carries the call and, where there is one, the HTTP status.
var (
	// ErrBadKey: ActiveDEMAND answered 401, it does not accept the keys.
	ErrBadKey = apierr.Kind(apierr.ErrUnauthorized, "ActiveDEMAND did not accept the API keys")
	// ErrPagingIgnored: a list route returned the same page twice, so the
	// server does not page it the way the route table says.
	ErrPagingIgnored = errors.New("the server returned the same page twice; it does not page this route as the route table says")
	// ErrNoAccess: ActiveDEMAND answered 403.
	ErrNoAccess = apierr.Kind(apierr.ErrForbidden, "this key has no access to that ActiveDEMAND account")
	// ErrReadOnly: a write on data imported from an export file.
	ErrReadOnly = errors.New("read-only import: data imported from an ActiveDEMAND export cannot be changed; connect the ActiveDEMAND API to write")
	// ErrNotFound: ActiveDEMAND answered 404, or a record named by id
	// does not exist.
	ErrNotFound = apierr.Kind(apierr.ErrNotFound, "not found in ActiveDEMAND")
	// ErrMediaUnavailable: an imported message names a file the export
	// does not contain.
	ErrMediaUnavailable = errors.New("the media file is not part of the export")
	// ErrRateLimited: ActiveDEMAND kept answering 429, or asked to wait
	// longer than the client is configured to.
	ErrRateLimited = apierr.Kind(apierr.ErrRateLimited, "ActiveDEMAND is rate limiting this client")
	// ErrBadResponse: the reply could not be read as the call expects.
	ErrBadResponse = apierr.Kind(apierr.ErrBadResponse, "ActiveDEMAND sent a reply Parley cannot read")
)

// The sentinels made with apierr.Kind (ErrBadKey, ErrNoAccess, ErrNotFound,
// ErrRateLimited, ErrBadResponse) are ActiveDEMAND's words for the shared
// sentinels of sync/internal/apierr: errors.Is matches either, so the
// engine can branch on apierr.ErrUnauthorized whichever client refused.

// keyHelp is what the user does about a 401.
const keyHelp = "check the account API key first: an ActiveDEMAND admin finds it under the profile icon > Account Settings > API Key; " +
	"if it is right, check the application key (X-Application-Api-Key) from Parley's ActiveDEMAND API developer program approval"

const noAppKeyHelp = "no application key is configured: ActiveDEMAND requires the application key (X-Application-Api-Key) from the API developer program; " +
	"also check the account API key (profile icon > Account Settings > API Key)"

// APIError is an HTTP error status from ActiveDEMAND.
type APIError struct {
	// Op is what the client was doing, e.g. "list contacts".
	Op string
	// Route is the route table entry used.
	Route string
	// Method and Path are the request line, without the query.
	Method, Path string
	// Status is the HTTP status code.
	Status int
	// Body is the start of the reply body, secrets removed.
	Body string
	// RetryAfter is what a 429 asked for, if anything.
	RetryAfter time.Duration
	// Hint says what to do next, when the status has an obvious remedy.
	Hint string
	kind error
}

// Error says which call failed, with which status, and what to do next.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("activedemand: %s: %s %s: HTTP %d", e.Op, e.Method, e.Path, e.Status)
	if e.kind != nil {
		msg += ": " + e.kind.Error()
	}
	if e.Body != "" {
		msg += fmt.Sprintf(" (reply: %q)", e.Body)
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Scrubbed is a copy with credentials removed from the reply and the help.
func (e *APIError) Scrubbed(s *secret.Scrubber) error {
	cp := *e
	cp.Body, cp.Hint = s.String(e.Body), s.String(e.Hint)
	return &cp
}

// Unwrap returns the sentinel for the status (ErrBadKey, ErrNoAccess,
// ErrNotFound, ErrRateLimited) or nil.
func (e *APIError) Unwrap() error { return e.kind }

// DecodeError is a reply that does not have the shape a call expects.
type DecodeError struct {
	// Op is the call, e.g. "list contacts".
	Op string
	// Index is the position of the offending item in a list reply, or -1.
	Index int
	// Field is the offending field, or empty for the reply as a whole.
	Field string
	// Problem says what is wrong.
	Problem string
}

// Error names the call, the item and the field.
func (e *DecodeError) Error() string {
	msg := "activedemand: " + e.Op + ": bad reply"
	if e.Index >= 0 {
		msg += fmt.Sprintf(": item %d", e.Index)
	}
	if e.Field != "" {
		msg += fmt.Sprintf(": field %q", e.Field)
	}
	return msg + ": " + e.Problem
}

// Scrubbed is a copy with credentials removed from the problem.
func (e *DecodeError) Scrubbed(s *secret.Scrubber) error {
	cp := *e
	cp.Field, cp.Problem = s.String(e.Field), s.String(e.Problem)
	return &cp
}

// Unwrap makes every DecodeError match ErrBadResponse.
func (e *DecodeError) Unwrap() error { return ErrBadResponse }
