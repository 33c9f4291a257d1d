#!/usr/bin/env bash
# Control-plane benchmark (tests/bench/control_plane.py) on an optimised
# build: submit -> INSYNC latency and pipelined batches/s on 3 and 5 nodes.
# Usage: tests/bench/run_control.sh [--smoke] [control_plane.py options]
# Q53_BENCH_BASELINE=OTHER/q53d runs that binary too, side by side (first,
# labelled "baseline"), and prints this build's rate relative to it.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${Q53_BENCH_BUILD:-build/cluster-rel}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target q53d q53 >/dev/null
extra=()
if [ "${1:-}" = "--smoke" ]; then
  shift
  extra=(--nodes 3 --changes 30 --seconds 1 --clients 8)
fi
bins=(--q53d "this=$build/q53d")
if [ -n "${Q53_BENCH_BASELINE:-}" ]; then
  bins=(--q53d "baseline=$Q53_BENCH_BASELINE" "${bins[@]}")
fi
exec /usr/bin/python3 tests/bench/control_plane.py "${bins[@]}" "${extra[@]}" "$@"
