package store

import (
	"context"
	"os/user"
	"testing"
)

// TestMappingVersionsSayWhoSavedThem: each saved version names who saved
// it: the computer's user for a save from the console or a command, or the
// name a caller gives (the engine's default mapping is Parley's own).
func TestMappingVersionsSayWhoSavedThem(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	m := []FieldMapping{{ADField: "first_name", GHLField: "firstName", Transform: "copy"}}
	if _, err := s.SaveMappings(ctx, m, "by hand"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveMappingsAs(ctx, m, "the default", "Parley"); err != nil {
		t.Fatal(err)
	}
	vs, err := s.MappingVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := "the computer's user"
	if u, err := user.Current(); err == nil {
		want = u.Username
	}
	if len(vs) != 2 || vs[0].SavedBy != "Parley" || vs[1].SavedBy != want {
		t.Errorf("versions %+v, want the newest by Parley and the first by %s", vs, want)
	}
}
