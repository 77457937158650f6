package ghltest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"parley/sync/internal/demobiz"
)

// fuzzSandbox is a fresh small sandbox per input, so inputs do not pile up
// state: one contact with a conversation holding one call, and a token.
// (Seeding the whole demo per input would make fuzzing 20 times slower.)
func fuzzSandbox(t *testing.T) (*Server, string, Conversation) {
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ct := srv.AddContact(Contact{FirstName: "Ana", LastName: "Smith", Email: "ana@example.com", Phone: "+19025550101"})
	cv := srv.AddConversation(Conversation{ContactID: ct.ID})
	srv.AddCall(cv.ID, "inbound", &demobiz.Call{Duration: time.Second, Status: "completed",
		Sentences: []demobiz.Sentence{{Speaker: "agent", Text: "Hello", Start: 100 * time.Millisecond, End: 600 * time.Millisecond, Confidence: 0.9}}}, time.Now())
	return srv, srv.IssueToken().AccessToken, cv
}

// checkAnswer holds for any input: no server error, and an error or JSON
// answer is well-formed.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		var v any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("status %d with invalid JSON %q: %v", rec.Code, rec.Body, err)
		}
	}
	if rec.Header().Get("X-RateLimit-Max") == "" {
		t.Fatalf("status %d without rate-limit headers", rec.Code)
	}
}

// FuzzJSONBodies sends arbitrary JSON bodies to every JSON operation: the
// validator and the handlers' decoding must answer 2xx/4xx, never panic or
// fail.
func FuzzJSONBodies(f *testing.F) {
	seeds := []string{
		`{"type":"SMS","conversationId":"{conv}","contactId":"{contact}","conversationProviderId":"{provider}","message":"hi","direction":"inbound","date":"2025-01-02T03:04:05Z","altId":"a"}`,
		`{"type":"Call","conversationId":"{conv}","conversationProviderId":"{provider}","call":{"to":"+1","from":"+2","status":"completed"}}`,
		`{"type":"Email","contactId":"{contact}","html":"<p>x</p>","subject":"s","scheduledTimestamp":99999999999}`,
		`{"type":"Custom","contactId":"{contact}","message":"x","conversationProviderId":"{provider}"}`,
		`{"locationId":"loc_harbourview_demo","contactId":"{contact}","unreadCount":-5,"starred":true}`,
		`{"status":"failed","error":{"code":"1","type":"t","message":"m"}}`,
		`{"locationId":"loc_harbourview_demo","email":"A@B.C","phone":"902-555-0101","tags":["x"],"name":"A B"}`,
		`{"locationId":"loc_harbourview_demo","query":"smith","pageLimit":-1,"page":1e9,"filters":[{"field":"email","value":3}]}`,
		`{"type":"SMS","contactId":null}`, `[]`, `null`, `{"direction":{"a":1}}`, `"x"`, `{"date":"2025-13-45T99:99:99Z"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	// The JSON-bodied operations, by fuzz index.
	fuzzBodyRoutes := [...]struct{ method, path string }{
		{"POST", "/conversations/messages/inbound"},
		{"POST", "/conversations/messages/outbound"},
		{"POST", "/conversations/messages"},
		{"POST", "/conversations/"},
		{"PUT", "/conversations/{conv}"},
		{"PUT", "/conversations/messages/{msg}/status"},
		{"POST", "/contacts/upsert"},
		{"POST", "/contacts/"},
		{"POST", "/contacts/search"},
	}
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		srv, tok, cv := fuzzSandbox(t)
		msgID := srv.Messages(cv.ID)[0].ID
		r := fuzzBodyRoutes[int(route)%len(fuzzBodyRoutes)]
		fill := strings.NewReplacer("{conv}", cv.ID, "{contact}", cv.ContactID, "{provider}", srv.ConversationProviderID(), "{msg}", msgID)
		req := httptest.NewRequest(r.method, fill.Replace(r.path), strings.NewReader(fill.Replace(body)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Version", versionFor(r.path))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		checkAnswer(t, rec)
	})
}

// FuzzUploadBody sends arbitrary multipart bodies to the upload endpoint.
func FuzzUploadBody(f *testing.F) {
	const boundary = "fuzzboundary"
	part := func(name, filename, data string) string {
		h := `Content-Disposition: form-data; name="` + name + `"`
		if filename != "" {
			h += `; filename="` + filename + `"` + "\r\nContent-Type: application/octet-stream"
		}
		return "--" + boundary + "\r\n" + h + "\r\n\r\n" + data + "\r\n"
	}
	fields := part("conversationId", "", "{conv}") + part("contactId", "", "{contact}") + part("locationId", "", "loc_harbourview_demo")
	f.Add(fields + part("fileAttachment", "a.txt", "hello") + "--" + boundary + "--\r\n")
	f.Add(fields + part("fileAttachment", "a.exe", "MZ") + "--" + boundary + "--\r\n")
	f.Add(fields + part("attachmentUrls", "", "https://example.com/x.png") + "--" + boundary + "--\r\n")
	f.Add(fields + part("fileAttachment", "", "no name") + "--" + boundary + "--\r\n")
	f.Add(fields + part("unknown", "", "x") + "--" + boundary + "--\r\n")
	f.Add("--" + boundary + "\r\nbroken")
	f.Add("")
	f.Fuzz(func(t *testing.T, body string) {
		srv, tok, cv := fuzzSandbox(t)
		body = strings.NewReplacer("{conv}", cv.ID, "{contact}", cv.ContactID).Replace(body)
		req := httptest.NewRequest("POST", "/conversations/messages/upload", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Version", versionConversations)
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		checkAnswer(t, rec)
		if rec.Code == http.StatusOK && len(srv.Uploads()) == 0 && !strings.Contains(body, "attachmentUrls") {
			t.Fatalf("200 without a stored file: %s", rec.Body)
		}
	})
}

// FuzzOAuthForm sends arbitrary form bodies to POST /oauth/token.
func FuzzOAuthForm(f *testing.F) {
	f.Add("client_id=parley-demo-client&client_secret=parley-demo-secret&grant_type=authorization_code&code={code}&user_type=Location")
	f.Add("client_id=parley-demo-client&client_secret=parley-demo-secret&grant_type=refresh_token&refresh_token={refresh}")
	f.Add("client_id=parley-demo-client&client_secret=parley-demo-secret&grant_type=client_credentials")
	f.Add("client_id=x&client_secret=y&grant_type=nope")
	f.Add("%zz&&==")
	f.Add("")
	f.Fuzz(func(t *testing.T, form string) {
		srv, _, _ := fuzzSandbox(t)
		form = strings.NewReplacer("{code}", srv.AuthorizationCode(), "{refresh}", srv.IssueToken().RefreshToken).Replace(form)
		req := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		checkAnswer(t, rec)
		if rec.Code == http.StatusOK {
			var tok tokenResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.AccessToken == "" || tok.TokenType != "Bearer" {
				t.Fatalf("200 without a token: %s", rec.Body)
			}
		}
	})
}

// FuzzQueries sends arbitrary query strings to the operations that read
// them.
func FuzzQueries(f *testing.F) {
	f.Add(uint8(0), "locationId=loc_harbourview_demo&limit=3&startAfterDate=1700000000000&status=unread&query=smith&sort=asc")
	f.Add(uint8(0), "locationId=loc_harbourview_demo&limit=-1e308&startAfterDate=NaN")
	f.Add(uint8(1), "limit=2&lastMessageId=nope&type=TYPE_SMS,TYPE_CALL")
	f.Add(uint8(1), "type=,,&limit=1e400")
	f.Add(uint8(2), "locationId=loc_harbourview_demo&email=a%40b.c&number=%2B1902")
	f.Add(uint8(0), "%gg=1&;&")
	paths := []string{"/conversations/search", "/conversations/{conv}/messages", "/contacts/search/duplicate"}
	f.Fuzz(func(t *testing.T, which uint8, query string) {
		srv, tok, cv := fuzzSandbox(t)
		p := strings.ReplaceAll(paths[int(which)%len(paths)], "{conv}", cv.ID)
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = p
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Version", versionFor(p))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		checkAnswer(t, rec)
	})
}
