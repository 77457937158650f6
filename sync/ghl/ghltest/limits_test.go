package ghltest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"parley/sync/internal/sandboxkit"
)

func headerInt(t *testing.T, r reply, name string) int {
	t.Helper()
	v, err := strconv.Atoi(r.header.Get(name))
	if err != nil {
		t.Fatalf("header %s = %q: %v", name, r.header.Get(name), err)
	}
	return v
}

func TestRateLimitBurstWindow(t *testing.T) {
	clock := newFakeClock()
	srv, c := seeded(t, Options{Clock: clock.Now, RateLimit: sandboxkit.RateLimit{Burst: 3, Window: 10 * time.Second}})
	path := "/conversations/search?locationId=" + srv.LocationID()
	steps := []struct {
		advance    time.Duration
		status     int
		remaining  int
		retryAfter string
	}{
		{0, 200, 2, ""},
		{time.Second, 200, 1, ""},
		{time.Second, 200, 0, ""},
		{0, 429, 0, "8"},                       // window started 2 s ago
		{2500 * time.Millisecond, 429, 0, "6"}, // 5.5 s left, rounded up
		{5400 * time.Millisecond, 429, 0, "1"}, // 0.1 s left: at least 1
		{100 * time.Millisecond, 200, 2, ""},   // a new window; the 429s did not count
		{9900 * time.Millisecond, 200, 1, ""},  // same window
		{100 * time.Millisecond, 200, 2, ""},   // the window ended: a new one
		{20 * time.Second, 200, 2, ""},
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		r := c.do("GET", path, nil, nil)
		if r.status != st.status {
			t.Fatalf("step %d: status %d, want %d", i, r.status, st.status)
		}
		if got := headerInt(t, r, "X-RateLimit-Remaining"); got != st.remaining {
			t.Errorf("step %d: remaining %d, want %d", i, got, st.remaining)
		}
		if got := r.header.Get("Retry-After"); got != st.retryAfter {
			t.Errorf("step %d: Retry-After %q, want %q", i, got, st.retryAfter)
		}
		if headerInt(t, r, "X-RateLimit-Max") != 3 || headerInt(t, r, "X-RateLimit-Interval-Milliseconds") != 10000 {
			t.Errorf("step %d: max/interval headers %v", i, r.header)
		}
		if r.status == 429 {
			var e apiErr
			r.decode(t, &e)
			if e.StatusCode != 429 {
				t.Errorf("429 body %s", r.body)
			}
		}
	}
	// Another location has its own window; token and unauthenticated calls
	// do not count.
	other := newClient(t, srv, srv.IssueTokenForLocation("loc_other").AccessToken)
	if r := other.do("GET", "/conversations/search?locationId=loc_other", nil, nil); r.status != 200 || headerInt(t, r, "X-RateLimit-Remaining") != 2 {
		t.Errorf("other location: %d remaining %s", r.status, r.header.Get("X-RateLimit-Remaining"))
	}
	anon := newClient(t, srv, "")
	for range 5 {
		anon.do("GET", path, nil, nil)
		anon.do("POST", "/oauth/token", url.Values{"client_id": {"x"}, "client_secret": {"y"}, "grant_type": {"refresh_token"}}, nil)
	}
	if r := c.do("GET", path, nil, nil); r.status != 200 || headerInt(t, r, "X-RateLimit-Remaining") != 1 {
		t.Errorf("after uncounted calls: %d remaining %s", r.status, r.header.Get("X-RateLimit-Remaining"))
	}
}

func TestRateLimitDaily(t *testing.T) {
	clock := newFakeClock() // 15:09:26 UTC
	srv, c := seeded(t, Options{Clock: clock.Now, RateLimit: sandboxkit.RateLimit{Daily: 2}})
	path := "/conversations/search?locationId=" + srv.LocationID()
	for i := range 2 {
		r := c.mustDo(200, "GET", path, nil)
		if got := headerInt(t, r, "X-RateLimit-Daily-Remaining"); got != 1-i {
			t.Errorf("daily remaining %d, want %d", got, 1-i)
		}
	}
	r := c.do("GET", path, nil, nil)
	untilMidnight := 8*time.Hour + 50*time.Minute + 34*time.Second
	if r.status != 429 || headerInt(t, r, "X-RateLimit-Daily-Remaining") != 0 || headerInt(t, r, "X-RateLimit-Limit-Daily") != 2 ||
		r.header.Get("Retry-After") != strconv.Itoa(int(untilMidnight.Seconds())) ||
		headerInt(t, r, "X-RateLimit-Daily-Reset") != int(untilMidnight.Milliseconds()) {
		t.Fatalf("over the daily limit: %d %v", r.status, r.header)
	}
	// Burst is not enforced, so the burst header does not say 0.
	if headerInt(t, r, "X-RateLimit-Remaining") == 0 {
		t.Error("a daily 429 reports the burst as used up")
	}
	clock.Advance(untilMidnight)
	c.mustDo(200, "GET", path, nil)
}

func TestRateLimitOffStillSendsGHLHeaders(t *testing.T) {
	srv, c := seeded(t, Options{})
	path := "/conversations/" + srv.Conversations()[0].ID
	for i := range 250 {
		r := c.mustDo(200, "GET", path, nil)
		if headerInt(t, r, "X-RateLimit-Max") != 100 || headerInt(t, r, "X-RateLimit-Interval-Milliseconds") != 10000 ||
			headerInt(t, r, "X-RateLimit-Limit-Daily") != 200000 || headerInt(t, r, "X-RateLimit-Daily-Remaining") != 200000-i-1 {
			t.Fatalf("request %d: %v", i, r.header)
		}
		if rem := headerInt(t, r, "X-RateLimit-Remaining"); rem < 1 || rem > 99 {
			t.Fatalf("request %d: remaining %d", i, rem)
		}
		if r.header.Get("X-RateLimit-Daily-Reset") == "" {
			t.Fatal("no daily reset header")
		}
	}
}

// noKeepAlive makes each request use a fresh connection, so a dropped
// connection is never retried by the transport itself.
func noKeepAlive(c *client) *client {
	c.hc = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	return c
}

func TestFaults(t *testing.T) {
	srv, c := seeded(t, Options{SpecShapes: true})
	noKeepAlive(c)
	c.noValidate = true // faulted answers are not the API's
	conv := srv.Conversations()[0]
	inboundRoute := "POST /conversations/messages/inbound"
	n := 0
	record := func() map[string]any {
		n++
		return map[string]any{"type": "SMS", "conversationId": conv.ID, "contactId": conv.ContactID,
			"conversationProviderId": srv.ConversationProviderID(), "message": "fault", "altId": "f" + strconv.Itoa(n)}
	}
	count := func() int { return len(srv.Messages(conv.ID)) }

	cases := []struct {
		fault   sandboxkit.Fault
		status  int  // 0: the connection is dropped
		applied bool // the record was stored
		check   func(t *testing.T, r reply)
	}{
		{sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusTooManyRequests, RetryAfter: 1500 * time.Millisecond}, 429, false, func(t *testing.T, r reply) {
			if r.header.Get("Retry-After") != "2" || r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("X-RateLimit-Max") == "" {
				t.Errorf("headers %v", r.header)
			}
		}},
		{sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusTooManyRequests}, 429, false, func(t *testing.T, r reply) {
			if r.header.Get("Retry-After") != "" {
				t.Errorf("Retry-After without RetryAfter: %q", r.header.Get("Retry-After"))
			}
		}},
		{sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusInternalServerError}, 500, false, isJSON},
		{sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusBadGateway}, 502, false, isHTML},
		{sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusServiceUnavailable}, 503, false, isJSON},
		{sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusGatewayTimeout}, 504, false, isHTML},
		{sandboxkit.Fault{Kind: sandboxkit.FaultMalformedBefore}, 200, false, func(t *testing.T, r reply) {
			var v any
			if json.Unmarshal(r.body, &v) == nil || len(r.body) == 0 {
				t.Errorf("body %q is valid JSON", r.body)
			}
		}},
		{sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusUnauthorized}, 401, false, func(t *testing.T, r reply) {
			var e apiErr
			r.decode(t, &e)
			if e.messages()[0] != msgInvalidJWT {
				t.Errorf("body %s", r.body)
			}
		}},
		{sandboxkit.Fault{Kind: sandboxkit.FaultSlow, Delay: 30 * time.Millisecond}, 200, true, nil},
		{sandboxkit.Fault{Kind: sandboxkit.FaultDropBefore}, 0, false, nil},
		{sandboxkit.Fault{Kind: sandboxkit.FaultDropAfter}, 0, true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.fault.String(), func(t *testing.T) {
			tc.fault.Route = inboundRoute
			if err := srv.InjectFault(tc.fault); err != nil {
				t.Fatal(err)
			}
			before, calls := count(), srv.Calls(inboundRoute)
			start := time.Now()
			req := c.request("POST", "/conversations/messages/inbound", record(), nil)
			resp, err := c.hc.Do(req)
			if tc.status == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got %d, want a dropped connection", resp.StatusCode)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				r := readReply(t, resp)
				if r.status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
				}
				if tc.check != nil {
					tc.check(t, r)
				}
			}
			if tc.fault.Kind == sandboxkit.FaultSlow && time.Since(start) < tc.fault.Delay {
				t.Errorf("answered after %v, before the delay", time.Since(start))
			}
			if applied := count() == before+1; applied != tc.applied {
				t.Errorf("applied = %v, want %v", applied, tc.applied)
			}
			if srv.Calls(inboundRoute) != calls+1 {
				t.Errorf("the faulted call was not counted")
			}
			// The fault is used up: the next call is normal.
			c.do("POST", "/conversations/messages/inbound", record(), nil)
			if count() != before+1+boolInt(tc.applied) {
				t.Errorf("the call after the fault was not applied")
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func readReply(t *testing.T, resp *http.Response) reply {
	t.Helper()
	defer resp.Body.Close()
	buf, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: buf}
}

func isJSON(t *testing.T, r reply) {
	t.Helper()
	var e apiErr
	r.decode(t, &e)
	if e.StatusCode != r.status {
		t.Errorf("body %s", r.body)
	}
}

func isHTML(t *testing.T, r reply) {
	t.Helper()
	if r.header.Get("Content-Type") != "text/html" || len(r.body) == 0 {
		t.Errorf("gateway answer %q %q", r.header.Get("Content-Type"), r.body)
	}
}

func TestFaultMatchingAndOrder(t *testing.T) {
	srv, c := seeded(t, Options{})
	c.noValidate = true
	conv := srv.Conversations()[0]
	getConv := "GET /conversations/{conversationId}"
	get := func() int { return c.do("GET", "/conversations/"+conv.ID, nil, nil).status }
	search := func() int {
		return c.do("GET", "/conversations/search?locationId="+srv.LocationID(), nil, nil).status
	}

	if err := srv.InjectFault(sandboxkit.Fault{Route: getConv, Kind: sandboxkit.FaultStatus, Status: http.StatusServiceUnavailable, Times: 2}); err != nil {

		t.Fatal(err)

	}
	if err := srv.InjectFault(sandboxkit.Fault{Route: getConv, Kind: sandboxkit.FaultStatus, Status: http.StatusInternalServerError}); err != nil {
		t.Fatal(err)
	}
	// No route: any route.
	if err := srv.InjectFault(sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusBadGateway}); err != nil {
		t.Fatal(err)
	}
	got := []int{search(), get(), get(), get(), get(), search()}
	want := []int{502, 503, 503, 500, 200, 200}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	}
	if srv.Calls(getConv) != 4 || srv.CallCounts()["GET /conversations/search"] != 2 {
		t.Errorf("counts %v", srv.CallCounts())
	}
	srv.ResetCalls()
	if len(srv.CallCounts()) != 0 || srv.Calls(getConv) != 0 {
		t.Errorf("counts after reset %v", srv.CallCounts())
	}
}

func TestSlowFaultHonoursTheRequestContext(t *testing.T) {
	srv, c := seeded(t, Options{})
	conv := srv.Conversations()[0]
	if err := srv.InjectFault(sandboxkit.Fault{Route: "GET /conversations/{conversationId}", Kind: sandboxkit.FaultSlow, Delay: time.Minute}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req := c.request("GET", "/conversations/"+conv.ID, nil, nil).WithContext(ctx)
	start := time.Now()
	_, err := c.hc.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	// Close waits for handlers: it returns promptly only if the slow
	// handler noticed the client leaving (or the sandbox closing).
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("the slow handler ran on for %v", time.Since(start))
	}
}

func TestDroppedGETIsRetriedOnceByGoOnAReusedConnection(t *testing.T) {
	// Documents the sandboxkit.Fault doc comment: with keep-alive, Go's transport
	// replays an idempotent request once after a silent close.
	srv, c := seeded(t, Options{})
	conv := srv.Conversations()[0]
	route := "GET /conversations/{conversationId}"
	c.mustDo(200, "GET", "/conversations/"+conv.ID, nil) // open a keep-alive connection
	if err := srv.InjectFault(sandboxkit.Fault{Route: route, Kind: sandboxkit.FaultDropBefore}); err != nil {
		t.Fatal(err)
	}
	c.mustDo(200, "GET", "/conversations/"+conv.ID, nil)
	if srv.Calls(route) != 3 {
		t.Errorf("calls %d, want 3 (one dropped, one replayed)", srv.Calls(route))
	}
	if err := srv.InjectFault(sandboxkit.Fault{Route: route, Kind: sandboxkit.FaultDropBefore, Times: 2}); err != nil {
		t.Fatal(err)
	}
	req := c.request("GET", "/conversations/"+conv.ID, nil, nil)
	if resp, err := c.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Error("a GET dropped twice succeeded")
	}
}
