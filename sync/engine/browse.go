package engine

// The engine's read side for the console's Contact screen: linked contacts
// with their names, one contact's timeline merging both systems, and a
// full-text search over every call transcript. The console reads through
// this and never holds an HTTP client of its own.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/ghl"
	"parley/sync/transcript"
)

// Bounds of the browse API, so one contact or one search cannot exhaust the
// console.
const (
	// MaxTimelineMessages is how many of a conversation's messages a
	// timeline reads, newest first.
	MaxTimelineMessages = 5000
	// timelineHistory is how many history rows a timeline shows.
	timelineHistory = 500
	// DefaultIndexBytes bounds the transcript search index: the text of
	// about a thousand hours of calls.
	DefaultIndexBytes = 64 << 20
	// maxHits is how many sentences a transcript search returns.
	maxHits = 500
	// nameFetches is how many contact names are fetched at once, and
	// nameLookups how many one by one per listing.
	nameFetches = 4
	nameLookups = 50
	// nameSearchPages bounds the conversation pages read for names.
	nameSearchPages = 20
	// nameRetry is how long a name that could not be read is not asked
	// for again.
	nameRetry = 5 * time.Minute
)

// BrowseConfig configures a Browser. Store is required.
type BrowseConfig struct {
	// Store holds the id map, the media index and history.
	Store *store.Store
	// GHL reads contact names and conversations; nil shows what the store
	// has.
	GHL *ghl.Client
	// AD, if set, adds the contact's ActiveDEMAND history (notes, form
	// fills) to the timeline.
	AD activedemand.Conversations
	// DataDir is the data folder media paths are relative to.
	DataDir string
	// IndexBytes bounds the transcript search index (default
	// DefaultIndexBytes).
	IndexBytes int
}

// Browser answers the console's questions about contacts. It is safe for
// concurrent use; contact names and the transcript index are kept between
// calls.
type Browser struct {
	cfg BrowseConfig

	mu    sync.Mutex
	names map[string]ghl.Contact
	// tried is when a name was last asked for and not found.
	tried map[string]time.Time
	// open is the Conversations screen's last count of open jobs
	// (browse_conversations.go).
	open openJobsCache

	// ix serialises index updates; searches read a snapshot.
	ix sync.Mutex
	index
}

// NewBrowser returns a Browser reading cfg's store and clients.
func NewBrowser(cfg BrowseConfig) (*Browser, error) {
	if cfg.Store == nil {
		return nil, errors.New("browse: no store")
	}
	if cfg.IndexBytes <= 0 {
		cfg.IndexBytes = DefaultIndexBytes
	}
	return &Browser{cfg: cfg, names: map[string]ghl.Contact{}, tried: map[string]time.Time{}}, nil
}

// ContactSummary is one contact of the list.
type ContactSummary struct {
	// GHLID and ADID are the contact's ids on each side.
	GHLID, ADID string
	// Name, Email and Phone come from HighLevel; empty while unknown.
	Name, Email, Phone string
	// LinkedAt is when the sync linked the two.
	LinkedAt time.Time
}

// Label is how the contact is shown: its name, or what else identifies it.
func (c ContactSummary) Label() string {
	return firstNonEmpty(c.Name, c.Email, c.Phone, "Contact "+c.GHLID)
}

// Contacts lists linked contacts whose name, email, phone or ids contain
// query (case-insensitively), most recently linked first, at most limit.
// Names come from HighLevel and are kept; a contact whose name cannot be
// read is listed by its ids, and nameErr says why.
func (b *Browser) Contacts(ctx context.Context, query string, limit int) (list []ContactSummary, nameErr error) {
	links, err := b.cfg.Store.LinkedContacts(ctx, 0)
	if err != nil {
		return nil, err
	}
	nameErr = b.fetchNames(ctx, links)
	q := strings.ToLower(strings.TrimSpace(query))
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range links {
		c := b.names[l.GHLID]
		s := ContactSummary{GHLID: l.GHLID, ADID: l.ADID, Name: contactName(c), Email: c.Email, Phone: c.Phone, LinkedAt: l.LinkedAt}
		if q != "" && !strings.Contains(strings.ToLower(strings.Join([]string{s.Name, s.Email, s.Phone, s.GHLID, s.ADID}, "\x00")), q) {
			continue
		}
		list = append(list, s)
		if limit > 0 && len(list) == limit {
			break
		}
	}
	return list, nameErr
}

func contactName(c ghl.Contact) string {
	return firstNonEmpty(c.Name, strings.TrimSpace(c.FirstName+" "+c.LastName))
}

// fetchNames reads the names of the HighLevel contacts not yet known:
// first from the conversation search, which carries a hundred contacts'
// names a page, then one by one, for at most nameLookups contacts that have
// no conversation. A contact whose name could not be read is not asked for
// again before nameRetry, so typing in the search box costs no requests.
func (b *Browser) fetchNames(ctx context.Context, links []store.ContactLink) error {
	if b.cfg.GHL == nil {
		return nil
	}
	now := time.Now()
	b.mu.Lock()
	missing := map[string]bool{}
	for _, l := range links {
		if _, ok := b.names[l.GHLID]; !ok && now.Sub(b.tried[l.GHLID]) >= nameRetry {
			missing[l.GHLID] = true
		}
	}
	b.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	first := b.namesFromSearch(ctx, missing)
	var lookups []string
	for _, l := range links { // in list order: the first ones shown first
		// After a failed search HighLevel is most likely unreachable:
		// asking again contact by contact would only wait longer.
		if first == nil && missing[l.GHLID] && len(lookups) < nameLookups {
			lookups = append(lookups, l.GHLID)
		}
	}
	var (
		wg    sync.WaitGroup
		errMu sync.Mutex
		next  = make(chan string)
	)
	for range min(nameFetches, len(lookups)) {
		wg.Go(func() {
			for id := range next {
				c, err := b.cfg.GHL.GetContact(ctx, id)
				if err != nil {
					errMu.Lock()
					if first == nil {
						first = fmt.Errorf("read the name of HighLevel contact %s: %w", id, err)
					}
					errMu.Unlock()
					continue
				}
				b.mu.Lock()
				b.names[id] = c
				b.mu.Unlock()
			}
		})
	}
	for _, id := range lookups {
		if ctx.Err() != nil {
			break
		}
		next <- id
	}
	close(next)
	wg.Wait()
	b.mu.Lock()
	for id := range missing {
		if _, ok := b.names[id]; !ok {
			b.tried[id] = now
		}
	}
	b.mu.Unlock()
	return first
}

// namesFromSearch fills in names from the location's conversations, newest
// first, until none is missing or after nameSearchPages pages.
func (b *Browser) namesFromSearch(ctx context.Context, missing map[string]bool) error {
	req := ghl.SearchConversationsRequest{Limit: 100}
	for range nameSearchPages {
		page, err := b.cfg.GHL.SearchConversationsPage(ctx, req)
		if err != nil {
			return fmt.Errorf("read contact names from HighLevel's conversations: %w", err)
		}
		b.mu.Lock()
		for _, cv := range page.Conversations {
			if missing[cv.ContactID] {
				b.names[cv.ContactID] = ghl.Contact{ID: cv.ContactID, Name: firstNonEmpty(cv.FullName, cv.ContactName), Email: cv.Email, Phone: cv.Phone}
				delete(missing, cv.ContactID)
			}
		}
		b.mu.Unlock()
		if len(missing) == 0 || len(page.Conversations) < req.Limit {
			return nil
		}
		req.StartAfter = page.Conversations[len(page.Conversations)-1].SortValue
	}
	return nil
}

// EntryKind is what a timeline entry is.
type EntryKind string

// Kinds of timeline entries.
const (
	EntryMessage EntryKind = "message"
	EntryCall    EntryKind = "call"
	EntryStatus  EntryKind = "status"
	EntryRouting EntryKind = "routing"
	EntrySync    EntryKind = "sync"
	EntryNote    EntryKind = "note"
)

// Side says where a timeline entry lives.
type Side string

// Sides of a timeline entry.
const (
	SideBoth Side = "both"
	SideGHL  Side = "GHL"
	SideAD   Side = "AD"
)

// TimelineEntry is one thing that happened with a contact.
type TimelineEntry struct {
	At   time.Time
	Kind EntryKind
	Side Side
	// Channel is the message type (e.g. TYPE_SMS), Direction inbound or
	// outbound; both empty for history rows and notes.
	Channel, Direction string
	// Text is the message body, or what a history row or note says.
	Text string
	// GHLMessageID and ADMessageID name the message on each side.
	GHLMessageID, ADMessageID string
	// Recording and Transcript are the call's files, absolute paths under
	// the data folder; empty until fetched.
	Recording, Transcript string
	// RecordingType is the recording's content type.
	RecordingType string
	// CallDuration is the call's length as HighLevel reports it.
	CallDuration time.Duration
	// Outcome is a history row's outcome.
	Outcome store.Outcome
}

// Timeline is one contact's merged timeline, oldest first.
type Timeline struct {
	Contact ContactSummary
	Entries []TimelineEntry
	// Problems lists what could not be read, each with what to do; the
	// entries are what could.
	Problems []string
}

// Timeline merges what both systems and the store know about a contact:
// its HighLevel conversation's messages (marked when an ActiveDEMAND
// message is linked to them), its calls with their recordings and
// transcripts, the status changes, routing decisions and other sync
// operations on its records, and its ActiveDEMAND history.
func (b *Browser) Timeline(ctx context.Context, ghlContactID string) (Timeline, error) {
	st := b.cfg.Store
	adID, _, err := st.ADIDFor(ctx, store.KindContact, ghlContactID)
	if err != nil {
		return Timeline{}, err
	}
	tl := Timeline{Contact: ContactSummary{GHLID: ghlContactID, ADID: adID}}
	b.mu.Lock()
	if c, ok := b.names[ghlContactID]; ok {
		tl.Contact.Name, tl.Contact.Email, tl.Contact.Phone = contactName(c), c.Email, c.Phone
	}
	b.mu.Unlock()

	ids := []string{ghlContactID}
	if adID != "" {
		ids = append(ids, adID, conversationKey(adID))
	}
	msgs, convID, err := b.messages(ctx, ghlContactID, adID)
	if err != nil {
		tl.Problems = append(tl.Problems, fmt.Sprintf("HighLevel's messages could not be read (%v); showing what Parley has stored. Check the connection on the Connections screen.", err))
	}
	if convID != "" {
		ids = append(ids, convID)
	}
	ghlIDs := make([]string, len(msgs))
	for i, m := range msgs {
		ghlIDs[i] = m.ID
	}
	adMsgs, err := st.ADIDsFor(ctx, store.KindMessage, ghlIDs)
	if err != nil {
		return Timeline{}, err
	}
	media, err := st.MediaForContact(ctx, ghlContactID)
	if err != nil {
		return Timeline{}, err
	}
	files := map[string][2]store.MediaFile{}
	for _, f := range media {
		p := files[f.MessageID]
		if f.Kind == store.MediaRecording {
			p[0] = f
		} else {
			p[1] = f
		}
		files[f.MessageID] = p
	}
	for _, m := range msgs {
		e := TimelineEntry{At: m.DateAdded, Kind: EntryMessage, Side: SideGHL, Channel: m.MessageType,
			Direction: string(m.Direction), Text: m.Body, GHLMessageID: m.ID, CallDuration: m.Meta.CallDuration}
		if ad, ok := adMsgs[m.ID]; ok {
			e.Side, e.ADMessageID = SideBoth, ad
			ids = append(ids, ad)
		}
		if m.MessageType == "TYPE_CALL" {
			e.Kind = EntryCall
		}
		if f, ok := files[m.ID]; ok {
			b.attach(&e, f)
			delete(files, m.ID)
		}
		ids = append(ids, m.ID)
		tl.Entries = append(tl.Entries, e)
	}
	// Calls whose files were fetched but whose message HighLevel did not
	// list (deleted there, or HighLevel unreachable) still play.
	for id, f := range files {
		e := TimelineEntry{Kind: EntryCall, Side: SideGHL, Channel: "TYPE_CALL", GHLMessageID: id,
			At: cmp.Or(f[0].FetchedAt, f[1].FetchedAt)}
		b.attach(&e, f)
		ids = append(ids, id)
		tl.Entries = append(tl.Entries, e)
	}
	hist, err := st.HistoryFor(ctx, ids, timelineHistory)
	if err != nil {
		return Timeline{}, err
	}
	for _, h := range hist {
		e := TimelineEntry{At: h.At, Kind: EntrySync, Side: Side(systemSide(h.System)), Outcome: h.Outcome,
			Text: historyText(h), GHLMessageID: h.RemoteID, ADMessageID: h.LocalID}
		switch {
		case h.Operation == store.OpStatusUpdate:
			e.Kind = EntryStatus
		case strings.HasPrefix(string(h.Operation), "route"):
			e.Kind = EntryRouting
		}
		tl.Entries = append(tl.Entries, e)
	}
	if b.cfg.AD != nil && adID != "" {
		for h, err := range activedemand.AllHistory(ctx, b.cfg.AD, activedemand.ID(adID)) {
			if err != nil {
				tl.Problems = append(tl.Problems, fmt.Sprintf("ActiveDEMAND's history of this contact could not be read (%v); check the connection on the Connections screen.", err))
				break
			}
			tl.Entries = append(tl.Entries, TimelineEntry{At: h.At, Kind: EntryNote, Side: SideAD,
				Text: strings.TrimSpace(firstNonEmpty(h.Subject, h.Type) + ": " + h.Body)})
		}
	}
	slices.SortStableFunc(tl.Entries, func(a, b TimelineEntry) int { return a.At.Compare(b.At) })
	return tl, nil
}

func systemSide(s store.System) Side {
	if s == store.SystemAD {
		return SideAD
	}
	return SideGHL
}

func historyText(h store.HistoryEntry) string {
	s := fmt.Sprintf("%s %s", h.Operation, h.Outcome)
	if h.Error != "" {
		s += ": " + h.Error
	}
	return s
}

func (b *Browser) attach(e *TimelineEntry, f [2]store.MediaFile) {
	if f[0].Path != "" {
		e.Recording, e.RecordingType = b.abs(f[0].Path), f[0].ContentType
	}
	if f[1].Path != "" {
		e.Transcript = b.abs(f[1].Path)
	}
	e.Kind = EntryCall
}

func (b *Browser) abs(rel string) string {
	return filepath.Join(b.cfg.DataDir, filepath.FromSlash(rel))
}

// messages reads the contact's HighLevel conversation, newest first up to
// MaxTimelineMessages. The conversation is the one the sync linked, or the
// one HighLevel finds for the contact.
func (b *Browser) messages(ctx context.Context, ghlContactID, adID string) ([]ghl.Message, string, error) {
	var convID string
	if adID != "" {
		id, ok, err := b.cfg.Store.GHLIDFor(ctx, store.KindConversation, conversationKey(adID))
		if err != nil {
			return nil, "", err
		}
		if ok {
			convID = id
		}
	}
	if b.cfg.GHL == nil {
		return nil, convID, nil
	}
	if convID == "" {
		page, err := b.cfg.GHL.SearchConversationsPage(ctx, ghl.SearchConversationsRequest{ContactID: ghlContactID, Limit: 1})
		if err != nil {
			return nil, "", err
		}
		if len(page.Conversations) == 0 {
			return nil, "", nil
		}
		convID = page.Conversations[0].ID
	}
	var out []ghl.Message
	for m, err := range b.cfg.GHL.ListMessages(ctx, convID, ghl.ListMessagesRequest{Limit: 100}) {
		if err != nil {
			return out, convID, err
		}
		out = append(out, m)
		if len(out) == MaxTimelineMessages {
			break
		}
	}
	return out, convID, nil
}

// TranscriptQuery is a search over every transcript.
type TranscriptQuery struct {
	// Text: every word must begin a word of the sentence,
	// case-insensitively ("refund" finds "refunds" and "Refund").
	Text string
	// Since and Until keep calls that took place in [Since, Until); zero
	// leaves an end open.
	Since, Until time.Time
	// Channel keeps one side of the call (1 or 2); 0 is either.
	Channel int
}

// TranscriptHit is one sentence that matched.
type TranscriptHit struct {
	ContactID, MessageID string
	// CallAt is when the call took place; for a transcript indexed before
	// the media index kept call times, when it was fetched.
	CallAt time.Time
	// Index is the sentence's place in its transcript.
	Index    int
	Sentence transcript.Sentence
}

// TranscriptResults are a search's hits, newest call first.
type TranscriptResults struct {
	Hits []TranscriptHit
	// More is true when there were more than the hits returned.
	More bool
	// Searched is how many transcripts were searched; Skipped how many
	// could not be (unreadable, or beyond the index's bound), with the
	// first reason in Problem.
	Searched, Skipped int
	Problem           string
}

// index is the in-memory transcript index: every transcript's sentences,
// lower-cased, read once from disk and kept.
type index struct {
	docs    []indexedTranscript
	afterID int64
	bytes   int
	skipped int
	problem string
}

type indexedTranscript struct {
	contactID, messageID string
	at                   time.Time
	sentences            []transcript.Sentence
	lower                []string
}

// SearchTranscripts finds the sentences of every indexed transcript that
// match q. Transcripts added since the last search are read first.
func (b *Browser) SearchTranscripts(ctx context.Context, q TranscriptQuery) (TranscriptResults, error) {
	words := queryWords(q.Text)
	if len(words) == 0 {
		return TranscriptResults{}, errors.New("type a word to search the transcripts for")
	}
	if err := b.updateIndex(ctx); err != nil {
		return TranscriptResults{}, err
	}
	b.ix.Lock()
	docs := b.docs
	res := TranscriptResults{Searched: len(docs), Skipped: b.skipped, Problem: b.problem}
	b.ix.Unlock()
	for i := len(docs) - 1; i >= 0; i-- {
		d := &docs[i]
		if (!q.Since.IsZero() && d.at.Before(q.Since)) || (!q.Until.IsZero() && !d.at.Before(q.Until)) {
			continue
		}
		for j, s := range d.sentences {
			if q.Channel != 0 && s.Channel != q.Channel {
				continue
			}
			if !matchesWords(d.lower[j], words) {
				continue
			}
			if len(res.Hits) == maxHits {
				res.More = true
				break
			}
			res.Hits = append(res.Hits, TranscriptHit{ContactID: d.contactID, MessageID: d.messageID, CallAt: d.at, Index: j, Sentence: s})
		}
	}
	slices.SortStableFunc(res.Hits, func(a, b TranscriptHit) int { return b.CallAt.Compare(a.CallAt) })
	return res, nil
}

// updateIndex reads the transcripts indexed in the store since the last
// update.
func (b *Browser) updateIndex(ctx context.Context) error {
	b.ix.Lock()
	defer b.ix.Unlock()
	for {
		page, err := b.cfg.Store.MediaOfKind(ctx, store.MediaTranscript, b.afterID, 500)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, f := range page {
			b.afterID = f.ID
			if b.bytes+int(f.Size) > b.cfg.IndexBytes {
				b.skip(fmt.Sprintf("the search holds at most %d MB of transcripts; newer ones are not searched", b.cfg.IndexBytes>>20))
				continue
			}
			ss, err := readTranscript(b.abs(f.Path))
			if err != nil {
				b.skip(fmt.Sprintf("transcript of message %s: %v", f.MessageID, err))
				continue
			}
			at := f.CallAt
			if at.IsZero() {
				at = f.FetchedAt
			}
			d := indexedTranscript{contactID: f.ContactID, messageID: f.MessageID, at: at, sentences: ss, lower: make([]string, len(ss))}
			for i, s := range ss {
				d.lower[i] = strings.ToLower(s.Text)
				b.bytes += len(s.Text)
			}
			// Copy on append: searches keep reading the slice they took.
			b.docs = append(b.docs[:len(b.docs):len(b.docs)], d)
		}
	}
}

func (b *Browser) skip(why string) {
	b.skipped++
	if b.problem == "" {
		b.problem = why
	}
}

func readTranscript(path string) ([]transcript.Sentence, error) {
	f, err := os.Open(path) // #nosec G304 -- a media index path joined under the data folder by the caller
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return transcript.Decode(f)
}

// ReadTranscript reads a transcript file of the data folder.
func ReadTranscript(path string) ([]transcript.Sentence, error) { return readTranscript(path) }

func queryWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' })
}

// matchesWords reports whether every word begins a word of s (lower case).
func matchesWords(s string, words []string) bool {
	for _, w := range words {
		found := false
		for i := 0; !found; {
			j := strings.Index(s[i:], w)
			if j < 0 {
				break
			}
			at := i + j
			if at == 0 || !isWordRune(rune(s[at-1])) {
				found = true
			}
			i = at + 1
		}
		if !found {
			return false
		}
	}
	return true
}

func isWordRune(r rune) bool { return r >= 0x80 || unicode.IsLetter(r) || unicode.IsDigit(r) }
