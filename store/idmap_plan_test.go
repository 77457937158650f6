package store

import (
	"strings"
	"testing"
)

// TestLinkLookupUsesTheIndexes: LinkIDs looks up both ids of the pair on
// every link, and the sync engine links three pairs per message, so a
// lookup that scans id_map makes a mirror quadratic in its size.
func TestLinkLookupUsesTheIndexes(t *testing.T) {
	s, _ := newClockStore(t)
	plan := queryPlan(t, s, linkLookupSQL, "contact", "a", "contact", "g")
	searches := 0
	for _, d := range plan {
		switch {
		case strings.HasPrefix(d, "SCAN"):
			t.Errorf("the link lookup scans: %q (plan %q)", d, plan)
		case strings.HasPrefix(d, "SEARCH"):
			searches++
			// A search on the kind alone reads every link of that kind.
			if !strings.Contains(d, "ad_id=?") && !strings.Contains(d, "ghl_id=?") {
				t.Errorf("the link lookup reads a whole kind: %q (plan %q)", d, plan)
			}
		}
	}
	if searches == 0 {
		t.Errorf("no index search in the plan %q", plan)
	}
}
