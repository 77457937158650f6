// Package smoke holds the end-to-end check of the built parley binary: it
// starts it on a private Xvfb display, waits for its window, takes a
// screenshot and checks that the window really drew something. It also
// checks the no-display fallback, and that `parley sandbox` serves both
// sandboxes with the credentials it prints.
//
// The tests need the binary's path in PARLEY_SMOKE_BINARY (`make test` builds
// it and sets it). PARLEY_SMOKE_SHOT, if set, is where the screenshot is
// saved; `make screenshots` uses it for the README picture.
package smoke
