package engine_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"parley/store"
	"parley/sync/engine"
)

// putConversation is the sandbox route of UpdateConversation.
const putConversation = "PUT /conversations/{conversationId}"

// TestUnreadAndStarredReachHighLevelOncePerChange: a conversation AD marks
// unread and starred is updated in HighLevel once, however often it is
// polled; marking it read and unstarred updates it once more; a
// conversation never flagged costs no call.
func TestUnreadAndStarredReachHighLevelOncePerChange(t *testing.T) {
	ctx := context.Background()
	r := newADRig(t)
	r.mirror()
	if n := r.gs.Calls(putConversation); n != 0 {
		t.Fatalf("%d conversation updates for conversations never flagged", n)
	}
	ghlConv := r.ghlID(store.KindConversation, "contact/"+string(r.contacts[1].ID))

	if err := r.as.SetConversationFlags(r.convs[1], true, true, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		r.mirror()
	}
	cv, _ := r.gs.Conversation(ghlConv)
	if n := r.gs.Calls(putConversation); n != 1 || !cv.Starred || cv.UnreadCount == 0 {
		t.Errorf("after marking unread and starred: %d updates, conversation starred=%v unread=%d; want 1, true, >0", n, cv.Starred, cv.UnreadCount)
	}

	if err := r.as.SetConversationFlags(r.convs[1], false, false, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		r.mirror()
	}
	cv, _ = r.gs.Conversation(ghlConv)
	if n := r.gs.Calls(putConversation); n != 2 || cv.Starred || cv.UnreadCount != 0 {
		t.Errorf("after marking read and unstarred: %d updates, starred=%v unread=%d; want 2, false, 0", n, cv.Starred, cv.UnreadCount)
	}
	rows := 0
	for _, h := range r.history() {
		if h.Operation == store.OpConversationUpsert && h.LocalID == string(r.convs[1]) && h.Outcome == store.OutcomeOK {
			rows++
		}
	}
	if rows != 2 {
		t.Errorf("%d history rows for the two updates, want 2", rows)
	}
	res, err := engine.DryRun(ctx, engine.DryRunConfig{Store: r.st, GHL: r.gc, AD: r.ad, Contacts: r.ad})
	if err != nil || res.Counts[engine.DryUpdateConversation] != 0 {
		t.Errorf("dry run after the sync = %+v, %v; want no conversation update left", res.Counts, err)
	}
}

// TestConversationFlagsWaitForTheConversation: marks whose contact has no
// HighLevel conversation yet wait for it, with a history row under the
// conversation's operation, and make no call.
func TestConversationFlagsWaitForTheConversation(t *testing.T) {
	r := newRig(t, rigOptions{})
	payload, err := json.Marshal(engine.ConversationFlagsJob{V: engine.JobVersion, ConversationID: "cv-1", ContactID: "ad-c1", Starred: true})
	if err != nil {
		t.Fatal(err)
	}
	const key = "ad:conversation:cv-1:flags:u0s1@1"
	if _, err := r.st.EnqueueBatch(context.Background(), []store.OutboxJob{{Kind: engine.JobConversationFlags, Key: key, Payload: payload}}); err != nil {
		t.Fatal(err)
	}
	e := r.engine(func(c *engine.Config) { c.RetryBase, c.RetryCap = time.Hour, time.Hour })
	r.run(e, func() bool { it := r.item(key); return it.Attempts > 0 && it.State == store.OutboxPending })
	waited := false
	for _, h := range r.history() {
		if h.LocalID == "cv-1" && h.Operation == store.OpConversationUpsert && h.Outcome == store.OutcomeRetrying {
			waited = true
		}
	}
	if !waited {
		t.Errorf("no conversation.upsert history row for the wait: %+v", r.history())
	}
	if n := r.gs.Calls(putConversation); n != 0 {
		t.Errorf("%d conversation updates before the conversation existed", n)
	}
}
