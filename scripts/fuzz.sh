#!/usr/bin/env bash
# What `make fuzz` runs: every fuzz target in the module, one at a time, each
# for FUZZTIME (default 1m; any `go test -fuzztime` value, e.g. 30s or
# 5000x). It finds the targets itself: the packages whose tests declare a
# `func Fuzz...`, asked with `go test -list '^Fuzz'`, so a new fuzzer runs
# without editing this script. ONLY=<regexp> keeps the targets whose
# package or name matches it (e.g. ONLY=transcript). It prints a line per target and a summary,
# and stops at the first failure, saying which target failed and where Go
# wrote the failing input (testdata/fuzz/<target>/ in its package: commit
# it with the fix, as the regression seed).
#
# `make test` does not fuzz: it runs each target's seed corpus (its f.Add
# seeds and its testdata/fuzz files) as an ordinary test, which catches
# regressions of every bug fuzzing found, but explores nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-1m}
# The fuzzed packages need no sound device or display; without cgo the
# player and console packages build without the audio and GL libraries.
export CGO_ENABLED=${CGO_ENABLED:-0}

# Packages with fuzz targets: candidates by their source, confirmed (and
# named) by go test -list.
mapfile -t dirs < <(grep -rlE --include='*_test.go' '^func Fuzz[A-Z0-9_]' . | xargs -r -n1 dirname | sort -u)
targets=()
for d in "${dirs[@]}"; do
  while IFS= read -r name; do
    [[ $name == Fuzz* ]] || continue
    [[ -z ${ONLY:-} || "$d $name" =~ $ONLY ]] && targets+=("$d $name")
  done < <($GO test -list '^Fuzz' "$d")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi
echo "== fuzzing ${#targets[@]} targets for $FUZZTIME each"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0
start=$SECONDS
for t in "${targets[@]}"; do
  d=${t% *} name=${t#* }
  t0=$SECONDS
  if $GO test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$d" >"$log" 2>&1; then
    execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    printf 'ok    %-28s %-34s %4ss  %s execs\n' "$d" "$name" $((SECONDS - t0)) "${execs:-?}"
    passed=$((passed + 1))
    continue
  fi
  printf 'FAIL  %-28s %-34s %4ss\n' "$d" "$name" $((SECONDS - t0))
  grep -vE '^fuzz: elapsed' "$log" | tail -40
  input=$(grep -oE 'testdata/fuzz/[^ ]+' "$log" | tail -1 || true)
  echo
  if [ -n "$input" ]; then
    echo "fuzz: $name in $d failed; the failing input is $d/$input"
    echo "      replay it with: $GO test -run '^$name/$(basename "$input")\$' $d"
  else
    echo "fuzz: $name in $d failed before writing a failing input (build error or timeout; see above)"
  fi
  echo "== $passed of ${#targets[@]} targets passed before the failure, $((SECONDS - start))s"
  exit 1
done
echo "== all ${#targets[@]} fuzz targets passed, $FUZZTIME each, $((SECONDS - start))s in all"
