//go:build !linux

package activedemand_test

import "time"

// onThreadCPU measures wall time where thread CPU time is not at hand.
func onThreadCPU(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}
