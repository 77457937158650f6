package engine

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"parley/store"
)

// spill leaves the bufio.Writer's Write errors unchecked and relies on
// Flush returning the first one: a run that cannot be written must fail
// the sort, not lose items.
func TestSpillReportsAFailedWrite(t *testing.T) {
	name := filepath.Join(t.TempDir(), "run")
	if err := os.WriteFile(name, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name) // read-only: every write fails
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := newSpillSorter(2)
	s.f, s.w = f, bufio.NewWriterSize(f, 16)
	job := store.OutboxJob{Kind: "k", Key: "key", Payload: []byte("a payload longer than the buffer")}
	if err := s.add(1, job); err != nil {
		t.Fatal(err)
	}
	if err := s.add(2, job); err == nil {
		t.Fatal("a run the file refused was reported written")
	}
}
