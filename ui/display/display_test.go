package display

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// env is a fake environment for probe.
type env map[string]string

func (e env) get(k string) string { return e[k] }

func listenUnix(t *testing.T, path string) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
}

func TestProbe(t *testing.T) {
	xdir := t.TempDir()
	listenUnix(t, filepath.Join(xdir, "X7"))
	runtimeDir := t.TempDir()
	listenUnix(t, filepath.Join(runtimeDir, "wayland-1"))

	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	port := tcp.Addr().(*net.TCPAddr).Port
	if port < x11TCPBase {
		t.Skipf("free port %d is below the X11 range", port)
	}
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()

	tests := []struct {
		name    string
		goos    string
		env     env
		wayland bool
		wantErr string // "" means a display is there
	}{
		{"macOS always has one", "darwin", env{}, false, ""},
		{"Windows always has one", "windows", env{}, false, ""},
		{"nothing set", "linux", env{}, false, "$DISPLAY"},
		{"X11 socket answers", "linux", env{"DISPLAY": ":7"}, false, ""},
		{"X11 socket with a screen number", "linux", env{"DISPLAY": ":7.0"}, false, ""},
		{"X11 unix: prefix", "linux", env{"DISPLAY": "unix:7"}, false, ""},
		{"X11 set but no server", "linux", env{"DISPLAY": ":99"}, false, ":99"},
		{"X11 over TCP answers", "linux", env{"DISPLAY": fmt.Sprintf("127.0.0.1:%d", port-x11TCPBase)}, false, ""},
		{"X11 over TCP, nobody there", "linux", env{"DISPLAY": fmt.Sprintf("127.0.0.1:%d.0", closedPort-x11TCPBase)}, false, "127.0.0.1"},
		{"X11 malformed", "linux", env{"DISPLAY": "garbage"}, false, "garbage"},
		{"X11 dead, Wayland in an X11-only build", "linux", env{"DISPLAY": ":99", "WAYLAND_DISPLAY": "wayland-1", "XDG_RUNTIME_DIR": runtimeDir}, false, ":99"},
		{"Wayland answers", "linux", env{"WAYLAND_DISPLAY": "wayland-1", "XDG_RUNTIME_DIR": runtimeDir}, true, ""},
		{"Wayland absolute path", "linux", env{"WAYLAND_DISPLAY": filepath.Join(runtimeDir, "wayland-1")}, true, ""},
		{"Wayland set but no compositor", "freebsd", env{"WAYLAND_DISPLAY": "wayland-9", "XDG_RUNTIME_DIR": runtimeDir}, true, "wayland-9"},
		{"X11 dead, Wayland answers", "linux", env{"DISPLAY": ":99", "WAYLAND_DISPLAY": "wayland-1", "XDG_RUNTIME_DIR": runtimeDir}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := prober{goos: tt.goos, getenv: tt.env.get, x11Dir: xdir, wayland: tt.wayland, timeout: time.Second}
			err := p.probe(context.Background())
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("probe = %v, want a display", err)
			case tt.wantErr != "" && err == nil:
				t.Fatal("probe found a display, want none")
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("probe = %q, want it to mention %q", err, tt.wantErr)
			}
			if err != nil {
				t.Log(err)
			}
		})
	}
}

// TestProbeGivesUpInTime: a $DISPLAY naming a host that never answers must
// not hold the start for long.
func TestProbeGivesUpInTime(t *testing.T) {
	// A host that never answers, stood in for by a dial that waits until
	// it is given up on: a real black-hole address would send traffic off
	// this machine.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	blackHole := func(ctx context.Context, network, addr string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	p := prober{goos: "linux", getenv: env{"DISPLAY": "x11.example:0"}.get, x11Dir: t.TempDir(), timeout: 10 * time.Second, dial: blackHole}
	start := time.Now()
	if err := p.probe(ctx); err == nil {
		t.Fatal("a display that never answers was taken for one")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("probe took %v", took)
	}
}

// TestProbeUsesTheEnvironment: the exported Probe reads the real
// environment; with nothing set on Linux there is no display.
func TestProbeUsesTheEnvironment(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	if err := Probe(context.Background()); alwaysHasDesktop(runtime.GOOS) != (err == nil) {
		t.Fatalf("Probe = %v on %s", err, runtime.GOOS)
	}
}
