package engine_test

import (
	"context"
	"testing"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
	"parley/sync/internal/sandboxkit"
)

func newPoller(t *testing.T, st *store.Store, as *adtest.Server) *engine.Poller {
	t.Helper()
	ad, err := activedemand.New(as.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.NewPoller(engine.PollerConfig{Store: st, AD: ad, Contacts: ad})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPollerQueuesChangesOnceAndSavesItsCursor polls the demo business,
// then polls again after one new message: the second poll queues that
// message only, and the cursor moves forward each time.
func TestPollerQueuesChangesOnceAndSavesItsCursor(t *testing.T) {
	ctx := context.Background()
	as := adtest.NewTestServer(t, adtest.Options{Seed: 1, SeedTime: t0, Clock: func() time.Time { return t0 }})
	st := newStore(t)
	p := newPoller(t, st, as)
	first, err := p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first.Messages < 100 || first.Queued < first.Messages {
		t.Fatalf("first poll = %+v, want the demo's messages queued", first)
	}
	c1, ok, _ := st.Cursor(ctx, engine.PollCursor)
	if !ok || c1 == "" {
		t.Fatal("no cursor saved after the first poll")
	}

	conv := as.Conversations()[0]
	m, err := as.AddMessage(adtest.NewMessage{ConversationID: conv.ID, Direction: activedemand.Inbound, Body: "one more", At: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	second, err := p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.Queued != 1 || second.Conversations == 0 || second.Conversations >= first.Conversations {
		t.Errorf("second poll = %+v, want the changed conversation read and only its new message queued", second)
	}
	it, err := st.OutboxItemByID(ctx, int64(first.Queued+1))
	if err != nil {
		t.Fatal(err)
	}
	if it.Key != engine.MessageKey(string(m.ID)) {
		t.Errorf("queued %q, want the new message", it.Key)
	}
	c2, _, _ := st.Cursor(ctx, engine.PollCursor)
	if c2 <= c1 {
		t.Errorf("cursor did not move forward: %q then %q", c1, c2)
	}
}

// TestPollerKeepsItsCursorWhenAPageFails: when reading a conversation's
// messages fails, nothing of its page is queued and the cursor stays, so
// the next poll reads the page again.
func TestPollerKeepsItsCursorWhenAPageFails(t *testing.T) {
	ctx := context.Background()
	as := adtest.NewTestServer(t, adtest.Options{Seed: 1, SeedTime: t0})
	st := newStore(t)
	p := newPoller(t, st, as)
	if err := as.InjectFault(sandboxkit.Fault{Route: string(activedemand.RouteMessagesList), Kind: sandboxkit.FaultStatus, Status: 400, Times: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Poll(ctx); err == nil {
		t.Fatal("poll succeeded through a failing messages route")
	}
	if c, ok, _ := st.Cursor(ctx, engine.PollCursor); ok {
		t.Errorf("cursor saved (%q) though the first page's jobs were not stored", c)
	}
	counts, _ := st.OutboxCounts(ctx)
	if counts[store.OutboxPending] != 0 {
		t.Errorf("%d jobs queued from a page that failed", counts[store.OutboxPending])
	}
	res, err := p.Poll(ctx)
	if err != nil || res.Messages < 100 {
		t.Errorf("next poll = %+v, %v; want the whole business", res, err)
	}
}
