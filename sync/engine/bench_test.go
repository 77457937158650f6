package engine_test

import (
	"testing"

	"parley/sync/engine"
)

// BenchmarkImport imports a contacts and an activity export holding 100,000
// messages into an empty store, parsing and queueing included.
func BenchmarkImport(b *testing.B) {
	const contacts, messages = 10_000, 100_000
	cp, ap := writeExport(b, b.TempDir(), contacts, messages)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		s := newStore(b)
		im := engine.NewImporter(s, engine.ImporterOptions{})
		b.StartTimer()
		res, err := im.Import(b.Context(), []string{cp, ap}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if res.MessagesQueued != messages || res.ContactsQueued != contacts {
			b.Fatalf("queued %d messages, %d contacts", res.MessagesQueued, res.ContactsQueued)
		}
	}
	b.ReportMetric(float64(messages*b.N)/b.Elapsed().Seconds(), "messages/s")
}
