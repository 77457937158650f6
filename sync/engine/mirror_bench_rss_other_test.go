//go:build !linux

package engine_test

import "testing"

// resetPeakRSS does nothing where /proc/self/clear_refs does not exist.
func resetPeakRSS(testing.TB) {}

// peakRSS is not measured outside Linux: the benchmark then reports no
// peak-rss-MB.
func peakRSS(testing.TB) (int64, bool) { return 0, false }
