package adtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/internal/demobiz"
	"parley/sync/internal/sandboxkit"
)

var refTime = time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)

// get sends a raw request with the given headers (nil: the default keys).
func get(t *testing.T, method, u string, hdr map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if hdr == nil {
		hdr = map[string]string{activedemand.HeaderAppKey: adtest.DefaultAppKey, activedemand.HeaderAPIKey: adtest.DefaultAPIKey}
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestSeedMatchesDemoBusiness(t *testing.T) {
	s := adtest.NewTestServer(t, adtest.Options{Seed: 7, SeedTime: refTime})
	biz := demobiz.Seed(7, refTime)
	contacts := s.Contacts()
	if len(contacts) != len(biz.Contacts) {
		t.Fatalf("%d contacts, demo business has %d", len(contacts), len(biz.Contacts))
	}
	for i, c := range biz.Contacts {
		id, ok := adtest.ContactIDForKey(c.Key)
		if !ok || contacts[i].ID != id || contacts[i].Email != c.Email || contacts[i].Phone != c.Phone || contacts[i].FirstName != c.FirstName {
			t.Errorf("contact %s: %+v", c.Key, contacts[i])
		}
	}
	convs := s.Conversations()
	if len(convs) != len(biz.Conversations) {
		t.Fatalf("%d conversations, demo business has %d", len(convs), len(biz.Conversations))
	}
	var calls, recordings, transcripts, attachments int
	for _, cv := range biz.Conversations {
		cid, _ := adtest.ConversationIDForKey(cv.Key)
		msgs := s.Messages(cid)
		if len(msgs) != len(cv.Messages) {
			t.Fatalf("%s: %d messages, want %d", cv.Key, len(msgs), len(cv.Messages))
		}
		for i, dm := range cv.Messages {
			m := msgs[i]
			id, ok := adtest.MessageIDForKey(dm.Key)
			if !ok || m.ID != id {
				t.Fatalf("%s: id %s, want %s", dm.Key, m.ID, id)
			}
			if key, ok := s.MessageKey(m.ID); !ok || key != dm.Key {
				t.Errorf("MessageKey(%s) = %q, want %q", m.ID, key, dm.Key)
			}
			if key, ok := adtest.MessageKeyForID(m.ID); !ok || key != dm.Key {
				t.Errorf("MessageKeyForID(%s) = %q, want %q", m.ID, key, dm.Key)
			}
			if m.Body != dm.Body || !m.SentAt.Equal(dm.At) || string(m.Direction) != string(dm.Direction) || string(m.Channel) != string(cv.Channel) {
				t.Errorf("%s: %+v vs %+v", dm.Key, m, dm)
			}
			if dm.Call != nil {
				calls++
				if m.Call == nil || m.Call.Duration != dm.Call.Duration || m.Call.Status != dm.Call.Status {
					t.Errorf("%s: call %+v", dm.Key, m.Call)
				}
				if m.Call != nil && m.Call.RecordingURL != "" {
					recordings++
				}
				if m.Call != nil && len(dm.Call.Sentences) > 0 && strings.Contains(m.Call.Transcription, dm.Call.Sentences[0].Text) {
					transcripts++
				}
			}
			if dm.Attachment != "" {
				attachments++
				if len(m.Media) != 1 || m.Media[0].Name != dm.Attachment || m.Media[0].ContentType != demobiz.Attachments[dm.Attachment] {
					t.Errorf("%s: media %+v", dm.Key, m.Media)
				}
			}
		}
	}
	if calls == 0 || recordings == 0 || transcripts == 0 || attachments == 0 {
		t.Errorf("demo data lacks calls (%d), recordings (%d), transcripts (%d) or attachments (%d)", calls, recordings, transcripts, attachments)
	}
	if len(s.MessageKeys()) == 0 {
		t.Error("MessageKeys is empty")
	}
	for _, bad := range []string{"", "x", "v001", "v001-x", "c001-m01"} {
		if _, ok := adtest.MessageIDForKey(bad); ok {
			t.Errorf("MessageIDForKey(%q) accepted", bad)
		}
	}
}

func TestAuthMatrix(t *testing.T) {
	s := adtest.NewTestServer(t, adtest.Options{})
	u := s.URL() + "forms.json"
	tests := []struct {
		name   string
		url    string
		hdr    map[string]string
		status int
		body   string
	}{
		{"both keys", u, nil, 200, `"Contact us"`},
		{"no keys", u, map[string]string{}, 401, "missing X-Application-Api-Key"},
		{"wrong application key", u, map[string]string{activedemand.HeaderAppKey: "nope", activedemand.HeaderAPIKey: adtest.DefaultAPIKey}, 401, "invalid application key"},
		{"no account key", u, map[string]string{activedemand.HeaderAppKey: adtest.DefaultAppKey}, 401, "missing API key"},
		{"wrong account key", u, map[string]string{activedemand.HeaderAppKey: adtest.DefaultAppKey, activedemand.HeaderAPIKey: "guess"}, 401, "invalid API key guess"},
		{"another account's key", u, map[string]string{activedemand.HeaderAppKey: adtest.DefaultAppKey, activedemand.HeaderAPIKey: adtest.DefaultOtherAccountKey}, 403, "does not have access"},
		{"key in the URL", u + "?api-key=" + adtest.DefaultAPIKey, nil, 400, "keys in the URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := get(t, "GET", tt.url, tt.hdr, "")
			if status != tt.status || !strings.Contains(body, tt.body) || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
				t.Errorf("got %d %q, want %d containing %q", status, body, tt.status, tt.body)
			}
		})
	}
	if got := s.Calls(activedemand.RouteFormsList); got != len(tests) {
		t.Errorf("Calls = %d, want %d (rejected requests count too)", got, len(tests))
	}
}

func TestRouting(t *testing.T) {
	s := adtest.NewTestServer(t, adtest.Options{})
	base := s.URL()
	tests := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"literal beats placeholder", "GET", "forms/fields.json?form_id=11", "", 200, `"key":"email_address"`},
		{"form submit", "POST", "forms/12", "first_name=A&email_address=a%40example.com", 200, `"success":true`},
		{"unknown form", "POST", "forms/99", "x=1", 404, "not found"},
		{"wrong method", "GET", "forms/11", "", 405, "not allowed"},
		{"no such endpoint", "GET", "nothing.json", "", 404, "no such endpoint"},
		{"outside the API", "GET", "../robots.txt", "", 404, "under /v1/"},
		{"page size zero", "GET", "contacts.json?per_page=0", "", 400, "per_page must be a positive number"},
		{"page zero", "GET", "contacts.json?page=0", "", 400, "page must be a number from 1"},
		{"page past the end", "GET", "contacts.json?page=99", "", 200, "[]"},
		{"messages of an unknown conversation", "GET", "messages.json?conversation_id=1", "", 404, "not found"},
		{"contact without email or phone", "POST", "contacts.json", "contact%5Bfirst_name%5D=A", 422, "needs emails.email_address"},
		{"unknown list", "POST", "contact_lists/add_members/1?contact_ids=1", "", 404, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := base + tt.path
			if strings.HasPrefix(tt.path, "../") {
				u = strings.TrimSuffix(base, "/v1/") + "/robots.txt"
			}
			status, _, body := get(t, tt.method, u, nil, tt.body)
			if status != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("got %d %q, want %d containing %q", status, body, tt.status, tt.contains)
			}
		})
	}
	if subs := s.Submissions(); len(subs) != 1 || subs[0].Values.Get("first_name") != "A" {
		t.Errorf("submissions = %+v", subs)
	}
	if cs := s.Contacts(); len(cs) != 1 || cs[0].Email != "a@example.com" {
		t.Errorf("a form submission with a new email should create the contact: %+v", cs)
	}
}

func TestMediaServed(t *testing.T) {
	s := adtest.NewTestServer(t, adtest.Options{Seed: 1, SeedTime: refTime})
	var rec, att *activedemand.Message
	for _, cv := range s.Conversations() {
		for _, m := range s.Messages(cv.ID) {
			if m.Call != nil && m.Call.RecordingURL != "" && rec == nil {
				rec = &m
			}
			if len(m.Media) > 0 && att == nil {
				att = &m
			}
		}
	}
	if rec == nil || att == nil {
		t.Fatal("demo data lacks a recording or an attachment")
	}
	status, hdr, body := get(t, "GET", rec.Call.RecordingURL, nil, "")
	key, _ := s.MessageKey(rec.ID)
	var call *demobiz.Call
	for _, cv := range s.Business().Conversations {
		for _, m := range cv.Messages {
			if m.Key == key {
				call = m.Call
			}
		}
	}
	if status != 200 || hdr.Get("Content-Type") != "audio/wav" || int64(len(body)) != demobiz.WAVSize(call) || !strings.HasPrefix(body, "RIFF") {
		t.Errorf("recording: %d %s %d bytes", status, hdr.Get("Content-Type"), len(body))
	}
	status, hdr, body = get(t, "GET", att.Media[0].URL, nil, "")
	want, _ := demobiz.AttachmentBytes(att.Media[0].Name)
	if status != 200 || hdr.Get("Content-Type") != att.Media[0].ContentType || body != string(want) {
		t.Errorf("attachment: %d %s %d bytes", status, hdr.Get("Content-Type"), len(body))
	}
	if status, _, _ := get(t, "GET", att.Media[0].URL, map[string]string{}, ""); status != 401 {
		t.Errorf("media without keys: %d, want 401", status)
	}
	if status, _, _ := get(t, "GET", s.URL()+"media/files/1/quote.pdf", nil, ""); status != 404 {
		t.Errorf("a file not on that message: %d, want 404", status)
	}
	if got := s.Calls(activedemand.RouteMediaDownload); got != 4 {
		t.Errorf("media calls = %d, want 4", got)
	}
}

func TestFaultQueue(t *testing.T) {
	s := adtest.NewTestServer(t, adtest.Options{})
	if err := s.InjectFault(sandboxkit.Fault{Route: "nope", Kind: sandboxkit.FaultDropBefore}); err == nil {
		t.Error("a fault for an unknown route was accepted")
	}
	if err := s.InjectFault(sandboxkit.Fault{Route: activedemand.RouteFormsList, Kind: sandboxkit.FaultStatus, Status: 200}); err == nil {
		t.Error("a 200 fault was accepted")
	}
	if err := s.InjectFault(sandboxkit.Fault{Route: activedemand.RouteFormsList, Kind: sandboxkit.FaultStatus, Status: 500, Times: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.InjectFault(sandboxkit.Fault{Route: activedemand.RouteFormsList, Kind: sandboxkit.FaultStatus, Status: 429, RetryAfter: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	want := []int{500, 500, 429, 200}
	for i, w := range want {
		status, hdr, _ := get(t, "GET", s.URL()+"forms.json", nil, "")
		if status != w {
			t.Errorf("call %d: %d, want %d", i, status, w)
		}
		if w == 429 && hdr.Get("Retry-After") != "2" {
			t.Errorf("Retry-After = %q, want 2 (rounded up)", hdr.Get("Retry-After"))
		}
	}
	if err := s.InjectFault(sandboxkit.Fault{Route: activedemand.RouteFormsList, Kind: sandboxkit.FaultStatus, Status: 503, Times: -1}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if status, _, _ := get(t, "GET", s.URL()+"forms.json", nil, ""); status != 503 {
			t.Errorf("a standing fault stopped: %d", status)
		}
	}
	s.ClearFaults()
	if status, _, _ := get(t, "GET", s.URL()+"forms.json", nil, ""); status != 200 {
		t.Errorf("after ClearFaults: %d", status)
	}
	if got := s.Calls(activedemand.RouteFormsList); got != 8 {
		t.Errorf("Calls = %d, want 8", got)
	}
	s.ResetCalls()
	if s.Calls(activedemand.RouteFormsList) != 0 || len(s.Requests(activedemand.RouteFormsList)) != 0 {
		t.Error("ResetCalls kept counts")
	}
}

func TestServerRateLimit(t *testing.T) {
	s := adtest.NewTestServer(t, adtest.Options{RateLimit: sandboxkit.RateLimit{Burst: 2, Window: time.Second}})
	var statuses []int
	var retryAfter string
	for range 3 {
		status, hdr, _ := get(t, "GET", s.URL()+"forms.json", nil, "")
		statuses = append(statuses, status)
		if status == 429 {
			retryAfter = hdr.Get("Retry-After")
		}
	}
	if statuses[0] != 200 || statuses[1] != 200 || statuses[2] != 429 || retryAfter != "1" {
		t.Errorf("statuses %v, Retry-After %q", statuses, retryAfter)
	}
	off := adtest.NewTestServer(t, adtest.Options{})
	for range 20 {
		if status, _, _ := get(t, "GET", off.URL()+"forms.json", nil, ""); status != 200 {
			t.Fatalf("rate limited with limits off: %d", status)
		}
	}
}

func TestActivity(t *testing.T) {
	recv, err := activedemand.NewWebhookReceiver(activedemand.WebhookConfig{Secret: "demo-secret", QueueSize: 256})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stopRecv := context.WithCancel(context.Background())
	hook, err := recv.Listen(rctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		stopRecv()
		if err := recv.Wait(); err != nil {
			t.Error(err)
		}
	}()
	s := adtest.NewTestServer(t, adtest.Options{Seed: 1, SeedTime: refTime, WebhookURL: hook, WebhookSecret: "demo-secret"})
	countMsgs := func() int {
		n := 0
		for _, cv := range s.Conversations() {
			n += len(s.Messages(cv.ID))
		}
		return n
	}
	before, beforeConvs := countMsgs(), len(s.Conversations())
	ctx, cancel := context.WithCancel(t.Context())
	s.StartActivity(ctx, 2*time.Millisecond)
	seen := map[activedemand.EventType]int{}
	timeout := time.After(20 * time.Second)
	for seen[activedemand.EventMessageCreated] < 5 || len(seen) < 3 {
		select {
		case ev := <-recv.Events():
			seen[ev.Type]++
		case <-timeout:
			t.Fatalf("activity posted only %v", seen)
		}
	}
	cancel()
	if after := countMsgs(); after <= before {
		t.Errorf("messages %d -> %d: no activity", before, after)
	}
	if len(s.Conversations()) < beforeConvs {
		t.Error("conversations disappeared")
	}
	for _, d := range s.Deliveries() {
		if d.Err != nil || d.Status != 200 {
			t.Errorf("delivery %+v", d)
		}
	}

	// The data activity produced still reads cleanly through the client.
	c, err := activedemand.New(s.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	for cv, err := range activedemand.AllChangedConversations(t.Context(), c, "") {
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range activedemand.AllMessages(t.Context(), c, cv.ID) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestStepIsRepeatable(t *testing.T) {
	clock := func() time.Time { return refTime.Add(time.Hour) }
	run := func() string {
		s := adtest.NewTestServer(t, adtest.Options{Seed: 1, SeedTime: refTime, Clock: clock})
		for i := range 60 {
			s.Step(uint64(i))
		}
		b, _ := json.Marshal(struct {
			C []activedemand.Contact
			V []activedemand.Conversation
		}{s.Contacts(), s.Conversations()})
		return string(b)
	}
	if a, b := run(), run(); a != b {
		t.Error("the same steps from the same seed gave different data")
	}
}

func TestRenamedRouteIsFollowed(t *testing.T) {
	// A table built by hand but never validated is refused.
	if _, err := adtest.New(adtest.Options{Seed: 1, Routes: activedemand.Routes{}}); err != nil {
		t.Errorf("zero routes (the defaults) refused: %v", err)
	}
	r := activedemand.DefaultRoutes()
	rt, _ := r.Route(activedemand.RouteMessagesList)
	rt.Path = "threads/{conversation_id}.json"
	r2, err := r.With(activedemand.RouteMessagesList, rt)
	if err != nil {
		t.Fatal(err)
	}
	s := adtest.NewTestServer(t, adtest.Options{Routes: r2})
	status, _, _ := get(t, "GET", s.URL()+"threads/5200001.json", nil, "")
	if status != 404 {
		t.Errorf("renamed route: %d, want 404 for an unknown conversation (route matched)", status)
	}
	if status, _, body := get(t, "GET", s.URL()+"messages.json?"+url.Values{"conversation_id": {"1"}}.Encode(), nil, ""); status != 404 || !strings.Contains(body, "no such endpoint") {
		t.Errorf("old path still served: %d %s", status, body)
	}
}

// TestSharedOptions: the options both sandboxes share mean the same here
// as in the HighLevel sandbox.
func TestSharedOptions(t *testing.T) {
	if _, err := adtest.New(adtest.Options{RateLimit: sandboxkit.RateLimit{Burst: 1, Window: time.Second, Daily: 10}}); err == nil {
		t.Error("a daily limit was accepted; AD has none")
	}
	if _, err := adtest.New(adtest.Options{Faults: []sandboxkit.Fault{{Route: "nope", Kind: sandboxkit.FaultDropBefore}}}); err == nil {
		t.Error("a start fault for an unknown route was accepted")
	}
	s := adtest.NewTestServer(t, adtest.Options{Faults: []sandboxkit.Fault{{Kind: sandboxkit.FaultStatus, Status: 502, Times: 2}}})
	if len(s.Contacts()) != 0 {
		t.Errorf("Seed 0 holds %d contacts, want an empty sandbox", len(s.Contacts()))
	}
	// A start fault without a route hits whichever route is called.
	for _, path := range []string{"forms.json", "contacts.json", "forms.json"} {
		status, _, _ := get(t, "GET", s.URL()+path, nil, "")
		want := 502
		if path == "forms.json" && s.Calls(activedemand.RouteFormsList) == 2 {
			want = 200
		}
		if status != want {
			t.Errorf("GET %s: %d, want %d", path, status, want)
		}
	}
	if got := s.CallCounts(); got[activedemand.RouteFormsList] != 2 || got[activedemand.RouteContactsList] != 1 {
		t.Errorf("CallCounts %v", got)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := s.Listen(""); err == nil {
		t.Error("Listen after Close succeeded")
	}
}
