package smoke

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"parley/sync/activedemand"
	"parley/sync/activedemand/adtest"
	"parley/sync/ghl/ghltest"
)

// BenchmarkSyncProcessMemory is the engine's memory target measured on the
// real thing: a `parley sync --once` child process catches up with an
// ActiveDEMAND account of PARLEY_BENCH_MESSAGES messages (default 100,000)
// across PARLEY_BENCH_CONTACTS contacts (default 1,000), and its peak
// resident size is read from the kernel (getrusage's ru_maxrss). The
// sandboxes live in the benchmark's process, so none of their memory is
// counted. The child paces ActiveDEMAND at the client's default four
// requests a second, as it would a real account, so a run of the stated
// size takes several minutes. It needs PARLEY_SMOKE_BINARY, as the other
// smoke tests do:
//
//	go build -o bin/parley . && PARLEY_SMOKE_BINARY=$PWD/bin/parley \
//	  go test -run '^$' -bench BenchmarkSyncProcessMemory -benchtime 1x -timeout 60m ./ui/smoke/
func BenchmarkSyncProcessMemory(b *testing.B) {
	bin := os.Getenv("PARLEY_SMOKE_BINARY")
	if bin == "" {
		b.Skip("PARLEY_SMOKE_BINARY is not set; build bin/parley and point it there")
	}
	messages, contacts := benchEnv(b, "PARLEY_BENCH_MESSAGES", 100_000), benchEnv(b, "PARLEY_BENCH_CONTACTS", 1_000)
	var peakKB int64
	var mirrored int
	for b.Loop() {
		b.StopTimer()
		var opts ghltest.Options
		opts.RateLimit.Burst, opts.RateLimit.Window, opts.RateLimit.Daily = 10_000_000, 10*time.Second, 100_000_000
		gs := ghltest.NewTestServer(b, opts)
		as := adtest.NewTestServer(b, adtest.Options{})
		conv := make([]activedemand.ID, contacts)
		contact := make([]activedemand.ID, contacts)
		for i := range contacts {
			c, err := as.AddContact(adtest.NewContact{FirstName: "Memory", LastName: fmt.Sprint(i),
				Email: fmt.Sprintf("memory%d@example.com", i), Phone: fmt.Sprintf("+1902555%04d", i%10_000)})
			if err != nil {
				b.Fatal(err)
			}
			contact[i] = c.ID
		}
		at := time.Now().Add(-time.Duration(messages) * time.Second)
		for i := range messages {
			k := i % contacts
			dir := activedemand.Inbound
			if i%3 == 0 {
				dir = activedemand.Outbound
			}
			m, err := as.AddMessage(adtest.NewMessage{ConversationID: conv[k], ContactID: contact[k], Channel: "sms",
				Direction: dir, Body: fmt.Sprintf("memory message %d", i), At: at.Add(time.Duration(i) * time.Second)})
			if err != nil {
				b.Fatal(err)
			}
			conv[k] = m.ConversationID
		}
		cmd := exec.CommandContext(context.Background(), bin, "sync", "--once", "--demo=false", "--data-dir", b.TempDir(),
			"--ghl-base-url", gs.URL(), "--ghl-location", gs.LocationID(), "--ghl-provider", gs.ConversationProviderID(),
			"--ad-base-url", as.URL())
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "PARLEY_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env,
			"PARLEY_ACTIVEDEMAND_APPLICATION_KEY="+adtest.DefaultAppKey,
			"PARLEY_ACTIVEDEMAND_API_KEY="+adtest.DefaultAPIKey,
			"PARLEY_GHL_PRIVATE_INTEGRATION_TOKEN="+gs.PrivateToken())
		b.StartTimer()
		out, err := cmd.CombinedOutput()
		b.StopTimer()
		if err != nil {
			b.Fatalf("parley sync --once: %v\n%s", err, out)
		}
		if tr := gs.Traffic(); tr.Records != messages || tr.Deliveries != 0 {
			b.Fatalf("HighLevel saw %d records and %d deliveries, want %d and 0:\n%s", tr.Records, tr.Deliveries, messages, out)
		}
		if testing.Verbose() {
			b.Logf("parley sync --once said:\n%s", out)
		}
		ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if !ok {
			b.Fatal("no resource usage for the child")
		}
		peakKB = max(peakKB, ru.Maxrss) // kilobytes on Linux
		mirrored += messages
		b.StartTimer()
	}
	b.ReportMetric(float64(peakKB)/1024, "peak-rss-MB")
	b.ReportMetric(float64(mirrored)/b.Elapsed().Seconds(), "messages/s")
	b.ReportMetric(float64(messages), "messages")
	b.ReportMetric(float64(contacts), "contacts")
}

func benchEnv(b *testing.B, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}
