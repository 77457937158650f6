package ui

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/store"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
	"parley/sync/transcript"
	"parley/ui/player"
)

// handOutput is a sound device the test turns by hand: the playback moves
// only when the test reads from it, as a device would.
type handOutput struct{ p *player.Playback }

func (h *handOutput) Attach(p *player.Playback) (player.Stream, error) { h.p = p; return h, nil }
func (h *handOutput) Flush()                                           {}
func (h *handOutput) Err() error                                       { return nil }
func (h *handOutput) Close() error                                     { return nil }

// play reads d of sound from the attached playback.
func (h *handOutput) play(d time.Duration) {
	h.p.Read(make([]byte, 4*int(d.Seconds()*player.OutputRate)))
}

// contactFixture is a GHL sandbox and a store with one linked contact who
// has two messages and a 20-second call with its recording and transcript
// in the data folder.
type contactFixture struct {
	st      *store.Store
	browser *engine.Browser
	gs      *ghltest.Server
	contact ghltest.Contact
	callID  string
	callAt  time.Time
}

var fixtureSentences = []transcript.Sentence{
	{Channel: 1, Start: 0, End: 4 * time.Second, Text: "Harbourview Dental, Sam speaking."},
	{Channel: 2, Start: 5 * time.Second, End: 9 * time.Second, Text: "Hi, I'd like a refund for my last visit."},
	{Channel: 1, Start: 10 * time.Second, End: 14 * time.Second, Text: "Of course, let me look that up."},
	{Channel: 2, Start: 15 * time.Second, End: 19 * time.Second, Text: "Thank you so much."},
}

func newContactFixture(t *testing.T) *contactFixture {
	t.Helper()
	ctx := context.Background()
	gs := ghltest.NewTestServer(t, ghltest.Options{})
	gc, err := ghl.New(ghl.Config{BaseURL: gs.URL(), LocationID: gs.LocationID(), PrivateToken: ghl.Secret(gs.PrivateToken()),
		HTTPClient: &http.Client{}, RateLimit: ghl.RateLimit{Disabled: true}, AttemptTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gc.CloseIdleConnections)
	st := newTestStore(t)
	dir := t.TempDir()
	f := &contactFixture{st: st, gs: gs, callAt: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
	f.contact = gs.AddContact(ghltest.Contact{FirstName: "Alice", LastName: "Moreau", Email: "alice@example.com", Phone: "+15145550101"})
	conv := gs.AddConversation(ghltest.Conversation{ContactID: f.contact.ID, Type: "TYPE_PHONE"})
	if err := st.LinkIDs(ctx, store.KindContact, "ad-c-1", f.contact.ID); err != nil {
		t.Fatal(err)
	}
	for i, body := range []string{"Can I get a refund?", "Call me back please"} {
		res, err := gc.RecordMessage(ctx, ghl.RecordRequest{Type: ghl.ChannelSMS, ConversationID: conv.ID, ContactID: f.contact.ID,
			ConversationProviderID: gs.ConversationProviderID(), Direction: ghl.Inbound, Date: f.callAt.Add(time.Duration(i-2) * time.Hour), Message: body,
			AltID: "ad-m-" + body[:3]})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := st.LinkIDs(ctx, store.KindMessage, "ad-m-1", res.MessageID); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.callID = gs.AddCall(conv.ID, "inbound", nil, f.callAt).ID
	var wav bytes.Buffer
	if err := player.EncodeWAV(&wav, 8000, 1, player.Tone(8000, 20*8000, 440)); err != nil {
		t.Fatal(err)
	}
	var tr bytes.Buffer
	if err := transcript.Encode(&tr, fixtureSentences); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		kind  store.MediaKind
		ext   string
		ctype string
		data  []byte
	}{{store.MediaRecording, "wav", "audio/wav", wav.Bytes()}, {store.MediaTranscript, "json", transcript.ContentType, tr.Bytes()}} {
		rel := "media/" + f.contact.ID + "/" + f.callID + "." + m.ext
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, m.data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(m.data)
		if _, err := st.AddMedia(ctx, store.MediaFile{MessageID: f.callID, ContactID: f.contact.ID, Kind: m.kind, Path: rel,
			SHA256: hex.EncodeToString(sum[:]), Size: int64(len(m.data)), ContentType: m.ctype, FetchedAt: f.callAt}); err != nil {
			t.Fatal(err)
		}
	}
	f.browser, err = engine.NewBrowser(engine.BrowseConfig{Store: st, GHL: gc, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// openContacts shows the Contacts screen with its list loaded.
func openContacts(t *testing.T, f *contactFixture, d Deps) (*Console, *contactScreen, uiLoop) {
	t.Helper()
	d.History, d.Browse, d.Location = f.st, f.browser, time.UTC
	c, loop := newTestConsole(t, d)
	c.Show("Contacts")
	cs := c.contacts
	loop.runUntil(t, "the contact list", func() bool { return len(cs.contacts) == 1 })
	return c, cs, loop
}

// openTheCall opens the fixture's contact and its call.
func openTheCall(t *testing.T, cs *contactScreen, loop uiLoop) {
	t.Helper()
	cs.list.Select(0)
	loop.runUntil(t, "the timeline", func() bool { return strings.HasPrefix(cs.title.Text, "Alice Moreau — ") })
	call := -1
	for i, e := range cs.timeline.Entries {
		if e.Kind == engine.EntryCall {
			call = i
		}
	}
	if call < 0 {
		t.Fatalf("no call in the timeline: %+v", cs.timeline.Entries)
	}
	cs.entries.Select(call)
	loop.runUntil(t, "the call", func() bool { return len(cs.transcript.sentences) == len(fixtureSentences) })
}

func TestContactTimelineMergesBothSides(t *testing.T) {
	f := newContactFixture(t)
	_, cs, loop := openContacts(t, f, Deps{})
	if got := cs.contacts[0].Label(); got != "Alice Moreau" {
		t.Fatalf("contact listed as %q", got)
	}
	cs.list.Select(0)
	loop.runUntil(t, "the timeline", func() bool { return strings.HasPrefix(cs.title.Text, "Alice Moreau — ") })
	var got []string
	for _, e := range cs.timeline.Entries {
		got = append(got, string(e.Kind)+"/"+string(e.Side))
	}
	if want := "message/both message/GHL call/GHL"; strings.Join(got, " ") != want {
		t.Fatalf("timeline %v, want %s", got, want)
	}
	if cs.title.Text != "Alice Moreau — 3 entries" {
		t.Fatalf("title %q", cs.title.Text)
	}
	// The contact search narrows the list.
	test.Type(cs.search, "bruno")
	loop.runUntil(t, "the filtered list", func() bool { return len(cs.contacts) == 0 && cs.listNote.Visible() })
	if !strings.Contains(cs.listNote.Text, "No contact matches") {
		t.Fatalf("note %q", cs.listNote.Text)
	}
}

func TestContactCallSeekHighlightAndSpeed(t *testing.T) {
	f := newContactFixture(t)
	out := &handOutput{}
	c, cs, loop := openContacts(t, f, Deps{Sound: out})
	openTheCall(t, cs, loop)
	p := cs.player.Playback()
	if p == nil || p.Duration() != 20*time.Second || cs.player.Problem() != "" {
		t.Fatalf("player: %v, problem %q", p, cs.player.Problem())
	}
	// A click on the third sentence seeks there and highlights it, and
	// gives the keys back to the player, wherever they were.
	c.Window().Canvas().Focus(cs.transcript.search)
	cs.transcript.list.Select(2)
	if p.Position() != 10*time.Second || cs.transcript.current != 2 {
		t.Fatalf("after the click: position %s, highlighted %d", p.Position(), cs.transcript.current)
	}
	if c.Window().Canvas().Focused() != cs.player {
		t.Fatalf("keys go to %T after the click, not the player", c.Window().Canvas().Focused())
	}
	// Space plays (the player has the focus), the sound moves the clock,
	// and the highlight follows on the next tick.
	c.Window().Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	if !p.Playing() {
		t.Fatal("space did not start playing")
	}
	out.play(6 * time.Second)
	loop.runUntil(t, "the highlight to follow", func() bool { return cs.transcript.current == 3 })
	if p.Position() != 16*time.Second {
		t.Fatalf("position %s", p.Position())
	}
	// Left arrow seeks back 5 s: into the third sentence again.
	c.Window().Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyLeft})
	if p.Position() != 11*time.Second || cs.transcript.current != 2 {
		t.Fatalf("left arrow: %s, highlighted %d", p.Position(), cs.transcript.current)
	}
	// At 2× one second of sound is two of the recording.
	cs.player.SetSpeed(2)
	out.play(time.Second)
	want := 13 * time.Second
	loop.runUntil(t, "the 2× position", func() bool { d := p.Position() - want; return d > -time.Millisecond && d < time.Millisecond })
	// Playing to the end stops, highlighting the last sentence.
	out.play(10 * time.Second)
	loop.runUntil(t, "the end", func() bool { return !p.Playing() && cs.transcript.current == 3 })
	if p.Position() != 20*time.Second {
		t.Fatalf("ended at %s", p.Position())
	}
}

func TestContactWithoutSoundDevice(t *testing.T) {
	f := newContactFixture(t)
	c, cs, loop := openContacts(t, f, Deps{SoundErr: errors.New(`oto: ALSA error at snd_pcm_open: "default": No such file or directory`)})
	openTheCall(t, cs, loop)
	waitForLabel(t, c, loop, "No sound device: oto: ALSA error")
	waitForLabel(t, c, loop, "the transcript still works")
	cs.player.Toggle()
	if cs.player.Playback().Playing() {
		t.Fatal("playing without a device")
	}
	// The transcript still works: a click moves the position and the
	// highlight.
	cs.transcript.list.Select(1)
	if cs.player.Playback().Position() != 5*time.Second || cs.transcript.current != 1 {
		t.Fatalf("click without a device: %s, highlighted %d", cs.player.Playback().Position(), cs.transcript.current)
	}
}

func TestContactTranscriptFindAndCopy(t *testing.T) {
	f := newContactFixture(t)
	c, cs, loop := openContacts(t, f, Deps{Sound: &handOutput{}})
	openTheCall(t, cs, loop)
	test.Type(cs.transcript.search, "thank")
	if cs.transcript.found.Text != "1 of 1" || cs.transcript.matches[0] != 3 {
		t.Fatalf("find: %q %v", cs.transcript.found.Text, cs.transcript.matches)
	}
	test.Tap(cs.transcript.copyBtn)
	got := c.app.Clipboard().Content()
	if !strings.Contains(got, "[0:05] Side 2: Hi, I'd like a refund for my last visit.\n") || strings.Count(got, "\n") != 4 {
		t.Fatalf("copied %q", got)
	}
	// Save as text writes the same to the file the dialog chose.
	path := filepath.Join(t.TempDir(), "call.txt")
	w, err := storage.Writer(storage.NewFileURI(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.transcript.writeText(w); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != got {
		t.Fatalf("saved %q, %v", b, err)
	}
}

func TestContactSearchEveryTranscript(t *testing.T) {
	f := newContactFixture(t)
	out := &handOutput{}
	c, cs, loop := openContacts(t, f, Deps{Sound: out, Now: func() time.Time { return f.callAt.AddDate(0, 1, 3) }})
	cs.trange.SetSelected(lastMonth) // November, seen from December
	cs.tside.SetSelected("Side 2")
	test.Type(cs.tsearch, "refund")
	cs.tsearch.OnSubmitted(cs.tsearch.Text)
	loop.runUntil(t, "the hits", func() bool { return len(cs.results.Hits) == 1 })
	if !cs.found.Visible() || !strings.HasPrefix(cs.hitsNote.Text, "1 sentence in 1 transcript") {
		t.Fatalf("results shown %v: %q", cs.found.Visible(), cs.hitsNote.Text)
	}
	// A hit opens the contact at that sentence, playing from there.
	cs.hits.Select(0)
	loop.runUntil(t, "the call at the hit", func() bool { return cs.player.Playback() != nil && cs.player.Playback().Playing() })
	if p := cs.player.Playback(); p.Position() != 5*time.Second || cs.transcript.current != 1 || !cs.detail.Visible() {
		t.Fatalf("hit opened at %s, highlighted %d", p.Position(), cs.transcript.current)
	}
	waitForLabel(t, c, loop, "Alice Moreau — 3 entries")
	// The month before has nothing.
	cs.trange.SetSelected(thisMonth)
	loop.runUntil(t, "no hits", func() bool { return len(cs.results.Hits) == 0 && strings.HasPrefix(cs.hitsNote.Text, "No sentence") })
}

func TestContactPlaysOnTheNullDevice(t *testing.T) {
	d, err := player.OpenDevice(context.Background())
	if err != nil {
		t.Skipf("no sound device, not even ALSA's null device (scripts/deps.sh writes ~/.asoundrc): %v", err)
	}
	f := newContactFixture(t)
	_, cs, loop := openContacts(t, f, Deps{Sound: d})
	openTheCall(t, cs, loop)
	cs.transcript.list.Select(3)
	cs.player.Toggle()
	// The null device takes sound as fast as it is given: the last five
	// seconds play at once, and the player ends on its own.
	loop.runUntil(t, "the end of the recording", func() bool {
		return !cs.player.Playback().Playing() && cs.player.Playback().Position() == 20*time.Second
	})
	if cs.player.Problem() != "" || cs.transcript.current != 3 {
		t.Fatalf("problem %q, highlighted %d", cs.player.Problem(), cs.transcript.current)
	}
}

// TestContactLooks is the golden picture of the Contacts screen with a
// call open, paused in its second sentence. See golden_test.go for how to
// regenerate it.
func TestContactLooks(t *testing.T) {
	f := newContactFixture(t)
	a := test.NewTempApp(t)
	test.ApplyTheme(t, variantTheme{theme.DefaultTheme(), theme.VariantLight})
	loop := newUILoop()
	c := NewConsole(a, Deps{History: f.st, Browse: f.browser, Sound: &handOutput{}, Keyring: probe{},
		DataDir: "/home/admin/.local/share/parley", Location: time.UTC, Do: loop.post})
	t.Cleanup(c.Window().Close)
	c.Window().Resize(fyne.NewSize(startWidth, startHeight))
	c.Window().Show()
	c.Show("Contacts")
	cs := c.contacts
	loop.runUntil(t, "the contact list", func() bool { return len(cs.contacts) == 1 })
	openTheCall(t, cs, loop)
	cs.transcript.list.Select(1)
	cs.player.SeekBy(1500 * time.Millisecond)
	loop.idleFor(50 * time.Millisecond)
	assertLooks(t, "contact/call.png", c.Window().Canvas().Capture())
}

// TestContactTimelineRowsAreOneLine: a note or transcript with line breaks
// is one line in its timeline row (the ellipsis ends it), so it cannot draw
// over the rows below.
func TestContactTimelineRowsAreOneLine(t *testing.T) {
	f := newContactFixture(t)
	_, cs, _ := openContacts(t, f, Deps{})
	row := cs.entries.CreateItem().(*fyne.Container)
	cs.showEntry(&engine.TimelineEntry{Kind: engine.EntryNote, Side: engine.SideAD, At: time.Now(),
		Text: "Call transcript (inbound call, 0:12)\n\n0:00 Side 1: Hello,\tthis is Harbourview  "}, row)
	got := row.Objects[0].(*widget.Label).Text
	if want := "Call transcript (inbound call, 0:12) 0:00 Side 1: Hello, this is Harbourview"; got != want {
		t.Errorf("row text %q, want %q", got, want)
	}
}
