package player

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeMP3 feeds Decode any bytes as an MP3 recording, the way the
// console opens one HighLevel sent (a content type of audio/mpeg, which
// sends everything that is not RIFF to go-mp3). A bad file is refused
// with ErrInvalid, never a panic; a file that is accepted plays through
// to an end at or before its length, from the start and from a seek.
func FuzzDecodeMP3(f *testing.F) {
	// The first frames of go-mp3's own example, when the module cache has
	// it: a real MPEG-2 layer III stream for the fuzzer to mutate.
	if p := mp3ExampleFile(); p != "" {
		if fh, err := os.Open(p); err == nil {
			head := make([]byte, 3000)
			n, _ := io.ReadFull(fh, head)
			fh.Close()
			f.Add(head[:n])
		}
	}
	f.Add([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte{0xFF, 0xFB, 0x90, 0x64, 0x00, 0x00, 0x00, 0x00})
	f.Add([]byte{0xFF, 0xF3, 0x48, 0xC4})
	f.Add([]byte("not audio at all"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Decode(bytes.NewReader(b), int64(len(b)), "audio/mpeg", "call.mp3")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if a.Frames <= 0 || a.SampleRate <= 0 || a.Channels != 2 {
			t.Fatalf("accepted %d frames at %d Hz, %d channels", a.Frames, a.SampleRate, a.Channels)
		}
		for _, from := range []time.Duration{0, a.Duration() / 2} {
			p := NewPlayback(a)
			p.Seek(from)
			p.Play()
			buf := make([]byte, 4*4096)
			limit := a.Frames*OutputRate/int64(a.SampleRate)/4096 + 2
			for i := int64(0); p.Playing(); i++ {
				if i > limit {
					t.Fatal("playback never ends")
				}
				p.Read(buf)
			}
			if err := p.Err(); err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("playback stopped with %v, which is not ErrInvalid", err)
			}
			if p.Position() > a.Duration() {
				t.Fatalf("position %s past the length %s", p.Position(), a.Duration())
			}
		}
	})
}

// mp3ExampleFile is the path of go-mp3's example MPEG-2 file in the module
// cache, or "" when it is not there.
func mp3ExampleFile() string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hajimehoshi/go-mp3").Output()
	if err != nil {
		return ""
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "example", "mpeg2.mp3")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}
