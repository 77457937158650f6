// Package ghl is Parley's typed client for HighLevel's ("GHL") Conversations
// API and the few Contacts and OAuth routes the sync engine needs.
//
// The contract is the official OpenAPI specification with its known defects
// (see the ERRATA file next to the specification in ghltest/openapi): every
// decoder here accepts both the documented shapes and the ones the live API
// is reported to send, and every request carries the documented Version
// header and a bearer token.
//
// Two families of message calls must never be confused:
//
//   - delivery: [Client.DeliverMessage] makes HighLevel send a message to the
//     customer (SMS, email, WhatsApp, ...). It is never retried after an
//     uncertain outcome; the caller gets [ErrOutcomeUnknown] and checks first.
//   - records: [Client.RecordMessage] and [Client.RecordCall] only record in
//     HighLevel what was already delivered elsewhere (by ActiveDEMAND). They
//     are made exactly-once by the altId: after an uncertain outcome the
//     client looks for the altId among the conversation's messages before
//     posting again.
//
// A [Client] paces its requests per location to stay inside HighLevel's rate
// limits (learning the limits from the X-RateLimit-* headers), retries what
// is safe to retry with capped, jittered exponential backoff, refreshes OAuth
// tokens ahead of expiry (persisting each new token before using it, since
// HighLevel's refresh tokens are single-use), and reports every logical call
// to an [Observer].
//
// Errors are typed: branch with errors.Is on [ErrUnauthorized],
// [ErrForbidden], [ErrNotFound], [ErrRateLimited], [ErrValidation],
// [ErrTooLarge], [ErrUnsupportedMedia], [ErrOutcomeUnknown],
// [ErrTokenNotSaved], [ErrNotRecorded] and [ErrBadResponse], and use
// errors.As with [*APIError], [*RateLimitError] and the other error types for
// details. Credentials never appear in an error, a log line or a formatted
// value, even when HighLevel repeats one back, escaped or not. The error
// words and the retry loop are shared with package activedemand
// (sync/internal/apierr, sync/internal/retry): ErrUnauthorized and its
// siblings are kinds of the shared sentinels, and this package writes only
// its shouldRetry and the hooks for the altId check and the token refresh.
package ghl
