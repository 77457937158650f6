// Package engine is Parley's sync engine: the outbox workers, the
// ActiveDEMAND poller and the export import that mirror ActiveDEMAND
// conversations into HighLevel (field mapping, media and routing come next).
// It is the only part of Parley that talks to either API (through the
// clients in sync/ghl and sync/activedemand); everything it does lands in the
// store, which the console reads.
//
// The one rule a reader must not miss: the engine RECORDS in HighLevel what
// ActiveDEMAND has already delivered (the inbound and outbound record
// routes, with the AD message id as altId); it never asks HighLevel to
// deliver a message, which would send it to the customer a second time.
//
// Every unit of work is an outbox job before any call, and its result, id
// links and history rows are written in the transaction that completes it,
// so a process killed at any moment neither loses nor repeats a message: a
// job whose outcome is uncertain looks before it writes again.
//
// It lives under sync/ with the clients but is named engine, so that it
// never shadows the standard library's sync.
package engine
