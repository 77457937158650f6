//go:build !unix

package engine_test

import (
	"testing"
	"time"
)

// cpuTime is not measured where getrusage does not exist: the benchmark
// then reports zero CPU per message.
func cpuTime(testing.TB) time.Duration { return 0 }
