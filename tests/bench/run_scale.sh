#!/usr/bin/env bash
# Control plane at scale (tests/bench/scale.py): q53d (3 nodes), Knot and NSD
# on zones of 10k, 100k and 1M A records, in one run: load time until the
# last name answers, memory and bytes per record, single-record change until
# served on every node (p50/p99). Prints a markdown table with q53d's ratios.
#
#   tests/bench/run_scale.sh                  10k, 100k, 1M; 50 changes each
#   tests/bench/run_scale.sh --smoke          10k, 5 changes (< 60 s), for CI
#   tests/bench/run_scale.sh --sizes 10000,100000 --changes 100 --report /tmp/s.md
#
# q53d: Release build in $Q53_BENCH_BUILD (default build/release), built here.
# Needs: knotd + knotc (Knot 3.2), nsd + nsd-control (NSD 4.x), /usr/bin/python3
# with dnspython. Traffic goes to 127.0.0.x only; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${Q53_BENCH_BUILD:-build/release}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target q53d q53 >/dev/null
exec /usr/bin/python3 tests/bench/scale.py --q53d "$build/q53d" "$@"
