package store

import (
	"context"
	"fmt"
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

func TestPendingOutboxListsPendingItemsOfTheKinds(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	for _, j := range []struct{ kind, key string }{{"a", "a1"}, {"b", "b1"}, {"a", "a2"}, {"c", "c1"}} {
		if _, _, err := s.Enqueue(ctx, j.kind, j.key, []byte(`{"k":"`+j.key+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	items, err := s.ClaimDueOf(ctx, time.Now().Add(time.Hour), 1, time.Minute, "a")
	if err != nil || len(items) != 1 {
		t.Fatal(items, err)
	}
	var got []string
	err = s.PendingOutbox(ctx, []string{"a", "b"}, func(it OutboxItem) error {
		got = append(got, it.Key+"="+string(it.Payload))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := `[b1={"k":"b1"} a2={"k":"a2"}]`; fmt.Sprint(got) != want {
		t.Errorf("PendingOutbox = %v, want %v (in-flight a1 and kind c left out)", got, want)
	}
}
