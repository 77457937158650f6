package store

import (
	"context"
	"testing"
)

func TestForgetSyncStateKeepsHistory(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	if _, _, err := s.Enqueue(ctx, "mirror.message", "ad:msg:1", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := s.LinkIDs(ctx, KindContact, "ad-1", "ghl-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCursor(ctx, "ad.conversations", "42"); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendHistory(ctx, HistoryEntry{Operation: "message.push", System: "ghl", LocalID: "ad-msg-1", Outcome: OutcomeOK}); err != nil {
		t.Fatal(err)
	}

	if err := s.ForgetSyncState(ctx); err != nil {
		t.Fatal(err)
	}

	if counts, err := s.OutboxCounts(ctx); err != nil || counts[OutboxPending]+counts[OutboxInFlight]+counts[OutboxDone]+counts[OutboxDead] != 0 {
		t.Errorf("outbox after forgetting: %v (%v), want empty", counts, err)
	}
	if _, ok, err := s.GHLIDFor(ctx, KindContact, "ad-1"); err != nil || ok {
		t.Errorf("the link survived (%v)", err)
	}
	if _, ok, err := s.Cursor(ctx, "ad.conversations"); err != nil || ok {
		t.Errorf("the cursor survived (%v)", err)
	}
	// The same work can be queued again.
	if _, created, err := s.Enqueue(ctx, "mirror.message", "ad:msg:1", []byte("{}")); err != nil || !created {
		t.Errorf("re-enqueue after forgetting: created %v (%v), want a new job", created, err)
	}
	page, err := s.HistoryPage(ctx, HistoryFilter{Limit: 10})
	if err != nil || len(page) != 1 {
		t.Errorf("history after forgetting: %d rows (%v), want the 1 kept", len(page), err)
	}
}
