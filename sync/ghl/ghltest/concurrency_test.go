package ghltest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/sync/internal/sandboxkit"
)

func TestConcurrentRequests(t *testing.T) {
	srv, c := seeded(t, Options{RateLimit: sandboxkit.RateLimit{Burst: 100000, Window: 10 * time.Second}})
	convs := srv.Conversations()[:4]
	provider := srv.ConversationProviderID()
	before := map[string]int{}
	for _, cv := range convs {
		before[cv.ID] = len(srv.Messages(cv.ID))
	}
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			cl := newClient(t, srv, c.token)
			cl.noValidate = true // the validator is exercised elsewhere; here the state is
			for i := range perWorker {
				cv := convs[(w+i)%len(convs)]
				var r reply
				switch i % 5 {
				case 0, 1:
					r = cl.do("POST", "/conversations/messages/inbound", map[string]any{
						"type": "SMS", "conversationId": cv.ID, "contactId": cv.ContactID, "conversationProviderId": provider,
						"message": "load", "altId": fmt.Sprintf("w%d-%d", w, i), "direction": "inbound",
					}, nil)
				case 2:
					r = cl.do("GET", "/conversations/"+cv.ID+"/messages?limit=5", nil, nil)
				case 3:
					r = cl.do("GET", "/conversations/search?locationId="+srv.LocationID(), nil, nil)
				case 4:
					// A route no worker calls: the fault only contends.
					if err := srv.InjectFault(sandboxkit.Fault{Route: "DELETE /conversations/{conversationId}", Kind: sandboxkit.FaultStatus, Status: http.StatusInternalServerError}); err != nil {
						errs <- err
					}
					_ = srv.CallCounts()
					_ = srv.Conversations()
					r = cl.do("PUT", "/conversations/"+cv.ID, map[string]any{"locationId": srv.LocationID(), "unreadCount": 0}, nil)
				}
				if r.status != http.StatusOK {
					errs <- fmt.Errorf("worker %d call %d: %d %s", w, i, r.status, r.body)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	added := 0
	for _, cv := range convs {
		added += len(srv.Messages(cv.ID)) - before[cv.ID]
	}
	if want := workers * perWorker * 2 / 5; added != want {
		t.Errorf("%d messages recorded, want %d", added, want)
	}
	if got := srv.Calls("POST /conversations/messages/inbound"); got != workers*perWorker*2/5 {
		t.Errorf("inbound calls %d", got)
	}
}

// TestSandboxesShareTheSpecSafely runs several sandboxes at once: they share
// the loaded spec, which must therefore only be read.
func TestSandboxesShareTheSpecSafely(t *testing.T) {
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			srv, err := New(Options{Seed: 1})
			if err != nil {
				t.Error(err)
				return
			}
			tok := srv.IssueToken().AccessToken
			cv := srv.Conversations()[0]
			for range 20 {
				req := httptest.NewRequest("GET", "/conversations/"+cv.ID+"/messages?type=TYPE_SMS,TYPE_CALL", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Version", versionConversations)
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != 200 {
					t.Errorf("status %d: %s", rec.Code, rec.Body)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestCloseDoesNotWaitForUnusedConnections: clients often dial a keep-alive
// connection they never use; Close must not wait for it (net/http's
// Shutdown would, for 5 s).
func TestCloseDoesNotWaitForUnusedConnections(t *testing.T) {
	srv, c := seeded(t, Options{})
	c.mustDo(200, "GET", "/conversations/"+srv.Conversations()[0].ID, nil) // an idle keep-alive connection
	var d net.Dialer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", strings.TrimPrefix(srv.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
