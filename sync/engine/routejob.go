package engine

import (
	"encoding/json"
	"fmt"
	"time"
)

// JobRouteTranscript applies the routing rules to one call's transcript
// once it is stored in the data folder (store media index, kind
// transcript, in the sync/transcript format); its payload is a RouteJob.
// The job that stores the transcript queues it (job.then), so a
// transcript is routed once even if the engine dies in between.
const JobRouteTranscript = "route.transcript"

// RouteJob is the payload of a JobRouteTranscript item: which call, of
// whom, in which direction, with ids on both sides for the actions.
type RouteJob struct {
	// V is JobVersion.
	V            int    `json:"v"`
	ADContactID  string `json:"ad_contact_id"`
	GHLContactID string `json:"ghl_contact_id"`
	ADMessageID  string `json:"ad_message_id"`
	// GHLMessageID is the recorded call; its transcript is the store's
	// media row (GHLMessageID, transcript).
	GHLMessageID string `json:"ghl_message_id"`
	// Channel is the AD channel (call); Direction inbound or outbound.
	Channel   string    `json:"channel"`
	Direction string    `json:"direction"`
	At        time.Time `json:"at"`
}

// Key routes each call's transcript once.
func (j RouteJob) Key() string { return "route:transcript:" + j.GHLMessageID }

// Payload is the job's outbox payload.
func (j RouteJob) Payload() []byte {
	j.V = JobVersion
	b, _ := json.Marshal(j)
	return b
}

// DecodeRouteJob reads a JobRouteTranscript payload.
func DecodeRouteJob(payload []byte) (RouteJob, error) {
	var j RouteJob
	if err := decodeJob(JobRouteTranscript, payload, &j, func() int { return j.V }); err != nil {
		return RouteJob{}, err
	}
	if j.GHLMessageID == "" || j.GHLContactID == "" {
		return RouteJob{}, fmt.Errorf("decode %s: %w: ghl_message_id and ghl_contact_id are required", JobRouteTranscript, ErrJobPayload)
	}
	return j, nil
}
