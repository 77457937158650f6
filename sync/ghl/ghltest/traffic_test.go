package ghltest

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestTrafficCountsDeliveriesApartFromRecords is the sandbox's half of "do
// no harm": a record and a delivery to the same conversation are counted
// apart, in the Go API and over HTTP, and refused requests count as neither.
func TestTrafficCountsDeliveriesApartFromRecords(t *testing.T) {
	srv, c := seeded(t, Options{})
	conv := srv.Conversations()[0]
	provider := srv.ConversationProviderID()
	if got := srv.Traffic(); got != (Traffic{}) {
		t.Fatalf("a fresh sandbox reports %+v; seeded messages must count as neither", got)
	}
	record := map[string]any{"type": "SMS", "conversationId": conv.ID, "contactId": conv.ContactID,
		"conversationProviderId": provider, "message": "filed", "direction": "inbound", "altId": "ad-1"}
	c.mustDo(200, "POST", "/conversations/messages/inbound", record)
	c.mustDo(200, "POST", "/conversations/messages/outbound", map[string]any{"type": "Call", "conversationId": conv.ID,
		"conversationProviderId": provider, "altId": "ad-2", "call": map[string]any{"to": "+19025550100", "from": "+19025550101", "status": "completed"}})
	c.mustDo(200, "POST", "/conversations/messages", map[string]any{"type": "SMS", "contactId": conv.ContactID, "message": "sent"})
	srv.ExpectRejections()
	bad := map[string]any{"type": "SMS", "conversationId": "nosuchconversation", "contactId": conv.ContactID,
		"conversationProviderId": provider, "message": "x"}
	c.mustDo(400, "POST", "/conversations/messages/inbound", bad)

	want := Traffic{Deliveries: 1, Records: 2}
	if got := srv.Traffic(); got != want {
		t.Errorf("Traffic() = %+v, want %+v", got, want)
	}
	res, err := http.Get(srv.URL() + TrafficPath)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got Traffic
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != 200 || got != want {
		t.Errorf("GET %s = %d %+v (%v), want 200 %+v", TrafficPath, res.StatusCode, got, err, want)
	}
	if r := c.do("POST", TrafficPath, nil, nil); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST %s = %d, want 405", TrafficPath, r.status)
	}
}

// TestRecordStatus201 checks the live API's other success status for
// records, which clients must accept as well as the documented 200.
func TestRecordStatus201(t *testing.T) {
	srv, c := seeded(t, Options{RecordStatus: http.StatusCreated})
	conv := srv.Conversations()[0]
	var ans struct {
		MessageID string `json:"messageId"`
	}
	c.mustDo(201, "POST", "/conversations/messages/inbound", map[string]any{"type": "SMS", "conversationId": conv.ID,
		"contactId": conv.ContactID, "conversationProviderId": srv.ConversationProviderID(), "message": "filed", "altId": "ad-1"}).decode(t, &ans)
	if m, ok := srv.Message(ans.MessageID); !ok || m.AltID != "ad-1" {
		t.Errorf("the 201 record was not stored: %+v", m)
	}
	if _, err := New(Options{RecordStatus: 204}); err == nil {
		t.Error("New accepted RecordStatus 204")
	}
}
