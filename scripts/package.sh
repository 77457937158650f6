#!/usr/bin/env bash
# Builds the Linux desktop bundle: `make package`.
#   scripts/package.sh            release build of bin/parley-release (commit
#                                 and build date stamped in), then `fyne package
#                                 -os linux` around it (icon, .desktop entry,
#                                 version from FyneApp.toml) into
#                                 dist/parley-linux-<arch>-<version>.tar.xz,
#                                 then installs that into a temporary prefix and
#                                 starts it (ui/smoke TestLinuxPackage*)
#   scripts/package.sh --exe BIN  the same around an existing binary
# The bundle holds a Makefile: `make user-install` puts Parley in ~/.local,
# `sudo make install` in /usr/local.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
# The same fyne CLI as scripts/windows.sh: v1.7.2 is the release built
# against fyne v2.7.
FYNE=${FYNE:-fyne.io/tools/cmd/fyne@v1.7.2}

exe=""
if [ "${1:-}" = "--exe" ]; then
  exe=${2:?usage: $0 [--exe BIN]}
fi
v=$(sed -n 's/^Version *= *"\(.*\)"/\1/p' FyneApp.toml)
if [ -z "$v" ]; then
  echo "package: no Version in FyneApp.toml; add one under [Details]." >&2
  exit 1
fi
arch=$($GO env GOARCH)
out=dist/parley-linux-$arch-$v.tar.xz

if [ -z "$exe" ]; then
  echo "== go build (release)"
  # -buildvcs=true: some machines set GOFLAGS=-buildvcs=false, and Help >
  # About and --version show the commit only when it is stamped.
  exe=bin/parley-release
  $GO build -buildvcs=true -trimpath -tags release \
    -ldflags "-s -w -X parley/assets.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)" -o "$exe" .
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# fyne package rewrites FyneApp.toml (it bumps Build on a release) and
# writes its output beside it, so it runs on a copy of the two files it reads.
mkdir -p "$work/src/assets"
cp FyneApp.toml "$work/src/"
cp assets/icon.png "$work/src/assets/"
cp "$exe" "$work/src/parley"
GOBIN="$work/bin" CGO_ENABLED=0 $GO install "$FYNE"
echo "== fyne package -os linux (Parley $v)"
(cd "$work/src" && "$work/bin/fyne" package -os linux -exe parley -name Parley -release)
mkdir -p dist
mv "$work/src/Parley.tar.xz" "$out"
ls -l "$out"

echo "== install into a temporary prefix and start it"
PARLEY_PACKAGE=$PWD/$out $GO test -count=1 -run '^TestLinuxPackage' ./ui/smoke/
