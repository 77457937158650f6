package ghltest

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"parley/sync/internal/demobiz"
)

// Contact is a contact of the sandbox location (GetContectByIdSchema's
// fields).
type Contact struct {
	ID          string   `json:"id"`
	LocationID  string   `json:"locationId"`
	FirstName   string   `json:"firstName,omitempty"`
	LastName    string   `json:"lastName,omitempty"`
	Email       string   `json:"email,omitempty"`
	Phone       string   `json:"phone,omitempty"` // E.164
	CompanyName string   `json:"companyName,omitempty"`
	City        string   `json:"city,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	AssignedTo  string   `json:"assignedTo,omitempty"` // a user id
	Source      string   `json:"source,omitempty"`
	Type        string   `json:"type,omitempty"` // "lead" or "customer"
	// CustomFields are in the order first set.
	CustomFields []CustomFieldValue `json:"customFields,omitempty"`
	DateAdded    time.Time          `json:"dateAdded"`
	DateUpdated  time.Time          `json:"dateUpdated"`
}

// CustomFieldValue is one custom field of a contact, as
// GetContectByIdSchema's CustomFieldSchema writes it.
type CustomFieldValue struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// Name is the contact's display name, as GHL derives it.
func (c Contact) Name() string {
	return strings.TrimSpace(c.FirstName + " " + c.LastName)
}

// Conversation is a conversation of the sandbox location (ConversationDto's
// fields). GHL keeps one conversation per contact.
type Conversation struct {
	ID                   string    `json:"id"`
	LocationID           string    `json:"locationId"`
	ContactID            string    `json:"contactId"`
	AssignedTo           string    `json:"assignedTo,omitempty"`
	LastMessageBody      string    `json:"lastMessageBody,omitempty"`
	LastMessageDate      time.Time `json:"lastMessageDate"`
	LastMessageType      string    `json:"lastMessageType,omitempty"`
	LastMessageDirection string    `json:"lastMessageDirection,omitempty"`
	Type                 string    `json:"type"` // "TYPE_PHONE" or "TYPE_EMAIL"
	UnreadCount          int       `json:"unreadCount"`
	Inbox                bool      `json:"inbox"`
	Starred              bool      `json:"starred"`
	Deleted              bool      `json:"deleted"`
	DateAdded            time.Time `json:"dateAdded"`
	DateUpdated          time.Time `json:"dateUpdated"`

	// sortKey is the search sort value (epoch ms of the last message),
	// unique in the location so startAfterDate paging never skips a
	// conversation that shares a millisecond with another.
	sortKey int64
}

// Message is a message of the sandbox location (GetMessageResponseDto's
// fields, plus altId and subject as the live API returns them).
type Message struct {
	ID                     string        `json:"id"`
	Type                   int           `json:"type"`
	MessageType            string        `json:"messageType"`
	LocationID             string        `json:"locationId"`
	ContactID              string        `json:"contactId"`
	ConversationID         string        `json:"conversationId"`
	DateAdded              time.Time     `json:"dateAdded"`
	Body                   string        `json:"body,omitempty"`
	Direction              string        `json:"direction"`
	Status                 string        `json:"status,omitempty"`
	ContentType            string        `json:"contentType"`
	Attachments            []string      `json:"attachments,omitempty"`
	Meta                   *MessageMeta  `json:"meta,omitempty"`
	Source                 string        `json:"source,omitempty"`
	UserID                 string        `json:"userId,omitempty"`
	ConversationProviderID string        `json:"conversationProviderId,omitempty"`
	AltID                  string        `json:"altId,omitempty"`
	Subject                string        `json:"subject,omitempty"`
	Error                  *MessageError `json:"error,omitempty"`

	// call holds the recording and transcript of a call message.
	call *demobiz.Call
	// scheduledAt is when a scheduled email goes out.
	scheduledAt time.Time
	// seq orders messages added in the same millisecond.
	seq int
}

// HasRecording reports whether GET .../recording serves a recording for the
// message.
func (m Message) HasRecording() bool { return m.call != nil && m.call.Duration > 0 }

// Call is the call behind a call message's recording and transcript, or nil.
func (m Message) Call() *demobiz.Call { return m.call }

// EmailMessageID is the id of an email message's email (meta.email.messageIds).
func (m Message) EmailMessageID() string {
	if m.Meta == nil || m.Meta.Email == nil || len(m.Meta.Email.MessageIDs) == 0 {
		return ""
	}
	return m.Meta.Email.MessageIDs[0]
}

// MessageMeta is MessageMeta: call details (callDuration is a string of
// seconds, as the spec types it) and the email ids of an email message.
type MessageMeta struct {
	CallDuration string     `json:"callDuration,omitempty"`
	CallStatus   string     `json:"callStatus,omitempty"`
	Email        *EmailMeta `json:"email,omitempty"`
}

// EmailMeta lists the emails behind an email message.
type EmailMeta struct {
	MessageIDs []string `json:"messageIds"`
}

// MessageError is the error a conversation provider reported with a failed
// status (ErrorDto).
type MessageError struct {
	Code    string `json:"code"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Upload is a file received by POST /conversations/messages/upload.
type Upload struct {
	Name, ContentType string
	Size              int64
	SHA256            string
	URL               string
}

// storedFile is a file the sandbox serves under filesPrefix: an upload, or a
// demo attachment rendered on demand.
type storedFile struct {
	name, contentType string
	data              []byte
	demo              bool // content is demobiz.AttachmentBytes(name)
}

// Message types by their numeric `type`: the order of the spec's
// messageType enum (TYPE_RCS, a late addition, last).
var messageTypeNames = [...]string{
	"TYPE_CALL", "TYPE_SMS", "TYPE_EMAIL", "TYPE_SMS_REVIEW_REQUEST", "TYPE_WEBCHAT", "TYPE_SMS_NO_SHOW_REQUEST",
	"TYPE_CAMPAIGN_SMS", "TYPE_CAMPAIGN_CALL", "TYPE_CAMPAIGN_EMAIL", "TYPE_CAMPAIGN_VOICEMAIL", "TYPE_FACEBOOK",
	"TYPE_CAMPAIGN_FACEBOOK", "TYPE_CAMPAIGN_MANUAL_CALL", "TYPE_CAMPAIGN_MANUAL_SMS", "TYPE_GMB", "TYPE_CAMPAIGN_GMB",
	"TYPE_REVIEW", "TYPE_INSTAGRAM", "TYPE_WHATSAPP", "TYPE_CUSTOM_SMS", "TYPE_CUSTOM_EMAIL", "TYPE_CUSTOM_PROVIDER_SMS",
	"TYPE_CUSTOM_PROVIDER_EMAIL", "TYPE_IVR_CALL", "TYPE_ACTIVITY_CONTACT", "TYPE_ACTIVITY_INVOICE", "TYPE_ACTIVITY_PAYMENT",
	"TYPE_ACTIVITY_OPPORTUNITY", "TYPE_LIVE_CHAT", "TYPE_LIVE_CHAT_INFO_MESSAGE", "TYPE_ACTIVITY_APPOINTMENT",
	"TYPE_FACEBOOK_COMMENT", "TYPE_INSTAGRAM_COMMENT", "TYPE_CUSTOM_CALL", "TYPE_INTERNAL_COMMENT",
	"TYPE_ACTIVITY_EMPLOYEE_ACTION_LOG", "TYPE_TIKTOK", "TYPE_TIKTOK_COMMENT", "TYPE_ACTIVITY_WHATSAPP",
	"TYPE_FORM_SUBMISSION", "TYPE_SMS_REACTION", "TYPE_RCS",
}

func messageTypeNumber(name string) int {
	for i, n := range messageTypeNames {
		if n == name {
			return i + 1
		}
	}
	return 0
}

// channelMessageType maps the `type` of a send or record body to the stored
// messageType. Custom (a custom conversation provider's own channel) is
// stored as TYPE_CUSTOM_SMS.
func channelMessageType(t string) string {
	switch t {
	case "SMS":
		return "TYPE_SMS"
	case "Email":
		return "TYPE_EMAIL"
	case "Call":
		return "TYPE_CALL"
	case "WhatsApp":
		return "TYPE_WHATSAPP"
	case "GMB":
		return "TYPE_GMB"
	case "IG":
		return "TYPE_INSTAGRAM"
	case "FB":
		return "TYPE_FACEBOOK"
	case "Custom":
		return "TYPE_CUSTOM_SMS"
	case "WebChat":
		return "TYPE_WEBCHAT"
	case "Live_Chat", "ALL_IN_ONE_CHAT":
		return "TYPE_LIVE_CHAT"
	case "IVR_Call":
		return "TYPE_IVR_CALL"
	case "Campaign_Call":
		return "TYPE_CAMPAIGN_CALL"
	case "Campaign_VoiceMail":
		return "TYPE_CAMPAIGN_VOICEMAIL"
	case "TIKTOK":
		return "TYPE_TIKTOK"
	case "RCS":
		return "TYPE_RCS"
	case "FORM_SUBMISSION":
		return "TYPE_FORM_SUBMISSION"
	}
	return "TYPE_SMS"
}

// Conversation types: search results name them, GET by id numbers them.
func conversationTypeNumber(t string) int {
	switch t {
	case "TYPE_EMAIL":
		return 2
	case "TYPE_FB_MESSENGER":
		return 3
	case "TYPE_REVIEW":
		return 4
	case "TYPE_GROUP_SMS":
		return 5
	}
	return 1 // TYPE_PHONE
}

// state is the location's data. Every access holds Server.mu.
type state struct {
	locationID, companyID string
	providerID            string // the location's custom conversation provider
	userID                string // the user who installed the app
	businessEmail         string // the location's sending address
	seedValue             uint64
	rng                   *rand.Rand
	seq                   int

	contacts      map[string]*Contact
	contactOrder  []string
	convs         map[string]*Conversation
	convByContact map[string]string
	convMsgs      map[string][]*Message // oldest first
	msgs          map[string]*Message
	emails        map[string]string // emailMessageId → message id
	sortKeys      map[int64]string  // conversation sort value → conversation id
	files         map[string]*storedFile
	uploads       []Upload
	notes         map[string][]*Note // contact id → notes, oldest first
	tokens        map[string]*tokenInfo
	codes         map[string]*codeInfo
	tasks         map[string][]*Task // contact id → tasks, oldest first

	contactByKey map[string]string // demobiz contact key → contact id
	messageByKey map[string]string // demobiz message key → message id

	// deliveries and records count the messages POST
	// /conversations/messages delivered and the records the record routes
	// created, since the sandbox started (seeded messages are neither).
	deliveries, records int
}

func newState(locationID, companyID string, seedValue uint64) *state {
	st := &state{
		locationID:    locationID,
		companyID:     companyID,
		seedValue:     seedValue,
		rng:           rand.New(rand.NewPCG(seedValue, seedValue^0x5DEECE66D)), // #nosec G404 -- seeded on purpose: the same seed must give the same sandbox
		contacts:      map[string]*Contact{},
		convs:         map[string]*Conversation{},
		convByContact: map[string]string{},
		convMsgs:      map[string][]*Message{},
		msgs:          map[string]*Message{},
		emails:        map[string]string{},
		sortKeys:      map[int64]string{},
		files:         map[string]*storedFile{},
		tokens:        map[string]*tokenInfo{},
		codes:         map[string]*codeInfo{},
		contactByKey:  map[string]string{},
		messageByKey:  map[string]string{},
	}
	st.providerID = st.keyID("provider", locationID)
	st.userID = st.keyID("user", locationID)
	st.businessEmail = "hello@harbourview.example"
	return st
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// keyID derives a GHL-looking id (20 alphanumerics) from a demo key, so the
// same seed always gives the same ids.
func (st *state) keyID(kind, key string) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d/%s/%s", st.seedValue, kind, key))
	var b [20]byte
	for i := range b {
		b[i] = idAlphabet[int(sum[i])%len(idAlphabet)]
	}
	return string(b[:])
}

// newID is a fresh id from the location's generator: deterministic for a
// seed and a sequence of operations.
func (st *state) newID() string {
	var b [20]byte
	for i := range b {
		b[i] = idAlphabet[st.rng.IntN(len(idAlphabet))]
	}
	return string(b[:])
}

func (st *state) traceID() string {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], st.rng.Uint64())
	binary.BigEndian.PutUint64(raw[8:], st.rng.Uint64())
	return fmt.Sprintf("%x-%x-%x-%x-%x", raw[0:4], raw[4:6], raw[6:8], raw[8:10], raw[10:16])
}

// ms truncates to GHL's precision, so stored times survive a JSON round trip.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func (st *state) addContact(c Contact) *Contact {
	if c.ID == "" {
		c.ID = st.newID()
	}
	c.LocationID = st.locationID
	c.Tags = slices.Clone(c.Tags)
	if c.DateAdded.IsZero() {
		c.DateAdded = c.DateUpdated
	}
	c.DateAdded, c.DateUpdated = ms(c.DateAdded), ms(c.DateUpdated)
	if c.DateUpdated.Before(c.DateAdded) {
		c.DateUpdated = c.DateAdded
	}
	if c.Type == "" {
		c.Type = "lead"
	}
	p := &c
	if _, ok := st.contacts[c.ID]; !ok {
		st.contactOrder = append(st.contactOrder, c.ID)
	}
	st.contacts[c.ID] = p
	return p
}

// addConversation creates the contact's conversation, or returns the one it
// already has (GHL keeps one per contact).
func (st *state) addConversation(c Conversation, now time.Time) (*Conversation, bool) {
	if id, ok := st.convByContact[c.ContactID]; ok {
		return st.convs[id], false
	}
	if c.ID == "" {
		c.ID = st.newID()
	}
	c.LocationID = st.locationID
	if c.Type == "" {
		c.Type = "TYPE_PHONE"
	}
	if c.DateAdded.IsZero() {
		c.DateAdded = now
	}
	c.DateAdded = ms(c.DateAdded)
	if c.DateUpdated.IsZero() {
		c.DateUpdated = c.DateAdded
	}
	c.DateUpdated = ms(c.DateUpdated)
	if c.LastMessageDate.IsZero() {
		c.LastMessageDate = c.DateAdded
	}
	c.LastMessageDate = ms(c.LastMessageDate)
	c.Inbox = true
	p := &c
	st.convs[c.ID] = p
	st.convByContact[c.ContactID] = c.ID
	st.resort(p)
	return p, true
}

// resort gives the conversation a sort value no other conversation has,
// as close after its last message's millisecond as possible.
func (st *state) resort(c *Conversation) {
	if st.sortKeys[c.sortKey] == c.ID {
		delete(st.sortKeys, c.sortKey)
	}
	k := c.LastMessageDate.UnixMilli()
	for {
		if other, taken := st.sortKeys[k]; !taken || other == c.ID {
			break
		}
		k++
	}
	c.sortKey = k
	st.sortKeys[k] = c.ID
}

func (st *state) deleteConversation(c *Conversation) {
	for _, m := range st.convMsgs[c.ID] {
		delete(st.msgs, m.ID)
		if id := m.EmailMessageID(); id != "" {
			delete(st.emails, id)
		}
	}
	delete(st.convMsgs, c.ID)
	delete(st.convs, c.ID)
	delete(st.convByContact, c.ContactID)
	if st.sortKeys[c.sortKey] == c.ID {
		delete(st.sortKeys, c.sortKey)
	}
}

// addMessage stores a message in its conversation (oldest first) and
// updates the conversation's last-message fields and unread count.
func (st *state) addMessage(c *Conversation, m *Message) *Message {
	if m.ID == "" {
		m.ID = st.newID()
	}
	m.LocationID, m.ConversationID, m.ContactID = st.locationID, c.ID, c.ContactID
	m.DateAdded = ms(m.DateAdded)
	m.Type = messageTypeNumber(m.MessageType)
	if m.ContentType == "" {
		m.ContentType = "text/plain"
	}
	st.seq++
	m.seq = st.seq
	list := st.convMsgs[c.ID]
	i, _ := slices.BinarySearchFunc(list, m, func(a, b *Message) int {
		if c := a.DateAdded.Compare(b.DateAdded); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	st.convMsgs[c.ID] = slices.Insert(list, i, m)
	st.msgs[m.ID] = m
	if id := m.EmailMessageID(); id != "" {
		st.emails[id] = m.ID
	}
	if m.Direction == "inbound" {
		c.UnreadCount++
	}
	st.refreshLast(c)
	return m
}

// refreshLast recomputes the conversation's last-message fields.
func (st *state) refreshLast(c *Conversation) {
	list := st.convMsgs[c.ID]
	if len(list) == 0 {
		c.LastMessageBody, c.LastMessageType, c.LastMessageDirection = "", "", ""
		c.LastMessageDate = c.DateAdded
	} else {
		last := list[len(list)-1]
		c.LastMessageBody, c.LastMessageType, c.LastMessageDirection = last.Body, last.MessageType, last.Direction
		c.LastMessageDate = last.DateAdded
		if last.DateAdded.After(c.DateUpdated) {
			c.DateUpdated = last.DateAdded
		}
	}
	st.resort(c)
}

// settle moves a scheduled email whose time has come to delivered.
func (st *state) settle(m *Message, now time.Time) {
	if m.Status == "scheduled" && !now.Before(m.scheduledAt) {
		m.Status = "delivered"
	}
}

// fileURL makes a served file's path absolute for one base URL.
func fileURL(base, p string) string {
	if strings.HasPrefix(p, filesPrefix) {
		return base + p
	}
	return p
}

// seed fills the location with the demo business: every contact HighLevel
// knows, and per contact one conversation holding the already mirrored
// messages of all its mirrored demo conversations, recorded through the
// location's custom conversation provider with altId = the demo message key.
func (st *state) seed(now time.Time) {
	b := demobiz.Seed(st.seedValue, now)
	st.businessEmail = b.Email
	for _, dc := range b.Contacts {
		if !dc.InGHL {
			continue
		}
		typ := "lead"
		if slices.Contains(dc.Tags, "customer") {
			typ = "customer"
		}
		c := st.addContact(Contact{
			ID:          st.keyID("contact", dc.Key),
			FirstName:   dc.FirstName,
			LastName:    dc.LastName,
			Email:       dc.Email,
			Phone:       dc.Phone,
			CompanyName: dc.Company,
			City:        dc.City,
			Tags:        dc.Tags,
			Source:      dc.Source,
			Type:        typ,
			DateAdded:   dc.CreatedAt,
			DateUpdated: dc.CreatedAt,
		})
		st.contactByKey[dc.Key] = c.ID
	}
	for _, dv := range b.Conversations {
		if !dv.Mirrored || dv.MirroredUpTo == 0 {
			continue
		}
		contactID, ok := st.contactByKey[dv.ContactKey]
		if !ok {
			continue
		}
		first := dv.Messages[0].At
		conv, created := st.addConversation(Conversation{
			ID:        st.keyID("conversation", dv.ContactKey),
			ContactID: contactID,
			DateAdded: first,
		}, now)
		if !created && first.Before(conv.DateAdded) {
			conv.DateAdded = ms(first)
		}
		for _, dm := range dv.Messages[:dv.MirroredUpTo] {
			m := st.demoMessage(dv, dm)
			st.addMessage(conv, m)
			st.messageByKey[dm.Key] = m.ID
		}
		// The demo conversation was read up to its last outbound message.
		conv.UnreadCount = 0
		list := st.convMsgs[conv.ID]
		for i := len(list) - 1; i >= 0 && list[i].Direction == "inbound"; i-- {
			conv.UnreadCount++
		}
	}
	// Conversations whose contact only ever emailed are email threads.
	for _, c := range st.convs {
		email := true
		for _, m := range st.convMsgs[c.ID] {
			email = email && m.MessageType == "TYPE_EMAIL"
		}
		if email && len(st.convMsgs[c.ID]) > 0 {
			c.Type = "TYPE_EMAIL"
		}
	}
}

func (st *state) demoMessage(dv demobiz.Conversation, dm demobiz.Message) *Message {
	m := &Message{
		ID:                     st.keyID("message", dm.Key),
		DateAdded:              dm.At,
		Body:                   dm.Body,
		Direction:              string(dm.Direction),
		Status:                 "delivered",
		Source:                 "api",
		ConversationProviderID: st.providerID,
		AltID:                  dm.Key,
	}
	switch dv.Channel {
	case demobiz.ChannelSMS:
		m.MessageType = "TYPE_SMS"
	case demobiz.ChannelEmail:
		m.MessageType = "TYPE_EMAIL"
		m.Subject = dv.Subject
		m.Meta = &MessageMeta{Email: &EmailMeta{MessageIDs: []string{st.keyID("email", dm.Key)}}}
	case demobiz.ChannelCall:
		m.MessageType = "TYPE_CALL"
		if dm.Call != nil {
			m.call = dm.Call
			m.Meta = &MessageMeta{CallDuration: fmt.Sprint(int(dm.Call.Duration / time.Second)), CallStatus: dm.Call.Status}
		}
	default:
		m.MessageType = "TYPE_CUSTOM_SMS"
	}
	if dm.Attachment != "" {
		p := filesPrefix + m.ID + "/" + dm.Attachment
		st.files[p] = &storedFile{name: dm.Attachment, contentType: demobiz.Attachments[dm.Attachment], demo: true}
		m.Attachments = []string{p}
	}
	return m
}
