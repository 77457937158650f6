package smoke

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"parley/store"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("PARLEY_SMOKE_BINARY")
	if bin == "" {
		t.Skip("PARLEY_SMOKE_BINARY is not set; `make test` builds the binary and sets it")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("PARLEY_SMOKE_BINARY: %v", err)
	}
	return bin
}

func requireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (scripts/deps.sh test installs it): %v", tool, err)
		}
	}
}

// startXvfb starts a private X server and returns its display name. Xvfb
// picks a free display number itself and writes it to -displayfd once it
// accepts connections, so there is no race and no fixed number to collide.
func startXvfb(t testing.TB) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	var xlog bytes.Buffer
	x.Stderr = &xlog
	if err := x.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = x.Process.Signal(syscall.SIGTERM)
		_ = x.Wait()
	})
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			t.Fatalf("Xvfb did not start: %s", xlog.String())
		}
		return ":" + n
	case <-time.After(30 * time.Second):
		t.Fatalf("Xvfb gave no display number within 30s: %s", xlog.String())
	}
	return ""
}

// launched is a parley process running on a private display.
type launched struct {
	display string
	out     *lockedBuffer
	exited  chan struct{} // closed when the process has ended, with its result in err
	err     error
}

// launch starts parley with args on a fresh Xvfb display; the process is
// stopped when the test ends.
func launch(t *testing.T, args ...string) *launched {
	t.Helper()
	return launchCmd(t, exec.Command(binary(t), args...))
}

// launchCmd is launch for a command of the caller's making (one wrapped in
// unshare, say).
func launchCmd(t *testing.T, app *exec.Cmd) *launched {
	t.Helper()
	requireTools(t, "Xvfb", "xwininfo", "import")
	l := &launched{display: startXvfb(t), out: &lockedBuffer{}, exited: make(chan struct{})}
	// A private config folder keeps the user's remembered screen (Fyne
	// preferences) out of the test. Fyne reads the language from LANG and
	// logs an error for C or POSIX, which would only add noise here.
	app.Env = append(os.Environ(), "DISPLAY="+l.display, "LANG=en_US.UTF-8", "XDG_CONFIG_HOME="+t.TempDir())
	app.Stdout, app.Stderr = l.out, l.out
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { l.err = app.Wait(); close(l.exited) }()
	t.Cleanup(func() {
		_ = app.Process.Signal(syscall.SIGTERM)
		select {
		case <-l.exited:
		case <-time.After(10 * time.Second):
			_ = app.Process.Kill()
			<-l.exited // closed, so a check that saw the end first cannot block this
		}
	})
	return l
}

// waitForWindow waits for a window with exactly this title to be mapped and
// painted (a frame still blank has one or two colours, a drawn one hundreds)
// and returns its screenshot.
func (l *launched) waitForWindow(t *testing.T, title string) image.Image {
	t.Helper()
	windowID := regexp.MustCompile(`(0x[0-9a-f]+) "` + regexp.QuoteMeta(title) + `"`)
	var id string
	var colours int
	var shot image.Image
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		select {
		case <-l.exited:
			t.Fatalf("parley exited before drawing its window (%v):\n%s", l.err, l.out.String())
		default:
		}
		if id == "" {
			tree, _ := exec.Command("xwininfo", "-display", l.display, "-root", "-tree").Output()
			if m := windowID.FindSubmatch(tree); m != nil {
				id = string(m[1])
			}
		}
		if id == "" {
			continue
		}
		if img, err := capture(l.display, id); err == nil {
			shot, colours = img, countColours(img)
			if colours >= 100 {
				break
			}
		}
	}
	if id == "" {
		t.Fatalf("no window titled %q appeared within 60s; output:\n%s", title, l.out.String())
	}
	if colours < 100 {
		t.Fatalf("the %q window looks blank: %d colours; output:\n%s", title, colours, l.out.String())
	}
	if strings.Contains(l.out.String(), "panic:") {
		t.Fatalf("parley panicked:\n%s", l.out.String())
	}
	t.Logf("window %q (%s): %v, %d colours", title, id, shot.Bounds().Size(), colours)
	return shot
}

// homeDataDir points HOME at a temporary folder and returns the data
// folder Parley takes there by default: the pictures of the window then
// show ~/.local/share/parley in the status bar, as a user sees it, and no
// test's temporary path.
func homeDataDir(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	// ALSA reads the sound setup from home too: without the null device
	// scripts/deps.sh wrote there, the Contacts picture shows the player's
	// "No sound device" warning instead of the player.
	if conf, err := os.ReadFile(filepath.Join(os.Getenv("HOME"), ".asoundrc")); err == nil {
		if err := os.WriteFile(filepath.Join(home, ".asoundrc"), conf, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", "")
	return filepath.Join(home, ".local", "share", "parley")
}

func TestConsoleWindowDraws(t *testing.T) {
	l := launch(t, "--data-dir", homeDataDir(t))
	shot := l.waitForWindow(t, "Parley")
	if b := shot.Bounds(); b.Dx() < 800 || b.Dy() < 500 {
		t.Fatalf("window is %dx%d, want at least 800x500", b.Dx(), b.Dy())
	}
	if dest := os.Getenv("PARLEY_SMOKE_SHOT"); dest != "" {
		saveShot(t, dest, shot)
	}
}

// A damaged database must not leave a desktop user with nothing on screen:
// Parley shows why it cannot start, and leaves the file alone.
func TestDamagedDatabaseShowsStartupError(t *testing.T) {
	dataDir := t.TempDir()
	garbage := bytes.Repeat([]byte("not a database "), 500)
	// With no accounts connected the console starts in demo mode, whose
	// database is in a folder of its own.
	dbPath := filepath.Join(store.ModeDir(dataDir, true), store.DatabaseFile)
	if err := os.MkdirAll(filepath.Dir(dbPath), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dbPath, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	l := launch(t, "--data-dir", dataDir)
	l.waitForWindow(t, "Parley cannot start")
	if after, err := os.ReadFile(dbPath); err != nil || !bytes.Equal(after, garbage) {
		t.Fatalf("the refused file was changed (%v)", err)
	}
}

// lockedBuffer collects a child's output, which exec copies in from its own
// goroutine while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func capture(display, id string) (image.Image, error) {
	raw, err := exec.Command("import", "-display", display, "-window", id, "png:-").Output()
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return png.Decode(bytes.NewReader(raw))
}

func countColours(img image.Image) int {
	seen := make(map[uint32]struct{})
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|bl>>8] = struct{}{}
		}
	}
	return len(seen)
}

func saveShot(t *testing.T, dest string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// withoutDisplay is the environment minus any display variable.
func withoutDisplay() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
			env = append(env, kv)
		}
	}
	return env
}

// deadDisplay returns a $DISPLAY value no X server answers on.
func deadDisplay(t *testing.T) string {
	t.Helper()
	for n := 987; n < 1000; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); os.IsNotExist(err) {
			return fmt.Sprintf(":%d", n)
		}
	}
	t.Skip("no free display number")
	return ""
}

// TestNoDisplayFallsBackToHeadless: without a display, or with a $DISPLAY
// that no X server answers (GLFW used to panic there), the console runs the
// headless sync instead; in demo mode that runs until SIGINT or SIGTERM,
// which stop it cleanly.
func TestNoDisplayFallsBackToHeadless(t *testing.T) {
	bin := binary(t)
	tests := []struct {
		name    string
		args    func(dataDir string) []string
		display string
		want    []string
		signal  syscall.Signal // 0: the run ends by itself
	}{
		{"console without a display", func(d string) []string { return []string{"--data-dir", d} }, "",
			[]string{"No display found", "headless sync", "schema version", "Demo mode", "Summary:"}, syscall.SIGTERM},
		{"console with a dead $DISPLAY", func(d string) []string { return []string{"--data-dir", d} }, deadDisplay(t),
			[]string{"No display found", "no X server answers", "headless sync", "schema version"}, syscall.SIGINT},
		{"sync, flags after the command", func(d string) []string { return []string{"sync", "--data-dir", d, "--demo"} }, "",
			[]string{"schema version", "Demo mode", "Summary:"}, syscall.SIGINT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			cmd := exec.Command(bin, tc.args(dataDir)...)
			cmd.Env = withoutDisplay()
			if tc.display != "" {
				cmd.Env = append(cmd.Env, "DISPLAY="+tc.display)
			}
			var out lockedBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			if tc.signal != 0 {
				waitFor(t, &out, exited, "until interrupted")
				if err := cmd.Process.Signal(tc.signal); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("parley %v: %v\n%s", tc.args(dataDir), err, out.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("parley %v still running 30 s after %v:\n%s", tc.args(dataDir), tc.signal, out.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output does not say %q:\n%s", want, out.String())
				}
			}
			if strings.Contains(out.String(), "panic") {
				t.Errorf("parley panicked:\n%s", out.String())
			}
			// No accounts are connected here, so only --demo=false runs
			// against accounts; demo data has a folder of its own.
			demo := !slices.Contains(tc.args(dataDir), "--demo=false")
			if _, err := os.Stat(filepath.Join(store.ModeDir(dataDir, demo), store.DatabaseFile)); err != nil {
				t.Errorf("headless run (demo %v) did not create its database: %v", demo, err)
			}
		})
	}
}

// waitFor waits until out contains want, failing if the process ends first.
func waitFor(t *testing.T, out *lockedBuffer, exited <-chan error, want string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(out.String(), want); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("parley ended (%v) before saying %q:\n%s", err, want, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("parley did not say %q in 60 s:\n%s", want, out.String())
		}
	}
}

// TestReadOnlyDataFolderShowsStartupError: a data folder on a read-only
// disk used to end Parley with "open log: read-only file system" before any
// window. It must log to stderr instead and show the start-up error window,
// naming the folder. The folder is made read-only by a bind mount in a
// private mount namespace (unshare), which binds root as well.
func TestReadOnlyDataFolderShowsStartupError(t *testing.T) {
	bin := binary(t)
	requireTools(t, "unshare")
	if err := exec.Command("unshare", "-rm", "true").Run(); err != nil {
		t.Skipf("user namespaces are not available: %v", err)
	}
	dataDir := t.TempDir()
	cmd := exec.Command("unshare", "-rm", "sh", "-c",
		`mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && exec "$2" --data-dir "$1"`, "sh", dataDir, bin)
	l := launchCmd(t, cmd)
	l.waitForWindow(t, "Parley cannot start")
	for _, want := range []string{dataDir, "read-only", "--data-dir"} {
		if !strings.Contains(l.out.String(), want) {
			t.Errorf("the output does not say %q:\n%s", want, l.out.String())
		}
	}
}
