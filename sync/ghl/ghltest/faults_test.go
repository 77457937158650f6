package ghltest

import (
	"net/http"
	"strings"
	"testing"

	"parley/sync/internal/sandboxkit"
)

// TestInjectFaultChecksTheRoute: a misspelt route would never fire, and the
// test using it would pass for the wrong reason.
func TestInjectFaultChecksTheRoute(t *testing.T) {
	srv := NewTestServer(t, Options{})
	for _, route := range []string{"GET /conversations/nosuchroute", "/conversations/{conversationId}", "GET /conversations/abc123"} {
		err := srv.InjectFault(sandboxkit.Fault{Route: route, Kind: sandboxkit.FaultDropBefore})
		if err == nil || !strings.Contains(err.Error(), route) {
			t.Errorf("InjectFault(%q) = %v, want an error naming the route", route, err)
		}
	}
	if err := srv.InjectFault(sandboxkit.Fault{Route: "POST /conversations/messages/inbound", Kind: sandboxkit.FaultStatus}); err == nil {
		t.Error("a status fault without a status was accepted")
	}
	if err := srv.InjectFault(sandboxkit.Fault{Route: "POST /oauth/token", Kind: sandboxkit.FaultDropBefore}); err != nil {
		t.Errorf("the token route: %v", err)
	}
}

// TestSharedOptions: the options both sandboxes share mean the same here
// as in the ActiveDEMAND sandbox.
func TestSharedOptions(t *testing.T) {
	if _, err := New(Options{Faults: []sandboxkit.Fault{{Route: "GET /nope", Kind: sandboxkit.FaultDropBefore}}}); err == nil {
		t.Error("a start fault for an unknown route was accepted")
	}
	srv, c := seeded(t, Options{Faults: []sandboxkit.Fault{{Kind: sandboxkit.FaultStatus, Status: http.StatusServiceUnavailable}}})
	c.noValidate = true
	conv := srv.Conversations()[0]
	if got := c.do("GET", "/conversations/"+conv.ID, nil, nil).status; got != http.StatusServiceUnavailable {
		t.Errorf("first call: %d, want the start fault's 503", got)
	}
	c.mustDo(http.StatusOK, "GET", "/conversations/"+conv.ID, nil)
	reqs := srv.Requests("GET /conversations/{conversationId}")
	if len(reqs) != 2 || reqs[1].Path != "/conversations/"+conv.ID || reqs[1].Header.Get("Version") == "" {
		t.Errorf("requests %+v", reqs)
	}

	// ClearFaults drops a standing fault.
	if err := srv.InjectFault(sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusBadGateway, Times: -1}); err != nil {
		t.Fatal(err)
	}
	if got := c.do("GET", "/conversations/"+conv.ID, nil, nil).status; got != http.StatusBadGateway {
		t.Errorf("standing fault: %d", got)
	}
	srv.ClearFaults()
	c.mustDo(http.StatusOK, "GET", "/conversations/"+conv.ID, nil)

	srv.ResetCalls()
	if len(srv.Requests("GET /conversations/{conversationId}")) != 0 || len(srv.CallCounts()) != 0 {
		t.Error("ResetCalls kept the request log")
	}
	if empty := NewTestServer(t, Options{}); len(empty.Conversations()) != 0 {
		t.Errorf("Seed 0 holds %d conversations, want an empty location", len(empty.Conversations()))
	}
}
