#!/usr/bin/env bash
# Response rate limiting on the query path (tests/bench/rrl.py) on an
# optimised build: UDP queries/s and callgrind Ir/query with RRL off, on
# (a rate nothing reaches) and at the defaults, one q53d per configuration,
# same run, reported as ratios to off (goal: on >= 0.95x).
# Usage: tests/bench/run_rrl.sh [--smoke] [rrl.py options]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${Q53_BENCH_BUILD:-build/release}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"${Q53_BENCH_BUILD_JOBS:-2}" --target q53d >/dev/null
exec python3 tests/bench/rrl.py --q53d "$build/q53d" "$@"
