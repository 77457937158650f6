// Package realkeyring tests the Connections service against a real Secret
// Service. It is a package of its own because sync/connect's tests swap
// go-keyring for its mock for the whole test binary. Run it with
// PARLEY_KEYRING_TESTS=1 scripts/with-keyring.sh go test ./sync/connect/realkeyring/.
package realkeyring
