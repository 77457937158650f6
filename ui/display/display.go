// Package display tells whether Parley's window can open, before Fyne tries.
// GLFW panics when $DISPLAY names an X server that is not there (a stale
// SSH forwarding, a closed Xvfb), so the console connects to the display's
// socket first, briefly, and falls back to the headless sync when nothing
// answers, as it does when no display is set at all.
package display

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Timeout bounds the probe: a display that takes longer to accept a
// connection would not give a usable window either.
const Timeout = 2 * time.Second

// x11TCPBase is the TCP port of X display 0; display n listens on 6000+n.
const x11TCPBase = 6000

// Probe returns nil when a window can be opened, or an error saying which
// display was tried and why it cannot be used.
func Probe(ctx context.Context) error {
	return prober{goos: runtime.GOOS, getenv: os.Getenv, x11Dir: "/tmp/.X11-unix", wayland: waylandBuild, timeout: Timeout}.probe(ctx)
}

// prober is Probe's environment, so tests can point it at their own sockets.
type prober struct {
	goos    string
	getenv  func(string) string
	x11Dir  string // where X servers put their unix sockets
	wayland bool   // whether this build's GLFW talks Wayland
	timeout time.Duration
	// dial connects; nil is a net.Dialer. Tests stand in for hosts that
	// never answer, so that no test sends traffic off this machine.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (p prober) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if p.dial != nil {
		return p.dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// alwaysHasDesktop reports systems where a GUI process always has a display.
func alwaysHasDesktop(goos string) bool {
	switch goos {
	case "darwin", "windows", "android", "ios":
		return true
	}
	return false
}

func (p prober) probe(ctx context.Context) error {
	if alwaysHasDesktop(p.goos) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	x, w := p.getenv("DISPLAY"), p.getenv("WAYLAND_DISPLAY")
	var errs []string
	if x != "" {
		err := p.probeX11(ctx, x)
		if err == nil {
			return nil
		}
		errs = append(errs, err.Error())
	}
	if w != "" && p.wayland {
		err := p.probeWayland(ctx, w)
		if err == nil {
			return nil
		}
		errs = append(errs, err.Error())
	}
	if len(errs) == 0 {
		if w != "" {
			return fmt.Errorf("$DISPLAY is unset, and this build of Parley draws through X11 only ($WAYLAND_DISPLAY is %s)", w)
		}
		return fmt.Errorf("$DISPLAY and $WAYLAND_DISPLAY are unset")
	}
	return fmt.Errorf("%s", strings.Join(errs, "; "))
}

// probeX11 connects to the server named by display ("[host]:n[.screen]"),
// as Xlib would: a local socket for no host or "unix", TCP otherwise.
// It sends nothing: the server would refuse a client without the session's
// cookie, which GLFW has and this probe does not need.
func (p prober) probeX11(ctx context.Context, display string) error {
	host, rest, ok := strings.Cut(display, ":")
	num, _, _ := strings.Cut(rest, ".")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 0 || strings.HasPrefix(rest, ":") {
		return fmt.Errorf("$DISPLAY %q is not of the form [host]:number[.screen]", display)
	}
	if host == "" || host == "unix" {
		socket := filepath.Join(p.x11Dir, "X"+num)
		// Linux servers listen on an abstract socket too; it works in
		// containers that do not share /tmp with the server.
		for _, addr := range []string{socket, "@" + socket} {
			if addr[0] == '@' && p.goos != "linux" {
				continue
			}
			c, err := p.dialContext(ctx, "unix", addr)
			if err == nil {
				return c.Close()
			}
		}
		return fmt.Errorf("$DISPLAY is %s, but no X server answers at %s", display, socket)
	}
	addr := net.JoinHostPort(host, strconv.Itoa(x11TCPBase+n))
	c, err := p.dialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("$DISPLAY is %s, but no X server answers at %s: %w", display, addr, err)
	}
	return c.Close()
}

// probeWayland connects to the compositor's socket: $WAYLAND_DISPLAY, under
// $XDG_RUNTIME_DIR unless it is an absolute path.
func (p prober) probeWayland(ctx context.Context, name string) error {
	socket := name
	if !filepath.IsAbs(socket) {
		dir := p.getenv("XDG_RUNTIME_DIR")
		if dir == "" {
			return fmt.Errorf("$WAYLAND_DISPLAY is %s, but $XDG_RUNTIME_DIR, where its socket would be, is unset", name)
		}
		socket = filepath.Join(dir, name)
	}
	c, err := p.dialContext(ctx, "unix", socket)
	if err != nil {
		return fmt.Errorf("$WAYLAND_DISPLAY is %s, but no compositor answers at %s", name, socket)
	}
	return c.Close()
}
