package player

import (
	"encoding/binary"
	"io"
	"math"
)

// EncodeWAV writes interleaved 16-bit samples as a PCM WAV file. The demo
// data and the tests make their recordings with it.
func EncodeWAV(w io.Writer, rate, channels int, samples []int16) error {
	data := len(samples) * 2
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+data))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], wavPCM)
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*channels*2))
	binary.LittleEndian.PutUint16(h[32:], uint16(channels*2))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(data))
	if _, err := w.Write(h); err != nil {
		return err
	}
	b := make([]byte, data)
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
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
