package player

import (
	"errors"
	"fmt"
	"testing"
)

// countingOutput is an Output that counts its attaches.
type countingOutput struct{ attached int }

func (c *countingOutput) Attach(*Playback) (Stream, error) {
	c.attached++
	return nil, nil
}

// TestLazyDeviceOpensOnFirstPlay: nothing is opened until a recording
// plays, the device is opened once however often recordings play, and a
// missing device's error is given at every play without trying again.
func TestLazyDeviceOpensOnFirstPlay(t *testing.T) {
	opens := 0
	out := &countingOutput{}
	l := &LazyDevice{open: func() (Output, error) { opens++; return out, nil }}
	if opens != 0 {
		t.Fatal("opened before any play")
	}
	for range 3 {
		if _, err := l.Attach(nil); err != nil {
			t.Fatal(err)
		}
	}
	if opens != 1 || out.attached != 3 {
		t.Errorf("opened %d times, attached %d; want 1 and 3", opens, out.attached)
	}

	opens = 0
	missing := fmt.Errorf("%w: the sound server does not answer", ErrNoDevice)
	none := &LazyDevice{open: func() (Output, error) { opens++; return nil, missing }}
	for range 2 {
		if _, err := none.Attach(nil); !errors.Is(err, ErrNoDevice) {
			t.Fatalf("Attach without a device = %v, want ErrNoDevice", err)
		}
	}
	if opens != 1 {
		t.Errorf("a missing device was looked for %d times, want 1", opens)
	}
}
