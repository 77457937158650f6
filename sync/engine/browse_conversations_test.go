package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"parley/store"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
	"parley/sync/internal/sandboxkit"
)

// conversationRig mirrors a small business: Ada with three messages, Ben
// with one. Then a fourth message of Ada's is queued but not mirrored (it
// is missing in HighLevel), and a message is recorded in Ada's HighLevel
// conversation that ActiveDEMAND never had (an extra one).
func conversationRig(t *testing.T) (*rig, *engine.Browser, string) {
	t.Helper()
	r := newRig(t, rigOptions{})
	ada := contactJob("ad-ada", "Ada", "Lovelace", "ada@example.com", "+15145550111")
	ben := contactJob("ad-ben", "Ben", "Okafor", "ben@example.com", "+15145550122")
	r.queue(ada, ben,
		messageJob("m-ada-1", ada, "sms", "inbound", "Hello", t0),
		messageJob("m-ada-2", ada, "sms", "outbound", "Hi Ada", t0.Add(time.Minute)),
		messageJob("m-ada-3", ada, "sms", "inbound", "Thanks", t0.Add(2*time.Minute)),
		messageJob("m-ben-1", ben, "sms", "inbound", "Morning", t0))
	r.run(r.engine(), nil)
	r.queue(messageJob("m-ada-4", ada, "sms", "inbound", "One more thing", t0.Add(3*time.Minute)))
	conv := r.ghlID(store.KindConversation, "contact/ad-ada")
	if _, err := r.gc.RecordMessage(context.Background(), ghl.RecordRequest{Type: ghl.ChannelSMS, ConversationID: conv,
		ContactID: r.ghlID(store.KindContact, "ad-ada"), ConversationProviderID: r.gs.ConversationProviderID(),
		Direction: ghl.Outbound, Date: t0.Add(90 * time.Second), Message: "Typed in HighLevel"}); err != nil {
		t.Fatal(err)
	}
	br, err := engine.NewBrowser(engine.BrowseConfig{Store: r.st, GHL: r.gc})
	if err != nil {
		t.Fatal(err)
	}
	return r, br, conv
}

func TestConversationListsMarkSyncState(t *testing.T) {
	ctx := context.Background()
	r, br, conv := conversationRig(t)
	ad, next, err := br.ADConversations(ctx, engine.ADConversationQuery{})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]engine.PairState{}
	for _, c := range ad {
		states[c.ADContactID] = c.State
	}
	if next != "" || len(ad) != 2 || states["ad-ada"] != engine.PairPending || states["ad-ben"] != engine.PairInSync {
		t.Fatalf("AD conversations = %+v (next %q)", ad, next)
	}
	gh, _, err := br.GHLConversations(ctx, engine.GHLConversationQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range gh {
		if c.ID == conv && (c.ADContactID != "ad-ada" || c.State != engine.PairPending) {
			t.Fatalf("Ada's HighLevel conversation = %+v", c)
		}
	}
	// A conversation HighLevel has on its own is only on that side.
	other := r.gs.AddContact(ghltest.Contact{FirstName: "Cleo", Email: "cleo@example.com"})
	r.gs.AddConversation(ghltest.Conversation{ContactID: other.ID, Type: "TYPE_PHONE", LastMessageDate: t0})
	gh, _, err = br.GHLConversations(ctx, engine.GHLConversationQuery{})
	if err != nil {
		t.Fatal(err)
	}
	only := 0
	for _, c := range gh {
		if c.ContactID == other.ID && c.State == engine.PairOnlyGHL && c.ADContactID == "" {
			only++
		}
	}
	if len(gh) != 3 || only != 1 {
		t.Fatalf("HighLevel conversations = %+v", gh)
	}
	// Paging: one a page, three pages.
	seen := 0
	for after := int64(0); ; {
		page, next, err := br.GHLConversations(ctx, engine.GHLConversationQuery{Limit: 1, StartAfter: after})
		if err != nil {
			t.Fatal(err)
		}
		seen += len(page)
		if next == 0 {
			break
		}
		after = next
	}
	if seen != 3 {
		t.Fatalf("paged %d HighLevel conversations, want 3", seen)
	}
}

func TestConversationPairAlignsBothThreads(t *testing.T) {
	ctx := context.Background()
	_, br, conv := conversationRig(t)
	p, err := br.Pair(ctx, "ad-ada", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.GHLConversationID != conv || len(p.Problems) != 0 {
		t.Fatalf("pair = %+v", p)
	}
	var got []string
	for _, row := range p.Rows {
		got = append(got, row.ADMessageID+"|"+row.GHLText+"|"+string(row.Mismatch))
	}
	want := []string{"m-ada-1|Hello|", "m-ada-2|Hi Ada|", "|Typed in HighLevel|" + string(engine.OnlyInGHL),
		"m-ada-3|Thanks|", "m-ada-4||" + string(engine.MissingInGHL)}
	if len(got) != len(want) {
		t.Fatalf("rows = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("rows = %q, want %q", got, want)
		}
	}
	if p.Rows[4].ADState != store.OutboxPending || p.Missing != 1 || p.Extra != 1 {
		t.Fatalf("missing row = %+v; missing %d extra %d", p.Rows[4], p.Missing, p.Extra)
	}
	// The pair found from the other side is the same pair.
	q, err := br.Pair(ctx, "", conv)
	if err != nil || q.ADContactID != "ad-ada" || len(q.Rows) != 5 {
		t.Fatalf("pair from HighLevel = %+v, %v", q, err)
	}
}

func TestConversationResyncQueuesTheMissing(t *testing.T) {
	ctx := context.Background()
	r, br, conv := conversationRig(t)
	// While m-ada-4's first job is pending, re-sync has nothing to add.
	res, err := br.ResyncConversation(ctx, "ad-ada")
	if err != nil {
		t.Fatal(err)
	}
	if res.Queued != 0 || res.AlreadyQueued != 1 {
		t.Fatalf("resync with the job pending = %+v", res)
	}
	// Give the job up, as a refusal would, and re-sync: it is queued
	// again under a repair key, and the engine mirrors it.
	it := r.item(engine.MessageKey("m-ada-4"))
	if err := r.st.KillOutbox(ctx, it.ID, "refused"); err != nil {
		t.Fatal(err)
	}
	ad, _, err := br.ADConversations(ctx, engine.ADConversationQuery{})
	if err != nil || ad[0].State != engine.PairFailed || ad[0].Failed != 1 {
		t.Fatalf("after the refusal: %+v, %v", ad, err)
	}
	res, err = br.ResyncConversation(ctx, "ad-ada")
	if err != nil {
		t.Fatal(err)
	}
	if res.Queued != 1 || res.AlreadyQueued != 0 {
		t.Fatalf("resync = %+v", res)
	}
	r.run(r.engine(), nil)
	p, err := br.Pair(ctx, "ad-ada", conv)
	if err != nil {
		t.Fatal(err)
	}
	if p.Missing != 0 || r.byAltID()["m-ada-4"] != 1 || r.byAltID()["m-ada-1"] != 1 {
		t.Fatalf("after the re-sync: missing %d, HighLevel altIds %v", p.Missing, r.byAltID())
	}
}

// TestConversationNextPagesReuseTheCounts: scrolling reads next pages
// with the open-job counts of the first, so a long list does not count
// every job again per page; a first page counts afresh.
func TestConversationNextPagesReuseTheCounts(t *testing.T) {
	ctx := context.Background()
	r, br, _ := conversationRig(t)
	page, next, err := br.ADConversations(ctx, engine.ADConversationQuery{Limit: 1})
	if err != nil || len(page) != 1 || page[0].ADContactID != "ad-ada" || next != "ad-ada" {
		t.Fatalf("first page = %+v, %q, %v", page, next, err)
	}
	// Ben's conversation gets a failed message after the first page.
	ben := contactJob("ad-ben", "Ben", "Okafor", "ben@example.com", "+15145550122")
	r.queue(messageJob("m-ben-2", ben, "sms", "inbound", "Hello?", t0.Add(time.Hour)))
	if err := r.st.KillOutbox(ctx, r.item(engine.MessageKey("m-ben-2")).ID, "refused"); err != nil {
		t.Fatal(err)
	}
	page, _, err = br.ADConversations(ctx, engine.ADConversationQuery{Limit: 1, After: next})
	if err != nil || len(page) != 1 || page[0].ADContactID != "ad-ben" || page[0].State != engine.PairInSync {
		t.Fatalf("next page = %+v, %v; want Ben as the first page saw him", page, err)
	}
	page, _, err = br.ADConversations(ctx, engine.ADConversationQuery{Text: "ben"})
	if err != nil || len(page) != 1 || page[0].State != engine.PairFailed {
		t.Fatalf("a first page = %+v, %v; want Ben failed", page, err)
	}
}

// TestConversationOnlyInActiveDEMAND: a contact whose messages are queued
// but not mirrored yet has no HighLevel conversation: it is listed first,
// only on the ActiveDEMAND side, and its filter finds it alone.
func TestConversationOnlyInActiveDEMAND(t *testing.T) {
	ctx := context.Background()
	r, br, _ := conversationRig(t)
	cleo := contactJob("ad-cleo", "Cleo", "Ng", "cleo@example.com", "")
	r.queue(messageJob("m-cleo-1", cleo, "sms", "inbound", "Hi", t0))
	all, _, err := br.ADConversations(ctx, engine.ADConversationQuery{})
	if err != nil || len(all) != 3 || all[0].ADContactID != "ad-cleo" || all[0].State != engine.PairOnlyAD || all[1].ADContactID != "ad-ada" {
		t.Fatalf("all = %+v, %v", all, err)
	}
	only, _, err := br.ADConversations(ctx, engine.ADConversationQuery{State: engine.PairOnlyAD})
	if err != nil || len(only) != 1 || only[0].ADContactID != "ad-cleo" {
		t.Fatalf("only in ActiveDEMAND = %+v, %v", only, err)
	}
	pending, _, err := br.ADConversations(ctx, engine.ADConversationQuery{State: engine.PairPending})
	if err != nil || len(pending) != 1 || pending[0].ADContactID != "ad-ada" {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	p, err := br.Pair(ctx, "ad-cleo", "")
	if err != nil || p.State != engine.PairOnlyAD || p.Missing != 1 || len(p.Rows) != 1 {
		t.Fatalf("pair = %+v, %v", p, err)
	}
}

// TestConversationPairWhenHighLevelFails: with HighLevel's side unread, no
// message is called missing, and a re-sync refuses rather than queue the
// whole conversation again.
func TestConversationPairWhenHighLevelFails(t *testing.T) {
	ctx := context.Background()
	r, br, _ := conversationRig(t)
	if err := r.gs.InjectFault(sandboxkit.Fault{Route: "GET /conversations/{conversationId}/messages", Kind: sandboxkit.FaultStatus, Status: 400, Times: 2}); err != nil {
		t.Fatal(err)
	}
	p, err := br.Pair(ctx, "ad-ada", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Problems) != 1 || p.Missing != 0 || len(p.Rows) != 4 {
		t.Fatalf("pair = %+v", p)
	}
	if _, err := br.ResyncConversation(ctx, "ad-ada"); err == nil || !strings.Contains(err.Error(), "Connections screen") {
		t.Fatalf("re-sync with HighLevel failing: %v", err)
	}
}

// TestConversationsNameActiveDEMANDContacts: the ActiveDEMAND side names
// its contacts as ActiveDEMAND gave them, the newest details first; a
// contact known only from its messages is named in its pair by the newest
// of them.
func TestConversationsNameActiveDEMANDContacts(t *testing.T) {
	ctx := context.Background()
	r, br, _ := conversationRig(t)
	// Ada married since: her contact is read again, with the new name.
	r.queue(contactJob("ad-ada", "Ada", "King", "ada@example.com", "+15145550111"))
	cleo := contactJob("ad-cleo", "Cleo", "Ng", "cleo@example.com", "")
	r.queue(messageJob("m-cleo-1", cleo, "sms", "inbound", "Hi", t0),
		messageJob("m-cleo-2", contactJob("ad-cleo", "", "", "cleo.ng@example.com", ""), "sms", "inbound", "New address", t0.Add(time.Hour)))
	names := func(q engine.ADConversationQuery) map[string]string {
		t.Helper()
		list, _, err := br.ADConversations(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, c := range list {
			out[c.ADContactID] = c.Name
		}
		return out
	}
	all := names(engine.ADConversationQuery{})
	want := map[string]string{"ad-ada": "Ada King", "ad-ben": "Ben Okafor", "ad-cleo": ""}
	if len(all) != len(want) {
		t.Fatalf("names = %q, want %q", all, want)
	}
	for id, w := range want {
		if all[id] != w {
			t.Errorf("%s is named %q, want %q", id, all[id], w)
		}
	}
	// The state filters read another path: they name too.
	if got := names(engine.ADConversationQuery{State: engine.PairPending}); got["ad-ada"] != "Ada King" {
		t.Errorf("pending = %q, want Ada named", got)
	}
	if got := names(engine.ADConversationQuery{Limit: 1, After: "ad-ada"}); got["ad-ben"] != "Ben Okafor" {
		t.Errorf("second page = %q, want Ben named", got)
	}
	for id, w := range map[string]string{"ad-ada": "Ada King", "ad-cleo": "cleo.ng@example.com"} {
		p, err := br.Pair(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		if p.ADContactName != w {
			t.Errorf("pair of %s is named %q, want %q", id, p.ADContactName, w)
		}
	}
}

// TestConversationsFindActiveDEMANDContactsByName: the ActiveDEMAND
// side's search finds a contact by any name, email or phone ActiveDEMAND
// gave it, whatever the case and the alphabet, and pages what it finds.
func TestConversationsFindActiveDEMANDContactsByName(t *testing.T) {
	ctx := context.Background()
	r, br, _ := conversationRig(t)
	r.queue(contactJob("ad-ada", "Ada", "King", "ada@example.com", "+15145550111"))
	emile := contactJob("ad-e", "Émile", "Zola", "", "+15145550133")
	r.queue(emile, messageJob("m-e-1", emile, "sms", "inbound", "Bonjour", t0))
	find := func(q engine.ADConversationQuery) ([]string, string) {
		t.Helper()
		list, next, err := br.ADConversations(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range list {
			ids = append(ids, c.ADContactID)
		}
		return ids, next
	}
	for text, want := range map[string]string{
		"king": "ad-ada", "LOVELACE": "ad-ada", "ada king": "ad-ada", // any of her names, the newest shown
		"okafor": "ad-ben", "BEN@EXAMPLE": "ad-ben", "550122": "ad-ben",
		"émile": "ad-e", "ÉMILE ZOLA": "ad-e", // not linked yet: only on this side
		"ada":    "ad-ada", // by its id and by its name, listed once
		"nobody": "",
	} {
		if got, _ := find(engine.ADConversationQuery{Text: text}); strings.Join(got, ",") != want {
			t.Errorf("%q finds %q, want %q", text, got, want)
		}
	}
	if got, _ := find(engine.ADConversationQuery{Text: "king", State: engine.PairPending}); strings.Join(got, ",") != "ad-ada" {
		t.Errorf("king among the pending finds %q, want Ada", got)
	}
	// Both linked contacts have an address at example.com: a page each.
	var pages [][]string
	for after := ""; ; {
		ids, next := find(engine.ADConversationQuery{Text: "example.com", Limit: 1, After: after})
		if len(ids) > 0 {
			pages = append(pages, ids)
		}
		if next == "" {
			break
		}
		after = next
		if len(pages) > 5 {
			t.Fatalf("paging does not end: %q", pages)
		}
	}
	if len(pages) != 2 || pages[0][0] != "ad-ada" || pages[1][0] != "ad-ben" {
		t.Errorf("pages = %q, want Ada then Ben", pages)
	}
}
