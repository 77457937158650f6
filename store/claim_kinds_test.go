package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestClaimDueOfLeavesOtherKinds(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	for _, k := range []string{"media.fetch", "mirror.message", "route.apply", "mirror.contact"} {
		if _, _, err := s.Enqueue(ctx, k, k+":1", nil); err != nil {
			t.Fatal(err)
		}
	}
	items, err := s.ClaimDueOf(ctx, clock.t, 10, time.Minute, "mirror.contact", "mirror.message")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.Kind)
	}
	if strings.Join(got, ",") != "mirror.message,mirror.contact" {
		t.Errorf("claimed %v, want the two mirror kinds in queue order", got)
	}
	counts, _ := s.OutboxCounts(ctx)
	if counts[OutboxPending] != 2 || counts[OutboxInFlight] != 2 {
		t.Errorf("counts = %v, want the other kinds still pending", counts)
	}
	if _, err := s.ClaimDueOf(ctx, clock.t, 10, time.Minute); !errors.Is(err, ErrInvalid) {
		t.Errorf("ClaimDueOf without kinds = %v, want ErrInvalid", err)
	}

	plan := queryPlan(t, s, dueOfKindsSQL(2), 0, "a", "b", 1)
	if len(plan) != 1 || !strings.Contains(plan[0], "INDEX outbox_pending") {
		t.Errorf("claim query plan = %q, want one search of outbox_pending and no sort", plan)
	}
}
