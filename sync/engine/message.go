package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/ghl"
	"parley/sync/internal/phone"
)

// A message is mirrored by recording it, never by delivering it:
// ActiveDEMAND already delivered it, and POST /conversations/messages would
// make HighLevel send it to the customer again. Records are
// RecordMessage (POST /conversations/messages/inbound, both directions: the
// outbound route takes only calls, ERRATA 14) and RecordCall (POST
// /conversations/messages/outbound) for outbound calls. Nothing in this
// package calls DeliverMessage.

// conversationKey is the AD-side id under which a contact's HighLevel
// conversation is linked. HighLevel keeps one conversation per contact
// while ActiveDEMAND keeps one per contact and channel, and the id map
// links one id to one id, so the link is per AD contact.
func conversationKey(adContactID string) string { return "contact/" + adContactID }

// channels maps ActiveDEMAND channels to HighLevel record types.
var channels = map[activedemand.Channel]ghl.Channel{
	activedemand.Channel("sms"):   ghl.ChannelSMS,
	activedemand.Channel("email"): ghl.ChannelEmail,
	activedemand.Channel("call"):  ghl.ChannelCall,
	activedemand.Channel("chat"):  ghl.ChannelLiveChat,
}

// callStatuses are the call statuses a record may carry (CallDataDTO).
var callStatuses = map[string]ghl.CallStatus{}

func init() {
	for _, s := range []ghl.CallStatus{ghl.CallPending, ghl.CallCompleted, ghl.CallAnswered, ghl.CallBusy,
		ghl.CallNoAnswer, ghl.CallFailed, ghl.CallCanceled, ghl.CallVoicemail} {
		callStatuses[string(s)] = s
	}
}

// mirrorMessage is a JobMirrorMessage: resolve the contact and its
// conversation, then record the message with the AD message id as altId.
func (e *Engine) mirrorMessage(ctx context.Context, j *job) error {
	mj, err := DecodeMessageJob(j.item.Payload)
	if err != nil {
		return err
	}
	if e.off(ctx, j, SwitchMirror, mj.MessageID, "") || mj.Channel != "call" && e.off(ctx, j, SwitchNonCallMessages, mj.MessageID, "") {
		return nil
	}
	contactID, convID, err := e.resolveConversation(ctx, j, mj)
	if err != nil {
		return err
	}

	if j.retried() {
		// An earlier attempt may have recorded it and died before
		// completing: look before writing again.
		m, found, err := e.ghl.FindMessageByAltID(ctx, convID, mj.MessageID)
		if err != nil {
			return fmt.Errorf("look for message %s in HighLevel conversation %s: %w", mj.MessageID, convID, err)
		}
		if found {
			j.history = append(j.history, store.HistoryEntry{At: e.now(), Operation: store.OpInboundRecord, System: store.SystemGHL,
				LocalID: mj.MessageID, RemoteID: m.ID, Outcome: store.OutcomeSkipped, Attempts: j.item.Attempts,
				Error: "already recorded by an earlier attempt; found by its altId"})
			j.link(store.KindMessage, mj.MessageID, m.ID)
			e.queueCallMedia(j, mj, contactID, m.ID)
			return e.mirrorStatus(ctx, j, mj, m.ID)
		}
	}
	if len(mj.Media) > 0 {
		// Attachments are uploaded first, one job each, and the message
		// is recorded with their URLs by the last (mediaupload.go).
		e.startUploads(j, mj, contactID, convID)
		return nil
	}
	id, err := e.record(ctx, j, mj, contactID, convID, nil)
	if err != nil {
		return err
	}
	j.link(store.KindMessage, mj.MessageID, id)
	e.queueCallMedia(j, mj, contactID, id)
	return e.mirrorStatus(ctx, j, mj, id)
}

// statuses maps the ActiveDEMAND statuses a record does not already say
// (a record is delivered) to HighLevel's.
var statuses = map[activedemand.MessageStatus]ghl.MessageStatus{
	activedemand.MessageRead:    ghl.StatusRead,
	activedemand.MessageFailed:  ghl.StatusFailed,
	activedemand.MessagePending: ghl.StatusPending,
}

// mirrorStatus sets the recorded message's status when ActiveDEMAND's says
// more than delivered. HighLevel lets only the conversation provider's app
// set a status: a 403 is recorded once in history and not retried (it
// would be refused again), and the message stays mirrored.
func (e *Engine) mirrorStatus(ctx context.Context, j *job, mj MessageJob, ghlID string) error {
	st, ok := statuses[activedemand.MessageStatus(mj.Status)]
	if !ok || e.off(ctx, j, SwitchMirrorStatus, mj.MessageID, ghlID) {
		return nil
	}
	_, err := e.call(ctx, j, store.OpStatusUpdate, http.MethodPut, mj.MessageID, true, func(ctx context.Context) (string, error) {
		_, err := e.ghl.UpdateMessageStatus(ctx, ghlID, ghl.StatusUpdate{Status: st})
		return ghlID, err
	})
	if errors.Is(err, ghl.ErrForbidden) {
		row := &j.history[len(j.history)-1]
		row.Error = "HighLevel lets only the conversation provider's app set a message's status; status " + string(st) + " was not mirrored and is not tried again: " + row.Error
		return nil
	}
	return err
}

// resolveConversation finds or makes the message's HighLevel contact and
// its conversation.
func (e *Engine) resolveConversation(ctx context.Context, j *job, mj MessageJob) (contactID, convID string, err error) {
	c := e.res.lock(mj.Contact.ID)
	defer c.mu.Unlock()
	if c.ghlContact == "" {
		id, ok, err := e.st.GHLIDFor(ctx, store.KindContact, mj.Contact.ID)
		if err != nil {
			return "", "", err
		}
		c.contactLinked = ok
		if !ok {
			in, err := e.mapContact(ctx, j, mj.Contact.ID, messageRecord(mj))
			if err != nil {
				return "", "", err
			}
			if in.Email == "" && in.Phone == "" {
				return "", "", fmt.Errorf("message %s: %w: its ActiveDEMAND contact %s has neither an email nor a usable phone number to find or create it by in HighLevel; add one in ActiveDEMAND, then replay the job",
					mj.MessageID, errPermanent, mj.Contact.ID)
			}
			if id, c.created, err = e.findOrUpsert(ctx, j, mj.Contact.ID, in); err != nil {
				return "", "", err
			}
		}
		c.ghlContact = id
	}
	if c.ghlConv == "" {
		key := conversationKey(mj.Contact.ID)
		id, ok, err := e.st.GHLIDFor(ctx, store.KindConversation, key)
		if err != nil {
			return "", "", err
		}
		c.convLinked = ok
		if !ok {
			if id, err = e.findOrCreateConversation(ctx, j, key, c.ghlContact, !c.created); err != nil {
				if errors.Is(err, ghl.ErrNotFound) || errors.Is(err, ghl.ErrValidation) {
					err = fmt.Errorf("message %s: the HighLevel contact %s of ActiveDEMAND contact %s is gone or refused (%w); if it was deleted in HighLevel, unlink it and replay the job",
						mj.MessageID, c.ghlContact, mj.Contact.ID, err)
				}
				return "", "", err
			}
		}
		c.ghlConv = id
	}
	// Until a job that links them completes, every job links them: the
	// job that learnt them may yet fail.
	if !c.contactLinked {
		j.link(store.KindContact, mj.Contact.ID, c.ghlContact)
		j.onDone(func() { c.mu.Lock(); c.contactLinked = true; c.mu.Unlock() })
	}
	if !c.convLinked {
		j.link(store.KindConversation, conversationKey(mj.Contact.ID), c.ghlConv)
		j.onDone(func() { c.mu.Lock(); c.convLinked = true; c.mu.Unlock() })
	}
	return c.ghlContact, c.ghlConv, nil
}

// findOrCreateConversation searches the contact's conversation, creating it
// when there is none. A create whose outcome is unknown, or that HighLevel
// refuses because the contact has one already (another process made it),
// is followed by another search. Without searchFirst, for a contact just
// created, it creates at once: HighLevel keeps one conversation per
// contact and refuses a second, so a conversation made in between is
// found by that search, never duplicated.
func (e *Engine) findOrCreateConversation(ctx context.Context, j *job, key, ghlContact string, searchFirst bool) (string, error) {
	search := func() (string, error) {
		return e.call(ctx, j, store.OpConversationUpsert, http.MethodGet, key, false, func(ctx context.Context) (string, error) {
			page, err := e.ghl.SearchConversationsPage(ctx, ghl.SearchConversationsRequest{ContactID: ghlContact, Limit: 5})
			if err != nil {
				return "", err
			}
			for _, cv := range page.Conversations {
				if cv.ContactID == ghlContact {
					return cv.ID, nil
				}
			}
			return "", nil
		})
	}
	if searchFirst {
		id, err := search()
		if err != nil || id != "" {
			return id, err
		}
	}
	id, err := e.call(ctx, j, store.OpConversationUpsert, http.MethodPost, key, true, func(ctx context.Context) (string, error) {
		cv, err := e.ghl.CreateConversation(ctx, ghlContact)
		return cv.ID, err
	})
	if err == nil || !(errors.Is(err, ghl.ErrOutcomeUnknown) || errors.Is(err, ghl.ErrValidation)) {
		return id, err
	}
	found, serr := search()
	if serr != nil || found == "" {
		return "", err
	}
	// The create's failure is explained: the conversation exists.
	j.history[len(j.history)-1].Outcome = store.OutcomeSkipped
	return found, nil
}

// record records the message in its conversation with the attachments'
// URLs and returns the HighLevel message id.
func (e *Engine) record(ctx context.Context, j *job, mj MessageJob, contactID, convID string, attachments []string) (string, error) {
	typ, ok := channels[activedemand.Channel(mj.Channel)]
	if !ok {
		return "", fmt.Errorf("message %s: %w: channel %q has no HighLevel record type", mj.MessageID, errPermanent, mj.Channel)
	}
	var call *ghl.CallData
	if mj.Call != nil {
		call = &ghl.CallData{Status: callStatuses[mj.Call.Status]}
		if mj.Direction == string(activedemand.Inbound) {
			call.From = e.e164(firstNonEmpty(mj.SenderPhone, mj.Contact.Phone))
		} else {
			call.From, call.To = e.e164(mj.SenderPhone), e.e164(mj.Contact.Phone)
		}
	}
	if typ == ghl.ChannelCall && mj.Direction == string(activedemand.Outbound) {
		return e.call(ctx, j, store.OpOutboundRecord, http.MethodPost, mj.MessageID, true, func(ctx context.Context) (string, error) {
			data := ghl.CallData{}
			if call != nil {
				data = *call
			}
			r, err := e.ghl.RecordCall(ctx, ghl.CallRecord{ConversationID: convID, ConversationProviderID: e.cfg.ProviderID,
				AltID: mj.MessageID, Date: mj.SentAt, Call: data, Attachments: attachments})
			return r.MessageID, err
		})
	}
	req := ghl.RecordRequest{Type: typ, ConversationID: convID, ContactID: contactID, ConversationProviderID: e.cfg.ProviderID,
		AltID: mj.MessageID, Direction: ghl.Direction(mj.Direction), Date: mj.SentAt, Message: mj.Body, Call: call, Attachments: attachments}
	if typ == ghl.ChannelEmail {
		req.Subject = firstNonEmpty(mj.Subject, mj.Conversation.Subject)
		if mj.Direction == string(activedemand.Inbound) {
			req.EmailFrom = mj.SenderAddress
		} else {
			req.EmailTo = mj.Contact.Email
		}
	}
	return e.call(ctx, j, store.OpInboundRecord, http.MethodPost, mj.MessageID, true, func(ctx context.Context) (string, error) {
		r, err := e.ghl.RecordMessage(ctx, req)
		return r.MessageID, err
	})
}

// e164 is raw in E.164, or empty when it is not a phone number.
func (e *Engine) e164(raw string) string {
	if raw == "" {
		return ""
	}
	p, err := phone.Normalize(raw, e.cfg.PhoneRegion)
	if err != nil {
		return ""
	}
	return p
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
