#!/usr/bin/env bash
# What `make test` runs once the system packages are in place:
#   1. gofmt, go vet and staticcheck over the whole module, then gosec and
#      govulncheck (scripts/security.sh);
#   2. a build of bin/parley for the smoke test;
#   3. every test under the race detector, inside a private D-Bus session with
#      a real unlocked keyring, with the smoke test pointed at the binary.
# It ends with go test's own summary. `scripts/test.sh lint` stops after 1.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
STATICCHECK=${STATICCHECK:-honnef.co/go/tools/cmd/staticcheck@v0.8.2}

echo "== gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt would change these files (run gofmt -w):"
  echo "$unformatted"
  exit 1
fi
echo "== go vet"
$GO vet ./...
echo "== staticcheck"
$GO run "$STATICCHECK" ./...
scripts/security.sh
[ "${1:-}" = lint ] && exit 0

echo "== build"
$GO build -buildvcs=auto -o bin/parley .

scripts/windows.sh check
echo "== go test -race (real keyring, Xvfb smoke test)"
PARLEY_KEYRING_TESTS=1 PARLEY_SMOKE_BINARY="$PWD/bin/parley" \
  scripts/with-keyring.sh $GO test -race -count=1 -timeout 15m ./...
