#!/usr/bin/env bash
# Builds Parley for Windows from Linux with mingw-w64 (`scripts/deps.sh test`
# and `scripts/deps.sh windows` install gcc-mingw-w64-x86-64).
#   scripts/windows.sh check     what `make test` runs: go vet for GOOS=windows
#                                and a cgo cross build of the console to a temp
#                                file, so a change that breaks Windows fails here
#   scripts/windows.sh package   what `make package-windows` runs: a release
#                                build through `fyne package -os windows` (icon,
#                                version and metadata from FyneApp.toml), then
#                                dist/parley.exe and dist/parley-windows-amd64-<version>.zip
# The exe cannot be started here (Debian 12's Wine 8 lacks bcryptprimitives.dll,
# which Go >= 1.24 needs): these steps prove it builds, not that it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
# fyne.io/tools v1.7.2 is the release built against fyne v2.7 (v1.7.3 and
# later require fyne v2.8); the CLI only generates the resources and runs
# `go build`, so our own go.mod still decides the fyne version compiled in.
FYNE=${FYNE:-fyne.io/tools/cmd/fyne@v1.7.2}
export GOOS=windows GOARCH=amd64
CC_WIN=${CC_WIN:-x86_64-w64-mingw32-gcc}

need_mingw() {
  if ! command -v "$CC_WIN" >/dev/null; then
    echo "windows: $CC_WIN not found; install gcc-mingw-w64-x86-64 (scripts/deps.sh windows does) and run again." >&2
    exit 1
  fi
}

# version prints Version from FyneApp.toml, the one place it is written.
version() {
  sed -n 's/^Version *= *"\(.*\)"/\1/p' FyneApp.toml
}

check() {
  need_mingw
  # Packages that type-check without cgo are vetted with CGO off (no C
  # compiler, seconds); the rest (those reaching Fyne's GLFW driver) need
  # the mingw cgo toolchain.
  local pure cgo
  pure=$(CGO_ENABLED=0 $GO list -e -f '{{if not .Incomplete}}{{.ImportPath}}{{end}}' ./...)
  cgo=$(CGO_ENABLED=0 $GO list -e -f '{{if .Incomplete}}{{.ImportPath}}{{end}}' ./...)
  echo "== go vet (GOOS=windows)"
  # shellcheck disable=SC2086 # one package per word
  CGO_ENABLED=0 $GO vet $pure
  if [ -n "$cgo" ]; then
    # shellcheck disable=SC2086
    CGO_ENABLED=1 CC=$CC_WIN $GO vet $cgo
  fi
  echo "== go build (GOOS=windows, cgo with $CC_WIN)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  CGO_ENABLED=1 CC=$CC_WIN $GO build -o "$tmp/parley.exe" .
}

package() {
  need_mingw
  local v out
  v=$(version)
  if [ -z "$v" ]; then
    echo "windows: no Version in FyneApp.toml; add one under [Details]." >&2
    exit 1
  fi
  out=dist
  mkdir -p "$out"
  echo "== fyne package -os windows (Parley $v)"
  # fyne writes a .syso, a metadata file and Parley.exe into the source
  # folder, so it works on a copy: a build or test running in the tree at the
  # same time must not link them. With -trimpath (which -release sets) the
  # copy's path is not part of the build cache's keys, so a temp dir is as
  # warm as the tree.
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir "$work/src"
  git ls-files -z -c -o --exclude-standard | tar -c --null --ignore-failed-read -T - -f - | tar -x -C "$work/src" -f -
  # The fyne CLI itself runs here, so it is built for this machine; it then
  # builds Parley with GOOS=windows and reads GOARCH for the resource file.
  GOBIN="$work/bin" GOOS=$($GO env GOHOSTOS) GOARCH=$($GO env GOHOSTARCH) CGO_ENABLED=0 $GO install "$FYNE"
  # fyne compiles C with -fstack-protector-strong and _FORTIFY_SOURCE, whose
  # runtime mingw keeps in libssp; linked statically, no DLL has to ship.
  (cd "$work/src" && CGO_ENABLED=1 CC=$CC_WIN CGO_LDFLAGS="${CGO_LDFLAGS:-} -l:libssp.a" \
    "$work/bin/fyne" package -os windows -release -name Parley)
  mv "$work/src/Parley.exe" "$out/parley.exe"

  echo "== zip"
  mkdir "$work/Parley"
  cp "$out/parley.exe" "$work/Parley/parley.exe"
  # Windows readers expect CRLF; Notepad before 2018 shows LF files as one line.
  sed 's/$/\r/' docs/windows/README-windows.txt >"$work/Parley/README.txt"
  rm -f "$out/parley-windows-amd64-$v.zip"
  (cd "$work" && zip -q -r -X - Parley) >"$out/parley-windows-amd64-$v.zip"
  ls -l "$out/parley.exe" "$out/parley-windows-amd64-$v.zip"
}

case "${1:-}" in
  check) check ;;
  package) package ;;
  *) echo "usage: $0 check|package" >&2; exit 2 ;;
esac
