//go:build cgo

package player

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests play through ALSA. The machines that run them have no sound
// card; scripts/deps.sh gives them the ALSA null device (~/.asoundrc), which
// discards sound as fast as it is written (a second plays in milliseconds),
// so these tests check where playback ends, not how long it takes.

func TestDevicePlaysToTheEnd(t *testing.T) {
	if os.Getenv("PARLEY_NO_DEVICE_CHILD") != "" {
		t.Skip("running as the no-device child")
	}
	d, err := OpenDevice(context.Background())
	if err != nil {
		t.Skipf("no sound device here, not even ALSA's null device: %v", err)
	}
	p := NewPlayback(toneAudio(t, 8000, time.Second))
	s, err := d.Attach(p)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	p.Play()
	deadline := time.After(10 * time.Second)
	for p.Playing() {
		select {
		case <-deadline:
			t.Fatalf("still playing after 10 s at %s (device error %v)", p.Position(), s.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if p.Position() != time.Second || s.Err() != nil || p.Err() != nil {
		t.Fatalf("ended at %s, device error %v, playback error %v", p.Position(), s.Err(), p.Err())
	}
	t.Logf("1 s of sound played in %s", time.Since(start))
	// Seeking back and playing again works on the same stream.
	p.Seek(500 * time.Millisecond)
	s.Flush()
	p.Play()
	for p.Playing() {
		time.Sleep(10 * time.Millisecond)
	}
	if p.Position() != time.Second {
		t.Fatalf("second play ended at %s", p.Position())
	}
}

// TestNoDevice runs itself in a child process whose ALSA configuration has
// no devices at all, as on a server or a computer without a sound card:
// opening the device must fail with ErrNoDevice, at once.
func TestNoDevice(t *testing.T) {
	if os.Getenv("PARLEY_NO_DEVICE_CHILD") != "" {
		start := time.Now()
		_, err := OpenDevice(context.Background())
		if !errors.Is(err, ErrNoDevice) {
			t.Fatalf("OpenDevice: %v, want ErrNoDevice", err)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("took %s to fail", time.Since(start))
		}
		msg := NoDeviceMessage(err)
		if !strings.HasPrefix(msg, "No sound device: ") || !strings.Contains(msg, "the transcript still works") {
			t.Fatalf("message %q", msg)
		}
		return
	}
	conf := filepath.Join(t.TempDir(), "alsa.conf")
	if err := os.WriteFile(conf, []byte("pcm.!default { type hw card 9 }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoDevice$", "-test.v")
	cmd.Env = append(os.Environ(), "PARLEY_NO_DEVICE_CHILD=1", "ALSA_CONFIG_PATH="+conf)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestNoDevice") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
