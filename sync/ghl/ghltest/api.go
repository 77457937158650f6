package ghltest

import (
	"slices"
	"sort"
	"time"

	"parley/sync/internal/demobiz"
)

// State accessors for tests and demo mode. They return copies and are safe
// for concurrent use with requests. Attachment URLs are absolute once the
// sandbox listens.

// LocationID is the sandbox location's id.
func (s *Server) LocationID() string { return s.opts.LocationID }

// ConversationProviderID is the custom conversation provider the location
// has configured: records (inbound/outbound) and Custom sends must name it.
func (s *Server) ConversationProviderID() string { return s.st.providerID }

// Conversation returns a conversation by id.
func (s *Server) Conversation(id string) (Conversation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.st.convs[id]
	if !ok {
		return Conversation{}, false
	}
	return *c, true
}

// ConversationForContact returns the contact's conversation (GHL keeps one
// per contact).
func (s *Server) ConversationForContact(contactID string) (Conversation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.st.convByContact[contactID]
	if !ok {
		return Conversation{}, false
	}
	return *s.st.convs[id], true
}

// Conversations lists every conversation, latest activity first (the order
// of GET /conversations/search).
func (s *Server) Conversations() []Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Conversation, 0, len(s.st.convs))
	for _, c := range s.st.convs {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].sortKey > out[j].sortKey })
	return out
}

// Messages lists a conversation's messages, oldest first.
func (s *Server) Messages(conversationID string) []Message {
	base := s.URL()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.st.convMsgs[conversationID]
	out := make([]Message, 0, len(list))
	for _, m := range list {
		s.st.settle(m, now)
		out = append(out, m.clone(base))
	}
	return out
}

// Message returns a message by id.
func (s *Server) Message(id string) (Message, bool) {
	base := s.URL()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.st.msgs[id]
	if !ok {
		return Message{}, false
	}
	s.st.settle(m, now)
	return m.clone(base), true
}

// MessageIDForKey is the id of the seeded message with the demobiz message
// key (its altId), for conversations Options.Seed mirrored.
func (s *Server) MessageIDForKey(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.st.messageByKey[key]
	return id, ok
}

// ContactIDForKey is the id of the seeded contact with the demobiz contact
// key.
func (s *Server) ContactIDForKey(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.st.contactByKey[key]
	return id, ok
}

// Contacts lists the location's contacts in creation order.
func (s *Server) Contacts() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Contact, 0, len(s.st.contactOrder))
	for _, id := range s.st.contactOrder {
		if c, ok := s.st.contacts[id]; ok {
			cp := *c
			cp.Tags = slices.Clone(c.Tags)
			cp.CustomFields = slices.Clone(c.CustomFields)
			out = append(out, cp)
		}
	}
	return out
}

// AddContact adds a contact to the location and returns it with its id (and
// dates, when unset) filled in.
func (s *Server) AddContact(c Contact) Contact {
	now := ms(s.now())
	if c.DateAdded.IsZero() {
		c.DateAdded = now
	}
	if c.DateUpdated.IsZero() {
		c.DateUpdated = c.DateAdded
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.addContact(c)
	cp := *p
	cp.Tags = slices.Clone(p.Tags)
	return cp
}

// AddConversation adds a conversation for c.ContactID and returns it with
// its id set. A contact has one conversation: if it already has one, that
// one is returned unchanged.
func (s *Server) AddConversation(c Conversation) Conversation {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	p, _ := s.st.addConversation(c, now)
	return *p
}

// AddCall adds a call message with a recording and transcript (served by
// the recording and transcription endpoints) to a conversation. direction
// is "inbound" or "outbound". It returns the zero Message if the
// conversation does not exist.
func (s *Server) AddCall(conversationID string, direction string, call *demobiz.Call, at time.Time) Message {
	base := s.URL()
	s.mu.Lock()
	defer s.mu.Unlock()
	conv, ok := s.st.convs[conversationID]
	if !ok {
		return Message{}
	}
	m := &Message{
		MessageType: "TYPE_CALL",
		DateAdded:   at,
		Direction:   direction,
		Status:      "delivered",
		Source:      "app",
	}
	if call != nil {
		m.call = call
		m.Meta = &MessageMeta{CallDuration: itoa(int(call.Duration / time.Second)), CallStatus: call.Status}
	}
	s.st.addMessage(conv, m)
	return m.clone(base)
}

// Uploads lists the files received by POST /conversations/messages/upload.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.uploads)
}

// clone copies a message for outside use, with absolute attachment URLs.
func (m *Message) clone(base string) Message {
	cp := *m
	cp.Attachments = nil
	for _, a := range m.Attachments {
		cp.Attachments = append(cp.Attachments, fileURL(base, a))
	}
	if m.Meta != nil {
		meta := *m.Meta
		if m.Meta.Email != nil {
			meta.Email = &EmailMeta{MessageIDs: slices.Clone(m.Meta.Email.MessageIDs)}
		}
		cp.Meta = &meta
	}
	if m.Error != nil {
		e := *m.Error
		cp.Error = &e
	}
	return cp
}
