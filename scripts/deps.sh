#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Parley needs, and only those missing.
#   scripts/deps.sh build   compile and run the console (Fyne's cgo GLFW driver, ALSA)
#   scripts/deps.sh test    the above, plus what `make test` needs: Xvfb,
#                           window tools, a real Secret Service, an ALSA null device,
#                           mingw-w64 for the Windows cross build
#   scripts/deps.sh windows the build packages, mingw-w64 and zip (make package-windows)
# Safe to run again and again: with nothing missing it installs nothing.
set -euo pipefail

mode=${1:-build}
build_pkgs=(gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev
  libxinerama-dev libxi-dev libxxf86vm-dev libasound2-dev xdg-utils)
test_pkgs=(xvfb x11-utils imagemagick dbus gnome-keyring alsa-utils chromium)
windows_pkgs=(gcc-mingw-w64-x86-64)

case "$mode" in
  build) want=("${build_pkgs[@]}") ;;
  test) want=("${build_pkgs[@]}" "${test_pkgs[@]}" "${windows_pkgs[@]}") ;;
  windows) want=("${build_pkgs[@]}" "${windows_pkgs[@]}" zip) ;;
  *) echo "usage: $0 build|test|windows" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "deps: these packages are missing and this system has no apt-get: ${missing[*]}" >&2
    echo "deps: install their equivalents with your package manager, then run make again." >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
  fi
  echo "deps: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "deps: installed ${#missing[@]} package(s)"
fi

if [ "$mode" = test ]; then
  # Audio tests need an ALSA device. A machine without a sound card (CI, a
  # server) gets the null device, which accepts and discards samples; a
  # machine with a card, or with its own ALSA configuration, is left alone.
  if ! grep -q '^ *[0-9]' /proc/asound/cards 2>/dev/null && [ ! -e "$HOME/.asoundrc" ] && [ ! -e /etc/asound.conf ]; then
    printf 'pcm.!default { type null }\nctl.!default { type hw card 0 }\n' >"$HOME/.asoundrc"
    echo "deps: no sound card found; wrote $HOME/.asoundrc to use the ALSA null device"
  fi
fi
