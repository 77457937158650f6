package engine_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"parley/store"
	"parley/sync/engine"
	"parley/sync/transcript"
)

// A transcript search hit carries the time of the call, not the time its
// transcript was fetched, and "last month" means calls of last month: a
// backfill fetches October's calls in December.
func TestSearchTranscriptsByCallTime(t *testing.T) {
	b := newBrowseRig(t)
	ctx := context.Background()
	oct := time.Date(2026, 10, 15, 9, 0, 0, 0, time.UTC)
	dec := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	content := transcriptBytes(t, transcript.Sentence{Channel: 2, Start: time.Second, End: 2 * time.Second, Text: "I want a refund."})
	rel := fmt.Sprintf("media/%s/call-oct.json", b.contact.ID)
	if err := os.MkdirAll(filepath.Join(b.dir, "media", b.contact.ID), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, filepath.FromSlash(rel)), content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	if _, err := b.st.AddMedia(ctx, store.MediaFile{MessageID: "call-oct", ContactID: b.contact.ID, Kind: store.MediaTranscript, Path: rel,
		SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content)), ContentType: transcript.ContentType, FetchedAt: dec, CallAt: oct}); err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	res, err := br.SearchTranscripts(ctx, engine.TranscriptQuery{Text: "refund"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 || !res.Hits[0].CallAt.Equal(oct) {
		t.Fatalf("hits %+v, want one at the call's time %v", res.Hits, oct)
	}
	october := engine.TranscriptQuery{Text: "refund", Since: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	if res, _ := br.SearchTranscripts(ctx, october); len(res.Hits) != 1 {
		t.Fatalf("calls of October: %d hits, want the October call fetched in December", len(res.Hits))
	}
	december := engine.TranscriptQuery{Text: "refund", Since: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	if res, _ := br.SearchTranscripts(ctx, december); len(res.Hits) != 0 {
		t.Fatalf("calls of December: %+v, want none", res.Hits)
	}
}
