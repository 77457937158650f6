package player

import (
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// handOutput is a device the test turns by hand: it reads from the
// attached playback only when the test says so.
type handOutput struct {
	p       *Playback
	flushes int
	err     error
}

func (h *handOutput) Attach(p *Playback) (Stream, error) { h.p = p; return h, nil }
func (h *handOutput) Flush()                             { h.flushes++ }
func (h *handOutput) Err() error                         { return h.err }
func (h *handOutput) Close() error                       { return nil }

func TestWidgetControls(t *testing.T) {
	test.NewTempApp(t)
	out := &handOutput{}
	w := NewWidget(out, nil)
	test.NewTempWindow(t, w)
	w.Load(toneAudio(t, 8000, 20*time.Second))
	var heard time.Duration
	w.OnPosition = func(d time.Duration) { heard = d }

	test.Tap(w.play)
	if !w.Playback().Playing() {
		t.Fatal("play did not start")
	}
	pull(out.p, 3*time.Second)
	w.Tick()
	if w.pos.Text != "0:03 / 0:20" || heard != 3*time.Second {
		t.Fatalf("position label %q, heard %s", w.pos.Text, heard)
	}
	w.TypedKey(&fyne.KeyEvent{Name: fyne.KeyRight})
	if !near(w.Playback().Position(), 8*time.Second) || out.flushes == 0 {
		t.Fatalf("right arrow: %s, %d flushes", w.Playback().Position(), out.flushes)
	}
	w.TypedKey(&fyne.KeyEvent{Name: fyne.KeyLeft})
	w.TypedKey(&fyne.KeyEvent{Name: fyne.KeyLeft})
	if !near(w.Playback().Position(), 0) {
		t.Fatalf("two left arrows from 8 s: %s", w.Playback().Position())
	}
	w.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	if w.Playback().Playing() {
		t.Fatal("space did not pause")
	}
	w.SetSpeed(2)
	if w.Playback().Speed() != 2 {
		t.Fatalf("speed %g", w.Playback().Speed())
	}
	w.PlayFrom(10 * time.Second)
	pull(out.p, time.Second)
	if !w.Tick() || !near(heard, 12*time.Second) || w.seek.Value < 11.99 || w.seek.Value > 12.01 {
		t.Fatalf("1 s at 2× from 10 s: heard %s, bar at %g", heard, w.seek.Value)
	}
}

func TestWidgetWithoutDevice(t *testing.T) {
	test.NewTempApp(t)
	w := NewWidget(nil, errors.New(`oto: ALSA error at snd_pcm_open: "default": No such file or directory`))
	test.NewTempWindow(t, w)
	w.Load(toneAudio(t, 8000, 20*time.Second))
	if !strings.HasPrefix(w.Problem(), "No sound device: oto: ALSA error") || !w.play.Disabled() {
		t.Fatalf("problem %q, play disabled %v", w.Problem(), w.play.Disabled())
	}
	w.Toggle()
	if w.Playback().Playing() {
		t.Fatal("plays without a device")
	}
	// Seeking still works, so the transcript can follow clicks.
	w.SeekTo(7 * time.Second)
	if w.pos.Text != "0:07 / 0:20" {
		t.Fatalf("label %q", w.pos.Text)
	}
}

func TestWidgetDeviceLostWhilePlaying(t *testing.T) {
	test.NewTempApp(t)
	out := &handOutput{}
	w := NewWidget(out, nil)
	test.NewTempWindow(t, w)
	w.Load(toneAudio(t, 8000, 20*time.Second))
	w.Toggle()
	out.err = errors.New("device unplugged")
	if w.Tick() || w.Playback().Playing() {
		t.Fatal("still playing after the device failed")
	}
	if !strings.Contains(w.Problem(), "device unplugged") {
		t.Fatalf("problem %q", w.Problem())
	}
}
