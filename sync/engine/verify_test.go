package engine_test

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
	"parley/sync/ghl"
)

// adRig is a rig with an ActiveDEMAND sandbox and client beside the
// HighLevel one: the whole path, poll to record, over loopback.
type adRig struct {
	*rig
	as *adtest.Server
	ad *activedemand.Client
	// contacts are the AD contacts the rig made, and convs one
	// conversation of each.
	contacts []activedemand.Contact
	convs    []activedemand.ID
}

// newADRig starts both sandboxes with three AD contacts of two messages
// each, none mirrored yet.
func newADRig(t *testing.T) *adRig {
	t.Helper()
	r := &adRig{rig: newRig(t, rigOptions{})}
	r.as = adtest.NewTestServer(t, adtest.Options{SeedTime: t0, Clock: func() time.Time { return t0 }})
	ad, err := activedemand.New(r.as.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	r.ad = ad
	r.cfg.AD = ad
	for i, name := range []string{"Ada", "Bo", "Cy"} {
		c, err := r.as.AddContact(adtest.NewContact{FirstName: name, LastName: "Test", Email: strings.ToLower(name) + "@example.com", Phone: "+1555010000" + string(rune('1'+i))})
		if err != nil {
			t.Fatal(err)
		}
		r.contacts = append(r.contacts, c)
		m, err := r.as.AddMessage(adtest.NewMessage{ContactID: c.ID, Channel: activedemand.ChannelSMS, Direction: activedemand.Inbound, Body: "hello from " + name, At: t0.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		r.convs = append(r.convs, m.ConversationID)
		r.addMessage(i, "reply to "+name, t0.Add(time.Duration(i)*time.Minute+time.Second))
	}
	return r
}

// addMessage adds an outbound SMS to the i'th contact's conversation.
func (r *adRig) addMessage(i int, body string, at time.Time) activedemand.Message {
	r.t.Helper()
	m, err := r.as.AddMessage(adtest.NewMessage{ConversationID: r.convs[i], Direction: activedemand.Outbound, Body: body, At: at})
	if err != nil {
		r.t.Fatal(err)
	}
	return m
}

func (r *adRig) poller() *engine.Poller {
	r.t.Helper()
	p, err := engine.NewPoller(engine.PollerConfig{Store: r.st, AD: r.ad, Contacts: r.ad})
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// mirror polls once and runs the engine until the outbox is settled.
func (r *adRig) mirror() {
	r.t.Helper()
	if _, err := r.poller().Poll(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.run(r.engine(), nil)
}

func (r *adRig) verify(repair bool) engine.VerifyReport {
	r.t.Helper()
	rep, err := engine.Verify(context.Background(), engine.VerifyConfig{Store: r.st, GHL: r.gc, AD: r.ad, Contacts: r.ad, Repair: repair})
	if err != nil {
		r.t.Fatalf("Verify: %v", err)
	}
	return rep
}

// writes counts the requests HighLevel's sandbox received that are not
// reads.
func (r *adRig) writes() int {
	n := 0
	for route, c := range r.gs.CallCounts() {
		if !strings.HasPrefix(route, "GET ") {
			n += c
		}
	}
	return n
}

// storeState is what a read-only pass must leave as it was: the outbox's
// counts, every id link and the poller's cursor.
func (r *adRig) storeState() string {
	r.t.Helper()
	ctx := context.Background()
	var b strings.Builder
	counts, err := r.st.OutboxCountsByKind(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, k := range []string{engine.JobMirrorContact, engine.JobMirrorMessage} {
		b.WriteString(k)
		for _, s := range []store.OutboxState{store.OutboxPending, store.OutboxInFlight, store.OutboxDone, store.OutboxDead} {
			b.WriteString(" " + string(s) + "=" + strconv.Itoa(counts[k][s]))
		}
		b.WriteString("\n")
	}
	for _, k := range []store.EntityKind{store.KindContact, store.KindConversation, store.KindMessage} {
		l, err := r.st.IDLinks(ctx, k)
		if err != nil {
			r.t.Fatal(err)
		}
		for _, ad := range slices.Sorted(maps.Keys(l)) {
			b.WriteString(string(k) + " " + ad + "=" + l[ad] + "\n")
		}
	}
	c, _, _ := r.st.Cursor(ctx, engine.PollCursor)
	b.WriteString("cursor " + c)
	return b.String()
}

// TestVerifyFindsMissingDuplicatedAndOrphanedAndRepairQueuesTheMissing
// mirrors a small business, then breaks it on purpose in each way the
// reconcile must see: a message ActiveDEMAND has and HighLevel lacks, one
// recorded twice, a record whose altId ActiveDEMAND does not know, and
// one recorded but not in the id map.
// Verify finds each, touching neither HighLevel nor the store; --repair
// queues the missing one, the engine mirrors it, and the next verify finds
// nothing missing (the duplicate and the orphan stay: repair never deletes).
func TestVerifyFindsMissingDuplicatedAndOrphanedAndRepairQueuesTheMissing(t *testing.T) {
	ctx := context.Background()
	r := newADRig(t)
	r.mirror()
	if rep := r.verify(false); len(rep.Problems) != 0 || rep.ADMessages != 6 || rep.GHLMessages != 6 || rep.Contacts != 3 {
		t.Fatalf("after a full mirror, verify = %+v, want 6 messages on each side and no problem", rep)
	}

	missing := r.addMessage(0, "never mirrored", t0.Add(time.Hour))
	first := r.as.Messages(r.convs[1])[0]
	conv1 := r.ghlID(store.KindConversation, "contact/"+string(r.contacts[1].ID))
	contact1 := r.ghlID(store.KindContact, string(r.contacts[1].ID))
	unlinked := r.addMessage(2, "recorded behind Parley's back", t0.Add(2*time.Hour))
	conv2 := r.ghlID(store.KindConversation, "contact/"+string(r.contacts[2].ID))
	if _, err := r.gc.RecordMessage(ctx, ghl.RecordRequest{Type: ghl.ChannelSMS, ConversationID: conv2, ContactID: r.ghlID(store.KindContact, string(r.contacts[2].ID)),
		ConversationProviderID: r.gs.ConversationProviderID(), AltID: string(unlinked.ID), Direction: ghl.Outbound, Date: t0, Message: "planted"}); err != nil {
		t.Fatal(err)
	}
	for _, alt := range []string{string(first.ID), "987654"} {
		if _, err := r.gc.RecordMessage(ctx, ghl.RecordRequest{Type: ghl.ChannelSMS, ConversationID: conv1, ContactID: contact1,
			ConversationProviderID: r.gs.ConversationProviderID(), AltID: alt, Direction: ghl.Inbound, Date: t0, Message: "planted"}); err != nil {
			t.Fatal(err)
		}
	}

	writes, state := r.writes(), r.storeState()
	rep := r.verify(false)
	if w := r.writes(); w != writes {
		t.Errorf("verify made %d writes to HighLevel", w-writes)
	}
	if s := r.storeState(); s != state {
		t.Errorf("verify changed the store:\nbefore %s\nafter  %s", state, s)
	}
	want := map[engine.ProblemKind]string{
		engine.ProblemMissing:    string(missing.ID),
		engine.ProblemDuplicated: string(first.ID),
		engine.ProblemOrphaned:   "987654",
		engine.ProblemIDMap:      string(unlinked.ID),
	}
	for kind, id := range want {
		if rep.Count(kind) != 1 {
			t.Errorf("%d %s problems, want 1: %+v", rep.Count(kind), kind, rep.Problems)
			continue
		}
		for _, p := range rep.Problems {
			if p.Kind == kind && (p.ADMessage != id || p.Detail == "") {
				t.Errorf("%s problem = %+v, want AD message %s with a detail", kind, p, id)
			}
		}
	}
	if len(rep.Problems) != 4 {
		t.Errorf("%d problems, want 4: %+v", len(rep.Problems), rep.Problems)
	}

	rep = r.verify(true)
	if rep.Repaired != 1 {
		t.Fatalf("repair queued %d jobs, want 1: %+v", rep.Repaired, rep)
	}
	if again := r.verify(true); again.Repaired != 0 || again.AlreadyQueued != 1 {
		t.Errorf("a second repair before the engine ran = %+v, want it to see the job already queued", again)
	}
	if w := r.writes(); w != writes {
		t.Errorf("repair itself wrote %d times to HighLevel; it only queues", w-writes)
	}
	r.run(r.engine(), nil)
	rep = r.verify(false)
	if rep.Count(engine.ProblemMissing) != 0 || rep.Count(engine.ProblemDuplicated) != 1 || rep.Count(engine.ProblemOrphaned) != 1 || rep.Count(engine.ProblemIDMap) != 1 {
		t.Errorf("after repair, verify = %+v; want nothing missing, the duplicate and the orphan left for a person", rep.Problems)
	}
	if n := r.byAltID()[string(missing.ID)]; n != 1 {
		t.Errorf("the repaired message is recorded %d times", n)
	}
}

// TestVerifyReportsALinkToADeletedConversation: a HighLevel conversation
// deleted behind Parley's back leaves the id map pointing at nothing;
// verify says so and does not queue what it cannot place.
func TestVerifyReportsALinkToADeletedConversation(t *testing.T) {
	r := newADRig(t)
	r.mirror()
	conv := r.ghlID(store.KindConversation, "contact/"+string(r.contacts[2].ID))
	if err := r.gc.DeleteConversation(context.Background(), conv); err != nil {
		t.Fatal(err)
	}
	rep := r.verify(true)
	if rep.Count(engine.ProblemOrphaned) != 1 || rep.Count(engine.ProblemMissing) != 2 || rep.Repaired != 0 {
		t.Errorf("verify --repair = %+v, want the stale link reported and its two messages missing but not queued", rep)
	}
	for _, p := range rep.Problems {
		if p.Kind == engine.ProblemOrphaned && (p.GHLConversation != conv || !strings.Contains(p.Detail, "does not have")) {
			t.Errorf("orphan = %+v", p)
		}
	}
}
