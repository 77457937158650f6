package apierr

import (
	"errors"
	"fmt"
	"testing"
)

func TestKind(t *testing.T) {
	own := Kind(ErrUnauthorized, "the key was refused")
	err := fmt.Errorf("call: %w", own)
	if !errors.Is(err, own) || !errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrForbidden) {
		t.Errorf("errors.Is on a kind: own %v shared %v other %v", errors.Is(err, own), errors.Is(err, ErrUnauthorized), errors.Is(err, ErrForbidden))
	}
	if own.Error() != "the key was refused" {
		t.Errorf("Error() = %q", own)
	}
}

func TestOutcomeUnknownError(t *testing.T) {
	cause := errors.New("connection reset")
	err := fmt.Errorf("x: %w", &OutcomeUnknownError{Op: "ghl: deliver message", Method: "POST", Route: "/m", Err: cause, Hint: "check first"})
	if !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, cause) {
		t.Error("errors.Is")
	}
	if want := "x: ghl: deliver message: POST /m: outcome unknown (connection reset): check first"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
}
