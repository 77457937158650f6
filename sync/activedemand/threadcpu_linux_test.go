//go:build linux

package activedemand_test

import (
	"runtime"
	"syscall"
	"time"
)

// rusageThread is Linux's RUSAGE_THREAD, which package syscall does not name.
const rusageThread = 1

// onThreadCPU runs f locked to one OS thread and returns the CPU time that
// thread spent: unlike wall time, other processes and other tests on a busy
// machine do not inflate it.
func onThreadCPU(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var before, after syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &before); err != nil {
		panic(err)
	}
	f()
	if err := syscall.Getrusage(rusageThread, &after); err != nil {
		panic(err)
	}
	return time.Duration(after.Utime.Nano()+after.Stime.Nano()) - time.Duration(before.Utime.Nano()+before.Stime.Nano())
}
