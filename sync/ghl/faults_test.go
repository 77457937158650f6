package ghl

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"parley/sync/ghl/ghltest"
	"parley/sync/internal/sandboxkit"
)

func countAltID(srv *ghltest.Server, conversationID, altID string) int {
	n := 0
	for _, m := range srv.Messages(conversationID) {
		if m.AltID == altID {
			n++
		}
	}
	return n
}

// The faults every table covers, by what HighLevel (or a gateway in front
// of it) does.
var (
	faultRateLimit      = sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusTooManyRequests}
	faultServerError    = sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusInternalServerError}
	faultBadGateway     = sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusBadGateway}
	faultUnavailable    = sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusServiceUnavailable}
	faultGatewayTimeout = sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusGatewayTimeout}
	faultExpiredToken   = sandboxkit.Fault{Kind: sandboxkit.FaultStatus, Status: http.StatusUnauthorized}
	faultSlow           = sandboxkit.Fault{Kind: sandboxkit.FaultSlow, Delay: 2 * time.Second}
	faultDrop           = sandboxkit.Fault{Kind: sandboxkit.FaultDropBefore}
	faultDropAfterApply = sandboxkit.Fault{Kind: sandboxkit.FaultDropAfter}
	faultMalformedJSON  = sandboxkit.Fault{Kind: sandboxkit.FaultMalformedBefore}
)

// faultCase is what one call does under one fault.
type faultCase struct {
	fault sandboxkit.Fault
	// times is how many consecutive calls the fault hits.
	times int
	// wantErr is the sentinel the call must fail with (nil = succeeds).
	wantErr error
	// calls is how many requests must reach the route.
	calls int
	// applied is how many times the request's effect must exist
	// afterwards (for calls that create something).
	applied int
	// recovered: a record found by altId instead of posted again.
	recovered bool
}

var allFaults = []sandboxkit.Fault{
	faultRateLimit, faultServerError, faultBadGateway, faultUnavailable,
	faultGatewayTimeout, faultSlow, faultDrop, faultDropAfterApply,
	faultMalformedJSON, faultExpiredToken,
}

// coversAll fails unless the table has a case for every fault kind.
func coversAll(t *testing.T, cases []faultCase) {
	t.Helper()
	have := map[sandboxkit.Fault]bool{}
	for _, c := range cases {
		have[c.fault] = true
	}
	for _, k := range allFaults {
		if !have[k] {
			t.Errorf("no case for %v", k)
		}
	}
}

// runFault injects the fault and runs call against a fresh sandbox.
func runFault(t *testing.T, route string, fc faultCase, call func(ctx context.Context, c *Client, srv *ghltest.Server, f fixture) (applied int, recovered bool, err error)) {
	t.Helper()
	srv := sandbox(t)
	slept := &sleeps{}
	obs := &calls{}
	c := client(t, srv, func(cfg *Config) {
		cfg.Retry.Sleep = slept.sleep
		cfg.AttemptTimeout = 300 * time.Millisecond
		cfg.Observer = obs.observe
	})
	f := arrange(t, srv)
	// Warm up a connection so that replays by the transport are seen too.
	if _, err := c.GetContact(ctxT(t), srv.Contacts()[0].ID); err != nil {
		t.Fatal(err)
	}
	srv.ResetCalls()
	times := fc.times
	if times == 0 {
		times = 1
	}
	fault := fc.fault
	fault.Route, fault.Times = route, times
	if fc.fault == faultRateLimit {
		fault.RetryAfter = time.Second
	}
	if err := srv.InjectFault(fault); err != nil {
		t.Fatal(err)
	}
	applied, recovered, err := call(ctxT(t), c, srv, f)
	switch {
	case fc.wantErr == nil && err != nil:
		t.Fatalf("%v on %s: %v, want success", fc.fault, route, err)
	case fc.wantErr != nil && !errors.Is(err, fc.wantErr):
		t.Fatalf("%v on %s: err = %v, want %v", fc.fault, route, err, fc.wantErr)
	}
	if got := srv.Calls(route); got != fc.calls {
		t.Errorf("%v on %s: %d requests reached the route, want %d", fc.fault, route, got, fc.calls)
	}
	if applied != fc.applied {
		t.Errorf("%v on %s: applied %d times, want %d", fc.fault, route, applied, fc.applied)
	}
	if recovered != fc.recovered {
		t.Errorf("%v on %s: recovered = %v, want %v", fc.fault, route, recovered, fc.recovered)
	}
	ci := obs.last(t)
	if ci.Route != route || (err == nil) != (ci.Err == nil) {
		t.Errorf("observer's last report %+v does not match the call (err %v)", ci, err)
	}
	if fc.fault == faultRateLimit && fc.wantErr == nil {
		longest := time.Duration(0)
		for _, d := range slept.all() {
			longest = max(longest, d)
		}
		if longest < 900*time.Millisecond || longest > time.Second {
			t.Errorf("waits %v: want one of about 1 s, the fault's Retry-After", slept.all())
		}
	}
}

// TestFaultsIdempotent: reads are retried through every transient fault.
func TestFaultsIdempotent(t *testing.T) {
	route := "GET /conversations/{conversationId}"
	cases := []faultCase{
		{fault: faultRateLimit, calls: 2},
		{fault: faultServerError, calls: 2},
		{fault: faultBadGateway, calls: 2},
		{fault: faultUnavailable, calls: 2},
		{fault: faultGatewayTimeout, calls: 2},
		{fault: faultSlow, calls: 2},
		// The transport replays a GET dropped on a reused connection once
		// by itself, so two drops make the call see one.
		{fault: faultDrop, times: 2, calls: 3},
		{fault: faultDropAfterApply, times: 2, calls: 3},
		{fault: faultMalformedJSON, calls: 2},
		// A private token cannot be refreshed: a 401 is final.
		{fault: faultExpiredToken, calls: 1, wantErr: ErrUnauthorized},
		// Five 503s in a row exhaust the attempts.
		{fault: faultUnavailable, times: 5, calls: 5, wantErr: nil},
	}
	coversAll(t, cases)
	for _, fc := range cases {
		t.Run(fmt.Sprintf("%v/x%d", fc.fault, max(fc.times, 1)), func(t *testing.T) {
			if fc.times == 5 {
				// Exhaustion: the error is the last 503.
				srv := sandbox(t)
				c := client(t, srv)
				f := arrange(t, srv)
				fault := fc.fault
				fault.Route, fault.Times = route, 5
				if err := srv.InjectFault(fault); err != nil {
					t.Fatal(err)
				}
				_, err := c.GetConversation(ctxT(t), f.conv.ID)
				var ae *APIError
				if !errors.As(err, &ae) || ae.Status != 503 || !strings.Contains(err.Error(), "after 5 attempts") {
					t.Fatalf("after 5 x 503: %v, want the 503 after 5 attempts", err)
				}
				if got := srv.Calls(route); got != 5 {
					t.Errorf("%d requests, want 5", got)
				}
				return
			}
			runFault(t, route, fc, func(ctx context.Context, c *Client, srv *ghltest.Server, f fixture) (int, bool, error) {
				conv, err := c.GetConversation(ctx, f.conv.ID)
				if err == nil && conv.ID != f.conv.ID {
					return 0, false, fmt.Errorf("got conversation %s", conv.ID)
				}
				return 0, false, err
			})
		})
	}
}

// TestFaultsDeliver: a delivery is never sent twice. Whatever may have
// reached HighLevel ends in ErrOutcomeUnknown after one request.
func TestFaultsDeliver(t *testing.T) {
	route := "POST /conversations/messages"
	cases := []faultCase{
		{fault: faultRateLimit, calls: 2, applied: 1},
		{fault: faultServerError, calls: 1, wantErr: ErrOutcomeUnknown},
		{fault: faultBadGateway, calls: 1, wantErr: ErrOutcomeUnknown},
		{fault: faultUnavailable, calls: 1, wantErr: ErrOutcomeUnknown},
		{fault: faultGatewayTimeout, calls: 1, wantErr: ErrOutcomeUnknown},
		{fault: faultSlow, calls: 1, wantErr: ErrOutcomeUnknown},
		{fault: faultDrop, calls: 1, wantErr: ErrOutcomeUnknown},
		{fault: faultDropAfterApply, calls: 1, applied: 1, wantErr: ErrOutcomeUnknown},
		{fault: faultMalformedJSON, calls: 1, wantErr: ErrOutcomeUnknown},
		{fault: faultExpiredToken, calls: 1, wantErr: ErrUnauthorized},
	}
	coversAll(t, cases)
	for _, fc := range cases {
		t.Run(fc.fault.String(), func(t *testing.T) {
			runFault(t, route, fc, func(ctx context.Context, c *Client, srv *ghltest.Server, f fixture) (int, bool, error) {
				const text = "Your installer arrives at two."
				_, err := c.DeliverMessage(ctx, DeliveryRequest{Type: ChannelSMS, ContactID: f.conv.ContactID, Message: text})
				n := 0
				for _, m := range srv.Messages(f.conv.ID) {
					if m.Body == text {
						n++
					}
				}
				return n, false, err
			})
		})
	}
}

// TestFaultsRecord: a record is created exactly once whatever happens to
// the first attempt: an uncertain outcome is resolved by looking for the
// altId, and only an absent record is posted again.
func TestFaultsRecord(t *testing.T) {
	route := "POST /conversations/messages/inbound"
	cases := []faultCase{
		{fault: faultRateLimit, calls: 2, applied: 1},
		{fault: faultServerError, calls: 2, applied: 1},
		{fault: faultBadGateway, calls: 2, applied: 1},
		{fault: faultUnavailable, calls: 2, applied: 1},
		{fault: faultGatewayTimeout, calls: 2, applied: 1},
		{fault: faultSlow, calls: 2, applied: 1},
		{fault: faultDrop, calls: 2, applied: 1},
		{fault: faultDropAfterApply, calls: 1, applied: 1, recovered: true},
		{fault: faultMalformedJSON, calls: 2, applied: 1},
		{fault: faultExpiredToken, calls: 1, wantErr: ErrUnauthorized},
	}
	coversAll(t, cases)
	for _, fc := range cases {
		t.Run(fc.fault.String(), func(t *testing.T) {
			runFault(t, route, fc, func(ctx context.Context, c *Client, srv *ghltest.Server, f fixture) (int, bool, error) {
				res, err := c.RecordMessage(ctx, RecordRequest{Type: ChannelSMS, ConversationID: f.conv.ID, ContactID: f.conv.ContactID,
					ConversationProviderID: f.provider, AltID: "ad-42", Direction: Outbound, Message: "Booked for Thursday."})
				if err == nil {
					if m, ok := srv.Message(res.MessageID); !ok || m.AltID != "ad-42" {
						return 0, false, fmt.Errorf("result names message %q, which does not carry the altId", res.MessageID)
					}
				}
				return countAltID(srv, f.conv.ID, "ad-42"), res.Recovered, err
			})
		})
	}
}

// TestRecordCallDropAfterApply: the outbound call record is exactly-once
// too.
func TestRecordCallDropAfterApply(t *testing.T) {
	route := "POST /conversations/messages/outbound"
	runFault(t, route, faultCase{fault: faultDropAfterApply, calls: 1, applied: 1, recovered: true},
		func(ctx context.Context, c *Client, srv *ghltest.Server, f fixture) (int, bool, error) {
			res, err := c.RecordCall(ctx, CallRecord{ConversationID: f.conv.ID, ConversationProviderID: f.provider, AltID: "ad-call-9",
				Call: CallData{To: "+19025550100", From: "+19025550199", Status: CallNoAnswer}})
			return countAltID(srv, f.conv.ID, "ad-call-9"), res.Recovered, err
		})
}

// TestRecordWithoutAltID: without an altId nothing can be checked, so an
// uncertain outcome is reported, not retried.
func TestRecordWithoutAltID(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	f := arrange(t, srv)
	route := "POST /conversations/messages/inbound"
	if err := srv.InjectFault(sandboxkit.Fault{Route: route, Kind: sandboxkit.FaultDropAfter}); err != nil {
		t.Fatal(err)
	}
	_, err := c.RecordMessage(ctxT(t), RecordRequest{Type: ChannelSMS, ConversationID: f.conv.ID, ContactID: f.conv.ContactID,
		ConversationProviderID: f.provider, Direction: Inbound, Message: "no alt id"})
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	if got := srv.Calls(route); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}

// TestRecordNotRecorded: ERRATA 20, an empty 201 for a Custom record with
// a wrong provider is a failure, not a success.
func TestRecordNotRecorded(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	f := arrange(t, srv)
	before := len(srv.Messages(f.conv.ID))
	_, err := c.RecordMessage(ctxT(t), RecordRequest{Type: ChannelCustom, ConversationID: f.conv.ID, ContactID: f.conv.ContactID,
		ConversationProviderID: "not-our-provider", AltID: "ad-7", Direction: Inbound, Message: "hi"})
	if !errors.Is(err, ErrNotRecorded) || !strings.Contains(err.Error(), "conversation provider") {
		t.Fatalf("err = %v, want ErrNotRecorded saying to check the provider", err)
	}
	if after := len(srv.Messages(f.conv.ID)); after != before {
		t.Errorf("messages %d -> %d", before, after)
	}
}

// TestRateLimitRetryAfterRealTime: the client really waits Retry-After
// before trying again, and so does every other call for the location.
func TestRateLimitRetryAfterRealTime(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv, func(cfg *Config) { cfg.Retry.Sleep = nil })
	f := arrange(t, srv)
	route := "GET /conversations/{conversationId}"
	if err := srv.InjectFault(sandboxkit.Fault{Route: route, Kind: sandboxkit.FaultStatus, Status: http.StatusTooManyRequests, RetryAfter: time.Second}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := c.GetConversation(ctxT(t), f.conv.ID); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("retried after %v, want at least the 1 s Retry-After", el)
	}
	if got := srv.Calls(route); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
}

// TestRetryAfterBeyondCap: a Retry-After longer than the cap is not waited
// out; the caller learns when to come back.
func TestRetryAfterBeyondCap(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv, func(cfg *Config) { cfg.Retry.MaxDelay = 500 * time.Millisecond })
	f := arrange(t, srv)
	if err := srv.InjectFault(sandboxkit.Fault{Route: "GET /conversations/{conversationId}", Kind: sandboxkit.FaultStatus, Status: http.StatusTooManyRequests, RetryAfter: 3 * time.Second}); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetConversation(ctxT(t), f.conv.ID)
	var rle *RateLimitError
	if !errors.As(err, &rle) || !errors.Is(err, ErrRateLimited) || rle.RetryAfter != 3*time.Second || rle.Daily {
		t.Fatalf("err = %v, want a burst RateLimitError with RetryAfter 3s", err)
	}
}

// TestCancelledDuringDelivery: a delivery cancelled by the caller after it
// was sent has an unknown outcome.
func TestCancelledDuringDelivery(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	f := arrange(t, srv)
	if err := srv.InjectFault(sandboxkit.Fault{Route: "POST /conversations/messages", Kind: sandboxkit.FaultSlow, Delay: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.DeliverMessage(ctx, DeliveryRequest{Type: ChannelSMS, ContactID: f.conv.ContactID, Message: "x"})
	if !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown caused by the deadline", err)
	}
}

// TestNotSentIsRetried: a request that never left (connection refused) is
// retried even for a delivery, and the attempts are bounded.
func TestNotSentIsRetried(t *testing.T) {
	srv := sandbox(t)
	base := srv.URL()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	c := client(t, srv, func(cfg *Config) {
		cfg.BaseURL = base
		cfg.Observer = func(ci CallInfo) { n.Store(int32(ci.Attempts)) }
	})
	_, err := c.DeliverMessage(ctxT(t), DeliveryRequest{Type: ChannelSMS, ContactID: "c1", Message: "x"})
	if err == nil || errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "after 5 attempts") {
		t.Fatalf("err = %v, want a connection error after 5 attempts (not an unknown outcome)", err)
	}
	if n.Load() != 5 {
		t.Errorf("attempts = %d, want 5", n.Load())
	}
}

// TestValidationMessages: HighLevel's 400 (message a string) and 422
// (message an array) both become ErrValidation with the messages.
func TestValidationMessages(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	f := arrange(t, srv)
	noPhone := srv.AddContact(ghltest.Contact{FirstName: "Email", LastName: "Only", Email: "only@example.com"})
	_, err := c.DeliverMessage(ctxT(t), DeliveryRequest{Type: ChannelSMS, ContactID: noPhone.ID, Message: "hi"})
	var ae *APIError
	if !errors.Is(err, ErrValidation) || !errors.As(err, &ae) || ae.Status != 400 || len(ae.Messages) != 1 ||
		!strings.Contains(ae.Messages[0], "phone") {
		t.Fatalf("400: %v, want ErrValidation with the sandbox's message", err)
	}
	if n := srv.Calls("POST /conversations/messages"); n != 1 {
		t.Errorf("%d requests: a 400 is not retried", n)
	}

	srv.ExpectRejections() // the next body breaks the spec on purpose
	_, err = c.RecordMessage(ctxT(t), RecordRequest{Type: "Pigeon", ConversationID: f.conv.ID, ContactID: f.conv.ContactID,
		ConversationProviderID: f.provider, AltID: "ad-v", Direction: Inbound})
	if !errors.Is(err, ErrValidation) || !errors.As(err, &ae) || ae.Status != 422 || len(ae.Messages) == 0 {
		t.Fatalf("422: %v, want ErrValidation with field messages", err)
	}
	if !strings.Contains(err.Error(), ae.Messages[0]) {
		t.Errorf("%q does not carry HighLevel's message %q", err, ae.Messages[0])
	}
	if rej := srv.Rejections(); len(rej) != 1 || rej[0].Status != 422 {
		t.Errorf("rejections %+v, want the one 422", rej)
	}
}

// TestDeleteAppliedAnswerLost: a delete whose answer was lost is retried,
// and the 404 of the retry means it worked.
func TestDeleteAppliedAnswerLost(t *testing.T) {
	srv := sandbox(t)
	c := client(t, srv)
	f := arrange(t, srv)
	route := "DELETE /conversations/{conversationId}"
	if err := srv.InjectFault(sandboxkit.Fault{Route: route, Kind: sandboxkit.FaultDropAfter}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteConversation(ctxT(t), f.conv.ID); err != nil {
		t.Fatalf("DeleteConversation: %v", err)
	}
	if _, ok := srv.Conversation(f.conv.ID); ok {
		t.Error("conversation still there")
	}
	if n := srv.Calls(route); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	// Without an uncertain first attempt, a 404 is an error.
	if err := c.DeleteConversation(ctxT(t), f.conv.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting a missing conversation: %v, want ErrNotFound", err)
	}
}
