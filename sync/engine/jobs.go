package engine

// The work the engine's workers consume: outbox items of two kinds, one per
// ActiveDEMAND contact and one per ActiveDEMAND message. The AD poller (API)
// and the export importer (file) both produce exactly these, so everything
// after the outbox is one path whatever the source.

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"parley/store"
	"parley/sync/activedemand"
)

// Outbox item kinds the engine consumes.
const (
	// JobMirrorContact finds or upserts one ActiveDEMAND contact in
	// HighLevel; its payload is a ContactJob.
	JobMirrorContact = "mirror.contact"
	// JobMirrorMessage mirrors one ActiveDEMAND message (SMS, email, call
	// or chat) into its HighLevel conversation; its payload is a MessageJob.
	JobMirrorMessage = "mirror.message"
)

// JobVersion is the payload version this build writes and reads. A change
// that an older worker would misread gets a new version; adding an optional
// field does not.
const JobVersion = 1

// ErrJobPayload is matched (errors.Is) by every error decoding an outbox
// payload: the item cannot be worked on and should be killed with the error,
// not retried.
var ErrJobPayload = errors.New("outbox payload cannot be read")

// JobSource says where the engine learnt about a contact or message.
type JobSource string

// Job sources.
const (
	// SourceAPI is the ActiveDEMAND API (poller or webhook).
	SourceAPI JobSource = "api"
	// SourceImport is an export file imported from the console.
	SourceImport JobSource = "import"
)

// ContactJob is the payload of a JobMirrorContact item: an ActiveDEMAND
// contact as read, for the worker to find (by id map, email, phone) or
// create in HighLevel and then update.
type ContactJob struct {
	// V is JobVersion.
	V      int       `json:"v"`
	Source JobSource `json:"source"`
	// ContactID is the ActiveDEMAND id, or the stable "imp-" id the
	// importer derives from the email and phone of a row without one.
	ContactID string `json:"contact_id"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	// Email and Phone are the first of Emails and Phones.
	Email  string   `json:"email,omitempty"`
	Phone  string   `json:"phone,omitempty"`
	Emails []string `json:"emails,omitempty"`
	Phones []string `json:"phones,omitempty"`
	// Custom holds AD custom fields (custom_N), Fields every other AD
	// field, both as text, for the field mapping.
	Custom    map[string]string `json:"custom,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"`
	CreatedAt time.Time         `json:"created_at,omitzero"`
	UpdatedAt time.Time         `json:"updated_at,omitzero"`
}

// Key deduplicates contact work: the contact id and a hash of everything
// that would be mirrored. The same contact read twice (a re-import, an
// overlapping export, a poll that sees it again) is queued once, while a
// contact whose details changed since is queued again so the change
// reaches HighLevel; a key of the id alone would drop every later change,
// since the outbox never forgets a key.
func (j ContactJob) Key() string {
	c := j
	c.Source = "" // the same contact from a file or the API is the same work
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return ContactKeyPrefix(j.ContactID) + hex.EncodeToString(sum[:6])
}

// contactKeyStart starts the outbox key of every contact job.
const contactKeyStart = "ad:contact:"

// ContactKeyPrefix starts the outbox key of every job of one ActiveDEMAND
// contact, whatever its details were when read.
func ContactKeyPrefix(contactID string) string { return contactKeyStart + contactID + "@" }

// Label is how the contact is shown: its name, or its email or phone.
func (j ContactJob) Label() string {
	return firstNonEmpty(strings.TrimSpace(j.FirstName+" "+j.LastName), j.Email, j.Phone)
}

// ContactRef names the contact a message belongs to, with enough to find
// or create it in HighLevel even when no ContactJob for it exists (contacts
// known only from activity rows are not queued on their own).
type ContactRef struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// ConversationRef names the ActiveDEMAND conversation a message is in.
type ConversationRef struct {
	// ID is the AD conversation id, or for an import the stable "imp-" id
	// of the contact and channel.
	ID      string `json:"id"`
	Subject string `json:"subject,omitempty"`
}

// MediaJob is one attachment of a message.
type MediaJob struct {
	// URL is as ActiveDEMAND gave it: a URL, or in an export a path
	// relative to the export file.
	URL         string `json:"url"`
	Name        string `json:"name,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size,omitempty"`
	// File is set when an imported export came with the file: its
	// absolute path on this computer, to upload from instead of URL.
	File string `json:"file,omitempty"`
}

// CallJob is the call part of a call message.
type CallJob struct {
	DurationMS int64 `json:"duration_ms,omitempty"`
	// Status: completed, no-answer, voicemail, busy, failed...
	Status        string `json:"status,omitempty"`
	RecordingURL  string `json:"recording_url,omitempty"`
	RecordingFile string `json:"recording_file,omitempty"`
	Transcription string `json:"transcription,omitempty"`
}

// Duration is the call's length.
func (c CallJob) Duration() time.Duration { return time.Duration(c.DurationMS) * time.Millisecond }

// MessageJob is the payload of a JobMirrorMessage item: one ActiveDEMAND
// message with what the worker needs to place it in HighLevel without
// reading ActiveDEMAND again.
type MessageJob struct {
	// V is JobVersion.
	V      int       `json:"v"`
	Source JobSource `json:"source"`
	// MessageID is the AD id, or the importer's stable content-hash id
	// for a row without one.
	MessageID    string          `json:"message_id"`
	Conversation ConversationRef `json:"conversation"`
	Contact      ContactRef      `json:"contact"`
	// Channel is sms, email, call or chat; Direction inbound or outbound.
	Channel   string `json:"channel"`
	Direction string `json:"direction"`
	// Sender, whichever of name, email address and phone apply.
	SenderName    string    `json:"sender_name,omitempty"`
	SenderAddress string    `json:"sender_address,omitempty"`
	SenderPhone   string    `json:"sender_phone,omitempty"`
	Subject       string    `json:"subject,omitempty"`
	Body          string    `json:"body,omitempty"`
	SentAt        time.Time `json:"sent_at"`
	// Status is AD's delivery status (sent, delivered, received...).
	Status string     `json:"status,omitempty"`
	Media  []MediaJob `json:"media,omitempty"`
	Call   *CallJob   `json:"call,omitempty"`
}

// Key deduplicates message work: a message is mirrored once, whichever
// source saw it first, however often it is read again.
func (j MessageJob) Key() string { return MessageKey(j.MessageID) }

// MessageKey is the outbox key of the message with this ActiveDEMAND id.
func MessageKey(id string) string { return "ad:message:" + id }

// DecodeContactJob reads a JobMirrorContact payload.
func DecodeContactJob(payload []byte) (ContactJob, error) {
	var j ContactJob
	if err := decodeJob(JobMirrorContact, payload, &j, func() int { return j.V }); err != nil {
		return ContactJob{}, err
	}
	if j.ContactID == "" {
		return ContactJob{}, fmt.Errorf("decode %s: %w: contact_id is empty", JobMirrorContact, ErrJobPayload)
	}
	return j, nil
}

// DecodeMessageJob reads a JobMirrorMessage payload.
func DecodeMessageJob(payload []byte) (MessageJob, error) {
	var j MessageJob
	if err := decodeJob(JobMirrorMessage, payload, &j, func() int { return j.V }); err != nil {
		return MessageJob{}, err
	}
	bad := func(what string) (MessageJob, error) {
		return MessageJob{}, fmt.Errorf("decode %s: %w: %s", JobMirrorMessage, ErrJobPayload, what)
	}
	switch {
	case j.MessageID == "":
		return bad("message_id is empty")
	case j.Contact.ID == "":
		return bad("contact.id is empty")
	case j.Conversation.ID == "":
		return bad("conversation.id is empty")
	case !activedemand.Channel(j.Channel).Valid():
		return bad(fmt.Sprintf("channel %q is not sms, email, call or chat", j.Channel))
	case j.Direction != string(activedemand.Inbound) && j.Direction != string(activedemand.Outbound):
		return bad(fmt.Sprintf("direction %q is not inbound or outbound", j.Direction))
	case j.SentAt.IsZero():
		return bad("sent_at is missing")
	case j.Call != nil && j.Call.DurationMS < 0:
		return bad("call duration is negative")
	}
	return j, nil
}

func decodeJob(kind string, payload []byte, v any, version func() int) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("decode %s: %w: %w", kind, ErrJobPayload, err)
	}
	if got := version(); got != JobVersion {
		return fmt.Errorf("decode %s: %w: version %d, this build reads version %d", kind, ErrJobPayload, got, JobVersion)
	}
	return nil
}

// outboxJob encodes a payload as an outbox item.
func outboxJob(kind, key string, payload any) (store.OutboxJob, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return store.OutboxJob{}, fmt.Errorf("encode %s %s: %w", kind, key, err)
	}
	return store.OutboxJob{Kind: kind, Key: key, Payload: b}, nil
}

// newContactJob is the ContactJob for an ActiveDEMAND contact.
func newContactJob(src JobSource, c activedemand.Contact) ContactJob {
	return ContactJob{
		V: JobVersion, Source: src, ContactID: string(c.ID),
		FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone,
		Emails: c.Emails, Phones: c.Phones, Custom: c.Custom, Fields: c.Fields,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
	}
}

// newMessageJob is the MessageJob for an ActiveDEMAND message in conversation
// cv with contact c. file, when set, finds a relative media path's file; its
// error refuses the message.
func newMessageJob(src JobSource, m activedemand.Message, cv activedemand.Conversation, c activedemand.Contact, file func(string) (string, int64, error)) (MessageJob, error) {
	j := MessageJob{
		V: JobVersion, Source: src, MessageID: string(m.ID),
		Conversation: ConversationRef{ID: string(cv.ID), Subject: cv.Subject},
		Contact:      ContactRef{ID: string(c.ID), Name: c.Name(), Email: c.Email, Phone: c.Phone},
		Channel:      string(m.Channel), Direction: string(m.Direction),
		SenderName: m.SenderName, SenderAddress: m.SenderAddress, SenderPhone: m.SenderPhone,
		Subject: m.Subject, Body: m.Body, SentAt: m.SentAt.UTC(), Status: string(m.Status),
	}
	if j.Contact.ID == "" {
		j.Contact.ID = string(m.ContactID)
	}
	if j.Conversation.ID == "" {
		j.Conversation.ID = string(m.ConversationID)
	}
	for _, md := range m.Media {
		mj := MediaJob{URL: md.URL, Name: md.Name, ContentType: md.ContentType, Size: md.Size}
		if file != nil {
			path, size, err := file(md.URL)
			if err != nil {
				return MessageJob{}, err
			}
			if path != "" {
				mj.File = path
				if mj.Size == 0 {
					mj.Size = size
				}
			}
		}
		j.Media = append(j.Media, mj)
	}
	if m.Call != nil {
		j.Call = &CallJob{DurationMS: m.Call.Duration.Milliseconds(), Status: m.Call.Status,
			RecordingURL: m.Call.RecordingURL, Transcription: m.Call.Transcription}
		if file != nil && m.Call.RecordingURL != "" {
			path, _, err := file(m.Call.RecordingURL)
			if err != nil {
				return MessageJob{}, err
			}
			j.Call.RecordingFile = path
		}
	}
	return j, nil
}

// kindTitles name the job kinds for people, e.g. in the Sync screen's
// queue; the kinds themselves are the outbox's and the logs' words. Short:
// the queue's first column is about 20 characters wide at the smallest
// window.
var kindTitles = map[string]string{
	JobMirrorContact:     "Contacts",
	JobMirrorMessage:     "Messages",
	JobUploadMedia:       "Attachment uploads",
	JobRecordAttached:    "Messages with files",
	JobFetchCallMedia:    "Call recordings",
	JobRouteTranscript:   "Transcript routing",
	JobRouteAction:       "Routing actions",
	JobConversationFlags: "Read & star marks",
}

// kindOrder is the order of the work a message goes through, for lists.
var kindOrder = []string{JobMirrorContact, JobMirrorMessage, JobRecordAttached, JobUploadMedia,
	JobConversationFlags, JobFetchCallMedia, JobRouteTranscript, JobRouteAction}

// CompareKinds orders job kinds as the work flows (contacts, messages,
// their files, calls' recordings, routing), unknown kinds last by name.
func CompareKinds(a, b string) int {
	ra, rb := slices.Index(kindOrder, a), slices.Index(kindOrder, b)
	if ra < 0 {
		ra = len(kindOrder)
	}
	if rb < 0 {
		rb = len(kindOrder)
	}
	return cmp.Or(cmp.Compare(ra, rb), strings.Compare(a, b))
}

// KindTitle is how a job kind is shown to a person; an unknown kind (a
// newer version's) is shown as it is.
func KindTitle(kind string) string {
	if t, ok := kindTitles[kind]; ok {
		return t
	}
	return kind
}
