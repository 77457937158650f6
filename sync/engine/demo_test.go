package engine_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
	"parley/sync/ghl/ghltest"
)

// queueFromAD reads every contact, conversation and message of an
// ActiveDEMAND account through the client (the Conversations interface for
// conversations and messages) and queues them as the poller will. It
// returns the AD message ids.
func queueFromAD(t testing.TB, st *store.Store, ad *activedemand.Client) []string {
	t.Helper()
	ctx := context.Background()
	contacts := map[activedemand.ID]activedemand.Contact{}
	var jobs []store.OutboxJob
	for c, err := range ad.AllContacts(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		contacts[c.ID] = c
		j, err := engine.APIContactJob(c)
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	var cv activedemand.Conversations = ad
	var ids []string
	for conv, err := range activedemand.AllChangedConversations(ctx, cv, "") {
		if err != nil {
			t.Fatal(err)
		}
		for m, err := range activedemand.AllMessages(ctx, cv, conv.ID) {
			if err != nil {
				t.Fatal(err)
			}
			j, err := engine.APIMessageJob(m, conv, contacts[conv.ContactID])
			if err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, j)
			ids = append(ids, string(m.ID))
		}
	}
	if _, err := st.EnqueueBatch(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestMirrorDemoBusinessDoesNoHarm mirrors the whole demo business from
// the ActiveDEMAND sandbox into an empty HighLevel location: nothing is
// delivered, every message is recorded exactly once by its altId, and
// history agrees with the id map.
func TestMirrorDemoBusinessDoesNoHarm(t *testing.T) {
	t.Parallel()
	as := adtest.NewTestServer(t, adtest.Options{Seed: 1, SeedTime: t0})
	ad, err := activedemand.New(as.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, rigOptions{ghl: ghltest.Options{SeedTime: t0}})
	ids := queueFromAD(t, r.st, ad)
	if len(ids) < 100 {
		t.Fatalf("the demo business has only %d messages", len(ids))
	}
	t.Logf("mirroring %d messages", len(ids))
	e := r.engine()
	r.run(e, nil)

	// Do no harm: asked over HTTP too, as an outside observer would.
	res, err := http.Get(r.gs.URL() + ghltest.TrafficPath)
	if err != nil {
		t.Fatal(err)
	}
	var tr ghltest.Traffic
	err = json.NewDecoder(res.Body).Decode(&tr)
	res.Body.Close()
	if err != nil || tr.Deliveries != 0 || tr.Records != len(ids) {
		t.Errorf("traffic = %+v (%v), want %d records and no delivery", tr, err, len(ids))
	}
	byAlt := r.byAltID()
	for _, id := range ids {
		if byAlt[id] != 1 {
			t.Errorf("AD message %s recorded %d times in GHL", id, byAlt[id])
		}
	}
	if len(byAlt) != len(ids) {
		t.Errorf("GHL holds %d altIds, AD has %d messages", len(byAlt), len(ids))
	}

	// History agrees with the id map: one ok record row per message,
	// naming the GHL message the id map links it to.
	rows := map[string][]store.HistoryEntry{}
	for _, h := range r.history() {
		if h.Operation == store.OpInboundRecord || h.Operation == store.OpOutboundRecord {
			rows[h.LocalID] = append(rows[h.LocalID], h)
		}
	}
	for _, id := range ids {
		linked := r.ghlID(store.KindMessage, id)
		if got := rows[id]; len(got) != 1 || got[0].Outcome != store.OutcomeOK || got[0].RemoteID != linked {
			t.Errorf("message %s: history %+v, id map %s", id, got, linked)
		}
	}
	if len(rows) != len(ids) {
		t.Errorf("history has record rows for %d messages, want %d", len(rows), len(ids))
	}

	snap, err := e.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	msgs := snap.Queue[engine.JobMirrorMessage]
	if msgs[store.OutboxDone] != len(ids) || msgs[store.OutboxPending]+msgs[store.OutboxInFlight]+msgs[store.OutboxDead] != 0 {
		t.Errorf("message queue = %v, want all %d done", msgs, len(ids))
	}
	if st := snap.Jobs[engine.JobMirrorMessage]; st.Done != len(ids) || st.Failed+st.Retried != 0 {
		t.Errorf("message stats = %+v, want %d done", st, len(ids))
	}
	if n := r.gs.Calls("POST /conversations/messages"); n != 0 {
		t.Errorf("%d requests to the delivery route", n)
	}
}
