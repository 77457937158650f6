package store

import (
	"context"
	"errors"
	"testing"
)

func TestLinkIDs(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	steps := []struct {
		kind        EntityKind
		ad, ghl     string
		conflict    bool
		invalid     bool
		existingAD  string
		existingGHL string
	}{
		{kind: KindContact, ad: "ad-1", ghl: "g-1"},
		{kind: KindContact, ad: "ad-1", ghl: "g-1"},                                                         // same pair again: fine
		{kind: KindContact, ad: "ad-1", ghl: "g-2", conflict: true, existingAD: "ad-1", existingGHL: "g-1"}, // AD side reused
		{kind: KindContact, ad: "ad-2", ghl: "g-1", conflict: true, existingAD: "ad-1", existingGHL: "g-1"}, // GHL side reused
		{kind: KindMessage, ad: "ad-1", ghl: "g-2"},                                                         // other kind: independent
		{kind: KindConversation, ad: "ad-1", ghl: "g-1"},
		{kind: "deal", ad: "ad-9", ghl: "g-9", invalid: true},
		{kind: KindContact, ad: "", ghl: "g-9", invalid: true},
		{kind: KindContact, ad: "ad-9", ghl: "  ", invalid: true},
	}
	for i, st := range steps {
		err := s.LinkIDs(ctx, st.kind, st.ad, st.ghl)
		var conflict *IDConflictError
		switch {
		case st.conflict:
			if !errors.As(err, &conflict) || !errors.Is(err, ErrIDConflict) ||
				conflict.ExistingADID != st.existingAD || conflict.ExistingGHLID != st.existingGHL {
				t.Errorf("step %d: err = %v, want conflict with %s<->%s", i, err, st.existingAD, st.existingGHL)
			}
		case st.invalid:
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("step %d: err = %v, want ErrInvalid", i, err)
			}
		case err != nil:
			t.Errorf("step %d: %v", i, err)
		}
	}
	lookups := []struct {
		kind    EntityKind
		byAD    bool
		id      string
		want    string
		wantOK  bool
		invalid bool
	}{
		{KindContact, true, "ad-1", "g-1", true, false},
		{KindContact, false, "g-1", "ad-1", true, false},
		{KindMessage, true, "ad-1", "g-2", true, false},
		{KindMessage, false, "g-1", "", false, false},
		{KindContact, true, "ad-2", "", false, false}, // the conflicting link was not stored
		{KindContact, false, "g-2", "", false, false},
		{KindContact, true, "", "", false, true},
		{"deal", false, "g-1", "", false, true},
	}
	for _, l := range lookups {
		var got string
		var ok bool
		var err error
		if l.byAD {
			got, ok, err = s.GHLIDFor(ctx, l.kind, l.id)
		} else {
			got, ok, err = s.ADIDFor(ctx, l.kind, l.id)
		}
		if got != l.want || ok != l.wantOK || errors.Is(err, ErrInvalid) != l.invalid || (err != nil && !l.invalid) {
			t.Errorf("lookup %+v: %q %v %v", l, got, ok, err)
		}
	}
}
