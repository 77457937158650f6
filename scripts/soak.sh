#!/usr/bin/env bash
# What `make soak` runs: the full soak test of issue 14. It mirrors 20,000
# messages across 1,000 contacts from the ActiveDEMAND sandbox into the
# HighLevel sandbox through the poller and the engine, while HighLevel's
# sandbox answers 10 % of calls with a 5xx, 5 % with 429s in bursts, 2 % by
# dropping the connection (half of them after applying the call), 1 % with
# a cut-off body and 1 % slowly, and ActiveDEMAND's sandbox injects its own.
# It checks that every message is in HighLevel exactly once, nothing was
# delivered, history agrees with the id map, no goroutine is left behind
# and the live heap stays flat, and prints its figures (calls, faults by
# kind, retries, goroutines, heap sampled every second, wall time). It
# honours HighLevel's Retry-After (at a tenth of real time), so it takes
# several minutes. PARLEY_SOAK_SEED=N replays a run's fault draws (each run
# prints its seed); PARLEY_SOAK_MESSAGES=N changes the size.
# `make test` runs the short version (500 messages) under the race
# detector; this one runs without it, for volume.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

echo "== soak test (prints its seed and figures)"
PARLEY_SOAK_MESSAGES=${PARLEY_SOAK_MESSAGES:-20000} \
  $GO test -count=1 -timeout 60m -run '^TestSoakWithFaults$' -v ./sync/engine/
