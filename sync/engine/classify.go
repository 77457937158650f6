package engine

// What a failed job does next depends only on the class of its error: the
// one place that reads the clients' error vocabulary, like rclone's
// shouldRetry.

import (
	"errors"
	"fmt"
	"time"

	"parley/store"
	"parley/sync/ghl"
)

// failClass is what a failed job does next.
type failClass int

const (
	// retry: a passing failure (5xx, 429, network, an outcome HighLevel
	// left unknown). The job goes back to the queue with a backoff; the
	// store caps its attempts and makes it dead after the last.
	retry failClass = iota
	// permanent: the job can never succeed as it is (HighLevel refused its
	// content, its contact is gone). It is made dead at once, with a
	// history row saying why.
	permanent
	// pause: only a person can fix it (credentials refused, a scope
	// missing, the daily quota used up, the database's disk full or
	// read-only). The engine stops claiming and
	// raises an alert; the job goes back untried, its attempt not counted.
	pause
	// lost: the job's claim is no longer this worker's (its lease ran out
	// and another worker has it). Nothing is written.
	lost
)

// classify sorts a job's error. retryAt, for retry, is a wait the server
// asked for (zero for the engine's own backoff).
func classify(err error) (c failClass, retryAfter time.Duration) {
	var rl *ghl.RateLimitError
	switch {
	case errors.Is(err, store.ErrClaimLost):
		return lost, 0
	case errors.As(err, &rl) && rl.Daily:
		return pause, rl.RetryAfter
	case errors.As(err, &rl):
		return retry, rl.RetryAfter
	case errors.Is(err, ghl.ErrUnauthorized), errors.Is(err, ghl.ErrForbidden), errors.Is(err, ghl.ErrTokenNotSaved),
		errors.Is(err, store.ErrCannotWrite):
		return pause, 0
	case errors.Is(err, ErrJobPayload), errors.Is(err, ghl.ErrValidation), errors.Is(err, ghl.ErrNotFound),
		errors.Is(err, ghl.ErrNotRecorded), errors.Is(err, ghl.ErrTooLarge), errors.Is(err, ghl.ErrUnsupportedMedia),
		errors.Is(err, store.ErrIDConflict), errors.Is(err, errPermanent):
		return permanent, 0
	}
	// Outcome unknown, 5xx, network errors, unreadable answers and anything
	// unforeseen: retrying is safe (every write looks before it writes
	// again) and bounded by the store's attempt cap.
	return retry, 0
}

// errPermanent marks failures the engine itself decides cannot succeed.
var errPermanent = errors.New("cannot be mirrored")

// pauseText says, in words for the user, why the engine paused (the same
// words for the same cause, so that repeated pauses refresh one alert) and
// what to do about it.
func pauseText(err error) (why, hint string) {
	var rl *ghl.RateLimitError
	var we *store.WriteError
	switch {
	case errors.As(err, &we):
		// The store's words name the file and the way out; the reason is
		// what a headless run prints last.
		return "Parley " + we.Error(), "Details: " + err.Error()
	case errors.As(err, &rl) && rl.Daily:
		why, hint = "HighLevel's daily request quota for this location is used up",
			"resume the sync once the quota resets"
		if rl.RetryAfter > 0 {
			hint += fmt.Sprintf(" (HighLevel says in %s)", rl.RetryAfter.Round(time.Minute))
		}
	case errors.Is(err, ghl.ErrUnauthorized):
		why, hint = "HighLevel refused Parley's credentials", "reconnect HighLevel in Connections, then resume the sync"
	case errors.Is(err, ghl.ErrForbidden):
		why, hint = "HighLevel refused a request for lack of a scope or for another location",
			"reconnect HighLevel for this location and approve the scopes Parley asks for, then resume the sync"
	case errors.Is(err, ghl.ErrTokenNotSaved):
		why, hint = "Parley could not save HighLevel's new token", "check that the keyring is unlocked, then resume the sync"
	default:
		why, hint = "the sync hit an error only a person can fix", "fix the cause, then resume the sync"
	}
	return "The sync with HighLevel is paused: " + why, hint + ". Details: " + err.Error()
}
