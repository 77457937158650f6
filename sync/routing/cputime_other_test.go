//go:build !unix

package routing

import (
	"testing"
	"time"
)

// cpuTime is not measured where getrusage does not exist: the benchmark
// then reports zero CPU.
func cpuTime(testing.TB) time.Duration { return 0 }
