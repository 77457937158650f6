package player

import "math"

// Faster playback keeps voices at their pitch with WSOLA (waveform
// similarity overlap-add): the recording is cut into overlapping 40 ms
// windows taken speed times further apart than they are laid down, and each
// window is shifted by up to 10 ms to where its waveform lines up best with
// the sound already laid down, so the joins do not click or warble.
const (
	stretchWindow = 1920 // 40 ms at OutputRate
	stretchHop    = stretchWindow / 2
	stretchSearch = 480 // ±10 ms, more than half the period of a low voice
	// stretchStride thins the candidates and compareStride the samples
	// compared: speech is smooth at 48 kHz, and a call recorded at 8 kHz
	// has nothing above 4 kHz.
	stretchStride = 2
	compareStride = 4
)

// hann is the window; at 50 % overlap its copies add up to one.
var hann = func() []float32 {
	w := make([]float32, stretchWindow)
	for i := range w {
		w[i] = float32(0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/stretchWindow))
	}
	return w
}()

// stretcher is the WSOLA state of a Playback between hops.
type stretcher struct {
	// tail is the second half of the last window, still to be added to.
	tail [stretchHop][2]float32
	// next is where, in source frames, the last window's natural
	// continuation starts; negative after a seek.
	next float64
	// out is the last hop laid down, handed out a frame at a time.
	out  [stretchHop][2]float32
	used int
	// seg holds the input around the analysis point, at OutputRate.
	seg [][2]float32
	ref [][2]float32
	// monoSeg and monoRef are seg and ref as mono, for the comparison.
	monoSeg, monoRef []float32
}

// mono sums the channels of in into buf.
func mono(buf []float32, in [][2]float32) []float32 {
	buf = buf[:0]
	for _, f := range in {
		buf = append(buf, (f[0]+f[1])/2)
	}
	return buf
}

func newStretcher() *stretcher {
	return &stretcher{next: -1, used: stretchHop}
}

// reset starts over, after a seek or a change of speed.
func (s *stretcher) reset() {
	s.tail = [stretchHop][2]float32{}
	s.next, s.used = -1, stretchHop
}

// frame hands out the next output frame, laying down a hop when the last
// is used up; at is the analysis point in source frames.
func (s *stretcher) frame(p *Playback, at float64) (l, r int16) {
	if s.used == stretchHop {
		s.hop(p, at)
	}
	f := s.out[s.used]
	s.used++
	return clamp16(f[0]), clamp16(f[1])
}

func clamp16(f float32) int16 {
	return int16(max(-32768, min(32767, f)))
}

// hop lays down one window: the one near at that best continues the
// sound already laid down.
func (s *stretcher) hop(p *Playback, at float64) {
	step := float64(p.a.SampleRate) / OutputRate
	start := at
	if s.next >= 0 {
		// Candidates from at-search to at+search, each compared with the
		// natural continuation over the overlap.
		s.ref = p.segment(s.ref, s.next, stretchHop, step)
		s.seg = p.segment(s.seg, at-stretchSearch*step, 2*stretchSearch+stretchHop, step)
		s.monoSeg, s.monoRef = mono(s.monoSeg, s.seg), mono(s.monoRef, s.ref)
		best, bestScore := 0, math.Inf(-1)
		for d := 0; d <= 2*stretchSearch; d += stretchStride {
			var dot, energy float32
			cand := s.monoSeg[d : d+stretchHop]
			for i := 0; i < stretchHop; i += compareStride {
				dot += cand[i] * s.monoRef[i]
				energy += cand[i] * cand[i]
			}
			score := float64(dot) / math.Sqrt(float64(energy)+1)
			if score > bestScore {
				best, bestScore = d, score
			}
		}
		start = at + float64(best-stretchSearch)*step
	}
	s.seg = p.segment(s.seg, start, stretchWindow, step)
	for i := range stretchHop {
		for c := range 2 {
			s.out[i][c] = s.tail[i][c] + s.seg[i][c]*hann[i]
			s.tail[i][c] = s.seg[stretchHop+i][c] * hann[stretchHop+i]
		}
	}
	s.next = start + stretchHop*step
	s.used = 0
}

// segment reads n frames at OutputRate from source position from (silence
// outside the recording) into buf.
func (p *Playback) segment(buf [][2]float32, from float64, n int, step float64) [][2]float32 {
	buf = buf[:0]
	for i := range n {
		x := from + float64(i)*step
		var l, r int16
		if x >= 0 {
			l, r, _ = p.sample(x)
		}
		buf = append(buf, [2]float32{float32(l), float32(r)})
	}
	return buf
}
