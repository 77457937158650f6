#!/usr/bin/env bash
# What `make bench` runs: every benchmark in the module, the import's peak
# memory, then one table of every stated target (scripts/benchtable) printed
# and written into BENCHMARKS.md between its bench-table markers, with the
# machine, Go version, date and this command. The crash and soak rows come
# from the last `make crash` and `make soak` (bench-results/crash.txt and
# soak.txt), which run apart since they take many minutes of their own.
#
# It should take about 15 to 25 minutes on 2 cores, more on a loaded
# machine (an estimate from its parts, timed separately: the store's
# benchmarks with the 1M-row fixture 6 to 8 minutes, the paced HighLevel run
# 30 s, the engine mirror of 100,000 messages 1 to 3 minutes, the import of
# 1,000,000 messages under a minute, the rest a few minutes). Run it on a
# quiet machine: rates measured beside other builds say more about the
# neighbours than about Parley.
#
# Raw output stays in bench-results/ (git-ignored): bench.txt (go test),
# import.txt and import.log, meta.txt (date, Go, load average).
#
#   BENCH_COUNT=3       -count of the benchmarks that take seconds
#   BENCH_SLOW_COUNT=1  -count of those that take minutes or run a fixed
#                       time (engine mirror, import, paced budget)
#   BENCH_ONLY=regexp   only the packages whose path matches (e.g. sync/ghl);
#                       the other rows then read "not measured"
#   BENCH_WRITE=0       print the table, leave BENCHMARKS.md alone
#   BENCH_OUT=dir       where the raw output goes (default bench-results)
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
COUNT=${BENCH_COUNT:-3}
SLOW=${BENCH_SLOW_COUNT:-1}
ONLY=${BENCH_ONLY:-}
out=${BENCH_OUT:-bench-results}
# The engine's targets are stated for 100,000 messages across 1,000
# contacts; BenchmarkMirror reads its size from these.
export PARLEY_BENCH_MESSAGES=${PARLEY_BENCH_MESSAGES:-100000}
export PARLEY_BENCH_CONTACTS=${PARLEY_BENCH_CONTACTS:-1000}

mkdir -p "$out"
log=$out/bench.txt
: >"$log"
rm -f "$out/import.txt" "$out/import.log"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

load() { awk '{print $1 ", " $2 ", " $3}' /proc/loadavg 2>/dev/null || true; }
command="BENCH_COUNT=$COUNT BENCH_SLOW_COUNT=$SLOW${ONLY:+ BENCH_ONLY='$ONLY'} make bench"
start=$(date +%s)
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "go: $($GO version)"
  echo "command: $command"
  echo "load-start: $(load)"
} >"$out/meta.txt"
echo "== $command (load average $(load))"

failed=()
# bench PKG PATTERN [go test flags...]: one go test run, appended to the log.
bench() {
  local pkg=$1 pattern=$2
  shift 2
  [ -z "$ONLY" ] || [[ $pkg =~ $ONLY ]] || return 0
  echo "== $pkg -bench '$pattern' $*"
  if ! $GO test -run '^$' -bench "$pattern" -benchmem -timeout 60m "$@" "$pkg" 2>&1 | tee -a "$log"; then
    failed+=("$pkg $pattern")
  fi
}

# Benchmarks that need more than `-bench . -count $COUNT` are listed here;
# every other package with a benchmark is found below and run plainly, so a
# new benchmark is never left out.
special=(./store/ ./sync/ghl/ ./sync/engine/ ./sync/activedemand/ ./sync/routing/ ./ui/smoke/)

# The 1M-row fixture is built once per process, so -count repeats are cheap.
bench ./store/ . -count "$COUNT"
bench ./sync/ghl/ . -skip '^BenchmarkPacedBudget$' -count "$COUNT"
bench ./sync/ghl/ '^BenchmarkPacedBudget$' -count "$SLOW" # 30 s each, whatever b.N
bench ./sync/activedemand/ . -benchtime 3x -count "$COUNT"
bench ./sync/engine/ '^BenchmarkMirror$' -benchtime 1x -count "$SLOW"
bench ./sync/engine/ '^BenchmarkImport$' -benchtime 3x -count "$SLOW"
bench ./sync/engine/ . -skip '^Benchmark(Mirror|Import)$' -count "$COUNT"
bench ./sync/routing/ . -benchtime 3x -count "$COUNT"

mapfile -t pkgs < <(grep -rl --include='*_test.go' --exclude-dir=.git --exclude-dir=bench-results '^func Benchmark' . | xargs -n1 dirname | sort -u | sed 's|$|/|')
for pkg in "${pkgs[@]}"; do
  [[ " ${special[*]} " == *" $pkg "* ]] || bench "$pkg" . -count "$COUNT"
done

# The console's start: the real binary under the smoke tests' own Xvfb,
# in a private keyring session as `make test` runs them.
if grep -qs '^func BenchmarkConsoleStart' ui/smoke/*_test.go && { [ -z "$ONLY" ] || [[ ./ui/smoke/ =~ $ONLY ]]; }; then
  echo "== build bin/parley for ui/smoke"
  $GO build -buildvcs=auto -o bin/parley .
  echo "== ./ui/smoke/ -bench '^BenchmarkConsoleStart$' -count $COUNT"
  if ! PARLEY_SMOKE_BINARY="$PWD/bin/parley" scripts/with-keyring.sh \
    $GO test -run '^$' -bench '^BenchmarkConsoleStart$' -benchmem -timeout 60m -count "$COUNT" ./ui/smoke/ 2>&1 | tee -a "$log"; then
    failed+=("./ui/smoke/ BenchmarkConsoleStart")
  fi
  # The engine's memory on the real thing: a `parley sync --once` child
  # catching up with PARLEY_BENCH_MESSAGES messages, its peak RSS from the
  # kernel; ActiveDEMAND is paced at four requests a second, so minutes.
  echo "== ./ui/smoke/ -bench '^BenchmarkSyncProcessMemory$' -count $SLOW"
  if ! PARLEY_SMOKE_BINARY="$PWD/bin/parley" \
    $GO test -run '^$' -bench '^BenchmarkSyncProcessMemory$' -benchtime 1x -timeout 60m -count "$SLOW" ./ui/smoke/ 2>&1 | tee -a "$log"; then
    failed+=("./ui/smoke/ BenchmarkSyncProcessMemory")
  fi
fi

# Import memory is a whole process's peak, which a benchmark sharing its
# process cannot report: TestMeasureImport imports an export of 1,000,000
# messages (50,000 contacts) and /usr/bin/time gives its maximum RSS.
if [ -z "$ONLY" ] || [[ ./sync/engine/ =~ $ONLY ]]; then
  if [ -x /usr/bin/time ]; then
    echo "== import of 1,000,000 messages: peak resident memory (TestMeasureImport, messages-import)"
    if ! { $GO test -c -o "$tmp/engine.test" ./sync/engine/ &&
      PARLEY_MEASURE=messages-import /usr/bin/time -f 'import: peak-rss-kB=%M wall-s=%e exit=%x' -o "$out/import.txt" \
        "$tmp/engine.test" -test.run '^TestMeasureImport$' -test.v -test.timeout 60m >"$out/import.log" 2>&1; }; then
      failed+=("TestMeasureImport messages-import (see $out/import.log)")
    fi
    cat "$out/import.txt" 2>/dev/null || true
  else
    echo "== /usr/bin/time is not installed: the import memory row will read \"not measured\""
  fi
fi

{
  echo "load-end: $(load)"
  took=$(($(date +%s) - start))
  if [ "$took" -lt 90 ]; then echo "duration: $took s"; else echo "duration: $(((took + 30) / 60)) min"; fi
} >>"$out/meta.txt"

echo "== the table"
md=(-md BENCHMARKS.md)
[ "${BENCH_WRITE:-1}" != 0 ] || md=()
$GO run ./scripts/benchtable -dir "$out" "${md[@]}"

if [ ${#failed[@]} -gt 0 ]; then
  echo "== failed (their rows read \"no\"; output in $log):"
  printf '   %s\n' "${failed[@]}"
  exit 1
fi
