#!/usr/bin/env bash
# What `make crash` runs: the full crash test of issue 11. It builds
# bin/parley, then mirrors 10,000 messages from the ActiveDEMAND sandbox into
# the HighLevel sandbox with a real `parley sync` that is SIGKILLed at 200
# random moments and restarted each time, and checks that every message is
# in HighLevel exactly once. It waits out the leases the killed processes
# held, in real time, so it takes several minutes. PARLEY_CRASH_SEED=N
# replays a run's kill moments (each run prints its seed).
# `make test` runs the short version (500 messages, 20 kills).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

echo "== build"
$GO build -o bin/parley .
echo "== crash test (prints its seed and figures: kills, messages, lost, duplicated, wall time)"
# The output goes to bench-results/crash.log too; its figures and result
# lines go to crash.txt, which `make bench` reads for its crash rows.
mkdir -p bench-results
status=0
PARLEY_CRASH=full PARLEY_SMOKE_BINARY="$PWD/bin/parley" \
  $GO test -count=1 -timeout 60m -run '^TestCrashLosesAndDuplicatesNothing$' -v ./ui/smoke/ 2>&1 |
  tee bench-results/crash.log || status=$?
{
  grep -E 'crash test: |^--- (PASS|FAIL)' bench-results/crash.log || true
  echo "result: exit=$status"
} >bench-results/crash.txt
exit "$status"
