package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestMediaIndex(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	sum := strings.Repeat("ab", 32)
	rec := MediaFile{MessageID: "m1", ContactID: "c1", Kind: MediaRecording, Path: "media/c1/m1.mp3", SHA256: sum, Size: 1000, ContentType: "audio/mpeg"}
	id, err := s.AddMedia(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(time.Minute)
	tr := MediaFile{MessageID: "m1", ContactID: "c1", Kind: MediaTranscript, Path: "media/c1/m1.txt", SHA256: sum, Size: 20, ContentType: "text/plain"}
	trID, err := s.AddMedia(ctx, tr)
	if err != nil || trID == id {
		t.Fatalf("transcript: %d %v", trID, err)
	}
	clock.t = clock.t.Add(time.Minute)
	other := MediaFile{MessageID: "m2", ContactID: "c1", Kind: MediaRecording, Path: "media/c1/m2.mp3", SHA256: sum, Size: 5, FetchedAt: clock.t}
	if _, err := s.AddMedia(ctx, other); err != nil {
		t.Fatal(err)
	}

	// Re-fetching replaces the entry and keeps its id.
	clock.t = clock.t.Add(time.Minute)
	refetch := rec
	refetch.Path, refetch.SHA256, refetch.Size = "media/c1/m1-v2.mp3", strings.Repeat("cd", 32), 2000
	if again, err := s.AddMedia(ctx, refetch); err != nil || again != id {
		t.Fatalf("re-fetch: id %d, %v; want %d", again, err, id)
	}

	got, err := s.MediaForMessage(ctx, "m1")
	if err != nil || len(got) != 2 {
		t.Fatalf("MediaForMessage = %v, %v", got, err)
	}
	wantRec := refetch
	wantRec.ID, wantRec.FetchedAt = id, clock.t
	if got[0] != wantRec || got[1].Kind != MediaTranscript {
		t.Errorf("MediaForMessage = %+v\nwant first %+v", got, wantRec)
	}
	byContact, err := s.MediaForContact(ctx, "c1")
	if err != nil || len(byContact) != 3 || byContact[0].ID != id || byContact[2].ID != trID {
		t.Errorf("MediaForContact (newest first) = %+v, %v", byContact, err)
	}
	if none, err := s.MediaForContact(ctx, "nobody"); err != nil || len(none) != 0 {
		t.Errorf("unknown contact: %v %v", none, err)
	}
}

func TestMediaValidation(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	good := MediaFile{MessageID: "m1", Kind: MediaRecording, Path: "media/m1.mp3", SHA256: strings.Repeat("0", 64)}
	tests := []struct {
		name   string
		mutate func(*MediaFile)
	}{
		{"no message", func(f *MediaFile) { f.MessageID = "" }},
		{"unknown kind", func(f *MediaFile) { f.Kind = "video" }},
		{"absolute path", func(f *MediaFile) { f.Path = "/etc/passwd" }},
		{"escaping path", func(f *MediaFile) { f.Path = "../outside.mp3" }},
		{"backslash path", func(f *MediaFile) { f.Path = `media\m1.mp3` }},
		{"empty path", func(f *MediaFile) { f.Path = "" }},
		{"short hash", func(f *MediaFile) { f.SHA256 = "abc" }},
		{"upper-case hash", func(f *MediaFile) { f.SHA256 = strings.Repeat("A", 64) }},
		{"negative size", func(f *MediaFile) { f.Size = -1 }},
	}
	for _, tt := range tests {
		f := good
		tt.mutate(&f)
		if _, err := s.AddMedia(ctx, f); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tt.name, err)
		}
	}
	if _, err := s.AddMedia(ctx, good); err != nil {
		t.Errorf("valid file rejected: %v", err)
	}
	if _, err := s.MediaForMessage(ctx, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("MediaForMessage(\"\") = %v", err)
	}
	if _, err := s.MediaForContact(ctx, " "); !errors.Is(err, ErrInvalid) {
		t.Errorf("MediaForContact(\" \") = %v", err)
	}
}
