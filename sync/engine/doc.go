// Package engine will hold Parley's sync engine: the outbox workers, triggers,
// field mapping, routing and retries that mirror ActiveDEMAND conversations
// into HighLevel. It is the only part of Parley that talks to either API
// (through the clients in sync/ghl and sync/activedemand); everything it does
// lands in the store, which the console reads.
//
// It lives under sync/ with the clients but is named engine, so that it
// never shadows the standard library's sync.
package engine
