package adtest

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"parley/sync/activedemand"
	"parley/sync/internal/demobiz"
)

// Ids are numeric like ActiveDEMAND's and derived from the demo business
// keys, so both sandboxes (and a person reading a log) can tell which demo
// record an id is: contact c007 is 4100007, conversation v012 is 5200012
// and message v012-m03 is 6001200003.
const (
	contactBase      = 4_100_000
	conversationBase = 5_200_000
	messageBase      = 6_000_000_000
	messagesPerConv  = 100_000
	listBase         = 300
	formBase         = 10
	historyBase      = 7_000_000
	taskBase         = 8_000_000
	webhookBase      = 900
)

// ContactIDForKey returns the sandbox id of a demo contact key ("c007").
func ContactIDForKey(key string) (activedemand.ID, bool) {
	n, ok := keyNumber(key, "c")
	if !ok {
		return "", false
	}
	return idText(contactBase + n), true
}

// ConversationIDForKey returns the sandbox id of a demo conversation key
// ("v012").
func ConversationIDForKey(key string) (activedemand.ID, bool) {
	n, ok := keyNumber(key, "v")
	if !ok {
		return "", false
	}
	return idText(conversationBase + n), true
}

// MessageIDForKey returns the sandbox id of a demo message key
// ("v012-m03"). HighLevel's sandbox stores already-mirrored messages with
// this key as altId, so the mapping recognises them.
func MessageIDForKey(key string) (activedemand.ID, bool) {
	conv, msg, ok := strings.Cut(key, "-")
	if !ok {
		return "", false
	}
	c, ok1 := keyNumber(conv, "v")
	m, ok2 := keyNumber(msg, "m")
	if !ok1 || !ok2 || m >= messagesPerConv || c >= 90_000 {
		return "", false
	}
	return idText(messageBase + c*messagesPerConv + m), true
}

// MessageKeyForID is MessageIDForKey backwards.
func MessageKeyForID(id activedemand.ID) (string, bool) {
	n, err := strconv.ParseInt(string(id), 10, 64)
	if err != nil || n <= messageBase {
		return "", false
	}
	n -= messageBase
	c, m := n/messagesPerConv, n%messagesPerConv
	if c == 0 || m == 0 {
		return "", false
	}
	return messageKey(c, m), true
}

func messageKey(conv, msg int64) string { return fmt.Sprintf("v%03d-m%02d", conv, msg) }

func keyNumber(key, prefix string) (int64, bool) {
	s, ok := strings.CutPrefix(key, prefix)
	if !ok || s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

func idText(n int64) activedemand.ID { return activedemand.ID(strconv.FormatInt(n, 10)) }

func parseID(s activedemand.ID) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(s)), 10, 64)
	return n, err == nil && n > 0
}

// Custom field keys the sandbox uses for the demo business's extra data.
const (
	customCompany  = "custom_1"
	customCity     = "custom_2"
	customTags     = "custom_3"
	customSource   = "custom_4"
	customPassword = "custom_5"
)

type fieldDef struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Type   string `json:"type"`
	Custom bool   `json:"custom"`
}

var contactFieldDefs = []fieldDef{
	{"first_name", "First Name", "text", false},
	{"last_name", "Last Name", "text", false},
	{"emails.email_address", "Email Address", "email", false},
	{"phones.phone_number", "Phone Number", "phone", false},
	{customCompany, "Company", "text", true},
	{customCity, "City", "text", true},
	{customTags, "Tags", "text", true},
	{customSource, "Lead Source", "dropdown", true},
	{customPassword, "Portal Password", "password", true},
}

type contact struct {
	id                   int64
	key                  string
	first, last, email   string
	phone                string
	custom               map[string]string
	createdAt, updatedAt time.Time
	inGHL                bool
}

type conversation struct {
	id        int64
	num       int64
	key       string
	contactID int64
	channel   activedemand.Channel
	status    activedemand.ConversationStatus
	subject   string
	updatedAt time.Time
	msgs      []*message
	// unread and starred are the inbox marks SetConversationFlags sets.
	unread, starred bool
}

type message struct {
	id         int64
	num        int64
	key        string
	convID     int64
	contactID  int64
	channel    activedemand.Channel
	direction  activedemand.Direction
	senderName string
	senderMail string
	senderTel  string
	subject    string
	body       string
	sentAt     time.Time
	status     activedemand.MessageStatus
	attachment string
	call       *demobiz.Call
}

type historyEntry struct {
	id        int64
	contactID int64
	typ       string
	subject   string
	body      string
	at        time.Time
}

// Task is a task or alert raised through the tasks.create route.
type Task struct {
	ID        activedemand.ID
	ContactID activedemand.ID
	Title     string
	Body      string
	Priority  string
	Due       time.Time
}

// Subscription is a webhook subscription made through webhooks.subscribe.
type Subscription struct {
	ID    activedemand.ID
	URL   string
	Event activedemand.EventType
}

type contactList struct {
	id      int64
	name    string
	members []int64
}

type form struct {
	id     int64
	name   string
	fields []formField
}

type formField struct {
	Key      string `json:"key"`
	Label    string `json:"label"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
}

// Submission is one form submission received through forms.submit.
type Submission struct {
	FormID activedemand.ID
	Values url.Values
	At     time.Time
}

// state is everything the sandbox stores; Server.mu guards it.
type state struct {
	contacts    map[int64]*contact
	contactSeq  int64
	convs       map[int64]*conversation
	convSeq     int64
	msgs        map[int64]*message
	history     map[int64][]*historyEntry
	historySeq  int64
	tasks       []Task
	taskSeq     int64
	subs        []Subscription
	subSeq      int64
	lists       []*contactList
	forms       []*form
	submissions []Submission
	biz         demobiz.Business
}

func newState() *state {
	return &state{
		contacts: map[int64]*contact{},
		convs:    map[int64]*conversation{},
		msgs:     map[int64]*message{},
		history:  map[int64][]*historyEntry{},
		lists: []*contactList{
			{id: listBase + 1, name: "Newsletter"},
			{id: listBase + 2, name: "Customers"},
			{id: listBase + 3, name: "Leads"},
		},
		forms: []*form{
			{id: formBase + 1, name: "Contact us", fields: []formField{
				{"first_name", "First Name", "text", true}, {"last_name", "Last Name", "text", false},
				{"email_address", "Email", "email", true}, {"phone_number", "Phone", "phone", false},
				{"message", "How can we help?", "textarea", false}}},
			{id: formBase + 2, name: "Quote request", fields: []formField{
				{"first_name", "First Name", "text", true}, {"last_name", "Last Name", "text", true},
				{"email_address", "Email", "email", true}, {"phone_number", "Phone", "phone", true},
				{customCity, "City", "text", false}, {"project", "Project", "textarea", true}}},
		},
	}
}

// seed loads the demo business.
func (st *state) seed(biz demobiz.Business) {
	st.biz = biz
	for _, c := range biz.Contacts {
		n, _ := keyNumber(c.Key, "c")
		ct := &contact{
			id: contactBase + n, key: c.Key, first: c.FirstName, last: c.LastName, email: c.Email, phone: c.Phone,
			custom:    map[string]string{customCity: c.City, customSource: c.Source, customTags: strings.Join(c.Tags, ",")},
			createdAt: c.CreatedAt, updatedAt: c.CreatedAt, inGHL: c.InGHL,
		}
		if c.Company != "" {
			ct.custom[customCompany] = c.Company
		}
		st.contacts[ct.id] = ct
		st.contactSeq = max(st.contactSeq, n)
		for _, t := range c.Tags {
			switch t {
			case "newsletter":
				st.lists[0].members = append(st.lists[0].members, ct.id)
			case "customer", "vip":
				if !slices.Contains(st.lists[1].members, ct.id) {
					st.lists[1].members = append(st.lists[1].members, ct.id)
				}
			case "lead":
				st.lists[2].members = append(st.lists[2].members, ct.id)
			}
		}
	}
	for _, cv := range biz.Conversations {
		n, _ := keyNumber(cv.Key, "v")
		cn, _ := keyNumber(cv.ContactKey, "c")
		conv := &conversation{
			id: conversationBase + n, num: n, key: cv.Key, contactID: contactBase + cn,
			channel: activedemand.Channel(cv.Channel), status: activedemand.StatusClosed, subject: cv.Subject,
		}
		if cv.Open {
			conv.status = activedemand.StatusOpen
		}
		st.convs[conv.id] = conv
		st.convSeq = max(st.convSeq, n)
		for _, m := range cv.Messages {
			st.appendMessage(conv, activedemand.Direction(m.Direction), m.At, m.Body, cv.Subject, m.Attachment, m.Call)
		}
	}
}

// appendMessage adds a message to conv with the next number in it.
func (st *state) appendMessage(conv *conversation, dir activedemand.Direction, at time.Time, body, subject, attachment string, call *demobiz.Call) *message {
	num := int64(len(conv.msgs) + 1)
	m := &message{
		id: messageBase + conv.num*messagesPerConv + num, num: num, key: messageKey(conv.num, num),
		convID: conv.id, contactID: conv.contactID, channel: conv.channel, direction: dir,
		body: body, sentAt: at, attachment: attachment, call: call,
	}
	if conv.channel == activedemand.ChannelEmail {
		m.subject = subject
		if dir == activedemand.Inbound && subject != "" && !strings.HasPrefix(subject, "Re: ") {
			m.subject = "Re: " + subject
		}
	}
	ct := st.contacts[conv.contactID]
	switch {
	case dir == activedemand.Inbound && ct != nil:
		m.senderName = strings.TrimSpace(ct.first + " " + ct.last)
		m.senderMail, m.senderTel = senderAddress(conv.channel, ct.email, ct.phone)
	case dir == activedemand.Outbound:
		m.senderName = st.bizName()
		m.senderMail, m.senderTel = senderAddress(conv.channel, st.biz.Email, st.biz.Phone)
	}
	switch {
	case call != nil:
		m.status = activedemand.MessageStatus(call.Status)
	case dir == activedemand.Inbound:
		m.status = activedemand.MessageReceived
	default:
		m.status = activedemand.MessageDelivered
	}
	conv.msgs = append(conv.msgs, m)
	st.msgs[m.id] = m
	if at.After(conv.updatedAt) {
		conv.updatedAt = at
	}
	return m
}

func (st *state) bizName() string {
	if st.biz.Name == "" {
		return "ActiveDEMAND Sandbox"
	}
	return st.biz.Name
}

func senderAddress(ch activedemand.Channel, email, phone string) (string, string) {
	switch ch {
	case activedemand.ChannelEmail:
		return email, ""
	case activedemand.ChannelSMS, activedemand.ChannelCall:
		return "", phone
	}
	return "", ""
}

func (st *state) contactByEmail(email string) *contact {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil
	}
	for _, c := range st.contacts {
		if strings.EqualFold(c.email, email) {
			return c
		}
	}
	return nil
}

// newContact adds a contact with the next demo key.
func (st *state) newContact(first, last, email, phone string, custom map[string]string, now time.Time) *contact {
	now = now.Truncate(time.Second)
	st.contactSeq++
	c := &contact{
		id: contactBase + st.contactSeq, key: fmt.Sprintf("c%03d", st.contactSeq),
		first: first, last: last, email: email, phone: phone, custom: maps.Clone(custom),
		createdAt: now, updatedAt: now,
	}
	if c.custom == nil {
		c.custom = map[string]string{}
	}
	st.contacts[c.id] = c
	return c
}

// newConversation adds a conversation with the next demo key.
func (st *state) newConversation(contactID int64, ch activedemand.Channel, subject string, now time.Time) *conversation {
	st.convSeq++
	cv := &conversation{
		id: conversationBase + st.convSeq, num: st.convSeq, key: fmt.Sprintf("v%03d", st.convSeq),
		contactID: contactID, channel: ch, status: activedemand.StatusOpen, subject: subject, updatedAt: now,
	}
	st.convs[cv.id] = cv
	return cv
}

func sortedByID[T any](m map[int64]T) []T {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]T, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// The JSON shapes the sandbox sends. Contacts use AD's flat keys as seen in
// client code ("emails.email_address"); the assumed resources use the
// shapes assumed_http.go documents.

func (c *contact) json() map[string]any {
	o := map[string]any{
		"id":                   c.id,
		"first_name":           c.first,
		"last_name":            c.last,
		"emails.email_address": c.email,
		"phones.phone_number":  c.phone,
		"created_at":           c.createdAt.UTC().Format(time.RFC3339),
		"updated_at":           c.updatedAt.UTC().Format(time.RFC3339),
	}
	for k, v := range c.custom {
		o[k] = v
	}
	return o
}

func (c *contact) api() activedemand.Contact {
	out := activedemand.Contact{
		ID: idText(c.id), FirstName: c.first, LastName: c.last, Email: c.email, Phone: c.phone,
		CreatedAt: c.createdAt.UTC(), UpdatedAt: c.updatedAt.UTC(),
	}
	if c.email != "" {
		out.Emails = []string{c.email}
	}
	if c.phone != "" {
		out.Phones = []string{c.phone}
	}
	for k, v := range c.custom {
		if out.Custom == nil {
			out.Custom = map[string]string{}
		}
		out.Custom[k] = v
	}
	return out
}

type conversationJSON struct {
	ID        int64  `json:"id"`
	ContactID int64  `json:"contact_id"`
	Channel   string `json:"channel"`
	Status    string `json:"status"`
	Subject   string `json:"subject"`
	UpdatedAt string `json:"updated_at"`
	Unread    bool   `json:"unread"`
	Starred   bool   `json:"starred"`
}

func (cv *conversation) json() conversationJSON {
	return conversationJSON{ID: cv.id, ContactID: cv.contactID, Channel: string(cv.channel), Status: string(cv.status),
		Subject: cv.subject, UpdatedAt: cv.updatedAt.UTC().Format(time.RFC3339Nano), Unread: cv.unread, Starred: cv.starred}
}

func (cv *conversation) api() activedemand.Conversation {
	return activedemand.Conversation{ID: idText(cv.id), ContactID: idText(cv.contactID), Channel: cv.channel,
		Status: cv.status, Subject: cv.subject, UpdatedAt: cv.updatedAt.UTC(), Unread: cv.unread, Starred: cv.starred}
}

type attachmentJSON struct {
	URL         string `json:"url"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

type callJSON struct {
	Duration      float64 `json:"duration"`
	Status        string  `json:"status"`
	RecordingURL  string  `json:"recording_url,omitempty"`
	Transcription string  `json:"transcription,omitempty"`
}

type messageJSON struct {
	ID             int64            `json:"id"`
	ConversationID int64            `json:"conversation_id"`
	ContactID      int64            `json:"contact_id"`
	Channel        string           `json:"channel"`
	Direction      string           `json:"direction"`
	SenderName     string           `json:"sender_name,omitempty"`
	SenderEmail    string           `json:"sender_email,omitempty"`
	SenderPhone    string           `json:"sender_phone,omitempty"`
	Subject        string           `json:"subject,omitempty"`
	Body           string           `json:"body"`
	SentAt         string           `json:"sent_at"`
	Status         string           `json:"status"`
	Attachments    []attachmentJSON `json:"attachments,omitempty"`
	Call           *callJSON        `json:"call,omitempty"`
}

func recordingURL(base string, id int64) string {
	return fmt.Sprintf("%smedia/recordings/%d.wav", base, id)
}

func attachmentURL(base string, id int64, name string) string {
	return fmt.Sprintf("%smedia/files/%d/%s", base, id, url.PathEscape(name))
}

// transcript renders a call's sentences as text, one speaker line each.
func transcript(c *demobiz.Call) string {
	var b strings.Builder
	for _, s := range c.Sentences {
		speaker := "Agent"
		if s.Speaker == "customer" {
			speaker = "Customer"
		}
		fmt.Fprintf(&b, "%s: %s\n", speaker, s.Text)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (m *message) json(base string, sizes map[string]int64) messageJSON {
	j := messageJSON{
		ID: m.id, ConversationID: m.convID, ContactID: m.contactID, Channel: string(m.channel), Direction: string(m.direction),
		SenderName: m.senderName, SenderEmail: m.senderMail, SenderPhone: m.senderTel, Subject: m.subject, Body: m.body,
		SentAt: m.sentAt.UTC().Format(time.RFC3339Nano), Status: string(m.status),
	}
	if m.attachment != "" {
		j.Attachments = []attachmentJSON{{URL: attachmentURL(base, m.id, m.attachment), Name: m.attachment,
			ContentType: demobiz.Attachments[m.attachment], Size: sizes[m.attachment]}}
	}
	if m.call != nil {
		j.Call = &callJSON{Duration: m.call.Duration.Seconds(), Status: m.call.Status}
		if m.call.Duration > 0 {
			j.Call.RecordingURL = recordingURL(base, m.id)
		}
		if len(m.call.Sentences) > 0 {
			j.Call.Transcription = transcript(m.call)
		}
	}
	return j
}

func (m *message) api(base string, sizes map[string]int64) activedemand.Message {
	j := m.json(base, sizes)
	out := activedemand.Message{
		ID: idText(m.id), ConversationID: idText(m.convID), ContactID: idText(m.contactID), Channel: m.channel, Direction: m.direction,
		SenderName: m.senderName, SenderAddress: m.senderMail, SenderPhone: m.senderTel, Subject: m.subject, Body: m.body,
		SentAt: m.sentAt.UTC(), Status: m.status,
	}
	for _, a := range j.Attachments {
		out.Media = append(out.Media, activedemand.MediaRef{URL: a.URL, Name: a.Name, ContentType: a.ContentType, Size: a.Size})
	}
	if j.Call != nil {
		out.Call = &activedemand.CallData{Duration: m.call.Duration, Status: j.Call.Status, RecordingURL: j.Call.RecordingURL, Transcription: j.Call.Transcription}
	}
	return out
}

type historyJSON struct {
	ID          int64  `json:"id"`
	ContactID   int64  `json:"contact_id"`
	HistoryType string `json:"history_type"`
	Subject     string `json:"subject"`
	Description string `json:"description"`
	OccurredAt  string `json:"occurred_at"`
}

func (h *historyEntry) json() historyJSON {
	return historyJSON{ID: h.id, ContactID: h.contactID, HistoryType: h.typ, Subject: h.subject, Description: h.body, OccurredAt: h.at.UTC().Format(time.RFC3339)}
}

func (h *historyEntry) api() activedemand.HistoryEntry {
	return activedemand.HistoryEntry{ID: idText(h.id), ContactID: idText(h.contactID), Type: h.typ, Subject: h.subject, Body: h.body, At: h.at.UTC()}
}
