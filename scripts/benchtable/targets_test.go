package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// pending are benchmarks a row names that are being written on another
// branch; until they land their rows read "not measured".
var pending = map[string]bool{"BenchmarkConsoleStart": true}

// TestTargetsNameBenchmarksThatExist keeps the rows in step with the code:
// a renamed or moved benchmark would otherwise turn its row into "not
// measured" without anyone noticing.
func TestTargetsNameBenchmarksThatExist(t *testing.T) {
	root := filepath.Join("..", "..")
	rows := map[string]bool{}
	for _, tg := range targets {
		if rows[tg.row] {
			t.Errorf("two rows named %q", tg.row)
		}
		rows[tg.row] = true
		if _, err := regexp.Compile(tg.bench); err != nil {
			t.Errorf("%s: %v", tg.row, err)
		}
		if tg.metric == "" || tg.scale == 0 || tg.cmp == nil || strings.Contains(tg.row, "|") {
			t.Errorf("%s: metric, scale and comparison are all needed, and no | in the name", tg.row)
		}
		if strings.HasSuffix(tg.from, ".txt") {
			continue
		}
		top, _, _ := strings.Cut(tg.bench, "/")
		files, _ := filepath.Glob(filepath.Join(root, tg.from, "*_test.go"))
		found := false
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "func "+top+"(b *testing.B)") {
				found = true
			}
		}
		if !found && !pending[top] {
			t.Errorf("%s: no func %s in %s", tg.row, top, tg.from)
		}
	}
}
