package ghltest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestInvalidRequestsAreRejectedAndRecorded(t *testing.T) {
	srv, c := seeded(t, Options{})
	srv.ExpectRejections()
	conv := srv.Conversations()[0]
	loc := srv.LocationID()
	inbound := func(extra string) string {
		return fmt.Sprintf(`{"type":"SMS","conversationId":%q,"contactId":%q,"conversationProviderId":%q,"message":"hi"%s}`,
			conv.ID, conv.ContactID, srv.ConversationProviderID(), extra)
	}
	cases := []struct {
		name        string
		method      string
		path        string
		body        any
		headers     hdr
		route       string
		status      int
		wantInError string // in the message(s)
	}{
		{"missing Version", "GET", "/conversations/" + conv.ID, nil, hdr{"Version": ""},
			"GET /conversations/{conversationId}", 400, "Version"},
		{"unknown Version", "GET", "/conversations/" + conv.ID, nil, hdr{"Version": "2020-01-01"},
			"GET /conversations/{conversationId}", 400, "Version"},
		{"contacts Version on a conversations route", "GET", "/conversations/" + conv.ID, nil, hdr{"Version": versionContacts},
			"GET /conversations/{conversationId}", 400, "Version"},
		{"missing Version on a route whose spec forgets it", "DELETE", "/conversations/messages/email/e1/schedule", nil, hdr{"Version": ""},
			"DELETE /conversations/messages/email/{emailMessageId}/schedule", 400, "Version"},
		{"missing locationId", "GET", "/conversations/search", nil, nil,
			"GET /conversations/search", 400, "locationId"},
		{"limit not a number", "GET", "/conversations/search?locationId=" + loc + "&limit=lots", nil, nil,
			"GET /conversations/search", 400, "limit"},
		{"unknown status", "GET", "/conversations/search?locationId=" + loc + "&status=archived", nil, nil,
			"GET /conversations/search", 400, "status"},
		{"unknown message type filter", "GET", "/conversations/" + conv.ID + "/messages?type=TYPE_SMS,TYPE_FAX", nil, nil,
			"GET /conversations/{conversationId}/messages", 400, "type"},
		{"wrong body type", "POST", "/conversations/messages", `{"type":"SMS","contactId":123,"message":"hi"}`, nil,
			"POST /conversations/messages", 422, "contactId"},
		{"unknown message type", "POST", "/conversations/messages", `{"type":"Fax","contactId":"c","message":"hi"}`, nil,
			"POST /conversations/messages", 422, "type"},
		{"unknown direction", "POST", "/conversations/messages/inbound", inbound(`,"direction":"sideways"`), nil,
			"POST /conversations/messages/inbound", 422, "direction"},
		{"date not a date-time", "POST", "/conversations/messages/inbound", inbound(`,"date":"yesterday"`), nil,
			"POST /conversations/messages/inbound", 422, "date"},
		{"missing required field", "POST", "/conversations/messages/inbound",
			fmt.Sprintf(`{"type":"SMS","conversationId":%q,"contactId":%q,"message":"hi"}`, conv.ID, conv.ContactID), nil,
			"POST /conversations/messages/inbound", 422, "conversationProviderId is required"},
		{"outbound record of an SMS", "POST", "/conversations/messages/outbound",
			fmt.Sprintf(`{"type":"SMS","conversationId":%q,"conversationProviderId":%q}`, conv.ID, srv.ConversationProviderID()), nil,
			"POST /conversations/messages/outbound", 422, "type"},
		{"invalid JSON", "POST", "/conversations/messages", `{"type":"SMS",`, nil,
			"POST /conversations/messages", 400, "body"},
		{"no body", "POST", "/conversations/messages", nil, nil,
			"POST /conversations/messages", 422, "body is required"},
		{"text body on a JSON route", "POST", "/conversations/messages", `{"type":"SMS"}`, hdr{"Content-Type": "text/plain"},
			"POST /conversations/messages", 400, "Content-Type"},
		{"upload with neither file nor URLs", "POST", "/conversations/messages/upload",
			newMultipart(t, map[string]string{"conversationId": conv.ID, "contactId": conv.ContactID, "locationId": loc}, nil), nil,
			"POST /conversations/messages/upload", 422, "fileAttachment"},
		{"upsert without locationId", "POST", "/contacts/upsert", `{"email":"a@b.c"}`, nil,
			"POST /contacts/upsert", 422, "locationId is required"},
		{"oauth without client_id", "POST", "/oauth/token", "grant_type=refresh_token&client_secret=x&refresh_token=y", hdr{"Content-Type": "application/x-www-form-urlencoded"},
			"POST /oauth/token", 422, "client_id"},
		{"unimplemented operation", "GET", "/conversations/messages/export?locationId=" + loc, nil, nil,
			"GET /conversations/messages/export", 501, "does not implement"},
		{"path not in the spec", "GET", "/conversations/search/everything/now", nil, nil,
			"", 404, "Cannot GET"},
		{"method not in the spec", "PATCH", "/conversations/" + conv.ID, nil, nil,
			"", 404, "Cannot PATCH"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(srv.Rejections())
			r := c.do(tc.method, tc.path, tc.body, tc.headers)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			var e apiErr
			r.decode(t, &e)
			if e.StatusCode != tc.status || e.Error == "" {
				t.Errorf("error body %s is not GHL's shape", r.body)
			}
			msgs := e.messages()
			if tc.status == 422 && !strings.HasPrefix(string(e.Message), "[") {
				t.Errorf("422 message %s is not a list of field messages", e.Message)
			}
			if !strings.Contains(strings.Join(msgs, " | "), tc.wantInError) {
				t.Errorf("messages %q do not mention %q", msgs, tc.wantInError)
			}
			rej := srv.Rejections()
			if len(rej) != before+1 {
				t.Fatalf("%d new rejections recorded, want 1", len(rej)-before)
			}
			got := rej[len(rej)-1]
			if got.Route != tc.route || got.Status != tc.status || got.Method != tc.method || got.Reason == "" {
				t.Errorf("recorded %+v", got)
			}
		})
	}
	// Accepted values are not rejections.
	before := len(srv.Rejections())
	c.mustDo(200, "GET", "/conversations/"+conv.ID, nil)
	if r := c.do("GET", "/conversations/"+conv.ID, nil, hdr{"Version": sdkVersion}); r.status != 200 {
		t.Errorf("the SDK's Version header is refused: %d", r.status)
	}
	c.mustDo(404, "GET", "/conversations/nosuchconversation", nil)
	if len(srv.Rejections()) != before {
		t.Errorf("valid requests were recorded as rejections: %+v", srv.Rejections()[before:])
	}
}

// recordingTB captures what NewTestServer's cleanup reports.
type recordingTB struct {
	testing.TB
	cleanups []func()
	errs     []string
}

func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Helper() {}
func (r *recordingTB) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestNewTestServerReportsRejections(t *testing.T) {
	for _, expect := range []bool{false, true} {
		t.Run(fmt.Sprintf("ExpectRejections=%v", expect), func(t *testing.T) {
			rt := &recordingTB{TB: t}
			srv := NewTestServer(rt, Options{})
			if expect {
				srv.ExpectRejections()
			}
			c := newClient(t, srv, srv.IssueToken().AccessToken)
			c.noValidate = true
			c.do("GET", "/conversations/search", nil, nil) // no locationId
			rt.runCleanups()
			if srv.URL() == "" {
				t.Fatal("URL empty while it was listening")
			}
			if _, err := http.Get(srv.URL() + "/conversations/search"); err == nil {
				t.Error("the sandbox still answers after cleanup")
			}
			reported := len(rt.errs) == 1 && strings.Contains(rt.errs[0], "locationId")
			if reported == expect {
				t.Errorf("cleanup reported %q", rt.errs)
			}
		})
	}
}
