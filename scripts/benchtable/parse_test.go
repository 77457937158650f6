package main

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testdata/bench.txt is recorded `go test -bench` output of four packages
// (store, sync/ghl, sync/activedemand, sync/engine), concatenated the way
// scripts/bench.sh appends them.
func readSample(t *testing.T) *results {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "bench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res := newResults()
	if err := res.addBench(f); err != nil {
		t.Fatal(err)
	}
	return res
}

func TestParseBenchKeepsEveryRunWithItsPackage(t *testing.T) {
	res := readSample(t)
	if got := len(res.runs); got != 12 {
		t.Fatalf("%d runs, want 12", got)
	}
	cases := []struct {
		pkg, name, metric string
		want              []float64
	}{
		{"parley/sync/ghl", "BenchmarkParallel", "req/s", []float64{4366, 2926}},
		{"parley/sync/ghl", "BenchmarkPacedBudget", "budget-%", []float64{96.08, 96.14}},
		{"parley/sync/ghl", "BenchmarkPacedBudget", "429s", []float64{0, 0}},
		// A sub-benchmark whose name has a '+' and the GOMAXPROCS suffix.
		{"parley/store", "BenchmarkAppendHistory/batch=1000+index", "rows/s", []float64{19463}},
		{"parley/store", "BenchmarkAppendHistory/batch=1000", "rows/s", []float64{152746}},
		{"parley/sync/activedemand", "BenchmarkReadMessages", "msgs/s", []float64{66584}},
		{"parley/sync/engine", "BenchmarkOpenContact1000", "ns/op", []float64{64323257, 64487275}},
		{"parley/sync/engine", "BenchmarkOpenContact1000", "allocs/op", []float64{62620, 61352}},
	}
	for _, c := range cases {
		var got []float64
		for _, r := range res.runs {
			if r.pkg == c.pkg && r.name == c.name {
				if v, ok := r.metrics[c.metric]; ok {
					got = append(got, v)
				}
			}
		}
		if !equalFloats(got, c.want) {
			t.Errorf("%s %s %s = %v, want %v", c.pkg, c.name, c.metric, got, c.want)
		}
	}
	if res.cpu != "Intel(R) Xeon(R) Processor" {
		t.Errorf("cpu = %q", res.cpu)
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The shape go test prints when benchmarks call b.Fatal (recorded from a
// throw-away module, names changed): the --- FAIL lines come before the
// package's header, a failed parent after its sub-benchmarks' results, and
// only the closing FAIL line names the package for certain. Two packages,
// as scripts/bench.sh appends them.
const failedOutput = `goos: linux
goarch: amd64
pkg: parley/store
cpu: Intel(R) Xeon(R) Processor
BenchmarkAppendHistory/batch=1000-2   	     217	   6546822 ns/op	    152746 rows/s
PASS
ok  	parley/store	7.515s
--- FAIL: BenchmarkMirror
    mirror_bench_test.go:70: read 0 messages, want 5000
--- FAIL: BenchmarkHistoryLike/sub/case
    x_test.go:4: sub boom
goos: linux
goarch: amd64
pkg: parley/sync/engine
cpu: Intel(R) Xeon(R) Processor
BenchmarkHistoryLike/ok-2               	      10	        55.90 ns/op
--- FAIL: BenchmarkHistoryLike
BenchmarkOpenContact1000-2   	      20	  64323257 ns/op
FAIL
exit status 1
FAIL	parley/sync/engine	0.098s
FAIL
`

func TestParseBenchRecordsFailures(t *testing.T) {
	res := newResults()
	if err := res.addBench(strings.NewReader(failedOutput)); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"parley/sync/engine BenchmarkMirror": true, "parley/sync/engine BenchmarkHistoryLike/sub/case": true,
		"parley/sync/engine BenchmarkHistoryLike": true}
	if !maps.Equal(res.failed, want) {
		t.Errorf("failed = %v, want %v", res.failed, want)
	}
	var got []string
	for _, r := range res.runs {
		got = append(got, r.pkg+" "+r.name)
	}
	if want := []string{"parley/store BenchmarkAppendHistory/batch=1000", "parley/sync/engine BenchmarkHistoryLike/ok",
		"parley/sync/engine BenchmarkOpenContact1000"}; !slices.Equal(got, want) {
		t.Errorf("runs = %q, want %q", got, want)
	}
}

func TestParseFiguresCrashLine(t *testing.T) {
	res := newResults()
	if err := res.addFiguresFile(filepath.Join("testdata", "crash.txt"), "crash.txt"); err != nil {
		t.Fatal(err)
	}
	f, ok := res.files["crash.txt"]
	if !ok {
		t.Fatal("crash.txt not recorded")
	}
	want := map[string]float64{"messages": 10000, "kills": 200, "in-flight": 166, "lost": 0, "duplicated": 0}
	for k, v := range want {
		if got, ok := f.lines["crash"][k]; !ok || got != v {
			t.Errorf("crash %s = %v (%v), want %v", k, got, ok, v)
		}
	}
	if f.failed {
		t.Error("a passing crash run read as failed")
	}
	if f.date.IsZero() {
		t.Error("no date")
	}
}

func TestParseFiguresKeyValueLines(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "soak.txt")
	body := "=== RUN   TestSoakWithFaults\n" +
		"    soak_test.go:90: soak: seed=42 messages=20000 lost=0 duplicated=2 goroutines-start=12 goroutines-end=13 heap-max-MB=61.5 wall=5m3s\n" +
		"--- FAIL: TestSoakWithFaults (303.00s)\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	stamp := time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)
	if err := os.Chtimes(p, stamp, stamp); err != nil {
		t.Fatal(err)
	}
	res := newResults()
	if err := res.addFiguresFile(p, "soak.txt"); err != nil {
		t.Fatal(err)
	}
	f := res.files["soak.txt"]
	soak := f.lines["soak"]
	want := map[string]float64{"seed": 42, "messages": 20000, "lost": 0, "duplicated": 2, "goroutines-end": 13, "heap-max-MB": 61.5}
	for k, v := range want {
		if got, ok := soak[k]; !ok || got != v {
			t.Errorf("soak %s = %v (%v), want %v", k, got, ok, v)
		}
	}
	if _, ok := soak["wall"]; ok {
		t.Error("a value that is not a number was kept")
	}
	if !f.failed {
		t.Error("--- FAIL not noticed")
	}
	if !f.date.Equal(stamp) {
		t.Errorf("date %v, want the file's time %v", f.date, stamp)
	}
}

func TestParseFiguresExitStatus(t *testing.T) {
	p := filepath.Join(t.TempDir(), "import.txt")
	if err := os.WriteFile(p, []byte("import: peak-rss-kB=141234 wall-s=31.2 exit=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := newResults()
	if err := res.addFiguresFile(p, "import.txt"); err != nil {
		t.Fatal(err)
	}
	if f := res.files["import.txt"]; !f.failed || f.lines["import"]["peak-rss-kB"] != 141234 {
		t.Errorf("import.txt = %+v; want failed with peak-rss-kB 141234", f)
	}
}

func TestReadMeta(t *testing.T) {
	p := filepath.Join(t.TempDir(), "meta.txt")
	body := "date: 2026-12-01T20:05:00Z\ngo: go version go1.26.8 linux/amd64\ncommand: make bench\nload-start: 0.52, 1.10, 1.90\nload-end: 2.10, 1.95, 1.80\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := readMeta(p)
	if err != nil {
		t.Fatal(err)
	}
	if m["go"] != "go version go1.26.8 linux/amd64" || m["load-end"] != "2.10, 1.95, 1.80" || m["date"] != "2026-12-01T20:05:00Z" {
		t.Errorf("meta = %v", m)
	}
}

func TestCPUInfo(t *testing.T) {
	model, cores, err := cpuInfo(filepath.Join("testdata", "cpuinfo"))
	if err != nil {
		t.Fatal(err)
	}
	if model != "Intel(R) Xeon(R) Processor" || cores != 2 {
		t.Errorf("cpuInfo = %q, %d", model, cores)
	}
}
