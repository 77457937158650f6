package player

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// SeekStep is how far the arrow keys move.
const SeekStep = 5 * time.Second

// Widget is the player: play/pause, a seek bar, position and length, and
// the speed. It has no goroutine of its own: its owner calls Tick on the UI
// goroutine while something plays, so the screen that shows it decides how
// long the updates run. Keys, when it has the focus (or when the owner
// passes them on with TypedKey): space plays and pauses, left and right
// seek by SeekStep.
type Widget struct {
	widget.BaseWidget

	out    Output
	outErr error
	pb     *Playback
	stream Stream

	// OnPosition, if set, hears every position the widget shows: each Tick
	// and each seek, so a transcript can follow.
	OnPosition func(time.Duration)

	play    *widget.Button
	seek    *widget.Slider
	pos     *widget.Label
	speed   *widget.Select
	message *widget.Label
	content fyne.CanvasObject
}

// NewWidget builds an empty player that plays on out; outErr is why there
// is no device (out nil), shown instead of playing.
func NewWidget(out Output, outErr error) *Widget {
	w := &Widget{out: out, outErr: outErr}
	if out == nil && outErr == nil {
		w.outErr = fmt.Errorf("%w: none was opened for this window", ErrNoDevice)
	}
	w.play = widget.NewButtonWithIcon("", theme.MediaPlayIcon(), func() { w.Toggle() })
	w.seek = widget.NewSlider(0, 1)
	w.seek.Step = 0.1
	w.seek.OnChangeEnded = func(v float64) { w.SeekTo(time.Duration(v * float64(time.Second))) }
	w.pos = widget.NewLabel("0:00 / 0:00")
	w.speed = widget.NewSelect([]string{"1×", "1.5×", "2×"}, func(s string) {
		if w.pb == nil {
			return
		}
		var f float64
		if _, err := fmt.Sscanf(strings.TrimSuffix(s, "×"), "%g", &f); err != nil {
			return // only the speeds the selector offers reach here
		}
		if w.pb.SetSpeed(f) == nil {
			w.flush()
		}
	})
	w.speed.SetSelected("1×")
	w.message = widget.NewLabel("")
	w.message.Wrapping = fyne.TextWrapWord
	w.message.Importance = widget.WarningImportance
	w.message.Hide()
	if w.outErr != nil {
		w.showProblem(NoDeviceMessage(w.outErr))
	}
	w.play.Disable()
	w.seek.Disable()
	w.speed.Disable()
	w.content = container.NewBorder(nil, w.message, container.NewHBox(w.play), container.NewHBox(w.pos, w.speed), w.seek)
	w.ExtendBaseWidget(w)
	return w
}

// CreateRenderer draws the controls.
func (w *Widget) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(w.content) }

// Load makes a the recording the player plays, paused at its start, and
// attaches it to the device. Whatever played before stops.
func (w *Widget) Load(a *Audio) {
	w.Unload()
	w.pb = NewPlayback(a)
	w.seek.Max = a.Duration().Seconds()
	w.seek.SetValue(0)
	w.seek.Enable()
	w.speed.Enable()
	w.speed.SetSelected("1×")
	if w.outErr == nil {
		s, err := w.out.Attach(w.pb)
		if err != nil {
			w.outErr = err
			w.showProblem(NoDeviceMessage(err))
		} else {
			w.stream = s
			w.play.Enable()
		}
	}
	w.show()
}

// ShowError says why a recording cannot play (missing, corrupt) and clears
// the player.
func (w *Widget) ShowError(msg string) {
	w.Unload()
	w.showProblem(msg)
}

// Unload stops and forgets the recording.
func (w *Widget) Unload() {
	if w.stream != nil {
		_ = w.stream.Close()
		w.stream = nil
	}
	if w.pb != nil {
		w.pb.Pause()
		w.pb = nil
	}
	w.play.Disable()
	w.seek.Disable()
	w.speed.Disable()
	w.pos.SetText("0:00 / 0:00")
	if w.outErr == nil {
		w.message.Hide()
	}
}

// Playback is the recording loaded, nil if none.
func (w *Widget) Playback() *Playback { return w.pb }

// Problem is the message the player shows instead of playing, "" if none.
func (w *Widget) Problem() string {
	if !w.message.Visible() {
		return ""
	}
	return w.message.Text
}

// Toggle plays or pauses.
func (w *Widget) Toggle() {
	if w.pb == nil || w.stream == nil {
		return
	}
	w.pb.Toggle()
	w.show()
}

// SeekTo moves to d. Without a device it still moves, so a transcript
// click shows where it is.
func (w *Widget) SeekTo(d time.Duration) {
	if w.pb == nil {
		return
	}
	w.pb.Seek(d)
	w.flush()
	w.show()
}

// SeekBy moves by d.
func (w *Widget) SeekBy(d time.Duration) {
	if w.pb == nil {
		return
	}
	w.SeekTo(w.pb.Position() + d)
}

// PlayFrom seeks to d and plays.
func (w *Widget) PlayFrom(d time.Duration) {
	w.SeekTo(d)
	if w.pb != nil && w.stream != nil && !w.pb.Playing() {
		w.Toggle()
	}
}

// SetSpeed picks one of Speeds.
func (w *Widget) SetSpeed(s float64) {
	w.speed.SetSelected(fmt.Sprintf("%g×", s))
}

// Tick brings the controls up to the clock; the owner calls it on the UI
// goroutine, often while playing. It reports whether something plays.
func (w *Widget) Tick() bool {
	if w.pb == nil {
		return false
	}
	if w.stream != nil {
		if err := w.stream.Err(); err != nil {
			// A device that stopped mid-play must not leave a forever
			// "playing" player.
			w.pb.Pause()
			w.stream = nil
			w.outErr = err
			w.play.Disable()
			w.showProblem(NoDeviceMessage(err))
		}
	}
	if err := w.pb.Err(); err != nil {
		w.showProblem(fmt.Sprintf("The recording stopped: %v. The file may be damaged; fetch it again from the History screen.", err))
	}
	w.show()
	return w.pb.Playing()
}

func (w *Widget) flush() {
	if w.stream != nil {
		w.stream.Flush()
	}
}

func (w *Widget) show() {
	if w.pb == nil {
		return
	}
	at := w.pb.Position()
	w.pos.SetText(clock(at) + " / " + clock(w.pb.Duration()))
	w.seek.SetValue(at.Seconds())
	if w.pb.Playing() {
		w.play.SetIcon(theme.MediaPauseIcon())
	} else {
		w.play.SetIcon(theme.MediaPlayIcon())
	}
	if w.OnPosition != nil {
		w.OnPosition(at)
	}
}

func (w *Widget) showProblem(msg string) {
	w.message.SetText(msg)
	w.message.Show()
}

// TypedKey handles the player's keys.
func (w *Widget) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeySpace:
		w.Toggle()
	case fyne.KeyLeft:
		w.SeekBy(-SeekStep)
	case fyne.KeyRight:
		w.SeekBy(SeekStep)
	}
}

// TypedRune is part of fyne.Focusable; the player takes no text.
func (w *Widget) TypedRune(rune) {}

// FocusGained is part of fyne.Focusable.
func (w *Widget) FocusGained() {}

// FocusLost is part of fyne.Focusable.
func (w *Widget) FocusLost() {}

// clock formats d as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Clock formats an offset into a recording as the player shows it.
func Clock(d time.Duration) string { return clock(d) }
