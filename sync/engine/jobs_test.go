package engine_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"parley/sync/engine"
)

var sampleMessage = engine.MessageJob{
	V: engine.JobVersion, Source: engine.SourceAPI, MessageID: "m-1",
	Conversation: engine.ConversationRef{ID: "c-1", Subject: "Quote"},
	Contact:      engine.ContactRef{ID: "4100001", Name: "Olivia Roy", Email: "olivia@example.com", Phone: "+19025551000"},
	Channel:      "call", Direction: "inbound", Body: "", SentAt: time.Date(2025, 3, 1, 9, 15, 0, 0, time.UTC), Status: "completed",
	Media: []engine.MediaJob{{URL: "files/a.pdf", Name: "a.pdf", ContentType: "application/pdf", Size: 10, File: "/x/files/a.pdf"}},
	Call:  &engine.CallJob{DurationMS: 125000, Status: "completed", RecordingURL: "https://x/1.wav", Transcription: "Hello."},
}

var sampleContact = engine.ContactJob{
	V: engine.JobVersion, Source: engine.SourceImport, ContactID: "4100001", FirstName: "Olivia", LastName: "Roy",
	Email: "olivia@example.com", Emails: []string{"olivia@example.com"}, Custom: map[string]string{"custom_1": "Maple Dental"},
	Fields: map[string]string{"notes": "x"}, CreatedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
}

func TestJobsRoundTrip(t *testing.T) {
	b, err := json.Marshal(sampleMessage)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"v":1,`) {
		t.Errorf("payload does not start with its version: %s", b)
	}
	m, err := engine.DecodeMessageJob(b)
	if err != nil || !reflect.DeepEqual(m, sampleMessage) {
		t.Fatalf("message round trip = %+v, %v", m, err)
	}
	if m.Key() != "ad:message:m-1" || m.Call.Duration() != 125*time.Second {
		t.Errorf("key %q, duration %v", m.Key(), m.Call.Duration())
	}
	b, err = json.Marshal(sampleContact)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "updated_at") {
		t.Errorf("a zero time is written: %s", b)
	}
	c, err := engine.DecodeContactJob(b)
	if err != nil || !reflect.DeepEqual(c, sampleContact) {
		t.Fatalf("contact round trip = %+v, %v", c, err)
	}
}

func TestContactKey(t *testing.T) {
	base := sampleContact
	fromAPI := base
	fromAPI.Source = engine.SourceAPI
	renamed := base
	renamed.LastName = "Roy-Gagnon"
	recustomed := base
	recustomed.Custom = map[string]string{"custom_1": "Maple Dental Inc."}
	other := base
	other.ContactID = "4100002"
	tests := []struct {
		name string
		c    engine.ContactJob
		same bool
	}{
		{"the same contact read again", base, true},
		{"the same contact from the API", fromAPI, true},
		{"a changed name", renamed, false},
		{"a changed custom field", recustomed, false},
		{"another contact", other, false},
	}
	for _, tt := range tests {
		if got := tt.c.Key() == base.Key(); got != tt.same {
			t.Errorf("%s: key %q vs %q, same = %v, want %v", tt.name, tt.c.Key(), base.Key(), got, tt.same)
		}
		if !strings.HasPrefix(tt.c.Key(), "ad:contact:"+tt.c.ContactID+"@") {
			t.Errorf("%s: key %q does not name the contact", tt.name, tt.c.Key())
		}
	}
}

func TestDecodeRejectsPayloadsItCannotWork(t *testing.T) {
	good, _ := json.Marshal(sampleMessage)
	with := func(edit func(map[string]any)) string {
		var m map[string]any
		_ = json.Unmarshal(good, &m)
		edit(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name, payload, want string
	}{
		{"not JSON", `{"v":1,`, "unexpected end"},
		{"a newer version", with(func(m map[string]any) { m["v"] = 2 }), "version 2"},
		{"no version", with(func(m map[string]any) { delete(m, "v") }), "version 0"},
		{"no message id", with(func(m map[string]any) { m["message_id"] = "" }), "message_id"},
		{"no contact", with(func(m map[string]any) { delete(m, "contact") }), "contact.id"},
		{"no conversation", with(func(m map[string]any) { delete(m, "conversation") }), "conversation.id"},
		{"an unknown channel", with(func(m map[string]any) { m["channel"] = "fax" }), `channel "fax"`},
		{"an unknown direction", with(func(m map[string]any) { m["direction"] = "sideways" }), `direction "sideways"`},
		{"no time", with(func(m map[string]any) { delete(m, "sent_at") }), "sent_at"},
		{"a negative call", with(func(m map[string]any) { m["call"] = map[string]any{"duration_ms": -1} }), "negative"},
		{"a wrong type", with(func(m map[string]any) { m["body"] = 12 }), "cannot unmarshal"},
	}
	for _, tt := range tests {
		_, err := engine.DecodeMessageJob([]byte(tt.payload))
		if !errors.Is(err, engine.ErrJobPayload) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want ErrJobPayload mentioning %q", tt.name, err, tt.want)
		}
	}
	for _, p := range []string{`{"v":1}`, `{"v":2,"contact_id":"1"}`, `[]`} {
		if _, err := engine.DecodeContactJob([]byte(p)); !errors.Is(err, engine.ErrJobPayload) {
			t.Errorf("DecodeContactJob(%s) = %v, want ErrJobPayload", p, err)
		}
	}
}

// FuzzDecodeJobs: any payload decodes or fails with ErrJobPayload, and what
// decodes survives a round trip unchanged.
func FuzzDecodeJobs(f *testing.F) {
	m, _ := json.Marshal(sampleMessage)
	c, _ := json.Marshal(sampleContact)
	f.Add(m)
	f.Add(c)
	f.Add([]byte(`{"v":1,"message_id":"x","contact":{"id":"c"},"conversation":{"id":"v"},"channel":"sms","direction":"outbound","sent_at":"2025-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"v":1,"contact_id":"1","custom":{"custom_1":null}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if j, err := engine.DecodeMessageJob(payload); err != nil {
			if !errors.Is(err, engine.ErrJobPayload) {
				t.Fatalf("message: error %v is not ErrJobPayload", err)
			}
		} else {
			b, err := json.Marshal(j)
			if err != nil {
				t.Fatal(err)
			}
			again, err := engine.DecodeMessageJob(b)
			if err != nil || !reflect.DeepEqual(again, j) {
				t.Fatalf("message round trip: %+v, %v\nfrom %s", again, err, b)
			}
		}
		if j, err := engine.DecodeContactJob(payload); err != nil {
			if !errors.Is(err, engine.ErrJobPayload) {
				t.Fatalf("contact: error %v is not ErrJobPayload", err)
			}
		} else {
			b, err := json.Marshal(j)
			if err != nil {
				t.Fatal(err)
			}
			again, err := engine.DecodeContactJob(b)
			if err != nil || again.Key() != j.Key() {
				t.Fatalf("contact round trip changed its key: %+v, %v", again, err)
			}
		}
	})
}
