package engine_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"parley/sync/engine"
)

// TestMeasureImport measures a preview and an import of big generated
// exports for BENCHMARKS.md. It is skipped unless PARLEY_MEASURE names a
// case, since it writes hundreds of megabytes and runs for a while:
//
//	PARLEY_MEASURE=contacts-preview   a 200 MB contacts CSV, previewed
//	PARLEY_MEASURE=contacts-import    the same, imported
//	PARLEY_MEASURE=messages-preview   an export of 1,000,000 messages, previewed
//	PARLEY_MEASURE=messages-import    the same, imported
//
// Run the test binary under /usr/bin/time -v for the peak resident size of
// the whole process; the test also logs the Go heap's peak.
func TestMeasureImport(t *testing.T) {
	which := os.Getenv("PARLEY_MEASURE")
	if which == "" {
		t.Skip("set PARLEY_MEASURE to measure a big import")
	}
	dir := t.TempDir()
	var files []string
	switch which {
	case "contacts-preview", "contacts-import":
		mb := 200
		if n, err := strconv.Atoi(os.Getenv("PARLEY_MEASURE_MB")); err == nil && n > 0 {
			mb = n // a smaller file, for a quick look
		}
		files = []string{writeBigContacts(t, dir, int64(mb)<<20)}
	case "messages-preview", "messages-import":
		files = writeBigExport(t, dir, 50_000, 1_000_000)
	default:
		t.Fatalf("PARLEY_MEASURE=%s is not a case", which)
	}
	runtime.GC()
	start := time.Now()
	opts := engine.ImporterOptions{}
	if n, err := strconv.Atoi(os.Getenv("PARLEY_MEASURE_SPILL")); err == nil && n > 0 {
		opts = engine.WithSpillRun(opts, n) // to weigh the sorters' share
	}
	im := engine.NewImporter(newStore(t), opts)
	switch which {
	case "contacts-preview", "messages-preview":
		for _, f := range files {
			p, err := im.Preview(t.Context(), f)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("preview %s: %d contacts, %d messages, %d rejected", p.File, p.Contacts, p.Messages, p.Rejected)
		}
	default:
		res, err := im.Import(t.Context(), files, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("import: %s", res.Summary())
	}
	t.Logf("%s took %v, Go heap peak %d MB", which, time.Since(start).Round(10*time.Millisecond), heapPeak()>>20)
}

// heapPeak is the most the Go runtime has held from the OS for the heap.
func heapPeak() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// writeBigContacts writes a contacts CSV of about size bytes, streaming.
func writeBigContacts(t testing.TB, dir string, size int64) string {
	t.Helper()
	p := filepath.Join(dir, "contacts.csv")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "id,first_name,last_name,email_address,phone_number,custom_1,custom_2,notes")
	var n int64
	for i := 0; n < size; i++ {
		k, _ := fmt.Fprintf(w, "%d,First%d,Last%d,person%d@example.com,+1902%07d,Company %d,City %d,\"A note about contact %d, written long enough to look like a real one.\"\n",
			5000000+i, i, i, i, 2000000+i%8000000, i%97, i%13, i)
		n += int64(k)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeBigExport writes a contacts and an activity export like writeExport,
// streaming, for exports too big to build in memory.
func writeBigExport(t testing.TB, dir string, contacts, messages int) []string {
	t.Helper()
	write := func(name string, rows int, header string, row func(w *bufio.Writer, i int)) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		w.WriteString(header + "\n")
		for i := range rows {
			row(w, i)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cp := write("contacts.csv", contacts, "id,first_name,last_name,email_address,phone_number,custom_1", func(w *bufio.Writer, i int) {
		fmt.Fprintf(w, "%d,First%d,Last%d,person%d@example.com,+1902%07d,Company %d\n", 5000000+i, i, i, i, 2000000+i, i%97)
	})
	base := time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)
	channels := []string{"sms", "email", "sms", "chat"}
	ap := write("activity.csv", messages, "id,contact_id,type,channel,direction,date,subject,body", func(w *bufio.Writer, i int) {
		ch := channels[i%len(channels)]
		dir := "inbound"
		if i%3 == 0 {
			dir = "outbound"
		}
		subject := ""
		if ch == "email" {
			subject = "Quote " + strconv.Itoa(i)
		}
		fmt.Fprintf(w, "%d,%d,%s %s,%s,%s,%s,%s,\"Message %d, about the job at %d Main St.\"\n",
			9000000+i, 5000000+i%contacts, ch, dir, ch, dir, base.Add(time.Duration(i)*time.Second).Format(time.RFC3339), subject, i, i%500)
	})
	return []string{cp, ap}
}
