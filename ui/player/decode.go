// Package player plays call recordings in the console: it decodes WAV and
// MP3 files, keeps the playback clock (position, speed, play/pause) apart
// from the sound device, and draws the player widget.
//
// The split matters: Playback is the clock and the sample pump, testable
// without any device by reading from it as the device would; Device feeds a
// Playback to the computer's speakers through oto. A computer without a
// sound device still shows the recording's length and its transcript, and
// the player says why it cannot play instead of pretending to.
package player

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hajimehoshi/go-mp3"
)

// ErrInvalid is matched (errors.Is) by every error for a file that is not a
// recording Parley can play: empty, truncated, corrupt or of an unsupported
// encoding.
var ErrInvalid = errors.New("not a playable recording")

// Audio is a decoded recording: seekable 16-bit frames at its own sample
// rate, decoded a block at a time, so an hour-long call does not sit in
// memory.
type Audio struct {
	// SampleRate is frames per second.
	SampleRate int
	// Channels is 1 or 2.
	Channels int
	// Frames is the recording's length in frames.
	Frames int64
	src    pcmSource
}

// Duration is the recording's length.
func (a *Audio) Duration() time.Duration {
	return time.Duration(a.Frames) * time.Second / time.Duration(a.SampleRate)
}

// pcmSource reads a recording's frames as interleaved int16.
type pcmSource interface {
	// readFrames fills dst (a whole number of frames) from the current
	// position and returns how many frames it read; io.EOF at the end.
	readFrames(dst []int16) (int, error)
	// seekFrame moves the position to frame f.
	seekFrame(f int64) error
}

// Decode reads a recording, choosing the decoder by content type or file
// name and falling back to the file's first bytes.
func Decode(r io.ReaderAt, size int64, contentType, name string) (*Audio, error) {
	var head [4]byte
	n, _ := r.ReadAt(head[:], 0)
	kind := strings.ToLower(contentType + " " + name)
	switch {
	case size == 0:
		return nil, fmt.Errorf("%w: the file is empty (0 bytes)", ErrInvalid)
	case string(head[:n]) == "RIFF":
		return DecodeWAV(r, size)
	case strings.Contains(kind, "wav"):
		return DecodeWAV(r, size)
	default:
		// MP3 has no reliable magic (an ID3 tag or a bare frame sync), so
		// anything that is not RIFF is tried as MP3.
		return DecodeMP3(r, size)
	}
}

// WAV encodings (the fmt chunk's format tag).
const (
	wavPCM        = 1
	wavFloat      = 3
	wavALaw       = 6
	wavMuLaw      = 7
	wavExtensible = 0xFFFE
)

// DecodeWAV reads a RIFF WAVE file: PCM of 8, 16, 24 or 32 bits, 32-bit
// float, or the telephone encodings A-law and µ-law, mono or stereo. A data
// chunk longer than the file (a recording cut off while it was written) is
// read as far as it goes.
func DecodeWAV(r io.ReaderAt, size int64) (*Audio, error) {
	var hdr [12]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("%w: WAV file of %d bytes is shorter than its header", ErrInvalid, size)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: not a WAV file (no RIFF/WAVE header)", ErrInvalid)
	}
	var (
		format, channels, bits, align int
		rate                          int
		haveFmt                       bool
		dataOff, dataLen              int64 = -1, 0
	)
	for off := int64(12); off+8 <= size; {
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], off); err != nil {
			break
		}
		id, n := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		body := off + 8
		switch id {
		case "fmt ":
			if n < 16 {
				return nil, fmt.Errorf("%w: WAV format chunk of %d bytes is too short", ErrInvalid, n)
			}
			f := make([]byte, min(n, 40))
			if _, err := r.ReadAt(f, body); err != nil {
				return nil, fmt.Errorf("%w: WAV format chunk is cut off", ErrInvalid)
			}
			format = int(binary.LittleEndian.Uint16(f[0:2]))
			channels = int(binary.LittleEndian.Uint16(f[2:4]))
			rate = int(binary.LittleEndian.Uint32(f[4:8]))
			align = int(binary.LittleEndian.Uint16(f[12:14]))
			bits = int(binary.LittleEndian.Uint16(f[14:16]))
			if format == wavExtensible && len(f) >= 26 {
				format = int(binary.LittleEndian.Uint16(f[24:26])) // the sub-format GUID starts with the tag
			}
			haveFmt = true
		case "data":
			dataOff, dataLen = body, min(n, size-body)
		}
		if haveFmt && dataOff >= 0 {
			break
		}
		off = body + n + n&1 // chunks are padded to an even length
	}
	switch {
	case !haveFmt:
		return nil, fmt.Errorf("%w: WAV file has no format chunk", ErrInvalid)
	case dataOff < 0:
		return nil, fmt.Errorf("%w: WAV file has no data chunk", ErrInvalid)
	case channels < 1 || channels > 2:
		return nil, fmt.Errorf("%w: WAV file has %d channels; Parley plays mono and stereo", ErrInvalid, channels)
	case rate < 1000 || rate > 384000:
		return nil, fmt.Errorf("%w: WAV sample rate %d Hz is out of range", ErrInvalid, rate)
	}
	conv, width, err := wavConverter(format, bits)
	if err != nil {
		return nil, err
	}
	if align != width*channels {
		align = width * channels // a wrong block align field is common and harmless
	}
	frames := dataLen / int64(align)
	if frames == 0 {
		return nil, fmt.Errorf("%w: the recording has no sound in it (0 samples)", ErrInvalid)
	}
	return &Audio{SampleRate: rate, Channels: channels, Frames: frames,
		src: &wavSource{r: r, off: dataOff, frames: frames, align: align, width: width, conv: conv}}, nil
}

// wavConverter returns how to turn one sample of the encoding into int16,
// and the sample's width in bytes.
func wavConverter(format, bits int) (func([]byte) int16, int, error) {
	switch {
	case format == wavPCM && bits == 8:
		return func(b []byte) int16 { return int16(int(b[0])-128) << 8 }, 1, nil // #nosec G115 -- -128..127 fits
	case format == wavPCM && bits == 16:
		return func(b []byte) int16 { return int16(binary.LittleEndian.Uint16(b)) }, 2, nil // #nosec G115 -- reinterprets the two's-complement sample
	case format == wavPCM && bits == 24:
		return func(b []byte) int16 { return int16(uint16(b[1]) | uint16(b[2])<<8) }, 3, nil // #nosec G115 -- the top 16 bits, reinterpreted
	case format == wavPCM && bits == 32:
		return func(b []byte) int16 { return int16(binary.LittleEndian.Uint32(b) >> 16) }, 4, nil // #nosec G115 -- the top 16 bits, reinterpreted
	case format == wavFloat && bits == 32:
		return func(b []byte) int16 {
			f := float32frombits(binary.LittleEndian.Uint32(b))
			return int16(max(-1, min(1, f)) * 32767)
		}, 4, nil
	case format == wavMuLaw && bits == 8:
		return func(b []byte) int16 { return muLaw(b[0]) }, 1, nil
	case format == wavALaw && bits == 8:
		return func(b []byte) int16 { return aLaw(b[0]) }, 1, nil
	}
	return nil, 0, fmt.Errorf("%w: WAV encoding %d with %d-bit samples is not supported (PCM, float, A-law and µ-law are)", ErrInvalid, format, bits)
}

type wavSource struct {
	r      io.ReaderAt
	off    int64
	frames int64
	align  int
	width  int
	conv   func([]byte) int16
	pos    int64
	buf    []byte
}

func (w *wavSource) readFrames(dst []int16) (int, error) {
	ch := w.align / w.width
	n := min(int64(len(dst)/ch), w.frames-w.pos)
	if n <= 0 {
		return 0, io.EOF
	}
	need := int(n) * w.align
	if cap(w.buf) < need {
		w.buf = make([]byte, need)
	}
	b := w.buf[:need]
	got, err := w.r.ReadAt(b, w.off+w.pos*int64(w.align))
	n = int64(got / w.align)
	for i := 0; i < int(n)*ch; i++ {
		dst[i] = w.conv(b[i*w.width:])
	}
	w.pos += n
	if n == 0 {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	return int(n), nil
}

func (w *wavSource) seekFrame(f int64) error {
	w.pos = max(0, min(f, w.frames))
	return nil
}

// DecodeMP3 reads an MP3 file (MPEG-1, 2 or 2.5 layer III) through go-mp3,
// which always yields stereo.
func DecodeMP3(r io.ReaderAt, size int64) (a *Audio, err error) {
	defer func() {
		// go-mp3 panics on some malformed frames; a bad file must not take
		// the console down with it.
		if p := recover(); p != nil {
			a, err = nil, fmt.Errorf("%w: MP3 data is corrupt (%v)", ErrInvalid, p)
		}
	}()
	d, err := mp3.NewDecoder(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, fmt.Errorf("%w: not an MP3 or WAV file (%v)", ErrInvalid, err)
	}
	frames := d.Length() / 4
	if frames <= 0 {
		return nil, fmt.Errorf("%w: the recording has no sound in it (0 samples)", ErrInvalid)
	}
	if d.SampleRate() <= 0 {
		return nil, fmt.Errorf("%w: MP3 sample rate %d Hz", ErrInvalid, d.SampleRate())
	}
	return &Audio{SampleRate: d.SampleRate(), Channels: 2, Frames: frames, src: &mp3Source{d: d}}, nil
}

type mp3Source struct {
	d   *mp3.Decoder
	buf []byte
}

func (m *mp3Source) readFrames(dst []int16) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			n, err = 0, fmt.Errorf("%w: MP3 data is corrupt (%v)", ErrInvalid, p)
		}
	}()
	need := len(dst) / 2 * 4
	if cap(m.buf) < need {
		m.buf = make([]byte, need)
	}
	b := m.buf[:need]
	got, err := io.ReadFull(m.d, b)
	got -= got % 4
	for i := 0; i < got/2; i++ {
		dst[i] = int16(binary.LittleEndian.Uint16(b[2*i:])) // #nosec G115 -- reinterprets the two's-complement sample
	}
	if got > 0 {
		return got / 4, nil
	}
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return 0, err
}

func (m *mp3Source) seekFrame(f int64) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: MP3 data is corrupt (%v)", ErrInvalid, p)
		}
	}()
	_, err = m.d.Seek(f*4, io.SeekStart)
	return err
}
