package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// run is one result line of `go test -bench`: a benchmark of a package and
// every value/unit pair it printed, the custom metrics included.
type run struct {
	pkg, name string
	metrics   map[string]float64
}

// figures are the results of a test that is not a benchmark (the crash and
// soak tests, the import measurement), read from the file its script left
// in the results folder: for each line's name ("crash", "soak"), its
// numbers by key.
type figures struct {
	lines map[string]map[string]float64
	// failed is set when the run that wrote the file failed: the figures
	// are then not evidence that a target holds.
	failed bool
	// date is when the file was written, since `make crash` and `make
	// soak` run apart from `make bench`.
	date time.Time
}

// results is everything one table is made from.
type results struct {
	runs []run
	// failed holds "pkg name" of every benchmark go test reported as
	// failed; such a benchmark prints no result line.
	failed map[string]bool
	// files holds the figures files read, by file name.
	files map[string]figures
	// cpu is the model go test printed, for when /proc/cpuinfo is not
	// readable.
	cpu string
}

func newResults() *results {
	return &results{failed: map[string]bool{}, files: map[string]figures{}}
}

// procs is the -GOMAXPROCS suffix go test adds to a benchmark's name (when
// GOMAXPROCS is not 1).
var procs = regexp.MustCompile(`-\d+$`)

// closing is the line go test ends a package's output with.
var closing = regexp.MustCompile(`^(?:ok|FAIL)\s+(\S+)\s`)

// addBench reads the output of one or more `go test -bench` runs, in the
// standard format: a result line is the name, the iterations, then
// value/unit pairs; everything else (logs, PASS) is skipped. The package of
// a result is the one its block closes with ("ok  pkg" or "FAIL pkg"), since
// go test prints the --- FAIL lines of benchmarks before the block's "pkg:"
// header; the header serves only when output ends without a closing line.
func (r *results) addBench(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	header := ""
	var runs []run
	var failed []string
	flush := func(pkg string) {
		for _, ru := range runs {
			ru.pkg = pkg
			r.runs = append(r.runs, ru)
		}
		for _, name := range failed {
			r.failed[pkg+" "+name] = true
		}
		runs, failed = nil, nil
	}
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "pkg: "):
			header = strings.TrimSpace(strings.TrimPrefix(line, "pkg: "))
		case strings.HasPrefix(line, "cpu: "):
			r.cpu = strings.TrimSpace(strings.TrimPrefix(line, "cpu: "))
		case strings.HasPrefix(trimmed, "--- FAIL: Benchmark"):
			name := strings.Fields(strings.TrimPrefix(trimmed, "--- FAIL: "))[0]
			failed = append(failed, procs.ReplaceAllString(name, ""))
		case strings.HasPrefix(line, "Benchmark"):
			if ru, ok := parseRun(line); ok {
				runs = append(runs, ru)
			}
		default:
			if m := closing.FindStringSubmatch(line); m != nil {
				flush(m[1])
				header = ""
			}
		}
	}
	flush(header)
	return sc.Err()
}

// parseRun reads one result line; ok is false for a line that only starts
// like one (a benchmark's own log output, say).
func parseRun(line string) (run, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 {
		return run{}, false
	}
	if _, err := strconv.ParseUint(f[1], 10, 64); err != nil {
		return run{}, false
	}
	ru := run{name: procs.ReplaceAllString(f[0], ""), metrics: map[string]float64{}}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return run{}, false
		}
		ru.metrics[f[i+1]] = v
	}
	return ru, true
}

// crashLine is the figures line of ui/smoke's crash test (its t.Logf), as
// scripts/crash.sh copies it into crash.txt.
var crashLine = regexp.MustCompile(`crash test: (\d+) messages, (\d+) kills \((\d+) with jobs in flight\), lost (\d+), duplicated (\d+)`)

// keyValueLine is a figures line of the form "name: key=value key=value",
// after anything go test put in front of it (indent, file:line).
var keyValueLine = regexp.MustCompile(`(?:^|\s)([a-z][a-z0-9-]*): ((?:[A-Za-z0-9%.-]+=\S+\s*)+)$`)

// addFiguresFile reads a figures file into r.files[name]. Two kinds of
// lines count, the last of each name winning: the crash test's own figures
// line, and "name: key=value ..." lines, of which only the numeric values
// are kept. A "--- FAIL" line, or a key exit that is not 0, marks the run
// failed.
func (r *results) addFiguresFile(path, name string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(path) // #nosec G304 -- a file of the results folder whoever runs make bench named
	if err != nil {
		return err
	}
	f := figures{lines: map[string]map[string]float64{}, date: fi.ModTime()}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(strings.TrimSpace(line), "--- FAIL") {
			f.failed = true
		}
		if m := crashLine.FindStringSubmatch(line); m != nil {
			vals := map[string]float64{}
			for i, k := range []string{"messages", "kills", "in-flight", "lost", "duplicated"} {
				v, _ := strconv.ParseFloat(m[i+1], 64)
				vals[k] = v
			}
			f.lines["crash"] = vals
			continue
		}
		m := keyValueLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		vals := map[string]float64{}
		for _, kv := range strings.Fields(m[2]) {
			k, v, _ := strings.Cut(kv, "=")
			if x, err := strconv.ParseFloat(strings.TrimSuffix(v, ","), 64); err == nil {
				vals[k] = x
			}
		}
		if x, ok := vals["exit"]; ok && x != 0 {
			f.failed = true
		}
		f.lines[m[1]] = vals
	}
	r.files[name] = f
	return nil
}

// readMeta reads the "key: value" lines scripts/bench.sh writes about a run
// (date, go, command, load-start, load-end).
func readMeta(path string) (map[string]string, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- a file of the results folder whoever runs make bench named
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m, nil
}

// cpuInfo reads the CPU model and the number of logical processors from a
// Linux /proc/cpuinfo.
func cpuInfo(path string) (model string, cores int, err error) {
	b, err := os.ReadFile(path) // #nosec G304 -- a file of the results folder whoever runs make bench named
	if err != nil {
		return "", 0, err
	}
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "processor":
			cores++
		case "model name":
			if model == "" {
				model = strings.TrimSpace(v)
			}
		}
	}
	if cores == 0 {
		return "", 0, fmt.Errorf("%s lists no processor", path)
	}
	return model, cores, nil
}
