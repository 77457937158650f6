package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The media index keeps when the call took place, which the transcript
// search shows and filters by; the fetch time only says when Parley got
// the file, which may be hours or (after a backfill) months later.
func TestMediaCallTime(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	sum := strings.Repeat("ab", 32)
	call := time.Date(2026, 10, 3, 14, 30, 0, 0, time.UTC)
	tr := MediaFile{MessageID: "m1", ContactID: "c1", Kind: MediaTranscript, Path: "media/c1/m1.json", SHA256: sum, CallAt: call}
	id, err := s.AddMedia(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	// A file of a call whose time is not known reads back without one.
	if _, err := s.AddMedia(ctx, MediaFile{MessageID: "m2", ContactID: "c1", Kind: MediaTranscript, Path: "media/c1/m2.json", SHA256: sum}); err != nil {
		t.Fatal(err)
	}
	page, err := s.MediaOfKind(ctx, MediaTranscript, 0, 10)
	if err != nil || len(page) != 2 {
		t.Fatalf("MediaOfKind = %+v, %v", page, err)
	}
	if !page[0].CallAt.Equal(call) || !page[0].FetchedAt.Equal(clock.t) {
		t.Errorf("call at %v, fetched at %v; want %v and %v", page[0].CallAt, page[0].FetchedAt, call, clock.t)
	}
	if !page[1].CallAt.IsZero() {
		t.Errorf("a call of unknown time reads back at %v", page[1].CallAt)
	}
	// Fetching again keeps the row and takes the newer call time.
	tr.CallAt = call.Add(time.Minute)
	if again, err := s.AddMedia(ctx, tr); err != nil || again != id {
		t.Fatalf("re-fetch: %d, %v", again, err)
	}
	got, err := s.MediaForMessage(ctx, "m1")
	if err != nil || len(got) != 1 || !got[0].CallAt.Equal(tr.CallAt) {
		t.Fatalf("after re-fetch: %+v, %v", got, err)
	}
}
