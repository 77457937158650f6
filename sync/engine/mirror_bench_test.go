package engine_test

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/engine"
	"parley/sync/ghl/ghltest"
)

// Default sizes of BenchmarkMirror. The targets are stated for 100,000
// messages across 1,000 contacts, which takes over a minute a run here;
// the default is a twentieth of that so that a run stays short on a shared
// machine. PARLEY_BENCH_MESSAGES and PARLEY_BENCH_CONTACTS set the size:
//
//	PARLEY_BENCH_MESSAGES=100000 PARLEY_BENCH_CONTACTS=1000 go test -run '^$' -bench BenchmarkMirror -benchtime 1x ./sync/engine/
const (
	benchContacts = 100
	benchMessages = 5_000
)

// benchSize reads the benchmark's size from the environment.
func benchSize(b *testing.B) (messages, contacts int) {
	b.Helper()
	get := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("%s=%q: want a positive whole number", name, v)
		}
		return n
	}
	messages, contacts = get("PARLEY_BENCH_MESSAGES", benchMessages), get("PARLEY_BENCH_CONTACTS", benchContacts)
	if contacts > messages {
		b.Fatalf("PARLEY_BENCH_CONTACTS=%d is more than PARLEY_BENCH_MESSAGES=%d: every contact needs a message", contacts, messages)
	}
	return messages, contacts
}

// peakSampler records the largest heap it sees, every 100 ms, until
// stopped: in use (live or not yet swept, what the process holds) and live
// (marked by the last collection, what the program keeps).
type peakSampler struct {
	stop        chan struct{}
	wg          sync.WaitGroup
	inUse, live uint64
}

// heapBytes reads both sizes through runtime/metrics, which does not stop
// the world.
func heapBytes() (inUse, live uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

func startPeakSampler() *peakSampler {
	h := &peakSampler{stop: make(chan struct{})}
	h.sample()
	h.wg.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.sample()
			}
		}
	})
	return h
}

func (h *peakSampler) sample() {
	inUse, live := heapBytes()
	h.inUse, h.live = max(h.inUse, inUse), max(h.live, live)
}

// done stops the sampler and returns the peaks.
func (h *peakSampler) done() (inUse, live uint64) {
	close(h.stop)
	h.wg.Wait()
	h.sample()
	return h.inUse, h.live
}

const mb = 1 << 20

// BenchmarkMirror mirrors messages across contacts end to end with the
// sandboxes' limits off: read from the ActiveDEMAND sandbox through the
// client, queued, recorded in the HighLevel sandbox, completed with
// history. It reports messages/s, HighLevel calls per message, CPU time
// per message and the peak memory of the timed part.
//
// Both sandboxes run in the benchmark's process, so the peaks include
// them: the ActiveDEMAND sandbox holds every message from the start and
// the HighLevel sandbox every record by the end. sandbox-heap-MB is the
// live heap after the run, after a collection, with the engine stopped
// and the store closed: mostly what the sandboxes hold. The engine's own
// live heap is at most peak-live-heap-MB minus that; peak-heap-MB, the
// heap in use, is about twice the live heap (GOGC=100), so the sandboxes'
// data also inflates it by about twice their share.
// mirror-peak-heap-MB is the peak while the engine mirrors, after the
// harness has read and queued everything (it holds every job in memory
// for one EnqueueBatch, which peak-heap-MB includes). PARLEY_BENCH_WORKERS
// sets the engine's workers (default engine.DefaultWorkers).
func BenchmarkMirror(b *testing.B) {
	messages, contacts := benchSize(b)
	var ghlCalls, total int
	var cpu time.Duration
	var peakHeap, peakMirrorHeap, peakLive, sandboxHeap uint64
	var peakRSSBytes int64
	rssKnown := false
	for b.Loop() {
		b.StopTimer()
		as := adtest.NewTestServer(b, adtest.Options{})
		convs := make([]activedemand.ID, contacts)
		contactIDs := make([]activedemand.ID, contacts)
		for i := range contacts {
			c, err := as.AddContact(adtest.NewContact{FirstName: "Bench", LastName: fmt.Sprint(i),
				Email: fmt.Sprintf("bench%d@example.com", i), Phone: fmt.Sprintf("+1902555%04d", i)})
			if err != nil {
				b.Fatal(err)
			}
			contactIDs[i] = c.ID
		}
		for i := range messages {
			k := i % contacts
			dir := activedemand.Inbound
			if i%3 == 0 {
				dir = activedemand.Outbound
			}
			m, err := as.AddMessage(adtest.NewMessage{ConversationID: convs[k], ContactID: contactIDs[k], Channel: "sms",
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
		r := newRig(b, rigOptions{ghl: ghltest.Options{SeedTime: t0}, transport: func(rt http.RoundTripper) http.RoundTripper {
			// Idle connections kept as Run's client keeps them: the
			// standard library's two per host would measure dialling.
			rt.(*http.Transport).MaxIdleConnsPerHost = 64
			return rt
		}})
		// The harness waits for the last record in the HighLevel sandbox,
		// which counts them in memory, and checks the outbox once at the
		// end: counting the outbox's rows by state, as the rig does by
		// default, took a quarter of the CPU at 100,000 jobs.
		r.pollEvery = 20 * time.Millisecond
		recorded := func() bool { return r.gs.Traffic().Records >= messages }
		e := r.engine(func(c *engine.Config) {
			if w := os.Getenv("PARLEY_BENCH_WORKERS"); w != "" {
				c.Workers, _ = strconv.Atoi(w)
			}
		})
		runtime.GC()
		resetPeakRSS(b)
		heap := startPeakSampler()
		before := cpuTime(b)
		b.StartTimer()

		ids := queueFromAD(b, r.st, ad)
		queued, queuedLive := heap.done()
		heap = startPeakSampler()
		// Run drains the jobs in flight when stopped, so every record
		// is also completed in the store; settled checks it below.
		r.run(e, recorded)

		b.StopTimer()
		cpu += cpuTime(b) - before
		mirrored, mirroredLive := heap.done()
		peakHeap, peakMirrorHeap = max(peakHeap, queued, mirrored), max(peakMirrorHeap, mirrored)
		peakLive = max(peakLive, queuedLive, mirroredLive)
		if rss, ok := peakRSS(b); ok {
			peakRSSBytes, rssKnown = max(peakRSSBytes, rss), true
		}
		if !r.settled() {
			b.Fatalf("the outbox has jobs left after the last record: %v", r.items())
		}
		if len(ids) != messages {
			b.Fatalf("read %d messages, want %d", len(ids), messages)
		}
		if tr := r.gs.Traffic(); tr.Records != messages || tr.Deliveries != 0 {
			b.Fatalf("traffic %+v", tr)
		}
		for _, n := range r.gs.CallCounts() {
			ghlCalls += n
		}
		total += messages
		if err := r.st.Close(); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		_, live := heapBytes()
		sandboxHeap = max(sandboxHeap, live)
		runtime.KeepAlive(as)
		runtime.KeepAlive(r.gs)
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "messages/s")
	b.ReportMetric(float64(ghlCalls)/float64(total), "ghl-calls/message")
	// The size measured, for make bench's table to show beside the rate.
	b.ReportMetric(float64(messages), "messages")
	b.ReportMetric(float64(contacts), "contacts")
	// On a shared machine messages/s says as much about the neighbours as
	// about Parley; the CPU time each message costs (both sandboxes, the
	// clients, the store and the engine together) does not.
	b.ReportMetric(float64(cpu.Microseconds())/float64(total), "cpu-µs/message")
	b.ReportMetric(float64(peakHeap)/mb, "peak-heap-MB")
	b.ReportMetric(float64(peakMirrorHeap)/mb, "mirror-peak-heap-MB")
	b.ReportMetric(float64(peakLive)/mb, "peak-live-heap-MB")
	b.ReportMetric(float64(sandboxHeap)/mb, "sandbox-heap-MB")
	if rssKnown {
		b.ReportMetric(float64(peakRSSBytes)/mb, "peak-rss-MB")
	}
}
