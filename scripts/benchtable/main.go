// Command benchtable turns the results scripts/bench.sh collects into the
// one table of BENCHMARKS.md: each target Parley states, the figure
// measured for it and whether it holds. It reads, in the results folder:
//
//	bench.txt   the output of every `go test -bench` run (standard format)
//	meta.txt    "key: value" lines about the run: date, go, command,
//	            duration, load-start, load-end, and note (anything the
//	            reader must know, e.g. that the figures come from partial
//	            runs)
//	import.txt  the import measurement: "import: peak-rss-kB=N ... exit=N"
//	crash.txt   the figures line of the last `make crash`
//	soak.txt    the figures line of the last `make soak`, of the form
//	            "soak: messages=20000 lost=0 duplicated=0 ..." (key=value,
//	            numbers only are used; any go test prefix before "soak:"
//	            is fine), plus "--- FAIL" if the run failed
//
// prints the table and, with -md, writes it between the markers
// <!-- bench-table:start --> and <!-- bench-table:end --> of that file
// (after its title the first time), leaving the rest as it was. The rows
// are the list in targets.go.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	dir := flag.String("dir", "bench-results", "the folder scripts/bench.sh wrote its results to")
	md := flag.String("md", "", "a Markdown file to write the table into (BENCHMARKS.md); empty: print only")
	cpuinfo := flag.String("cpuinfo", "/proc/cpuinfo", "where to read the CPU model and core count")
	flag.Parse()
	if err := writeTable(*dir, *md, *cpuinfo); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func writeTable(dir, md, cpuinfo string) error {
	res := newResults()
	benchPath := filepath.Join(dir, "bench.txt")
	f, err := os.Open(benchPath) // #nosec G304 -- the results folder whoever runs make bench named
	if err != nil {
		return fmt.Errorf("no benchmark output to read (%w): run `make bench` (scripts/bench.sh) first, or pass -dir", err)
	}
	err = res.addBench(f)
	f.Close() // #nosec G104 -- read-only: closing it cannot lose anything
	if err != nil {
		return fmt.Errorf("read %s: %w", benchPath, err)
	}
	for _, name := range []string{"crash.txt", "soak.txt", "import.txt"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			continue // not run: the table says so
		}
		if err := res.addFiguresFile(p, name); err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
	}
	meta, err := readMeta(filepath.Join(dir, "meta.txt"))
	if err != nil {
		// Without it the table still stands; the header says "unknown".
		fmt.Fprintf(os.Stderr, "benchtable: %v; the table's date, Go version and command will read unknown\n", err)
		meta = map[string]string{}
	}
	model, cores, err := cpuInfo(cpuinfo)
	if err != nil {
		model, cores = res.cpu, 0
	}
	block := renderBlock(targets, res, meta, orUnknown(model), cores)
	inner := strings.TrimSuffix(strings.TrimPrefix(block, startMarker+"\n"), endMarker+"\n")
	fmt.Print(inner)
	if md == "" {
		return nil
	}
	if err := writeBlock(md, block); err != nil {
		return fmt.Errorf("write the table: %w", err)
	}
	fmt.Fprintf(os.Stderr, "benchtable: table written into %s\n", md)
	return nil
}
