#!/usr/bin/env bash
# Routing policies on the query path (tests/bench/routing.py) on an optimised
# build: queries/s and callgrind Ir/query of a weighted, a multivalue and a
# failover record set against a simple one, one q53d node, same run.
# Usage: tests/bench/run_routing.sh [--smoke] [routing.py options]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${Q53_BENCH_BUILD:-build/routing-rel}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"${Q53_BENCH_BUILD_JOBS:-$(nproc)}" --target q53d q53 >/dev/null
exec /usr/bin/python3 tests/bench/routing.py --q53d "$build/q53d" "$@"
