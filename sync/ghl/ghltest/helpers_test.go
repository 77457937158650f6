package ghltest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"parley/sync/internal/sandboxkit"
)

// newFakeClock is the clock the tests start from: 15:09:26 UTC.
func newFakeClock() *sandboxkit.ManualClock {
	return sandboxkit.NewManualClock(time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC))
}

// client sends requests to a sandbox over loopback and, unless told not to,
// validates every answer against the (patched) spec.
type client struct {
	t          testing.TB
	srv        *Server
	token      string
	hc         *http.Client
	noValidate bool
}

func newClient(t testing.TB, srv *Server, token string) *client {
	return &client{t: t, srv: srv, token: token, hc: &http.Client{Timeout: 10 * time.Second}}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %d answer %q: %v", r.status, r.body, err)
	}
}

// multipartBody is a ready-made multipart request body.
type multipartBody struct {
	contentType string
	data        []byte
}

func newMultipart(t testing.TB, fields map[string]string, files map[string][]byte) multipartBody {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range files {
		fw, err := mw.CreateFormFile("fileAttachment", name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return multipartBody{contentType: mw.FormDataContentType(), data: buf.Bytes()}
}

// hdr sets request headers; an empty value removes a default one.
type hdr map[string]string

func versionFor(path string) string {
	switch {
	case strings.HasPrefix(path, "/conversations"):
		return versionConversations
	case strings.HasPrefix(path, "/contacts"):
		return versionContacts
	}
	return ""
}

func (c *client) request(method, path string, body any, headers hdr) *http.Request {
	c.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case multipartBody:
		rd, ct = bytes.NewReader(b.data), b.contentType
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.srv.URL()+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if v := versionFor(req.URL.Path); v != "" {
		req.Header.Set("Version", v)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return req
}

func (c *client) do(method, path string, body any, headers hdr) reply {
	c.t.Helper()
	req := c.request(method, path, body, headers)
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, body: data}
	if !c.noValidate {
		validateAnswer(c.t, c.srv, req, r)
	}
	return r
}

// mustDo is do that fails the test unless the status is want.
func (c *client) mustDo(want int, method, path string, body any) reply {
	c.t.Helper()
	r := c.do(method, path, body, nil)
	if r.status != want {
		c.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	return r
}

// validateAnswer checks an answer against the spec: the operation's
// declared response for the status, and for the live wrapped shapes the
// inner object against the DTO the spec declares.
func validateAnswer(t testing.TB, srv *Server, req *http.Request, r reply) {
	t.Helper()
	route, params, err := srv.spec.findRoute(req)
	if err != nil {
		return
	}
	key := req.Method + " " + route.Path
	if !srv.opts.SpecShapes && r.status == http.StatusOK {
		wrapped := map[string][2]string{
			"GET /conversations/{conversationId}/messages": {"messages", "GetMessagesByConversationResponseDto"},
			"GET /conversations/messages/{id}":             {"message", "GetMessageResponseDto"},
		}
		if w, ok := wrapped[key]; ok {
			var outer map[string]any
			if err := json.Unmarshal(r.body, &outer); err != nil {
				t.Errorf("%s: answer is not JSON: %v", key, err)
				return
			}
			schema := srv.spec.docs[fileConversations].Components.Schemas[w[1]].Value
			if err := schema.VisitJSON(outer[w[0]]); err != nil {
				t.Errorf("%s: wrapped %q does not match %s: %v", key, w[0], w[1], err)
			}
			return
		}
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 r.status,
		Header:                 r.header,
		Options:                &openapi3filter.Options{MultiError: true},
	}
	in.SetBodyBytes(r.body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s answered %d with a body the spec does not allow: %v\nbody: %.500s", key, r.status, err, r.body)
	}
}

// apiErr is the error body shape of 400/401/403/404/422/429 answers.
type apiErr struct {
	StatusCode int             `json:"statusCode"`
	Message    json.RawMessage `json:"message"`
	Error      string          `json:"error"`
}

func (e apiErr) messages() []string {
	var one string
	if json.Unmarshal(e.Message, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(e.Message, &many)
	return many
}

// seeded returns a seeded sandbox with an all-scopes client.
func seeded(t testing.TB, opts Options) (*Server, *client) {
	t.Helper()
	opts.Seed = max(opts.Seed, 1)
	srv := NewTestServer(t, opts)
	return srv, newClient(t, srv, srv.IssueToken().AccessToken)
}

// firstWith returns the first seeded message matching keep, with its
// conversation.
func firstWith(t testing.TB, srv *Server, keep func(Message) bool) (Conversation, Message) {
	t.Helper()
	for _, cv := range srv.Conversations() {
		for _, m := range srv.Messages(cv.ID) {
			if keep(m) {
				return cv, m
			}
		}
	}
	t.Fatal("no seeded message matches")
	return Conversation{}, Message{}
}
