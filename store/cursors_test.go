package store

import (
	"context"
	"errors"
	"testing"
)

func TestCursors(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	if v, ok, err := s.Cursor(ctx, "ghl.contacts"); err != nil || ok || v != "" {
		t.Fatalf("unsaved cursor: %q %v %v", v, ok, err)
	}
	for _, v := range []string{"2025-01-01T00:00:00Z", "", "page:17"} {
		if err := s.SaveCursor(ctx, "ghl.contacts", v); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Cursor(ctx, "ghl.contacts"); err != nil || !ok || got != v {
			t.Errorf("after saving %q: %q %v %v", v, got, ok, err)
		}
	}
	if err := s.SaveCursor(ctx, "ad.messages", "42"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Cursor(ctx, "ghl.contacts"); got != "page:17" {
		t.Errorf("streams are not independent: %q", got)
	}
	if err := s.SaveCursor(ctx, " ", "x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty stream: %v", err)
	}
	if _, _, err := s.Cursor(ctx, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty stream: %v", err)
	}
}
