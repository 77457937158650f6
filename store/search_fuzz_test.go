package store

import (
	"context"
	"errors"
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
		f.Add(seed, false, uint8(0), int16(0), int16(0))
	}
	f.Add("contact", true, uint8(1), int16(3), int16(9))
	f.Add("msg", true, uint8(3), int16(-1), int16(20))
	ctx := context.Background()
	s := newTestStore(f)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	entries := genHistory(7, 300, start)
	entries = append(entries, semanticsRows...)
	for i := range entries[300:] {
		// Late records of early operations: out of time order.
		entries[300+i].At = start.Add(time.Duration(i) * time.Second)
	}
	if err := s.AppendHistory(ctx, entries...); err != nil {
		f.Fatal(err)
	}
	indexAll(f, s)
	fields := make([][4][]string, len(entries))
	for i, e := range entries {
		fields[i] = entryFields(e)
	}
	outcomes := []Outcome{"", OutcomeOK, OutcomeFailed, OutcomeRetrying, OutcomeSkipped}
	// since and until are seconds after start; negative means unset. The
	// generated rows are 50 ms apart, so 0-15 s spans all of them.
	f.Fuzz(func(t *testing.T, text string, filtered bool, op uint8, since, until int16) {
		filter := HistoryFilter{Text: text, Limit: MaxHistoryLimit}
		if filtered {
			filter.Operation = genOps[int(op)%len(genOps)].op
			filter.Outcome = outcomes[int(op/8)%len(outcomes)]
		}
		if since >= 0 {
			filter.Since = start.Add(time.Duration(since) * time.Second)
		}
		if until >= 0 {
			filter.Until = start.Add(time.Duration(until) * time.Second)
		}
		if !filter.Since.IsZero() && !filter.Until.IsZero() && !filter.Until.After(filter.Since) {
			if _, err := s.HistoryPage(ctx, filter); !errors.Is(err, ErrInvalid) {
				t.Fatalf("HistoryPage with an empty time range = %v, want ErrInvalid", err)
			}
			return
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
