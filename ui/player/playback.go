package player

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"time"
)

// OutputRate is the sample rate the device plays at; every recording is
// resampled to it, so one device serves recordings of any rate.
const OutputRate = 48000

// Speeds the player offers.
var Speeds = []float64{1, 1.5, 2}

// blockFrames is how many source frames are decoded at a time.
const blockFrames = 4096

// Playback is one recording being played: its clock (position, speed,
// playing or not) and the pump that turns it into the device's samples.
// The clock advances only by what the device has read, so Position is
// where the sound is, not where a timer thinks it should be; a device that
// stops reading stops the clock.
//
// At 1× the recording is resampled to the device's rate sample for sample;
// faster speeds keep the pitch by time-stretching it (stretch.go).
//
// Its methods are safe from any goroutine.
type Playback struct {
	mu      sync.Mutex
	a       *Audio
	pos     float64 // in source frames, fractional between two frames
	speed   float64
	playing bool
	err     error

	// blk holds decoded source frames [blkStart, blkStart+blkLen).
	blk      []int16
	blkStart int64
	blkLen   int64
	// srcPos is the next frame the source will yield without a seek.
	srcPos int64
	// st time-stretches at speeds other than 1.
	st *stretcher
}

// NewPlayback prepares a recording to play from its start, paused.
func NewPlayback(a *Audio) *Playback {
	return &Playback{a: a, speed: 1, blk: make([]int16, blockFrames*a.Channels), blkStart: -1, st: newStretcher()}
}

// Audio is the recording.
func (p *Playback) Audio() *Audio { return p.a }

// Duration is the recording's length.
func (p *Playback) Duration() time.Duration { return p.a.Duration() }

// Position is how far the device has played.
func (p *Playback) Position() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.at()
}

func (p *Playback) at() time.Duration {
	return time.Duration(p.pos / float64(p.a.SampleRate) * float64(time.Second))
}

// Playing reports whether the recording is playing; it turns false by
// itself at the end and when decoding fails.
func (p *Playback) Playing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.playing
}

// Err is why playback stopped early, if it did: a recording that turned out
// corrupt part-way through.
func (p *Playback) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Speed is the playback speed, 1 for normal.
func (p *Playback) Speed() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.speed
}

// Play starts or resumes playing; at the end it starts over.
func (p *Playback) Play() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return
	}
	if int64(p.pos) >= p.a.Frames {
		p.pos = 0
	}
	p.playing = true
}

// Pause stops playing and keeps the position.
func (p *Playback) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.playing = false
}

// Toggle plays a paused recording and pauses a playing one, and reports
// whether it now plays.
func (p *Playback) Toggle() bool {
	if p.Playing() {
		p.Pause()
		return false
	}
	p.Play()
	return p.Playing()
}

// Seek moves to d, kept within the recording.
func (p *Playback) Seek(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := d.Seconds() * float64(p.a.SampleRate)
	p.pos = max(0, min(f, float64(p.a.Frames)))
	p.st.reset()
}

// SeekBy moves by d from the current position (negative is back).
func (p *Playback) SeekBy(d time.Duration) {
	p.mu.Lock()
	at := p.at()
	p.mu.Unlock()
	p.Seek(at + d)
}

// SetSpeed sets the speed, one of Speeds.
func (p *Playback) SetSpeed(s float64) error {
	for _, ok := range Speeds {
		if s == ok {
			p.mu.Lock()
			if s != p.speed {
				p.speed = s
				p.st.reset()
			}
			p.mu.Unlock()
			return nil
		}
	}
	return fmt.Errorf("speed %g× is not offered: choose 1×, 1.5× or 2×", s)
}

// Read is what the device reads: 16-bit little-endian stereo at
// OutputRate. It never ends; while paused or past the end it gives silence,
// so the device keeps its stream open and resumes without a gap.
func (p *Playback) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(b) / 4
	step := float64(p.a.SampleRate) / OutputRate
	for i := 0; i < n; i++ {
		var l, r int16
		if p.playing {
			var ok bool
			l, r, ok = p.sample(p.pos)
			if ok && p.speed != 1 {
				l, r = p.st.frame(p, p.pos)
			}
			if ok {
				p.pos += step * p.speed
			} else {
				p.playing = false
				if p.err == nil {
					p.pos = float64(p.a.Frames)
				}
			}
		}
		binary.LittleEndian.PutUint16(b[4*i:], uint16(l))
		binary.LittleEndian.PutUint16(b[4*i+2:], uint16(r))
	}
	return n * 4, nil
}

// sample is the stereo sample at fractional frame pos, interpolated
// linearly between its two neighbours; false past the end or on a decode
// error (recorded in p.err).
func (p *Playback) sample(pos float64) (l, r int16, ok bool) {
	f := int64(pos)
	if f >= p.a.Frames {
		return 0, 0, false
	}
	l0, r0, ok := p.frame(f)
	if !ok {
		return 0, 0, false
	}
	l1, r1, ok := p.frame(f + 1)
	if !ok {
		l1, r1 = l0, r0
	}
	t := pos - float64(f)
	return int16(float64(l0) + t*float64(l1-l0)), int16(float64(r0) + t*float64(r1-r0)), true
}

// frame is source frame f, decoding the block that holds it.
func (p *Playback) frame(f int64) (l, r int16, ok bool) {
	if f >= p.a.Frames || p.err != nil {
		return 0, 0, false
	}
	if f < p.blkStart || f >= p.blkStart+p.blkLen {
		if f != p.srcPos {
			if err := p.a.src.seekFrame(f); err != nil {
				p.err = fmt.Errorf("seek the recording: %w", err)
				return 0, 0, false
			}
		}
		n, err := p.a.src.readFrames(p.blk)
		if n == 0 {
			if err == nil || err == io.EOF {
				// The header promised more frames than the file holds.
				p.a.Frames = f
				return 0, 0, false
			}
			p.err = fmt.Errorf("decode the recording at %s: %w", time.Duration(float64(f)/float64(p.a.SampleRate)*float64(time.Second)).Round(time.Second), err)
			return 0, 0, false
		}
		p.blkStart, p.blkLen, p.srcPos = f, int64(n), f+int64(n)
	}
	i := int(f-p.blkStart) * p.a.Channels
	l = p.blk[i]
	r = l
	if p.a.Channels == 2 {
		r = p.blk[i+1]
	}
	return l, r, true
}
