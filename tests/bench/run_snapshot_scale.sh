#!/usr/bin/env bash
# Raft snapshots of a large zone (tests/bench/snapshot_scale.py): take on
# every node, install on a restarted follower and on a joining 4th node,
# with DNS polled on every node and the Raft term watched.
#
#   tests/bench/run_snapshot_scale.sh                      1M records
#   tests/bench/run_snapshot_scale.sh --records 200000 --threshold 256
#
# q53d: Release build in $Q53_BENCH_BUILD (default build/release), built here.
# About 2.2 GB of memory at 1M records (4 nodes). Loopback only; every wait
# is bounded.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${Q53_BENCH_BUILD:-build/release}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target q53d q53 >/dev/null
exec /usr/bin/python3 tests/bench/snapshot_scale.py --q53d "$build/q53d" "$@"
