package activedemand

// ASSUMED LAYER. ActiveDEMAND does not publicly document conversations,
// messages, histories, tasks, webhooks or paging. Parley needs them, so
// they are defined here as one small interface, Conversations, with two
// implementations: the HTTP one in assumed_http.go, which takes every
// path, method, parameter name and paging scheme from the route table
// (routes.go, overridable from a routes file without rebuilding), and the
// one over an imported export file (import.go). When the real API is
// known, correct the routes file; if the reply shapes differ too, only
// assumed_http.go's decoders change.

import (
	"context"
	"io"
	"iter"
	"time"
)

// Channel is how a conversation reaches the contact.
type Channel string

// Channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
	ChannelCall  Channel = "call"
	ChannelChat  Channel = "chat"
)

// Valid reports whether ch is one of the four channels.
func (ch Channel) Valid() bool {
	switch ch {
	case ChannelSMS, ChannelEmail, ChannelCall, ChannelChat:
		return true
	}
	return false
}

// ConversationStatus is open or closed.
type ConversationStatus string

// Conversation statuses.
const (
	StatusOpen   ConversationStatus = "open"
	StatusClosed ConversationStatus = "closed"
)

// Direction says who sent a message, seen from the business.
type Direction string

// Directions.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// MessageStatus is a message's delivery state. ActiveDEMAND's own values
// are unknown; these are the ones Parley sends and the sandbox uses, and
// any other value read from AD is kept as is.
type MessageStatus string

// Message statuses.
const (
	MessagePending   MessageStatus = "pending"
	MessageSent      MessageStatus = "sent"
	MessageDelivered MessageStatus = "delivered"
	MessageRead      MessageStatus = "read"
	MessageFailed    MessageStatus = "failed"
	MessageReceived  MessageStatus = "received"
	MessageCompleted MessageStatus = "completed"
)

// Conversation is one thread with a contact on one channel.
type Conversation struct {
	ID        ID
	ContactID ID
	Channel   Channel
	Status    ConversationStatus
	// Subject is set for email threads.
	Subject   string
	UpdatedAt time.Time
	// Unread and Starred are how the thread is marked in ActiveDEMAND's
	// inbox (assumed fields; false when AD does not send them).
	Unread, Starred bool
}

// Message is one message, email or call in a conversation.
type Message struct {
	ID             ID
	ConversationID ID
	ContactID      ID
	Channel        Channel
	Direction      Direction
	// Sender: name, email address and phone, whichever apply.
	SenderName, SenderAddress, SenderPhone string
	Subject                                string
	Body                                   string
	SentAt                                 time.Time
	Status                                 MessageStatus
	// Media are attachments; download them with DownloadMedia.
	Media []MediaRef
	// Call is set for calls.
	Call *CallData
}

// MediaRef points at a file attached to a message.
type MediaRef struct {
	URL         string
	Name        string
	ContentType string
	// Size in bytes; 0 when unknown.
	Size int64
}

// CallData describes a phone call.
type CallData struct {
	Duration time.Duration
	// Status: completed, no-answer, voicemail, busy, failed...
	Status string
	// RecordingURL is empty when there is no recording.
	RecordingURL string
	// Transcription is the transcript text when AD has one.
	Transcription string
}

// HistoryEntry is one item of a contact's ActiveDEMAND history (timeline).
type HistoryEntry struct {
	ID        ID
	ContactID ID
	// Type is AD's history type (e.g. "note", "email_sent", "form_submit").
	Type    string
	Subject string
	Body    string
	At      time.Time
}

// NewHistoryEntry is a history entry to create.
type NewHistoryEntry struct {
	ContactID ID
	Type      string
	Subject   string
	Body      string
	// At defaults to now.
	At time.Time
}

// NewTask is an alert or task to raise in ActiveDEMAND for a person to
// act on (e.g. "a message could not be mirrored").
type NewTask struct {
	// ContactID may be empty for an account-wide task.
	ContactID ID
	Title     string
	Body      string
	// Due is optional.
	Due time.Time
	// Priority: low, normal or high; empty is normal.
	Priority string
}

// EventType names a webhook event.
type EventType string

// Webhook events. contact.created and contact.updated correspond to the
// "Watch New Contacts" / "Watch Updated Contacts" triggers integrators
// offer; the names and the message events are assumed.
const (
	EventContactCreated      EventType = "contact.created"
	EventContactUpdated      EventType = "contact.updated"
	EventMessageCreated      EventType = "message.created"
	EventMessageStatus       EventType = "message.status_changed"
	EventConversationUpdated EventType = "conversation.updated"
)

// Cursor marks how far a listing of changed conversations has read. It is
// a timestamp (RFC 3339): everything updated at or after it is listed
// again, so callers treat items idempotently. Empty means from the start.
type Cursor string

// CursorAt returns the cursor for a time.
func CursorAt(t time.Time) Cursor {
	if t.IsZero() {
		return ""
	}
	return Cursor(t.UTC().Format(time.RFC3339Nano))
}

// Time returns the cursor's time; zero for the empty cursor.
func (c Cursor) Time() (time.Time, error) {
	if c == "" {
		return time.Time{}, nil
	}
	return parseTime(string(c))
}

// Conversations is the replaceable interface to what ActiveDEMAND does not
// document publicly. The sync engine uses only this; the HTTP client and
// an imported export file both implement it.
type Conversations interface {
	// ChangedConversations lists conversations updated at or after since,
	// oldest first, one page at a time. The returned cursor is where the
	// next run starts once this page has been handled.
	ChangedConversations(ctx context.Context, since Cursor, page PageToken) (Page[Conversation], Cursor, error)
	// Messages lists a conversation's messages, oldest first, with their
	// media references.
	Messages(ctx context.Context, conversationID ID, page PageToken) (Page[Message], error)
	// DownloadMedia streams a media or recording URL to w and returns the
	// byte count.
	DownloadMedia(ctx context.Context, mediaURL string, w io.Writer) (int64, error)
	// SetMessageStatus reports a message's new status to ActiveDEMAND.
	SetMessageStatus(ctx context.Context, messageID ID, status MessageStatus) error
	// History lists a contact's history entries, oldest first.
	History(ctx context.Context, contactID ID, page PageToken) (Page[HistoryEntry], error)
	// AddHistory creates a history entry and returns its id.
	AddHistory(ctx context.Context, e NewHistoryEntry) (ID, error)
	// RaiseTask creates an alert/task and returns its id.
	RaiseTask(ctx context.Context, t NewTask) (ID, error)
	// SubscribeWebhook asks ActiveDEMAND to post event to url and returns
	// the subscription id.
	SubscribeWebhook(ctx context.Context, url string, event EventType) (ID, error)
	// UnsubscribeWebhook removes a subscription.
	UnsubscribeWebhook(ctx context.Context, id ID) error
}

// AllChangedConversations walks every page of ChangedConversations. The
// cursor to save afterwards is CursorAt of the latest UpdatedAt seen.
func AllChangedConversations(ctx context.Context, cv Conversations, since Cursor) iter.Seq2[Conversation, error] {
	return pages(ctx, "list changed conversations", func(ctx context.Context, t PageToken) (Page[Conversation], error) {
		p, _, err := cv.ChangedConversations(ctx, since, t)
		return p, err
	}, func(c Conversation) ID { return c.ID })
}

// AllMessages walks every page of a conversation's messages.
func AllMessages(ctx context.Context, cv Conversations, conversationID ID) iter.Seq2[Message, error] {
	return pages(ctx, "list messages", func(ctx context.Context, t PageToken) (Page[Message], error) {
		return cv.Messages(ctx, conversationID, t)
	}, func(m Message) ID { return m.ID })
}

// AllHistory walks every page of a contact's history.
func AllHistory(ctx context.Context, cv Conversations, contactID ID) iter.Seq2[HistoryEntry, error] {
	return pages(ctx, "list history", func(ctx context.Context, t PageToken) (Page[HistoryEntry], error) {
		return cv.History(ctx, contactID, t)
	}, func(h HistoryEntry) ID { return h.ID })
}
