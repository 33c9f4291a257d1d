#!/usr/bin/env bash
# Routing policies on the query path (tests/bench/routing.py) on an optimised
# build: queries/s and callgrind Ir/query of a weighted, a multivalue and a
# failover record set against a simple one, and of a geolocation group
# against the simple one with the same ECS option, one q53d node, same run.
# Runs with the test venv's python (tests/venv.sh: mmdb-writer writes the
# MaxMind DB); without it routing.py skips the geolocation row and says so.
# Usage: tests/bench/run_routing.sh [--smoke] [routing.py options]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${Q53_BENCH_BUILD:-build/routing-rel}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"${Q53_BENCH_BUILD_JOBS:-$(nproc)}" --target q53d q53 >/dev/null
if ! py=$(tests/venv.sh); then
  echo "run_routing: no test venv (tests/venv.sh failed): system python3," \
    "geolocation row skipped" >&2
  py=/usr/bin/python3
fi
exec "$py" tests/bench/routing.py --q53d "$build/q53d" "$@"
