package sandboxkit

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// toy is the smallest sandbox: one route that "applies" a call by
// counting it and answers {"ok":true,...}.
type toy struct {
	faults  Faults
	calls   Calls
	http    HTTP
	applied atomic.Int32
}

const toyRoute = "POST /things"

func (s *toy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.calls.Record(toyRoute, r, body)
	next := func(w http.ResponseWriter) {
		s.applied.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"thing":{"id":"t1","name":"a long enough name"}}`)
	}
	f, ok := s.faults.Take(toyRoute)
	if !ok {
		next(w)
		return
	}
	f.Serve(w, r, func(w http.ResponseWriter, f Fault) {
		msg := f.Body
		if msg == "" {
			msg = http.StatusText(f.Status)
		}
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, `{"error":"`+msg+`"}`)
	}, next)
}

func newToy(t *testing.T) (*toy, string) {
	t.Helper()
	s := &toy{}
	u, err := s.http.Listen("", s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.http.Close)
	return s, u
}

// noReuse is a client on fresh connections, so a dropped connection is not
// replayed by the transport.
var noReuse = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

type reply struct {
	status int
	header http.Header
	body   string
	err    error
}

func post(ctx context.Context, u string) reply {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u+"/things", strings.NewReader(`{"name":"a"}`))
	if err != nil {
		return reply{err: err}
	}
	resp, err := noReuse.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b), err: err}
}

func TestFaultKindsOverHTTP(t *testing.T) {
	cases := []struct {
		fault   Fault
		status  int // 0: the connection is dropped
		applied bool
		check   func(t *testing.T, r reply)
	}{
		{Fault{Kind: FaultStatus, Status: 503, RetryAfter: 1500 * time.Millisecond}, 503, false, func(t *testing.T, r reply) {
			if r.header.Get("Retry-After") != "2" || !strings.Contains(r.body, "Service Unavailable") {
				t.Errorf("Retry-After %q, body %q", r.header.Get("Retry-After"), r.body)
			}
		}},
		{Fault{Kind: FaultStatus, Status: 401, Body: "token expired"}, 401, false, func(t *testing.T, r reply) {
			if r.header.Get("Retry-After") != "" || !strings.Contains(r.body, "token expired") {
				t.Errorf("Retry-After %q, body %q", r.header.Get("Retry-After"), r.body)
			}
		}},
		{Fault{Kind: FaultSlow, Delay: 50 * time.Millisecond}, 200, true, nil},
		{Fault{Kind: FaultDropBefore}, 0, false, nil},
		{Fault{Kind: FaultDropAfter}, 0, true, nil},
		{Fault{Kind: FaultMalformedBefore}, 200, false, notJSON},
		{Fault{Kind: FaultMalformedBefore, Body: `{"id":`}, 200, false, func(t *testing.T, r reply) {
			if r.body != `{"id":` {
				t.Errorf("body %q, want the fault's", r.body)
			}
		}},
		{Fault{Kind: FaultMalformedAfter}, 200, true, func(t *testing.T, r reply) {
			notJSON(t, r)
			if !strings.HasPrefix(r.body, `{"ok":true,"thing"`) {
				t.Errorf("body %q is not the start of the real answer", r.body)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.fault.String(), func(t *testing.T) {
			s, u := newToy(t)
			tc.fault.Route = toyRoute
			if err := s.faults.Inject(tc.fault); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r := post(t.Context(), u)
			switch {
			case tc.status == 0 && r.err == nil:
				t.Fatalf("got %d %q, want a dropped connection", r.status, r.body)
			case tc.status != 0 && r.err != nil:
				t.Fatal(r.err)
			case r.status != tc.status:
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
			if tc.fault.Kind == FaultSlow && time.Since(start) < tc.fault.Delay {
				t.Errorf("answered after %v, before the delay", time.Since(start))
			}
			if got := s.applied.Load() == 1; got != tc.applied {
				t.Errorf("applied = %v, want %v", got, tc.applied)
			}
			// Used up: the next call is normal.
			if r := post(t.Context(), u); r.err != nil || r.status != 200 {
				t.Errorf("call after the fault: %d %v", r.status, r.err)
			}
			if s.calls.Count(toyRoute) != 2 {
				t.Errorf("calls %d, want 2", s.calls.Count(toyRoute))
			}
		})
	}
}

func notJSON(t *testing.T, r reply) {
	t.Helper()
	var v any
	if r.body == "" || json.Unmarshal([]byte(r.body), &v) == nil {
		t.Errorf("body %q is valid JSON or empty", r.body)
	}
}

func TestSlowFaultEndsWithTheClientAndWithClose(t *testing.T) {
	s, u := newToy(t)
	if err := s.faults.Inject(Fault{Kind: FaultSlow, Delay: time.Minute, Times: -1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if r := post(ctx, u); !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", r.err)
	}
	// A client still waiting when the sandbox closes: Close waits for
	// handlers, so it returns promptly only if the slow fault stops.
	done := make(chan reply, 1)
	go func() { done <- post(context.Background(), u) }()
	for s.calls.Count(toyRoute) < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	s.http.Close()
	<-done
	if time.Since(start) > 10*time.Second {
		t.Errorf("slow handlers ran on for %v", time.Since(start))
	}
	if s.applied.Load() != 0 {
		t.Errorf("a slow call that nobody waited for was applied")
	}
}

func TestCloseDoesNotWaitForSilentConnections(t *testing.T) {
	s, u := newToy(t)
	// A connection that never sends a request, as clients dial spares.
	conn, err := net.Dial("tcp", strings.TrimPrefix(u, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	s.http.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	s.http.Close() // again: nothing to do
	if _, err := s.http.Listen("", s); err == nil {
		t.Error("Listen after Close succeeded")
	}
}

func TestListenTwice(t *testing.T) {
	s, u := newToy(t)
	if s.http.URL() != u || !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Fatalf("URL %q, Listen said %q", s.http.URL(), u)
	}
	if _, err := s.http.Listen("", s); err == nil || !strings.Contains(err.Error(), u) {
		t.Errorf("second Listen: %v", err)
	}
}

func TestListenOnTheConfiguredAddr(t *testing.T) {
	// Find a free port, then ask for it by Addr.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &toy{http: HTTP{Name: "toy", Addr: addr}}
	u, err := s.http.Listen("", s)
	if err != nil {
		t.Fatal(err)
	}
	defer s.http.Close()
	if u != "http://"+addr {
		t.Errorf("listening on %s, want %s", u, addr)
	}
	other := &toy{http: HTTP{Name: "toy", Addr: addr}}
	if _, err := other.http.Listen("", other); err == nil || !strings.HasPrefix(err.Error(), "toy: listen on "+addr) {
		t.Errorf("Listen on a busy address: %v, want an error naming the sandbox and the address", err)
	}
}

func TestFaultQueue(t *testing.T) {
	var fs Faults
	must := func(f Fault) {
		t.Helper()
		if err := fs.Inject(f); err != nil {
			t.Fatal(err)
		}
	}
	must(Fault{Route: "a", Kind: FaultStatus, Status: 503, Times: 2})
	must(Fault{Route: "a", Kind: FaultStatus, Status: 500})
	must(Fault{Kind: FaultStatus, Status: 502}) // any route
	var got []string
	for _, route := range []string{"b", "a", "a", "a", "a", "b"} {
		f, ok := fs.Take(route)
		if !ok {
			got = append(got, "-")
			continue
		}
		got = append(got, f.String())
	}
	want := "status-502 status-503 status-503 status-500 - -"
	if strings.Join(got, " ") != want {
		t.Errorf("faults taken %v, want %s", got, want)
	}

	must(Fault{Route: "a", Kind: FaultDropBefore, Times: -1})
	for range 5 {
		if _, ok := fs.Take("a"); !ok {
			t.Fatal("a fault with negative Times was used up")
		}
	}
	fs.Clear()
	if _, ok := fs.Take("a"); ok {
		t.Error("a fault survived Clear")
	}
}

func TestFaultValidate(t *testing.T) {
	bad := []Fault{
		{Kind: FaultStatus, Status: 200},
		{Kind: FaultStatus},
		{Kind: FaultSlow},
		{Kind: "explode"},
		{},
	}
	var fs Faults
	for _, f := range bad {
		if err := fs.Inject(f); err == nil {
			t.Errorf("%+v was accepted", f)
		}
	}
	if _, ok := fs.Take(""); ok {
		t.Error("a refused fault was queued")
	}
}

func TestCalls(t *testing.T) {
	var c Calls
	get, _ := http.NewRequest(http.MethodGet, "http://x/a?q=1", nil)
	get.Header.Set("X-Key", "k")
	post, _ := http.NewRequest(http.MethodPost, "http://x/a", nil)
	for range keepRequests + 5 {
		c.Record("GET /a", get, []byte("ignored"))
	}
	c.Record("POST /a", post, []byte(`{"n":1}`))
	if c.Count("GET /a") != keepRequests+5 || c.Counts()["POST /a"] != 1 {
		t.Fatalf("counts %v", c.Counts())
	}
	rs := c.Requests("GET /a")
	if len(rs) != keepRequests || rs[0].RawQuery != "q=1" || rs[0].Header.Get("X-Key") != "k" || rs[0].Body != "" {
		t.Errorf("%d GET requests kept, first %+v", len(rs), rs[0])
	}
	if rs := c.Requests("POST /a"); len(rs) != 1 || rs[0].Body != `{"n":1}` {
		t.Errorf("POST requests %+v", rs)
	}
	c.Reset()
	if c.Count("GET /a") != 0 || len(c.Counts()) != 0 || len(c.Requests("POST /a")) != 0 {
		t.Errorf("after Reset: %v", c.Counts())
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", time.Minute: "60"} {
		if got := RetryAfterSeconds(d); got != want {
			t.Errorf("RetryAfterSeconds(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestRateLimitLimiter(t *testing.T) {
	if (RateLimit{}).Limiter() != nil || (RateLimit{Daily: 5}).Limiter() != nil {
		t.Error("a limiter without a burst limit")
	}
	l := RateLimit{Burst: 2, Window: time.Second}.Limiter()
	allowed := 0
	for range 3 {
		if l.Allow() {
			allowed++
		}
	}
	if allowed != 2 {
		t.Errorf("%d of 3 calls allowed at once, want the burst of 2", allowed)
	}
}

func TestManualClock(t *testing.T) {
	start := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	c := NewManualClock(start)
	c.Advance(90 * time.Second)
	if got := c.Now(); !got.Equal(start.Add(90 * time.Second)) {
		t.Errorf("Now = %v after Advance(90s) from %v", got, start)
	}
	if d := time.Since(ClockOrNow(nil)()); d < 0 || d > time.Minute {
		t.Errorf("ClockOrNow(nil) is %v off the wall clock", d)
	}
	if !ClockOrNow(c.Now)().Equal(c.Now()) {
		t.Error("ClockOrNow did not keep the given clock")
	}
}
