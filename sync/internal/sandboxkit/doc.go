// Package sandboxkit is the toolkit both built-in sandboxes (the HighLevel one
// in ghl/ghltest and the ActiveDEMAND one in activedemand/adtest) are made
// of: one fault vocabulary and queue, one call log, one way to serve on
// loopback and to stop, one rate-limit shape. Each sandbox keeps only its
// own domain: its routes, its error bodies, its state.
//
// The split mirrors rclone's lib/rest and lib/pacer: the mechanics exist
// once, and each backend adds a few lines that say how its API words a
// failure (see Fault.Serve's status argument).
package sandboxkit
