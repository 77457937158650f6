package ui

import (
	"context"
	"image/color"
	"net/http"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/store"
	"parley/sync/engine"
	"parley/sync/ghl"
)

// newConversationRig mirrors a small business with a real engine over the
// GHL sandbox: contact ad-c1's first message, which HighLevel refuses, so
// its job is dead; then two more, mirrored. Then a fourth message is
// queued and left unmirrored: missing in HighLevel, pending.
func newConversationRig(t *testing.T) (*syncRig, *engine.Browser) {
	t.Helper()
	r := newSyncRig(t, 1)
	r.queue(t, 1)
	runUntilSettled(t, r)
	r.queue(t, 3) // ad-m0 is queued already: its key keeps it out
	runUntilSettled(t, r)
	m := engine.MessageJob{V: engine.JobVersion, Source: engine.SourceAPI, MessageID: "ad-m9",
		Conversation: engine.ConversationRef{ID: "cv-1"}, Contact: engine.ContactRef{ID: "ad-c1", Name: "Ada"},
		Channel: "sms", Direction: "outbound", Body: "Still there?", SentAt: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)}
	if _, err := r.st.EnqueueBatch(context.Background(), []store.OutboxJob{{Kind: engine.JobMirrorMessage, Key: m.Key(), Payload: mustJSON(t, m)}}); err != nil {
		t.Fatal(err)
	}
	gc, err := ghl.New(ghl.Config{BaseURL: r.gs.URL(), LocationID: r.gs.LocationID(), PrivateToken: ghl.Secret(r.gs.PrivateToken()),
		HTTPClient: &http.Client{}, RateLimit: ghl.RateLimit{Disabled: true}, AttemptTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gc.CloseIdleConnections)
	br, err := engine.NewBrowser(engine.BrowseConfig{Store: r.st, GHL: gc})
	if err != nil {
		t.Fatal(err)
	}
	return r, br
}

// runUntilSettled runs the rig's engine until no job waits.
func runUntilSettled(t *testing.T, r *syncRig) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.e.Run(ctx) }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n, err := r.st.OutboxCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n[store.OutboxPending]+n[store.OutboxInFlight] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine did not settle: %v", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// conversationsOf is the console's Conversations screen, built.
func conversationsOf(t *testing.T, c *Console) *conversationsScreen {
	t.Helper()
	for _, s := range c.screens {
		if v, ok := s.view.(*conversationsView); ok {
			return v.s
		}
	}
	t.Fatal("the Conversations screen is not built")
	return nil
}

func openConversations(t *testing.T, c *Console, loop uiLoop) *conversationsScreen {
	t.Helper()
	c.Show("Conversations")
	s := conversationsOf(t, c)
	loop.runUntil(t, "both lists", func() bool { return len(s.ad) == 1 && len(s.ghl) == 1 })
	return s
}

func TestConversationPairSelectsPartnerAndAlignsThreads(t *testing.T) {
	r, br := newConversationRig(t)
	c, loop := newTestConsole(t, Deps{History: r.st, Browse: br, Conversations: br, Location: time.UTC})
	s := openConversations(t, c, loop)
	if s.ad[0].State != engine.PairFailed || s.ghl[0].State != engine.PairFailed || s.ghl[0].ADContactID != "ad-c1" {
		t.Fatalf("lists: AD %+v, HighLevel %+v", s.ad, s.ghl)
	}
	waitForLabel(t, c, loop, "failed")

	s.adList.Select(0)
	if s.ghlList.selected != 0 {
		t.Fatalf("selecting the ActiveDEMAND conversation selected HighLevel row %d, want its partner 0", s.ghlList.selected)
	}
	loop.runUntil(t, "the pair", func() bool { return len(s.pair.Rows) == 4 })
	want := []struct {
		ad       string
		mismatch engine.Mismatch
	}{{"ad-m0", engine.MissingInGHL}, {"ad-m1", ""}, {"ad-m2", ""}, {"ad-m9", engine.MissingInGHL}}
	for i, w := range want {
		row := s.pair.Rows[i]
		if row.ADMessageID != w.ad || row.Mismatch != w.mismatch || (w.mismatch == "" && row.GHLText != "hello") {
			t.Fatalf("row %d = %+v, want %s %q", i, row, w.ad, w.mismatch)
		}
	}
	// The missing rows are drawn highlighted, with what each side has.
	for i, w := range want {
		o := pairRow()
		s.showPairRow(s.pair.Rows[i], o.(*fyne.Container))
		mark := o.(*fyne.Container).Objects[0].(*canvas.Rectangle)
		cells := o.(*fyne.Container).Objects[1].(*fyne.Container).Objects[0].(*fyne.Container)
		gh := cells.Objects[1].(*widget.Label).Text
		if w.mismatch != "" && gh != "missing in HighLevel" {
			t.Fatalf("row %d says %q on HighLevel's side", i, gh)
		}
		highlighted := mark.FillColor != color.Transparent
		if highlighted != (w.mismatch != "") {
			t.Fatalf("row %d highlighted = %v, want %v", i, highlighted, w.mismatch != "")
		}
	}
	if !strings.Contains(s.pairTitle.Text, "2 missing in HighLevel") {
		t.Fatalf("pair title = %q", s.pairTitle.Text)
	}
	waitForLabel(t, c, loop, "failed: ")
	waitForLabel(t, c, loop, "missing in HighLevel")

	// And from the other side: selecting HighLevel's selects ActiveDEMAND's.
	s.adList.UnselectAll()
	s.ghlList.UnselectAll()
	s.pair = engine.Pair{}
	s.ghlList.Select(0)
	if s.adList.selected != 0 {
		t.Fatalf("selecting the HighLevel conversation selected ActiveDEMAND row %d", s.adList.selected)
	}
	loop.runUntil(t, "the pair from HighLevel", func() bool { return len(s.pair.Rows) == 4 })
}

func TestConversationResyncQueuesAfterConfirming(t *testing.T) {
	r, br := newConversationRig(t)
	c, loop := newTestConsole(t, Deps{History: r.st, Browse: br, Conversations: br, Location: time.UTC})
	s := openConversations(t, c, loop)
	s.adList.Select(0)
	loop.runUntil(t, "the pair", func() bool { return len(s.pair.Rows) == 4 && !s.resyncBtn.Disabled() })

	test.Tap(s.resyncBtn)
	top := c.Window().Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("re-sync did not ask first")
	}
	test.Tap(button(t, top, "Re-sync", 0))
	loop.runUntil(t, "the re-sync", func() bool { return strings.HasPrefix(s.pairNote.Text, "Queued") })
	if s.pairNote.Text != "Queued 1 message again; 1 already waiting. The sync sends them on its next pass (see the Sync screen)." {
		t.Fatalf("note = %q", s.pairNote.Text)
	}
	states, err := r.st.OutboxStatesByKey(context.Background(), engine.MessageKey("ad-m0"), "#repair")
	if err != nil {
		t.Fatal(err)
	}
	if states["ad:message:ad-m0#repair1"] != store.OutboxPending {
		t.Fatalf("outbox of ad-m0 = %v", states)
	}
}

func TestConversationKeyboardAndLinks(t *testing.T) {
	r, br := newConversationRig(t)
	c, loop := newTestConsole(t, Deps{History: r.st, Browse: br, Conversations: br, Location: time.UTC})
	s := openConversations(t, c, loop)
	cv := c.Window().Canvas()
	cv.Focus(s.adList)
	s.adList.TypedKey(&fyne.KeyEvent{Name: fyne.KeyTab})
	if cv.Focused() != s.ghlList {
		t.Fatalf("Tab from ActiveDEMAND's list focused %T, want HighLevel's list", cv.Focused())
	}
	s.ghlList.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	loop.runUntil(t, "Enter to open the pair", func() bool { return len(s.pair.Rows) == 4 })
	if s.adList.selected != 0 {
		t.Fatal("Enter did not select the partner")
	}
	s.ghlList.TypedKey(&fyne.KeyEvent{Name: fyne.KeyTab})
	if cv.Focused() != s.adList {
		t.Fatal("Tab did not come back to ActiveDEMAND's list")
	}

	conv := s.pair.GHLConversationID
	test.Tap(s.historyBtn)
	if c.Current() != "History" || c.history.search.Text != conv {
		t.Fatalf("history: on %s searching %q, want %q", c.Current(), c.history.search.Text, conv)
	}
	c.Show("Conversations")
	loop.runUntil(t, "the lists again", func() bool { return len(s.ad) == 1 })
	test.Tap(s.contactBtn)
	if c.Current() != "Contacts" || c.contacts.current.GHLID != s.pair.GHLContactID || s.pair.GHLContactID == "" {
		t.Fatalf("open contact: on %s at %q, want %q", c.Current(), c.contacts.current.GHLID, s.pair.GHLContactID)
	}
	loop.runUntil(t, "the contact's timeline", func() bool { return strings.Contains(c.contacts.title.Text, "—") })

	c.Show("Conversations")
	test.Tap(button(t, c.Window().Canvas().Content(), "Search every transcript…", 0))
	if c.Current() != "Contacts" || cv.Focused() != c.contacts.tsearch {
		t.Fatalf("search every transcript: on %s, focus on %T", c.Current(), cv.Focused())
	}
}

// TestConversationsLooks is the golden picture of the screen with a pair
// open: a failed message and a pending one missing in HighLevel. See
// golden_test.go for how to regenerate it.
func TestConversationsLooks(t *testing.T) {
	r, br := newConversationRig(t)
	a := test.NewTempApp(t)
	test.ApplyTheme(t, variantTheme{theme.DefaultTheme(), theme.VariantLight})
	loop := newUILoop()
	c := NewConsole(a, Deps{History: r.st, Browse: br, Conversations: br, Keyring: probe{},
		DataDir: "/home/admin/.local/share/parley", Location: time.UTC, Do: loop.post})
	t.Cleanup(c.Window().Close)
	c.Window().Resize(fyne.NewSize(startWidth, startHeight))
	c.Window().Show()
	s := openConversations(t, c, loop)
	s.adList.Select(0)
	loop.runUntil(t, "the pair", func() bool { return len(s.pair.Rows) == 4 })
	loop.idleFor(50 * time.Millisecond)
	assertLooks(t, "conversations/pair.png", c.Window().Canvas().Capture())
}

func TestConversationFilters(t *testing.T) {
	r, br := newConversationRig(t)
	c, loop := newTestConsole(t, Deps{History: r.st, Browse: br, Conversations: br, Location: time.UTC})
	s := openConversations(t, c, loop)
	s.ghlChannel.SetSelected("Call")
	loop.runUntil(t, "the channel filter", func() bool { return len(s.ghl) == 0 && s.ghlNote.Visible() })
	if s.ghlNote.Text != "No HighLevel conversation matches these filters." {
		t.Fatalf("note = %q", s.ghlNote.Text)
	}
	s.ghlChannel.SetSelected("SMS")
	loop.runUntil(t, "SMS", func() bool { return len(s.ghl) == 1 && !s.ghlNote.Visible() })
	s.adState.SetSelected(string(engine.PairInSync))
	loop.runUntil(t, "the state filter", func() bool { return len(s.ad) == 0 && s.adNote.Visible() })
	s.adState.SetSelected(string(engine.PairFailed))
	loop.runUntil(t, "failed", func() bool { return len(s.ad) == 1 && s.ad[0].ADContactID == "ad-c1" })
	test.Type(s.adSearch, "nobody")
	loop.runUntil(t, "the search", func() bool { return len(s.ad) == 0 })
}
