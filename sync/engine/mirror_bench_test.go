package engine_test

import (
	"fmt"
	"testing"
	"time"

	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/ghl/ghltest"
)

// Sizes of BenchmarkMirror. The target is stated for 100,000 messages
// across 1,000 contacts; this machine runs a twentieth of it.
const (
	benchContacts = 100
	benchMessages = 5_000
)

// BenchmarkMirror mirrors benchMessages messages across benchContacts
// contacts end to end with the sandboxes' limits off: read from the
// ActiveDEMAND sandbox through the client, queued, recorded in the
// HighLevel sandbox, completed with history. It reports messages/s and
// HighLevel calls per message.
func BenchmarkMirror(b *testing.B) {
	var ghlCalls, mirrored int
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		as := adtest.NewTestServer(b, adtest.Options{})
		convs := make([]activedemand.ID, benchContacts)
		contacts := make([]activedemand.ID, benchContacts)
		for i := range benchContacts {
			c, err := as.AddContact(adtest.NewContact{FirstName: "Bench", LastName: fmt.Sprint(i),
				Email: fmt.Sprintf("bench%d@example.com", i), Phone: fmt.Sprintf("+1902555%04d", i)})
			if err != nil {
				b.Fatal(err)
			}
			contacts[i] = c.ID
		}
		for i := range benchMessages {
			k := i % benchContacts
			dir := activedemand.Inbound
			if i%3 == 0 {
				dir = activedemand.Outbound
			}
			m, err := as.AddMessage(adtest.NewMessage{ConversationID: convs[k], ContactID: contacts[k], Channel: "sms",
				Direction: dir, Body: fmt.Sprintf("message %d", i), At: t0.Add(time.Duration(i) * time.Second)})
			if err != nil {
				b.Fatal(err)
			}
			convs[k] = m.ConversationID
		}
		ad, err := activedemand.New(as.ClientConfig())
		if err != nil {
			b.Fatal(err)
		}
		r := newRig(b, rigOptions{ghl: ghltest.Options{SeedTime: t0}})
		// Counting the outbox is not free: look rarely, so the harness
		// does not compete with what it measures.
		r.pollEvery = 250 * time.Millisecond
		e := r.engine()
		before := cpuTime(b)
		b.StartTimer()

		ids := queueFromAD(b, r.st, ad)
		r.run(e, nil)

		b.StopTimer()
		cpu += cpuTime(b) - before
		if len(ids) != benchMessages {
			b.Fatalf("read %d messages, want %d", len(ids), benchMessages)
		}
		if tr := r.gs.Traffic(); tr.Records != benchMessages || tr.Deliveries != 0 {
			b.Fatalf("traffic %+v", tr)
		}
		for _, n := range r.gs.CallCounts() {
			ghlCalls += n
		}
		mirrored += benchMessages
		b.StartTimer()
	}
	b.ReportMetric(float64(mirrored)/b.Elapsed().Seconds(), "messages/s")
	b.ReportMetric(float64(ghlCalls)/float64(mirrored), "ghl-calls/message")
	// On a shared machine messages/s says as much about the neighbours as
	// about Parley; the CPU time each message costs (both sandboxes, the
	// clients, the store and the engine together) does not.
	b.ReportMetric(float64(cpu.Microseconds())/float64(mirrored), "cpu-µs/message")
}
