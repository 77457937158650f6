// Package activedemand is Parley's ActiveDEMAND side: the REST client the
// sync engine uses, the route table that says how every call is made, a
// receiver for ActiveDEMAND's webhooks, and an importer for ActiveDEMAND
// export files that needs no API access.
//
// What is publicly known of ActiveDEMAND's API (contacts, contact fields,
// contact lists, forms; the base URL and both keys) is built exactly as
// seen in public client code. Conversations, messages, histories, tasks,
// webhooks and paging are not public; they sit behind one small interface,
// [Conversations], implemented over HTTP by [Client] with every path,
// method, parameter name and paging scheme taken from the route table
// ([Routes], [LoadRoutes]) so an admin can correct them from a routes file
// without a rebuild, and implemented over an imported export by
// [ImportedData]. The README section "ActiveDEMAND endpoints" lists which
// routes are known and which are assumed.
//
// Keys are [Secret]s: they print as [redacted] everywhere, are sent only
// as headers to the API's own host, and are scrubbed from everything the
// server or the network stack says back, however it escapes them.
//
// The error words ([ErrOutcomeUnknown], [OutcomeUnknownError], [CallInfo])
// and the retry loop are the ones package ghl uses too (sync/internal/apierr
// and sync/internal/retry); this package writes only its shouldRetry.
// ErrBadKey, ErrNoAccess, ErrNotFound, ErrRateLimited and ErrBadResponse are
// kinds of the shared sentinels, so the engine can branch on
// apierr.ErrUnauthorized whichever client refused.
//
// The sandbox in package adtest serves the same routes for tests and demo
// mode.
package activedemand
