package activedemand_test

import (
	"fmt"
	"testing"
	"time"

	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
)

// BenchmarkReadMessages reads 100,000 messages (20 conversations of 5,000)
// from the sandbox over loopback HTTP with the default route table (page
// size 500) and every limit off, and reports messages per second.
func BenchmarkReadMessages(b *testing.B) {
	const convs, perConv = 20, 5000
	s := adtest.NewTestServer(b, adtest.Options{})
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []activedemand.ID
	for i := range convs {
		ct, err := s.AddContact(adtest.NewContact{FirstName: "Bench", LastName: fmt.Sprint(i), Email: fmt.Sprintf("bench%d@example.com", i), Phone: fmt.Sprintf("+1902555%04d", i)})
		if err != nil {
			b.Fatal(err)
		}
		var conv activedemand.ID
		for j := range perConv {
			dir := activedemand.Inbound
			if j%2 == 1 {
				dir = activedemand.Outbound
			}
			m, err := s.AddMessage(adtest.NewMessage{ConversationID: conv, ContactID: ct.ID, Channel: activedemand.ChannelSMS, Direction: dir,
				Body: fmt.Sprintf("Message %d of %d: is Thursday at 2 still good for the kitchen quote?", j, perConv), At: start.Add(time.Duration(j) * time.Minute)})
			if err != nil {
				b.Fatal(err)
			}
			conv = m.ConversationID
		}
		ids = append(ids, conv)
	}
	c, err := activedemand.New(s.ClientConfig())
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	total := 0
	for b.Loop() {
		for _, id := range ids {
			n := 0
			for _, err := range activedemand.AllMessages(ctx, c, id) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != perConv {
				b.Fatalf("read %d messages, want %d", n, perConv)
			}
			total += n
		}
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "msgs/s")
}
