package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"parley/store"
	"parley/sync/engine"
	"parley/sync/ghl/ghltest"
	"parley/sync/internal/sandboxkit"
)

// TestMirrorContactAndMessages mirrors one contact and one message of each
// kind: the contact is created with its phone in E.164, one conversation
// holds every message, each recorded once under its AD id as altId with
// its date and direction, nothing is delivered, and the id map and history
// say the same.
func TestMirrorContactAndMessages(t *testing.T) {
	r := newRig(t, rigOptions{})
	ann := contactJob("ad-c1", "Ann", "Lee", "Ann.Lee@example.com", "(902) 555-0142")
	sms := messageJob("ad-m1", ann, "sms", "inbound", "Is the boat ready?", t0)
	mail := messageJob("ad-m2", ann, "email", "outbound", "<p>Yes, Thursday.</p>", t0.Add(time.Minute))
	mail.Subject = "Your boat"
	callIn := messageJob("ad-m3", ann, "call", "inbound", "", t0.Add(2*time.Minute))
	callIn.Call = &engine.CallJob{DurationMS: 65_000, Status: "completed"}
	callOut := messageJob("ad-m4", ann, "call", "outbound", "", t0.Add(3*time.Minute))
	callOut.SenderPhone = "+19025550100"
	callOut.Call = &engine.CallJob{DurationMS: 5_000, Status: "no-answer"}
	r.queue(ann, sms, mail, callIn, callOut)
	r.run(r.engine(), nil)

	contacts := r.gs.Contacts()
	if len(contacts) != 1 || contacts[0].Email != "ann.lee@example.com" || contacts[0].Phone != "+19025550142" ||
		contacts[0].FirstName != "Ann" || contacts[0].LastName != "Lee" {
		t.Fatalf("GHL contacts = %+v, want Ann Lee with her phone in E.164", contacts)
	}
	cv, ok := r.gs.ConversationForContact(contacts[0].ID)
	if !ok {
		t.Fatal("no conversation for the contact")
	}
	msgs := r.gs.Messages(cv.ID)
	want := []struct {
		alt, typ, dir string
		at            time.Time
	}{
		{"ad-m1", "TYPE_SMS", "inbound", t0}, {"ad-m2", "TYPE_EMAIL", "outbound", t0.Add(time.Minute)},
		{"ad-m3", "TYPE_CALL", "inbound", t0.Add(2 * time.Minute)}, {"ad-m4", "TYPE_CALL", "outbound", t0.Add(3 * time.Minute)},
	}
	if len(msgs) != len(want) {
		t.Fatalf("conversation holds %d messages, want %d: %+v", len(msgs), len(want), msgs)
	}
	got := map[string]ghltest.Message{}
	for _, m := range msgs {
		got[m.AltID] = m
	}
	for _, w := range want {
		m, ok := got[w.alt]
		if !ok || m.MessageType != w.typ || m.Direction != w.dir || !m.DateAdded.Equal(w.at) {
			t.Errorf("message %s = %+v, want %s %s at %s", w.alt, m, w.typ, w.dir, w.at)
		}
		if id := r.ghlID(store.KindMessage, w.alt); id != m.ID {
			t.Errorf("id map links %s to %s, GHL has it as %s", w.alt, id, m.ID)
		}
	}
	if tr := r.gs.Traffic(); tr.Deliveries != 0 || tr.Records != 4 {
		t.Errorf("traffic = %+v, want 4 records and no delivery", tr)
	}
	if r.ghlID(store.KindContact, "ad-c1") != contacts[0].ID {
		t.Error("the contact is not linked to its GHL twin")
	}
	ops := map[store.Operation]int{}
	for _, h := range r.history() {
		ops[h.Operation]++
		if h.Outcome != store.OutcomeOK && h.Operation != store.OpMediaFetch { // no data folder: the call says it is not fetched
			t.Errorf("history row %+v is not ok", h)
		}
		if h.Operation == store.OpInboundRecord || h.Operation == store.OpOutboundRecord {
			if h.HTTPStatus != http.StatusCreated || h.RemoteID != got[h.LocalID].ID {
				t.Errorf("record row %+v, want status 201 and the GHL message id", h)
			}
		}
	}
	wantOps := map[store.Operation]int{store.OpContactUpsert: 1, store.OpConversationUpsert: 1, store.OpInboundRecord: 3, store.OpOutboundRecord: 1}
	for op, n := range wantOps {
		if ops[op] != n {
			t.Errorf("%d %s history rows, want %d (all: %v)", ops[op], op, n, ops)
		}
	}
	if n := r.gs.Calls("POST /conversations/messages"); n != 0 {
		t.Errorf("%d calls to the delivery route", n)
	}
}

// TestChangedContactUpdatesGHL queues a known contact again with a new
// last name: the GHL contact is updated, not duplicated.
func TestChangedContactUpdatesGHL(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.queue(contactJob("ad-c1", "Ann", "Lee", "ann@example.com", "+19025550142"))
	r.run(r.engine(), nil)
	r.queue(contactJob("ad-c1", "Ann", "Lee-Marsh", "ann@example.com", "+19025550142"))
	r.run(r.engine(), nil)
	contacts := r.gs.Contacts()
	if len(contacts) != 1 || contacts[0].LastName != "Lee-Marsh" {
		t.Fatalf("GHL contacts = %+v, want one, renamed", contacts)
	}
	if r.ghlID(store.KindContact, "ad-c1") != contacts[0].ID {
		t.Error("link changed")
	}
}

// TestMessageUsesExistingContactAndConversation: a contact HighLevel
// already has (same email) and its conversation are found and linked, not
// created again.
func TestMessageUsesExistingContactAndConversation(t *testing.T) {
	r := newRig(t, rigOptions{})
	ct := r.gs.AddContact(ghltest.Contact{LocationID: r.gs.LocationID(), FirstName: "Bo", Email: "bo@example.com"})
	cv := r.gs.AddConversation(ghltest.Conversation{LocationID: r.gs.LocationID(), ContactID: ct.ID})
	bo := contactJob("ad-c9", "Bo", "", "bo@example.com", "")
	r.queue(messageJob("ad-m9", bo, "sms", "inbound", "hi", t0))
	r.run(r.engine(), nil)
	if n := len(r.gs.Contacts()); n != 1 {
		t.Errorf("%d contacts, want the existing one", n)
	}
	if r.ghlID(store.KindContact, "ad-c9") != ct.ID || r.ghlID(store.KindConversation, "contact/ad-c9") != cv.ID {
		t.Error("not linked to the existing contact and conversation")
	}
	if n := r.gs.Calls("POST /contacts/upsert") + r.gs.Calls("POST /conversations/"); n != 0 {
		t.Errorf("%d creates, want none", n)
	}
	if m := r.gs.Messages(cv.ID); len(m) != 1 || m[0].AltID != "ad-m9" {
		t.Errorf("messages = %+v", m)
	}
}

// TestManyMessagesOfOneContactShareOneConversation runs many messages of
// a new contact on several workers at once: one contact, one
// conversation, every message once, and the contact and conversation
// resolved once, not per worker: a duplicate search, the upsert that
// creates the contact, and the conversation's create, with no search for
// a conversation of a contact that did not exist a moment before.
func TestManyMessagesOfOneContactShareOneConversation(t *testing.T) {
	r := newRig(t, rigOptions{})
	c := contactJob("ad-c1", "Cy", "", "cy@example.com", "")
	var jobs []any
	for i := range 40 {
		jobs = append(jobs, messageJob("ad-m"+string(rune('A'+i)), c, "sms", "inbound", "x", t0.Add(time.Duration(i)*time.Second)))
	}
	r.queue(jobs...)
	r.run(r.engine(func(c *engine.Config) { c.Workers = 8 }), nil)
	if n := len(r.gs.Contacts()); n != 1 {
		t.Errorf("%d contacts", n)
	}
	if n := len(r.gs.Conversations()); n != 1 {
		t.Errorf("%d conversations", n)
	}
	for alt, n := range r.byAltID() {
		if n != 1 {
			t.Errorf("%s recorded %d times", alt, n)
		}
	}
	if n := len(r.byAltID()); n != 40 {
		t.Errorf("%d messages recorded, want 40", n)
	}
	calls := r.gs.Calls("GET /contacts/search/duplicate") + r.gs.Calls("POST /contacts/upsert") +
		r.gs.Calls("GET /conversations/search") + r.gs.Calls("POST /conversations/")
	if calls != 3 {
		t.Errorf("%d calls to find and create the contact and conversation, want 3: %v", calls, r.gs.CallCounts())
	}
}

// TestNewContactWhoseConversationAppearsAnyway: a contact the upsert has
// just created gets its conversation created without a search first. If
// one appears in between anyway (another process, a HighLevel workflow),
// HighLevel refuses the create and the engine finds and uses that one:
// still one conversation, the message recorded once in it.
func TestNewContactWhoseConversationAppearsAnyway(t *testing.T) {
	var gs *ghltest.Server
	var made ghltest.Conversation
	r := newRig(t, rigOptions{transport: func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			res, err := rt.RoundTrip(req)
			if err == nil && req.Method == http.MethodPost && req.URL.Path == "/contacts/upsert" {
				for _, c := range gs.Contacts() {
					made = gs.AddConversation(ghltest.Conversation{LocationID: gs.LocationID(), ContactID: c.ID})
				}
			}
			return res, err
		})
	}})
	gs = r.gs
	dee := contactJob("ad-c4", "Dee", "", "dee@example.com", "")
	r.queue(dee, messageJob("ad-m40", dee, "sms", "inbound", "hello", t0))
	r.run(r.engine(), nil)
	if made.ID == "" {
		t.Fatal("the test made no conversation behind the engine's back")
	}
	if n := len(r.gs.Conversations()); n != 1 {
		t.Errorf("%d conversations, want the one that appeared", n)
	}
	if n := r.gs.Calls("POST /conversations/"); n != 1 {
		t.Errorf("%d conversation creates, want the one HighLevel refused", n)
	}
	if got := r.ghlID(store.KindConversation, "contact/ad-c4"); got != made.ID {
		t.Errorf("conversation linked to %q, want %q", got, made.ID)
	}
	if m := r.gs.Messages(made.ID); len(m) != 1 || m[0].AltID != "ad-m40" {
		t.Errorf("messages = %+v", m)
	}
}

// TestOtherKindsAreLeftAlone: jobs of kinds the engine does not handle
// stay queued for their own workers, untouched.
func TestOtherKindsAreLeftAlone(t *testing.T) {
	r := newRig(t, rigOptions{})
	if _, _, err := r.st.Enqueue(context.Background(), "media.fetch", "media:1", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	c := contactJob("ad-c1", "Mo", "", "mo@example.com", "")
	r.queue(c)
	r.run(r.engine(), func() bool { return r.item(c.Key()).State == store.OutboxDone })
	if it := r.item("media:1"); it.State != store.OutboxPending || it.Attempts != 0 || it.LastError != "" || !it.UpdatedAt.Equal(it.CreatedAt) {
		t.Errorf("other kind's job = %+v, want untouched", it)
	}
}

// TestMessageStatus: a message AD says was read is read in GHL too; when
// GHL refuses the status (403: only the provider's app may set it), the
// refusal is one history row, the message stays mirrored and nothing is
// retried or paused.
func TestMessageStatus(t *testing.T) {
	const statusRoute = "PUT /conversations/messages/{messageId}/status"
	for _, refused := range []bool{false, true} {
		t.Run(fmt.Sprintf("refused=%v", refused), func(t *testing.T) {
			var o rigOptions
			if refused {
				o.ghl.Faults = []sandboxkit.Fault{{Route: statusRoute, Kind: sandboxkit.FaultStatus, Status: http.StatusForbidden}}
			}
			r := newRig(t, o)
			c := contactJob("ad-c1", "Oz", "", "oz@example.com", "")
			m := messageJob("ad-m1", c, "sms", "outbound", "seen?", t0)
			m.Status = "read"
			plain := messageJob("ad-m2", c, "sms", "outbound", "sent", t0.Add(time.Second))
			plain.Status = "delivered"
			r.queue(c, m, plain)
			e := r.engine()
			r.run(e, nil)
			if it := r.item(m.Key()); it.State != store.OutboxDone || it.Attempts != 1 {
				t.Fatalf("job = %s after %d attempts, want done after 1", it.State, it.Attempts)
			}
			if n := r.gs.Calls(statusRoute); n != 1 {
				t.Errorf("%d status requests, want 1 (none for the delivered message, no retry)", n)
			}
			got, _ := r.gs.Message(r.ghlID(store.KindMessage, "ad-m1"))
			var rows []store.HistoryEntry
			for _, h := range r.history() {
				if h.Operation == store.OpStatusUpdate {
					rows = append(rows, h)
				}
			}
			snap, _ := e.Snapshot(context.Background())
			if refused {
				if got.Status != "delivered" || len(rows) != 1 || rows[0].HTTPStatus != 403 || rows[0].Outcome != store.OutcomeFailed ||
					!strings.Contains(rows[0].Error, "only the conversation provider") {
					t.Errorf("status %q, rows %+v; want delivered and one refused row", got.Status, rows)
				}
				if snap.Reason != "" {
					t.Errorf("a refused status paused the engine: %q", snap.Reason)
				}
				return
			}
			if got.Status != "read" || len(rows) != 1 || rows[0].Outcome != store.OutcomeOK {
				t.Errorf("status %q, rows %+v; want read and one ok row", got.Status, rows)
			}
		})
	}
}
