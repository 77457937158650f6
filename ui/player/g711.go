package player

import "math"

// Telephone recordings are often G.711 (A-law or µ-law) WAV files; these
// expand one 8-bit sample to linear 16-bit, as ITU-T G.711 specifies.

func muLaw(u byte) int16 {
	u = ^u
	t := (int(u&0x0F) << 3) + 0x84
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(0x84 - t) // #nosec G115 -- G.711 expands to -32124..32124
	}
	return int16(t - 0x84) // #nosec G115 -- G.711 expands to -32124..32124
}

func aLaw(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	seg := int(a&0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

func float32frombits(b uint32) float32 {
	f := math.Float32frombits(b)
	if f != f { // NaN
		return 0
	}
	return f
}
