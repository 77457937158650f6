package ghl

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"time"
)

// ListMessagesRequest pages a conversation's messages, newest first.
type ListMessagesRequest struct {
	// Limit is the page size (0 = HighLevel's default).
	Limit int
	// LastMessageID starts after this message (the previous page's
	// MessagePage.LastMessageID); "" starts at the newest.
	LastMessageID string
	// Type filters by message type, e.g. "TYPE_CALL" (one value; the
	// spec's example shows a comma list, its schema one enum, ERRATA 16).
	Type string
}

// ListMessagesPage reads one page of a conversation's messages.
func (c *Client) ListMessagesPage(ctx context.Context, conversationID string, req ListMessagesRequest) (MessagePage, error) {
	const op = "ghl: list messages"
	if err := needIDs(op, "conversation id", conversationID); err != nil {
		return MessagePage{}, err
	}
	q := url.Values{}
	if req.Limit > 0 {
		q.Set("limit", strconv.Itoa(req.Limit))
	}
	if req.LastMessageID != "" {
		q.Set("lastMessageId", req.LastMessageID)
	}
	if req.Type != "" {
		q.Set("type", req.Type)
	}
	var out MessagePage
	err := c.getJSON(ctx, op, routeListMessages, fill(routeListMessages.path, conversationID), q,
		func(b []byte) (err error) { out, err = decodeMessages(b); return err })
	return out, err
}

// ListMessages iterates over a conversation's messages from the newest to
// the oldest, fetching pages (by lastMessageId) as needed and stopping early
// when the caller breaks. An error is yielded once, as the last element.
func (c *Client) ListMessages(ctx context.Context, conversationID string, req ListMessagesRequest) iter.Seq2[Message, error] {
	return func(yield func(Message, error) bool) {
		seen := map[string]bool{}
		for {
			page, err := c.ListMessagesPage(ctx, conversationID, req)
			if err != nil {
				yield(Message{}, err)
				return
			}
			for _, m := range page.Messages {
				if !yield(m, nil) {
					return
				}
			}
			if !page.NextPage || len(page.Messages) == 0 {
				return
			}
			next := page.LastMessageID
			if next == "" {
				next = page.Messages[len(page.Messages)-1].ID
			}
			if seen[next] || next == req.LastMessageID {
				yield(Message{}, fmt.Errorf("ghl: list messages: paging stopped: cursor %q came back", next))
				return
			}
			seen[next] = true
			req.LastMessageID = next
		}
	}
}

// GetMessage reads one message.
func (c *Client) GetMessage(ctx context.Context, messageID string) (Message, error) {
	const op = "ghl: get message"
	if err := needIDs(op, "message id", messageID); err != nil {
		return Message{}, err
	}
	var out Message
	err := c.getJSON(ctx, op, routeGetMessage, fill(routeGetMessage.path, messageID), nil,
		func(b []byte) (err error) { out, err = decodeMessage(b); return err })
	return out, err
}

// DeliveryRequest is a message for HighLevel to deliver to the customer
// (SendMessageBodyDto).
type DeliveryRequest struct {
	// Type is the channel: SMS, Email, WhatsApp, Custom, ...
	Type      Channel
	ContactID string
	// Message is the text (SMS, WhatsApp, Custom; plain-text email).
	Message string
	// Email fields.
	Subject, HTML      string
	EmailFrom, EmailTo string
	EmailCc, EmailBcc  []string
	// EmailReplyMode is "reply" or "reply_all".
	EmailReplyMode string
	ReplyMessageID string
	ThreadID       string
	TemplateID     string
	AppointmentID  string
	// Attachments are URLs, e.g. from UploadAttachment.
	Attachments []string
	// ScheduledAt schedules the message (sent as epoch seconds); a
	// scheduled email can be cancelled with CancelScheduledEmail.
	ScheduledAt time.Time
	// ConversationProviderID picks the provider for Custom messages.
	ConversationProviderID string
	FromNumber, ToNumber   string
	// SubType and Status are listed as required by the spec's
	// SendMessageBodyDto, but whether the live API enforces them is
	// unknown (ERRATA 5); they are sent only when set.
	SubType string
	Status  MessageStatus
}

type deliveryBody struct {
	Type                   Channel       `json:"type"`
	SubType                string        `json:"subType,omitempty"`
	ContactID              string        `json:"contactId"`
	AppointmentID          string        `json:"appointmentId,omitempty"`
	Attachments            []string      `json:"attachments,omitempty"`
	EmailFrom              string        `json:"emailFrom,omitempty"`
	EmailCc                []string      `json:"emailCc,omitempty"`
	EmailBcc               []string      `json:"emailBcc,omitempty"`
	HTML                   string        `json:"html,omitempty"`
	Message                string        `json:"message,omitempty"`
	Subject                string        `json:"subject,omitempty"`
	ReplyMessageID         string        `json:"replyMessageId,omitempty"`
	TemplateID             string        `json:"templateId,omitempty"`
	ThreadID               string        `json:"threadId,omitempty"`
	ScheduledTimestamp     int64         `json:"scheduledTimestamp,omitempty"`
	ConversationProviderID string        `json:"conversationProviderId,omitempty"`
	EmailTo                string        `json:"emailTo,omitempty"`
	EmailReplyMode         string        `json:"emailReplyMode,omitempty"`
	FromNumber             string        `json:"fromNumber,omitempty"`
	ToNumber               string        `json:"toNumber,omitempty"`
	Status                 MessageStatus `json:"status,omitempty"`
}

// DeliverMessage makes HighLevel send a message to the customer: the
// customer receives it (SMS, email, WhatsApp, ...). It is for messages
// Parley itself sends; to mirror a message ActiveDEMAND already delivered,
// use RecordMessage.
//
// It is never retried once the request may have reached HighLevel: after a
// timeout, a lost connection or a 5xx answer the error matches
// ErrOutcomeUnknown, and the caller must check the conversation before
// sending again, or the customer may get the message twice.
func (c *Client) DeliverMessage(ctx context.Context, req DeliveryRequest) (DeliveryResult, error) {
	const op = "ghl: deliver message"
	if req.Type == "" {
		return DeliveryResult{}, fmt.Errorf("%s: the message type (channel) is empty", op)
	}
	if err := needIDs(op, "contact id", req.ContactID); err != nil {
		return DeliveryResult{}, err
	}
	body := deliveryBody{
		Type: req.Type, SubType: req.SubType, ContactID: req.ContactID, AppointmentID: req.AppointmentID,
		Attachments: req.Attachments, EmailFrom: req.EmailFrom, EmailCc: req.EmailCc, EmailBcc: req.EmailBcc,
		HTML: req.HTML, Message: req.Message, Subject: req.Subject, ReplyMessageID: req.ReplyMessageID,
		TemplateID: req.TemplateID, ThreadID: req.ThreadID, ConversationProviderID: req.ConversationProviderID,
		EmailTo: req.EmailTo, EmailReplyMode: req.EmailReplyMode, FromNumber: req.FromNumber, ToNumber: req.ToNumber,
		Status: req.Status,
	}
	if !req.ScheduledAt.IsZero() {
		body.ScheduledTimestamp = req.ScheduledAt.Unix()
	}
	b, err := jsonBody(op, body)
	if err != nil {
		return DeliveryResult{}, err
	}
	var out DeliveryResult
	err = c.do(ctx, &request{
		op: op, rt: routeDeliverMessage, path: routeDeliverMessage.path, class: unsafe,
		body: b, contentType: "application/json",
		decode: func(b []byte) (err error) { out, err = decodeDelivery(b); return err },
	})
	return out, err
}

// ProviderError is the error a custom conversation provider reports with
// a failed status.
type ProviderError struct {
	Code    string `json:"code"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

// StatusUpdate is a delivery status report for a message of the
// location's custom conversation provider.
type StatusUpdate struct {
	// Status is delivered, failed, pending or read.
	Status MessageStatus
	// Error explains a failed status.
	Error *ProviderError
	// EmailMessageID and Recipients report per-recipient email status.
	EmailMessageID string
	Recipients     []string
}

// UpdateMessageStatus sets the delivery status of a message sent through
// the location's custom conversation provider.
func (c *Client) UpdateMessageStatus(ctx context.Context, messageID string, req StatusUpdate) (DeliveryResult, error) {
	const op = "ghl: update message status"
	if err := needIDs(op, "message id", messageID); err != nil {
		return DeliveryResult{}, err
	}
	switch req.Status {
	case StatusDelivered, StatusFailed, StatusPending, StatusRead:
	default:
		return DeliveryResult{}, fmt.Errorf("%s: status %q: HighLevel accepts delivered, failed, pending or read", op, req.Status)
	}
	b, err := jsonBody(op, struct {
		Status         MessageStatus  `json:"status"`
		Error          *ProviderError `json:"error,omitempty"`
		EmailMessageID string         `json:"emailMessageId,omitempty"`
		Recipients     []string       `json:"recipients,omitempty"`
	}{req.Status, req.Error, req.EmailMessageID, req.Recipients})
	if err != nil {
		return DeliveryResult{}, err
	}
	var out DeliveryResult
	err = c.do(ctx, &request{
		op: op, rt: routeMessageStatus, path: fill(routeMessageStatus.path, messageID), class: idempotent,
		body: b, contentType: "application/json",
		decode: func(b []byte) (err error) { out, err = decodeDelivery(b); return err },
	})
	return out, err
}

// CancelScheduledEmail cancels an email scheduled with DeliverMessage
// (ScheduledAt), by its DeliveryResult.EmailMessageID.
func (c *Client) CancelScheduledEmail(ctx context.Context, emailMessageID string) error {
	const op = "ghl: cancel scheduled email"
	if err := needIDs(op, "email message id", emailMessageID); err != nil {
		return err
	}
	rt := routeCancelScheduledEmail
	return c.do(ctx, &request{
		op: op, rt: rt, path: fill(rt.path, emailMessageID), class: idempotent,
		decode: func(b []byte) error {
			status, msg, err := decodeCancel(b)
			if err != nil {
				return err
			}
			// CancelScheduledResponseDto carries its own status; a
			// non-2xx one there means nothing was cancelled.
			if status != 0 && (status < 200 || status > 299) {
				ae := &APIError{Op: op, Method: rt.method, Route: rt.path, Status: status, Scope: rt.scope, Hint: hintFor(status, rt.scope)}
				if msg != "" {
					ae.Messages = []string{msg}
				}
				return ae
			}
			return nil
		},
	})
}
