#!/usr/bin/env bash
# Benchmark q53d against NSD, Knot and gdnsd on one generated zone and one
# query mix; prints a markdown table (Ir/query under callgrind, syscalls/query,
# CPU-µs/query pinned, UDP and TCP queries/s) and q53d's ratios to each.
#
#   tests/bench/run.sh            full run, all four servers (< 15 min)
#   tests/bench/run.sh --smoke    q53d + gdnsd, 500 queries (< 60 s), for CI
#   tests/bench/run.sh --servers nsd,knot,gdnsd --report /tmp/bench.md
#
# q53d: $Q53D or --q53d PATH, default build/release/q53d (Release build:
#   cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release && cmake --build build/release)
# Needs: nsd, knot, gdnsd, dnsperf, valgrind, perf (or strace), taskset, python3.
# Traffic goes to 127.0.0.1 only; every load is bounded in count and time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench.py" "$@"
