package player

import (
	"errors"
	"fmt"
	"strings"
)

// Output is a sound device that recordings play on. *Device is the
// computer's; tests may pass their own.
type Output interface {
	// Attach starts the device reading p until the stream is closed.
	Attach(p *Playback) (Stream, error)
}

// Stream is a Playback attached to a device.
type Stream interface {
	// Flush drops sound the device has buffered but not yet played, after
	// a seek or a speed change, so the new position is heard at once.
	Flush()
	// Err is why the device stopped, if it did.
	Err() error
	// Close detaches the playback from the device.
	Close() error
}

// ErrNoDevice is matched (errors.Is) by the errors of a computer without a
// usable sound device.
var ErrNoDevice = errors.New("no sound device")

// NoDeviceMessage is what the player shows when recordings cannot play.
func NoDeviceMessage(err error) string {
	why := strings.TrimPrefix(err.Error(), ErrNoDevice.Error()+": ")
	return fmt.Sprintf("No sound device: %s. Recordings cannot play on this computer; the transcript still works. "+
		"Connect speakers or headphones and restart Parley to listen.", why)
}
