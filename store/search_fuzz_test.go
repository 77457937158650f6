package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// FuzzHistorySearch types arbitrary text into the history search and checks
// that it never errors and that the index returns exactly what the
// brute-force reference does. Run it longer with
// go test -run '^$' -fuzz FuzzHistorySearch ./store/
func FuzzHistorySearch(f *testing.F) {
	for _, seed := range []string{"rate limited", "ad-msg-12", `"unbalanced`, "NEAR(rate limited)", "{local_id}: ad",
		"tags:op", "'; DROP TABLE history; --", "Message.Push", "h3tsi3", "4", "\xff\xfe", "🎉 rate", "a b c d e f"} {
		f.Add(seed, false)
	}
	ctx := context.Background()
	s := newTestStore(f)
	entries := genHistory(7, 300, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	entries = append(entries, semanticsRows...)
	if err := s.AppendHistory(ctx, entries...); err != nil {
		f.Fatal(err)
	}
	indexAll(f, s)
	fields := make([][4][]string, len(entries))
	for i, e := range entries {
		fields[i] = entryFields(e)
	}
	f.Fuzz(func(t *testing.T, text string, filtered bool) {
		filter := HistoryFilter{Text: text, Limit: MaxHistoryLimit}
		if filtered {
			filter.Operation, filter.Outcome = OpMessagePush, OutcomeFailed
		}
		page, err := s.HistoryPage(ctx, filter)
		if err != nil {
			t.Fatalf("HistoryPage(%q): %v", text, err)
		}
		if got, want := ids(page), referencePage(entries, fields, filter); !slices.Equal(got, want) {
			t.Fatalf("HistoryPage(%q) = %v, reference %v", text, got, want)
		}
	})
}
