package activedemand

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// The README's default table is what users correct their routes file
// against, so it must say what the code does.
func TestREADMEShowsTheDefaultRoutes(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	routes := DefaultRoutes()
	for _, name := range routes.Names() {
		rt, _ := routes.Route(name)
		status := "known"
		if rt.Assumed {
			status = "assumed"
		}
		row := fmt.Sprintf("| `%s` | %s | `%s` |", name, rt.Method, rt.Path)
		line := ""
		for _, l := range strings.Split(string(readme), "\n") {
			if strings.HasPrefix(l, row) {
				line = l
			}
		}
		if line == "" {
			t.Errorf("README's default table has no row starting %s", row)
			continue
		}
		if !strings.Contains(line, status) {
			t.Errorf("README row for %s does not say %s: %s", name, status, line)
		}
	}
}

// The limits the README states are the ones the code applies.
func TestREADMEStatesTheLimits(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, claim := range []string{
		fmt.Sprintf("lists the first %d\nproblems", MaxRoutesFileProblems),
		fmt.Sprintf("a file larger than %d KiB", MaxRoutesFileSize>>10),
		fmt.Sprintf("bytes; %d (%d MiB) when left out", DefaultMaxMediaBytes, DefaultMaxMediaBytes>>20),
		fmt.Sprintf("`max_bytes` (%d MiB by default)", DefaultMaxMediaBytes>>20),
	} {
		if !strings.Contains(string(readme), claim) {
			t.Errorf("README does not say %q", claim)
		}
	}
}
