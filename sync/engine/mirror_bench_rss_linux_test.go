//go:build linux

package engine_test

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"testing"
)

// resetPeakRSS starts the kernel's peak resident size (VmHWM) over, so
// that the benchmark's peak is its timed part's and not the seeding's.
// Kernels before 4.0 ignore it; the peak then covers the whole process.
func resetPeakRSS(tb testing.TB) {
	// "5" resets the peak RSS (proc(5), /proc/pid/clear_refs).
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Logf("peak RSS not reset (%v): it covers the seeding too", err)
	}
}

// peakRSS is the process's peak resident size (VmHWM) in bytes, and false
// where the kernel does not say.
func peakRSS(tb testing.TB) (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Logf("no peak RSS: %v", err)
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) == 3 && string(f[0]) == "VmHWM:" && string(f[2]) == "kB" {
			kb, err := strconv.ParseInt(string(f[1]), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
