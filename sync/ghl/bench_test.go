package ghl

import (
	"context"
	"testing"
	"time"

	"parley/sync/ghl/ghltest"
)

// BenchmarkParallel: client and sandbox on loopback, no limits, requests
// from parallel goroutines; reports requests per second (the target is at
// least 5,000 on a 2-core machine).
func BenchmarkParallel(b *testing.B) {
	srv := ghltest.NewTestServer(b, ghltest.Options{Seed: 1})
	c, err := New(Config{BaseURL: srv.URL(), LocationID: srv.LocationID(), PrivateToken: Secret(srv.PrivateToken()),
		RateLimit: RateLimit{Disabled: true}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.CloseIdleConnections)
	conv := srv.Conversations()[0].ID
	ctx := context.Background()
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.GetConversation(ctx, conv); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// BenchmarkPacedBudget: 30 s against a 1 s window of 100 requests; reports
// the share of the budget used and the 429s received. It runs once per
// invocation whatever b.N (the run's length is what is measured).
func BenchmarkPacedBudget(b *testing.B) {
	ok, tooMany, elapsed := pacedRun(b, 30*time.Second)
	b.ReportMetric(100*float64(ok)/(100*elapsed.Seconds()), "budget-%")
	b.ReportMetric(float64(tooMany), "429s")
	b.ReportMetric(float64(ok), "requests")
	b.ReportMetric(0, "ns/op")
}
