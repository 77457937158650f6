//go:build cgo || windows || darwin

package player

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ebitengine/oto/v3"
)

// Device is the computer's sound output. Open it once per process (the
// audio library allows one) and share it.
type Device struct {
	ctx *oto.Context
}

// OpenDevice opens the default sound device for 16-bit stereo at
// OutputRate. Without one (no sound card, no audio server) it fails with an
// error matching ErrNoDevice, which NoDeviceMessage turns into what the
// player says.
func OpenDevice(ctx context.Context) (*Device, error) {
	c, ready, err := oto.NewContext(&oto.NewContextOptions{
		SampleRate:   OutputRate,
		ChannelCount: 2,
		Format:       oto.FormatSignedInt16LE,
		// Small enough that a seek is heard within a tenth of a second.
		BufferSize: 100 * time.Millisecond,
	})
	if err != nil {
		return nil, noDevice(err)
	}
	select {
	case <-ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("open the sound device: %w", ctx.Err())
	}
	if err := c.Err(); err != nil {
		return nil, noDevice(err)
	}
	return &Device{ctx: c}, nil
}

func noDevice(err error) error { return fmt.Errorf("%w: %w", ErrNoDevice, err) }

// Attach starts the device reading p.
func (d *Device) Attach(p *Playback) (Stream, error) {
	if err := d.ctx.Err(); err != nil {
		return nil, noDevice(err)
	}
	pl := d.ctx.NewPlayer(flushable{p})
	pl.Play()
	return &deviceStream{p: pl}, nil
}

type deviceStream struct {
	p *oto.Player
}

// flushable lets oto's Seek, the one way to drop its buffer, reach a
// Playback, whose position is already where it should be.
type flushable struct{ *Playback }

func (flushable) Seek(int64, int) (int64, error) { return 0, nil }

func (s *deviceStream) Flush() {
	_, _ = s.p.Seek(0, io.SeekCurrent) // cannot fail: flushable.Seek does not
}

func (s *deviceStream) Err() error {
	if err := s.p.Err(); err != nil {
		return noDevice(err)
	}
	return nil
}

// Close pauses the device's player for good; oto frees it once it is
// unreachable.
func (s *deviceStream) Close() error {
	s.p.Pause()
	return nil
}
