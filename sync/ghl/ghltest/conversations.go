package ghltest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// handler returns the implementation of an operation, or nil for the ones
// the sandbox does not implement (answered 501).
func (s *Server) handler(key string) func(*reqCtx) {
	switch key {
	case "GET /conversations/search":
		return s.hSearchConversations
	case "GET /conversations/{conversationId}":
		return s.hGetConversation
	case "PUT /conversations/{conversationId}":
		return s.hUpdateConversation
	case "DELETE /conversations/{conversationId}":
		return s.hDeleteConversation
	case "POST /conversations/":
		return s.hCreateConversation
	case "GET /conversations/{conversationId}/messages":
		return s.hListMessages
	case "GET /conversations/messages/{id}":
		return s.hGetMessage
	case "GET /conversations/messages/email/{id}":
		return s.hGetEmail
	case "POST /conversations/messages":
		return s.hSendMessage
	case "POST /conversations/messages/inbound":
		return s.hRecordInbound
	case "POST /conversations/messages/outbound":
		return s.hRecordOutbound
	case "POST /conversations/messages/upload":
		return s.hUpload
	case "PUT /conversations/messages/{messageId}/status":
		return s.hUpdateStatus
	case "DELETE /conversations/messages/email/{emailMessageId}/schedule":
		return s.hCancelScheduledEmail
	case "GET /conversations/messages/{messageId}/locations/{locationId}/recording":
		return s.hRecording
	case "GET /conversations/locations/{locationId}/messages/{messageId}/transcription":
		return s.hTranscription
	case "GET /conversations/locations/{locationId}/messages/{messageId}/transcription/download":
		return s.hTranscriptionDownload
	case "GET /contacts/search/duplicate":
		return s.hDuplicateContact
	case "POST /contacts/upsert":
		return s.hUpsertContact
	case "GET /contacts/{contactId}":
		return s.hGetContact
	case "POST /contacts/":
		return s.hCreateContact
	case "POST /contacts/search":
		return s.hSearchContacts
	case "POST /contacts/{contactId}/tags", "DELETE /contacts/{contactId}/tags":
		return s.hContactTags
	case "GET /contacts/{contactId}/tasks":
		return s.hListTasks
	case "POST /contacts/{contactId}/tasks":
		return s.hCreateTask
	case "PUT /contacts/{contactId}":
		return s.hUpdateContact
	case "POST /contacts/{contactId}/notes":
		return s.hCreateNote
	case "GET /contacts/{contactId}/notes":
		return s.hListNotes
	case "POST /oauth/token":
		return s.hOAuthToken
	}
	return nil
}

// Helpers shared by the handlers.

// otherLocation answers 403 when the token belongs to another location than
// loc, as GHL does, and reports whether it did.
func otherLocation(c *reqCtx, loc string) bool {
	if loc == c.tok.locationID {
		return false
	}
	writeJSON(c.w, http.StatusForbidden, errorBody(http.StatusForbidden, msgWrongLoc))
	return true
}

func notFound(c *reqCtx, msg string) {
	writeJSON(c.w, http.StatusNotFound, errorBody(http.StatusNotFound, msg))
}

func badRequest(c *reqCtx, msg string) {
	writeJSON(c.w, http.StatusBadRequest, errorBody(http.StatusBadRequest, msg))
}

// decodeBody reads the validated JSON body into v. The validator has
// already checked it against the schema, so failing here means a type the
// schema allows but v cannot hold; it is answered like a validation error.
func decodeBody(c *reqCtx, v any) bool {
	if err := json.Unmarshal(c.body, v); err != nil {
		writeJSON(c.w, http.StatusUnprocessableEntity, apiError{StatusCode: http.StatusUnprocessableEntity, Message: []string{err.Error()}, Error: errorText(http.StatusUnprocessableEntity)})
		return false
	}
	return true
}

// baseURL is the sandbox's address as the client reached it, for the file
// URLs in answers.
func baseURL(r *http.Request) string { return "http://" + r.Host }

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func itoa(n int) string { return strconv.Itoa(n) }

// intParam reads a numeric query parameter (the spec types them `number`).
func intParam(r *http.Request, name string, def, lo, hi int) int {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return def
	}
	return min(max(int(f), lo), hi)
}

// Conversations.

// searchConversation is ConversationSchema, plus the fields the live API adds
// that clients page and sort with (epoch milliseconds).
type searchConversation struct {
	ID                   string  `json:"id"`
	ContactID            string  `json:"contactId"`
	LocationID           string  `json:"locationId"`
	LastMessageBody      string  `json:"lastMessageBody,omitempty"`
	LastMessageType      string  `json:"lastMessageType,omitempty"`
	LastMessageDirection string  `json:"lastMessageDirection,omitempty"`
	LastMessageDate      int64   `json:"lastMessageDate"`
	DateAdded            int64   `json:"dateAdded"`
	DateUpdated          int64   `json:"dateUpdated"`
	Type                 string  `json:"type"`
	UnreadCount          int     `json:"unreadCount"`
	FullName             string  `json:"fullName"`
	ContactName          string  `json:"contactName"`
	Email                string  `json:"email"`
	Phone                string  `json:"phone"`
	Starred              bool    `json:"starred"`
	Inbox                bool    `json:"inbox"`
	Sort                 []int64 `json:"sort"`
}

func (st *state) searchView(c *Conversation) searchConversation {
	v := searchConversation{
		ID: c.ID, ContactID: c.ContactID, LocationID: c.LocationID,
		LastMessageBody: c.LastMessageBody, LastMessageType: c.LastMessageType, LastMessageDirection: c.LastMessageDirection,
		LastMessageDate: c.sortKey, DateAdded: c.DateAdded.UnixMilli(), DateUpdated: c.DateUpdated.UnixMilli(),
		Type: c.Type, UnreadCount: c.UnreadCount, Starred: c.Starred, Inbox: c.Inbox,
		Sort: []int64{c.sortKey},
	}
	if ct := st.contacts[c.ContactID]; ct != nil {
		v.FullName, v.ContactName, v.Email, v.Phone = ct.Name(), ct.Name(), ct.Email, ct.Phone
	}
	return v
}

func (st *state) matchesQuery(c *Conversation, q string) bool {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return true
	}
	fields := []string{c.LastMessageBody}
	if ct := st.contacts[c.ContactID]; ct != nil {
		fields = append(fields, ct.Name(), ct.Email, ct.Phone, ct.CompanyName)
		if d := digits(q); d != "" && len(d) >= 3 && strings.Contains(digits(ct.Phone), d) {
			return true
		}
	}
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hSearchConversations is GET /conversations/search: filters, newest activity
// first (or oldest with sort=asc), paged by startAfterDate = the previous
// page's last sort value.
func (s *Server) hSearchConversations(c *reqCtx) {
	q := c.r.URL.Query()
	if otherLocation(c, q.Get("locationId")) {
		return
	}
	limit := intParam(c.r, "limit", 20, 1, 100)
	asc := q.Get("sort") == "asc"
	var after *int64
	if v := q.Get("startAfterDate"); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			n := int64(f)
			after = &n
		}
	}
	s.mu.Lock()
	var matched []*Conversation
	for _, cv := range s.st.convs {
		if id := q.Get("contactId"); id != "" && cv.ContactID != id {
			continue
		}
		if id := q.Get("id"); id != "" && cv.ID != id {
			continue
		}
		switch q.Get("status") {
		case "read":
			if cv.UnreadCount > 0 {
				continue
			}
		case "unread":
			if cv.UnreadCount == 0 {
				continue
			}
		case "starred":
			if !cv.Starred {
				continue
			}
		}
		if t := q.Get("lastMessageType"); t != "" && cv.LastMessageType != t {
			continue
		}
		if d := q.Get("lastMessageDirection"); d != "" && cv.LastMessageDirection != d {
			continue
		}
		if !s.st.matchesQuery(cv, q.Get("query")) {
			continue
		}
		matched = append(matched, cv)
	}
	sort.Slice(matched, func(i, j int) bool {
		if asc {
			return matched[i].sortKey < matched[j].sortKey
		}
		return matched[i].sortKey > matched[j].sortKey
	})
	total := len(matched)
	page := make([]searchConversation, 0, limit)
	for _, cv := range matched {
		if after != nil && ((!asc && cv.sortKey >= *after) || (asc && cv.sortKey <= *after)) {
			continue
		}
		if len(page) == limit {
			break
		}
		page = append(page, s.st.searchView(cv))
	}
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, struct {
		Conversations []searchConversation `json:"conversations"`
		Total         int                  `json:"total"`
	}{page, total})
}

// conversationByID is GetConversationByIdResponse (type is a number there),
// plus the last-message fields the live API adds.
type conversationByID struct {
	ID                   string `json:"id"`
	ContactID            string `json:"contactId"`
	LocationID           string `json:"locationId"`
	Deleted              bool   `json:"deleted"`
	Inbox                bool   `json:"inbox"`
	Type                 int    `json:"type"`
	UnreadCount          int    `json:"unreadCount"`
	AssignedTo           string `json:"assignedTo,omitempty"`
	Starred              bool   `json:"starred"`
	LastMessageBody      string `json:"lastMessageBody,omitempty"`
	LastMessageType      string `json:"lastMessageType,omitempty"`
	LastMessageDirection string `json:"lastMessageDirection,omitempty"`
	LastMessageDate      int64  `json:"lastMessageDate"`
	DateAdded            int64  `json:"dateAdded"`
	DateUpdated          int64  `json:"dateUpdated"`
	FullName             string `json:"fullName,omitempty"`
	Email                string `json:"email,omitempty"`
	Phone                string `json:"phone,omitempty"`
}

// conversationDTO is ConversationDto (dates as strings, as the spec types
// them there).
type conversationDTO struct {
	ID              string `json:"id"`
	LocationID      string `json:"locationId"`
	ContactID       string `json:"contactId"`
	AssignedTo      string `json:"assignedTo,omitempty"`
	LastMessageBody string `json:"lastMessageBody,omitempty"`
	LastMessageDate string `json:"lastMessageDate,omitempty"`
	LastMessageType string `json:"lastMessageType,omitempty"`
	UnreadCount     int    `json:"unreadCount"`
	Inbox           bool   `json:"inbox"`
	Starred         bool   `json:"starred"`
	Deleted         bool   `json:"deleted"`
}

// lookupConversation finds a path's conversation and checks its location;
// it answers 404/403 itself when it returns nil. Callers hold s.mu.
func (s *Server) lookupConversationLocked(c *reqCtx, id string) (*Conversation, func()) {
	cv := s.st.convs[id]
	if cv == nil {
		return nil, func() { notFound(c, "Conversation not found") }
	}
	if cv.LocationID != c.tok.locationID {
		return nil, func() { otherLocation(c, cv.LocationID) }
	}
	return cv, nil
}

func (s *Server) hGetConversation(c *reqCtx) {
	s.mu.Lock()
	cv, fail := s.lookupConversationLocked(c, c.pathParams["conversationId"])
	if cv == nil {
		s.mu.Unlock()
		fail()
		return
	}
	v := conversationByID{
		ID: cv.ID, ContactID: cv.ContactID, LocationID: cv.LocationID, Deleted: cv.Deleted, Inbox: cv.Inbox,
		Type: conversationTypeNumber(cv.Type), UnreadCount: cv.UnreadCount, AssignedTo: cv.AssignedTo, Starred: cv.Starred,
		LastMessageBody: cv.LastMessageBody, LastMessageType: cv.LastMessageType, LastMessageDirection: cv.LastMessageDirection,
		LastMessageDate: cv.LastMessageDate.UnixMilli(), DateAdded: cv.DateAdded.UnixMilli(), DateUpdated: cv.DateUpdated.UnixMilli(),
	}
	if ct := s.st.contacts[cv.ContactID]; ct != nil {
		v.FullName, v.Email, v.Phone = ct.Name(), ct.Email, ct.Phone
	}
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, v)
}

func (s *Server) hUpdateConversation(c *reqCtx) {
	var body struct {
		LocationID  string   `json:"locationId"`
		UnreadCount *float64 `json:"unreadCount"`
		Starred     *bool    `json:"starred"`
	}
	if !decodeBody(c, &body) || otherLocation(c, body.LocationID) {
		return
	}
	now := ms(s.now())
	s.mu.Lock()
	cv, fail := s.lookupConversationLocked(c, c.pathParams["conversationId"])
	if cv == nil {
		s.mu.Unlock()
		fail()
		return
	}
	if body.UnreadCount != nil {
		cv.UnreadCount = max(0, int(*body.UnreadCount))
	}
	if body.Starred != nil {
		cv.Starred = *body.Starred
	}
	cv.DateUpdated = now
	v := conversationDTO{
		ID: cv.ID, LocationID: cv.LocationID, ContactID: cv.ContactID, AssignedTo: cv.AssignedTo,
		LastMessageBody: cv.LastMessageBody, LastMessageDate: isoTime(cv.LastMessageDate), LastMessageType: cv.LastMessageType,
		UnreadCount: cv.UnreadCount, Inbox: cv.Inbox, Starred: cv.Starred, Deleted: cv.Deleted,
	}
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, struct {
		Success      bool            `json:"success"`
		Conversation conversationDTO `json:"conversation"`
	}{true, v})
}

func (s *Server) hDeleteConversation(c *reqCtx) {
	s.mu.Lock()
	cv, fail := s.lookupConversationLocked(c, c.pathParams["conversationId"])
	if cv == nil {
		s.mu.Unlock()
		fail()
		return
	}
	s.st.deleteConversation(cv)
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, struct {
		Success bool `json:"success"`
	}{true})
}

// createdConversation is ConversationCreateResponseDto.
type createdConversation struct {
	ID              string `json:"id"`
	DateUpdated     string `json:"dateUpdated"`
	DateAdded       string `json:"dateAdded"`
	Deleted         bool   `json:"deleted"`
	ContactID       string `json:"contactId"`
	LocationID      string `json:"locationId"`
	LastMessageDate string `json:"lastMessageDate"`
	AssignedTo      string `json:"assignedTo,omitempty"`
}

// hCreateConversation is POST /conversations/. GHL keeps one conversation per
// contact: a second create answers 400 with the existing conversation's id.
func (s *Server) hCreateConversation(c *reqCtx) {
	var body struct {
		LocationID string `json:"locationId"`
		ContactID  string `json:"contactId"`
	}
	if !decodeBody(c, &body) || otherLocation(c, body.LocationID) {
		return
	}
	now := s.now()
	s.mu.Lock()
	if s.st.contacts[body.ContactID] == nil {
		s.mu.Unlock()
		badRequest(c, "Contact not found")
		return
	}
	cv, created := s.st.addConversation(Conversation{ContactID: body.ContactID}, now)
	v := createdConversation{
		ID: cv.ID, DateUpdated: isoTime(cv.DateUpdated), DateAdded: isoTime(cv.DateAdded), Deleted: cv.Deleted,
		ContactID: cv.ContactID, LocationID: cv.LocationID, LastMessageDate: isoTime(cv.LastMessageDate), AssignedTo: cv.AssignedTo,
	}
	s.mu.Unlock()
	if !created {
		writeJSON(c.w, http.StatusBadRequest, struct {
			apiError
			ConversationID string `json:"conversationId"`
		}{errorBody(http.StatusBadRequest, "Conversation already exists"), v.ID})
		return
	}
	writeJSON(c.w, http.StatusCreated, struct {
		Success      bool                `json:"success"`
		Conversation createdConversation `json:"conversation"`
	}{true, v})
}

// Messages.

// typeFilter is the message list's `type` filter: a comma-separated list
// (ERRATA 16), TYPE_INTERNAL_COMMENTS meaning TYPE_INTERNAL_COMMENT.
func typeFilter(v string) map[string]bool {
	if v == "" {
		return nil
	}
	set := map[string]bool{}
	for _, t := range strings.Split(v, ",") {
		t = strings.TrimSpace(t)
		if t == "TYPE_INTERNAL_COMMENTS" {
			t = "TYPE_INTERNAL_COMMENT"
		}
		set[t] = true
	}
	return set
}

// messagePage is GetMessagesByConversationResponseDto.
type messagePage struct {
	LastMessageID string    `json:"lastMessageId"`
	NextPage      bool      `json:"nextPage"`
	Messages      []Message `json:"messages"`
}

// hListMessages is GET /conversations/{conversationId}/messages: newest first,
// paged by lastMessageId (the previous page's last id).
func (s *Server) hListMessages(c *reqCtx) {
	limit := intParam(c.r, "limit", 20, 1, 100)
	q := c.r.URL.Query()
	types := typeFilter(q.Get("type"))
	cursor := q.Get("lastMessageId")
	base := baseURL(c.r)
	now := s.now()
	s.mu.Lock()
	cv, fail := s.lookupConversationLocked(c, c.pathParams["conversationId"])
	if cv == nil {
		s.mu.Unlock()
		fail()
		return
	}
	list := s.st.convMsgs[cv.ID]
	start := len(list) - 1
	if cursor != "" {
		start = -2
		for i, m := range list {
			if m.ID == cursor {
				start = i - 1
				break
			}
		}
		if start == -2 {
			s.mu.Unlock()
			badRequest(c, "lastMessageId is not a message of this conversation")
			return
		}
	}
	page := messagePage{Messages: make([]Message, 0, limit)}
	for i := start; i >= 0; i-- {
		m := list[i]
		if types != nil && !types[m.MessageType] {
			continue
		}
		if len(page.Messages) == limit {
			page.NextPage = true
			break
		}
		s.st.settle(m, now)
		page.Messages = append(page.Messages, m.clone(base))
		page.LastMessageID = m.ID
	}
	trace := s.st.traceID()
	s.mu.Unlock()
	if s.opts.SpecShapes {
		writeJSON(c.w, http.StatusOK, page)
		return
	}
	writeJSON(c.w, http.StatusOK, struct {
		Messages messagePage `json:"messages"`
		TraceID  string      `json:"traceId"`
	}{page, trace})
}

// lookupMessageLocked finds a message by id and checks its location; like
// lookupConversationLocked.
func (s *Server) lookupMessageLocked(c *reqCtx, id string) (*Message, func()) {
	m := s.st.msgs[id]
	if m == nil {
		return nil, func() { notFound(c, "Message not found") }
	}
	if m.LocationID != c.tok.locationID {
		return nil, func() { otherLocation(c, m.LocationID) }
	}
	return m, nil
}

func (s *Server) hGetMessage(c *reqCtx) {
	base := baseURL(c.r)
	now := s.now()
	s.mu.Lock()
	m, fail := s.lookupMessageLocked(c, c.pathParams["id"])
	if m == nil {
		s.mu.Unlock()
		fail()
		return
	}
	s.st.settle(m, now)
	v := m.clone(base)
	trace := s.st.traceID()
	s.mu.Unlock()
	if s.opts.SpecShapes {
		writeJSON(c.w, http.StatusOK, v)
		return
	}
	writeJSON(c.w, http.StatusOK, struct {
		Message Message `json:"message"`
		TraceID string  `json:"traceId"`
	}{v, trace})
}

// emailMessage is GetEmailMessageResponseDto.
type emailMessage struct {
	ID                     string   `json:"id"`
	AltID                  string   `json:"altId,omitempty"`
	ThreadID               string   `json:"threadId"`
	LocationID             string   `json:"locationId"`
	ContactID              string   `json:"contactId"`
	ConversationID         string   `json:"conversationId"`
	DateAdded              string   `json:"dateAdded"`
	Subject                string   `json:"subject,omitempty"`
	Body                   string   `json:"body"`
	Direction              string   `json:"direction"`
	Status                 string   `json:"status,omitempty"`
	ContentType            string   `json:"contentType"`
	Attachments            []string `json:"attachments,omitempty"`
	Provider               string   `json:"provider"`
	From                   string   `json:"from"`
	To                     []string `json:"to"`
	Source                 string   `json:"source,omitempty"`
	ConversationProviderID string   `json:"conversationProviderId,omitempty"`
}

// emailStatus maps a message status onto the email DTO's narrower enum.
func emailStatus(s string) string {
	switch s {
	case "pending", "scheduled", "sent", "delivered", "read", "undelivered", "connected", "failed", "opened":
		return s
	case "queued":
		return "pending"
	case "clicked":
		return "opened"
	}
	return "delivered"
}

func (s *Server) hGetEmail(c *reqCtx) {
	base := baseURL(c.r)
	now := s.now()
	s.mu.Lock()
	mid, ok := s.st.emails[c.pathParams["id"]]
	if !ok {
		s.mu.Unlock()
		notFound(c, "Email not found")
		return
	}
	m, fail := s.lookupMessageLocked(c, mid)
	if m == nil {
		s.mu.Unlock()
		fail()
		return
	}
	s.st.settle(m, now)
	business, customer := s.st.businessEmail, ""
	if ct := s.st.contacts[m.ContactID]; ct != nil {
		customer = ct.Email
	}
	from, to := business, customer
	if m.Direction == "inbound" {
		from, to = customer, business
	}
	cp := m.clone(base)
	v := emailMessage{
		ID: c.pathParams["id"], AltID: m.AltID, ThreadID: c.pathParams["id"], LocationID: m.LocationID, ContactID: m.ContactID,
		ConversationID: m.ConversationID, DateAdded: isoTime(m.DateAdded), Subject: m.Subject, Body: m.Body, Direction: m.Direction,
		Status: emailStatus(m.Status), ContentType: m.ContentType, Attachments: cp.Attachments, Provider: "Leadconnector Email",
		From: from, To: []string{to}, Source: m.Source, ConversationProviderID: m.ConversationProviderID,
	}
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, v)
}

// sendBody is SendMessageBodyDto (the fields the sandbox acts on).
type sendBody struct {
	Type                   string   `json:"type"`
	ContactID              string   `json:"contactId"`
	Attachments            []string `json:"attachments"`
	HTML                   string   `json:"html"`
	Message                string   `json:"message"`
	Subject                string   `json:"subject"`
	EmailTo                string   `json:"emailTo"`
	ScheduledTimestamp     *float64 `json:"scheduledTimestamp"`
	ConversationProviderID string   `json:"conversationProviderId"`
	ToNumber               string   `json:"toNumber"`
}

// sendResponse is SendMessageResponseDto.
type sendResponse struct {
	ConversationID string `json:"conversationId"`
	MessageID      string `json:"messageId"`
	EmailMessageID string `json:"emailMessageId,omitempty"`
	Msg            string `json:"msg,omitempty"`
	Status         string `json:"status"`
}

// hSendMessage is POST /conversations/messages: GHL delivers the message to
// the customer. It creates the contact's conversation if there is none.
func (s *Server) hSendMessage(c *reqCtx) {
	var body sendBody
	if !decodeBody(c, &body) {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ct := s.st.contacts[body.ContactID]
	if ct == nil {
		badRequest(c, "Contact not found")
		return
	}
	if otherLocation(c, ct.LocationID) {
		return
	}
	m := &Message{
		MessageType: channelMessageType(body.Type),
		DateAdded:   now,
		Body:        body.Message,
		Direction:   "outbound",
		Status:      "delivered",
		Source:      "api",
		UserID:      s.st.userID,
		Attachments: body.Attachments,
	}
	reply := sendResponse{Msg: "Message queued successfully.", Status: "delivered"}
	switch body.Type {
	case "SMS", "WhatsApp", "RCS":
		if ct.Phone == "" && body.ToNumber == "" {
			badRequest(c, "The contact has no phone number; add one before sending "+body.Type+".")
			return
		}
		if body.Message == "" && len(body.Attachments) == 0 {
			badRequest(c, "message or attachments is required")
			return
		}
	case "Email":
		if ct.Email == "" && body.EmailTo == "" {
			badRequest(c, "The contact has no email address; add one or send emailTo.")
			return
		}
		if body.HTML == "" && body.Message == "" && len(body.Attachments) == 0 {
			badRequest(c, "html or message is required for an email")
			return
		}
		if body.HTML != "" {
			m.Body, m.ContentType = body.HTML, "text/html"
		}
		m.Subject = body.Subject
		reply.EmailMessageID = s.st.newID()
		m.Meta = &MessageMeta{Email: &EmailMeta{MessageIDs: []string{reply.EmailMessageID}}}
		if body.ScheduledTimestamp != nil {
			// scheduledTimestamp is in seconds.
			at := time.Unix(int64(*body.ScheduledTimestamp), 0)
			if at.After(now) {
				m.Status, m.scheduledAt = "scheduled", at
				reply.Status, reply.Msg = "pending", "Email scheduled successfully."
			}
		}
	case "Custom":
		if body.ConversationProviderID != s.st.providerID {
			badRequest(c, "conversationProviderId is not a conversation provider of this location")
			return
		}
		// The custom provider delivers it and reports back through
		// PUT /conversations/messages/{messageId}/status.
		m.ConversationProviderID = s.st.providerID
		m.Status, reply.Status = "pending", "pending"
	}
	cv, _ := s.st.addConversation(Conversation{ContactID: ct.ID}, now)
	s.st.addMessage(cv, m)
	s.st.deliveries++
	reply.ConversationID, reply.MessageID = cv.ID, m.ID
	writeJSON(c.w, http.StatusOK, reply)
}

// callData is CallDataDTO.
type callData struct {
	To     string `json:"to"`
	From   string `json:"from"`
	Status string `json:"status"`
}

// recordBody is ProcessMessageBodyDto / ProcessOutboundMessageBodyDto.
type recordBody struct {
	Type                   string    `json:"type"`
	Attachments            []string  `json:"attachments"`
	Message                string    `json:"message"`
	ConversationID         string    `json:"conversationId"`
	ContactID              string    `json:"contactId"`
	ConversationProviderID string    `json:"conversationProviderId"`
	HTML                   string    `json:"html"`
	Subject                string    `json:"subject"`
	EmailMessageID         string    `json:"emailMessageId"`
	AltID                  string    `json:"altId"`
	Direction              string    `json:"direction"`
	Date                   string    `json:"date"`
	Call                   *callData `json:"call"`
}

// recordResponse is ProcessMessageResponseDto.
type recordResponse struct {
	Success        bool   `json:"success"`
	ConversationID string `json:"conversationId"`
	MessageID      string `json:"messageId"`
	Message        string `json:"message"`
	ContactID      string `json:"contactId,omitempty"`
	DateAdded      string `json:"dateAdded,omitempty"`
	EmailMessageID string `json:"emailMessageId,omitempty"`
}

// hRecordInbound is POST /conversations/messages/inbound: it records a
// message delivered elsewhere (either direction). Nothing de-duplicates by
// altId (ERRATA 19): posting twice records twice.
func (s *Server) hRecordInbound(c *reqCtx) {
	var body recordBody
	if !decodeBody(c, &body) {
		return
	}
	if body.Direction == "" {
		body.Direction = "outbound" // the spec's default
	}
	s.record(c, body)
}

// hRecordOutbound is POST /conversations/messages/outbound: an external call
// record (type Call only, ERRATA 14).
func (s *Server) hRecordOutbound(c *reqCtx) {
	var body recordBody
	if !decodeBody(c, &body) {
		return
	}
	body.Direction = "outbound"
	s.record(c, body)
}

func (s *Server) record(c *reqCtx, body recordBody) {
	now := s.now()
	at := now
	if body.Date != "" {
		t, err := time.Parse(time.RFC3339Nano, body.Date)
		if err != nil {
			badRequest(c, "date must be an ISO 8601 date-time")
			return
		}
		at = t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if body.ConversationProviderID != s.st.providerID {
		if body.Type == "Custom" && c.key == "POST /conversations/messages/inbound" {
			// ERRATA 20: the live API has been reported to answer an empty
			// 201 and record nothing when a Custom record names no valid
			// provider.
			c.w.WriteHeader(http.StatusCreated)
			return
		}
		badRequest(c, "Conversation provider not found: conversationProviderId must be this location's provider")
		return
	}
	cv := s.st.convs[body.ConversationID]
	if cv == nil {
		badRequest(c, "Conversation not found")
		return
	}
	if otherLocation(c, cv.LocationID) {
		return
	}
	if body.ContactID != "" && body.ContactID != cv.ContactID {
		badRequest(c, "contactId is not the contact of this conversation")
		return
	}
	m := &Message{
		MessageType:            channelMessageType(body.Type),
		DateAdded:              at,
		Body:                   body.Message,
		Direction:              body.Direction,
		Status:                 "delivered",
		Source:                 "api",
		ConversationProviderID: s.st.providerID,
		AltID:                  body.AltID,
		Attachments:            body.Attachments,
	}
	reply := recordResponse{Success: true, Message: "Message added successfully"}
	if body.Type == "Email" {
		if body.HTML != "" {
			m.Body, m.ContentType = body.HTML, "text/html"
		}
		m.Subject = body.Subject
		id := body.EmailMessageID
		if id == "" {
			id = s.st.newID()
		}
		m.Meta = &MessageMeta{Email: &EmailMeta{MessageIDs: []string{id}}}
		reply.EmailMessageID = id
	}
	if body.Call != nil {
		m.Meta = &MessageMeta{CallStatus: body.Call.Status}
	}
	s.st.recordedCall(m, body.Type, body.Call)
	s.st.addMessage(cv, m)
	s.st.records++
	reply.ConversationID, reply.MessageID, reply.ContactID, reply.DateAdded = cv.ID, m.ID, cv.ContactID, isoTime(m.DateAdded)
	writeJSON(c.w, s.opts.RecordStatus, reply)
}

// hUpdateStatus is PUT /conversations/messages/{messageId}/status: a custom
// provider reports delivery. Only messages of the location's provider can
// be updated.
func (s *Server) hUpdateStatus(c *reqCtx) {
	var body struct {
		Status         string        `json:"status"`
		Error          *MessageError `json:"error"`
		EmailMessageID string        `json:"emailMessageId"`
	}
	if !decodeBody(c, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, fail := s.lookupMessageLocked(c, c.pathParams["messageId"])
	if m == nil {
		fail()
		return
	}
	if m.ConversationProviderID != s.st.providerID {
		writeJSON(c.w, http.StatusForbidden, errorBody(http.StatusForbidden, "Only the conversation provider that sent a message can update its status; this message is not from this location's provider."))
		return
	}
	m.Status = body.Status
	m.Error = nil
	if body.Status == "failed" && body.Error != nil {
		e := *body.Error
		m.Error = &e
	}
	writeJSON(c.w, http.StatusOK, sendResponse{ConversationID: m.ConversationID, MessageID: m.ID, EmailMessageID: m.EmailMessageID(), Status: body.Status})
}

// hCancelScheduledEmail is DELETE
// /conversations/messages/email/{emailMessageId}/schedule. A cancelled email
// stays in the conversation as failed, with the reason in its error.
func (s *Server) hCancelScheduledEmail(c *reqCtx) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	mid, ok := s.st.emails[c.pathParams["emailMessageId"]]
	if !ok {
		notFound(c, "Email not found")
		return
	}
	m, fail := s.lookupMessageLocked(c, mid)
	if m == nil {
		fail()
		return
	}
	s.st.settle(m, now)
	if m.Status != "scheduled" {
		badRequest(c, "The email is not scheduled (it was sent or already cancelled).")
		return
	}
	m.Status = "failed"
	m.Error = &MessageError{Code: "cancelled", Type: "scheduled_email", Message: "The scheduled email was cancelled."}
	writeJSON(c.w, http.StatusOK, struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	}{http.StatusOK, "Scheduled email cancelled successfully"})
}
