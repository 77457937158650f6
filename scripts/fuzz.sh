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
passed=0 flaked=0
start=$SECONDS
# go test's -timeout: ten minutes beyond FUZZTIME, so that go test's default
# (10m) does not cut a long run short, while a target stuck on one input
# still ends (Go's fuzzer has no time limit per input). A FUZZTIME that is
# a count (5000x) or a compound duration gets no timeout.
timeout=0
if [[ $FUZZTIME =~ ^([0-9]+)([smh])$ ]]; then
  n=$((10#${BASH_REMATCH[1]}))
  case ${BASH_REMATCH[2]} in
    s) timeout=$((n + 600))s ;;
    m) timeout=$((n + 10))m ;;
    h) timeout=$((n * 60 + 10))m ;;
  esac
fi
# fuzz_one runs one target; its output is in $log.
fuzz_one() {
  $GO test -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" -timeout "$timeout" "$1" >"$log" 2>&1
}
# coordinator_race says whether a failure is Go's own: with a duration
# FUZZTIME, go1.26's fuzz coordinator can report the end of its time as
# "context deadline exceeded" on a busy machine, with no failing input
# (golang.org/issue/75804, fixed in go1.27).
coordinator_race() {
  grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log" &&
    ! grep -qE '^(#|.*\.go:[0-9]+:[0-9]+: )' "$log"
}
for t in "${targets[@]}"; do
  d=${t% *} name=${t#* }
  t0=$SECONDS
  ok=0
  if fuzz_one "$d" "$name"; then
    ok=1
  elif coordinator_race; then
    # Once more: a second race in a row is rare; a real failure is not.
    if fuzz_one "$d" "$name"; then
      ok=1
    elif coordinator_race; then
      printf 'flaky %-28s %-34s %4ss  Go'"'"'s fuzz coordinator timed out twice (golang.org/issue/75804); no failing input\n' "$d" "$name" $((SECONDS - t0))
      flaked=$((flaked + 1))
      continue
    fi
  fi
  if [ $ok = 1 ]; then
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
    echo "fuzz: $name in $d failed before writing a failing input (a build error? see above)"
  fi
  echo "== $passed of ${#targets[@]} targets passed before the failure, $((SECONDS - start))s"
  exit 1
done
summary="all ${#targets[@]} fuzz targets passed"
[ $flaked -gt 0 ] && summary="$passed of ${#targets[@]} fuzz targets passed, $flaked stopped twice by Go's coordinator race (no failing input)"
echo "== $summary, $FUZZTIME each, $((SECONDS - start))s in all"
