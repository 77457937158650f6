package engine

import (
	"parley/store"
	"parley/sync/activedemand"
)

// APIContactJob is the outbox item that mirrors a contact read from
// ActiveDEMAND's API. The poller and the webhook queue these with
// store.EnqueueBatch.
func APIContactJob(c activedemand.Contact) (store.OutboxJob, error) {
	j := newContactJob(SourceAPI, c)
	return outboxJob(JobMirrorContact, j.Key(), j)
}

// APIMessageJob is the outbox item that mirrors message m of conversation
// cv with contact c, read from ActiveDEMAND's API.
func APIMessageJob(m activedemand.Message, cv activedemand.Conversation, c activedemand.Contact) (store.OutboxJob, error) {
	j, err := newMessageJob(SourceAPI, m, cv, c, nil)
	if err != nil {
		return store.OutboxJob{}, err
	}
	return outboxJob(JobMirrorMessage, j.Key(), j)
}
