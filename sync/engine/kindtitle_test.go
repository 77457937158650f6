package engine

import "testing"

// TestEveryJobKindHasATitle: a kind a worker consumes is never shown to a
// person by its outbox name.
func TestEveryJobKindHasATitle(t *testing.T) {
	for _, kind := range engineKinds() {
		if KindTitle(kind) == kind {
			t.Errorf("job kind %s has no title", kind)
		}
	}
	if got := KindTitle("some.future.kind"); got != "some.future.kind" {
		t.Errorf("an unknown kind is shown as %q", got)
	}
}
