package demobiz

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"time"
)

// SampleRate is the recordings' rate: telephone quality, 16-bit mono.
const SampleRate = 8000

// WAVSize is the exact byte size of the recording RenderWAV writes for a
// call, so servers can send Content-Length before rendering.
func WAVSize(c *Call) int64 {
	return 44 + 2*samplesFor(c.Duration)
}

func samplesFor(d time.Duration) int64 {
	return int64(d) * SampleRate / int64(time.Second)
}

// RenderWAV writes the call's recording as a RIFF/WAVE file (PCM, 8 kHz,
// 16-bit, mono). Speech is stood in for by voiced tones, one syllable-like
// pulse per word, placed exactly at the transcript's sentence times (agent
// lower, customer higher) with silence between, so a player's position and
// the transcript line up. It streams: memory use does not grow with length.
func RenderWAV(w io.Writer, c *Call) error {
	n := samplesFor(c.Duration)
	if n < 0 || 36+2*n > math.MaxUint32 {
		return fmt.Errorf("demobiz: a %s call does not fit a WAV file (at most about 74 hours at %d Hz)", c.Duration, SampleRate)
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	hdr := make([]byte, 44)
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(36+2*n)) // #nosec G115 -- checked above
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1) // PCM
	binary.LittleEndian.PutUint16(hdr[22:], 1) // mono
	binary.LittleEndian.PutUint32(hdr[24:], SampleRate)
	binary.LittleEndian.PutUint32(hdr[28:], SampleRate*2)
	binary.LittleEndian.PutUint16(hdr[32:], 2)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], uint32(2*n)) // #nosec G115 -- checked above
	if _, err := bw.Write(hdr); err != nil {
		return err
	}
	var buf [2]byte
	si := 0
	for i := range n {
		t := time.Duration(i * int64(time.Second) / SampleRate)
		for si < len(c.Sentences) && t >= c.Sentences[si].End {
			si++
		}
		var v float64
		if si < len(c.Sentences) && t >= c.Sentences[si].Start {
			v = voice(c.Sentences[si], t)
		}
		binary.LittleEndian.PutUint16(buf[:], uint16(int16(v*12000))) // #nosec G115 -- two's complement bits of a signed sample, as WAV stores them
		if _, err := bw.Write(buf[:]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func voice(s Sentence, t time.Duration) float64 {
	f0 := 140.0
	if s.Speaker == "customer" {
		f0 = 210.0
	}
	sec := (t - s.Start).Seconds()
	// A pulse per word (385 ms) shapes the tone like syllables.
	envelope := math.Pow(math.Sin(math.Pi*math.Mod(sec, 0.385)/0.385), 2)
	x := 2 * math.Pi * f0 * t.Seconds()
	return envelope * (0.6*math.Sin(x) + 0.3*math.Sin(2*x) + 0.1*math.Sin(3*x))
}

// AttachmentBytes returns the content of one of Attachments: real files of
// their type (a PNG, a JPEG, a one-page PDF, a short WAV), small enough for
// any upload limit.
func AttachmentBytes(name string) ([]byte, error) {
	var b bytes.Buffer
	switch name {
	case "site-photo.png", "floor-plan.jpg":
		img := image.NewRGBA(image.Rect(0, 0, 160, 120))
		for y := range 120 {
			for x := range 160 {
				img.Set(x, y, color.RGBA{uint8(x + 60), uint8(y + 90), 170, 255})
			}
		}
		if name == "site-photo.png" {
			if err := png.Encode(&b, img); err != nil {
				return nil, err
			}
		} else if err := jpeg.Encode(&b, img, nil); err != nil {
			return nil, err
		}
	case "quote.pdf", "invoice-104.pdf":
		writePDF(&b, name)
	case "voice-note.wav":
		c := &Call{Duration: 2 * time.Second, Sentences: []Sentence{{Speaker: "customer", Text: "Call me back please", Start: 200 * time.Millisecond, End: 1800 * time.Millisecond}}}
		if err := RenderWAV(&b, c); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("demobiz: no attachment named %q", name)
	}
	return b.Bytes(), nil
}

// writePDF writes a minimal valid one-page PDF with a title line.
func writePDF(b *bytes.Buffer, title string) {
	content := fmt.Sprintf("BT /F1 18 Tf 72 720 Td (Harbourview Renovations - %s) Tj ET", title)
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
}
