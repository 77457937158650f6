package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLinkedContactsAndMessageLinks(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	for i := range 3 {
		clock.t = clock.t.Add(time.Minute)
		if err := s.LinkIDs(ctx, KindContact, fmt.Sprintf("ad-c%d", i), fmt.Sprintf("ghl-c%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.LinkIDs(ctx, KindMessage, "ad-m1", "ghl-m1"); err != nil {
		t.Fatal(err)
	}
	got, err := s.LinkedContacts(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].GHLID != "ghl-c2" || got[0].ADID != "ad-c2" || got[2].GHLID != "ghl-c0" || got[0].LinkedAt.IsZero() {
		t.Fatalf("linked contacts %+v, want the 3 contacts newest first", got)
	}
	if two, _ := s.LinkedContacts(ctx, 2); len(two) != 2 {
		t.Fatalf("limit 2 gave %d", len(two))
	}
	ids := []string{"ghl-m1", "ghl-unlinked"}
	for i := range 1200 { // more than one IN list
		ids = append(ids, fmt.Sprintf("ghl-x%d", i))
	}
	m, err := s.ADIDsFor(ctx, KindMessage, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || m["ghl-m1"] != "ad-m1" {
		t.Fatalf("message links %v", m)
	}
}

func TestHistoryFor(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var entries []HistoryEntry
	for i := range 1500 {
		entries = append(entries, HistoryEntry{At: at.Add(time.Duration(i) * time.Second), Operation: OpMessagePush, System: SystemGHL,
			LocalID: fmt.Sprintf("ad-%d", i), RemoteID: fmt.Sprintf("ghl-%d", i), Outcome: OutcomeOK})
	}
	if err := s.AppendHistory(ctx, entries...); err != nil {
		t.Fatal(err)
	}
	// By AD id, by GHL id, and across two IN lists.
	ids := []string{"ad-3", "ghl-7"}
	for i := 1000; i < 1600; i++ {
		ids = append(ids, fmt.Sprintf("ghl-%d", i))
	}
	got, err := s.HistoryFor(ctx, ids, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 502 {
		t.Fatalf("%d rows, want 502", len(got))
	}
	if got[0].RemoteID != "ghl-1499" || got[len(got)-1].LocalID != "ad-3" || got[len(got)-2].RemoteID != "ghl-7" {
		t.Fatalf("order: first %s, last two %s %s", got[0].RemoteID, got[len(got)-2].RemoteID, got[len(got)-1].LocalID)
	}
	for i := 1; i < len(got); i++ {
		if got[i].ID >= got[i-1].ID {
			t.Fatalf("not newest first at %d", i)
		}
	}
	few, _ := s.HistoryFor(ctx, ids, 10)
	if len(few) != 10 || few[0].RemoteID != "ghl-1499" {
		t.Fatalf("limit 10: %d rows", len(few))
	}
}

func TestMediaOfKind(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	sum := strings.Repeat("ab", 32)
	for i := range 5 {
		for _, k := range []MediaKind{MediaRecording, MediaTranscript} {
			if _, err := s.AddMedia(ctx, MediaFile{MessageID: fmt.Sprintf("m%d", i), ContactID: "c", Kind: k,
				Path: fmt.Sprintf("media/m%d.%s", i, k), SHA256: sum}); err != nil {
				t.Fatal(err)
			}
		}
	}
	page, err := s.MediaOfKind(ctx, MediaTranscript, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 || page[0].MessageID != "m0" || page[0].Kind != MediaTranscript {
		t.Fatalf("first page %+v", page)
	}
	rest, _ := s.MediaOfKind(ctx, MediaTranscript, page[2].ID, 3)
	if len(rest) != 2 || rest[1].MessageID != "m4" {
		t.Fatalf("second page %+v", rest)
	}
	if _, err := s.MediaOfKind(ctx, "video", 0, 0); err == nil {
		t.Fatal("unknown kind accepted")
	}
}
