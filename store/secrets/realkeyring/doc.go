// Package realkeyring holds the tests that run package secrets against the
// real system keyring. They live apart because go-keyring's MockInit, used by
// the unit tests, replaces the provider for a whole test binary.
//
// They need a running, unlocked Secret Service and are only run when
// PARLEY_KEYRING_TESTS=1; `make test` starts a private D-Bus session and
// gnome-keyring-daemon for them (see scripts/with-keyring.sh).
package realkeyring
