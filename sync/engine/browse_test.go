package engine_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
	"parley/sync/ghl"
	"parley/sync/ghl/ghltest"
	"parley/sync/transcript"
)

// browseRig is a GHL sandbox holding one linked contact with a
// conversation, and a data folder for its media.
type browseRig struct {
	*rig
	dir     string
	contact ghltest.Contact
	adID    string
	conv    string
	// calls counts the requests the client sent, paths them by path.
	calls *atomic.Int64
	paths func() map[string]int
}

func newBrowseRig(t testing.TB) *browseRig {
	t.Helper()
	calls := new(atomic.Int64)
	var pathsMu sync.Mutex
	paths := map[string]int{}
	r := newRig(t, rigOptions{transport: func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(rq *http.Request) (*http.Response, error) {
			calls.Add(1)
			p := rq.URL.Path
			if strings.HasPrefix(p, "/contacts/") {
				p = "/contacts/{id}"
			}
			pathsMu.Lock()
			paths[p]++
			pathsMu.Unlock()
			return rt.RoundTrip(rq)
		})
	}})
	b := &browseRig{rig: r, dir: t.TempDir(), adID: "ad-c-1", calls: calls, paths: func() map[string]int {
		pathsMu.Lock()
		defer pathsMu.Unlock()
		return maps.Clone(paths)
	}}
	b.contact = r.gs.AddContact(ghltest.Contact{FirstName: "Alice", LastName: "Moreau", Email: "alice@example.com", Phone: "+15145550101"})
	b.conv = r.gs.AddConversation(ghltest.Conversation{ContactID: b.contact.ID, Type: "TYPE_PHONE"}).ID
	ctx := context.Background()
	if err := r.st.LinkIDs(ctx, store.KindContact, b.adID, b.contact.ID); err != nil {
		t.Fatal(err)
	}
	return b
}

// record adds an SMS to the conversation, linked to adMsg when not empty.
func (b *browseRig) record(t testing.TB, body, adMsg string, at time.Time) string {
	t.Helper()
	res, err := b.gc.RecordMessage(context.Background(), ghl.RecordRequest{Type: ghl.ChannelSMS, ConversationID: b.conv,
		ContactID: b.contact.ID, ConversationProviderID: b.gs.ConversationProviderID(), AltID: adMsg,
		Direction: ghl.Inbound, Date: at, Message: body})
	if err != nil {
		t.Fatal(err)
	}
	if adMsg != "" {
		if err := b.st.LinkIDs(context.Background(), store.KindMessage, adMsg, res.MessageID); err != nil {
			t.Fatal(err)
		}
	}
	return res.MessageID
}

// media writes a file under the data folder and indexes it.
func (b *browseRig) media(t testing.TB, msgID string, kind store.MediaKind, content []byte, ctype string, at time.Time) string {
	t.Helper()
	rel := fmt.Sprintf("media/%s/%s.%s", b.contact.ID, msgID, kind)
	p := filepath.Join(b.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	if _, err := b.st.AddMedia(context.Background(), store.MediaFile{MessageID: msgID, ContactID: b.contact.ID, Kind: kind, Path: rel,
		SHA256: hex.EncodeToString(sum[:]), Size: int64(len(content)), ContentType: ctype, FetchedAt: at}); err != nil {
		t.Fatal(err)
	}
	return p
}

func transcriptBytes(t testing.TB, ss ...transcript.Sentence) []byte {
	t.Helper()
	var b strings.Builder
	if err := transcript.Encode(&b, ss); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}

func (b *browseRig) browser(t testing.TB) *engine.Browser {
	t.Helper()
	br, err := engine.NewBrowser(engine.BrowseConfig{Store: b.st, GHL: b.gc, DataDir: b.dir})
	if err != nil {
		t.Fatal(err)
	}
	return br
}

func TestBrowseContacts(t *testing.T) {
	b := newBrowseRig(t)
	ctx := context.Background()
	other := b.gs.AddContact(ghltest.Contact{FirstName: "Bruno", LastName: "Lefebvre", Email: "bruno@example.com"})
	if err := b.st.LinkIDs(ctx, store.KindContact, "ad-c-2", other.ID); err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	all, err := br.Contacts(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 {
		t.Fatalf("%d contacts, want 2", len(all))
	}
	names := all[0].Label() + "," + all[1].Label()
	if !strings.Contains(names, "Alice Moreau") || !strings.Contains(names, "Bruno Lefebvre") {
		t.Fatalf("names %q", names)
	}
	got, err := br.Contacts(ctx, "moreau", 0)
	if err != nil || len(got) != 1 || got[0].ADID != "ad-c-1" || got[0].Email != "alice@example.com" {
		t.Fatalf("search moreau: %+v %v", got, err)
	}
	if got, _ := br.Contacts(ctx, "ad-c-2", 0); len(got) != 1 || got[0].GHLID != other.ID {
		t.Fatalf("search by AD id: %+v", got)
	}
	// Names are kept: a second listing makes no call.
	before := b.calls.Load()
	if _, err := br.Contacts(ctx, "", 0); err != nil {
		t.Fatal(err)
	}
	if after := b.calls.Load(); after != before {
		t.Fatalf("second listing made %d calls", after-before)
	}
}

func TestBrowseContactsWithoutHighLevel(t *testing.T) {
	b := newBrowseRig(t)
	b.gs.Close()
	list, err := b.browser(t).Contacts(context.Background(), "", 0)
	if err == nil || !strings.Contains(err.Error(), "read contact names from HighLevel") {
		t.Fatalf("error %v", err)
	}
	if len(list) != 1 || list[0].Label() != "Contact "+b.contact.ID {
		t.Fatalf("contacts still listed by id: %+v", list)
	}
}

func TestBrowseTimeline(t *testing.T) {
	b := newBrowseRig(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	both := b.record(t, "Is my order shipped?", "ad-m-1", t0)
	only := b.record(t, "Thanks!", "", t0.Add(2*time.Hour))
	call := b.gs.AddCall(b.conv, "inbound", nil, t0.Add(time.Hour))
	rec := b.media(t, call.ID, store.MediaRecording, []byte("RIFF"), "audio/wav", t0.Add(time.Hour))
	tr := b.media(t, call.ID, store.MediaTranscript, transcriptBytes(t, transcript.Sentence{Channel: 1, Text: "I want a refund"}), transcript.ContentType, t0.Add(time.Hour))
	if err := b.st.AppendHistory(ctx,
		store.HistoryEntry{At: t0.Add(time.Minute), Operation: store.OpStatusUpdate, System: store.SystemAD, LocalID: "ad-m-1", RemoteID: both, Outcome: store.OutcomeOK},
		store.HistoryEntry{At: t0.Add(3 * time.Hour), Operation: "route.transcript", System: store.SystemGHL, RemoteID: call.ID, Outcome: store.OutcomeOK, Error: "matched rule refunds: tagged billing"},
		store.HistoryEntry{At: t0, Operation: store.OpMessagePush, System: store.SystemGHL, LocalID: "ad-other", RemoteID: "ghl-other", Outcome: store.OutcomeOK},
	); err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	br.Contacts(ctx, "", 0) // learns the name
	tl, err := br.Timeline(ctx, b.contact.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Problems) != 0 {
		t.Fatalf("problems: %v", tl.Problems)
	}
	if tl.Contact.Name != "Alice Moreau" || tl.Contact.ADID != "ad-c-1" {
		t.Fatalf("contact %+v", tl.Contact)
	}
	var kinds []string
	for _, e := range tl.Entries {
		kinds = append(kinds, fmt.Sprintf("%s/%s", e.Kind, e.Side))
	}
	want := "message/both status/AD call/GHL message/GHL routing/GHL"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("timeline %s\nwant     %s", got, want)
	}
	if e := tl.Entries[0]; e.GHLMessageID != both || e.ADMessageID != "ad-m-1" || e.Text != "Is my order shipped?" {
		t.Fatalf("first entry %+v", e)
	}
	if e := tl.Entries[2]; e.Recording != rec || e.Transcript != tr || e.RecordingType != "audio/wav" {
		t.Fatalf("call entry %+v", e)
	}
	if e := tl.Entries[3]; e.GHLMessageID != only {
		t.Fatalf("fourth entry %+v", e)
	}
	if e := tl.Entries[4]; !strings.Contains(e.Text, "matched rule refunds") {
		t.Fatalf("routing entry %+v", e)
	}

	// HighLevel down: the stored call and history still show, with a
	// problem saying what to do.
	b.gs.Close()
	tl, err = br.Timeline(ctx, b.contact.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Problems) != 1 || !strings.Contains(tl.Problems[0], "Connections screen") {
		t.Fatalf("problems %v", tl.Problems)
	}
	var calls int
	for _, e := range tl.Entries {
		if e.Kind == engine.EntryCall && e.Recording == rec {
			calls++
		}
	}
	if calls != 1 {
		t.Fatalf("stored call shown %d times without HighLevel", calls)
	}
}

func TestSearchTranscripts(t *testing.T) {
	b := newBrowseRig(t)
	ctx := context.Background()
	oct := time.Date(2026, 10, 15, 9, 0, 0, 0, time.UTC)
	nov := time.Date(2026, 11, 15, 9, 0, 0, 0, time.UTC)
	b.media(t, "call-oct", store.MediaTranscript, transcriptBytes(t,
		transcript.Sentence{Channel: 1, Start: 0, End: time.Second, Text: "Hello, Harbourview."},
		transcript.Sentence{Channel: 2, Start: 2 * time.Second, End: 4 * time.Second, Text: "I'd like a Refund please."},
	), transcript.ContentType, oct)
	b.media(t, "call-nov", store.MediaTranscript, transcriptBytes(t,
		transcript.Sentence{Channel: 1, Start: 0, End: time.Second, Text: "Refunds take five days."},
		transcript.Sentence{Channel: 2, Start: 3 * time.Second, End: 5 * time.Second, Text: "So the refund is on its way?"},
		transcript.Sentence{Channel: 2, Start: 6 * time.Second, End: 7 * time.Second, Text: "Prefund is not a word."},
	), transcript.ContentType, nov)
	br := b.browser(t)

	res, err := br.SearchTranscripts(ctx, engine.TranscriptQuery{Text: "refund"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range res.Hits {
		got = append(got, fmt.Sprintf("%s#%d", h.MessageID, h.Index))
	}
	if strings.Join(got, " ") != "call-nov#0 call-nov#1 call-oct#1" || res.Searched != 2 {
		t.Fatalf("refund: %v (searched %d)", got, res.Searched)
	}
	if h := res.Hits[1]; h.ContactID != b.contact.ID || h.Sentence.Start != 3*time.Second || !h.CallAt.Equal(nov) {
		t.Fatalf("hit %+v", h)
	}
	// "A customer said refund last month": side 2, November.
	res, _ = br.SearchTranscripts(ctx, engine.TranscriptQuery{Text: "REFUND", Channel: 2, Since: nov.AddDate(0, 0, -14), Until: nov.AddDate(0, 0, 14)})
	if len(res.Hits) != 1 || res.Hits[0].MessageID != "call-nov" || res.Hits[0].Index != 1 {
		t.Fatalf("side 2 in November: %+v", res.Hits)
	}
	res, _ = br.SearchTranscripts(ctx, engine.TranscriptQuery{Text: "refund way"})
	if len(res.Hits) != 1 || res.Hits[0].Index != 1 {
		t.Fatalf("two words: %+v", res.Hits)
	}
	if _, err := br.SearchTranscripts(ctx, engine.TranscriptQuery{Text: "  ,. "}); err == nil {
		t.Fatal("an empty search ran")
	}

	// A transcript added later is found; a damaged one is counted and
	// named, not fatal.
	b.media(t, "call-dec", store.MediaTranscript, transcriptBytes(t, transcript.Sentence{Text: "refund again"}), transcript.ContentType, nov.AddDate(0, 1, 0))
	b.media(t, "call-bad", store.MediaTranscript, []byte("{not json"), transcript.ContentType, nov)
	res, err = br.SearchTranscripts(ctx, engine.TranscriptQuery{Text: "refund"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 4 || res.Hits[0].MessageID != "call-dec" || res.Skipped != 1 || !strings.Contains(res.Problem, "call-bad") {
		t.Fatalf("after adding: %d hits, first %s, skipped %d, problem %q", len(res.Hits), res.Hits[0].MessageID, res.Skipped, res.Problem)
	}
}

func TestSearchTranscriptsBounded(t *testing.T) {
	b := newBrowseRig(t)
	ctx := context.Background()
	big := transcriptBytes(t, transcript.Sentence{Text: strings.Repeat("refund ", 200)})
	for i := range 3 {
		b.media(t, fmt.Sprintf("call-%d", i), store.MediaTranscript, big, transcript.ContentType, time.Now())
	}
	br, err := engine.NewBrowser(engine.BrowseConfig{Store: b.st, DataDir: b.dir, IndexBytes: 2 * len(big)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := br.SearchTranscripts(ctx, engine.TranscriptQuery{Text: "refund"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Searched != 2 || res.Skipped != 1 || !strings.Contains(res.Problem, "at most") {
		t.Fatalf("searched %d, skipped %d, problem %q", res.Searched, res.Skipped, res.Problem)
	}
}

func TestBrowseTimelineADHistory(t *testing.T) {
	b := newBrowseRig(t)
	ctx := context.Background()
	as := adtest.NewTestServer(t, adtest.Options{})
	ad, err := activedemand.New(as.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	adID, err := ad.CreateContact(ctx, activedemand.NewContact{FirstName: "Chloé", LastName: "Roy", Email: "chloe@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 3, 15, 4, 0, 0, time.UTC)
	if _, err := ad.AddHistory(ctx, activedemand.NewHistoryEntry{ContactID: adID, Type: "note", Subject: "Called back",
		Body: "Left a voicemail about the refund.", At: at}); err != nil {
		t.Fatal(err)
	}
	ghlContact := b.gs.AddContact(ghltest.Contact{FirstName: "Chloé", LastName: "Roy", Email: "chloe@example.com"})
	if err := b.st.LinkIDs(ctx, store.KindContact, string(adID), ghlContact.ID); err != nil {
		t.Fatal(err)
	}
	br, err := engine.NewBrowser(engine.BrowseConfig{Store: b.st, GHL: b.gc, AD: ad, DataDir: b.dir})
	if err != nil {
		t.Fatal(err)
	}
	tl, err := br.Timeline(ctx, ghlContact.ID)
	if err != nil || len(tl.Problems) != 0 {
		t.Fatalf("%v %v", err, tl.Problems)
	}
	if len(tl.Entries) != 1 {
		t.Fatalf("entries %+v", tl.Entries)
	}
	if e := tl.Entries[0]; e.Kind != engine.EntryNote || e.Side != engine.SideAD || !e.At.Equal(at) ||
		e.Text != "Called back: Left a voicemail about the refund." {
		t.Fatalf("note %+v", e)
	}
	// ActiveDEMAND down: the rest shows, with a problem.
	as.Close()
	tl, err = br.Timeline(ctx, ghlContact.ID)
	if err != nil || len(tl.Problems) != 1 || !strings.Contains(tl.Problems[0], "ActiveDEMAND's history") {
		t.Fatalf("%v %v", err, tl.Problems)
	}
}

func TestBrowseContactNamesInPages(t *testing.T) {
	b := newBrowseRig(t)
	ctx := context.Background()
	// 150 linked contacts with a conversation each, one without.
	for i := range 150 {
		c := b.gs.AddContact(ghltest.Contact{FirstName: "Client", LastName: fmt.Sprintf("%03d", i), Email: fmt.Sprintf("c%d@example.com", i)})
		b.gs.AddConversation(ghltest.Conversation{ContactID: c.ID, Type: "TYPE_PHONE"})
		if err := b.st.LinkIDs(ctx, store.KindContact, fmt.Sprintf("ad-%d", i), c.ID); err != nil {
			t.Fatal(err)
		}
	}
	lone := b.gs.AddContact(ghltest.Contact{FirstName: "No", LastName: "Conversation", Email: "lone@example.com"})
	if err := b.st.LinkIDs(ctx, store.KindContact, "ad-lone", lone.ID); err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	list, err := br.Contacts(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if strings.HasPrefix(c.Label(), "Contact ") {
			t.Fatalf("%s has no name", c.GHLID)
		}
	}
	// Names come from the conversation search, 100 a page; only the
	// contact without a conversation is read on its own.
	got := b.paths()
	if got["/conversations/search"] > 2 || got["/contacts/{id}"] != 1 {
		t.Fatalf("requests %v: want at most 2 searches and 1 contact read", got)
	}
	if got, _ := br.Contacts(ctx, "client 149", 0); len(got) != 1 || got[0].Email != "c149@example.com" {
		t.Fatalf("search by name: %+v", got)
	}
}

func TestBrowseContactNamesNotRetriedAtOnce(t *testing.T) {
	b := newBrowseRig(t)
	ctx := context.Background()
	b.gs.Close()
	br := b.browser(t)
	if _, err := br.Contacts(ctx, "", 0); err == nil {
		t.Fatal("no error with HighLevel down")
	}
	// Typing in the search box lists again at every key: a name that
	// could not be read is not asked for again at once.
	before := b.calls.Load()
	for _, q := range []string{"a", "al", "ali"} {
		br.Contacts(ctx, q, 0)
	}
	if n := b.calls.Load() - before; n != 0 {
		t.Fatalf("%d more requests while typing", n)
	}
}
