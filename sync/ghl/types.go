package ghl

import (
	"strconv"
	"time"
)

// Version headers, one per spec file. HighLevel rejects a request without
// one; the live API also accepts the official SDK's 2023-02-21, but Parley
// sends the documented values.
const (
	versionConversations = "2021-04-15"
	versionContacts      = "2021-07-28"
)

// DefaultBaseURL is HighLevel's API base URL.
const DefaultBaseURL = "https://services.leadconnectorhq.com"

// Direction says who sent a message, seen from the business.
type Direction string

// Message directions.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// Channel is a message type as the send and record bodies name it ("SMS",
// "Email", "Call", ...).
type Channel string

// Channels used by the delivery and record calls. Not every channel is valid
// for every call: delivery accepts SMS, RCS, Email, WhatsApp, IG, FB, Custom,
// Live_Chat and TIKTOK; records also accept GMB, WebChat, Call and others;
// RecordCall is always Call.
const (
	ChannelSMS      Channel = "SMS"
	ChannelRCS      Channel = "RCS"
	ChannelEmail    Channel = "Email"
	ChannelWhatsApp Channel = "WhatsApp"
	ChannelGMB      Channel = "GMB"
	ChannelIG       Channel = "IG"
	ChannelFB       Channel = "FB"
	ChannelCustom   Channel = "Custom"
	ChannelWebChat  Channel = "WebChat"
	ChannelLiveChat Channel = "Live_Chat"
	ChannelCall     Channel = "Call"
	ChannelTikTok   Channel = "TIKTOK"
)

// MessageStatus is a message's delivery status. Reads use a 12-value enum,
// sends and status updates a 4-value subset (ERRATA 18); any value decodes.
type MessageStatus string

// Message statuses. Delivered, Failed, Pending and Read are the only ones
// UpdateMessageStatus and DeliverMessage accept.
const (
	StatusConnected   MessageStatus = "connected"
	StatusDelivered   MessageStatus = "delivered"
	StatusFailed      MessageStatus = "failed"
	StatusOpened      MessageStatus = "opened"
	StatusPending     MessageStatus = "pending"
	StatusRead        MessageStatus = "read"
	StatusScheduled   MessageStatus = "scheduled"
	StatusSent        MessageStatus = "sent"
	StatusUndelivered MessageStatus = "undelivered"
	StatusClicked     MessageStatus = "clicked"
	StatusOptOut      MessageStatus = "opt_out"
	StatusQueued      MessageStatus = "queued"
)

// CallStatus is a phone call's outcome.
type CallStatus string

// Call statuses, as CallDataDTO and MessageMeta name them.
const (
	CallPending   CallStatus = "pending"
	CallCompleted CallStatus = "completed"
	CallAnswered  CallStatus = "answered"
	CallBusy      CallStatus = "busy"
	CallNoAnswer  CallStatus = "no-answer"
	CallFailed    CallStatus = "failed"
	CallCanceled  CallStatus = "canceled"
	CallVoicemail CallStatus = "voicemail"
)

// ConversationType is a conversation's type. GET /conversations/{id} sends
// it as a number and search as a name such as "TYPE_PHONE" (ERRATA 18); a
// number is kept as its decimal text, see Code.
type ConversationType string

// Conversation types as search results name them.
const (
	ConversationPhone     ConversationType = "TYPE_PHONE"
	ConversationEmail     ConversationType = "TYPE_EMAIL"
	ConversationMessenger ConversationType = "TYPE_FB_MESSENGER"
	ConversationReview    ConversationType = "TYPE_REVIEW"
	ConversationGroupSMS  ConversationType = "TYPE_GROUP_SMS"
)

// Code returns the numeric type when HighLevel sent a number.
func (t ConversationType) Code() (int, bool) {
	n, err := strconv.Atoi(string(t))
	return n, err == nil
}

// Conversation is a HighLevel conversation: one thread with one contact.
// Search results and single reads carry different subsets of the fields.
type Conversation struct {
	ID                   string           `json:"id"`
	LocationID           string           `json:"locationId"`
	ContactID            string           `json:"contactId"`
	AssignedTo           string           `json:"assignedTo,omitempty"`
	UserID               string           `json:"userId,omitempty"`
	Type                 ConversationType `json:"type,omitempty"`
	LastMessageBody      string           `json:"lastMessageBody,omitempty"`
	LastMessageType      string           `json:"lastMessageType,omitempty"`
	LastMessageDirection Direction        `json:"lastMessageDirection,omitempty"`
	LastMessageDate      time.Time        `json:"lastMessageDate,omitzero"`
	UnreadCount          int              `json:"unreadCount"`
	Inbox                bool             `json:"inbox"`
	Starred              bool             `json:"starred"`
	Deleted              bool             `json:"deleted"`
	FullName             string           `json:"fullName,omitempty"`
	ContactName          string           `json:"contactName,omitempty"`
	Email                string           `json:"email,omitempty"`
	Phone                string           `json:"phone,omitempty"`
	DateAdded            time.Time        `json:"dateAdded,omitzero"`
	DateUpdated          time.Time        `json:"dateUpdated,omitzero"`
	// SortValue is what search sorted this conversation by (epoch
	// milliseconds of its last message): the paging cursor. Pass it as
	// SearchConversationsRequest.StartAfter to resume after this item.
	SortValue int64 `json:"sortValue,omitempty"`
}

// Message is one message, email or call in a conversation.
type Message struct {
	ID string `json:"id"`
	// Type is HighLevel's numeric message type (0 when not sent).
	Type int `json:"type"`
	// MessageType is the named type, e.g. "TYPE_SMS", "TYPE_CALL".
	MessageType            string        `json:"messageType"`
	LocationID             string        `json:"locationId"`
	ContactID              string        `json:"contactId"`
	ConversationID         string        `json:"conversationId"`
	DateAdded              time.Time     `json:"dateAdded,omitzero"`
	DateUpdated            time.Time     `json:"dateUpdated,omitzero"`
	Body                   string        `json:"body,omitempty"`
	Direction              Direction     `json:"direction"`
	Status                 MessageStatus `json:"status,omitempty"`
	ContentType            string        `json:"contentType,omitempty"`
	Attachments            []string      `json:"attachments,omitempty"`
	Meta                   MessageMeta   `json:"meta,omitzero"`
	Source                 string        `json:"source,omitempty"`
	UserID                 string        `json:"userId,omitempty"`
	ConversationProviderID string        `json:"conversationProviderId,omitempty"`
	ChatWidgetID           string        `json:"chatWidgetId,omitempty"`
	// AltID is the id the message was recorded with (for Parley, the
	// ActiveDEMAND message id). The spec's DTO does not list it; the live
	// API returns it.
	AltID string `json:"altId,omitempty"`
}

// MessageMeta is a message's metadata: call details and email thread ids.
type MessageMeta struct {
	// CallDuration is the call's length (sent as seconds, string or number).
	CallDuration time.Duration `json:"callDuration,omitempty"`
	CallStatus   CallStatus    `json:"callStatus,omitempty"`
	// EmailMessageIDs are the email message ids in the thread, for email
	// messages.
	EmailMessageIDs []string `json:"emailMessageIds,omitempty"`
}

// MessagePage is one page of a conversation's messages, newest first.
type MessagePage struct {
	Messages []Message
	// LastMessageID is the cursor for the next (older) page.
	LastMessageID string
	// NextPage says whether older messages exist.
	NextPage bool
}

// ConversationPage is one page of search results.
type ConversationPage struct {
	Conversations []Conversation
	// Total is how many conversations match the search in all.
	Total int
}

// Contact is a HighLevel contact (the fields Parley uses).
type Contact struct {
	ID          string    `json:"id"`
	LocationID  string    `json:"locationId,omitempty"`
	Name        string    `json:"name,omitempty"`
	FirstName   string    `json:"firstName,omitempty"`
	LastName    string    `json:"lastName,omitempty"`
	Email       string    `json:"email,omitempty"`
	Phone       string    `json:"phone,omitempty"`
	CompanyName string    `json:"companyName,omitempty"`
	Address1    string    `json:"address1,omitempty"`
	City        string    `json:"city,omitempty"`
	State       string    `json:"state,omitempty"`
	PostalCode  string    `json:"postalCode,omitempty"`
	Country     string    `json:"country,omitempty"`
	Timezone    string    `json:"timezone,omitempty"`
	Website     string    `json:"website,omitempty"`
	Source      string    `json:"source,omitempty"`
	Type        string    `json:"type,omitempty"`
	AssignedTo  string    `json:"assignedTo,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	DND         bool      `json:"dnd"`
	DateAdded   time.Time `json:"dateAdded,omitzero"`
	DateUpdated time.Time `json:"dateUpdated,omitzero"`
}

// TranscriptSentence is one sentence of a call's transcription.
type TranscriptSentence struct {
	// MediaChannel tells the call's sides apart (1 and 2).
	MediaChannel int
	// Index is the sentence's position in the transcription.
	Index int
	// Start and End are offsets into the recording.
	Start, End time.Duration
	Text       string
	// Confidence is the transcriber's confidence, 0 to 1.
	Confidence float64
}
