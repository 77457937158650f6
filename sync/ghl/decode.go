package ghl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Decoders for HighLevel's answers. They accept the spec's shapes and the
// live API's (ERRATA 7, 13, 18), ignore unknown fields, and return errors
// that name the offending field; decodeFailure turns those into a
// [DecodeError] carrying the call.

// fieldError is a decoding error located at a JSON path.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return fmt.Sprintf("field %q: %v", e.field, e.err) }
func (e *fieldError) Unwrap() error { return e.err }

// unmarshalAt decodes data into v; errors carry the JSON path, prefixed
// with at (the path of data inside the whole body).
func unmarshalAt(data []byte, v any, at string) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &fieldError{field: joinPath(at, jsonPath(te.Field)), err: fmt.Errorf("got %s, want %s", te.Value, typeName(te.Type))}
	}
	var fe *fieldError
	if errors.As(err, &fe) {
		return &fieldError{field: joinPath(at, fe.field), err: fe.err}
	}
	if at != "" {
		return &fieldError{field: at, err: err}
	}
	return err
}

// jsonPath drops the names of embedded Go structs (the one-pass envelope
// decoders embed the wire types) from encoding/json's field path, leaving
// the JSON keys.
func jsonPath(p string) string {
	if !strings.Contains(p, "wire") {
		return p
	}
	parts := strings.Split(p, ".")
	out := parts[:0]
	for _, s := range parts {
		if s != "wireMessage" && s != "wireConversation" {
			out = append(out, s)
		}
	}
	return strings.Join(out, ".")
}

func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "." + b
}

// typeName says in JSON terms what a Go type expects.
func typeName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t {
	case reflect.TypeFor[flexTime]():
		return "a date (text or epoch milliseconds)"
	case reflect.TypeFor[flexInt](), reflect.TypeFor[flexFloat]():
		return "a number"
	case reflect.TypeFor[flexString]():
		return "a string or a number"
	case reflect.TypeFor[flexSeconds]():
		return "seconds (number or text)"
	case reflect.TypeFor[flexBool]():
		return "a boolean"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

// typeError is what the flexible scalars report; encoding/json adds the
// field path to it.
func typeError(data []byte, t reflect.Type) error {
	v := string(data)
	if len(v) > 40 {
		v = v[:40] + "..."
	}
	return &json.UnmarshalTypeError{Value: v, Type: t}
}

func isNull(data []byte) bool { return string(data) == "null" }

// flexString accepts a string or a number (kept as its text), for fields
// the spec types both ways (a conversation's type, ERRATA 18).
type flexString string

func (s *flexString) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var v string
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	}
	if _, err := strconv.ParseFloat(string(data), 64); err == nil {
		*s = flexString(data)
		return nil
	}
	return typeError(data, reflect.TypeFor[flexString]())
}

// flexFloat accepts a number or a numeric string.
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil
	}
	s := string(data)
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*f = 0
			return nil
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return typeError(data, reflect.TypeFor[flexFloat]())
	}
	*f = flexFloat(v)
	return nil
}

// flexInt accepts a number (integral or not; truncated) or a numeric
// string, for counts the spec types as "number".
type flexInt int64

func (n *flexInt) UnmarshalJSON(data []byte) error {
	var f flexFloat
	if err := f.UnmarshalJSON(data); err != nil {
		return typeError(data, reflect.TypeFor[flexInt]())
	}
	if math.Abs(float64(f)) > 1<<53 {
		return typeError(data, reflect.TypeFor[flexInt]())
	}
	*n = flexInt(int64(f))
	return nil
}

// flexBool accepts a boolean or "true"/"false" (nextPage has been seen as
// text in the wild; being lenient costs nothing).
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", `"true"`:
		*b = true
	case "false", `"false"`, "null":
		*b = false
	default:
		return typeError(data, reflect.TypeFor[flexBool]())
	}
	return nil
}

// flexSeconds is a duration sent as seconds, as a string or a number
// (MessageMeta.callDuration, ERRATA 18).
type flexSeconds time.Duration

func (d *flexSeconds) UnmarshalJSON(data []byte) error {
	var f flexFloat
	if err := f.UnmarshalJSON(data); err != nil || f < 0 || f > 1e9 {
		return typeError(data, reflect.TypeFor[flexSeconds]())
	}
	*d = flexSeconds(time.Duration(float64(f) * float64(time.Second)))
	return nil
}

// flexTime accepts an ISO 8601 date (with or without fraction or zone) or
// epoch time as a number or numeric string (milliseconds; seconds when the
// value is too small to be milliseconds of a recent date).
type flexTime time.Time

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

func (t *flexTime) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
		for _, layout := range timeLayouts {
			if v, err := time.Parse(layout, s); err == nil {
				*t = flexTime(v)
				return nil
			}
		}
		if v, ok := epoch(s); ok {
			*t = flexTime(v)
			return nil
		}
		return typeError(data, reflect.TypeFor[flexTime]())
	}
	if v, ok := epoch(string(data)); ok {
		*t = flexTime(v)
		return nil
	}
	return typeError(data, reflect.TypeFor[flexTime]())
}

// epoch reads epoch milliseconds (or seconds for values below 1e11, which
// as milliseconds would be in 1973).
func epoch(s string) (time.Time, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e15 {
		return time.Time{}, false
	}
	if f < 1e11 {
		f *= 1000
	}
	return time.UnixMilli(int64(f)).UTC(), true
}

func epochMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// wireConversation is a conversation in any of its shapes:
// GetConversationByIdResponse, ConversationSchema (search),
// ConversationDto (update) and ConversationCreateResponseDto (create).
type wireConversation struct {
	ID                   string      `json:"id"`
	LocationID           string      `json:"locationId"`
	ContactID            string      `json:"contactId"`
	AssignedTo           string      `json:"assignedTo"`
	UserID               string      `json:"userId"`
	Type                 flexString  `json:"type"`
	LastMessageBody      string      `json:"lastMessageBody"`
	LastMessageType      string      `json:"lastMessageType"`
	LastMessageDirection string      `json:"lastMessageDirection"`
	LastMessageDate      flexTime    `json:"lastMessageDate"`
	UnreadCount          flexInt     `json:"unreadCount"`
	Inbox                flexBool    `json:"inbox"`
	Starred              flexBool    `json:"starred"`
	Deleted              flexBool    `json:"deleted"`
	FullName             string      `json:"fullName"`
	ContactName          string      `json:"contactName"`
	Email                string      `json:"email"`
	Phone                string      `json:"phone"`
	DateAdded            flexTime    `json:"dateAdded"`
	DateUpdated          flexTime    `json:"dateUpdated"`
	Sort                 []flexFloat `json:"sort"`
}

func (w *wireConversation) conversation() Conversation {
	c := Conversation{
		ID:                   w.ID,
		LocationID:           w.LocationID,
		ContactID:            w.ContactID,
		AssignedTo:           w.AssignedTo,
		UserID:               w.UserID,
		Type:                 ConversationType(w.Type),
		LastMessageBody:      w.LastMessageBody,
		LastMessageType:      w.LastMessageType,
		LastMessageDirection: Direction(w.LastMessageDirection),
		LastMessageDate:      time.Time(w.LastMessageDate),
		UnreadCount:          int(w.UnreadCount),
		Inbox:                bool(w.Inbox),
		Starred:              bool(w.Starred),
		Deleted:              bool(w.Deleted),
		FullName:             w.FullName,
		ContactName:          w.ContactName,
		Email:                w.Email,
		Phone:                w.Phone,
		DateAdded:            time.Time(w.DateAdded),
		DateUpdated:          time.Time(w.DateUpdated),
	}
	// The live API sends the sort key search used; without it, search
	// sorts by the last message date.
	switch {
	case len(w.Sort) > 0 && w.Sort[0] > 0:
		c.SortValue = int64(w.Sort[0])
	case !c.LastMessageDate.IsZero():
		c.SortValue = epochMillis(c.LastMessageDate)
	default:
		c.SortValue = epochMillis(c.DateUpdated)
	}
	return c
}

// isObject reports whether raw JSON is an object.
func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// decodeConversation reads GET /conversations/{id}: the bare
// GetConversationByIdResponse, or wrapped in {"conversation": ...} as
// update and create answer. One pass reads the bare fields and catches
// the wrapper.
func decodeConversation(data []byte) (Conversation, error) {
	var env struct {
		wireConversation
		Conversation json.RawMessage `json:"conversation"`
	}
	if err := unmarshalAt(data, &env, ""); err != nil {
		return Conversation{}, err
	}
	w, at := &env.wireConversation, ""
	if isObject(env.Conversation) {
		w, at = &wireConversation{}, "conversation"
		if err := unmarshalAt(env.Conversation, w, at); err != nil {
			return Conversation{}, err
		}
	}
	if w.ID == "" {
		return Conversation{}, &fieldError{field: joinPath(at, "id"), err: errors.New("missing")}
	}
	return w.conversation(), nil
}

// decodeSearch reads GET /conversations/search (SendConversationResponseDto).
func decodeSearch(data []byte) (ConversationPage, error) {
	var w struct {
		Conversations []wireConversation `json:"conversations"`
		Total         flexInt            `json:"total"`
	}
	if err := unmarshalAt(data, &w, ""); err != nil {
		return ConversationPage{}, err
	}
	p := ConversationPage{Total: int(w.Total), Conversations: make([]Conversation, 0, len(w.Conversations))}
	for i := range w.Conversations {
		if w.Conversations[i].ID == "" {
			return ConversationPage{}, &fieldError{field: fmt.Sprintf("conversations.%d.id", i), err: errors.New("missing")}
		}
		p.Conversations = append(p.Conversations, w.Conversations[i].conversation())
	}
	return p, nil
}

type wireMeta struct {
	CallDuration flexSeconds     `json:"callDuration"`
	CallStatus   string          `json:"callStatus"`
	Email        json.RawMessage `json:"email"`
}

// wireMessage is GetMessageResponseDto plus the live API's altId and
// dateUpdated.
type wireMessage struct {
	ID                     string     `json:"id"`
	Type                   flexString `json:"type"`
	MessageType            string     `json:"messageType"`
	LocationID             string     `json:"locationId"`
	ContactID              string     `json:"contactId"`
	ConversationID         string     `json:"conversationId"`
	DateAdded              flexTime   `json:"dateAdded"`
	DateUpdated            flexTime   `json:"dateUpdated"`
	Body                   string     `json:"body"`
	Direction              string     `json:"direction"`
	Status                 string     `json:"status"`
	ContentType            string     `json:"contentType"`
	Attachments            []string   `json:"attachments"`
	Meta                   *wireMeta  `json:"meta"`
	Source                 string     `json:"source"`
	UserID                 string     `json:"userId"`
	ConversationProviderID string     `json:"conversationProviderId"`
	ChatWidgetID           string     `json:"chatWidgetId"`
	AltID                  string     `json:"altId"`
}

func (w *wireMessage) message() Message {
	m := Message{
		ID:                     w.ID,
		MessageType:            w.MessageType,
		LocationID:             w.LocationID,
		ContactID:              w.ContactID,
		ConversationID:         w.ConversationID,
		DateAdded:              time.Time(w.DateAdded),
		DateUpdated:            time.Time(w.DateUpdated),
		Body:                   w.Body,
		Direction:              Direction(w.Direction),
		Status:                 MessageStatus(w.Status),
		ContentType:            w.ContentType,
		Attachments:            w.Attachments,
		Source:                 w.Source,
		UserID:                 w.UserID,
		ConversationProviderID: w.ConversationProviderID,
		ChatWidgetID:           w.ChatWidgetID,
		AltID:                  w.AltID,
	}
	if n, err := strconv.Atoi(string(w.Type)); err == nil {
		m.Type = n
	} else if m.MessageType == "" {
		m.MessageType = string(w.Type)
	}
	if w.Meta != nil {
		m.Meta.CallDuration = time.Duration(w.Meta.CallDuration)
		m.Meta.CallStatus = CallStatus(w.Meta.CallStatus)
		// meta.email is an untyped object in the spec; its message ids are
		// a convenience, so an unexpected shape is ignored, not fatal.
		var email struct {
			MessageIDs []string `json:"messageIds"`
		}
		if len(w.Meta.Email) > 0 && json.Unmarshal(w.Meta.Email, &email) == nil {
			m.Meta.EmailMessageIDs = email.MessageIDs
		}
	}
	return m
}

func checkMessage(w *wireMessage, at string) error {
	if w.ID == "" {
		return &fieldError{field: joinPath(at, "id"), err: errors.New("missing")}
	}
	return nil
}

// decodeMessage reads GET /conversations/messages/{id}: the message itself
// (spec) or {"message": {...}, "traceId": ...} (live API, ERRATA 7).
func decodeMessage(data []byte) (Message, error) {
	var env struct {
		wireMessage
		Message json.RawMessage `json:"message"`
	}
	if err := unmarshalAt(data, &env, ""); err != nil {
		return Message{}, err
	}
	w, at := &env.wireMessage, ""
	if isObject(env.Message) {
		w, at = &wireMessage{}, "message"
		if err := unmarshalAt(env.Message, w, at); err != nil {
			return Message{}, err
		}
	}
	if err := checkMessage(w, at); err != nil {
		return Message{}, err
	}
	return w.message(), nil
}

// decodeMessages reads GET /conversations/{id}/messages: flat
// {"lastMessageId", "nextPage", "messages": [...]} (spec) or the same object
// wrapped in {"messages": {...}} (live API, ERRATA 7).
func decodeMessages(data []byte) (MessagePage, error) {
	type page struct {
		LastMessageID string          `json:"lastMessageId"`
		NextPage      flexBool        `json:"nextPage"`
		Messages      json.RawMessage `json:"messages"`
	}
	var p page
	if err := unmarshalAt(data, &p, ""); err != nil {
		return MessagePage{}, err
	}
	at := "messages"
	raw := bytes.TrimSpace(p.Messages)
	if len(raw) > 0 && raw[0] == '{' {
		var inner page
		if err := unmarshalAt(raw, &inner, at); err != nil {
			return MessagePage{}, err
		}
		p = inner
		at = "messages.messages"
		raw = bytes.TrimSpace(p.Messages)
	}
	out := MessagePage{LastMessageID: p.LastMessageID, NextPage: bool(p.NextPage)}
	if len(raw) == 0 || isNull(raw) {
		return out, nil
	}
	if raw[0] != '[' {
		return MessagePage{}, &fieldError{field: at, err: errors.New("want an array of messages or an object holding one")}
	}
	var ws []wireMessage
	if err := unmarshalAt(raw, &ws, at); err != nil {
		return MessagePage{}, err
	}
	out.Messages = make([]Message, 0, len(ws))
	for i := range ws {
		if err := checkMessage(&ws[i], fmt.Sprintf("%s.%d", at, i)); err != nil {
			return MessagePage{}, err
		}
		out.Messages = append(out.Messages, ws[i].message())
	}
	return out, nil
}

// DeliveryResult is HighLevel's answer to a delivery (SendMessageResponseDto).
type DeliveryResult struct {
	ConversationID string
	MessageID      string
	// MessageIDs lists every message created (e.g. one per recipient).
	MessageIDs []string
	// EmailMessageID is set for emails; it is the id CancelScheduledEmail
	// takes for a scheduled email.
	EmailMessageID string
	// Msg is HighLevel's free-text note, if any.
	Msg    string
	Status MessageStatus
}

// decodeDelivery reads SendMessageResponseDto (POST /conversations/messages
// and PUT .../status).
func decodeDelivery(data []byte) (DeliveryResult, error) {
	var w struct {
		ConversationID string   `json:"conversationId"`
		MessageID      string   `json:"messageId"`
		MessageIDs     []string `json:"messageIds"`
		EmailMessageID string   `json:"emailMessageId"`
		Msg            string   `json:"msg"`
		Status         string   `json:"status"`
	}
	if err := unmarshalAt(data, &w, ""); err != nil {
		return DeliveryResult{}, err
	}
	return DeliveryResult{
		ConversationID: w.ConversationID,
		MessageID:      w.MessageID,
		MessageIDs:     w.MessageIDs,
		EmailMessageID: w.EmailMessageID,
		Msg:            w.Msg,
		Status:         MessageStatus(w.Status),
	}, nil
}

// RecordResult is HighLevel's answer to a record (ProcessMessageResponseDto).
type RecordResult struct {
	MessageID      string
	ConversationID string
	ContactID      string
	EmailMessageID string
	DateAdded      time.Time
	// Recovered is true when the answer was lost (timeout, reset, 5xx) and
	// the record was found by its altId instead of being posted again.
	Recovered bool
}

// decodeRecord reads ProcessMessageResponseDto. An empty body or one
// without a message id is ErrNotRecorded (ERRATA 20), not a decoding error:
// it is an answer, and posting again would not help.
func decodeRecord(data []byte) (RecordResult, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return RecordResult{}, ErrNotRecorded
	}
	var w struct {
		MessageID      string          `json:"messageId"`
		ConversationID string          `json:"conversationId"`
		ContactID      string          `json:"contactId"`
		EmailMessageID string          `json:"emailMessageId"`
		DateAdded      flexTime        `json:"dateAdded"`
		Message        json.RawMessage `json:"message"` // a note; its type varies
	}
	if err := unmarshalAt(data, &w, ""); err != nil {
		return RecordResult{}, err
	}
	if w.MessageID == "" {
		return RecordResult{}, ErrNotRecorded
	}
	return RecordResult{
		MessageID:      w.MessageID,
		ConversationID: w.ConversationID,
		ContactID:      w.ContactID,
		EmailMessageID: w.EmailMessageID,
		DateAdded:      time.Time(w.DateAdded),
	}, nil
}

type wireSentence struct {
	MediaChannel  flexInt   `json:"mediaChannel"`
	SentenceIndex flexInt   `json:"sentenceIndex"`
	StartTime     flexFloat `json:"startTime"`
	EndTime       flexFloat `json:"endTime"`
	Transcript    string    `json:"transcript"`
	Confidence    flexFloat `json:"confidence"`
}

func msDuration(ms flexFloat) time.Duration {
	return time.Duration(float64(ms) * float64(time.Millisecond))
}

// decodeTranscription reads the transcription endpoint: an array of
// sentences (ERRATA 13), or a single sentence object as the spec describes.
func decodeTranscription(data []byte) ([]TranscriptSentence, error) {
	raw := bytes.TrimSpace(data)
	var ws []wireSentence
	switch {
	case len(raw) > 0 && raw[0] == '{':
		var one wireSentence
		if err := unmarshalAt(raw, &one, ""); err != nil {
			return nil, err
		}
		ws = []wireSentence{one}
	default:
		if err := unmarshalAt(raw, &ws, ""); err != nil {
			return nil, err
		}
	}
	out := make([]TranscriptSentence, 0, len(ws))
	for i, w := range ws {
		s := TranscriptSentence{
			MediaChannel: int(w.MediaChannel),
			Index:        int(w.SentenceIndex),
			Start:        msDuration(w.StartTime),
			End:          msDuration(w.EndTime),
			Text:         w.Transcript,
			Confidence:   float64(w.Confidence),
		}
		if s.Start < 0 || s.End < s.Start {
			return nil, &fieldError{field: fmt.Sprintf("%d.endTime", i), err: fmt.Errorf("sentence ends (%v) before it starts (%v)", s.End, s.Start)}
		}
		out = append(out, s)
	}
	return out, nil
}

type wireContact struct {
	ID          string   `json:"id"`
	LocationID  string   `json:"locationId"`
	Name        string   `json:"name"`
	FirstName   string   `json:"firstName"`
	LastName    string   `json:"lastName"`
	Email       string   `json:"email"`
	Phone       string   `json:"phone"`
	CompanyName string   `json:"companyName"`
	Address1    string   `json:"address1"`
	City        string   `json:"city"`
	State       string   `json:"state"`
	PostalCode  string   `json:"postalCode"`
	Country     string   `json:"country"`
	Timezone    string   `json:"timezone"`
	Website     string   `json:"website"`
	Source      string   `json:"source"`
	Type        string   `json:"type"`
	AssignedTo  string   `json:"assignedTo"`
	Tags        []string `json:"tags"`
	DND         flexBool `json:"dnd"`
	DateAdded   flexTime `json:"dateAdded"`
	DateUpdated flexTime `json:"dateUpdated"`
}

func (w *wireContact) contact() Contact {
	return Contact{
		ID: w.ID, LocationID: w.LocationID, Name: w.Name, FirstName: w.FirstName, LastName: w.LastName,
		Email: w.Email, Phone: w.Phone, CompanyName: w.CompanyName, Address1: w.Address1, City: w.City,
		State: w.State, PostalCode: w.PostalCode, Country: w.Country, Timezone: w.Timezone, Website: w.Website,
		Source: w.Source, Type: w.Type, AssignedTo: w.AssignedTo, Tags: w.Tags, DND: bool(w.DND),
		DateAdded: time.Time(w.DateAdded), DateUpdated: time.Time(w.DateUpdated),
	}
}

// decodeContactAnswer reads {"contact": {...}|null, "new": bool, ...}, the
// shape of GET /contacts/{id}, the duplicate search (whose 200 the spec
// leaves untyped) and upsert. found is false when contact is null or absent.
func decodeContactAnswer(data []byte) (c Contact, found, isNew bool, err error) {
	var w struct {
		Contact *wireContact `json:"contact"`
		New     flexBool     `json:"new"`
	}
	if err := unmarshalAt(data, &w, ""); err != nil {
		return Contact{}, false, false, err
	}
	if w.Contact == nil || w.Contact.ID == "" {
		return Contact{}, false, bool(w.New), nil
	}
	return w.Contact.contact(), true, bool(w.New), nil
}

// UploadResult is HighLevel's answer to an upload: file name → URL. Pass
// the URLs as attachments to DeliverMessage or RecordMessage.
type UploadResult struct {
	URLs map[string]string
}

// URL returns the uploaded file's URL when one file was uploaded.
func (r UploadResult) URL() string {
	for _, u := range r.URLs {
		return u
	}
	return ""
}

// decodeUpload reads UploadFilesResponseDto.
func decodeUpload(data []byte) (UploadResult, error) {
	var w struct {
		UploadedFiles map[string]string `json:"uploadedFiles"`
	}
	if err := unmarshalAt(data, &w, ""); err != nil {
		return UploadResult{}, err
	}
	if len(w.UploadedFiles) == 0 {
		return UploadResult{}, &fieldError{field: "uploadedFiles", err: errors.New("no file URL in the answer")}
	}
	return UploadResult{URLs: w.UploadedFiles}, nil
}

// decodeCancel reads CancelScheduledResponseDto {status, message}. A status
// outside 2xx in the body means the cancel did not happen.
func decodeCancel(data []byte) (status int, msg string, err error) {
	var w struct {
		Status  flexInt `json:"status"`
		Message string  `json:"message"`
	}
	if err := unmarshalAt(data, &w, ""); err != nil {
		return 0, "", err
	}
	return int(w.Status), w.Message, nil
}

// decodeSuccess reads {"success": bool} (DeleteConversationSuccessfulResponse).
func decodeSuccess(data []byte) (bool, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return true, nil
	}
	var w struct {
		Success *flexBool `json:"success"`
	}
	if err := unmarshalAt(data, &w, ""); err != nil {
		return false, err
	}
	return w.Success == nil || bool(*w.Success), nil
}
