package activedemand

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeContacts(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []Contact
		// errField and errText describe the expected DecodeError.
		errField, errText string
	}{
		{name: "array with flat keys", body: `[{"id": 12, "first_name": "Ann", "emails.email_address": "ann@example.com", "phones.phone_number": "+1902", "custom_3": "vip"}]`,
			want: []Contact{{ID: "12", FirstName: "Ann", Email: "ann@example.com", Phone: "+1902", Emails: []string{"ann@example.com"}, Phones: []string{"+1902"}, Custom: map[string]string{"custom_3": "vip"}}}},
		{name: "single object instead of an array", body: `{"id": "12", "last_name": "Lee"}`,
			want: []Contact{{ID: "12", LastName: "Lee"}}},
		{name: "id as a float with no fraction", body: `[{"id": 12.0}]`, want: []Contact{{ID: "12"}}},
		{name: "nested emails and phones", body: `[{"id": 1, "emails": [{"email_address": "a@x.io"}, {"email_address": "b@x.io"}], "phones": ["+1 902"]}]`,
			want: []Contact{{ID: "1", Email: "a@x.io", Emails: []string{"a@x.io", "b@x.io"}, Phone: "+1 902", Phones: []string{"+1 902"}}}},
		{name: "missing fields", body: `[{}]`, want: []Contact{{}}},
		{name: "null", body: `null`, want: []Contact{}},
		{name: "empty array", body: `[]`, want: []Contact{}},
		{name: "numbers and booleans as text", body: `[{"id": 1, "first_name": 42, "custom_1": true, "score": 7}]`,
			want: []Contact{{ID: "1", FirstName: "42", Custom: map[string]string{"custom_1": "true"}, Fields: map[string]string{"score": "7"}}}},
		{name: "invalid UTF-8 replaced", body: "[{\"id\": 1, \"first_name\": \"A\xffB\"}]", want: []Contact{{ID: "1", FirstName: "A\uFFFDB"}}},
		{name: "timestamps in several spellings", body: `[{"id": 1, "created_at": "2025-01-02 03:04:05", "updated_at": 1735787045}]`,
			want: []Contact{{ID: "1", CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), UpdatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}}},
		{name: "id is an object", body: `[{"id": {"x": 1}}]`, errField: "id", errText: "want an id (number or text), got an object"},
		{name: "id with a fraction", body: `[{"id": 1.5}]`, errField: "id", errText: "whole-number id"},
		{name: "id with a slash", body: `[{"id": "1/2"}]`, errField: "id", errText: "contains / ? or #"},
		{name: "first name is a list", body: `[{"first_name": ["A"]}]`, errField: "first_name", errText: "want text, got a list"},
		{name: "bad timestamp", body: `[{"updated_at": "yesterday"}]`, errField: "updated_at", errText: "want a date and time"},
		{name: "nested email of the wrong type", body: `[{"emails": [{"email_address": {"v": 1}}]}]`, errField: "emails[0].email_address", errText: "want text"},
		{name: "item is a string", body: `["x"]`, errText: "item 0: want an object, got text"},
		{name: "not JSON", body: `<html>`, errText: "not JSON"},
		{name: "trailing data", body: `[] []`, errText: "data after the JSON value"},
		{name: "error object with status 200", body: `{"error": "Invalid API key"}`, errText: "replied with an error: Invalid API key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := decodeItems("list contacts", []byte(tt.body), "", decodeContact)
			if tt.errText != "" {
				var de *DecodeError
				if !errors.As(err, &de) || !errors.Is(err, ErrBadResponse) || de.Field != tt.errField || !strings.Contains(err.Error(), tt.errText) || !strings.Contains(err.Error(), "list contacts") {
					t.Fatalf("err = %v (field %q), want field %q saying %q", err, fieldOf(err), tt.errField, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func fieldOf(err error) string {
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Field
	}
	return ""
}

func TestDecodeMessages(t *testing.T) {
	body := `[{"id": 7, "conversation_id": "3", "contact_id": 2, "channel": "SMS", "direction": "outgoing", "body": "hi", "sent_at": "2025-05-01T10:00:00.5Z",
	  "status": "Delivered", "media": {"url": "https://x/a.png", "name": "a.png", "size": "120"},
	  "call": {"duration": "62.5", "status": "completed", "recording_url": "https://x/r.wav", "transcript": "Agent: hi"}}]`
	got, _, err := decodeItems("list messages", []byte(body), "", decodeMessage)
	if err != nil {
		t.Fatal(err)
	}
	want := Message{ID: "7", ConversationID: "3", ContactID: "2", Channel: ChannelSMS, Direction: Outbound, Body: "hi",
		SentAt: time.Date(2025, 5, 1, 10, 0, 0, 5e8, time.UTC), Status: MessageDelivered,
		Media: []MediaRef{{URL: "https://x/a.png", Name: "a.png", Size: 120}},
		Call:  &CallData{Duration: 62500 * time.Millisecond, Status: "completed", RecordingURL: "https://x/r.wav", Transcription: "Agent: hi"}}
	if !reflect.DeepEqual(got, []Message{want}) {
		t.Errorf("got  %+v\nwant %+v", got[0], want)
	}
	bad := []struct{ body, field, text string }{
		{`[{"id": 1, "direction": "up"}]`, "direction", "want inbound or outbound"},
		{`[{"id": 1}]`, "direction", "missing"},
		{`[{"direction": "in"}]`, "id", "missing"},
		{`[{"id": 1, "direction": "in", "attachments": [{"name": "x"}]}]`, "attachments[0].url", "missing"},
		{`[{"id": 1, "direction": "in", "attachments": [{"url": "u", "size": "big"}]}]`, "attachments[0].size", "want a number"},
		{`[{"id": 1, "direction": "in", "call": {"duration": -3}}]`, "call.duration", "not a call length"},
		{`[{"id": 1, "direction": "in", "call": "yes"}]`, "call", "want an object"},
	}
	for _, b := range bad {
		_, _, err := decodeItems("list messages", []byte(b.body), "", decodeMessage)
		if fieldOf(err) != b.field || !strings.Contains(err.Error(), b.text) {
			t.Errorf("%s: err = %v, want field %q saying %q", b.body, err, b.field, b.text)
		}
	}
}

func TestDecodeWrappedAndCursor(t *testing.T) {
	items, top, err := decodeItems("list conversations", []byte(`{"data": [{"id": 1, "channel": "chat"}], "next": "abc"}`), "data", decodeConversation)
	if err != nil || len(items) != 1 || items[0].Status != StatusOpen || top.(object)["next"] != "abc" {
		t.Fatalf("items %+v top %v err %v", items, top, err)
	}
	if _, _, err := decodeItems("list conversations", []byte(`[{"id": 1}]`), "data", decodeConversation); err == nil || !strings.Contains(err.Error(), `field "data"`) {
		t.Errorf("array where an object was configured: %v", err)
	}
	if _, _, err := decodeItems("list conversations", []byte(`{"items": []}`), "data", decodeConversation); fieldOf(err) != "data" || !strings.Contains(err.Error(), "paging.items_field") {
		t.Errorf("missing items field: %v", err)
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Event
		err  string
	}{
		{"data object", `{"id": "e1", "type": "message.created", "occurred_at": "2025-01-01T00:00:00Z", "data": {"contact_id": 5, "message_id": "9"}}`,
			Event{ID: "e1", Type: EventMessageCreated, OccurredAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), ContactID: "5", MessageID: "9", Data: []byte(`{"contact_id":5,"message_id":"9"}`)}, ""},
		{"flat", `{"id": 3, "event": "contact.updated", "contact_id": 5}`, Event{ID: "3", Type: EventContactUpdated, ContactID: "5"}, ""},
		{"contact under data", `{"id": "e2", "type": "contact.created", "data": {"contact": {"id": 8}}}`,
			Event{ID: "e2", Type: EventContactCreated, ContactID: "8", Data: []byte(`{"contact":{"id":8}}`)}, ""},
		{"no type", `{"id": "e3"}`, Event{}, `"type": missing`},
		{"array", `[]`, Event{}, "want an object"},
		{"bad contact id", `{"id": "e4", "type": "x", "data": {"contact_id": [1]}}`, Event{}, `"data.contact_id"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvent([]byte(tt.body))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	// EncodeEvent and ParseEvent agree.
	ev := Event{ID: "x1", Type: EventMessageStatus, OccurredAt: time.Date(2025, 2, 3, 4, 5, 6, 0, time.UTC), ContactID: "1", ConversationID: "c-2", MessageID: "3", Status: MessageRead}
	b, err := EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	got.Data = nil
	if !reflect.DeepEqual(got, ev) {
		t.Errorf("round trip: %+v, want %+v", got, ev)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, "-1": 0, "x": 0, "Wed, 01 Jan 2025 00:00:10 GMT": 10 * time.Second, "Tue, 31 Dec 2024 00:00:00 GMT": 0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestBackoffIsCappedFullJitter(t *testing.T) {
	p := RetryPolicy{BaseDelay: 10 * time.Millisecond, MaxDelay: 80 * time.Millisecond}.WithDefaults(defaultRetry)
	for n := 1; n <= 40; n++ {
		ceiling := min(p.MaxDelay, p.BaseDelay<<min(n-1, 20))
		var maxSeen time.Duration
		for range 200 {
			d := p.Backoff(n)
			if d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, outside [0, %v]", n, d, ceiling)
			}
			maxSeen = max(maxSeen, d)
		}
		if maxSeen < ceiling/2 {
			t.Errorf("backoff(%d) never came near its ceiling %v (max %v): not full jitter", n, ceiling, maxSeen)
		}
	}
}

func TestDecodeConversationFlags(t *testing.T) {
	items, _, err := decodeItems("list conversations", []byte(`[{"id": 1, "unread": true, "starred": "1"}, {"id": 2}, {"id": 3, "unread": 0, "starred": false}]`), "", decodeConversation)
	if err != nil || len(items) != 3 {
		t.Fatal(items, err)
	}
	if !items[0].Unread || !items[0].Starred || items[1].Unread || items[1].Starred || items[2].Unread || items[2].Starred {
		t.Errorf("flags = %+v", items)
	}
	if _, _, err := decodeItems("list conversations", []byte(`[{"id": 1, "starred": "maybe"}]`), "", decodeConversation); fieldOf(err) != "starred" {
		t.Errorf("a starred that is not a boolean: %v", err)
	}
}
