package player

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// EncodeWAV writes interleaved 16-bit samples as a PCM WAV file. The demo
// data and the tests make their recordings with it.
func EncodeWAV(w io.Writer, rate, channels int, samples []int16) error {
	data := len(samples) * 2
	// A WAV header holds sizes in 32 bits and the channel count in 16.
	if channels < 1 || channels > 16 || rate < 1 || rate > 768_000 || data > math.MaxUint32-36 {
		return fmt.Errorf("encode WAV: %d channels at %d Hz and %d bytes do not fit a WAV header", channels, rate, data)
	}
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+data)) // #nosec G115 -- bounded above
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], wavPCM)
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))        // #nosec G115 -- bounded above
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))            // #nosec G115 -- bounded above
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*channels*2)) // #nosec G115 -- bounded above
	binary.LittleEndian.PutUint16(h[32:], uint16(channels*2))      // #nosec G115 -- bounded above
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(data)) // #nosec G115 -- bounded above
	if _, err := w.Write(h); err != nil {
		return err
	}
	b := make([]byte, data)
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s)) // #nosec G115 -- writes the two's-complement sample
	}
	_, err := w.Write(b)
	return err
}

// Tone is a mono sine of hz lasting frames frames at rate, for demo
// recordings and tests.
func Tone(rate int, frames int, hz float64) []int16 {
	s := make([]int16, frames)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return s
}
