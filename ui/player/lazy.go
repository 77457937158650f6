package player

import (
	"context"
	"sync"
)

// LazyDevice is the computer's sound device, opened on the first Attach
// rather than at start-up: an open device's mixer writes silence from the
// moment it opens, which was a third of the console's CPU before its
// first frame, for recordings most sessions never play. What the first
// open found is kept, so a computer without a device says so at each
// Attach without trying again (oto allows one context per process). It is
// safe for concurrent use.
type LazyDevice struct {
	open func() (Output, error)
	once sync.Once
	out  Output
	err  error
}

// NewLazyDevice returns the computer's sound device, not yet opened.
func NewLazyDevice() *LazyDevice {
	return &LazyDevice{open: func() (Output, error) {
		d, err := OpenDevice(context.Background())
		if err != nil {
			return nil, err
		}
		return d, nil
	}}
}

// Attach opens the device the first time, then attaches p to it.
func (l *LazyDevice) Attach(p *Playback) (Stream, error) {
	l.once.Do(func() { l.out, l.err = l.open() })
	if l.err != nil {
		return nil, l.err
	}
	return l.out.Attach(p)
}
