package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func benchRun(pkg, name string, metrics map[string]float64) run {
	return run{pkg: pkg, name: name, metrics: metrics}
}

func TestEvaluate(t *testing.T) {
	res := newResults()
	res.runs = []run{
		benchRun("parley/store", "BenchmarkHistoryPage/a", map[string]float64{"ms/page": 1}),
		benchRun("parley/store", "BenchmarkHistoryPage/a", map[string]float64{"ms/page": 30}),
		benchRun("parley/store", "BenchmarkHistoryPage/a", map[string]float64{"ms/page": 2}),
		benchRun("parley/store", "BenchmarkHistoryPage/b", map[string]float64{"ms/page": 5}),
		benchRun("parley/store", "BenchmarkAppendHistory/batch=100", map[string]float64{"rows/s": 250_000}),
		benchRun("parley/store", "BenchmarkAppendHistory/batch=1000", map[string]float64{"rows/s": 150_000}),
		benchRun("parley/store", "BenchmarkAppendHistory/batch=1000", map[string]float64{"rows/s": 210_000}),
		benchRun("parley/store", "BenchmarkAppendHistory/batch=1000", map[string]float64{"rows/s": 190_000}),
		benchRun("parley/sync/engine", "BenchmarkOpenContact1000", map[string]float64{"ns/op": 64_323_257}),
		benchRun("parley/sync/engine", "BenchmarkMirror", map[string]float64{"messages/s": 2100, "messages": 100_000}),
		// Another package's benchmark of the same name must not count.
		benchRun("parley/sync/ghl/ghltest", "BenchmarkParallel", map[string]float64{"req/s": 1}),
		benchRun("parley/sync/ghl", "BenchmarkParallel", map[string]float64{"req/s": 9000}),
	}
	res.failed["parley/sync/routing BenchmarkPreview1000"] = true
	// A sub-benchmark failed, so its parent is reported failed too.
	res.failed["parley/store BenchmarkHistoryPage/c"] = true
	res.failed["parley/store BenchmarkHistoryPage"] = true
	// A parent that failed before any sub-benchmark ran.
	res.failed["parley/sync/mapping BenchmarkApply"] = true
	res.files["crash.txt"] = figures{lines: map[string]map[string]float64{"crash": {"lost": 0, "duplicated": 3, "messages": 10000}},
		date: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	res.files["import.txt"] = figures{lines: map[string]map[string]float64{"import": {"peak-rss-kB": 100_000}}, failed: true}

	cases := []struct {
		name       string
		tg         target
		holds      string
		value      float64
		worst      string
		resultHas  string
		resultLack string
	}{
		// The median of the runs, the worst sub-benchmark of those matched.
		{"median then worst, below", target{"page", "store", "BenchmarkHistoryPage/.*", "ms/page", below, 20, "ms", 1, nil},
			"no", 5, "BenchmarkHistoryPage/b", "5 ms; a run failed", ""},
		{"a failed sibling leaves this case alone", target{"page b", "store", "BenchmarkHistoryPage/b", "ms/page", below, 20, "ms", 1, nil},
			"yes", 5, "", "5 ms", "failed"},
		{"a failed parent fails its cases", target{"apply", "sync/mapping", "BenchmarkApply/e164", "ns/op", below, 1, "ms", 1e-6, nil},
			"no", 0, "", "failed", ""},
		{"median of three", target{"page a", "store", "BenchmarkHistoryPage/a", "ms/page", below, 1.5, "ms", 1, nil},
			"no", 2, "", "2 ms (1–30, 3 runs)", ""},
		{"worst for at least is the lowest", target{"append", "store", "BenchmarkAppendHistory/batch=(100|1000)", "rows/s", atLeast, 200_000, "rows/s", 1, nil},
			"no", 190_000, "BenchmarkAppendHistory/batch=1000", "190,000 rows/s", ""},
		{"anchored: batch=1000 is not batch=100", target{"append 100", "store", "BenchmarkAppendHistory/batch=100", "rows/s", atLeast, 200_000, "rows/s", 1, nil},
			"yes", 250_000, "", "250,000 rows/s", "runs"},
		{"scaled", target{"open", "sync/engine", "BenchmarkOpenContact1000", "ns/op", below, 200, "ms", 1e-6, nil},
			"yes", 64.323257, "", "64.3 ms", ""},
		{"package told apart", target{"client", "sync/ghl", "BenchmarkParallel", "req/s", atLeast, 5000, "req/s", 1, nil},
			"yes", 9000, "", "9,000 req/s", ""},
		{"also shows sizes", target{"engine", "sync/engine", "BenchmarkMirror", "messages/s", atLeast, 2000, "messages/s", 1, []string{"messages", "contacts"}},
			"yes", 2100, "", "2,100 messages/s; messages 100,000; contacts not reported", ""},
		{"metric not reported yet", target{"engine rss", "sync/engine", "BenchmarkMirror", "peak-rss-MB", below, 150, "MB", 1, nil},
			"not measured", 0, "", "not measured", ""},
		{"benchmark not run", target{"start", "ui/smoke", "BenchmarkConsoleStart", "ns/op", below, 1, "s", 1e-9, nil},
			"not measured", 0, "", "not measured", ""},
		{"benchmark failed", target{"preview", "sync/routing", "BenchmarkPreview1000", "ns/op", below, 1, "s", 1e-9, nil},
			"no", 0, "", "failed", ""},
		{"figures equal zero holds", target{"lost", "crash.txt", "crash", "lost", equal, 0, "", 1, []string{"messages"}},
			"yes", 0, "", "0; messages 10,000", ""},
		{"figures equal zero fails", target{"dup", "crash.txt", "crash", "duplicated", equal, 0, "", 1, nil},
			"no", 3, "", "3", ""},
		{"figures file absent", target{"soak", "soak.txt", "soak", "lost", equal, 0, "", 1, nil},
			"not run", 0, "", "not run", ""},
		{"figures of a failed run", target{"import", "import.txt", "import", "peak-rss-kB", below, 150, "MB", 1.024e-3, nil},
			"no", 102.4, "", "102 MB", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := evaluate(c.tg, res)
			if r.holds != c.holds {
				t.Errorf("holds = %q, want %q", r.holds, c.holds)
			}
			if c.value != 0 && !near(r.value, c.value) {
				t.Errorf("value = %v, want %v", r.value, c.value)
			}
			if r.worst != c.worst {
				t.Errorf("worst = %q, want %q", r.worst, c.worst)
			}
			if !strings.Contains(r.result, c.resultHas) {
				t.Errorf("result %q lacks %q", r.result, c.resultHas)
			}
			if c.resultLack != "" && strings.Contains(r.result, c.resultLack) {
				t.Errorf("result %q has %q", r.result, c.resultLack)
			}
		})
	}
}

func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d < 1e-9*max(1, b)
}

func TestFormatNumber(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 0.026: "0.026", 1.14: "1.14", 19.4: "19.4", 96.16: "96.2", 999.7: "1,000", 150: "150", 1080: "1,080",
		357_200: "357,200", 1_000_000: "1,000,000", 1.08: "1.08",
	} {
		if got := formatNumber(v); got != want {
			t.Errorf("formatNumber(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestTableHasEveryTargetOnce(t *testing.T) {
	res := readSample(t)
	meta := map[string]string{"date": "2026-12-01T20:05:00Z", "go": "go version go1.26.8 linux/amd64", "command": "make bench",
		"load-start": "0.52, 1.10, 1.90", "note": "two partial runs"}
	block := renderBlock(targets, res, meta, "Intel(R) Xeon(R) Processor", 2)
	if !strings.HasPrefix(block, startMarker+"\n") || !strings.HasSuffix(block, endMarker+"\n") {
		t.Fatalf("block not between markers:\n%s", block)
	}
	for _, want := range []string{"Intel(R) Xeon(R) Processor, 2 cores", "MB of 10⁶ bytes", "go1.26.8", "2026-12-01 20:05 UTC", "`make bench`", "0.52, 1.10, 1.90", "- Note: two partial runs\n",
		"| Row | Target | Result | Holds | Benchmark |"} {
		if !strings.Contains(block, want) {
			t.Errorf("block lacks %q:\n%s", want, block)
		}
	}
	for _, tg := range targets {
		if n := strings.Count(block, "| "+tg.row+" |"); n != 1 {
			t.Errorf("row %q appears %d times", tg.row, n)
		}
	}
	// From the sample: the client row is measured and fails (2,926 and
	// 4,366 req/s on a loaded machine); the console start is not measured.
	if !regexp.MustCompile(`\| Client \+ sandbox on loopback[^\n]*\| 3,646 req/s[^\n]*\| no \|`).MatchString(block) {
		t.Errorf("client row not as recorded:\n%s", block)
	}
	// Runs that agree give no range; the import measurement is part of
	// make bench, so its absence is "not measured", not "not run".
	if !strings.Contains(block, "| 0 (2 runs) | yes |") {
		t.Errorf("two runs of 0 should read \"0 (2 runs)\":\n%s", block)
	}
	if !regexp.MustCompile(`\| Import of [^\n]*\| not measured \| not measured \|`).MatchString(block) {
		t.Errorf("import row should be not measured:\n%s", block)
	}
	if !regexp.MustCompile(`\| Console start[^\n]*\| not measured \|`).MatchString(block) {
		t.Errorf("console start row should be not measured:\n%s", block)
	}
}

func TestReplaceBlock(t *testing.T) {
	block := startMarker + "\nnew table\n" + endMarker + "\n"
	t.Run("between the markers, the rest untouched", func(t *testing.T) {
		doc := "# Benchmarks\n\nintro\n\n" + startMarker + "\nold table\n" + endMarker + "\n\n## store\n\ntext\n"
		got, err := replaceBlock(doc, block)
		if err != nil {
			t.Fatal(err)
		}
		want := "# Benchmarks\n\nintro\n\n" + block + "\n## store\n\ntext\n"
		if got != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
		again, err := replaceBlock(got, block)
		if err != nil || again != got {
			t.Errorf("second run changed the document: %v\n%s", err, again)
		}
	})
	t.Run("no markers: after the title", func(t *testing.T) {
		got, err := replaceBlock("# Benchmarks\n\n## store\n", block)
		if err != nil {
			t.Fatal(err)
		}
		if want := "# Benchmarks\n\n" + block + "\n## store\n"; got != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("one marker only", func(t *testing.T) {
		if _, err := replaceBlock("# B\n"+startMarker+"\n", block); err == nil {
			t.Error("a start marker without an end was accepted")
		}
		if _, err := replaceBlock("# B\n"+endMarker+"\n"+startMarker+"\n", block); err == nil {
			t.Error("markers in the wrong order were accepted")
		}
	})
}

func TestWriteTableIntoFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if err := os.WriteFile(p, []byte("# Benchmarks\n\n## store\n\nkept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	block := startMarker + "\nT\n" + endMarker + "\n"
	if err := writeBlock(p, block); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); !strings.Contains(got, block) || !strings.HasSuffix(got, "## store\n\nkept\n") {
		t.Errorf("file now:\n%s", got)
	}
}
