package engine

// The engine's read side for the console's Conversations screen: both
// systems' conversations side by side, each linked pair with its sync
// state, and one pair's two threads aligned message by message.
//
// ActiveDEMAND's API lists conversations only as "changed since" (the
// poller's feed), so the ActiveDEMAND side is what the store knows: the
// conversations the sync linked, and the message jobs of the outbox. The
// HighLevel side is read live.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"parley/store"
	"parley/sync/ghl"
)

// PairState is a conversation's sync state, as the lists show it.
type PairState string

// Sync states of a conversation.
const (
	// PairInSync: linked, and none of its messages waits or failed.
	PairInSync PairState = "in sync"
	// PairPending: linked or not, some of its messages are still queued.
	PairPending PairState = "pending"
	// PairFailed: the sync gave up on some of its messages (dead jobs).
	PairFailed PairState = "failed"
	// PairOnlyAD: ActiveDEMAND messages the sync has not placed in any
	// HighLevel conversation yet.
	PairOnlyAD PairState = "only in ActiveDEMAND"
	// PairOnlyGHL: a HighLevel conversation no ActiveDEMAND contact is
	// linked to.
	PairOnlyGHL PairState = "only in HighLevel"
)

// contactPath is where a message job's payload names its AD contact.
const contactPath = "$.contact.id"

// openJobsFresh is how long a list's next pages reuse the open-job counts
// its first page read. Counting them reads every job's state (about 40 ms
// for 100,000 jobs on a quiet machine, 200 ms on a busy one); a list
// scrolled through a thousand pages must not pay that a thousand times.
// A first page, which a person asks for, always counts afresh.
const openJobsFresh = 30 * time.Second

// openJobsCache is the last count of open message jobs per AD contact.
type openJobsCache struct {
	at     time.Time
	counts map[string]store.JobCounts
}

// openJobs counts the open message jobs per AD contact; reuse allows a
// count younger than openJobsFresh.
func (b *Browser) openJobs(ctx context.Context, reuse bool) (map[string]store.JobCounts, error) {
	b.mu.Lock()
	c := b.open
	b.mu.Unlock()
	if reuse && c.counts != nil && time.Since(c.at) < openJobsFresh {
		return c.counts, nil
	}
	counts, err := b.cfg.Store.UnsettledByContact(ctx, JobMirrorMessage, contactPath)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.open = openJobsCache{at: time.Now(), counts: counts}
	b.mu.Unlock()
	return counts, nil
}

// ADConversation is one ActiveDEMAND contact's conversation as the store
// knows it.
type ADConversation struct {
	ADContactID string
	// Name is the contact's name (or email, or phone) as ActiveDEMAND
	// gave it; "" when the sync read only its messages.
	Name string
	// GHLConversationID is the linked HighLevel conversation; "" when
	// only on the ActiveDEMAND side.
	GHLConversationID string
	LinkedAt          time.Time
	State             PairState
	// Pending and Failed count its message jobs queued and given up.
	Pending, Failed int
}

// ADConversationQuery selects a page of ActiveDEMAND conversations.
type ADConversationQuery struct {
	// Text keeps conversations whose AD contact id or HighLevel
	// conversation id contains it, or whose contact's name, email or
	// phone (as ActiveDEMAND gave them) does, case-insensitively.
	Text string
	// State keeps one state; "" keeps all.
	State PairState
	// After resumes after this AD contact id (the previous answer's
	// next); "" is the first page.
	After string
	// Limit is the page size (default 100).
	Limit int
}

// ADConversations reads one page of ActiveDEMAND conversations: the first
// page starts with those only on the ActiveDEMAND side (their messages are
// all still queued or failed, so there are few), then the linked ones in
// contact id order. next resumes after this page; "" when it was the last.
// Filtering by a state other than in sync lists only conversations with
// open jobs, all on one page.
func (b *Browser) ADConversations(ctx context.Context, q ADConversationQuery) (list []ADConversation, next string, err error) {
	st := b.cfg.Store
	if q.Limit <= 0 {
		q.Limit = 100
	}
	open, err := b.openJobs(ctx, q.After != "")
	if err != nil {
		return nil, "", err
	}
	text := strings.ToLower(strings.TrimSpace(q.Text))
	named, err := b.contactsNamed(ctx, text)
	if err != nil {
		return nil, "", err
	}
	keep := func(c ADConversation) bool {
		if q.State != "" && c.State != q.State {
			return false
		}
		return text == "" || named[c.ADContactID] || strings.Contains(strings.ToLower(c.ADContactID+"\x00"+c.GHLConversationID), text)
	}
	if q.State != "" && q.State != PairInSync || q.After == "" && q.State == "" {
		// Conversations with open work: read whole (it is small, except
		// during a backfill, when at most one page of it is listed).
		ids := slices.Sorted(mapKeys(open))
		linked, err := st.ConversationLinksFor(ctx, ids)
		if err != nil {
			return nil, "", err
		}
		for _, id := range ids {
			if len(list) == q.Limit {
				break
			}
			c := ADConversation{ADContactID: id, State: PairOnlyAD, Pending: open[id].Pending, Failed: open[id].Dead}
			if conv, ok := linked[id]; ok {
				if q.State == "" {
					continue // listed with the links, in order
				}
				c = linkedConversation(store.ConversationLink{ADContactID: id, GHLID: conv}, open)
			}
			if id != "" && keep(c) {
				list = append(list, c)
			}
		}
		if q.State != "" {
			return list, "", b.nameADConversations(ctx, list)
		}
	}
	links, err := st.ConversationLinks(ctx, store.ConversationFilter{Text: q.Text, After: q.After, Limit: q.Limit})
	if err != nil {
		return nil, "", err
	}
	if len(named) > 0 {
		more, err := b.namedLinks(ctx, named, q.After, q.Limit)
		if err != nil {
			return nil, "", err
		}
		links = mergeLinks(links, more, q.Limit)
	}
	for _, l := range links {
		if c := linkedConversation(l, open); keep(c) {
			list = append(list, c)
		}
	}
	if len(links) == q.Limit {
		next = links[len(links)-1].ADContactID
	}
	if err := b.nameADConversations(ctx, list); err != nil {
		return nil, "", err
	}
	return list, next, nil
}

// contactsNamed returns the ActiveDEMAND contacts whose name, email or
// phone in any of their contact jobs contains text (lower case); nil for
// no text. It reads every contact job, not the message jobs: about what a
// page of links costs per thousand contacts.
func (b *Browser) contactsNamed(ctx context.Context, text string) (map[string]bool, error) {
	if text == "" {
		return nil, nil
	}
	named := map[string]bool{}
	err := b.cfg.Store.EachOutboxFields(ctx, contactKeyStart, []string{"$.first_name", "$.last_name", "$.email", "$.phone"}, func(key string, f []string) error {
		if strings.Contains(strings.ToLower(f[0]+" "+f[1]+"\x00"+f[2]+"\x00"+f[3]), text) {
			id := strings.TrimPrefix(key, contactKeyStart)
			if at := strings.LastIndexByte(id, '@'); at >= 0 {
				named[id[:at]] = true
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("find ActiveDEMAND contacts by name: %w", err)
	}
	return named, nil
}

// namedLinks returns the first limit conversation links, in AD contact id
// order after after, of the named contacts.
func (b *Browser) namedLinks(ctx context.Context, named map[string]bool, after string, limit int) ([]store.ConversationLink, error) {
	var ids []string
	for id := range named {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []store.ConversationLink
	// In slices of sorted ids, so that a name most contacts share stops
	// at the page instead of looking all of them up.
	for len(ids) > 0 && len(out) < limit {
		n := min(len(ids), max(limit, 100))
		links, err := b.cfg.Store.ConversationLinksOf(ctx, ids[:n])
		if err != nil {
			return nil, err
		}
		out = append(out, links...)
		ids = ids[n:]
	}
	return out[:min(len(out), limit)], nil
}

// mergeLinks merges two pages of links in AD contact id order into one of
// at most limit, each link once.
func mergeLinks(a, b []store.ConversationLink, limit int) []store.ConversationLink {
	out := make([]store.ConversationLink, 0, min(len(a)+len(b), limit))
	for len(out) < limit && (len(a) > 0 || len(b) > 0) {
		switch {
		case len(b) == 0 || len(a) > 0 && a[0].ADContactID < b[0].ADContactID:
			out, a = append(out, a[0]), a[1:]
		case len(a) == 0 || b[0].ADContactID < a[0].ADContactID:
			out, b = append(out, b[0]), b[1:]
		default: // the same link, found by its id and by its name
			out, a, b = append(out, a[0]), a[1:], b[1:]
		}
	}
	return out
}

// nameADConversations fills in the names of a page of conversations from
// their contacts' newest jobs.
func (b *Browser) nameADConversations(ctx context.Context, list []ADConversation) error {
	prefixes := make([]string, len(list))
	for i, c := range list {
		prefixes[i] = ContactKeyPrefix(c.ADContactID)
	}
	names, err := b.contactLabels(ctx, prefixes)
	if err != nil {
		return err
	}
	for i := range list {
		list[i].Name = names[prefixes[i]]
	}
	return nil
}

// contactLabels maps contact key prefixes to the labels of their newest
// contact jobs; a prefix without a readable job is left out.
func (b *Browser) contactLabels(ctx context.Context, prefixes []string) (map[string]string, error) {
	payloads, err := b.cfg.Store.LatestOutboxPayloads(ctx, prefixes)
	if err != nil {
		return nil, fmt.Errorf("read the names of ActiveDEMAND contacts: %w", err)
	}
	out := make(map[string]string, len(payloads))
	for p, payload := range payloads {
		// A payload no worker can read is the Sync screen's dead letter;
		// here the contact is shown by its id.
		if j, err := DecodeContactJob(payload); err == nil && j.Label() != "" {
			out[p] = j.Label()
		}
	}
	return out, nil
}

func linkedConversation(l store.ConversationLink, open map[string]store.JobCounts) ADConversation {
	n := open[l.ADContactID]
	return ADConversation{ADContactID: l.ADContactID, GHLConversationID: l.GHLID, LinkedAt: l.LinkedAt,
		State: stateOf(n), Pending: n.Pending, Failed: n.Dead}
}

// stateOf is a linked conversation's state: a failure outweighs waiting
// work, since only a person can clear it.
func stateOf(n store.JobCounts) PairState {
	switch {
	case n.Dead > 0:
		return PairFailed
	case n.Pending > 0:
		return PairPending
	}
	return PairInSync
}

// GHLConversationQuery selects a page of HighLevel conversations.
type GHLConversationQuery struct {
	// Text is HighLevel's search: contact name, email, phone and the
	// last message.
	Text string
	// Channel keeps conversations whose last message is of this type
	// (e.g. TYPE_SMS); "" keeps all.
	Channel string
	// Unread keeps conversations with unread messages.
	Unread bool
	// Since keeps conversations whose last message is this recent.
	Since time.Time
	// StartAfter resumes after this sort value (the previous answer's
	// next); 0 is the newest.
	StartAfter int64
	// Limit is the page size (default 50, at most 100).
	Limit int
}

// GHLConversation is one HighLevel conversation with its link.
type GHLConversation struct {
	ghl.Conversation
	// ADContactID is the linked ActiveDEMAND contact; "" when only in
	// HighLevel.
	ADContactID string
	State       PairState
}

// GHLConversations reads one page of HighLevel's conversations, newest
// first, marked with their links and sync state. The channel and date
// filters are applied to the page HighLevel returns (its search has no
// such parameters), so a page may hold fewer than Limit; next resumes
// after it and is 0 when there is no more.
func (b *Browser) GHLConversations(ctx context.Context, q GHLConversationQuery) (list []GHLConversation, next int64, err error) {
	if b.cfg.GHL == nil {
		return nil, 0, errors.New("HighLevel is not connected: connect it on the Connections screen to see its conversations")
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	req := ghl.SearchConversationsRequest{Query: strings.TrimSpace(q.Text), Limit: min(q.Limit, 100), StartAfter: q.StartAfter}
	if q.Unread {
		req.Status = ghl.SearchUnread
	}
	page, err := b.cfg.GHL.SearchConversationsPage(ctx, req)
	if err != nil {
		return nil, 0, fmt.Errorf("read HighLevel's conversations: %w", err)
	}
	ids := make([]string, len(page.Conversations))
	for i, c := range page.Conversations {
		ids[i] = c.ID
	}
	links, err := b.cfg.Store.ADIDsFor(ctx, store.KindConversation, ids)
	if err != nil {
		return nil, 0, err
	}
	open, err := b.openJobs(ctx, q.StartAfter != 0)
	if err != nil {
		return nil, 0, err
	}
	b.mu.Lock()
	for _, c := range page.Conversations {
		// Search results carry names: keep them for the Contacts screen.
		if _, ok := b.names[c.ContactID]; !ok && c.ContactID != "" {
			b.names[c.ContactID] = ghl.Contact{ID: c.ContactID, Name: firstNonEmpty(c.FullName, c.ContactName), Email: c.Email, Phone: c.Phone}
		}
	}
	b.mu.Unlock()
	for _, c := range page.Conversations {
		if !q.Since.IsZero() && c.LastMessageDate.Before(q.Since) {
			continue
		}
		if (q.Channel != "" && c.LastMessageType != q.Channel) || (q.Unread && c.UnreadCount == 0) {
			continue
		}
		g := GHLConversation{Conversation: c, State: PairOnlyGHL}
		if ad, ok := links[c.ID]; ok {
			g.ADContactID = strings.TrimPrefix(ad, conversationKey(""))
			g.State = stateOf(open[g.ADContactID])
		}
		list = append(list, g)
	}
	if n := len(page.Conversations); n == req.Limit {
		last := page.Conversations[n-1]
		// Newest first: once the page is older than Since, so is the rest.
		if q.Since.IsZero() || !last.LastMessageDate.Before(q.Since) {
			next = last.SortValue
		}
	}
	return list, next, nil
}

// Mismatch says how a row of a pair's threads disagrees.
type Mismatch string

// Mismatches.
const (
	// MissingInGHL: an ActiveDEMAND message HighLevel does not hold.
	MissingInGHL Mismatch = "missing in HighLevel"
	// OnlyInGHL: a HighLevel message ActiveDEMAND does not have (typed
	// in HighLevel, or recorded by something else).
	OnlyInGHL Mismatch = "only in HighLevel"
)

// PairRow is one message of a pair, with what each side holds of it.
type PairRow struct {
	At                 time.Time
	Channel, Direction string
	// ADMessageID and ADText are the ActiveDEMAND message as queued;
	// ADState its job's state and ADError why it last failed.
	ADMessageID, ADText string
	ADState             store.OutboxState
	ADError             string
	// GHLMessageID and GHLText are the HighLevel message.
	GHLMessageID, GHLText string
	// Mismatch is "" when both sides hold the message.
	Mismatch Mismatch
}

// Pair is one conversation on both sides, its messages aligned.
type Pair struct {
	ADContactID string
	// ADContactName is the contact's name (or email, or phone) as
	// ActiveDEMAND gave it, from its contact job or its messages; "" when
	// unknown.
	ADContactName     string
	GHLConversationID string
	// GHLContactID is the HighLevel contact, for opening it.
	GHLContactID string
	State        PairState
	// Rows are both threads, oldest first, one row per message.
	Rows []PairRow
	// Missing and Extra count the rows missing in HighLevel and the
	// rows only there.
	Missing, Extra int
	// Problems lists what could not be read, each with what to do.
	Problems []string
}

// adMessage is one ActiveDEMAND message of a pair, from its jobs.
type adMessage struct {
	job   MessageJob
	item  store.OutboxItem
	state store.OutboxState
}

// Pair reads a conversation on both sides, from either its ActiveDEMAND
// contact id or its HighLevel conversation id, and aligns the threads by
// the id map and by altId: each ActiveDEMAND message next to the HighLevel
// message it became, so a message missing on one side has a row of its
// own.
func (b *Browser) Pair(ctx context.Context, adContactID, ghlConversationID string) (Pair, error) {
	st := b.cfg.Store
	p := Pair{ADContactID: adContactID, GHLConversationID: ghlConversationID}
	switch {
	case adContactID == "" && ghlConversationID == "":
		return p, errors.New("open a conversation: neither side's id was given")
	case adContactID == "":
		ad, ok, err := st.ADIDFor(ctx, store.KindConversation, ghlConversationID)
		if err != nil {
			return p, err
		}
		if ok {
			p.ADContactID = strings.TrimPrefix(ad, conversationKey(""))
		}
	case ghlConversationID == "":
		id, _, err := st.GHLIDFor(ctx, store.KindConversation, conversationKey(adContactID))
		if err != nil {
			return p, err
		}
		p.GHLConversationID = id
	}
	ads, err := b.adMessages(ctx, p.ADContactID)
	if err != nil {
		return p, err
	}
	if p.ADContactID != "" {
		names, err := b.contactLabels(ctx, []string{ContactKeyPrefix(p.ADContactID)})
		if err != nil {
			return p, err
		}
		p.ADContactName = names[ContactKeyPrefix(p.ADContactID)]
		if p.ADContactName == "" {
			// Known only from its messages: the newest one's words.
			var newest time.Time
			for _, m := range ads {
				c := m.job.Contact
				if l := firstNonEmpty(strings.TrimSpace(c.Name), c.Email, c.Phone); l != "" && !m.job.SentAt.Before(newest) {
					p.ADContactName, newest = l, m.job.SentAt
				}
			}
		}
	}
	var open store.JobCounts
	for _, m := range ads {
		switch m.state {
		case store.OutboxDead:
			open.Dead++
		case store.OutboxPending, store.OutboxInFlight:
			open.Pending++
		}
	}
	switch {
	case p.ADContactID == "":
		p.State = PairOnlyGHL
	case p.GHLConversationID == "":
		p.State = PairOnlyAD
	default:
		p.State = stateOf(open)
	}
	if p.ADContactID != "" {
		if id, ok, err := st.GHLIDFor(ctx, store.KindContact, p.ADContactID); err != nil {
			return p, err
		} else if ok {
			p.GHLContactID = id
		}
	}

	var ghlMsgs []ghl.Message
	if p.GHLConversationID != "" {
		if b.cfg.GHL == nil {
			p.Problems = append(p.Problems, "HighLevel is not connected, so its side is empty: connect it on the Connections screen.")
		} else {
			for m, err := range b.cfg.GHL.ListMessages(ctx, p.GHLConversationID, ghl.ListMessagesRequest{Limit: 100}) {
				if err != nil {
					p.Problems = append(p.Problems, fmt.Sprintf("HighLevel's messages of conversation %s could not be read (%v); check the connection on the Connections screen.", p.GHLConversationID, err))
					break
				}
				ghlMsgs = append(ghlMsgs, m)
				if len(ghlMsgs) == MaxTimelineMessages {
					break
				}
			}
		}
	}
	ids := make([]string, len(ghlMsgs))
	for i, m := range ghlMsgs {
		ids[i] = m.ID
		if p.GHLContactID == "" {
			p.GHLContactID = m.ContactID
		}
	}
	linked, err := st.ADIDsFor(ctx, store.KindMessage, ids)
	if err != nil {
		return p, err
	}
	byAD := map[string]ghl.Message{}
	for _, m := range ghlMsgs {
		ad := cmp.Or(linked[m.ID], m.AltID)
		if _, ok := ads[ad]; ok && ad != "" {
			if _, dup := byAD[ad]; !dup {
				byAD[ad] = m
				continue
			}
		}
		p.Rows = append(p.Rows, PairRow{At: m.DateAdded, Channel: m.MessageType, Direction: string(m.Direction),
			GHLMessageID: m.ID, GHLText: m.Body, Mismatch: OnlyInGHL})
		p.Extra++
	}
	for id, a := range ads {
		row := PairRow{At: a.job.SentAt, Channel: a.job.Channel, Direction: a.job.Direction, ADMessageID: id,
			ADText: firstNonEmpty(a.job.Body, a.job.Subject), ADState: a.state, ADError: a.item.LastError}
		if m, ok := byAD[id]; ok {
			row.GHLMessageID, row.GHLText, row.Channel = m.ID, m.Body, m.MessageType
		} else if len(p.Problems) == 0 {
			// Only once HighLevel's side was read: a message is not known
			// to be missing there while it could not be.
			row.Mismatch = MissingInGHL
			p.Missing++
		}
		p.Rows = append(p.Rows, row)
	}
	slices.SortStableFunc(p.Rows, func(a, b PairRow) int {
		return cmp.Or(a.At.Compare(b.At), strings.Compare(a.ADMessageID, b.ADMessageID), strings.Compare(a.GHLMessageID, b.GHLMessageID))
	})
	return p, nil
}

// adMessages reads an ActiveDEMAND contact's message jobs, one entry per
// message. A message queued again by a repair has several jobs: it is
// waiting if one is, else done if one is, else failed with the newest
// job's error.
func (b *Browser) adMessages(ctx context.Context, adContactID string) (map[string]adMessage, error) {
	out := map[string]adMessage{}
	if adContactID == "" {
		return out, nil
	}
	items, err := b.cfg.Store.OutboxWithValue(ctx, JobMirrorMessage, contactPath, adContactID, 2*MaxTimelineMessages)
	if err != nil {
		return nil, err
	}
	rank := map[store.OutboxState]int{store.OutboxDead: 0, store.OutboxDone: 1, store.OutboxPending: 2, store.OutboxInFlight: 2}
	for _, it := range items {
		j, err := DecodeMessageJob(it.Payload)
		if err != nil {
			continue // a payload no worker can read is the Sync screen's dead letter
		}
		prev, ok := out[j.MessageID]
		if ok && rank[prev.state] > rank[it.State] {
			continue
		}
		out[j.MessageID] = adMessage{job: j, item: it, state: it.State}
	}
	return out, nil
}

// ResyncResult is what ResyncConversation queued.
type ResyncResult struct {
	// Queued counts the messages queued again; AlreadyQueued those whose
	// job is still waiting, so nothing was added.
	Queued, AlreadyQueued int
}

// ResyncConversation queues again every ActiveDEMAND message of the
// conversation that HighLevel does not hold, as `parley verify --repair`
// does: under its usual key if never used, else under a repair key, and
// not at all while a job for it still waits. Messages HighLevel holds are
// left alone, so a re-sync never records a message twice. It refuses when
// HighLevel's side cannot be read, since every message would then look
// missing.
func (b *Browser) ResyncConversation(ctx context.Context, adContactID string) (ResyncResult, error) {
	var res ResyncResult
	if adContactID == "" {
		return res, errors.New("re-sync: this conversation is only in HighLevel; there is nothing in ActiveDEMAND to send")
	}
	p, err := b.Pair(ctx, adContactID, "")
	if err != nil {
		return res, fmt.Errorf("re-sync the conversation of ActiveDEMAND contact %s: %w", adContactID, err)
	}
	if len(p.Problems) > 0 {
		return res, fmt.Errorf("re-sync the conversation of ActiveDEMAND contact %s: %s", adContactID, p.Problems[0])
	}
	ads, err := b.adMessages(ctx, adContactID)
	if err != nil {
		return res, err
	}
	var jobs []store.OutboxJob
	for _, row := range p.Rows {
		if row.Mismatch != MissingInGHL {
			continue
		}
		key := MessageKey(row.ADMessageID)
		states, err := b.cfg.Store.OutboxStatesByKey(ctx, key, repairSep)
		if err != nil {
			return res, fmt.Errorf("re-sync: %w", err)
		}
		if pendingIn(states) {
			res.AlreadyQueued++
			continue
		}
		job := store.OutboxJob{Kind: JobMirrorMessage, Key: key, Payload: ads[row.ADMessageID].item.Payload}
		if len(states) > 0 {
			job.Key = key + repairSep + strconv.Itoa(len(states))
		}
		jobs = append(jobs, job)
	}
	n, err := b.cfg.Store.EnqueueBatch(ctx, jobs)
	if err != nil {
		return res, fmt.Errorf("re-sync the conversation of ActiveDEMAND contact %s: %w", adContactID, err)
	}
	res.Queued = n
	return res, nil
}
