package player

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

func toneAudio(t *testing.T, rate int, d time.Duration) *Audio {
	t.Helper()
	b := wavBytes(t, rate, 1, Tone(rate, int(d.Seconds()*float64(rate)), 440))
	a, err := decodeBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// pull reads d of output from p, as the device would.
func pull(p *Playback, d time.Duration) []byte {
	b := make([]byte, 4*int(d.Seconds()*OutputRate))
	p.Read(b)
	return b
}

func near(got, want time.Duration) bool {
	diff := got - want
	return diff > -time.Millisecond && diff < time.Millisecond
}

func TestPlaybackClockFollowsTheDevice(t *testing.T) {
	p := NewPlayback(toneAudio(t, 8000, 10*time.Second))
	pull(p, time.Second)
	if p.Position() != 0 {
		t.Fatalf("paused playback moved to %s", p.Position())
	}
	p.Play()
	pull(p, 2*time.Second)
	if !near(p.Position(), 2*time.Second) {
		t.Fatalf("after 2 s of output at 1×: %s", p.Position())
	}
	if err := p.SetSpeed(2); err != nil {
		t.Fatal(err)
	}
	pull(p, time.Second)
	if !near(p.Position(), 4*time.Second) {
		t.Fatalf("after 1 s more at 2×: %s, want 4s", p.Position())
	}
	if err := p.SetSpeed(1.5); err != nil {
		t.Fatal(err)
	}
	pull(p, 2*time.Second)
	if !near(p.Position(), 7*time.Second) {
		t.Fatalf("after 2 s more at 1.5×: %s, want 7s", p.Position())
	}
	if err := p.SetSpeed(3); err == nil {
		t.Fatal("3× accepted")
	}
}

func TestPlaybackSeekAndEnd(t *testing.T) {
	p := NewPlayback(toneAudio(t, 16000, 10*time.Second))
	p.Seek(8 * time.Second)
	p.Play()
	p.SeekBy(-5 * time.Second)
	if !near(p.Position(), 3*time.Second) {
		t.Fatalf("seek back 5 s from 8 s: %s", p.Position())
	}
	p.SeekBy(time.Hour)
	if p.Position() != 10*time.Second {
		t.Fatalf("seek past the end: %s", p.Position())
	}
	p.Seek(9 * time.Second)
	out := pull(p, 2*time.Second)
	if p.Playing() {
		t.Fatal("still playing after the end")
	}
	if p.Position() != 10*time.Second {
		t.Fatalf("ended at %s, want the length", p.Position())
	}
	// The second of output after the end is silence.
	if tail := out[len(out)/2+400:]; !bytes.Equal(tail, make([]byte, len(tail))) {
		t.Fatal("sound after the end of the recording")
	}
	// Play at the end starts over.
	p.Play()
	if p.Position() != 0 || !p.Playing() {
		t.Fatalf("play at the end: position %s playing %v", p.Position(), p.Playing())
	}
}

func TestPlaybackSoundsLikeTheRecording(t *testing.T) {
	// A 48 kHz recording plays sample for sample at 1×.
	rate := OutputRate
	tone := Tone(rate, rate, 440)
	a, err := decodeBytes(wavBytes(t, rate, 1, tone))
	if err != nil {
		t.Fatal(err)
	}
	p := NewPlayback(a)
	p.Seek(500 * time.Millisecond)
	p.Play()
	out := pull(p, 100*time.Millisecond)
	for i := 0; i < 4800; i++ {
		l := int16(binary.LittleEndian.Uint16(out[4*i:]))
		r := int16(binary.LittleEndian.Uint16(out[4*i+2:]))
		if want := tone[rate/2+i]; l != want || r != want {
			t.Fatalf("frame %d: %d/%d, want %d on both sides", i, l, r, want)
		}
	}
}

func TestPlaybackToggle(t *testing.T) {
	p := NewPlayback(toneAudio(t, 8000, time.Second))
	if !p.Toggle() || !p.Playing() {
		t.Fatal("toggle did not start playing")
	}
	if p.Toggle() || p.Playing() {
		t.Fatal("toggle did not pause")
	}
}
