package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"parley/store"
	"parley/sync/transcript"
)

// BenchmarkOpenContact1000 is opening a contact with 1,000 messages in the
// console: its HighLevel conversation read from the sandbox over loopback
// (10 pages of 100), a third of the messages linked to ActiveDEMAND, 50
// calls with recording and transcript in the media index, and its history
// rows picked out of 20,000. The target is under 200 ms.
func BenchmarkOpenContact1000(b *testing.B) {
	r := newBrowseRig(b)
	ctx := context.Background()
	t0 := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	var hist []store.HistoryEntry
	for i := range 1000 {
		at := t0.Add(time.Duration(i) * time.Minute)
		var id string
		if i%20 == 0 {
			id = r.gs.AddCall(r.conv, "inbound", nil, at).ID
			r.media(b, id, store.MediaRecording, []byte("RIFF"), "audio/wav", at)
			r.media(b, id, store.MediaTranscript, transcriptBytes(b, transcript.Sentence{Text: "hello"}), transcript.ContentType, at)
		} else {
			ad := ""
			if i%3 == 0 {
				ad = fmt.Sprintf("ad-m-%d", i)
			}
			id = r.record(b, fmt.Sprintf("message %d", i), ad, at)
		}
		hist = append(hist, store.HistoryEntry{At: at, Operation: store.OpMessagePush, System: store.SystemGHL, LocalID: fmt.Sprintf("ad-m-%d", i),
			RemoteID: id, Outcome: store.OutcomeOK})
	}
	for i := range 19000 {
		hist = append(hist, store.HistoryEntry{At: t0, Operation: store.OpMessagePush, System: store.SystemGHL,
			LocalID: fmt.Sprintf("other-%d", i), RemoteID: fmt.Sprintf("ghl-other-%d", i), Outcome: store.OutcomeOK})
	}
	if err := r.st.AppendHistory(ctx, hist...); err != nil {
		b.Fatal(err)
	}
	br := r.browser(b)
	if _, err := br.Contacts(ctx, "", 0); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		tl, err := br.Timeline(ctx, r.contact.ID)
		if err != nil || len(tl.Problems) > 0 {
			b.Fatal(err, tl.Problems)
		}
		if n := len(tl.Entries); n < 1000 {
			b.Fatalf("%d entries", n)
		}
	}
}
