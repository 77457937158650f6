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

// zeroCrossings counts sign changes of the left channel: twice the
// frequency per second of a tone.
func zeroCrossings(out []byte) int {
	n, prev := 0, int16(0)
	for i := 0; i+4 <= len(out); i += 4 {
		s := int16(binary.LittleEndian.Uint16(out[i:]))
		if s != 0 && prev != 0 && (s > 0) != (prev > 0) {
			n++
		}
		if s != 0 {
			prev = s
		}
	}
	return n
}

func TestPlaybackFasterKeepsThePitch(t *testing.T) {
	for _, speed := range []float64{1.5, 2} {
		p := NewPlayback(toneAudio(t, 16000, 20*time.Second))
		if err := p.SetSpeed(speed); err != nil {
			t.Fatal(err)
		}
		p.Play()
		pull(p, 500*time.Millisecond) // settle
		out := pull(p, time.Second)
		// A 440 Hz tone crosses zero 880 times a second; played faster
		// by resampling it would cross 880×speed times.
		if n := zeroCrossings(out); n < 860 || n > 900 {
			t.Errorf("at %g×: %d zero crossings in 1 s, want about 880 (a 440 Hz tone stays 440 Hz)", speed, n)
		}
		if want := time.Duration(1.5 * speed * float64(time.Second)); !near(p.Position(), want) {
			t.Errorf("at %g×: position %s after 1.5 s of sound, want %s", speed, p.Position(), want)
		}
	}
}

// BenchmarkPlaybackStretch is one second of sound at 2× (an 8 kHz
// recording, the usual for calls): what the device asks for each second.
func BenchmarkPlaybackStretch(b *testing.B) {
	tone := Tone(8000, 8000*600, 440)
	var buf bytes.Buffer
	if err := EncodeWAV(&buf, 8000, 1, tone); err != nil {
		b.Fatal(err)
	}
	a, err := decodeBytes(buf.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	p := NewPlayback(a)
	if err := p.SetSpeed(2); err != nil {
		b.Fatal(err)
	}
	p.Play()
	out := make([]byte, 4*OutputRate)
	for b.Loop() {
		if !p.Playing() {
			p.Seek(0)
			p.Play()
		}
		p.Read(out)
	}
}
