package ghl

import (
	"context"
	"fmt"
	"time"
)

// CallData describes a phone call for a record.
type CallData struct {
	// To and From are phone numbers (E.164).
	To, From string
	Status   CallStatus
}

type callBody struct {
	To     string     `json:"to,omitempty"`
	From   string     `json:"from,omitempty"`
	Status CallStatus `json:"status,omitempty"`
}

func (d *CallData) body() *callBody {
	if d == nil {
		return nil
	}
	return &callBody{To: d.To, From: d.From, Status: d.Status}
}

// RecordRequest records in HighLevel a message that was delivered
// elsewhere (by ActiveDEMAND), in either direction (ProcessMessageBodyDto).
// Nothing is sent to the customer.
type RecordRequest struct {
	// Type is the channel the message went over: SMS, Email, Call, Custom, ...
	Type                   Channel
	ConversationID         string
	ContactID              string
	ConversationProviderID string
	// AltID is the ActiveDEMAND message id. It makes the record
	// exactly-once: after an uncertain outcome the client looks for it
	// before posting again. Without it such an outcome is ErrOutcomeUnknown.
	AltID string
	// Direction is inbound (from the customer) or outbound (to them).
	Direction Direction
	// Date is when the message was delivered (default: now, by HighLevel).
	Date time.Time
	// Message is the text; HTML and Subject the email's.
	Message, HTML, Subject string
	EmailFrom, EmailTo     string
	EmailCc, EmailBcc      []string
	// EmailMessageID threads an email reply.
	EmailMessageID string
	// Attachments are URLs, e.g. from UploadAttachment.
	Attachments []string
	// Call describes a call (Type Call).
	Call *CallData
}

type recordBody struct {
	Type                   Channel   `json:"type"`
	Attachments            []string  `json:"attachments,omitempty"`
	Message                string    `json:"message,omitempty"`
	ConversationID         string    `json:"conversationId"`
	ContactID              string    `json:"contactId,omitempty"`
	ConversationProviderID string    `json:"conversationProviderId"`
	HTML                   string    `json:"html,omitempty"`
	Subject                string    `json:"subject,omitempty"`
	EmailFrom              string    `json:"emailFrom,omitempty"`
	EmailTo                string    `json:"emailTo,omitempty"`
	EmailCc                []string  `json:"emailCc,omitempty"`
	EmailBcc               []string  `json:"emailBcc,omitempty"`
	EmailMessageID         string    `json:"emailMessageId,omitempty"`
	AltID                  string    `json:"altId,omitempty"`
	Direction              Direction `json:"direction,omitempty"`
	Date                   string    `json:"date,omitempty"`
	Call                   *callBody `json:"call,omitempty"`
}

func recordDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// RecordMessage records a message ActiveDEMAND already delivered (POST
// /conversations/messages/inbound, for both directions: the outbound
// route only takes calls, ERRATA 14). HighLevel sends nothing to the
// customer.
//
// 200 and 201 both succeed; an answer without a message id is
// ErrNotRecorded (ERRATA 20). After an uncertain outcome (timeout, lost
// connection, 5xx) the client looks for AltID among the conversation's
// messages and returns that message (RecordResult.Recovered) instead of
// posting again, since HighLevel does not de-duplicate by altId (ERRATA 19).
func (c *Client) RecordMessage(ctx context.Context, req RecordRequest) (RecordResult, error) {
	const op = "ghl: record message"
	if req.Type == "" {
		return RecordResult{}, fmt.Errorf("%s: the message type (channel) is empty", op)
	}
	if err := needIDs(op, "conversation id", req.ConversationID, "contact id", req.ContactID,
		"conversation provider id", req.ConversationProviderID); err != nil {
		return RecordResult{}, err
	}
	if req.Direction != Inbound && req.Direction != Outbound {
		return RecordResult{}, fmt.Errorf("%s: direction %q: want inbound or outbound", op, req.Direction)
	}
	return c.record(ctx, op, routeRecordInbound, req.ConversationID, req.AltID, recordBody{
		Type: req.Type, Attachments: req.Attachments, Message: req.Message, ConversationID: req.ConversationID,
		ContactID: req.ContactID, ConversationProviderID: req.ConversationProviderID, HTML: req.HTML,
		Subject: req.Subject, EmailFrom: req.EmailFrom, EmailTo: req.EmailTo, EmailCc: req.EmailCc,
		EmailBcc: req.EmailBcc, EmailMessageID: req.EmailMessageID, AltID: req.AltID, Direction: req.Direction,
		Date: recordDate(req.Date), Call: req.Call.body(),
	})
}

// CallRecord records an outbound call placed outside HighLevel
// (ProcessOutboundMessageBodyDto). Inbound calls are recorded with
// RecordMessage, Type Call and Direction inbound.
type CallRecord struct {
	ConversationID         string
	ConversationProviderID string
	// AltID is the ActiveDEMAND id of the call; see RecordRequest.AltID.
	AltID       string
	Date        time.Time
	Attachments []string
	Call        CallData
}

// RecordCall records an outbound call (POST
// /conversations/messages/outbound, type Call: the only type that route
// takes, ERRATA 14). Exactly-once by AltID like RecordMessage.
func (c *Client) RecordCall(ctx context.Context, req CallRecord) (RecordResult, error) {
	const op = "ghl: record call"
	if err := needIDs(op, "conversation id", req.ConversationID, "conversation provider id", req.ConversationProviderID); err != nil {
		return RecordResult{}, err
	}
	return c.record(ctx, op, routeRecordOutbound, req.ConversationID, req.AltID, recordBody{
		Type: ChannelCall, Attachments: req.Attachments, ConversationID: req.ConversationID,
		ConversationProviderID: req.ConversationProviderID, AltID: req.AltID, Date: recordDate(req.Date),
		Call: req.Call.body(),
	})
}

func (c *Client) record(ctx context.Context, op string, rt route, conversationID, altID string, body recordBody) (RecordResult, error) {
	b, err := jsonBody(op, body)
	if err != nil {
		return RecordResult{}, err
	}
	var out RecordResult
	rq := &request{
		op: op, rt: rt, path: rt.path, class: record, body: b, contentType: "application/json",
		decode: func(b []byte) (err error) { out, err = decodeRecord(b); return err },
	}
	if altID != "" {
		rq.recover = func(ctx context.Context) (bool, error) {
			m, found, err := c.FindMessageByAltID(ctx, conversationID, altID)
			if err != nil || !found {
				return false, err
			}
			out = RecordResult{MessageID: m.ID, ConversationID: m.ConversationID, ContactID: m.ContactID,
				DateAdded: m.DateAdded, Recovered: true}
			return true, nil
		}
	}
	err = c.do(ctx, rq)
	return out, err
}

// findPageSize is the page size for altId lookups: large pages keep the
// lookup to few requests.
const findPageSize = 100

// FindMessageByAltID looks for the message recorded with altID in a
// conversation, newest first. The engine uses it to find out whether a
// record whose outcome is unknown (for example after a crash) exists.
func (c *Client) FindMessageByAltID(ctx context.Context, conversationID, altID string) (Message, bool, error) {
	const op = "ghl: find message by alt id"
	if err := needIDs(op, "conversation id", conversationID, "alt id", altID); err != nil {
		return Message{}, false, err
	}
	for m, err := range c.ListMessages(ctx, conversationID, ListMessagesRequest{Limit: findPageSize}) {
		if err != nil {
			return Message{}, false, fmt.Errorf("%s: %w", op, err)
		}
		if m.AltID == altID {
			return m, true, nil
		}
	}
	return Message{}, false, nil
}
