package activedemand_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
)

// conversationWith makes a sandbox conversation holding n messages.
func conversationWith(t *testing.T, s *adtest.Server, n int) activedemand.ID {
	t.Helper()
	ct, err := s.AddContact(adtest.NewContact{FirstName: "Pat", Email: "pat@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.AddMessage(adtest.NewMessage{ContactID: ct.ID, Channel: activedemand.ChannelSMS, Direction: activedemand.Inbound, Body: "m1", At: refTime})
	if err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= n; i++ {
		dir := activedemand.Inbound
		if i%2 == 0 {
			dir = activedemand.Outbound
		}
		if _, err := s.AddMessage(adtest.NewMessage{ConversationID: m.ConversationID, Direction: dir, Body: "m" + string(rune('0'+i%10)), At: refTime.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	return m.ConversationID
}

func TestPagingSchemes(t *testing.T) {
	base, _ := activedemand.DefaultRoutes().Route(activedemand.RouteMessagesList)
	tests := []struct {
		name   string
		paging activedemand.Paging
		// calls is the number of requests to read 30 messages.
		calls int
	}{
		{"page numbers from 1", activedemand.Paging{Scheme: activedemand.PagingPage, PageParam: "page", SizeParam: "per_page", FirstPage: 1, PageSize: 7}, 6},
		{"page numbers from 0", activedemand.Paging{Scheme: activedemand.PagingPage, PageParam: "p", SizeParam: "n", FirstPage: 0, PageSize: 10}, 4},
		{"offset and limit", activedemand.Paging{Scheme: activedemand.PagingOffset, PageParam: "offset", SizeParam: "limit", PageSize: 7}, 6},
		{"cursor in a header", activedemand.Paging{Scheme: activedemand.PagingCursor, PageParam: "cursor", SizeParam: "limit", PageSize: 7, CursorIn: activedemand.CursorInHeader, CursorName: "X-Next-Cursor"}, 5},
		{"cursor in a field", activedemand.Paging{Scheme: activedemand.PagingCursor, PageParam: "after", SizeParam: "limit", PageSize: 7, CursorIn: activedemand.CursorInField, CursorName: "next", ItemsField: "data"}, 5},
		{"server caps the page size", activedemand.Paging{Scheme: activedemand.PagingPage, PageParam: "page", SizeParam: "per_page", FirstPage: 1, PageSize: 25, MaxPageSize: 25}, 3},
		{"none", activedemand.Paging{Scheme: activedemand.PagingNone}, 1},
		{"none with a wrapped list", activedemand.Paging{Scheme: activedemand.PagingNone, ItemsField: "messages"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rt := base
			rt.Paging = tt.paging
			routes, err := activedemand.DefaultRoutes().With(activedemand.RouteMessagesList, rt)
			if err != nil {
				t.Fatal(err)
			}
			s, c := newPair(t, adtest.Options{Routes: routes}, nil)
			conv := conversationWith(t, s, 30)
			msgs := collect(t, activedemand.AllMessages(t.Context(), c, conv))
			if want := s.Messages(conv); !reflect.DeepEqual(msgs, want) {
				t.Fatalf("got %d messages, want %d in order", len(msgs), len(want))
			}
			if got := s.Calls(activedemand.RouteMessagesList); got != tt.calls {
				t.Errorf("%d requests, want %d", got, tt.calls)
			}
			if tt.paging.Scheme == activedemand.PagingCursor {
				reqs := s.Requests(activedemand.RouteMessagesList)
				q, _ := url.ParseQuery(reqs[1].RawQuery)
				if q.Get(tt.paging.PageParam) == "" || q.Get("limit") != "7" {
					t.Errorf("second request query %q lacks the cursor or the limit", reqs[1].RawQuery)
				}
			}
		})
	}
}

func TestRoutesOverrideFile(t *testing.T) {
	ctx := t.Context()
	routes, err := activedemand.LoadRoutes(filepath.Join("testdata", "routes-override.toml"))
	if err != nil {
		t.Fatal(err)
	}
	rt, _ := routes.Route(activedemand.RouteMessagesList)
	if rt.Path != "conversations/{conversation_id}/messages.json" || rt.Paging.Scheme != activedemand.PagingCursor || rt.Assumed || rt.Origin != "routes-override.toml" {
		t.Fatalf("messages.list = %+v", rt)
	}
	if _, inParams := rt.Params["conversation_id"]; inParams {
		t.Errorf("conversation_id moved into the path but is still a parameter: %v", rt.Params)
	}
	if other, _ := routes.Route(activedemand.RouteContactsList); other.Origin != "" || other.Path != "contacts.json" {
		t.Errorf("an entry not in the file changed: %+v", other)
	}

	s, c := newPair(t, adtest.Options{Routes: routes}, nil)
	conv := conversationWith(t, s, 450)
	msgs := collect(t, activedemand.AllMessages(ctx, c, conv))
	if want := s.Messages(conv); !reflect.DeepEqual(msgs, want) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(want))
	}
	reqs := s.Requests(activedemand.RouteMessagesList)
	if len(reqs) != 3 {
		t.Fatalf("%d requests for 450 messages at 200 a page, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.Path != "/v1/conversations/"+string(conv)+"/messages.json" {
			t.Errorf("request %d path %s", i, r.Path)
		}
		q, _ := url.ParseQuery(r.RawQuery)
		if q.Get("limit") != "200" || (i > 0) != q.Has("cursor") || q.Has("conversation_id") || q.Has("page") {
			t.Errorf("request %d query %q", i, r.RawQuery)
		}
	}

	// messages.status: PUT with a plain status field.
	if err := c.SetMessageStatus(ctx, msgs[0].ID, activedemand.MessageRead); err != nil {
		t.Fatal(err)
	}
	sr := s.Requests(activedemand.RouteMessageStatus)[0]
	if sr.Method != http.MethodPut || sr.Body != "status=read" {
		t.Errorf("status request = %s %q", sr.Method, sr.Body)
	}

	// Webhook headers follow the file on both sides.
	recv, err := activedemand.NewWebhookReceiver(activedemand.WebhookConfig{Secret: "s3", Routes: routes})
	if err != nil {
		t.Fatal(err)
	}
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	u, err := recv.Listen(lctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := s.PostWebhook(ctx, u, "s3", activedemand.Event{Type: activedemand.EventContactUpdated, ContactID: "1"}); err != nil || st != 200 {
		t.Fatalf("webhook with overridden headers: %d, %v", st, err)
	}
	plain, err := activedemand.NewWebhookReceiver(activedemand.WebhookConfig{Secret: "s3"})
	if err != nil {
		t.Fatal(err)
	}
	u2, err := plain.Listen(lctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := s.PostWebhook(ctx, u2, "s3", activedemand.Event{Type: activedemand.EventContactUpdated, ContactID: "1"}); st != 401 {
		t.Errorf("a receiver on the default headers answered %d, want 401", st)
	}
}

func TestLoadRoutesErrors(t *testing.T) {
	tests := []struct {
		name string
		toml string
		// want are fragments the error must contain (besides the file).
		want []string
	}{
		{"unknown route", `[routes."messages.lst"]
path = "x.json"`, []string{`[routes."messages.lst"]`, "there is no route", "messages.list"}},
		{"bad method", `[routes."contacts.create"]
method = "FETCH"`, []string{`[routes."contacts.create"]`, `method "FETCH"`, "use one of GET, POST"}},
		{"list route not GET", `[routes."contacts.list"]
method = "POST"`, []string{"list routes are read with GET"}},
		{"path missing a required placeholder", `[routes."contact_lists.add_members"]
path = "contact_lists/add_members"`, []string{`[routes."contact_lists.add_members"]`, "missing the required placeholder {list_id}"}},
		{"argument dropped from path without a parameter", `[routes."messages.status"]
path = "messages/status.json"`, []string{"argument message_id", "add one of them"}},
		{"unknown placeholder", `[routes."messages.list"]
path = "threads/{thread}/messages.json"`, []string{"uses {thread}", "conversation_id"}},
		{"unknown paging scheme", `[routes."messages.list".paging]
scheme = "pages"`, []string{`paging.scheme "pages" is not a paging scheme`, "none, page, offset, cursor"}},
		{"cursor without a name", `[routes."messages.list".paging]
scheme = "cursor"
page_param = "cursor"
cursor_in = "header"`, []string{"paging.cursor_name is empty"}},
		{"cursor in a field without items_field", `[routes."messages.list".paging]
scheme = "cursor"
page_param = "cursor"
cursor_in = "field"
cursor_name = "next"`, []string{"paging.items_field is empty"}},
		{"page size above max", `[routes."messages.list".paging]
page_size = 5000`, []string{"page_size 5000 is above paging.max_page_size 1000"}},
		{"paging on a write", `[routes."contacts.create".paging]
scheme = "page"`, []string{"this route returns no list"}},
		{"GET with a form body", `[routes."forms.fields"]
params_in = "form"`, []string{"a GET carries its parameters in the query"}},
		{"unknown parameter", `[routes."forms.fields".params]
form = "f"`, []string{"params.form", "form_id"}},
		{"contact field template without {field}", `[routes."contacts.create".params]
field = "contact_field"`, []string{"must contain {field}"}},
		{"unknown field", `[routes."messages.list"]
pathh = "x.json"`, []string{`unknown field "pathh"`, "fields are method, path"}},
		{"bad webhook header", `[webhook]
signature_header = "X Sig"`, []string{"[webhook]", "not a valid HTTP header name"}},
		{"TOML syntax", "[routes.\"messages.list\"]\npath = \"x.json\n", []string{"line 2"}},
		// Paths may not leave the base URL: the keys go to its host.
		{"path climbs out of the base URL", `[routes."contacts.list"]
path = "../../admin"`, []string{`[routes."contacts.list"]`, `path "../../admin" has a ".." segment`, "below the base URL"}},
		{"path climbs out after a segment", `[routes."messages.status"]
path = "messages/{message_id}/../../../admin.json"`, []string{`has a ".." segment`}},
		{"dot segment", `[routes."contacts.list"]
path = "./contacts.json"`, []string{`has a "." segment`}},
		{"percent-encoded traversal", `[routes."contacts.list"]
path = "%2e%2e/%2E%2E/admin"`, []string{"percent-encoding", "write the characters themselves"}},
		{"backslash", `[routes."contacts.list"]
path = "..\\admin"`, []string{"backslash"}},
		{"scheme smuggled without slashes", `[routes."contacts.list"]
path = "http:evil/x"`, []string{`path "http:evil/x"`, "scheme", "relative to the base URL"}},
		{"host smuggled", `[routes."contacts.list"]
path = "//evil.example/x"`, []string{"must be relative to the base URL"}},
		{"media route pinned to another host", `[routes."media.download"]
path = "https://evil.example/{url}"`, []string{`[routes."media.download"]`, "relative to the base URL"}},
		{"control characters in the path", `[routes."contacts.list"]
path = "x\r\nHost: evil.example"`, []string{`path "x\r\nHost: evil.example"`, "control character"}},
		{"control characters in a parameter name", `[routes."forms.fields".params]
form_id = "form_id\r\nX-Evil: 1"`, []string{"params.form_id", "control character"}},
		{"control characters in a paging parameter", `[routes."messages.list".paging]
page_param = "page\u0000"`, []string{"paging.page_param", "control character"}},
		{"cursor header that is not a header name", `[routes."messages.list".paging]
scheme = "cursor"
page_param = "cursor"
cursor_in = "header"
cursor_name = "X-Next\r\nX-Evil: 1"`, []string{"paging.cursor_name", "not a valid HTTP header name"}},
		{"control characters in a source note", `[routes."contacts.list"]
source = "fine\rknown"`, []string{"source", "control character"}},
		{"first page above 1", `[routes."messages.list".paging]
first_page = 2`, []string{"paging.first_page 2", "0 or 1"}},
		{"negative first page", `[routes."messages.list".paging]
first_page = -1`, []string{"paging.first_page -1", "0 or 1"}},
		{"one header for signature and timestamp", `[webhook]
timestamp_header = "x-activedemand-signature"`, []string{"[webhook]", "the same header", "X-Activedemand-Signature"}},
		{"control characters in a webhook header", `[webhook]
signature_header = "X-Sig\r\nX-Evil: 1"`, []string{"[webhook]", "not a valid HTTP header name"}},
		{"negative media cap", `[routes."media.download"]
max_bytes = -1`, []string{`[routes."media.download"]`, "max_bytes -1 is negative"}},
		{"media cap on another route", `[routes."messages.list"]
max_bytes = 1000`, []string{`[routes."messages.list"]`, "max_bytes applies to media.download only"}},
		{"route name with control characters", `[routes."x\r\ny"]
path = "a"`, []string{`[routes."x\r\ny"]`, "there is no route"}},
		{"two problems at once", `[routes."messages.list"]
method = "POST"
[routes."nope"]
path = "x"`, []string{"has 2 problems", "list routes are read with GET", `there is no route "nope"`}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "routes.toml")
			if err := os.WriteFile(path, []byte(tt.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := activedemand.LoadRoutes(path)
			var rfe *activedemand.RoutesFileError
			if !errors.As(err, &rfe) {
				t.Fatalf("err = %v, want a RoutesFileError", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error does not name the file: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
	if _, err := activedemand.LoadRoutes(filepath.Join(dir, "missing.toml")); err == nil || !strings.Contains(err.Error(), "missing.toml") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestRoutesWith(t *testing.T) {
	r := activedemand.DefaultRoutes()
	bad, _ := r.Route(activedemand.RouteFormSubmit)
	bad.Path = "forms/submit"
	if _, err := r.With(activedemand.RouteFormSubmit, bad); err == nil || !strings.Contains(err.Error(), "{form_id}") {
		t.Errorf("With accepted a path without {form_id}: %v", err)
	}
	if _, err := r.With("nope", bad); err == nil {
		t.Error("With accepted an unknown route")
	}
	good, _ := r.Route(activedemand.RouteFormsList)
	good.Path = "forms/all.json"
	r2, err := r.With(activedemand.RouteFormsList, good)
	if err != nil {
		t.Fatal(err)
	}
	if orig, _ := r.Route(activedemand.RouteFormsList); orig.Path != "forms.json" {
		t.Error("With changed the original table")
	}
	if got, _ := r2.Route(activedemand.RouteFormsList); got.Path != "forms/all.json" {
		t.Errorf("With did not change the copy: %+v", got)
	}
	var zero activedemand.Routes
	if zero.Render() != r.Render() {
		t.Error("the zero Routes is not the default table")
	}
}

func TestRender(t *testing.T) {
	routes, err := activedemand.LoadRoutes(filepath.Join("testdata", "routes-override.toml"))
	if err != nil {
		t.Fatal(err)
	}
	out := routes.Render()
	for _, name := range routes.Names() {
		if !strings.Contains(out, name) {
			t.Errorf("render lacks %s", name)
		}
	}
	for _, w := range []string{
		"ROUTE", "contacts.json", "known, paging ASSUMED", "conversations/{conversation_id}/messages.json", "overridden in routes-override.toml",
		`cursor: next from header "X-Next-Cursor"`, "ASSUMED", "X-AD-Signature", "contact_ids=contact_ids (query)",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("render lacks %q:\n%s", w, out)
		}
	}
	if lines := strings.Count(out, "\n"); lines != len(routes.Names())+2 {
		t.Errorf("render has %d lines, want a header, one per route and the webhook", lines)
	}
	// The media cap shows, default or set.
	if !strings.Contains(out, fmt.Sprintf("max_bytes=%d", activedemand.DefaultMaxMediaBytes)) {
		t.Errorf("render lacks the default media cap:\n%s", out)
	}
	if out := limitedMedia(t, 1000).Render(); !strings.Contains(out, "max_bytes=1000 ") {
		t.Errorf("render lacks the media cap set in the file:\n%s", out)
	}
}

// smallConversationPages returns the default table with conversations
// listed five at a time.
func smallConversationPages(t *testing.T) activedemand.Routes {
	t.Helper()
	r := activedemand.DefaultRoutes()
	rt, _ := r.Route(activedemand.RouteConversations)
	rt.Paging.PageSize = 5
	r2, err := r.With(activedemand.RouteConversations, rt)
	if err != nil {
		t.Fatal(err)
	}
	return r2
}

// addConversations makes one conversation per time in ats.
func addConversations(t *testing.T, s *adtest.Server, ats []time.Time) []activedemand.ID {
	t.Helper()
	var ids []activedemand.ID
	for i, at := range ats {
		ct, err := s.AddContact(adtest.NewContact{FirstName: "C", Email: "c" + strings.Repeat("x", i) + "@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.AddMessage(adtest.NewMessage{ContactID: ct.ID, Channel: activedemand.ChannelSMS, Direction: activedemand.Inbound, Body: "hi", At: at})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ConversationID)
	}
	return ids
}

// TestChangedConversationsSurviveUpdates updates a conversation already
// listed while the listing is under way: page numbers would then skip the
// conversation that shifts across the page boundary; the keyed listing
// must not.
func TestChangedConversationsSurviveUpdates(t *testing.T) {
	ctx := t.Context()
	s, c := newPair(t, adtest.Options{Routes: smallConversationPages(t)}, nil)
	var ats []time.Time
	for i := range 12 {
		ats = append(ats, refTime.Add(time.Duration(i)*time.Minute))
	}
	ids := addConversations(t, s, ats)
	seen := map[activedemand.ID]int{}
	p, cur, err := c.ChangedConversations(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, cv := range p.Items {
		seen[cv.ID]++
	}
	// The second conversation gets a message: it moves to the end.
	if _, err := s.AddMessage(adtest.NewMessage{ConversationID: ids[1], Direction: activedemand.Inbound, Body: "again", At: refTime.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for tok := p.Next; tok != ""; tok = p.Next {
		if p, cur, err = c.ChangedConversations(ctx, "", tok); err != nil {
			t.Fatal(err)
		}
		for _, cv := range p.Items {
			seen[cv.ID]++
		}
	}
	for i, id := range ids {
		if seen[id] == 0 {
			t.Errorf("conversation %d (%s) was skipped", i, id)
		}
	}
	if seen[ids[1]] != 2 {
		t.Errorf("the updated conversation was listed %d times, want twice (before and after its update)", seen[ids[1]])
	}
	if ct, _ := cur.Time(); !ct.Equal(refTime.Add(time.Hour)) {
		t.Errorf("final cursor %s, want the update's time", cur)
	}
	// Listing again from the saved cursor gives just the latest.
	again := collect(t, activedemand.AllChangedConversations(ctx, c, cur))
	if len(again) != 1 || again[0].ID != ids[1] {
		t.Errorf("changed since the cursor: %+v", again)
	}
}

func TestChangedConversationsEqualTimestamps(t *testing.T) {
	t1, t2, t3 := refTime, refTime.Add(time.Second), refTime.Add(2*time.Second)
	tests := []struct {
		name string
		ats  []time.Time
	}{
		{"all at one instant", slices.Repeat([]time.Time{t1}, 12)},
		{"runs longer than a page", append(append(slices.Repeat([]time.Time{t1}, 3), slices.Repeat([]time.Time{t2}, 7)...), slices.Repeat([]time.Time{t3}, 4)...)},
		{"exactly a page per instant", append(slices.Repeat([]time.Time{t1}, 5), slices.Repeat([]time.Time{t2}, 5)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newPair(t, adtest.Options{Routes: smallConversationPages(t)}, nil)
			ids := addConversations(t, s, tt.ats)
			got := collect(t, activedemand.AllChangedConversations(t.Context(), c, ""))
			var gotIDs []activedemand.ID
			for _, cv := range got {
				gotIDs = append(gotIDs, cv.ID)
			}
			slices.Sort(gotIDs)
			slices.Sort(ids)
			if !reflect.DeepEqual(gotIDs, ids) {
				t.Errorf("listed %v, want each of %v once", gotIDs, ids)
			}
			if calls := s.Calls(activedemand.RouteConversations); calls > len(ids) {
				t.Errorf("%d requests for %d conversations", calls, len(ids))
			}
		})
	}
}

func TestChangedConversationsUnsorted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`[{"id": 1, "updated_at": "2025-01-02T00:00:00Z"}, {"id": 2, "updated_at": "2025-01-01T00:00:00Z"}]`))
	}))
	defer srv.Close()
	c, err := activedemand.New(activedemand.Config{BaseURL: srv.URL, APIKey: "k", RateLimit: rate.Inf})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ChangedConversations(t.Context(), "", "")
	if !errors.Is(err, activedemand.ErrPagingIgnored) || !strings.Contains(err.Error(), "updated_since") {
		t.Errorf("err = %v, want ErrPagingIgnored naming updated_since", err)
	}
}

func TestParamsInJSONBody(t *testing.T) {
	r := activedemand.DefaultRoutes()
	rt, _ := r.Route(activedemand.RouteHistoryCreate)
	rt.ParamsIn = activedemand.ParamsInJSON
	rt.Params = map[string]string{"contact_id": "contact", "type": "kind", "subject": "title", "body": "text", "at": "when"}
	r2, err := r.With(activedemand.RouteHistoryCreate, rt)
	if err != nil {
		t.Fatal(err)
	}
	s, c := newPair(t, adtest.Options{Seed: 1, Routes: r2}, nil)
	contact := s.Contacts()[0].ID
	id, err := c.AddHistory(t.Context(), activedemand.NewHistoryEntry{ContactID: contact, Type: "note", Subject: "S", Body: "B", At: refTime})
	if err != nil {
		t.Fatal(err)
	}
	req := s.Requests(activedemand.RouteHistoryCreate)[0]
	if req.Header.Get("Content-Type") != "application/json" || !strings.Contains(req.Body, `"kind":"note"`) || !strings.Contains(req.Body, `"contact":"`+string(contact)+`"`) {
		t.Errorf("request %s %q", req.Header.Get("Content-Type"), req.Body)
	}
	if h := s.History(contact); len(h) != 1 || h[0].ID != id || h[0].Subject != "S" || !h[0].At.Equal(refTime) {
		t.Errorf("history = %+v", h)
	}
}

// unknownRoutes is a routes file of n entries for routes that do not exist.
func unknownRoutes(n int) []byte {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[routes.\"no.such.route.%06d\"]\npath = \"x.json\"\n", i)
	}
	return []byte(b.String())
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestRoutesFileProblemsAreCapped checks that a file with many problems
// gives a short error (the first problems and a count), and that a huge
// file is refused before it is parsed: a 1.8 MB file of unknown routes
// once made an 18 MB error and 1.2 GB of allocation.
func TestRoutesFileProblemsAreCapped(t *testing.T) {
	dir := t.TempDir()
	t.Run("many problems", func(t *testing.T) {
		path := filepath.Join(dir, "many.toml")
		if err := os.WriteFile(path, unknownRoutes(100), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := activedemand.LoadRoutes(path)
		var rfe *activedemand.RoutesFileError
		if !errors.As(err, &rfe) {
			t.Fatalf("err = %v, want a RoutesFileError", err)
		}
		if len(rfe.Problems) != activedemand.MaxRoutesFileProblems || rfe.More != 100-activedemand.MaxRoutesFileProblems {
			t.Errorf("%d problems kept and %d more, want %d and %d", len(rfe.Problems), rfe.More, activedemand.MaxRoutesFileProblems, 100-activedemand.MaxRoutesFileProblems)
		}
		msg := err.Error()
		for _, w := range []string{"has 100 problems", "no.such.route.000000", fmt.Sprintf("… and %d more", 100-activedemand.MaxRoutesFileProblems)} {
			if !strings.Contains(msg, w) {
				t.Errorf("error does not say %q:\n%s", w, msg)
			}
		}
		if strings.Contains(msg, "no.such.route.000099") {
			t.Errorf("error lists every problem:\n%s", msg)
		}
		if len(msg) > 16<<10 {
			t.Errorf("error is %d bytes", len(msg))
		}
	})
	t.Run("long names", func(t *testing.T) {
		long := strings.Repeat("n", 60<<10)
		for _, file := range []string{
			"[routes.\"" + long + "\"]\npath = \"x\"\n",
			"[routes.\"contacts.list\"]\n" + long + " = 1\n",
			"[webhook]\n" + long + " = 1\n",
			long + " = 1\n",
			"x = " + long + "\n",
			"[routes.\"contacts.list\"]\npath = \"" + long + "\\x\"\n",
			"[routes.\"contacts.list\"]\npath = \"../" + long + "%\"\n",
		} {
			_, err := activedemand.ParseRoutes("long.toml", []byte(file))
			if err == nil || len(err.Error()) > 2<<10 {
				t.Errorf("a %d-byte name gave a %d-byte error", len(long), len(fmt.Sprint(err)))
			}
		}
	})
	t.Run("huge file", func(t *testing.T) {
		path := filepath.Join(dir, "huge.toml")
		data := unknownRoutes(45000)
		if len(data) < 1800<<10 {
			t.Fatalf("test file is only %d bytes", len(data))
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var err error
		n := allocated(func() { _, err = activedemand.LoadRoutes(path) })
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("err = %v, want the file refused for its size", err)
		}
		if len(err.Error()) > 16<<10 {
			t.Errorf("error is %d bytes", len(err.Error()))
		}
		if n > 32<<20 {
			t.Errorf("loading a %d-byte file allocated %d MB", len(data), n>>20)
		}
	})
	t.Run("largest file read whole", func(t *testing.T) {
		// A file just under the cap, all problems, stays cheap too.
		n := activedemand.MaxRoutesFileSize / 48
		data := unknownRoutes(n)
		for len(data) > activedemand.MaxRoutesFileSize {
			n--
			data = unknownRoutes(n)
		}
		var err error
		alloc := allocated(func() { _, err = activedemand.ParseRoutes("big.toml", data) })
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("has %d problems", n)) {
			t.Errorf("err = %.300v", err)
		}
		t.Logf("%d-byte file, %d problems: %d MB allocated", len(data), n, alloc>>20)
		if alloc > 64<<20 {
			t.Errorf("parsing a %d-byte file allocated %d MB", len(data), alloc>>20)
		}
	})
}

// TestIDsCannotClimbThePath checks that an id used as a path segment
// cannot be a dot segment, which would move the request, keys included,
// elsewhere on the API host.
func TestIDsCannotClimbThePath(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		_, _ = io.WriteString(w, `[{"id": 1}]`)
	}))
	defer api.Close()
	routes, err := activedemand.DefaultRoutes().With(activedemand.RouteWebhookDelete, activedemand.Route{Method: http.MethodDelete, Path: "webhooks/{webhook_id}"})
	if err != nil {
		t.Fatal(err)
	}
	c := mediaClient(t, api.URL+"/v1/", routes)
	for _, id := range []activedemand.ID{"..", "."} {
		if err := c.SetMessageStatus(t.Context(), id, activedemand.MessageRead); err == nil {
			t.Errorf("message id %q accepted", id)
		}
		if err := c.UnsubscribeWebhook(t.Context(), id); err == nil {
			t.Errorf("webhook id %q accepted", id)
		}
		if err := c.AddListMembers(t.Context(), id, "1"); err == nil {
			t.Errorf("list id %q accepted", id)
		}
		if err := c.SubmitForm(t.Context(), id, map[string]string{"email": "a@example.com"}); err == nil {
			t.Errorf("form id %q accepted", id)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(paths) != 0 {
		t.Errorf("requests sent to %v", paths)
	}
}
