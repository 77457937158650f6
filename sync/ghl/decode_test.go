package ghl

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Sample bodies in the spec's and the live API's shapes; the fuzz tests
// start from them too.
const (
	msgCall = `{"id":"ve9EPM428h8vShlRW1KT","type":1,"messageType":"TYPE_CALL","locationId":"loc","contactId":"k1",` +
		`"conversationId":"c1","dateAdded":"2026-03-01T12:00:00.000Z","direction":"inbound","status":"completed",` +
		`"contentType":"text/plain","meta":{"callDuration":"120","callStatus":"completed"},"altId":"ad-1","extra":{"x":1}}`
	msgSMS = `{"id":"m2","type":"2","messageType":"TYPE_SMS","locationId":"loc","contactId":"k1","conversationId":"c1",` +
		`"dateAdded":1772366400000,"body":"hi","direction":"outbound","status":"opt_out","contentType":"text/plain",` +
		`"attachments":["https://x/y.png"],"meta":{"callDuration":45.5,"email":{"messageIds":["e1","e2"]}}}`
	msgEmail = `{"id":"m3","type":3,"messageType":"TYPE_EMAIL","locationId":"loc","contactId":"k1","conversationId":"c1",` +
		`"dateAdded":"2026-03-01 12:00:00","direction":"outbound","contentType":"text/html","meta":{"email":"unexpected"}}`
	listFlat    = `{"lastMessageId":"m2","nextPage":true,"messages":[` + msgCall + `,` + msgSMS + `]}`
	listWrapped = `{"messages":{"lastMessageId":"m3","nextPage":false,"messages":[` + msgEmail + `]},"traceId":"t-1"}`
	convByID    = `{"contactId":"k1","locationId":"loc","deleted":false,"inbox":true,"type":1,"unreadCount":2,"id":"c1","starred":false}`
	convUpdate  = `{"success":true,"conversation":{"id":"c1","locationId":"loc","contactId":"k1","deleted":false,"starred":true,` +
		`"lastMessageDate":"2026-03-01T12:00:00Z","unreadCount":0}}`
	searchBody = `{"conversations":[{"id":"c1","contactId":"k1","locationId":"loc","lastMessageBody":"hi","lastMessageType":"TYPE_SMS",` +
		`"type":"TYPE_PHONE","unreadCount":1,"fullName":"Ann Lee","contactName":"Ann Lee","email":"a@x","phone":"+1",` +
		`"lastMessageDate":1772366400000,"sort":[1772366400000]},{"id":"c2","contactId":"k2","locationId":"loc",` +
		`"lastMessageBody":"","lastMessageType":"TYPE_EMAIL","type":"TYPE_EMAIL","unreadCount":"0","fullName":"","contactName":"",` +
		`"email":"","phone":"","dateUpdated":"2026-02-01T00:00:00Z"}],"total":2}`
	transcript = `[{"mediaChannel":1,"sentenceIndex":0,"startTime":200,"endTime":1400,"transcript":"Hello.","confidence":0.93},` +
		`{"mediaChannel":2,"sentenceIndex":1,"startTime":"1600","endTime":2800.5,"transcript":"Hi.","confidence":0.5}]`
	contactBody = `{"contact":{"id":"k1","locationId":"loc","firstName":"Ann","email":"a@x","phone":"+19025550100","tags":["vip"],` +
		`"dnd":false,"dateAdded":"2026-01-01T00:00:00.000Z","customFields":[{"id":"f","value":"v"}]},"new":true,"traceId":"t"}`
	recordAnswer = `{"success":true,"conversationId":"c1","messageId":"m9","message":"Message added successfully","contactId":"k1",` +
		`"dateAdded":"2026-03-01T12:00:00.000Z"}`
	deliveryAnswer = `{"conversationId":"c1","messageId":"m10","emailMessageId":"e10","messageIds":["m10"],"msg":"queued","status":"pending"}`
	uploadAnswer   = `{"uploadedFiles":{"photo.png":"https://files/x/photo.png"}}`
)

func TestDecodeMessages(t *testing.T) {
	flat, err := decodeMessages([]byte(listFlat))
	if err != nil {
		t.Fatal(err)
	}
	if !flat.NextPage || flat.LastMessageID != "m2" || len(flat.Messages) != 2 {
		t.Fatalf("flat page %+v", flat)
	}
	call, sms := flat.Messages[0], flat.Messages[1]
	if call.Type != 1 || call.Meta.CallDuration != 2*time.Minute || call.Meta.CallStatus != CallCompleted || call.AltID != "ad-1" ||
		!call.DateAdded.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) || call.Direction != Inbound {
		t.Errorf("call message %+v", call)
	}
	if sms.Type != 2 || sms.Meta.CallDuration != 45500*time.Millisecond || sms.Status != StatusOptOut ||
		!sms.DateAdded.Equal(time.UnixMilli(1772366400000)) || !reflect.DeepEqual(sms.Meta.EmailMessageIDs, []string{"e1", "e2"}) {
		t.Errorf("sms message %+v", sms)
	}
	wrapped, err := decodeMessages([]byte(listWrapped))
	if err != nil {
		t.Fatal(err)
	}
	if wrapped.NextPage || wrapped.LastMessageID != "m3" || len(wrapped.Messages) != 1 || wrapped.Messages[0].ContentType != "text/html" {
		t.Errorf("wrapped page %+v", wrapped)
	}
	for _, empty := range []string{`{}`, `{"messages":[]}`, `{"messages":null}`, `{"messages":{"messages":[],"nextPage":false}}`} {
		p, err := decodeMessages([]byte(empty))
		if err != nil || len(p.Messages) != 0 || p.NextPage {
			t.Errorf("%s: %+v, %v", empty, p, err)
		}
	}
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	cases := []struct {
		name   string
		decode func([]byte) error
		body   string
		field  string // "" = not JSON
	}{
		{"truncated", func(b []byte) error { _, err := decodeMessages(b); return err }, `{"messages":[{"id":"m`, ""},
		{"not an object", func(b []byte) error { _, err := decodeMessages(b); return err }, `[1,2]`, ""},
		{"messages a number", func(b []byte) error { _, err := decodeMessages(b); return err }, `{"messages":5}`, "messages"},
		{"flat date", func(b []byte) error { _, err := decodeMessages(b); return err }, `{"messages":[{"id":"m","dateAdded":true}]}`, "messages.dateAdded"},
		{"wrapped date", func(b []byte) error { _, err := decodeMessages(b); return err }, `{"messages":{"messages":[{"id":"m","dateAdded":"yesterday"}]}}`, "messages.messages.dateAdded"},
		{"missing id", func(b []byte) error { _, err := decodeMessages(b); return err }, `{"messages":[{"id":"m"},{"body":"x"}]}`, "messages.1.id"},
		{"nextPage", func(b []byte) error { _, err := decodeMessages(b); return err }, `{"nextPage":"maybe","messages":[]}`, "nextPage"},
		{"call duration", func(b []byte) error { _, err := decodeMessage(b); return err }, `{"message":{"id":"m","meta":{"callDuration":"long"}}}`, "message.meta.callDuration"},
		{"message body", func(b []byte) error { _, err := decodeMessage(b); return err }, `{"id":"m","body":7}`, "body"},
		{"conversation type", func(b []byte) error { _, err := decodeConversation(b); return err }, `{"id":"c","type":[1]}`, "type"},
		{"unread", func(b []byte) error { _, err := decodeConversation(b); return err }, `{"conversation":{"id":"c","unreadCount":"many"}}`, "conversation.unreadCount"},
		{"search total", func(b []byte) error { _, err := decodeSearch(b); return err }, `{"conversations":[],"total":{}}`, "total"},
		{"search id", func(b []byte) error { _, err := decodeSearch(b); return err }, `{"conversations":[{"id":""}],"total":1}`, "conversations.0.id"},
		{"transcript order", func(b []byte) error { _, err := decodeTranscription(b); return err }, `[{"startTime":5,"endTime":1}]`, "0.endTime"},
		{"transcript text", func(b []byte) error { _, err := decodeTranscription(b); return err }, `[{"transcript":1}]`, "transcript"},
		{"contact tags", func(b []byte) error { _, _, _, err := decodeContactAnswer(b); return err }, `{"contact":{"id":"k","tags":"vip"}}`, "contact.tags"},
		{"upload files", func(b []byte) error { _, err := decodeUpload(b); return err }, `{"uploadedFiles":{"a":1}}`, "uploadedFiles"},
		{"upload empty", func(b []byte) error { _, err := decodeUpload(b); return err }, `{"uploadedFiles":{}}`, "uploadedFiles"},
		{"record id", func(b []byte) error { _, err := decodeRecord(b); return err }, `{"messageId":5}`, "messageId"},
	}
	for _, tc := range cases {
		err := tc.decode([]byte(tc.body))
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		de := decodeFailure(&request{op: "ghl: test", rt: routeListMessages}, err)
		if de.Field != tc.field {
			t.Errorf("%s: field %q, want %q (%v)", tc.name, de.Field, tc.field, err)
		}
		if tc.field == "" && !de.syntax && tc.name == "truncated" {
			t.Errorf("%s: not marked as cut off", tc.name)
		}
		msg := de.Error()
		if !strings.Contains(msg, "ghl: test") || !strings.Contains(msg, "GET /conversations/{conversationId}/messages") ||
			(tc.field != "" && !strings.Contains(msg, `"`+tc.field+`"`)) || !errors.Is(de, ErrBadResponse) {
			t.Errorf("%s: message %q does not name the call and the field", tc.name, msg)
		}
	}
}

func TestDecodeMessageShapes(t *testing.T) {
	for _, body := range []string{msgCall, `{"message":` + msgCall + `,"traceId":"t"}`} {
		m, err := decodeMessage([]byte(body))
		if err != nil || m.ID != "ve9EPM428h8vShlRW1KT" || m.AltID != "ad-1" {
			t.Errorf("%.40s...: %+v, %v", body, m, err)
		}
	}
	m, err := decodeMessage([]byte(msgEmail))
	if err != nil || len(m.Meta.EmailMessageIDs) != 0 || m.DateAdded.IsZero() {
		t.Errorf("email with odd meta: %+v, %v", m, err)
	}
}

func TestDecodeConversationShapes(t *testing.T) {
	c, err := decodeConversation([]byte(convByID))
	if err != nil {
		t.Fatal(err)
	}
	if code, ok := c.Type.Code(); !ok || code != 1 || c.UnreadCount != 2 || !c.Inbox || c.ID != "c1" {
		t.Errorf("by id: %+v", c)
	}
	c, err = decodeConversation([]byte(convUpdate))
	if err != nil || !c.Starred || c.SortValue != c.LastMessageDate.UnixMilli() || c.SortValue == 0 {
		t.Errorf("update answer: %+v, %v", c, err)
	}
	p, err := decodeSearch([]byte(searchBody))
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 2 || len(p.Conversations) != 2 || p.Conversations[0].Type != ConversationPhone ||
		p.Conversations[0].SortValue != 1772366400000 || p.Conversations[1].SortValue != time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).UnixMilli() {
		t.Errorf("search: %+v", p)
	}
	if _, ok := p.Conversations[0].Type.Code(); ok {
		t.Error("a named type has no code")
	}
}

func TestDecodeOthers(t *testing.T) {
	ss, err := decodeTranscription([]byte(transcript))
	if err != nil || len(ss) != 2 || ss[1].Start != 1600*time.Millisecond || ss[1].End != 2800500*time.Microsecond ||
		ss[1].MediaChannel != 2 || ss[0].Confidence != 0.93 {
		t.Errorf("transcription %+v, %v", ss, err)
	}
	one, err := decodeTranscription([]byte(`{"mediaChannel":1,"sentenceIndex":0,"startTime":34,"endTime":45,"transcript":"x","confidence":0.5}`))
	if err != nil || len(one) != 1 || one[0].End != 45*time.Millisecond {
		t.Errorf("single-object transcription (the spec's shape) %+v, %v", one, err)
	}
	ct, found, isNew, err := decodeContactAnswer([]byte(contactBody))
	if err != nil || !found || !isNew || ct.Phone != "+19025550100" || ct.Tags[0] != "vip" {
		t.Errorf("contact %+v %v %v %v", ct, found, isNew, err)
	}
	for _, none := range []string{`{}`, `{"contact":null}`, `{"contact":{}}`} {
		if _, found, _, err := decodeContactAnswer([]byte(none)); found || err != nil {
			t.Errorf("%s: found=%v err=%v", none, found, err)
		}
	}
	r, err := decodeRecord([]byte(recordAnswer))
	if err != nil || r.MessageID != "m9" || r.ContactID != "k1" || r.DateAdded.IsZero() {
		t.Errorf("record %+v, %v", r, err)
	}
	for _, empty := range []string{``, ` `, `{}`, `{"success":true}`} {
		if _, err := decodeRecord([]byte(empty)); !errors.Is(err, ErrNotRecorded) {
			t.Errorf("record %q: %v, want ErrNotRecorded", empty, err)
		}
	}
	d, err := decodeDelivery([]byte(deliveryAnswer))
	if err != nil || d.MessageID != "m10" || d.EmailMessageID != "e10" || d.Status != StatusPending {
		t.Errorf("delivery %+v, %v", d, err)
	}
	u, err := decodeUpload([]byte(uploadAnswer))
	if err != nil || u.URL() != "https://files/x/photo.png" {
		t.Errorf("upload %+v, %v", u, err)
	}
	st, msg, err := decodeCancel([]byte(`{"status":200,"message":"ok"}`))
	if err != nil || st != 200 || msg != "ok" {
		t.Errorf("cancel %d %q %v", st, msg, err)
	}
	for body, want := range map[string]bool{`{"success":true}`: true, `{"success":false}`: false, ``: true, `{}`: true} {
		if ok, err := decodeSuccess([]byte(body)); ok != want || err != nil {
			t.Errorf("success %q = %v, %v", body, ok, err)
		}
	}
}

func TestParseErrorBody(t *testing.T) {
	cases := []struct {
		body  string
		msgs  []string
		trace string
	}{
		{`{"statusCode":400,"message":"locationId is required","error":"Bad Request"}`, []string{"locationId is required"}, ""},
		{`{"statusCode":422,"message":["email must be an email","phone is invalid"],"error":"Unprocessable Entity","traceId":"t9"}`,
			[]string{"email must be an email", "phone is invalid"}, "t9"},
		{`{"error":"invalid_grant","error_description":"refresh token used"}`, []string{"refresh token used"}, ""},
		{`{"error":"Forbidden"}`, []string{"Forbidden"}, ""},
		{`{"msg":"odd"}`, []string{"odd"}, ""},
		{`<html>Bad Gateway</html>`, []string{"<html>Bad Gateway</html>"}, ""},
		{``, nil, ""},
		{`{"message":{"nested":true}}`, nil, ""},
	}
	for _, tc := range cases {
		msgs, trace := parseErrorBody(nil, []byte(tc.body))
		if !reflect.DeepEqual(msgs, tc.msgs) || trace != tc.trace {
			t.Errorf("%s: %q %q, want %q %q", tc.body, msgs, trace, tc.msgs, tc.trace)
		}
	}
}

func TestFlexTime(t *testing.T) {
	want := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, in := range []string{`"2026-03-01T12:00:00Z"`, `"2026-03-01T12:00:00.000Z"`, `"2026-03-01T14:00:00+02:00"`,
		`"2026-03-01T12:00:00"`, `"2026-03-01 12:00:00"`, `1772366400000`, `"1772366400000"`, `1772366400`} {
		var ft flexTime
		if err := ft.UnmarshalJSON([]byte(in)); err != nil || !time.Time(ft).Equal(want) {
			t.Errorf("%s = %v, %v", in, time.Time(ft), err)
		}
	}
	for _, bad := range []string{`true`, `"noon"`, `-5`, `1e300`, `{}`} {
		var ft flexTime
		if err := ft.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%s accepted as %v", bad, time.Time(ft))
		}
	}
}
