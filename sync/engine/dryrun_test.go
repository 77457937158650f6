package engine_test

import (
	"context"
	"testing"
	"time"

	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
	"parley/sync/ghl/ghltest"
)

// TestDryRunSaysWhatASyncWouldDoAndWritesNothing: one AD contact already
// exists in HighLevel (found by email), two do not; one message has an
// attachment. The dry run predicts the creates, records and upload, makes
// no write to HighLevel and leaves the outbox, the id map and the cursor
// as they were; the real sync that follows does what it said.
func TestDryRunSaysWhatASyncWouldDoAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	r := newADRig(t)
	r.gs.AddContact(ghltest.Contact{FirstName: "Ada", LastName: "Test", Email: "ada@example.com"})
	if _, err := r.as.AddMessage(adtest.NewMessage{ConversationID: r.convs[2], Direction: activedemand.Outbound, Body: "the quote", Attachment: "quote.pdf", At: t0.Add(3 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	writes, state := r.writes(), r.storeState()
	res, err := engine.DryRun(ctx, engine.DryRunConfig{Store: r.st, GHL: r.gc, AD: r.ad, Contacts: r.ad, MaxItems: 2})
	if err != nil {
		t.Fatal(err)
	}
	if w := r.writes(); w != writes {
		t.Errorf("the dry run made %d writes to HighLevel", w-writes)
	}
	if s := r.storeState(); s != state {
		t.Errorf("the dry run changed the store:\nbefore %s\nafter  %s", state, s)
	}
	want := map[engine.DryRunCategory]int{
		engine.DryCreateContact: 2, engine.DryLinkContact: 1, engine.DryCreateConversation: 3,
		engine.DryRecordMessage: 7, engine.DryUploadAttachment: 1, engine.DryUpdateContact: 0,
	}
	for cat, n := range want {
		if res.Counts[cat] != n {
			t.Errorf("%s = %d, want %d (result %+v)", cat, res.Counts[cat], n, res.Counts)
		}
		if got := len(res.Items[cat]); got != min(n, 2) {
			t.Errorf("%d %s items listed, want the first %d", got, cat, min(n, 2))
		}
	}
	if res.Conversations != 3 || res.Messages != 7 {
		t.Errorf("read %d conversations and %d messages, want 3 and 7", res.Conversations, res.Messages)
	}

	r.mirror()
	if got := r.gs.Traffic().Records; got != res.Counts[engine.DryRecordMessage] {
		t.Errorf("the sync recorded %d messages, the dry run said %d", got, res.Counts[engine.DryRecordMessage])
	}
	if got := len(r.gs.Contacts()); got != 3 {
		t.Errorf("HighLevel has %d contacts after the sync, want the 1 found and the 2 created", got)
	}

	// After the sync, nothing is left to do.
	res, err = engine.DryRun(ctx, engine.DryRunConfig{Store: r.st, GHL: r.gc, AD: r.ad, Contacts: r.ad})
	if err != nil {
		t.Fatal(err)
	}
	for cat, n := range res.Counts {
		if n != 0 {
			t.Errorf("after the sync the dry run still says %s: %d", cat, n)
		}
	}
}
