package store

import (
	"context"
	"fmt"
	"testing"
)

func TestConversationLinksPagesAndFilters(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	for i := range 5 {
		if err := s.LinkIDs(ctx, KindConversation, fmt.Sprintf("contact/ad-%d", i), fmt.Sprintf("ghl-cv-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	// A message link shares the table and must not be listed.
	if err := s.LinkIDs(ctx, KindMessage, "ad-m", "ghl-m"); err != nil {
		t.Fatal(err)
	}
	page, err := s.ConversationLinks(ctx, ConversationFilter{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].ADContactID != "ad-0" || page[1].GHLID != "ghl-cv-1" {
		t.Fatalf("first page = %+v", page)
	}
	page, err = s.ConversationLinks(ctx, ConversationFilter{After: page[1].ADContactID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 || page[0].ADContactID != "ad-2" {
		t.Fatalf("second page = %+v", page)
	}
	page, err = s.ConversationLinks(ctx, ConversationFilter{Text: "CV-3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 || page[0].ADContactID != "ad-3" {
		t.Fatalf("filtered = %+v", page)
	}
}

func TestUnsettledJobsByContact(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	job := func(key, contact string) OutboxJob {
		return OutboxJob{Kind: "m", Key: key, Payload: []byte(`{"contact":{"id":"` + contact + `"}}`)}
	}
	if _, err := s.EnqueueBatch(ctx, []OutboxJob{job("k1", "a"), job("k2", "a"), job("k3", "b"), job("k4", "c"),
		{Kind: "other", Key: "k5", Payload: []byte(`{"contact":{"id":"a"}}`)}}); err != nil {
		t.Fatal(err)
	}
	items, err := s.ClaimDue(ctx, s.now(), 10, 60_000_000_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		switch it.Key {
		case "k2":
			if err := s.KillOutbox(ctx, it.ID, "refused"); err != nil {
				t.Fatal(err)
			}
		case "k3", "k5":
			if err := s.CompleteOutbox(ctx, it.Claim()); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := s.UnsettledByContact(ctx, "m", "$.contact.id")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["a"] != (JobCounts{Pending: 1, Dead: 1}) || got["c"] != (JobCounts{Pending: 1}) {
		t.Fatalf("unsettled = %+v", got)
	}
	jobs, err := s.OutboxWithValue(ctx, "m", "$.contact.id", "a", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 || jobs[0].Key != "k1" || jobs[1].State != OutboxDead || jobs[1].LastError != "refused" {
		t.Fatalf("jobs of a = %+v", jobs)
	}
}

// BenchmarkConversationLinksPage reads one 100-row page, the list's unit,
// deep into 100,000 linked conversations.
func BenchmarkConversationLinksPage(b *testing.B) {
	ctx := context.Background()
	s := newTestStore(b)
	seedConversations(b, s, 100_000)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		page, err := s.ConversationLinks(ctx, ConversationFilter{After: fmt.Sprintf("ad-%06d", (i*997)%99_000), Limit: 100})
		if err != nil || len(page) != 100 {
			b.Fatal(len(page), err)
		}
	}
}

// BenchmarkUnsettledByContact counts the unsettled message jobs of
// 100,000 conversations, one done message each and one in a hundred dead.
func BenchmarkUnsettledByContact(b *testing.B) {
	ctx := context.Background()
	s := newTestStore(b)
	seedConversations(b, s, 100_000)
	for b.Loop() {
		if _, err := s.UnsettledByContact(ctx, "mirror.message", "$.contact.id"); err != nil {
			b.Fatal(err)
		}
	}
}

func seedConversations(b *testing.B, s *Store, n int) {
	b.Helper()
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		ad := fmt.Sprintf("ad-%06d", i)
		state := OutboxDone
		if i%100 == 0 {
			state = OutboxDead
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO id_map (kind, ad_id, ghl_id, linked_at) VALUES ('conversation', ?, ?, 0)`, "contact/"+ad, "cv-"+ad); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (kind, key, payload, state, next_attempt_at, created_at, updated_at) VALUES ('mirror.message', ?, ?, ?, 0, 0, 0)`,
			"ad:message:m-"+ad, []byte(`{"v":1,"message_id":"m-`+ad+`","contact":{"id":"`+ad+`"},"body":"hello there"}`), string(state)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

func TestConversationLinksFor(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	ids := make([]string, 1200) // more than one query's worth
	for i := range ids {
		ids[i] = fmt.Sprintf("ad-%d", i)
		if i%2 == 0 {
			if err := s.LinkIDs(ctx, KindConversation, "contact/"+ids[i], fmt.Sprintf("cv-%d", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := s.ConversationLinksFor(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 600 || got["ad-1198"] != "cv-1198" || got["ad-1"] != "" {
		t.Fatalf("links = %d, ad-1198 → %q", len(got), got["ad-1198"])
	}
}
