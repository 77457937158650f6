package ghl

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"parley/sync/internal/apierr"
	"parley/sync/internal/secret"
)

// Sentinels callers branch on with errors.Is. Every error this package
// returns for a refused or failed call matches at most one of them; the typed
// errors below carry the details. Those both clients share are kinds of the
// sync/internal/apierr sentinels: errors.Is matches either.
var (
	// ErrUnauthorized: HighLevel refused the token (401) or the refresh
	// token was rejected. The user has to reconnect HighLevel (OAuth) or
	// create a new private integration token.
	ErrUnauthorized = apierr.Kind(apierr.ErrUnauthorized, "not authorized by HighLevel")
	// ErrForbidden: the token lacks the route's scope or belongs to another
	// location (403). [APIError.Scope] names the scope the route needs.
	ErrForbidden = apierr.Kind(apierr.ErrForbidden, "forbidden by HighLevel")
	// ErrNotFound: the conversation, message or contact does not exist (404).
	ErrNotFound = apierr.Kind(apierr.ErrNotFound, "not found in HighLevel")
	// ErrRateLimited: HighLevel's burst or daily limit was hit and waiting
	// is not an option; see [RateLimitError] for when to try again.
	ErrRateLimited = apierr.Kind(apierr.ErrRateLimited, "rate limited by HighLevel")
	// ErrValidation: HighLevel rejected the request's content (400 or 422);
	// [APIError.Messages] has the field messages it returned.
	ErrValidation = errors.New("rejected by HighLevel as invalid")
	// ErrTooLarge: an upload over HighLevel's size limit ([TooLargeError],
	// refused before sending, or a 413).
	ErrTooLarge = errors.New("file too large for HighLevel")
	// ErrUnsupportedMedia: an upload of a type HighLevel refuses
	// ([UnsupportedMediaError], refused before sending, or a 415).
	ErrUnsupportedMedia = errors.New("file type not accepted by HighLevel")
	// ErrOutcomeUnknown: the request may or may not have been applied
	// (timeout, connection lost after sending, server error). The client did
	// not retry because retrying could duplicate it; check first.
	ErrOutcomeUnknown = apierr.ErrOutcomeUnknown
	// ErrTokenNotSaved: a refreshed OAuth token could not be persisted; see
	// [TokenNotSavedError].
	ErrTokenNotSaved = errors.New("refreshed HighLevel token not saved")
	// ErrNotRecorded: a record call succeeded without creating a message
	// (no message id in the answer; usually a wrong conversation provider).
	ErrNotRecorded = errors.New("HighLevel did not create the record")
	// ErrBadResponse: a 2xx answer could not be decoded ([DecodeError]).
	ErrBadResponse = apierr.Kind(apierr.ErrBadResponse, "unreadable answer from HighLevel")
)

// APIError is a non-2xx answer from HighLevel. It matches (errors.Is) the
// sentinel for its status: 401 ErrUnauthorized, 403 ErrForbidden, 404
// ErrNotFound, 400/422 ErrValidation, 413 ErrTooLarge, 415
// ErrUnsupportedMedia, 429 ErrRateLimited.
type APIError struct {
	// Op is the operation, e.g. "ghl: record message".
	Op string
	// Method and Route are the HTTP method and the spec's path template
	// (ids are left out so errors group well and stay free of customer ids).
	Method, Route string
	// Status is the HTTP status code.
	Status int
	// Messages are the messages HighLevel returned ("message" may be a
	// string or an array of field messages).
	Messages []string
	// TraceID is HighLevel's trace id when it sent one, for support.
	TraceID string
	// Scope is the OAuth scope the route needs (set on every error, most
	// useful with 403).
	Scope string
	// Hint says what to do next.
	Hint string

	// kind, when set, is the one sentinel the error matches instead of the
	// status's (a refused refresh token is a 400 that means reconnect).
	kind error
}

// Error says what was refused, what HighLevel said and what to do.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s: %d %s", e.Op, e.Method, e.Route, e.Status, http.StatusText(e.Status))
	if len(e.Messages) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Messages, "; "))
	}
	if e.TraceID != "" {
		fmt.Fprintf(&b, " (trace id %s)", e.TraceID)
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Is matches the sentinel for the status code, and the shared sentinel it
// is a kind of.
func (e *APIError) Is(target error) bool {
	k := e.sentinel()
	return k != nil && errors.Is(k, target)
}

func (e *APIError) sentinel() error {
	if e.kind != nil {
		return e.kind
	}
	switch e.Status {
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return ErrValidation
	case http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case http.StatusUnsupportedMediaType:
		return ErrUnsupportedMedia
	case http.StatusTooManyRequests:
		return ErrRateLimited
	}
	return nil
}

// hintFor is the default next step for a status; the client overrides it
// where it knows more (private token, scope).
func hintFor(status int, scope string) string {
	switch {
	case status == http.StatusUnauthorized:
		return "reconnect HighLevel in Connections"
	case status == http.StatusForbidden:
		if scope != "" {
			return fmt.Sprintf("the token lacks scope %q or belongs to another location: reconnect HighLevel for this location and approve that scope", scope)
		}
		return "the token belongs to another location or lacks a scope: reconnect HighLevel for this location"
	case status == http.StatusNotFound:
		return "it may have been deleted in HighLevel"
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		return "it was not sent again: correct what HighLevel names and retry"
	case status >= 500:
		return "HighLevel had a problem; try again later"
	}
	return ""
}

// errorBody is every error body shape HighLevel is known to send:
// BadRequestDTO (message string), UnprocessableDTO (message array),
// UploadFilesErrorResponseDto, OAuth errors and the odd "msg".
type errorBody struct {
	Message          json.RawMessage `json:"message"`
	Msg              string          `json:"msg"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
	TraceID          string          `json:"traceId"`
}

// parseErrorBody extracts the messages and trace id from an error answer,
// with every credential scrubbed (before the body is cut, so that no
// credential is left half there, and after decoding, so that no escaping
// hides one). Anything unreadable becomes a single message with the body's
// start, so that a proxy's HTML error page still says something.
func parseErrorBody(scrub *secret.Scrubber, body []byte) (msgs []string, traceID string) {
	body = []byte(scrub.String(string(body)))
	msgs, traceID = parseBody(body)
	for i, m := range msgs {
		msgs[i] = scrub.String(m)
	}
	return msgs, scrub.String(traceID)
}

func parseBody(body []byte) (msgs []string, traceID string) {
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err != nil {
		s := strings.TrimSpace(string(body))
		if s == "" {
			return nil, ""
		}
		if len(s) > 200 {
			s = s[:200] + "..."
		}
		return []string{s}, ""
	}
	if len(eb.Message) > 0 {
		var one string
		var many []string
		switch {
		case json.Unmarshal(eb.Message, &one) == nil:
			if one != "" {
				msgs = append(msgs, one)
			}
		case json.Unmarshal(eb.Message, &many) == nil:
			for _, m := range many {
				if m != "" {
					msgs = append(msgs, m)
				}
			}
		}
	}
	if eb.Msg != "" {
		msgs = append(msgs, eb.Msg)
	}
	if eb.ErrorDescription != "" {
		msgs = append(msgs, eb.ErrorDescription)
	}
	if len(msgs) == 0 && eb.Error != "" {
		msgs = append(msgs, eb.Error)
	}
	return msgs, eb.TraceID
}

// RateLimitError is a rate limit the client could not wait out: the daily
// quota is used up, or Retry-After is longer than the retry policy's cap,
// or the attempts ran out. It matches ErrRateLimited.
type RateLimitError struct {
	// Op is the operation, e.g. "ghl: list messages".
	Op string
	// Method and Route identify the call (route template).
	Method, Route string
	// Daily is true when the location's daily quota is used up.
	Daily bool
	// RetryAfter is how long to wait before trying again (0 = unknown).
	RetryAfter time.Duration
	// Err is the 429 answer, or nil when the client refused the call
	// itself because the daily quota was known to be used up.
	Err error
}

// Error says which limit was hit and when to try again.
func (e *RateLimitError) Error() string {
	what := "HighLevel's per-location request limit was hit"
	if e.Daily {
		what = "HighLevel's daily request limit for this location is used up"
	}
	when := "try again later"
	if e.RetryAfter > 0 {
		when = "try again in " + e.RetryAfter.Round(time.Second).String()
		if e.Daily {
			when = "it resets in " + e.RetryAfter.Round(time.Minute).String()
		}
	}
	return fmt.Sprintf("%s: %s %s: %s; %s", e.Op, e.Method, e.Route, what, when)
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return errors.Is(ErrRateLimited, target) }

// Unwrap exposes the 429 answer, if any.
func (e *RateLimitError) Unwrap() error { return e.Err }

// OutcomeUnknownError reports a request that may or may not have been
// applied. It is returned, instead of retrying, by calls that are not safe to
// repeat (DeliverMessage, CreateConversation, UploadAttachment, and records
// without an altId), and by records whose altId check itself failed. It
// matches ErrOutcomeUnknown and unwraps to the cause.
type OutcomeUnknownError = apierr.OutcomeUnknownError

// outcomeHint is what to do about an outcome unknown to HighLevel.
const outcomeHint = "HighLevel may or may not have applied it, so it was not sent again; check HighLevel (for example the conversation's messages) before trying again"

// TokenNotSavedError reports that a refreshed OAuth token could not be
// persisted. HighLevel's refresh tokens are single-use, so the new token is
// the only valid one: the client keeps it in memory, does not use it until
// it is saved, and tries to save it again on the next call.
type TokenNotSavedError struct {
	// Err is the save callback's error.
	Err error
}

// Error says what happened and what the user can do.
func (e *TokenNotSavedError) Error() string {
	return fmt.Sprintf("the refreshed HighLevel token could not be saved (%v); it is kept in memory and saving is tried again on the next call: make the system keyring available (unlock it), and if Parley is closed before the token is saved, reconnect HighLevel in Connections", e.Err)
}

// Is makes errors.Is(err, ErrTokenNotSaved) true.
func (e *TokenNotSavedError) Is(target error) bool { return target == ErrTokenNotSaved }

// Unwrap exposes the save callback's error.
func (e *TokenNotSavedError) Unwrap() error { return e.Err }

// MaxUploadSize is the largest file UploadAttachment sends: HighLevel
// documents 5 MB for non-WhatsApp attachments. It is read as 5,000,000 bytes,
// the smaller meaning, so a file the client accepts is never refused with 413.
const MaxUploadSize = 5_000_000

// TooLargeError is a file over [MaxUploadSize], refused before anything was
// sent. It matches ErrTooLarge.
type TooLargeError struct {
	// Name is the file name.
	Name string
	// Size is the file's size in bytes, or at least that many when the
	// reader was not read to the end.
	Size int64
	// Limit is the largest accepted size in bytes.
	Limit int64
}

// Error says how large the file is, the limit, and what to do.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("ghl: upload attachment: %s is %s, more than the %s HighLevel accepts per file; nothing was sent: compress it or share it as a link",
		e.Name, byteSize(e.Size), byteSize(e.Limit))
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// UnsupportedMediaError is a file of a type HighLevel refuses, refused
// before anything was sent. It matches ErrUnsupportedMedia.
type UnsupportedMediaError struct {
	// Name is the file name.
	Name string
	// Ext is the file name's extension, lower case without the dot.
	Ext string
	// Detected is the media type sniffed from the content.
	Detected string
	// ByContent is true when the extension is accepted but the content is
	// not what it claims (the decision was made on the content), false when
	// the extension itself is not accepted.
	ByContent bool
}

// Error says whether the name or the content was refused, and what to do.
func (e *UnsupportedMediaError) Error() string {
	allowed := "JPG, JPEG, PNG, MP4, MPEG, ZIP, RAR, PDF, DOC, DOCX, TXT, MP3, WAV"
	if e.ByContent {
		return fmt.Sprintf("ghl: upload attachment: %s: decided by content: it is %s, not the .%s its name says; nothing was sent: convert it to one of %s, or fix its name",
			e.Name, e.Detected, e.Ext, allowed)
	}
	ext := "files without an extension"
	if e.Ext != "" {
		ext = "." + e.Ext + " files"
	}
	return fmt.Sprintf("ghl: upload attachment: %s: decided by extension: HighLevel does not accept %s; nothing was sent: convert it to one of %s",
		e.Name, ext, allowed)
}

// Is makes errors.Is(err, ErrUnsupportedMedia) true.
func (e *UnsupportedMediaError) Is(target error) bool { return target == ErrUnsupportedMedia }

// DecodeError is a 2xx answer whose body could not be decoded: invalid JSON
// or a field of the wrong type. It matches ErrBadResponse.
type DecodeError struct {
	// Op is the operation, e.g. "ghl: list messages".
	Op string
	// Method and Route identify the call (route template).
	Method, Route string
	// Field is the JSON path of the offending field ("messages.3.dateAdded"),
	// or "" when the body is not JSON at all.
	Field string
	// Err is the decoder's error.
	Err error

	// syntax marks a body that is not even JSON (truncated, cut off): the
	// connection may have been lost, so the outcome is uncertain.
	syntax bool
}

// Error says which call and which field could not be read.
func (e *DecodeError) Error() string {
	where := "body is not valid JSON"
	if e.Field != "" {
		where = fmt.Sprintf("field %q", e.Field)
	}
	return fmt.Sprintf("%s: %s %s: unreadable answer (%s: %v); if this persists, HighLevel may have changed its API: update Parley",
		e.Op, e.Method, e.Route, where, e.Err)
}

// Is makes errors.Is(err, ErrBadResponse) true.
func (e *DecodeError) Is(target error) bool { return errors.Is(ErrBadResponse, target) }

// Unwrap exposes the decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// byteSize formats a size for people: "6.2 MB".
func byteSize(n int64) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1_000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Scrubbed is a copy with credentials removed from what HighLevel said.
func (e *APIError) Scrubbed(s *secret.Scrubber) error {
	cp := *e
	cp.Messages = make([]string, len(e.Messages))
	for i, m := range e.Messages {
		cp.Messages[i] = s.String(m)
	}
	cp.TraceID, cp.Hint = s.String(e.TraceID), s.String(e.Hint)
	return &cp
}

// Scrubbed is a copy with credentials removed from the 429 answer.
func (e *RateLimitError) Scrubbed(s *secret.Scrubber) error {
	cp := *e
	cp.Err = s.Error(e.Err)
	return &cp
}

// Scrubbed is a copy with credentials removed from the save error.
func (e *TokenNotSavedError) Scrubbed(s *secret.Scrubber) error {
	return &TokenNotSavedError{Err: s.Error(e.Err)}
}

// Scrubbed is a copy with credentials removed from the decoder's error.
func (e *DecodeError) Scrubbed(s *secret.Scrubber) error {
	cp := *e
	cp.Err = s.Error(e.Err)
	return &cp
}
