package smoke

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"parley/ui/screenshot"
)

// BenchmarkConsoleStart times the console from exec to its first drawn
// frame: until it logs screenshot.FirstFrameMessage, which it does while the
// painter draws that frame. Warm: the data folder, its demo database and
// Fyne's settings are those of a start before the timed ones, and the
// binary is in the page cache. Each start runs in demo mode, as a fresh
// install does, sandboxes included, and is stopped with SIGTERM.
//
//	PARLEY_SMOKE_BINARY=$PWD/bin/parley go test -run '^$' -bench ConsoleStart -benchtime 10x ./ui/smoke/
func BenchmarkConsoleStart(b *testing.B) {
	bin := binary(b)
	requireTools(b, "Xvfb")
	display := startXvfb(b)
	data, config := b.TempDir(), b.TempDir()
	start := func() (took, cpu time.Duration) {
		cmd := exec.Command(bin, "--data-dir", data)
		cmd.Env = append(os.Environ(), "DISPLAY="+display, "LANG=en_US.UTF-8", "XDG_CONFIG_HOME="+config)
		var out lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		for deadline := t0.Add(60 * time.Second); ; time.Sleep(2 * time.Millisecond) {
			if strings.Contains(out.String(), screenshot.FirstFrameMessage) {
				took, cpu = time.Since(t0), cpuTime(cmd.Process.Pid)
				break
			}
			select {
			case err := <-exited:
				b.Fatalf("parley ended (%v) before drawing:\n%s", err, out.String())
			default:
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				<-exited
				b.Fatalf("no first frame within 60 s:\n%s", out.String())
			}
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		return took, cpu
	}
	start() // the cold one: creates the database, the demo data and the settings
	var total, worst, cpuTotal time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		took, cpu := start()
		total += took
		cpuTotal += cpu
		worst = max(worst, took)
		b.Logf("start %d: first frame after %v, %v of CPU", i+1, took.Round(time.Millisecond), cpu)
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/first-frame")
	b.ReportMetric(float64(worst.Milliseconds()), "ms-worst")
	b.ReportMetric(float64(cpuTotal.Milliseconds())/float64(b.N), "cpu-ms/first-frame")
}

// cpuTime is the user and system CPU time process pid has used so far, to
// the kernel's tick (10 ms), or 0 where /proc cannot tell. On a shared
// machine it says what the start costs where wall time says how busy the
// machine was.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after it. utime and stime are fields 14 and 15 of the line.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(u+s) * 10 * time.Millisecond
}
