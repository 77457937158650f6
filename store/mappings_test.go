package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestMappingsAreVersioned(t *testing.T) {
	ctx := context.Background()
	s, clock := newClockStore(t)
	if v, m, err := s.CurrentMappings(ctx); err != nil || v != 0 || m != nil {
		t.Fatalf("nothing saved: %d %v %v", v, m, err)
	}
	v1 := []FieldMapping{{"first_name", "firstName", ""}, {"phone", "phone", "e164"}}
	v2 := []FieldMapping{{"phone", "phone", "e164"}, {"source", "customField.leadSource", "lower"}, {"first_name", "firstName", ""}}
	saves := []struct {
		m    []FieldMapping
		note string
	}{{v1, "initial"}, {v2, "map lead source"}, {nil, "clear all"}}
	for i, sv := range saves {
		clock.t = clock.t.Add(time.Hour)
		v, err := s.SaveMappings(ctx, sv.m, sv.note)
		if err != nil || v != i+1 {
			t.Fatalf("save %d: version %d, %v", i, v, err)
		}
	}
	if v, m, err := s.CurrentMappings(ctx); err != nil || v != 3 || len(m) != 0 {
		t.Errorf("current = %d %v %v, want version 3 with no mappings", v, m, err)
	}
	// Old versions stay readable, order preserved.
	for v, want := range map[int][]FieldMapping{1: v1, 2: v2} {
		if got, err := s.MappingsAt(ctx, v); err != nil || !slices.Equal(got, want) {
			t.Errorf("MappingsAt(%d) = %v, %v; want %v", v, got, err, want)
		}
	}
	if _, err := s.MappingsAt(ctx, 4); !errors.Is(err, ErrNotFound) {
		t.Errorf("MappingsAt(4) = %v, want ErrNotFound", err)
	}
	versions, err := s.MappingVersions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	by := CurrentUser()
	want := []MappingVersion{
		{Version: 3, SavedAt: start.Add(3 * time.Hour), Note: "clear all", SavedBy: by, Fields: 0},
		{Version: 2, SavedAt: start.Add(2 * time.Hour), Note: "map lead source", SavedBy: by, Fields: 3},
		{Version: 1, SavedAt: start.Add(1 * time.Hour), Note: "initial", SavedBy: by, Fields: 2},
	}
	if !slices.Equal(versions, want) {
		t.Errorf("versions = %+v\nwant       %+v", versions, want)
	}
}

func TestSaveMappingsValidation(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	for name, m := range map[string][]FieldMapping{
		"no AD field":      {{"", "firstName", ""}},
		"no GHL field":     {{"first_name", " ", ""}},
		"GHL field twice":  {{"first_name", "name", ""}, {"last_name", "name", ""}},
		"late bad mapping": {{"a", "b", ""}, {"c", "d", ""}, {"", "e", ""}},
	} {
		if _, err := s.SaveMappings(ctx, m, name); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if vs, err := s.MappingVersions(ctx); err != nil || len(vs) != 0 {
		t.Errorf("rejected saves created versions: %v %v", vs, err)
	}
	// One AD field feeding two GHL fields is fine.
	if _, err := s.SaveMappings(ctx, []FieldMapping{{"phone", "phone", ""}, {"phone", "customField.mobile", ""}}, ""); err != nil {
		t.Error(err)
	}
}

// The engine asks for the newest version on every contact job and reads
// the mappings only when it changed.
func TestLatestMappingVersion(t *testing.T) {
	ctx := context.Background()
	s, _ := newClockStore(t)
	if v, err := s.LatestMappingVersion(ctx); err != nil || v != 0 {
		t.Fatalf("nothing saved: %d, %v; want 0", v, err)
	}
	for want := 1; want <= 2; want++ {
		if _, err := s.SaveMappings(ctx, []FieldMapping{{"first_name", "firstName", ""}}, "v"); err != nil {
			t.Fatal(err)
		}
		if v, err := s.LatestMappingVersion(ctx); err != nil || v != want {
			t.Errorf("after save %d: %d, %v", want, v, err)
		}
	}
}
