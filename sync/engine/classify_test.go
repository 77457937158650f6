package engine

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"parley/store"
	"parley/sync/ghl"
)

// TestClassify covers the errors no sandbox fault produces on demand, such
// as the daily quota, beside a few that the end-to-end tests also see.
func TestClassify(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		class failClass
		after time.Duration
	}{
		{"daily quota pauses", fmt.Errorf("record: %w", &ghl.RateLimitError{Daily: true, RetryAfter: 3 * time.Hour}), pause, 3 * time.Hour},
		{"burst limit retries when told", &ghl.RateLimitError{RetryAfter: 7 * time.Second}, retry, 7 * time.Second},
		{"outcome unknown retries", &ghl.OutcomeUnknownError{Op: "ghl: create conversation", Err: errors.New("reset")}, retry, 0},
		{"token not saved pauses", &ghl.TokenNotSavedError{Err: errors.New("keyring locked")}, pause, 0},
		{"refused content is permanent", &ghl.APIError{Status: 422}, permanent, 0},
		{"unreadable payload is permanent", fmt.Errorf("decode: %w", ErrJobPayload), permanent, 0},
		{"conflicting link is permanent", &store.IDConflictError{Kind: store.KindMessage}, permanent, 0},
		{"lost claim writes nothing", fmt.Errorf("complete: %w", store.ErrClaimLost), lost, 0},
		{"server error retries", &ghl.APIError{Status: 503}, retry, 0},
		{"the unforeseen retries", errors.New("disk full"), retry, 0},
	}
	for _, tt := range tests {
		if c, after := classify(tt.err); c != tt.class || after != tt.after {
			t.Errorf("%s: classify = %d, %s; want %d, %s", tt.name, c, after, tt.class, tt.after)
		}
	}
}
