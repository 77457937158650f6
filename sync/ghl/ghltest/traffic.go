package ghltest

import (
	"net/http"
)

// Deliveries and records are the one distinction the sync must never get
// wrong (see the ghl package doc): a delivery makes HighLevel send a message
// to the customer, a record only files one that was sent elsewhere. The
// sandbox counts them apart so that tests, and anyone watching a demo, can
// prove that mirroring delivered nothing.

// TrafficPath is the sandbox-only route that reports Traffic as JSON:
// GET /_sandbox/traffic answers {"deliveries": n, "records": n}. It is not
// in HighLevel's spec and needs no token; the live API has nothing like it.
const TrafficPath = "/_sandbox/traffic"

// Traffic counts the messages that reached a conversation through the API
// since the sandbox started. Seeded messages count as neither.
type Traffic struct {
	// Deliveries are messages HighLevel was asked to deliver to the
	// customer (POST /conversations/messages).
	Deliveries int `json:"deliveries"`
	// Records are messages recorded as delivered elsewhere (POST
	// /conversations/messages/inbound and /outbound).
	Records int `json:"records"`
}

// Traffic returns the delivery and record counts.
func (s *Server) Traffic() Traffic {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Traffic{Deliveries: s.st.deliveries, Records: s.st.records}
}

// serveTraffic answers GET TrafficPath.
func (s *Server) serveTraffic(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody(http.StatusMethodNotAllowed, "use GET "+TrafficPath))
		return
	}
	writeJSON(w, http.StatusOK, s.Traffic())
}
