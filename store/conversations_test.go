package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// TestLatestOutboxPayloads: the newest item of each key prefix, by queue
// order rather than key order, read through the key's index.
func TestLatestOutboxPayloads(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	jobs := []OutboxJob{
		{Kind: "c", Key: "ad:contact:7@ffff", Payload: []byte("seven, first")},
		{Kind: "c", Key: "ad:contact:7@0000", Payload: []byte("seven, changed")},
		{Kind: "c", Key: "ad:contact:70@aaaa", Payload: []byte("seventy")},
		{Kind: "m", Key: "ad:message:7", Payload: []byte("a message")},
	}
	for _, j := range jobs {
		if _, _, err := s.Enqueue(ctx, j.Kind, j.Key, j.Payload); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.LatestOutboxPayloads(ctx, []string{"ad:contact:7@", "ad:contact:70@", "ad:contact:8@"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ad:contact:7@": "seven, changed", "ad:contact:70@": "seventy"}
	if len(got) != len(want) {
		t.Errorf("got %d prefixes, want %d: %q", len(got), len(want), got)
	}
	for p, w := range want {
		if string(got[p]) != w {
			t.Errorf("%s: %q, want %q", p, got[p], w)
		}
	}
	if got, err := s.LatestOutboxPayloads(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("no prefixes: %v, %v", got, err)
	}

	// A list asks for a page of these: each must be a range read of the
	// key's index, never a walk of the whole outbox newest first.
	plan := queryPlan(t, s, latestOutboxPayloadSQL, "a", "b")
	if len(plan) == 0 || !strings.Contains(plan[0], "USING INDEX sqlite_autoindex_outbox_1 (key>? AND key<?)") {
		t.Errorf("plan %q does not read the key's index by range", plan)
	}
}

func TestEachOutboxFields(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	for _, j := range []OutboxJob{
		{Kind: "c", Key: "ad:contact:2@x", Payload: []byte(`{"first_name":"Ben","email":"ben@example.com"}`)},
		{Kind: "c", Key: "ad:contact:1@x", Payload: []byte(`{"first_name":"Ada","last_name":"King","n":7}`)},
		{Kind: "m", Key: "ad:message:1", Payload: []byte(`{"first_name":"not a contact"}`)},
	} {
		if _, _, err := s.Enqueue(ctx, j.Kind, j.Key, j.Payload); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	err := s.EachOutboxFields(ctx, "ad:contact:", []string{"$.first_name", "$.last_name", "$.email", "$.n"}, func(key string, f []string) error {
		got = append(got, key+"="+strings.Join(f, "|"))
		return nil
	})
	want := []string{"ad:contact:1@x=Ada|King||7", "ad:contact:2@x=Ben||ben@example.com|"}
	if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	stop := errors.New("enough")
	n := 0
	if err := s.EachOutboxFields(ctx, "ad:contact:", []string{"$.first_name"}, func(string, []string) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("stopping: %v after %d calls", err, n)
	}
	if err := s.EachOutboxFields(ctx, "ad:contact:", nil, func(string, []string) error { return nil }); err == nil {
		t.Error("no paths: no error")
	}
}

// BenchmarkEachOutboxFields reads the names of 100,000 contacts' jobs
// among as many message jobs: what one search of the Conversations
// screen's ActiveDEMAND side by name costs at that size.
//
//	go test -run '^$' -bench EachOutboxFields -count 3 ./store/
func BenchmarkEachOutboxFields(b *testing.B) {
	ctx := context.Background()
	s := newTestStore(b)
	const contacts = 100_000
	var jobs []OutboxJob
	for i := range contacts {
		jobs = append(jobs,
			OutboxJob{Kind: "mirror.contact", Key: fmt.Sprintf("ad:contact:%d@%012x", 4_000_000+i, i),
				Payload: fmt.Appendf(nil, `{"v":1,"contact_id":"%d","first_name":"First%d","last_name":"Last%d","email":"person%d@example.com","phone":"+1514555%04d"}`, 4_000_000+i, i, i, i, i%10_000)},
			OutboxJob{Kind: "mirror.message", Key: fmt.Sprintf("ad:message:%d", i),
				Payload: fmt.Appendf(nil, `{"v":1,"message_id":"%d","contact":{"id":"%d","name":"First%d Last%d"},"body":"%0200d"}`, i, 4_000_000+i, i, i, i)})
		if len(jobs) == 10_000 {
			if _, err := s.EnqueueBatch(ctx, jobs); err != nil {
				b.Fatal(err)
			}
			jobs = jobs[:0]
		}
	}
	paths := []string{"$.first_name", "$.last_name", "$.email", "$.phone"}
	for b.Loop() {
		n := 0
		if err := s.EachOutboxFields(ctx, "ad:contact:", paths, func(string, []string) error { n++; return nil }); err != nil || n != contacts {
			b.Fatal(n, err)
		}
	}
}
