package player

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func wavBytes(t testing.TB, rate, channels int, samples []int16) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := EncodeWAV(&b, rate, channels, samples); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func decodeBytes(b []byte) (*Audio, error) {
	return Decode(bytes.NewReader(b), int64(len(b)), "", "")
}

// readAll pulls every frame of a through its source.
func readAll(t *testing.T, a *Audio) []int16 {
	t.Helper()
	var out []int16
	buf := make([]int16, 1000*a.Channels)
	for {
		n, err := a.src.readFrames(buf)
		out = append(out, buf[:n*a.Channels]...)
		if err != nil || n == 0 {
			return out
		}
	}
}

func TestDecodeWAVPCM16(t *testing.T) {
	tone := Tone(8000, 8000*3, 440)
	a, err := decodeBytes(wavBytes(t, 8000, 1, tone))
	if err != nil {
		t.Fatal(err)
	}
	if a.SampleRate != 8000 || a.Channels != 1 || a.Frames != 24000 || a.Duration() != 3*time.Second {
		t.Fatalf("got %d Hz, %d ch, %d frames, %s", a.SampleRate, a.Channels, a.Frames, a.Duration())
	}
	if got := readAll(t, a); !slicesEqual(got, tone) {
		t.Fatal("decoded samples differ from the encoded ones")
	}
}

func TestDecodeWAVEncodings(t *testing.T) {
	// One frame of each encoding, with the int16 it must expand to.
	tests := []struct {
		name   string
		format int
		bits   int
		sample []byte
		want   int16
	}{
		{"pcm8 silence", wavPCM, 8, []byte{128}, 0},
		{"pcm8 max", wavPCM, 8, []byte{255}, 127 << 8},
		{"pcm24", wavPCM, 24, []byte{0xff, 0x34, 0x12}, 0x1234},
		{"pcm32", wavPCM, 32, []byte{0, 0, 0x34, 0x12}, 0x1234},
		{"float half", wavFloat, 32, binary.LittleEndian.AppendUint32(nil, 0x3f000000), 16383},
		{"mu-law zero", wavMuLaw, 8, []byte{0xff}, 0},
		{"mu-law max", wavMuLaw, 8, []byte{0x80}, 32124},
		{"a-law small", wavALaw, 8, []byte{0xd5}, 8},
		{"a-law max negative", wavALaw, 8, []byte{0x2a}, -32256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := rawWAV(tc.format, 1, 8000, tc.bits, bytes.Repeat(tc.sample, 10))
			a, err := decodeBytes(b)
			if err != nil {
				t.Fatal(err)
			}
			if a.Frames != 10 {
				t.Fatalf("%d frames, want 10", a.Frames)
			}
			if got := readAll(t, a); got[0] != tc.want {
				t.Fatalf("sample %d, want %d", got[0], tc.want)
			}
		})
	}
}

// rawWAV builds a WAV file by hand, for encodings EncodeWAV does not write.
func rawWAV(format, channels, rate, bits int, data []byte) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	b.Write(le.AppendUint32(nil, uint32(36+len(data))))
	b.WriteString("WAVEfmt ")
	b.Write(le.AppendUint32(nil, 16))
	b.Write(le.AppendUint16(nil, uint16(format)))
	b.Write(le.AppendUint16(nil, uint16(channels)))
	b.Write(le.AppendUint32(nil, uint32(rate)))
	b.Write(le.AppendUint32(nil, uint32(rate*channels*bits/8)))
	b.Write(le.AppendUint16(nil, uint16(channels*bits/8)))
	b.Write(le.AppendUint16(nil, uint16(bits)))
	b.WriteString("data")
	b.Write(le.AppendUint32(nil, uint32(len(data))))
	b.Write(data)
	return b.Bytes()
}

func TestDecodeRejects(t *testing.T) {
	good := wavBytes(t, 8000, 1, Tone(8000, 800, 440))
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty file", nil, "the file is empty"},
		{"header only", good[:44], "no sound in it"},
		{"cut inside the header", good[:30], "format chunk is cut off"},
		{"not audio", []byte("<html>not found</html>"), "not an MP3 or WAV file"},
		{"three channels", rawWAV(wavPCM, 3, 8000, 16, make([]byte, 60)), "3 channels"},
		{"adpcm", rawWAV(2, 1, 8000, 4, make([]byte, 60)), "encoding 2 with 4-bit samples is not supported"},
		{"zero rate", rawWAV(wavPCM, 1, 0, 16, make([]byte, 60)), "sample rate 0 Hz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeBytes(tc.file)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrInvalid saying %q", err, tc.want)
			}
		})
	}
}

func TestDecodeWAVCutShort(t *testing.T) {
	// A recording cut off while it was written: the header promises 800
	// frames, the file holds 500. It plays what there is.
	b := wavBytes(t, 8000, 1, Tone(8000, 800, 440))
	a, err := decodeBytes(b[:44+1000])
	if err != nil {
		t.Fatal(err)
	}
	if a.Frames != 500 {
		t.Fatalf("%d frames, want the 500 the file holds", a.Frames)
	}
}

// mp3Example is an MP3 file from go-mp3's module, which the module cache
// holds once the module is downloaded.
func mp3Example(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/hajimehoshi/go-mp3").Output()
	if err != nil {
		t.Skipf("go-mp3's module directory: %v", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "example", "mpeg2.mp3")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no example MP3: %v", err)
	}
	return p
}

func TestDecodeMP3(t *testing.T) {
	f, err := os.Open(mp3Example(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	a, err := Decode(f, st.Size(), "audio/mpeg", "call.mp3")
	if err != nil {
		t.Fatal(err)
	}
	if a.Channels != 2 || a.SampleRate <= 0 || a.Duration() < time.Second {
		t.Fatalf("got %d Hz, %d ch, %s", a.SampleRate, a.Channels, a.Duration())
	}
	p := NewPlayback(a)
	p.Seek(a.Duration() / 2)
	p.Play()
	buf := make([]byte, 4*OutputRate/10)
	p.Read(buf)
	if !p.Playing() || p.Err() != nil {
		t.Fatalf("playing=%v err=%v after seeking into the middle", p.Playing(), p.Err())
	}
	if bytes.Count(buf, []byte{0}) == len(buf) {
		t.Fatal("the middle of the MP3 decoded to silence")
	}
}

func FuzzDecodeWAV(f *testing.F) {
	f.Add(wavBytes(f, 8000, 1, Tone(8000, 100, 440)))
	f.Add(wavBytes(f, 44100, 2, Tone(44100, 200, 440)))
	f.Add(rawWAV(wavMuLaw, 1, 8000, 8, []byte{1, 2, 3}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeWAV(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		if a.Frames <= 0 || a.Channels < 1 || a.Channels > 2 {
			t.Fatalf("accepted %d frames, %d channels", a.Frames, a.Channels)
		}
		// Playing it through must end, at or before its length.
		p := NewPlayback(a)
		p.Play()
		buf := make([]byte, 4*4096)
		limit := a.Frames*OutputRate/int64(a.SampleRate)/4096 + 2
		for i := int64(0); p.Playing(); i++ {
			if i > limit {
				t.Fatal("playback never ends")
			}
			p.Read(buf)
		}
		if p.Position() > a.Duration() {
			t.Fatalf("position %s past the length %s", p.Position(), a.Duration())
		}
	})
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
