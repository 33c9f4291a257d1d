#!/usr/bin/env bash
# Failover benchmark (tests/bench/failover.py) on an optimised build: time
# from a health-check endpoint's death to the last node answering the
# secondary (p50/p99 over >= 20 runs), 3 nodes, RequestInterval 1 s,
# FailureThreshold 2, and the probe requests/s the endpoint receives.
# Usage: tests/bench/run_failover.sh [--smoke] [failover.py options]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${Q53_BENCH_BUILD:-build/failover-rel}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target q53d q53 >/dev/null
extra=()
if [ "${1:-}" = "--smoke" ]; then
  shift
  extra=(--runs 3 --rate-seconds 3)
fi
exec /usr/bin/python3 tests/bench/failover.py --q53d "$build/q53d" "${extra[@]}" "$@"
