package ghltest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkSandboxGetConversation is the sandbox's own cost for a simple
// request with validation on: routing, token, rate-limit bookkeeping, spec
// validation, state lookup and JSON encoding, without the network.
func BenchmarkSandboxGetConversation(b *testing.B) {
	srv, err := New(Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	tok := srv.IssueToken().AccessToken
	path := "/conversations/" + srv.Conversations()[0].ID
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Version", versionConversations)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}

// BenchmarkSandboxRecordInbound is the same for a validated JSON body that
// changes state.
func BenchmarkSandboxRecordInbound(b *testing.B) {
	srv, err := New(Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	tok := srv.IssueToken().AccessToken
	cv := srv.Conversations()[0]
	body := `{"type":"SMS","conversationId":"` + cv.ID + `","contactId":"` + cv.ContactID + `","conversationProviderId":"` +
		srv.ConversationProviderID() + `","message":"benchmark","direction":"inbound","altId":"b1","date":"2025-01-02T03:04:05Z"}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/conversations/messages/inbound", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Version", versionConversations)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkSandboxGetConversationLoopback adds a real client and loopback
// HTTP, in parallel: what a client benchmark against the sandbox can reach.
func BenchmarkSandboxGetConversationLoopback(b *testing.B) {
	srv, err := New(Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	base, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	tok := srv.IssueToken().AccessToken
	url := base + "/conversations/" + srv.Conversations()[0].ID
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Version", versionConversations)
			resp, err := hc.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
