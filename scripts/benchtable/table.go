package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The table's place in BENCHMARKS.md: everything between the two markers is
// rewritten on each run, nothing outside them.
const (
	startMarker = "<!-- bench-table:start -->"
	endMarker   = "<!-- bench-table:end -->"
)

// comparison is how a result is held against its target.
type comparison struct {
	symbol string
	holds  func(v, limit float64) bool
	// worse says whether a is further from holding than b, to pick the
	// worst of several matched benchmarks.
	worse func(a, b, limit float64) bool
}

var (
	below = &comparison{"<", func(v, l float64) bool { return v < l },
		func(a, b, _ float64) bool { return a > b }}
	atMost = &comparison{"≤", func(v, l float64) bool { return v <= l },
		func(a, b, _ float64) bool { return a > b }}
	atLeast = &comparison{"≥", func(v, l float64) bool { return v >= l },
		func(a, b, _ float64) bool { return a < b }}
	equal = &comparison{"=", func(v, l float64) bool { return v == l },
		func(a, b, l float64) bool { return math.Abs(a-l) > math.Abs(b-l) }}
)

// cmp is the name the target list uses for a comparison.
type cmp = *comparison

// target is one row of the table.
type target struct {
	// row names what is measured.
	row string
	// from is a package relative to the module root ("store") whose
	// benchmarks are read, or a figures file in the results folder
	// ("crash.txt").
	from string
	// bench is, for a package, a regular expression matching whole
	// benchmark names without the -GOMAXPROCS suffix; when it matches
	// several, the row shows the worst. For a figures file it is the
	// line's name ("crash").
	bench string
	// metric is the unit as go test prints it ("ns/op", "rows/s") or a
	// figures key ("lost").
	metric string
	cmp    cmp
	// limit is the target, in unit.
	limit float64
	unit  string
	// scale turns the metric into unit (1e-6 for ns/op shown in ms).
	scale float64
	// also are further metrics shown beside the result when the run
	// reported them (the sizes a benchmark ran at, say).
	also []string
}

// rowResult is a target held against the results.
type rowResult struct {
	// holds is "yes", "no", "not measured" (no such benchmark or metric
	// in the run) or "not run" (no figures file).
	holds string
	// value is the median of the worst benchmark, in the target's unit.
	value float64
	// worst names the benchmark shown when the pattern matched several.
	worst string
	// result is the Result cell.
	result string
}

// sources says where each figures file comes from, for the Benchmark
// column, and whether `make bench` itself writes it (then its absence is
// "not measured", as for a benchmark, rather than "not run").
var sources = map[string]struct {
	label   string
	byBench bool
}{
	"crash.txt":  {"`make crash`", false},
	"soak.txt":   {"`make soak`", false},
	"import.txt": {"`TestMeasureImport` (sync/engine), PARLEY_MEASURE=messages-import, under `/usr/bin/time`", true},
}

// evaluate holds one target against the results. Several runs of one
// benchmark (-count) give their median; several benchmarks matched give
// the worst median, so a row holds only if every case it covers does.
func evaluate(tg target, res *results) rowResult {
	if strings.HasSuffix(tg.from, ".txt") {
		return evaluateFigures(tg, res)
	}
	re := regexp.MustCompile(`^(?:` + tg.bench + `)$`)
	inPkg := func(pkg string) bool { return pkg == tg.from || strings.HasSuffix(pkg, "/"+tg.from) }
	byName := map[string][]run{}
	var names []string
	for _, r := range res.runs {
		if !inPkg(r.pkg) || !re.MatchString(r.name) {
			continue
		}
		if _, ok := r.metrics[tg.metric]; !ok {
			continue
		}
		if byName[r.name] == nil {
			names = append(names, r.name)
		}
		byName[r.name] = append(byName[r.name], r)
	}
	// A failed sub-benchmark fails its parent too; the parent's own
	// failure counts only when none of its cases is named (it stopped
	// before they ran).
	top, _, _ := strings.Cut(tg.bench, "/")
	failed, subFailed, topFailed := false, false, false
	for k := range res.failed {
		pkg, name, _ := strings.Cut(k, " ")
		if !inPkg(pkg) {
			continue
		}
		switch {
		case re.MatchString(name):
			failed = true
		case name == top:
			topFailed = true
		case strings.HasPrefix(name, top+"/"):
			subFailed = true
		}
	}
	failed = failed || topFailed && !subFailed
	if len(names) == 0 {
		if failed {
			return rowResult{holds: "no", result: "failed (see the benchmark output)"}
		}
		return rowResult{holds: "not measured", result: "not measured"}
	}
	var worst string
	var worstVal float64
	for _, n := range names {
		v := median(metricOf(byName[n], tg.metric)) * tg.scale
		if worst == "" || tg.cmp.worse(v, worstVal, tg.limit) {
			worst, worstVal = n, v
		}
	}
	vals := metricOf(byName[worst], tg.metric)
	out := rowResult{value: worstVal, holds: yesNo(tg.cmp.holds(worstVal, tg.limit) && !failed)}
	if len(names) > 1 {
		out.worst = worst
	}
	var b strings.Builder
	b.WriteString(withUnit(worstVal, tg.unit))
	if len(vals) > 1 {
		lo, hi := formatNumber(slices.Min(vals)*tg.scale), formatNumber(slices.Max(vals)*tg.scale)
		if lo == hi {
			fmt.Fprintf(&b, " (%d runs)", len(vals))
		} else {
			fmt.Fprintf(&b, " (%s–%s, %d runs)", lo, hi, len(vals))
		}
	}
	// A size the benchmark does not report is said to be missing, so a
	// figure measured at another size is not read as the stated one.
	var missing []string
	for _, a := range tg.also {
		if av := metricOf(byName[worst], a); len(av) > 0 {
			fmt.Fprintf(&b, "; %s %s", a, formatNumber(median(av)))
		} else {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(&b, "; %s not reported", strings.Join(missing, ", "))
	}
	if failed {
		b.WriteString("; a run failed")
	}
	out.result = b.String()
	return out
}

func evaluateFigures(tg target, res *results) rowResult {
	f, ok := res.files[tg.from]
	if !ok {
		if sources[tg.from].byBench {
			return rowResult{holds: "not measured", result: "not measured"}
		}
		return rowResult{holds: "not run", result: "not run"}
	}
	vals := f.lines[tg.bench]
	v, ok := vals[tg.metric]
	if !ok {
		if f.failed {
			return rowResult{holds: "no", result: "failed, no figures"}
		}
		return rowResult{holds: "not measured", result: "not measured"}
	}
	v *= tg.scale
	out := rowResult{value: v, holds: yesNo(tg.cmp.holds(v, tg.limit) && !f.failed)}
	var b strings.Builder
	b.WriteString(withUnit(v, tg.unit))
	for _, a := range tg.also {
		if av, ok := vals[a]; ok {
			fmt.Fprintf(&b, "; %s %s", a, formatNumber(av))
		}
	}
	if f.failed {
		b.WriteString("; the run failed")
	}
	out.result = b.String()
	return out
}

func metricOf(runs []run, metric string) []float64 {
	var vs []float64
	for _, r := range runs {
		if v, ok := r.metrics[metric]; ok {
			vs = append(vs, v)
		}
	}
	return vs
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

func withUnit(v float64, unit string) string {
	if unit == "" {
		return formatNumber(v)
	}
	return formatNumber(v) + " " + unit
}

// formatNumber writes three significant digits below 1,000 and whole
// numbers with thousands separators above, as the rest of BENCHMARKS.md
// does.
func formatNumber(v float64) string {
	if math.Abs(v) >= 999.5 {
		n := strconv.FormatInt(int64(math.Round(math.Abs(v))), 10)
		var b strings.Builder
		if v < 0 {
			b.WriteByte('-')
		}
		for i, c := range n {
			if i > 0 && (len(n)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// renderBlock is the whole block written into BENCHMARKS.md, markers
// included: where and how the figures were measured, then the table.
func renderBlock(tgs []target, res *results, meta map[string]string, cpu string, cores int) string {
	var b strings.Builder
	b.WriteString(startMarker + "\n")
	b.WriteString("## Every target in one table\n\n")
	b.WriteString("Written by `make bench` (scripts/bench.sh, then scripts/benchtable); do not edit by hand, re-run it.\n\n")
	machine := cpu
	if cores > 0 {
		machine = fmt.Sprintf("%s, %d cores", cpu, cores)
	}
	goVersion, platform := meta["go"], ""
	if f := strings.Fields(goVersion); len(f) == 4 && f[0] == "go" && f[1] == "version" {
		goVersion, platform = f[2], f[3]
	}
	if platform != "" {
		machine += ", " + platform
	}
	fmt.Fprintf(&b, "- Machine: %s\n", machine)
	fmt.Fprintf(&b, "- Go: %s\n", orUnknown(goVersion))
	date := meta["date"]
	if t, err := time.Parse(time.RFC3339, date); err == nil {
		date = t.UTC().Format("2006-01-02 15:04 UTC")
	}
	fmt.Fprintf(&b, "- Date: %s", orUnknown(date))
	if d := meta["duration"]; d != "" {
		fmt.Fprintf(&b, " (the run took %s)", d)
	}
	b.WriteString("\n")
	if l := meta["load-start"]; l != "" {
		fmt.Fprintf(&b, "- Load average (1, 5, 15 min): %s at the start", l)
		if e := meta["load-end"]; e != "" {
			fmt.Fprintf(&b, ", %s at the end", e)
		}
		b.WriteString("; the 2 cores are shared with other work, so read rates against it\n")
	}
	fmt.Fprintf(&b, "- Command: `%s`\n", orUnknown(meta["command"]))
	if n := meta["note"]; n != "" {
		fmt.Fprintf(&b, "- Note: %s\n", n)
	}
	b.WriteString("\n")
	b.WriteString("A result is the median of the runs (range and count in brackets); a row that covers several benchmarks shows the worst. " +
		"*not measured*: that benchmark or metric was not in this run; *not run*: its make target has not left figures in bench-results/. " +
		"The crash and soak rows are the last `make crash` and `make soak`, dated in the last column. " +
		"`/usr/bin/time`'s kB (1,024 bytes) are shown as MB of 10⁶ bytes; other figures are in the units their benchmark reports.\n\n")
	b.WriteString("| Row | Target | Result | Holds | Benchmark |\n| --- | --- | --- | --- | --- |\n")
	for _, tg := range tgs {
		r := evaluate(tg, res)
		fmt.Fprintf(&b, "| %s | %s %s | %s | %s | %s |\n", tg.row, tg.cmp.symbol, withUnit(tg.limit, tg.unit), r.result, r.holds, source(tg, r, res))
	}
	b.WriteString(endMarker + "\n")
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// source is the Benchmark cell: the benchmark and package, the worst case
// when there are several, or the figures' make target and date.
func source(tg target, r rowResult, res *results) string {
	if strings.HasSuffix(tg.from, ".txt") {
		s := sources[tg.from].label
		if s == "" {
			s = tg.from
		}
		if f, ok := res.files[tg.from]; ok {
			s += ", " + f.date.UTC().Format("2006-01-02")
		}
		return s
	}
	s := fmt.Sprintf("`%s` (%s)", tg.bench, tg.from)
	if r.worst != "" {
		s += fmt.Sprintf(", worst `%s`", r.worst)
	}
	if tg.metric != "ns/op" {
		s += ", " + tg.metric
	}
	return s
}

// replaceBlock puts block between the markers of doc, or, the first time,
// after the document's title.
func replaceBlock(doc, block string) (string, error) {
	start, end := strings.Index(doc, startMarker), strings.Index(doc, endMarker)
	switch {
	case start < 0 && end < 0:
		i := 0
		if strings.HasPrefix(doc, "# ") {
			if nl := strings.IndexByte(doc, '\n'); nl >= 0 {
				i = nl + 1
				if strings.HasPrefix(doc[i:], "\n") {
					i++
				}
			} else {
				doc += "\n\n"
				i = len(doc)
			}
		}
		return doc[:i] + block + "\n" + doc[i:], nil
	case start < 0 || end < 0 || end < start:
		return "", errors.New("BENCHMARKS.md has one table marker without the other, or in the wrong order: " +
			"put back both " + startMarker + " and " + endMarker + " around the table, or remove both")
	}
	rest := doc[end+len(endMarker):]
	rest = strings.TrimPrefix(rest, "\n")
	return doc[:start] + block + rest, nil
}

// writeBlock rewrites the table block of the Markdown file at path.
func writeBlock(path, block string) error {
	b, err := os.ReadFile(path) // #nosec G304 -- the Markdown file named on the command line (BENCHMARKS.md)
	if err != nil {
		return err
	}
	doc, err := replaceBlock(string(b), block)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(doc), fi.Mode().Perm()) // #nosec G703 -- the file just read, named on the command line
}
