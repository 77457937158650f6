package engine_test

import (
	"context"
	"testing"
	"time"

	"parley/store"
	"parley/sync/engine"
)

// The call media flow indexes each file with the time of the call it
// belongs to, which is when the message was sent, not when it was fetched.
func TestCallMediaIndexesTheCallTime(t *testing.T) {
	m := newMediaRig(t, rigOptions{})
	calls := []engine.MessageJob{
		callJob("ad-call-1", m.contact, "inbound", "completed", t0),
		callJob("ad-call-2", m.contact, "outbound", "completed", t0.Add(26*time.Hour)),
	}
	m.queue(m.contact, calls[0], calls[1])
	m.run(m.engine(), m.idle)
	for _, call := range calls {
		files, err := m.st.MediaForMessage(context.Background(), m.ghlID(store.KindMessage, call.MessageID))
		if err != nil || len(files) != 2 {
			t.Fatalf("%s: media index = %+v, %v", call.MessageID, files, err)
		}
		for _, f := range files {
			if !f.CallAt.Equal(call.SentAt) {
				t.Errorf("%s: %s indexed with call time %v, want %v (fetched %v)", call.MessageID, f.Kind, f.CallAt, call.SentAt, f.FetchedAt)
			}
		}
	}
}
