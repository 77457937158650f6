#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a fresh, unlocked
# gnome-keyring, so tests use a real Secret Service without touching the
# user's own keyring. Usage: scripts/with-keyring.sh COMMAND [ARGS...]
set -euo pipefail

if [ "${PARLEY_IN_KEYRING_SESSION:-}" != 1 ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/data" "$tmp/runtime"
  chmod 700 "$tmp/runtime"
  # A private data dir means a new, empty login keyring; a private runtime dir
  # keeps the daemon's control socket away from any real session.
  env -u DBUS_SESSION_BUS_ADDRESS \
    XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/runtime" \
    PARLEY_IN_KEYRING_SESSION=1 \
    dbus-run-session -- "$0" "$@"
  exit $?
fi

# Inside the session: start the daemon with a throw-away password, which
# creates and unlocks the login keyring.
eval "$(printf '%s' parley-test | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
# The daemon leaves with the D-Bus session when dbus-run-session ends.
"$@"
