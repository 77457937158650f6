#!/usr/bin/env bash
# The security checks `make test` runs (also `make security` alone):
#   1. gosec over the module's non-test code: it must report nothing; each
#      finding is fixed or carries `// #nosec Gxxx -- why` on its line.
#   2. govulncheck against a local copy of the Go vulnerability database,
#      built from the golang.org/x/vulndb module (no internet needed) and
#      cached under ${XDG_CACHE_HOME:-$HOME/.cache}/parley/vulndb-<version>,
#      so only the first run builds it. README "Security checks" says how to
#      move to a newer database, and lists the findings accepted for now.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
GOSEC=github.com/securego/gosec/v2/cmd/gosec@v2.30.0
GOVULNCHECK=golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB_VERSION=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}

echo "== gosec"
$GO run "$GOSEC" -quiet ./...

echo "== govulncheck (database golang.org/x/vulndb@$VULNDB_VERSION)"
cache=${XDG_CACHE_HOME:-$HOME/.cache}/parley
db=$cache/vulndb-$VULNDB_VERSION
if [ ! -f "$db/index/db.json" ]; then
  echo "building the vulnerability database into $db (first run only)"
  mkdir -p "$cache"
  $GO mod download golang.org/x/vulndb@"$VULNDB_VERSION"
  src=$($GO env GOMODCACHE)/golang.org/x/vulndb@$VULNDB_VERSION/data/osv
  tmp=$(mktemp -d "$cache/vulndb-build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  $GO run golang.org/x/vulndb/cmd/indexdb@"$VULNDB_VERSION" -vulns "$src" -out "$tmp"
  # Renamed into place whole, so an interrupted build is never taken for a
  # finished one; if another run finished first, its copy is kept.
  mv -T "$tmp" "$db" 2>/dev/null || rm -rf "$tmp"
fi
# Findings listed in README's table of accepted vulnerabilities (rows
# "| GO-yyyy-nnnn |") are reported but pass; any other fails the run.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# go run turns govulncheck's exit status 3 (vulnerabilities found) into 1,
# so the output tells a finding from a failure to run.
$GO run "$GOVULNCHECK" -db "file://$db" ./... >"$out" 2>&1 || true
cat "$out"
if grep -q '^No vulnerabilities found\.' "$out"; then
  exit 0
elif ! grep -q '^Vulnerability #' "$out"; then
  echo "govulncheck did not run to the end (see above)"
  exit 1
fi
accepted=$(grep -oE '^\| GO-[0-9]{4}-[0-9]+ ' README.md | tr -d '| ' | sort -u)
found=$(grep -oE '^Vulnerability #[0-9]+: GO-[0-9]{4}-[0-9]+' "$out" | awk '{print $3}' | sort -u)
new=$(comm -23 <(echo "$found") <(echo "$accepted"))
if [ -n "$new" ]; then
  echo "govulncheck: vulnerabilities not in README's accepted list (fix them, or add a row saying why):"
  echo "$new"
  exit 1
fi
echo "govulncheck: every finding is in README's accepted list"
