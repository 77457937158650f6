package engine

// Flow 1's conversation update: when ActiveDEMAND marks a conversation
// unread or starred (or clears the marks), the contact's HighLevel
// conversation is updated to match (PUT /conversations/{id}), once per
// change. The poller queues a job only when a conversation's marks differ
// from the last ones it queued for it, so a conversation polled again and
// again, or never marked at all, costs no call.
//
// HighLevel keeps one conversation per contact while ActiveDEMAND keeps one
// per contact and channel: the marks of the contact's AD conversations
// meet in one HighLevel conversation, and the latest change wins.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"parley/store"
	"parley/sync/activedemand"
	"parley/sync/ghl"
)

// JobConversationFlags sets a HighLevel conversation's unread and starred
// marks to ActiveDEMAND's; its payload is a ConversationFlagsJob.
const JobConversationFlags = "mirror.conversation.flags"

func init() {
	jobWorkers[JobConversationFlags] = (*Engine).updateConversationFlags
	dryRunKinds[JobConversationFlags] = (*dryRun).conversationFlags
}

// ConversationFlagsJob is the payload of a JobConversationFlags item.
type ConversationFlagsJob struct {
	// V is JobVersion.
	V int `json:"v"`
	// ConversationID and ContactID are ActiveDEMAND's.
	ConversationID string `json:"conversation_id"`
	ContactID      string `json:"contact_id"`
	Unread         bool   `json:"unread"`
	Starred        bool   `json:"starred"`
}

// flagsKeyPrefix starts the outbox keys of a conversation's flag jobs.
func flagsKeyPrefix(adConv string) string { return "ad:conversation:" + adConv + ":flags:" }

// marks is the state part of a flags key: "u1s0".
func marks(unread, starred bool) string {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	return "u" + b(unread) + "s" + b(starred)
}

// flagsJob is the job that brings cv's marks to HighLevel, or ok false when
// HighLevel already has them as far as the outbox knows: the last flags
// job queued for cv carried the same marks, or none was ever queued and cv
// is neither unread nor starred (HighLevel's default).
func flagsJob(ctx context.Context, st *store.Store, cv activedemand.Conversation) (job store.OutboxJob, ok bool, err error) {
	prefix := flagsKeyPrefix(string(cv.ID))
	last, queued, err := st.LatestOutboxKey(ctx, prefix)
	if err != nil {
		return store.OutboxJob{}, false, fmt.Errorf("sync poller: %w", err)
	}
	m := marks(cv.Unread, cv.Starred)
	if queued && strings.HasPrefix(strings.TrimPrefix(last, prefix), m+"@") {
		return store.OutboxJob{}, false, nil
	}
	if !queued && !cv.Unread && !cv.Starred {
		return store.OutboxJob{}, false, nil
	}
	// The change's time makes the key new for every change, even back to
	// marks queued before.
	key := prefix + m + "@" + cv.UpdatedAt.UTC().Format("20060102T150405.000000000")
	job, err = outboxJob(JobConversationFlags, key, ConversationFlagsJob{V: JobVersion, ConversationID: string(cv.ID),
		ContactID: string(cv.ContactID), Unread: cv.Unread, Starred: cv.Starred})
	return job, err == nil, err
}

// DecodeConversationFlagsJob reads a JobConversationFlags payload.
func DecodeConversationFlagsJob(payload []byte) (ConversationFlagsJob, error) {
	var j ConversationFlagsJob
	if err := decodeJob(JobConversationFlags, payload, &j, func() int { return j.V }); err != nil {
		return ConversationFlagsJob{}, err
	}
	if j.ConversationID == "" || j.ContactID == "" {
		return ConversationFlagsJob{}, fmt.Errorf("decode %s: %w: conversation_id or contact_id is empty", JobConversationFlags, ErrJobPayload)
	}
	return j, nil
}

// updateConversationFlags is a JobConversationFlags: PUT the marks on the
// contact's HighLevel conversation. Until the contact's messages have made
// or found that conversation, it waits and is tried again.
func (e *Engine) updateConversationFlags(ctx context.Context, j *job) error {
	fj, err := DecodeConversationFlagsJob(j.item.Payload)
	if err != nil {
		return err
	}
	if e.off(ctx, j, SwitchMirrorStatus, fj.ConversationID, "") {
		return nil
	}
	ghlConv, err := e.linkedConversation(ctx, fj.ContactID)
	if err != nil {
		return err
	}
	if ghlConv == "" {
		err := fmt.Errorf("conversation %s: the HighLevel conversation of ActiveDEMAND contact %s is not known yet; its messages make or find it first, then this update is tried again",
			fj.ConversationID, fj.ContactID)
		// History files the wait under the conversation's operation, not
		// the message record the worker's default names.
		j.history = append(j.history, store.HistoryEntry{At: e.now(), Operation: store.OpConversationUpsert, System: store.SystemGHL,
			LocalID: fj.ConversationID, Outcome: store.OutcomeFailed, Attempts: j.item.Attempts, Error: err.Error()})
		return err
	}
	unread := 0
	if fj.Unread {
		unread = 1
	}
	_, err = e.call(ctx, j, store.OpConversationUpsert, http.MethodPut, fj.ConversationID, true, func(ctx context.Context) (string, error) {
		cv, err := e.ghl.UpdateConversation(ctx, ghlConv, ghl.UpdateConversationRequest{UnreadCount: &unread, Starred: &fj.Starred})
		return cmpOr(cv.ID, ghlConv), err
	})
	return err
}

// linkedConversation is the HighLevel conversation this process or the id
// map knows for an AD contact, or "".
func (e *Engine) linkedConversation(ctx context.Context, adContact string) (string, error) {
	c := e.res.lock(adContact)
	id := c.ghlConv
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	id, _, err := e.st.GHLIDFor(ctx, store.KindConversation, conversationKey(adContact))
	return id, err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// conversationFlags predicts a JobConversationFlags.
func (d *dryRun) conversationFlags(_ context.Context, payload []byte) error {
	var fj ConversationFlagsJob
	if json.Unmarshal(payload, &fj) != nil {
		return nil
	}
	d.add(DryUpdateConversation, fj.ConversationID, fmt.Sprintf("mark the HighLevel conversation of ActiveDEMAND conversation %s %s and %s",
		fj.ConversationID, map[bool]string{true: "unread", false: "read"}[fj.Unread], map[bool]string{true: "starred", false: "not starred"}[fj.Starred]))
	return nil
}
