package engine

import (
	"slices"
	"testing"
)

// TestEveryJobKindHasATitle: a kind a worker consumes is never shown to a
// person by its outbox name.
func TestEveryJobKindHasATitle(t *testing.T) {
	for _, kind := range engineKinds() {
		if KindTitle(kind) == kind {
			t.Errorf("job kind %s has no title", kind)
		}
		if !slices.Contains(kindOrder, kind) {
			t.Errorf("job kind %s has no place in the order", kind)
		}
	}
	if CompareKinds(JobMirrorContact, JobMirrorMessage) >= 0 || CompareKinds(JobRouteAction, "a.future.kind") >= 0 || CompareKinds("a.kind", "b.kind") >= 0 {
		t.Error("kinds out of order: contacts, messages, ..., then unknown ones by name")
	}
	if got := KindTitle("some.future.kind"); got != "some.future.kind" {
		t.Errorf("an unknown kind is shown as %q", got)
	}
}
