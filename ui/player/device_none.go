//go:build !cgo && !windows && !darwin

package player

import (
	"context"
	"fmt"
)

// Device is the computer's sound output; this build has none.
type Device struct{}

// OpenDevice fails: on Linux the sound library needs cgo, and this copy of
// Parley was built without it.
func OpenDevice(context.Context) (*Device, error) {
	return nil, fmt.Errorf("%w: this copy of Parley was built without sound support (cgo)", ErrNoDevice)
}

// Attach fails like OpenDevice.
func (d *Device) Attach(*Playback) (Stream, error) {
	_, err := OpenDevice(context.Background())
	return nil, err
}
