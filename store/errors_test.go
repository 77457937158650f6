package store

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestErrorsMatchAndExplain(t *testing.T) {
	cause := fs.ErrPermission
	tests := []struct {
		err      error
		sentinel error
		says     []string
	}{
		{&NotDatabaseError{Path: "/d/parley.db", Reason: "it is not an SQLite database file"}, ErrNotDatabase,
			[]string{"/d/parley.db", "is not a Parley database", "not an SQLite", "--data-dir"}},
		{&NotDatabaseError{Path: "/d/parley.db", Damaged: true, Reason: "SQLite cannot read it", Err: cause}, ErrNotDatabase,
			[]string{"/d/parley.db", "damaged", cause.Error(), "move it aside"}},
		{&SchemaTooNewError{Path: "/d/parley.db", Found: 9, Supported: 2}, ErrSchemaTooNew,
			[]string{"/d/parley.db", "newer Parley", "9", "2", "--data-dir"}},
		{&IDConflictError{Kind: KindContact, ADID: "a1", GHLID: "g2", ExistingADID: "a1", ExistingGHLID: "g1"}, ErrIDConflict,
			[]string{"contact", `"a1"`, `"g2"`, `"g1"`}},
		{invalidf("thing %d", 3), ErrInvalid, []string{"thing 3"}},
	}
	for _, tt := range tests {
		wrapped := fmt.Errorf("context: %w", tt.err)
		if !errors.Is(wrapped, tt.sentinel) {
			t.Errorf("%v does not match %v", tt.err, tt.sentinel)
		}
		for _, s := range tt.says {
			if !strings.Contains(tt.err.Error(), s) {
				t.Errorf("%q does not say %q", tt.err, s)
			}
		}
	}
	if !errors.Is(&NotDatabaseError{Err: cause}, fs.ErrPermission) {
		t.Error("NotDatabaseError hides its cause")
	}
	if errors.Is(&NotDatabaseError{}, ErrSchemaTooNew) || errors.Is(&SchemaTooNewError{}, ErrNotDatabase) {
		t.Error("sentinels overlap")
	}
}
