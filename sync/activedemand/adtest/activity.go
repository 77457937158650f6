package adtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"time"

	"parley/sync/activedemand"
	"parley/sync/internal/demobiz"
)

// Delivery records one webhook the sandbox posted.
type Delivery struct {
	URL     string
	EventID string
	Type    activedemand.EventType
	// Status is the receiver's last answer, 0 when it could not be reached.
	Status   int
	Attempts int
	Err      error
}

type outgoing struct {
	url string
	ev  activedemand.Event
}

// PostWebhook signs event with secret and posts it to url, as
// ActiveDEMAND is assumed to, and returns the receiver's HTTP status.
// An empty event ID gets a fresh one.
func (s *Server) PostWebhook(ctx context.Context, url, secret string, ev activedemand.Event) (int, error) {
	if ev.ID == "" {
		ev.ID = s.nextEventID()
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = s.clock()
	}
	return activedemand.PostWebhook(ctx, s.opts.HTTPClient, url, s.routes, activedemand.Secret(secret), ev, s.clock())
}

func (s *Server) nextEventID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evSeq++
	return fmt.Sprintf("evt_%06d", s.evSeq)
}

// Deliveries lists the webhooks posted automatically, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliver)
}

// notify queues ev for Options.WebhookURL and the matching subscriptions.
// It never blocks a request: with the queue full the event is logged and
// dropped (the sandbox is not the system under test here).
func (s *Server) notify(ev activedemand.Event) {
	ev.ID = s.nextEventID()
	ev.OccurredAt = s.clock()
	s.mu.Lock()
	var targets []string
	if s.opts.WebhookURL != "" {
		targets = append(targets, s.opts.WebhookURL)
	}
	for _, sub := range s.st.subs {
		if (sub.Event == ev.Type || sub.Event == "*") && !slices.Contains(targets, sub.URL) {
			targets = append(targets, sub.URL)
		}
	}
	if len(targets) == 0 || s.closed {
		s.mu.Unlock()
		return
	}
	s.startPost.Do(func() { s.wg.Go(s.poster) })
	s.mu.Unlock()
	for _, t := range targets {
		select {
		case s.outbox <- outgoing{url: t, ev: ev}:
		default:
			s.log.Warn("adtest: webhook queue full, event not posted", "event", ev.ID, "url", t)
		}
	}
}

// poster posts queued webhooks, retrying 5xx and unreachable receivers a
// few times as a sender would, until the server closes.
func (s *Server) poster() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case o := <-s.outbox:
			d := Delivery{URL: o.url, EventID: o.ev.ID, Type: o.ev.Type}
			for attempt := 1; attempt <= 4; attempt++ {
				d.Attempts = attempt
				ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
				d.Status, d.Err = activedemand.PostWebhook(ctx, s.opts.HTTPClient, o.url, s.routes, activedemand.Secret(s.opts.WebhookSecret), o.ev, s.clock())
				cancel()
				if d.Err == nil && d.Status < 500 {
					break
				}
				t := time.NewTimer(time.Duration(attempt*attempt) * 50 * time.Millisecond)
				select {
				case <-s.ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
			s.log.Debug("adtest webhook", "url", o.url, "event", o.ev.ID, "type", o.ev.Type, "status", d.Status, "err", d.Err)
			s.mu.Lock()
			s.deliver = append(s.deliver, d)
			if len(s.deliver) > 1000 {
				s.deliver = s.deliver[len(s.deliver)-1000:]
			}
			s.mu.Unlock()
		}
	}
}

// NewContact is a contact for AddContact.
type NewContact struct {
	FirstName, LastName, Email, Phone string
	// Custom sets custom_N fields.
	Custom map[string]string
}

// AddContact adds a contact as if created in ActiveDEMAND (webhook
// contact.created when configured).
func (s *Server) AddContact(nc NewContact) (activedemand.Contact, error) {
	if nc.Email == "" && nc.Phone == "" {
		return activedemand.Contact{}, errors.New("adtest: add contact: need an email or a phone")
	}
	s.mu.Lock()
	if nc.Email != "" && s.st.contactByEmail(nc.Email) != nil {
		s.mu.Unlock()
		return activedemand.Contact{}, fmt.Errorf("adtest: add contact: %s exists", nc.Email)
	}
	ct := s.st.newContact(nc.FirstName, nc.LastName, nc.Email, nc.Phone, nc.Custom, s.clock())
	out := ct.api()
	s.mu.Unlock()
	s.notify(activedemand.Event{Type: activedemand.EventContactCreated, ContactID: out.ID})
	return out, nil
}

// NewMessage is a message for AddMessage.
type NewMessage struct {
	// ConversationID adds to an existing conversation; when empty a new
	// conversation is opened for ContactID on Channel.
	ConversationID activedemand.ID
	ContactID      activedemand.ID
	Channel        activedemand.Channel
	Direction      activedemand.Direction
	Subject, Body  string
	// At defaults to the clock.
	At time.Time
	// Attachment names one of demobiz.Attachments.
	Attachment string
	// Call makes it a call (with recording and transcript when it has
	// sentences).
	Call *demobiz.Call
}

// AddMessage adds a message as if it happened in ActiveDEMAND (webhook
// message.created when configured).
func (s *Server) AddMessage(nm NewMessage) (activedemand.Message, error) {
	if nm.Direction != activedemand.Inbound && nm.Direction != activedemand.Outbound {
		return activedemand.Message{}, fmt.Errorf("adtest: add message: direction %q", nm.Direction)
	}
	if nm.Attachment != "" && demobiz.Attachments[nm.Attachment] == "" {
		return activedemand.Message{}, fmt.Errorf("adtest: add message: no attachment %q in demobiz.Attachments", nm.Attachment)
	}
	at := nm.At
	if at.IsZero() {
		at = s.clock()
	}
	s.mu.Lock()
	var cv *conversation
	if nm.ConversationID != "" {
		id, _ := parseID(nm.ConversationID)
		cv = s.st.convs[id]
		if cv == nil {
			s.mu.Unlock()
			return activedemand.Message{}, fmt.Errorf("adtest: add message: no conversation %s", nm.ConversationID)
		}
	} else {
		cid, _ := parseID(nm.ContactID)
		if s.st.contacts[cid] == nil || !nm.Channel.Valid() {
			s.mu.Unlock()
			return activedemand.Message{}, fmt.Errorf("adtest: add message: need a conversation, or a known contact (%q) and a channel (%q)", nm.ContactID, nm.Channel)
		}
		cv = s.st.newConversation(cid, nm.Channel, nm.Subject, at)
	}
	m := s.st.appendMessage(cv, nm.Direction, at, nm.Body, firstNonEmpty(nm.Subject, cv.subject), nm.Attachment, nm.Call)
	out := m.api(s.baseLocked(), s.sizes)
	s.mu.Unlock()
	s.notify(activedemand.Event{Type: activedemand.EventMessageCreated, ContactID: out.ContactID, ConversationID: out.ConversationID, MessageID: out.ID})
	return out, nil
}

// SetConversationFlags marks a conversation unread and starred (or not) as
// if a person did it in ActiveDEMAND's inbox at at (default the clock): the
// conversation's updated_at moves, so pollers see it, and a
// conversation.updated webhook is sent when configured.
func (s *Server) SetConversationFlags(id activedemand.ID, unread, starred bool, at time.Time) error {
	if at.IsZero() {
		at = s.clock()
	}
	n, _ := parseID(id)
	s.mu.Lock()
	cv := s.st.convs[n]
	if cv == nil {
		s.mu.Unlock()
		return fmt.Errorf("adtest: set conversation flags: no conversation %s", id)
	}
	cv.unread, cv.starred = unread, starred
	if at.After(cv.updatedAt) {
		cv.updatedAt = at
	}
	ev := activedemand.Event{Type: activedemand.EventConversationUpdated, ContactID: idText(cv.contactID), ConversationID: idText(cv.id)}
	s.mu.Unlock()
	s.notify(ev)
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// baseLocked is the base URL for media links in accessors; s.mu is held.
func (s *Server) baseLocked() string {
	if u := s.URL(); u != "" {
		return u
	}
	return basePath
}

// Contacts returns every contact, by id.
func (s *Server) Contacts() []activedemand.Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []activedemand.Contact
	for _, c := range sortedByID(s.st.contacts) {
		out = append(out, c.api())
	}
	return out
}

// Conversations returns every conversation, by id.
func (s *Server) Conversations() []activedemand.Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []activedemand.Conversation
	for _, c := range sortedByID(s.st.convs) {
		out = append(out, c.api())
	}
	return out
}

// Messages returns a conversation's messages, oldest first.
func (s *Server) Messages(conversationID activedemand.ID) []activedemand.Message {
	id, _ := parseID(conversationID)
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := s.st.convs[id]
	if cv == nil {
		return nil
	}
	out := make([]activedemand.Message, len(cv.msgs))
	for i, m := range cv.msgs {
		out[i] = m.api(s.baseLocked(), s.sizes)
	}
	return out
}

// Message returns one message.
func (s *Server) Message(id activedemand.ID) (activedemand.Message, bool) {
	n, _ := parseID(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.msgs[n]
	if m == nil {
		return activedemand.Message{}, false
	}
	return m.api(s.baseLocked(), s.sizes), true
}

// MessageKey returns the demobiz message key of a sandbox message id
// ("v012-m03"), which HighLevel's sandbox uses as altId for mirrored
// messages.
func (s *Server) MessageKey(id activedemand.ID) (string, bool) {
	n, _ := parseID(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.msgs[n]
	if m == nil {
		return "", false
	}
	return m.key, true
}

// MessageKeys maps every message id to its demobiz key.
func (s *Server) MessageKeys() map[activedemand.ID]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[activedemand.ID]string, len(s.st.msgs))
	for id, m := range s.st.msgs {
		out[idText(id)] = m.key
	}
	return out
}

// History returns a contact's history entries, oldest first.
func (s *Server) History(contactID activedemand.ID) []activedemand.HistoryEntry {
	id, _ := parseID(contactID)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []activedemand.HistoryEntry
	for _, h := range s.st.history[id] {
		out = append(out, h.api())
	}
	return out
}

// Tasks returns the tasks raised so far.
func (s *Server) Tasks() []Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.tasks)
}

// Subscriptions returns the webhook subscriptions.
func (s *Server) Subscriptions() []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.subs)
}

// ListMembers returns a contact list's member ids.
func (s *Server) ListMembers(listID activedemand.ID) []activedemand.ID {
	id, _ := parseID(listID)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.st.lists {
		if l.id == id {
			out := make([]activedemand.ID, len(l.members))
			for i, m := range l.members {
				out[i] = idText(m)
			}
			return out
		}
	}
	return nil
}

// Submissions returns the form submissions received.
func (s *Server) Submissions() []Submission {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Submission, len(s.st.submissions))
	for i, sub := range s.st.submissions {
		out[i] = Submission{FormID: sub.FormID, Values: url.Values(cloneValues(sub.Values)), At: sub.At}
	}
	return out
}

func cloneValues(v url.Values) map[string][]string {
	out := make(map[string][]string, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// Business returns the demo business the sandbox was seeded with (empty
// with Options.Empty).
func (s *Server) Business() demobiz.Business {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.biz
}

var inboundLines = map[activedemand.Channel][]string{
	activedemand.ChannelSMS: {
		"Hi, just checking on the schedule for next week?", "Thanks! That works for us.", "Can you send me the updated quote?",
		"Is there parking near the site?", "We'd like to add the basement to the estimate.", "Running a bit late, be there in 15.",
	},
	activedemand.ChannelChat: {
		"Hello, are you taking new projects this month?", "Do you offer financing?", "What's the earliest start date?",
	},
	activedemand.ChannelEmail: {
		"Thanks for the quote. Could we go over the cabinet options?", "Please find the signed agreement attached.",
		"We have a couple of questions about the timeline.",
	},
}

var outboundLines = map[activedemand.Channel][]string{
	activedemand.ChannelSMS: {
		"Hi {first}, we can come by Thursday at 10. Does that work?", "Quote sent to your email, {first}.", "Our crew is on the way.",
	},
	activedemand.ChannelChat: {
		"Hi {first}! Yes, we have openings in two weeks.", "We do, through our partner. Want the details?",
	},
	activedemand.ChannelEmail: {
		"Hello {first},\n\nHappy to go over the options. Does tomorrow at 11 suit you?\n\nBest regards,\nThe team",
		"Hi {first}, thank you, we received it. We'll confirm the start date shortly.",
	},
}

var newPeople = [][2]string{{"Maya", "Leblanc"}, {"Tom", "Arsenault"}, {"Priya", "Sharma"}, {"Felix", "Doucet"}, {"Rosa", "Martinez"}, {"Ken", "Ito"}}

// StartActivity makes the sandbox change over time, for demo mode: every
// interval it adds an inbound or outbound message to an existing or new
// conversation, marks an outbound message read, closes or reopens a
// conversation, or, now and then, adds a contact. Each change posts its
// webhook when configured. It stops when ctx is done or the server closes.
func (s *Server) StartActivity(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 5 * time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	rng := rand.New(rand.NewPCG(s.opts.Seed^0xa5a5a5a5, uint64(s.evSeq)+1)) // #nosec G115 G404 -- a seed from a non-negative counter; seeded on purpose, so demo activity replays
	s.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.ctx.Done():
				return
			case <-t.C:
				s.step(rng)
			}
		}
	})
}

// Step makes one change, as StartActivity does on each tick; tests use it
// to drive activity without waiting.
func (s *Server) Step(seed uint64) {
	s.step(rand.New(rand.NewPCG(seed, seed^0x5bd1e995))) // #nosec G404 -- seeded on purpose: tests replay the same changes
}

func (s *Server) step(rng *rand.Rand) {
	now := s.clock()
	s.mu.Lock()
	convs := sortedByID(s.st.convs)
	contacts := sortedByID(s.st.contacts)
	if len(contacts) == 0 {
		s.mu.Unlock()
		first := newPeople[rng.IntN(len(newPeople))]
		_, _ = s.AddContact(NewContact{FirstName: first[0], LastName: first[1], Email: fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(first[0]), strings.ToLower(first[1]), now.UnixNano()%100000)})
		return
	}
	var ev activedemand.Event
	roll := rng.IntN(100)
	switch {
	case roll < 45 && len(convs) > 0:
		cv := convs[rng.IntN(len(convs))]
		ev = s.stepMessage(rng, cv, activedemand.Inbound, now)
	case roll < 65 && len(convs) > 0:
		cv := convs[rng.IntN(len(convs))]
		ev = s.stepMessage(rng, cv, activedemand.Outbound, now)
	case roll < 78:
		var outs []*message
		for _, cv := range convs {
			for _, m := range cv.msgs {
				if m.direction == activedemand.Outbound && m.call == nil && m.status == activedemand.MessageDelivered {
					outs = append(outs, m)
				}
			}
		}
		if len(outs) == 0 {
			break
		}
		m := outs[rng.IntN(len(outs))]
		m.status = activedemand.MessageRead
		if cv := s.st.convs[m.convID]; cv != nil && now.After(cv.updatedAt) {
			cv.updatedAt = now
		}
		ev = activedemand.Event{Type: activedemand.EventMessageStatus, ContactID: idText(m.contactID), ConversationID: idText(m.convID), MessageID: idText(m.id), Status: m.status}
	case roll < 88:
		ct := contacts[rng.IntN(len(contacts))]
		ch := []activedemand.Channel{activedemand.ChannelSMS, activedemand.ChannelEmail, activedemand.ChannelCall, activedemand.ChannelChat}[rng.IntN(4)]
		subject := ""
		if ch == activedemand.ChannelEmail {
			subject = "Question about my project"
		}
		cv := s.st.newConversation(ct.id, ch, subject, now)
		ev = s.stepMessage(rng, cv, activedemand.Inbound, now)
	case roll < 94 && len(convs) > 0:
		cv := convs[rng.IntN(len(convs))]
		if cv.status == activedemand.StatusOpen {
			cv.status = activedemand.StatusClosed
		} else {
			cv.status = activedemand.StatusOpen
		}
		cv.updatedAt = now
		ev = activedemand.Event{Type: activedemand.EventConversationUpdated, ContactID: idText(cv.contactID), ConversationID: idText(cv.id)}
	default:
		p := newPeople[rng.IntN(len(newPeople))]
		n := s.st.contactSeq + 1
		ct := s.st.newContact(p[0], p[1], fmt.Sprintf("%s.%s%d@example.com", strings.ToLower(p[0]), strings.ToLower(p[1]), n), fmt.Sprintf("+1902555%04d", 5000+n%5000), nil, now)
		s.mu.Unlock()
		s.notify(activedemand.Event{Type: activedemand.EventContactCreated, ContactID: idText(ct.id)})
		s.mu.Lock()
		cv := s.st.newConversation(ct.id, activedemand.ChannelChat, "", now)
		ev = s.stepMessage(rng, cv, activedemand.Inbound, now)
	}
	s.mu.Unlock()
	if ev.Type != "" {
		s.notify(ev)
	}
}

// stepMessage adds a believable message to cv; s.mu is held.
func (s *Server) stepMessage(rng *rand.Rand, cv *conversation, dir activedemand.Direction, now time.Time) activedemand.Event {
	ct := s.st.contacts[cv.contactID]
	first := ""
	if ct != nil {
		first = ct.first
	}
	var body string
	var call *demobiz.Call
	if cv.channel == activedemand.ChannelCall {
		call = activityCall(rng, first)
		body = fmt.Sprintf("Call, %s", call.Duration.Round(time.Second))
	} else {
		lines := inboundLines[cv.channel]
		if dir == activedemand.Outbound {
			lines = outboundLines[cv.channel]
		}
		body = strings.ReplaceAll(lines[rng.IntN(len(lines))], "{first}", first)
	}
	if cv.status == activedemand.StatusClosed && dir == activedemand.Inbound {
		cv.status = activedemand.StatusOpen
	}
	m := s.st.appendMessage(cv, dir, now, body, cv.subject, "", call)
	return activedemand.Event{Type: activedemand.EventMessageCreated, ContactID: idText(m.contactID), ConversationID: idText(m.convID), MessageID: idText(m.id)}
}

// activityCall is a short call with a timed transcript, so its recording
// renders like the seeded ones.
func activityCall(rng *rand.Rand, first string) *demobiz.Call {
	script := []string{
		"Thanks for calling, how can I help?",
		"Hi, it's " + first + ", I wanted to confirm tomorrow's visit.",
		"Yes, we have you down for nine in the morning.",
		"Perfect, thank you.",
	}
	c := &demobiz.Call{Status: "completed"}
	at := 400 * time.Millisecond
	for i, line := range script {
		words := len(strings.Fields(line))
		s := demobiz.Sentence{Speaker: []string{"agent", "customer"}[i%2], Text: line, Start: at, End: at + time.Duration(words)*385*time.Millisecond, Confidence: 0.85 + float64(rng.IntN(12))/100}
		c.Sentences = append(c.Sentences, s)
		at = s.End + 400*time.Millisecond
	}
	c.Duration = at.Truncate(time.Second) + time.Second
	return c
}
