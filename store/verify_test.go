package store

import (
	"context"
	"maps"
	"testing"
	"time"
)

func TestIDLinksListsOneKind(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	for _, l := range []struct {
		kind    EntityKind
		ad, ghl string
	}{{KindMessage, "m1", "g1"}, {KindMessage, "m2", "g2"}, {KindContact, "m1", "c1"}} {
		if err := s.LinkIDs(ctx, l.kind, l.ad, l.ghl); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.IDLinks(ctx, KindMessage)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"m1": "g1", "m2": "g2"}; !maps.Equal(got, want) {
		t.Errorf("IDLinks(message) = %v, want %v", got, want)
	}
}

func TestOutboxStatesByKeyFindsTheKeyAndItsVariants(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	for _, k := range []string{"ad:message:1", "ad:message:1#repair1", "ad:message:10", "ad:message:2"} {
		if _, _, err := s.Enqueue(ctx, "mirror.message", k, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	items, err := s.ClaimDue(ctx, time.Now().Add(time.Hour), 1, time.Minute)
	if err != nil || len(items) != 1 {
		t.Fatal(items, err)
	}
	if err := s.CompleteOutbox(ctx, items[0].Claim()); err != nil {
		t.Fatal(err)
	}
	got, err := s.OutboxStatesByKey(ctx, "ad:message:1", "#")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]OutboxState{"ad:message:1": OutboxDone, "ad:message:1#repair1": OutboxPending}
	if !maps.Equal(got, want) {
		t.Errorf("OutboxStatesByKey = %v, want %v", got, want)
	}
	for prefix, want := range map[string]string{"ad:message:1#": "ad:message:1#repair1", "ad:message:1": "ad:message:10"} {
		latest, ok, err := s.LatestOutboxKey(ctx, prefix)
		if err != nil || !ok || latest != want {
			t.Errorf("LatestOutboxKey(%q) = %q, %v, %v; want %q", prefix, latest, ok, err, want)
		}
	}
	if _, ok, err := s.LatestOutboxKey(ctx, "ad:nothing:"); ok || err != nil {
		t.Errorf("LatestOutboxKey of an unknown prefix = %v, %v", ok, err)
	}
}
