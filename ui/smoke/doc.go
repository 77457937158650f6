// Package smoke holds the end-to-end checks of the built parley binary: it
// starts it on a private Xvfb display, waits for its window, takes a
// screenshot and checks that the window really drew something, and that
// every screen does (the console's own screen tour). It also
// checks the no-display fallback, that `parley sandbox` serves both
// sandboxes with the credentials it prints, and that `parley sync`
// survives being SIGKILLed at random moments (crash_test.go), a full disk
// and a read-only database without losing or duplicating a message.
//
// The tests need the binary's path in PARLEY_SMOKE_BINARY (`make test` builds
// it and sets it). PARLEY_SMOKE_SHOT, if set, is where the screenshot is
// saved, and PARLEY_SMOKE_SCREENS the folder for a picture of every screen
// (screens_test.go); `make screenshots` uses both for the README's pictures.
// PARLEY_CRASH=full runs the full crash test (`make crash`).
package smoke
